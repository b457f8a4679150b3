use super::*;

/// The decoder with a limit on content that none of these tests reaches unless it means to.
fn decode(
    bytes: &[u8],
    name: &str,
    source: &SourceSection,
    numeric: &Schema,
) -> Result<(DataFrame, Decoded), DecodeError> {
    super::decode(bytes, name, source, numeric, 1 << 20)
}

fn csv_source() -> SourceSection {
    SourceSection::default()
}

/// A decoded column typed as ingest types it, for a column of the spec declared `kind`.
fn typed(
    frame: &DataFrame,
    name: &str,
    kind: impl std::fmt::Display,
) -> super::super::coerce::TypedColumn {
    let spec: crate::spec::ColumnSpec =
        toml::from_str(&format!("name = \"{name}\"\ntype = \"{kind}\"")).unwrap();
    super::super::coerce::coerce(frame.column(name).unwrap().as_materialized_series(), &spec)
        .unwrap()
}

#[test]
fn reads_csv_with_every_column_as_text() {
    let (frame, decoded) = decode(
        b"a,b\n1,x\n2,y\n",
        "f.csv",
        &csv_source(),
        &Schema::default(),
    )
    .unwrap();
    assert_eq!(
        decoded,
        Decoded {
            format: ReadFormat::Csv,
            gzipped: false,
            blank_lines: 0,
            short_rows: vec![],
        }
    );
    assert_eq!(frame.height(), 2);
    assert!(frame
        .columns()
        .iter()
        .all(|c| c.dtype() == &DataType::String));
}

#[test]
fn types_numeric_columns_directly_unless_a_value_is_not_a_number() {
    let numeric: Schema = [Field::new("a".into(), DataType::Int64)]
        .into_iter()
        .collect();
    let (frame, _) = decode(b"a,b\n1,x\n2,y\n", "f.csv", &csv_source(), &numeric).unwrap();
    assert_eq!(frame.column("a").unwrap().dtype(), &DataType::Int64);
    assert_eq!(frame.column("b").unwrap().dtype(), &DataType::String);
    let (frame, _) = decode(b"a,b\n1,x\nnope,y\n", "f.csv", &csv_source(), &numeric).unwrap();
    assert_eq!(
        frame.column("a").unwrap().dtype(),
        &DataType::String,
        "falls back to text"
    );
}

#[test]
fn reads_gzip_by_content_not_name() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, b"a,b\n1,2\n").unwrap();
    let gz = encoder.finish().unwrap();
    let (frame, decoded) = decode(&gz, "upload.bin", &csv_source(), &Schema::default()).unwrap();
    assert!(decoded.gzipped);
    assert_eq!(frame.height(), 1);
    let truncated = &gz[..gz.len() - 6];
    assert!(matches!(
        decode(truncated, "f.csv.gz", &csv_source(), &Schema::default()),
        Err(DecodeError::BadGzip(_))
    ));
}

#[test]
fn names_each_kind_of_broken_file() {
    assert!(matches!(
        decode(b"", "f.csv", &csv_source(), &Schema::default()),
        Err(DecodeError::Empty)
    ));
    assert!(matches!(
        decode(b"a,b\n", "f.csv", &csv_source(), &Schema::default()),
        Err(DecodeError::HeaderOnly)
    ));
    let wrong = decode(
        b"a;b;c\n1;2;3\n",
        "f.csv",
        &csv_source(),
        &Schema::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            wrong,
            DecodeError::WrongDelimiter {
                found: ';',
                expected: ',',
                ..
            }
        ),
        "{wrong}"
    );
    let bad = decode(
        b"a,b\n1,2\n3,\xff\xfe\n",
        "f.csv",
        &csv_source(),
        &Schema::default(),
    )
    .unwrap_err();
    assert!(matches!(bad, DecodeError::NotUtf8 { line: 3, .. }), "{bad}");
}

