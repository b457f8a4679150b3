use super::*;
use crate::ingest::decode::{decode, numeric_schema};

fn spec(extra: &str) -> DatasetSpec {
    let text = format!(
        r#"
        [dataset]
        name = "t"
        version = 1
        [[columns]]
        name = "id"
        type = "integer"
        unique = true
        [[columns]]
        name = "carrier"
        type = "categorical"
        allowed = ["AA", "UA"]
        [[columns]]
        name = "delay"
        type = "float"
        nullable = true
        min = -60
        max = 600
        {extra}
        "#
    );
    DatasetSpec::parse(&text, "toml").unwrap().spec
}

/// Checked, with the typed frame.
struct Out {
    frame: DataFrame,
    file_failures: Vec<Finding>,
    row_failures: Vec<RowFailure>,
    warnings: Vec<Finding>,
}

fn judged(raw: &DataFrame, decoded: &Decoded, spec: &DatasetSpec) -> Out {
    let scratch = tempfile::tempdir().unwrap();
    let (frame, checked) = check_frame(raw, decoded, spec, scratch.path()).unwrap();
    Out {
        frame,
        file_failures: checked.file_failures,
        row_failures: checked.row_failures,
        warnings: checked.warnings,
    }
}

fn checked(csv: &str, spec: &DatasetSpec) -> Out {
    let (raw, decoded) = decode(
        csv.as_bytes(),
        "f.csv",
        &spec.source,
        &numeric_schema(spec),
        1 << 30,
    )
    .unwrap();
    judged(&raw, &decoded, spec)
}

fn rules(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule.as_str()).collect()
}

#[test]
fn a_clean_file_passes_and_is_typed() {
    let out = checked("id,carrier,delay\n1,AA,3.5\n2,UA,\n", &spec(""));
    assert!(out.file_failures.is_empty() && out.row_failures.is_empty() && out.warnings.is_empty());
    assert_eq!(out.frame.column("id").unwrap().dtype(), &DataType::Int64);
    assert_eq!(
        out.frame.column("delay").unwrap().dtype(),
        &DataType::Float64
    );
}

#[test]
fn reports_every_failure_with_rows_and_raw_values() {
    let csv = "id,carrier,delay\n1,AA,3.5\n1,XX,900\nx,UA,-100\n4,,2\n";
    let out = checked(csv, &spec(""));
    let row_rules = out
        .row_failures
        .iter()
        .map(|f| f.finding.rule.as_str())
        .collect::<Vec<_>>();
    assert_eq!(
        row_rules,
        ["type", "not_null", "allowed_values", "min", "max"]
    );
    let type_error = &out.row_failures[0].finding;
    assert_eq!(
        type_error.examples,
        vec![Example {
            row: 3,
            value: "x".into()
        }]
    );
    let allowed = out
        .row_failures
        .iter()
        .find(|f| f.finding.rule == "allowed_values")
        .unwrap();
    assert_eq!(
        allowed.finding.examples,
        vec![Example {
            row: 2,
            value: "XX".into()
        }]
    );
    assert_eq!(rules(&out.file_failures), ["unique"]);
    assert_eq!(out.file_failures[0].count, 2);
}

#[test]
fn nested_json_values_are_type_failures_not_errors() {
    let spec = spec("");
    let jsonl = b"{\"id\": {\"n\": 1}, \"carrier\": \"AA\", \"delay\": 1.5}\n";
    let (raw, decoded) = decode(
        jsonl,
        "f.jsonl",
        &spec.source,
        &numeric_schema(&spec),
        1 << 30,
    )
    .unwrap();
    let out = judged(&raw, &decoded, &spec);
    let failed: Vec<_> = out
        .row_failures
        .iter()
        .map(|f| (f.finding.rule.as_str(), f.finding.columns[0].as_str()))
        .collect();
    assert_eq!(failed, [("type", "id")]);
}

#[test]
fn missing_required_and_extra_columns_are_file_failures() {
    let out = checked("id,delay,bonus\n1,2,3\n", &spec(""));
    assert_eq!(
        rules(&out.file_failures),
        ["extra_column", "required_column"]
    );
    assert_eq!(out.file_failures[1].columns, ["carrier"]);
    let mut dropping = spec("");
    dropping.policy.extra_columns = ExtraColumns::Drop;
    let out = checked("id,carrier,delay,bonus\n1,AA,2,3\n", &dropping);
    assert!(out.file_failures.is_empty());
    assert_eq!(rules(&out.warnings), ["extra_column"]);
    assert_eq!(out.frame.get_column_names().len(), 3);
}

