use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::*;

/// The inputs of a small model, one of each type (the fast reader's tests use them too).
pub(in crate::predict) fn inputs() -> Vec<InputField> {
    let field = |name: &str, kind, nullable| InputField::new(name, kind, nullable, None);
    vec![
        field("distance", ColumnType::Integer, false),
        field("temp", ColumnType::Float, true),
        field("carrier", ColumnType::Categorical, false),
        field("time_hour", ColumnType::Datetime, false),
        InputField {
            // Its spec declares words of its own, as a file in another language writes them.
            boolean_words: crate::spec::BooleanWords::new(
                &["Ja".into(), "Férié".into()],
                &["Nein".into()],
            ),
            ..field("holiday", ColumnType::Boolean, true)
        },
    ]
}

fn body(value: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&value).expect("serialises")
}

fn problems(result: Result<RawFrame, RequestError>) -> Vec<Problem> {
    match result {
        Err(RequestError::Invalid { problems, total }) => {
            assert_eq!(total, problems.len());
            problems
        }
        other => panic!("expected schema problems, got {other:?}"),
    }
}

#[test]
fn records_and_feature_rows_read_to_the_same_frame() {
    let by_name = parse(
        &body(json!({"records": [
            {"distance": 1089, "temp": 39.02, "carrier": "UA", "time_hour": "2013-01-01T10:00:00Z", "holiday": false},
            {"distance": 200, "carrier": "AA", "time_hour": 1357034400000_i64},
        ]})),
        &inputs(),
        &Limits::default(),
    )
    .expect("valid");
    let by_position = parse(
        &body(json!({"features": [
            [1089, 39.02, "UA", "2013-01-01T10:00:00Z", false],
            [200, null, "AA", 1357034400000_i64, null],
        ]})),
        &inputs(),
        &Limits::default(),
    )
    .expect("valid");
    assert_eq!(by_name, by_position);
    assert_eq!(by_name.rows(), 2);
    assert_eq!(
        by_name.column("time_hour").expect("column"),
        &RawColumn::Datetime(vec![Some(1_357_034_400_000), Some(1_357_034_400_000)])
    );
    assert_eq!(
        by_name.column("temp").expect("column"),
        &RawColumn::Numeric(vec![Some(39.02), None])
    );
}

#[test]
fn a_time_is_an_rfc3339_string_or_whole_milliseconds_and_integers_are_whole() {
    let record = |time: serde_json::Value, distance: serde_json::Value| json!({"distance": distance, "carrier": "UA", "time_hour": time});
    let found = problems(parse(
        &body(json!({"records": [
            record(json!(1357034400000.5), json!(1089)),
            record(json!(true), json!(1089.0)),
            record(json!(1357034400000_u64), json!(u64::MAX)),
        ]})),
        &inputs(),
        &Limits::default(),
    ));
    let listed: Vec<(Option<usize>, &str)> = found
        .iter()
        .map(|p| (p.record, p.problem.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            (
                Some(0),
                "expected milliseconds since the epoch, or an RFC 3339 time, got a number"
            ),
            (
                Some(1),
                "expected an RFC 3339 time such as 2013-07-01T09:00:00Z, got a boolean"
            ),
            (
                Some(2),
                "expected an integer between -9007199254740991 and 9007199254740991 (exact as a 64-bit float), got a number outside that range"
            ),
        ]
    );
}