#[test]
fn reads_json_lines() {
    let (frame, decoded) = decode(
        b"{\"a\": 1, \"b\": \"x\"}\n{\"a\": 2, \"b\": null}\n",
        "f.jsonl",
        &csv_source(),
        &Schema::default(),
    )
    .unwrap();
    assert_eq!(decoded.format, ReadFormat::Jsonl);
    assert_eq!(frame.height(), 2);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut encoder, bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn decompression_stops_at_the_limit_of_a_files_content() {
    // 1 MB + 1 of zeroes, about 1 KB compressed: one byte past the limit is refused.
    let mut content = b"a,b\n".to_vec();
    content.resize((1 << 20) + 1, b'0');
    let bomb = gzip(&content);
    assert!(bomb.len() < 4096, "{}", bomb.len());
    let refused = decode(&bomb, "bomb.csv.gz", &csv_source(), &Schema::default()).unwrap_err();
    assert!(
        matches!(refused, DecodeError::DecompressedTooLarge { limit } if limit == 1 << 20),
        "{refused}"
    );
    assert_eq!(refused.rule(), "decompressed_too_large");
    // Several gzip members count together.
    let half = gzip(&vec![b'1'; 600_000]);
    let members = [gzip(b"a\n"), half.clone(), half].concat();
    let refused = decode(&members, "m.csv.gz", &csv_source(), &Schema::default()).unwrap_err();
    assert_eq!(refused.rule(), "decompressed_too_large");
    // Exactly at the limit is read.
    let mut content = b"a\n".to_vec();
    content.resize(1 << 20, b'7');
    content[(1 << 20) - 1] = b'\n';
    let (frame, _) = decode(
        &gzip(&content),
        "f.csv.gz",
        &csv_source(),
        &Schema::default(),
    )
    .expect("content at the limit");
    assert_eq!(frame.height(), 1);
}

#[test]
fn blank_lines_are_skipped_and_counted() {
    let (frame, decoded) = decode(
        b"a,b\n1,x\n\n\n2,y\n\n\n",
        "f.csv",
        &csv_source(),
        &Schema::default(),
    )
    .unwrap();
    assert_eq!(frame.height(), 2);
    assert_eq!(decoded.blank_lines, 4);
    assert_eq!(frame.column("a").unwrap().null_count(), 0);
}

#[test]
fn short_rows_are_named_for_validation_and_long_rows_refuse_the_file() {
    let (frame, decoded) = decode(
        b"a,b,c\n1,2,3\n4,5\n",
        "f.csv",
        &csv_source(),
        &Schema::default(),
    )
    .unwrap();
    assert_eq!(frame.height(), 2);
    assert_eq!(decoded.short_rows, [RowWidth { row: 1, fields: 2 }]);
    let wide = format!("a,b\n1,2\n{}\n", vec!["x"; 10_000].join(","));
    let refused = decode(wide.as_bytes(), "f.csv", &csv_source(), &Schema::default()).unwrap_err();
    assert_eq!(refused.rule(), "unreadable");
    assert_eq!(
        refused.to_string(),
        "1 row(s) have more fields than the header's 2: row 2 has 10000"
    );
}

#[test]
fn carriage_return_line_endings_and_repeated_names_are_named() {
    let refused = decode(
        b"a,b\r1,2\r3,4\r",
        "f.csv",
        &csv_source(),
        &Schema::default(),
    )
    .unwrap_err();
    assert_eq!(refused.rule(), "line_endings");
    let refused = decode(
        b"hour,x,hour\n1,2,3\n",
        "f.csv",
        &csv_source(),
        &Schema::default(),
    )
    .unwrap_err();
    assert_eq!(refused.rule(), "repeated_column");
    assert_eq!(
        refused.to_string(),
        "the header names \"hour\" twice (columns 1 and 3); every column needs its own name"
    );
}

#[test]
fn deeply_nested_json_lines_are_refused_with_their_line() {
    let deep = format!("{{\"a\": {}{}}}", "[".repeat(5_000), "]".repeat(5_000));
    let text = format!("{{\"a\": 1}}\n{{\"a\": \"[[[[\"}}\n{deep}\n");
    let refused = decode(
        text.as_bytes(),
        "f.jsonl",
        &csv_source(),
        &Schema::default(),
    )
    .unwrap_err();
    assert!(
        matches!(refused, DecodeError::TooDeep { line: 3, max: 64 }),
        "{refused}"
    );
    assert_eq!(refused.rule(), "nesting");
}

/// A source whose values may have at most `max` bytes.
fn values_up_to(max: u64) -> SourceSection {
    SourceSection {
        max_value_bytes: max,
        ..SourceSection::default()
    }
}

fn value_too_large(text: &[u8], name: &str, max: u64) -> (String, usize) {
    match decode(text, name, &values_up_to(max), &Schema::default()) {
        Err(DecodeError::ValueTooLarge {
            place,
            bytes,
            limit,
        }) => {
            assert_eq!(limit, max);
            (place, bytes)
        }
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn a_value_longer_than_the_limit_is_refused_unread_with_where_it_is() {
    let long = "Q".repeat(40);
    let csv = format!("id,carrier\n1,AA\n2,{long}\n");
    assert_eq!(
        value_too_large(csv.as_bytes(), "f.csv", 32),
        ("row 2, column \"carrier\",".to_string(), 40)
    );
    let refused = decode(
        csv.as_bytes(),
        "f.csv",
        &values_up_to(32),
        &Schema::default(),
    );
    let refused = refused.unwrap_err();
    assert_eq!(refused.rule(), "value_too_large");
    assert_eq!(
        refused.to_string(),
        "row 2, column \"carrier\", holds a value of 40 bytes; values may have at most 32 (the spec's source.max_value_bytes)"
    );
    // A JSON string (quotes included) or number, named by its line.
    let jsonl = format!("{{\"id\": 1}}\n{{\"id\": 2, \"carrier\": \"{long}\"}}\n");
    assert_eq!(
        value_too_large(jsonl.as_bytes(), "f.jsonl", 32),
        ("line 2".to_string(), 42)
    );
    let number = format!("{{\"id\": {}}}\n", "9".repeat(40));
    assert_eq!(
        value_too_large(number.as_bytes(), "f.jsonl", 32),
        ("line 1".to_string(), 40)
    );
    // Parquet compresses a long value to almost nothing: its size is known once read.
    let mut frame = polars::df!("id" => [1i64, 2], "carrier" => ["AA", long.as_str()]).unwrap();
    let mut parquet = Vec::new();
    ParquetWriter::new(&mut parquet).finish(&mut frame).unwrap();
    assert_eq!(
        value_too_large(&parquet, "f.parquet", 32),
        ("column \"carrier\"".to_string(), 40)
    );
    // At the limit, every format is read.
    for (bytes, name) in [(csv.as_bytes(), "f.csv"), (jsonl.as_bytes(), "f.jsonl")] {
        assert!(decode(bytes, name, &values_up_to(42), &Schema::default()).is_ok());
    }
    assert!(decode(&parquet, "f.parquet", &values_up_to(40), &Schema::default()).is_ok());
}

#[test]
fn json_lines_faults_are_found_without_parsing() {
    let fault = |text: &str, max_value| jsonl_fault(text.as_bytes(), 3, max_value);
    // Escaped quotes stay inside the string; brackets inside a string do not nest.
    assert_eq!(fault("{\"a\": \"x\\\"[[[[y\"}\n", 10), None);
    assert_eq!(
        fault("{\"a\": \"x\\\"[[[[y\"}\n", 9),
        Some(JsonlFault::ValueTooLarge { line: 1, bytes: 10 })
    );
    assert_eq!(
        fault("{\"a\": 1}\n{\"a\": [[[1]]]}\n", 9),
        Some(JsonlFault::TooDeep { line: 2 })
    );
    // Literals and numbers count as values; keys do too.
    assert_eq!(
        fault("{\"a\": true, \"b\": 12345}", 4),
        Some(JsonlFault::ValueTooLarge { line: 1, bytes: 5 })
    );
    assert_eq!(fault("{\"a\": true, \"b\": 1234}", 4), None);
}

#[test]
fn a_json_lines_error_names_its_line() {
    let refused = decode(
        b"{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3,,}\n",
        "f.jsonl",
        &csv_source(),
        &Schema::default(),
    )
    .unwrap_err();
    assert_eq!(refused.rule(), "unreadable");
    assert!(refused.to_string().contains("line 3:"), "{refused}");
}

#[test]
fn a_quote_never_closed_is_refused_with_the_row_that_opened_it() {
    // The lone quote at the very end once panicked inside polars (found by `infra/fuzz.sh`).
    for (text, opener) in [
        (&b"id,c\n1,a\n\"1\",\""[..], "row 2"),
        (b"id,c\n1,\"a\n2,b\n3,c\n", "row 1"),
        (b"id,\"c\n1,a\n", "the header"),
    ] {
        let refused = decode(text, "f.csv", &csv_source(), &Schema::default()).unwrap_err();
        assert!(
            matches!(refused, DecodeError::UnclosedQuote { .. }),
            "{refused}"
        );
        assert_eq!(refused.rule(), "unreadable");
        assert!(
            refused.to_string().starts_with(&format!(
                "{opener} opens a quoted field that is never closed"
            )),
            "{refused}"
        );
    }
    // Closed quotes, doubled quotes and line breaks inside quotes are fine.
    let (frame, _) = decode(
        b"id,c\n1,\"a \"\"b\"\"\nc\"\n2,\"\"\n",
        "f.csv",
        &csv_source(),
        &Schema::default(),
    )
    .unwrap();
    assert_eq!(frame.height(), 2);
}

#[test]
fn a_quote_inside_an_unquoted_field_is_refused_with_its_row_and_field() {
    // polars counts this file's quotes as even, splits its fields differently, and aborted in
    // its number parser on the last field's lone quote (found by `infra/fuzz.sh`).
    let numeric: Schema = [Field::new("id".into(), DataType::Int64)]
        .into_iter()
        .collect();
    let text = b"id,x\n1,b\"e3\"2\"\n\"2\",\"\"\"3\"\"\"\n,\"";
    let refused = decode(text, "f.csv", &csv_source(), &numeric).unwrap_err();
    assert!(
        matches!(refused, DecodeError::StrayQuote { row: 1, field: 2 }),
        "{refused}"
    );
    assert_eq!(refused.rule(), "unreadable");
    assert!(
        refused
            .to_string()
            .starts_with("row 1, field 2, has a quote"),
        "{refused}"
    );
}

#[test]
fn parquet_with_small_wide_and_decimal_numbers_is_read_and_typed() {
    // pandas writes int8/int16 for small integers and Spark writes decimals for money: polars
    // refused the first and panicked on the second until their types were enabled.
    let mut frame = polars::df!(
        "a" => [1i8, -2],
        "b" => [300i16, 4],
        "c" => [5u8, 6],
        "d" => [7u16, 8],
        "x" => [1.5f64, 120.25],
    )
    .unwrap();
    frame
        .apply("x", |x| x.cast(&DataType::Decimal(10, 2)).unwrap())
        .unwrap();
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(&mut frame).unwrap();
    let (read, _) = decode(&bytes, "f.parquet", &csv_source(), &Schema::default()).unwrap();
    assert_eq!(read.column("x").unwrap().dtype(), &DataType::Decimal(10, 2));
    for (name, kind, expected) in [
        ("a", ColumnType::Integer, [1.0, -2.0]),
        ("b", ColumnType::Integer, [300.0, 4.0]),
        ("c", ColumnType::Integer, [5.0, 6.0]),
        ("d", ColumnType::Float, [7.0, 8.0]),
        ("x", ColumnType::Float, [1.5, 120.25]),
    ] {
        let typed = typed(&read, name, kind);
        assert!(!typed.type_errors.any(), "{name}");
        let values: Vec<f64> = typed
            .series
            .cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(values, expected, "{name}");
    }
}

#[test]
fn a_json_integer_beyond_64_bits_is_a_type_error_not_a_crash() {
    let text = b"{\"id\": 1}\n{\"id\": 66666666666666666666666666}\n";
    let (read, _) = decode(text, "f.jsonl", &csv_source(), &Schema::default()).unwrap();
    let typed = typed(&read, "id", "integer");
    assert_eq!(
        typed.type_errors.iter().collect::<Vec<_>>(),
        [Some(false), Some(true)]
    );
}

#[test]
fn a_parquet_footer_that_stops_the_reader_is_unreadable_not_a_crash() {
    // Found by fuzzing: polars' footer decoder panics on this corrupt statistics field.
    let input =
        include_bytes!("../../../../fuzz/corpus/ingest_upload/parquet-corrupt-footer-statistics");
    let err = decode(&input[1..], "f.parquet", &csv_source(), &Schema::default()).unwrap_err();
    assert_eq!(err.rule(), "unreadable");
    assert!(err.to_string().contains("metadata is corrupt"), "{err}");
}