#[test]
fn table_rules_keys_and_tolerance() {
    let extra = r#"
        [table]
        min_rows = 2
        unique_keys = [["carrier", "delay"]]
        rules = [
          { name = "small_id", check = "id < 10", mostly = 0.5 },
          { name = "delay_below_id", check = "delay <= id" },
        ]
    "#;
    let out = checked("id,carrier,delay\n1,AA,0\n2,AA,0\n30,UA,1\n", &spec(extra));
    assert_eq!(rules(&out.file_failures), ["unique_key"]);
    assert_eq!(
        out.file_failures[0].examples[0].value, "carrier=AA, delay=0.0",
        "numbers show as parsed"
    );
    assert_eq!(
        rules(&out.warnings),
        ["rule:small_id"],
        "1 of 3 rows fails, within mostly = 0.5"
    );
    assert!(
        out.row_failures.is_empty(),
        "delay <= id holds on every row"
    );

    let out = checked("id,carrier,delay\n1,AA,5\n", &spec(extra));
    assert_eq!(rules(&out.file_failures), ["row_count"]);
    let failed: Vec<_> = out
        .row_failures
        .iter()
        .map(|f| f.finding.rule.as_str())
        .collect();
    assert_eq!(failed, ["rule:delay_below_id"]);
}

#[test]
fn free_text_is_bounded_in_characters_and_blank_texts_are_missing() {
    let spec = spec(
        r#"
        [[columns]]
        name = "review"
        type = "text"
        nullable = true
        max_null_fraction = 0.5
        max_length = 12
        "#,
    );
    // Twelve characters with accents pass (characters, not bytes); thirteen do not; a text of
    // spaces is a missing one.
    let csv = "id,carrier,delay,review\n1,AA,1,crème brûlée\n2,UA,2,crème brûlées\n3,AA,3,\"   \"\n4,AA,4,good tea\n";
    let out = checked(csv, &spec);
    let failed: Vec<(&str, u64)> = out
        .row_failures
        .iter()
        .map(|f| (f.finding.rule.as_str(), f.finding.count))
        .collect();
    assert_eq!(failed, [("max_length", 1)]);
    assert_eq!(
        out.row_failures[0].finding.examples,
        vec![Example {
            row: 2,
            value: "crème brûlées".into()
        }]
    );
    let review = out.frame.column("review").unwrap();
    assert_eq!(review.null_count(), 1, "the blank text is missing");
    assert!(out.file_failures.is_empty());

    // More blank texts than the share allows: a file-level failure.
    let blank = "id,carrier,delay,review\n1,AA,1,\" \"\n2,UA,2,\n3,AA,3,tea\n";
    assert_eq!(
        rules(&checked(blank, &spec).file_failures),
        ["max_null_fraction"]
    );
}

/// A file's checks over small batches (blocks of `block_bytes`), judged once it is all read.
fn batched(bytes: &[u8], name: &str, spec: &DatasetSpec, block_bytes: usize) -> Checked {
    let scratch = tempfile::tempdir().unwrap();
    let numeric = numeric_schema(spec);
    let reading = crate::ingest::blocks::Reading {
        block_bytes,
        parquet_rows: block_bytes,
        ..crate::ingest::blocks::Reading::new(name, &spec.source, &numeric, 1 << 30)
    };
    let mut validator = Validator::new(spec, scratch.path());
    let mut batches = 0;
    crate::ingest::blocks::batches(bytes, &reading, |raw, decoded| {
        batches += 1;
        validator.check(&raw, decoded).map(|_| ())
    })
    .unwrap();
    assert!(batches > 10, "the file is read in many batches");
    let mut finished = validator.finish().unwrap();
    if finished.needs_values() {
        let mut rows_before = 0;
        crate::ingest::blocks::batches(bytes, &reading, |raw, _| {
            finished.fill(&raw, rows_before);
            rows_before += raw.height() as u64;
            Ok::<(), ()>(())
        })
        .unwrap();
    }
    finished.into_checked()
}

