use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::predict::request::tests::inputs;
use crate::predict::request::{read_general, Limits, RequestError};

const ROWS: usize = 4;

fn read_here(body: &str) -> Option<RawFrame> {
    read(
        body.as_bytes(),
        &inputs(),
        Limits::default().max_records,
        ROWS,
    )
}

/// The general reader's frame, or why it refused the body.
fn read_there(body: &[u8]) -> Result<RawFrame, RequestError> {
    read_general(body, &inputs(), &Limits::default(), ROWS)
}

/// The same frame, numbers compared bit for bit (so 0.0 and -0.0 differ).
fn assert_same(here: &RawFrame, there: &RawFrame) {
    assert_eq!(here, there);
    for field in inputs() {
        if let (Ok(RawColumn::Numeric(a)), Ok(RawColumn::Numeric(b))) =
            (here.column(&field.name), there.column(&field.name))
        {
            let bits =
                |v: &[Option<f64>]| v.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
            assert_eq!(bits(a), bits(b), "{}", field.name);
        }
    }
}

#[test]
fn the_usual_body_is_read_here_as_the_general_reader_reads_it() {
    let body = r#"{"records": [
        {"distance": 1089, "temp": 39.02, "carrier": "UA", "time_hour": "2013-01-01T10:00:00Z", "holiday": false},
        {"distance": 2.0e2, "temp": null, "carrier": "Ä\u00e9", "time_hour": 1357034400000, "holiday": null}
    ]}"#;
    // An escape in a string is left to the general reader.
    assert!(read_here(body).is_none());
    // Negative zero, as sonic-rs reads it.
    let body = body
        .replace(r"\u00e9", "é")
        .replace("2.0e2", "-0")
        .replace("39.02", "-0.0e3");
    let here = read_here(&body).expect("the usual shape");
    assert_same(&here, &read_there(body.as_bytes()).expect("valid"));
    assert_eq!(here.rows(), 2);
}

