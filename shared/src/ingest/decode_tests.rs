use super::*;

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
            gzipped: false
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