#[test]
fn a_file_checked_batch_by_batch_is_judged_as_the_whole_file() {
    let extra = r#"
        [[columns]]
        name = "code"
        type = "string"
        nullable = true
        regex = "^[A-Z]{3}$"
        [table]
        unique_keys = [["carrier", "code"]]
        rules = [
          { name = "small_delay", check = "delay < 300", mostly = 0.99 },
          { name = "delay_below_id", check = "delay <= id", mostly = 0.5 },
        ]
    "#;
    let spec = spec(extra);
    // 3,000 rows with faults spread over the file: values of the wrong type, out of range, not
    // allowed, not matching; ids and keys repeated far apart; short rows and blank lines.
    let mut csv = String::from("id,carrier,delay,code\n");
    for i in 0..3000u32 {
        let id = if i % 997 == 0 {
            "7".to_owned()
        } else {
            i.to_string()
        };
        let carrier = match (i % 431, i % 2) {
            (0, _) => "XX",
            (_, 0) => "AA",
            _ => "UA",
        };
        let delay = match i % 613 {
            0 => "late".to_owned(),
            1 => "900".to_owned(),
            _ => (i % 400).to_string(),
        };
        let letter = |n: u32| char::from(b'A' + (n % 26) as u8);
        let code = match i % 509 {
            0 => "ab1".to_owned(),
            _ => format!("Q{}{}", letter(i / 26), letter(i)),
        };
        if i % 777 == 0 {
            csv.push_str(&format!("{id},{carrier}\n"));
        } else {
            csv.push_str(&format!("{id},{carrier},{delay},{code}\n"));
        }
        if i % 1100 == 0 {
            csv.push('\n');
        }
    }
    let (raw, decoded) = decode(
        csv.as_bytes(),
        "f.csv",
        &spec.source,
        &numeric_schema(&spec),
        1 << 30,
    )
    .unwrap();
    let whole = judged(&raw, &decoded, &spec);
    assert!(
        !whole.file_failures.is_empty()
            && !whole.row_failures.is_empty()
            && !whole.warnings.is_empty(),
        "the file fails in every way"
    );
    // A number in an example shows as its batch read it: "900" where the batch's column held a
    // value that is not a number (read as text, as the whole file reads it here), "900.0" where it
    // held numbers only. The same number either way: compared as numbers.
    let same_numbers = |value: &str| -> String {
        value
            .split(", ")
            .map(|pair| match pair.split_once('=') {
                Some((name, v)) => match v.parse::<f64>() {
                    Ok(number) => format!("{name}={number}"),
                    Err(_) => pair.to_owned(),
                },
                None => pair
                    .parse::<f64>()
                    .map_or(pair.to_owned(), |n| n.to_string()),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let json = |findings: &[Finding]| {
        let mut findings = findings.to_vec();
        for example in findings.iter_mut().flat_map(|f| &mut f.examples) {
            example.value = same_numbers(&example.value);
        }
        serde_json::to_string_pretty(&findings).unwrap()
    };
    let rows = |failures: &[RowFailure]| -> Vec<Vec<Option<bool>>> {
        failures.iter().map(|f| f.rows.iter().collect()).collect()
    };
    let findings = |failures: &[RowFailure]| -> Vec<Finding> {
        failures.iter().map(|f| f.finding.clone()).collect()
    };
    for block_bytes in [200, 4096] {
        let parts = batched(csv.as_bytes(), "f.csv", &spec, block_bytes);
        assert_eq!(parts.rows, raw.height() as u64);
        assert_eq!(json(&parts.file_failures), json(&whole.file_failures));
        assert_eq!(json(&parts.warnings), json(&whole.warnings));
        assert_eq!(
            json(&findings(&parts.row_failures)),
            json(&findings(&whole.row_failures))
        );
        assert_eq!(rows(&parts.row_failures), rows(&whole.row_failures));
    }
}

#[test]
fn a_column_some_batches_lack_is_checked_as_nulls_there_and_only_missing_if_no_batch_has_it() {
    let spec = spec(
        r#"
        [[columns]]
        name = "code"
        type = "string"
        nullable = false
        [[columns]]
        name = "note"
        type = "string"
        nullable = true
        required = false
        "#,
    );
    // JSON Lines whose first 40 lines have no "code" and no line has "note".
    let lines: String = (0..80)
        .map(|i| match i {
            0..40 => format!("{{\"id\": {i}, \"carrier\": \"AA\", \"delay\": 1.0}}\n"),
            _ => format!(
                "{{\"id\": {i}, \"carrier\": \"AA\", \"delay\": 1.0, \"code\": \"C{i}\"}}\n"
            ),
        })
        .collect();
    let out = batched(lines.as_bytes(), "f.jsonl", &spec, 256);
    assert_eq!(out.rows, 80);
    assert!(
        out.file_failures.is_empty(),
        "note is optional, code is there"
    );
    let not_null = out
        .row_failures
        .iter()
        .find(|f| f.finding.rule == "not_null")
        .expect("the lines without code");
    assert_eq!(not_null.finding.columns, ["code"]);
    assert_eq!(not_null.finding.count, 40);
    assert_eq!(not_null.finding.examples[0].row, 1);
    let flagged: Vec<bool> = not_null.rows.iter().map(|r| r == Some(true)).collect();
    assert_eq!(flagged, (0..80).map(|i| i < 40).collect::<Vec<_>>());

    // A required column no batch has is missing, once.
    let mut required = spec.clone();
    required.columns.last_mut().unwrap().required = true;
    let out = batched(lines.as_bytes(), "f.jsonl", &required, 256);
    assert_eq!(rules(&out.file_failures), ["required_column"]);
    assert_eq!(out.file_failures[0].columns, ["note"]);
}