#[test]
fn an_integer_feature_takes_only_integers_a_float_holds_exactly() {
    let record =
        |distance: &str| format!(r#"{{"distance": {distance}, "carrier": "UA", "time_hour": 0}}"#);
    let huge = [
        "9223372036854775808",
        "-9223372036854775808",
        "9007199254740992",
        "1e300",
        "-1.5e20",
    ];
    for distance in huge {
        let body = format!(r#"{{"records": [{}]}}"#, record(distance));
        let found = problems(parse(body.as_bytes(), &inputs(), &Limits::default()));
        assert_eq!(found.len(), 1, "{distance}");
        assert_eq!(found[0].field.as_deref(), Some("distance"));
        assert!(
            found[0].problem.contains("9007199254740991"),
            "{distance}: {}",
            found[0].problem
        );
    }
    for (distance, value) in [
        ("9007199254740991", 9_007_199_254_740_991.0),
        ("-9007199254740991", -9_007_199_254_740_991.0),
        ("1e15", 1e15),
    ] {
        let body = format!(r#"{{"records": [{}]}}"#, record(distance));
        let frame = parse(body.as_bytes(), &inputs(), &Limits::default()).expect(distance);
        assert_eq!(
            frame.column("distance").expect("column"),
            &RawColumn::Numeric(vec![Some(value)])
        );
    }
}

/// A body nested `depth` levels deep at `place` (`{}` marks where the nesting goes).
fn nested(place: &str, depth: usize) -> Vec<u8> {
    let inner = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    place.replace("{}", &inner).into_bytes()
}

const RECORD: &str = r#""distance": 1, "carrier": "UA", "time_hour": 0"#;

#[test]
fn deeply_nested_json_is_refused_wherever_it_is_without_overflowing_the_stack() {
    let places = [
        "{}".to_owned(),
        r#"{"records": {}}"#.to_owned(),
        r#"{"records": [{}]}"#.to_owned(),
        format!(r#"{{"records": [{{{RECORD}, "unknown": {{}}}}]}}"#),
        r#"{"records": [{"distance": {}, "carrier": "UA", "time_hour": 0}]}"#.to_owned(),
        r#"{"features": [[1, null, "UA", 0, null, {}]]}"#.to_owned(),
        r#"{"other": {}, "records": []}"#.to_owned(),
        r#"{"records": [], "features": {}}"#.to_owned(),
        r#"{"records": {"a": {}}}"#.to_owned(),
    ];
    for place in &places {
        // 20,000 levels (20 KB) overflowed the reading thread's stack before the limit.
        let result = parse(&nested(place, 20_000), &inputs(), &Limits::default());
        assert_eq!(
            result,
            Err(RequestError::TooDeep { max: MAX_NESTING }),
            "{place}"
        );
    }
}

#[test]
fn nesting_up_to_the_limit_is_read_and_one_level_more_is_refused() {
    // An unknown field's value starts at level 4 (body, records, record, value).
    let place = format!(r#"{{"records": [{{{RECORD}, "unknown": {{}}}}]}}"#);
    let deepest = MAX_NESTING - 3;
    let frame =
        parse(&nested(&place, deepest), &inputs(), &Limits::default()).expect("64 levels are read");
    assert_eq!(frame.rows(), 1);
    assert_eq!(
        parse(&nested(&place, deepest + 1), &inputs(), &Limits::default()),
        Err(RequestError::TooDeep { max: MAX_NESTING })
    );
    let message = RequestError::TooDeep { max: MAX_NESTING }.to_string();
    assert!(message.contains("64 levels"), "{message}");
}

#[test]
fn every_problem_is_reported_with_its_record_and_field() {
    let found = problems(parse(
        &body(json!({"records": [
            {"distance": 10.5, "carrier": 7, "time_hour": "yesterday"},
            {"temp": "warm", "carrier": null, "time_hour": "2013-01-01T10:00:00Z", "distance": 1},
            "not a record",
        ]})),
        &inputs(),
        &Limits::default(),
    ));
    let at: Vec<(Option<usize>, Option<&str>)> = found
        .iter()
        .map(|p| (p.record, p.field.as_deref()))
        .collect();
    assert_eq!(
        at,
        [
            (Some(0), Some("distance")),
            (Some(0), Some("carrier")),
            (Some(0), Some("time_hour")),
            (Some(1), Some("temp")),
            (Some(1), Some("carrier")),
            (Some(2), None),
        ]
    );
    assert_eq!(found[0].problem, "expected an integer, got a number");
    assert_eq!(found[1].problem, "expected a string, got a number");
    assert_eq!(
        found[2].problem,
        "expected an RFC 3339 time such as 2013-07-01T09:00:00Z, got a string"
    );
    assert_eq!(found[3].problem, "expected a number, got a string");
    assert!(found[4].problem.contains("null is not allowed"));
    assert!(found[5].problem.contains("not a string"));
}

#[test]
fn a_missing_required_feature_and_unknown_fields_are_named() {
    let record = json!({"records": [{"temp": 3.0, "carrier": "UA", "time_hour": 0, "gate": "B2"}]});
    let ignored = problems(parse(&body(record.clone()), &inputs(), &Limits::default()));
    assert_eq!(ignored.len(), 1);
    assert_eq!(
        (ignored[0].field.as_deref(), ignored[0].problem.as_str()),
        (Some("distance"), "missing required feature")
    );
    let strict = Limits {
        unknown_fields: UnknownFields::Reject,
        ..Limits::default()
    };
    let rejected = problems(parse(&body(record), &inputs(), &strict));
    assert!(rejected
        .iter()
        .any(|p| p.field.as_deref() == Some("gate") && p.problem.contains("unknown field")));
}

#[test]
fn malformed_shapes_and_sizes_get_their_own_errors() {
    match parse(
        b"{\"records\": [{\"distance\": 1,, }]}",
        &inputs(),
        &Limits::default(),
    ) {
        Err(RequestError::Malformed(message)) => {
            assert!(message.contains("line 1 column"), "{message}");
            assert!(!message.contains('\n'), "one line: {message:?}");
        }
        other => panic!("expected malformed JSON, got {other:?}"),
    }
    assert!(matches!(
        parse(b"{\"records\": [", &inputs(), &Limits::default()),
        Err(RequestError::Malformed(_))
    ));
    assert!(matches!(
        parse(b"{\"records\": []} trailing", &inputs(), &Limits::default()),
        Err(RequestError::Malformed(_))
    ));
    let shape = problems(parse(
        &body(json!({"rows": []})),
        &inputs(),
        &Limits::default(),
    ));
    assert!(shape[0]
        .problem
        .contains("[distance, temp, carrier, time_hour, holiday]"));
    let short = problems(parse(
        &body(json!({"features": [[1, 2.0]]})),
        &inputs(),
        &Limits::default(),
    ));
    assert!(short[0].problem.starts_with("2 values; the model takes 5"));
    let small = Limits {
        max_records: 2,
        ..Limits::default()
    };
    let many = json!({"features": [[1, null, "UA", 0, null], [1, null, "UA", 0, null], [1, null, "UA", 0, null]]});
    assert_eq!(
        parse(&body(many), &inputs(), &small),
        Err(RequestError::TooMany { count: 3, max: 2 })
    );
}

#[test]
fn a_flood_of_problems_is_counted_but_listed_only_up_to_the_cap() {
    let records: Vec<serde_json::Value> = (0..300).map(|_| json!({"distance": "far"})).collect();
    match parse(
        &body(json!({"records": records})),
        &inputs(),
        &Limits::default(),
    ) {
        Err(RequestError::Invalid { total, problems }) => {
            // Each record: distance has the wrong type; carrier and time_hour are missing.
            assert_eq!(total, 900);
            assert_eq!(problems.len(), MAX_LISTED_PROBLEMS);
        }
        other => panic!("{other:?}"),
    }
}

/// A random JSON value of bounded depth, biased toward what a request looks like.
fn arbitrary(rng: &mut ChaCha8Rng, depth: u32) -> serde_json::Value {
    let names = [
        "distance",
        "temp",
        "carrier",
        "time_hour",
        "holiday",
        "records",
        "features",
        "",
    ];
    match rng.random_range(0..if depth == 0 { 6 } else { 8 }) {
        0 => serde_json::Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(rng.random::<i64>()),
        3 => json!(rng.random::<f64>() * 1e6 - 5e5),
        4 => json!(
            [
                "UA",
                "",
                "2013-01-01T10:00:00Z",
                "9999-99-99",
                "\u{0}\u{ffff}"
            ][rng.random_range(0..5)]
        ),
        5 => json!(rng.random::<u64>()),
        6 => serde_json::Value::Array(
            (0..rng.random_range(0..6))
                .map(|_| arbitrary(rng, depth - 1))
                .collect(),
        ),
        _ => serde_json::Value::Object(
            (0..rng.random_range(0..6))
                .map(|_| {
                    (
                        names[rng.random_range(0..names.len())].to_owned(),
                        arbitrary(rng, depth - 1),
                    )
                })
                .collect(),
        ),
    }
}

#[test]
fn arbitrary_json_never_panics_and_valid_output_has_one_row_per_record() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..20_000 {
        let mut value = arbitrary(&mut rng, 4);
        if rng.random_range(0..3) == 0 {
            let key = if rng.random::<bool>() {
                "records"
            } else {
                "features"
            };
            value = json!({ key: value });
        }
        let bytes = body(value.clone());
        if let Ok(frame) = parse(&bytes, &inputs(), &Limits::default()) {
            let records = value
                .get("records")
                .or_else(|| value.get("features"))
                .and_then(|v| v.as_array())
                .map_or(0, Vec::len);
            assert_eq!(frame.rows(), records, "{value}");
        }
        // Arbitrary bytes too: cut the JSON anywhere.
        let cut = rng.random_range(0..=bytes.len());
        let _ = parse(&bytes[..cut], &inputs(), &Limits::default());
    }
}

#[test]
fn records_may_order_their_fields_differently_and_repeat_one() {
    let frame = parse(
        &body(json!({"records": [
            {"distance": 1, "carrier": "UA", "time_hour": 0, "temp": 1.5},
            {"time_hour": 0, "temp": 2.5, "distance": 2, "carrier": "AA"},
            {"carrier": "B6", "distance": 9, "distance": 3, "time_hour": 0},
        ]})),
        &inputs(),
        &Limits::default(),
    )
    .expect("valid");
    assert_eq!(
        frame.column("distance").expect("column"),
        &RawColumn::Numeric(vec![Some(1.0), Some(2.0), Some(3.0)])
    );
    assert_eq!(
        frame.column("temp").expect("column"),
        &RawColumn::Numeric(vec![Some(1.5), Some(2.5), None])
    );
    assert_eq!(
        frame.column("carrier").expect("column"),
        &RawColumn::Text([Some("UA"), Some("AA"), Some("B6")].into_iter().collect())
    );
}

#[test]
fn a_repeated_field_counts_once_as_its_last_value() {
    let frame = parse(
        &body(json!({"records": [
            {"distance": 1, "carrier": 7, "carrier": "UA", "time_hour": 0, "temp": null, "temp": 2.5},
            {"distance": 2, "carrier": "AA", "carrier": "B6", "time_hour": 0, "temp": 1.0, "temp": null},
        ]})),
        &inputs(),
        &Limits::default(),
    )
    .expect("the last value of each field is valid");
    assert_eq!(
        frame.column("carrier").expect("column"),
        &RawColumn::Text([Some("UA"), Some("B6")].into_iter().collect())
    );
    assert_eq!(
        frame.column("temp").expect("column"),
        &RawColumn::Numeric(vec![Some(2.5), None])
    );

    let problems = problems(parse(
        &body(json!({"records": [
            {"distance": 1, "carrier": "UA", "carrier": null, "time_hour": 0},
        ]})),
        &inputs(),
        &Limits::default(),
    ));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].field.as_deref(), Some("carrier"));
    assert!(problems[0].problem.contains("null is not allowed"));
}

#[test]
fn room_made_for_records_follows_the_body_and_stops_at_the_limit() {
    let limits = Limits::default();
    // A row of 18 values takes at least 38 bytes: "[1,…,1],".
    assert_eq!(likely_records(380, 18, &limits), 10);
    assert_eq!(likely_records(0, 18, &limits), 0);
    assert_eq!(likely_records(6 << 20, 18, &limits), limits.max_records);
}

#[test]
fn free_text_is_bounded_by_its_length_in_characters_and_a_blank_one_is_missing() {
    let inputs = vec![InputField::new("review", ColumnType::Text, true, Some(5))];
    // Five characters in more than five bytes are within the bound.
    let body = r#"{"records": [{"review": "caf\u00e9s"}, {"review": "   "}, {"review": "cafés"}]}"#;
    let frame = parse(body.as_bytes(), &inputs, &Limits::default()).expect("reads");
    let RawColumn::Text(values) = frame.column("review").expect("read") else {
        panic!("text");
    };
    assert_eq!(
        values.iter().collect::<Vec<_>>(),
        [Some("cafés"), None, Some("cafés")]
    );

    let body = br#"{"records": [{"review": "far too long"}]}"#;
    let Err(RequestError::Invalid { problems, .. }) = parse(body, &inputs, &Limits::default())
    else {
        panic!("too long");
    };
    assert_eq!(problems[0].field.as_deref(), Some("review"));
    assert_eq!(
        problems[0].problem,
        "longer than the 5 characters this field takes"
    );

    let required = vec![InputField {
        nullable: false,
        ..inputs[0].clone()
    }];
    let Err(RequestError::Invalid { problems, .. }) = parse(
        br#"{"records": [{"review": " "}]}"#,
        &required,
        &Limits::default(),
    ) else {
        panic!("blank");
    };
    assert!(problems[0]
        .problem
        .starts_with("null or blank text is not allowed"));
}

#[test]
fn a_body_asks_for_the_top_classes_and_an_explanation_beside_its_records() {
    let body = br#"{"records": [{"top_k": 1}], "top_k": 3, "explain": true}"#;
    assert_eq!(
        options(body),
        Ok(PredictOptions {
            top_k: Some(3),
            explain: true
        })
    );
    assert_eq!(
        options(br#"{"records": []}"#),
        Ok(PredictOptions::default())
    );
    let Err(RequestError::Invalid { problems, .. }) =
        options(br#"{"records": [], "top_k": 0, "explain": "yes"}"#)
    else {
        panic!("refused");
    };
    let fields: Vec<_> = problems.iter().filter_map(|p| p.field.as_deref()).collect();
    assert_eq!(fields, ["top_k", "explain"]);
    // Out of bounds in the body is refused even where the query's top_k would win.
    let Err(RequestError::Invalid { problems, .. }) =
        options(br#"{"records": [], "top_k": 1000001, "explain": null}"#)
    else {
        panic!("refused");
    };
    assert_eq!(
        problems[0].problem,
        "expected a whole number of classes, from 1 to 1000000"
    );
}

#[test]
fn a_boolean_may_be_spelled_as_ingest_reads_it() {
    let record = |holiday: serde_json::Value| json!({"distance": 1, "carrier": "UA", "time_hour": 0, "holiday": holiday});
    let frame = parse(
        &body(json!({"records": [
            record(json!("Yes")), record(json!(" no ")), record(json!("1")), record(json!("F")), record(json!(true)),
            record(json!("ja")), record(json!("FÉRIÉ")), record(json!(" Nein")),
        ]})),
        &inputs(),
        &Limits::default(),
    )
    .expect("valid");
    assert_eq!(
        frame.column("holiday").expect("column"),
        &RawColumn::Boolean(vec![
            Some(true),
            Some(false),
            Some(true),
            Some(false),
            Some(true),
            Some(true),
            Some(true),
            Some(false)
        ])
    );
    let found = problems(parse(
        &body(json!({"records": [record(json!("maybe"))]})),
        &inputs(),
        &Limits::default(),
    ));
    assert_eq!(found.len(), 1);
    assert!(found[0].problem.contains(r#""yes""#), "{:?}", found[0]);
    assert!(
        found[0].problem.contains(
            r#"or this field's own words: "ja", "férié" for true, "nein" for false, got a string"#
        ),
        "{:?}",
        found[0]
    );
    // Another field's words are not this one's.
    let mut plain = inputs();
    plain[4].boolean_words = crate::spec::BooleanWords::default();
    let found = problems(parse(
        &body(json!({"records": [record(json!("Ja"))]})),
        &plain,
        &Limits::default(),
    ));
    assert_eq!(found[0].problem, "expected true or false (or a spelling of them: \"yes\", \"no\", \"y\", \"n\", \"t\", \"f\", \"1\", \"0\"), got a string");
}
