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
    let (frame, _) = decode(&gzip(&content), "f.csv.gz", &csv_source(), &Schema::default())
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
    let (frame, decoded) =
        decode(b"a,b,c\n1,2,3\n4,5\n", "f.csv", &csv_source(), &Schema::default()).unwrap();
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
    let refused = decode(b"a,b\r1,2\r3,4\r", "f.csv", &csv_source(), &Schema::default())
        .unwrap_err();
    assert_eq!(refused.rule(), "line_endings");
    let refused = decode(b"hour,x,hour\n1,2,3\n", "f.csv", &csv_source(), &Schema::default())
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
    let refused = decode(text.as_bytes(), "f.jsonl", &csv_source(), &Schema::default())
        .unwrap_err();
    assert!(
        matches!(refused, DecodeError::TooDeep { line: 3, max: 64 }),
        "{refused}"
    );
    assert_eq!(refused.rule(), "nesting");
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