#[test]
fn anything_but_the_usual_shape_is_left_to_the_general_reader() {
    let record =
        r#"{"distance": 1, "temp": 2.5, "carrier": "UA", "time_hour": 0, "holiday": true}"#;
    let list = |records: &[&str]| format!(r#"{{"records": [{}]}}"#, records.join(","));
    let cases = [
        // The second record's keys in another order.
        list(&[
            record,
            r#"{"temp": 2.5, "distance": 1, "carrier": "UA", "time_hour": 0, "holiday": true}"#,
        ]),
        list(&[&record.replace(r#", "holiday": true"#, "")]),
        list(&[&record.replace('}', r#", "extra": 1}"#)]),
        list(&[&record.replace(r#""distance": 1"#, r#""distance": 1.5"#)]),
        list(&[&record.replace(r#""distance": 1"#, r#""distance": 1234567890123456789"#)]),
        list(&[&record.replace(r#""distance": 1"#, r#""distance": null"#)]),
        list(&[&record.replace(r#""time_hour": 0"#, r#""time_hour": 0.5"#)]),
        list(&[&record.replace(r#""time_hour": 0"#, r#""time_hour": "soon""#)]),
        list(&[&record.replace(r#""carrier": "UA""#, r#""carrier": 7"#)]),
        list(&[&record.replace(r#""temp": 2.5"#, r#""temp": 1e999"#)]),
        list(&[]),
        format!(r#"{{"records": [{record}], "other": 1}}"#),
        r#"{"features": [[1, 2.5, "UA", 0, true]]}"#.to_string(),
        format!(r#"{{"records": [{record}]}} x"#),
        format!(r#"{{"records": [{record}]"#),
    ];
    for body in cases {
        assert!(read_here(&body).is_none(), "{body}");
    }
    let many = list(&[record; 3]);
    assert!(read(many.as_bytes(), &inputs(), 2, ROWS).is_none());
    assert!(read(many.as_bytes(), &inputs(), 3, ROWS).is_some());
}

/// A record's JSON values, of each field's type (with the ways clients write them).
fn record() -> impl Strategy<Value = Vec<Value>> {
    let distance = prop_oneof![
        any::<i32>().prop_map(|n| json!(n)),
        (-1_000_000i64..1_000_000).prop_map(|n| json!(n as f64)),
    ];
    let temp = prop_oneof![
        Just(Value::Null),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|x| json!(x)),
        // Up to 18 digits: longer integers are left to the general reader.
        (-999_999_999_999_999_999i64..=999_999_999_999_999_999).prop_map(|n| json!(n)),
        Just(json!(-0.0)),
    ];
    let carrier = "[A-Z0-9 éü漢]{0,6}".prop_map(Value::from);
    let time_hour = prop_oneof![
        (0i64..4_000_000_000_000).prop_map(|n| json!(n)),
        (0i64..4_000_000_000).prop_map(|s| {
            json!(chrono::DateTime::from_timestamp(s, 0)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default())
        }),
    ];
    let holiday = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        // Spellings as files write them.
        "(yes|No|Y|n|T|f|1|0|TRUE| false )".prop_map(Value::from),
        // And the field's own words (see `inputs`).
        "(ja|JA|Férié|férié|nein| Nein )".prop_map(Value::from),
    ];
    (distance, temp, carrier, time_hour, holiday).prop_map(|(a, b, c, d, e)| vec![a, b, c, d, e])
}

/// A body of `records` by name, keys in the order `order`, with `space` between tokens.
fn body(records: &[Vec<Value>], order: &[usize], space: &str) -> String {
    let names = inputs();
    let records: Vec<String> = records
        .iter()
        .map(|values| {
            let fields: Vec<String> = order
                .iter()
                .map(|&at| format!("\"{}\"{space}:{space}{}", names[at].name, values[at]))
                .collect();
            format!("{{{space}{}{space}}}", fields.join(&format!(",{space}")))
        })
        .collect();
    format!(
        "{space}{{{space}\"records\"{space}:{space}[{space}{}{space}]{space}}}{space}",
        records.join(&format!(",{space}"))
    )
}

fn order() -> impl Strategy<Value = Vec<usize>> {
    Just((0..inputs().len()).collect::<Vec<_>>()).prop_shuffle()
}

proptest! {
    #[test]
    fn usual_bodies_are_read_here_exactly_as_the_general_reader_reads_them(
        records in proptest::collection::vec(record(), 1..12),
        order in order(),
        space in prop_oneof![Just(""), Just(" "), Just("\n\t ")],
    ) {
        let body = body(&records, &order, space);
        // serde_json escapes none of these values: every body has the usual shape.
        let here = read_here(&body).expect("the usual shape is read here");
        assert_same(&here, &read_there(body.as_bytes()).expect("valid"));
    }

    #[test]
    fn a_damaged_body_is_read_here_only_as_the_general_reader_reads_it(
        records in proptest::collection::vec(record(), 1..6),
        order in order(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        damage in 0..3u8,
    ) {
        let mut body = body(&records, &order, " ").into_bytes();
        let at = at.index(body.len());
        match damage {
            0 => body[at] = byte,
            1 => body.insert(at, byte),
            _ => {
                body.remove(at);
            }
        }
        if let Some(here) = read(&body, &inputs(), Limits::default().max_records, ROWS) {
            assert_same(&here, &read_there(&body).expect("read here, so valid there"));
        }
    }
}

#[test]
fn same_compares_every_byte_of_every_length() {
    let text = b"0123456789abcdefghijklmnopqrstuv";
    for n in 0..text.len() {
        let a = &text[..n];
        assert!(same(a, a));
        for at in 0..n {
            let mut b = a.to_vec();
            b[at] ^= 1;
            assert!(!same(a, &b), "{n} {at}");
        }
        assert!(!same(a, &text[..n + 1]));
    }
}

#[test]
fn numbers_are_read_as_sonic_rs_reads_them() {
    let texts = [
        "0",
        "-0",
        "7",
        "-12",
        "999999999999999999",
        "0.5",
        "-0.0",
        "39.02",
        "12.65858",
        "1008.4",
        "1e3",
        "1E-3",
        "2.5e+2",
        "-0.000001",
        "9007199254740993.0",
        "1.7976931348623157e308",
        "5e-324",
        "0.1e-40",
        "4.9406564584124654e-324",
        "-1e-400",
        "-0.0e-3",
        "-0E0",
        "0.00000000000000000000000001",
        "-0.0000000000000000000000000",
        "123456789012345678901234567890.5",
        "18446744073709551616.0",
    ];
    for text in texts {
        let mut scan = Scan {
            body: text.as_bytes(),
            at: 0,
        };
        let here = scan.number().expect("a number");
        assert_eq!(scan.at, text.len(), "{text}");
        let there: f64 = sonic_rs::from_str(text).expect("sonic-rs reads it");
        assert_eq!(here.value.to_bits(), there.to_bits(), "{text}");
    }
    // Integers longer than 18 digits are left to the general reader.
    let mut scan = Scan {
        body: b"1234567890123456789",
        at: 0,
    };
    assert!(scan.number().is_none());
}
