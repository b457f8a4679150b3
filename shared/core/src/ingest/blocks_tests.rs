use std::io::Write;

use super::*;
use crate::spec::SourceSection;

/// Every column of a file of at most 1 MiB of content, read `size` bytes (or Parquet rows) at a time.
fn in_blocks_of<'a>(
    size: usize,
    name: &'a str,
    source: &'a SourceSection,
    numeric: &'a Schema,
) -> Reading<'a> {
    Reading {
        block_bytes: size,
        parquet_rows: size,
        ..Reading::new(name, source, numeric, 1 << 20)
    }
}

/// Every block's frame, read with blocks of `size` bytes, stacked.
fn stacked(bytes: &[u8], name: &str, columns: &[&str], size: usize) -> Result<DataFrame, String> {
    let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let mut frames: Vec<DataFrame> = Vec::new();
    let source = SourceSection::default();
    let numeric = Schema::default();
    let reading = Reading {
        columns: (!columns.is_empty()).then_some(&columns[..]),
        ..in_blocks_of(size, name, &source, &numeric)
    };
    batches(bytes, &reading, |frame, _| {
        frames.push(frame);
        Ok::<(), ()>(())
    })
    .map_err(|failure| match failure {
        Failure::Read(e) => e.to_string(),
        Failure::Each(()) => "refused".into(),
    })?;
    let mut all = frames.remove(0);
    for frame in frames {
        all.vstack_mut(&frame).expect("same columns");
    }
    Ok(all)
}

/// The whole file read at once, as ingest reads it, with only `columns`.
fn whole(bytes: &[u8], name: &str, columns: &[&str]) -> DataFrame {
    let (frame, _) = decode::decode(
        bytes,
        name,
        &SourceSection::default(),
        &Schema::default(),
        1 << 20,
    )
    .expect("decodes");
    match columns {
        [] => frame,
        _ => frame.select(columns.iter().copied()).expect("the columns"),
    }
}

/// The whole-file reader's reason for refusing a file.
fn whole_fault(bytes: &[u8], name: &str) -> String {
    decode::decode(
        bytes,
        name,
        &SourceSection::default(),
        &Schema::default(),
        1 << 20,
    )
    .expect_err("fails")
    .to_string()
}

/// A CSV whose quoted fields hold separators, doubled quotes and line breaks, with a blank line.
fn tricky_csv(rows: usize) -> Vec<u8> {
    let mut text = String::from("id,note,unused,n\n");
    for i in 0..rows {
        let note = match i % 4 {
            0 => format!("\"line one\nline {i}\""),
            1 => format!("\"say \"\"hi\"\", {i}\""),
            2 => String::new(),
            _ => format!("plain {i}"),
        };
        text.push_str(&format!("{i},{note},x,{}\n", i * 2));
        if i == rows / 2 {
            text.push('\n');
        }
    }
    text.into_bytes()
}

#[test]
fn blocks_of_any_size_read_a_csv_as_the_whole_file_reads() {
    let csv = tricky_csv(200);
    let expected = whole(&csv, "f.csv", &["n", "note"]);
    for size in [1, 7, 64, 1000, 1 << 20] {
        let found = stacked(&csv, "f.csv", &["n", "note"], size).expect("reads");
        assert!(
            found.equals_missing(&expected),
            "block size {size}: {found}"
        );
    }
}

#[test]
fn a_gzip_csv_and_json_lines_are_read_block_by_block_too() {
    let csv = tricky_csv(100);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&csv).expect("compresses");
    let gz = gz.finish().expect("compresses");
    let found = stacked(&gz, "f.csv.gz", &["id", "note"], 50).expect("reads");
    assert!(found.equals_missing(&whole(&csv, "f.csv", &["id", "note"])));

    let lines: String = (0..100)
        .map(|i| format!("{{\"id\": {i}, \"note\": \"n{i}\", \"unused\": [1, {{\"x\": 2}}]}}\n"))
        .collect();
    let found = stacked(lines.as_bytes(), "f.jsonl", &["note", "id"], 64).expect("reads");
    assert!(found.equals_missing(&whole(lines.as_bytes(), "f.jsonl", &["note", "id"])));
}

#[test]
fn a_column_the_header_lacks_is_left_to_the_caller() {
    let found = stacked(b"a,b\n1,2\n", "f.csv", &["b", "missing"], 4).expect("reads");
    assert_eq!(found.get_column_names(), ["b"]);
    let none = stacked(b"a,b\n1,2\n", "f.csv", &["missing"], 4).expect("reads");
    assert_eq!(none.width(), 0);
}

#[test]
fn bad_files_fail_with_the_whole_file_readers_reasons() {
    let fails = |bytes: &[u8], size| stacked(bytes, "f.csv", &["a"], size).expect_err("fails");
    assert_eq!(fails(b"  \n", 4), DecodeError::Empty.to_string());
    assert_eq!(fails(b"a,b\n\n", 4), DecodeError::HeaderOnly.to_string());
    assert_eq!(
        fails(b"a,b\r1,2\r", 64),
        DecodeError::CarriageReturnsOnly.to_string()
    );
    // A fault in a later block is named by the file's rows and lines, as the whole-file reader
    // names it.
    let mut text = b"a,b\n".to_vec();
    for i in 0..50 {
        text.extend_from_slice(format!("{i},{i}\n").as_bytes());
    }
    let faults: [&[u8]; 3] = [b"1,2,3\n", b"1,\"x\"y\n", b"1,\xff\n"];
    for fault in faults {
        let bad = [text.as_slice(), fault, b"7,7\n"].concat();
        assert_eq!(fails(&bad, 64), whole_fault(&bad, "f.csv"));
    }
    let mut lines = String::new();
    for i in 0..50 {
        lines.push_str(&format!("{{\"a\": {i}}}\n"));
    }
    lines.push_str("{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\n");
    let json = stacked(lines.as_bytes(), "f.jsonl", &["a"], 64).expect_err("fails");
    assert_eq!(json, whole_fault(lines.as_bytes(), "f.jsonl"));
    assert!(json.contains("line 51"), "{json}");
    // Content past the limit stops reading.
    let big = vec![b'a'; 4096];
    let source = SourceSection::default();
    let numeric = Schema::default();
    let reading = Reading {
        max_bytes: 1000,
        ..in_blocks_of(64, "f.csv", &source, &numeric)
    };
    let Err(Failure::Read(BlockError::Decode(DecodeError::DecompressedTooLarge { limit }))) =
        batches(&big[..], &reading, |_, _| Ok::<(), ()>(()))
    else {
        panic!("over the limit");
    };
    assert_eq!(limit, 1000);
}

#[test]
fn parquet_is_read_a_slice_of_rows_at_a_time() {
    let mut frame = df!(
        "id" => (0..1000i64).collect::<Vec<_>>(),
        "note" => (0..1000).map(|i| format!("n{i}")).collect::<Vec<_>>(),
    )
    .unwrap();
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .with_row_group_size(Some(300))
        .finish(&mut frame)
        .unwrap();
    let found = stacked(&bytes, "f.parquet", &[], 128).expect("reads");
    assert!(found.equals_missing(&frame));
    let found = stacked(&bytes, "f.parquet", &["note", "missing"], 128).expect("reads");
    assert_eq!(found.get_column_names(), ["note"]);
    let bad = stacked(b"PAR1....", "f.parquet", &[], 64).expect_err("not Parquet");
    assert_eq!(bad, whole_fault(b"PAR1....", "f.parquet"));
}

#[test]
fn reading_notices_blank_lines_and_short_rows_per_batch() {
    let csv = b"\na,b\n1,2\n\n3\n4,5\n6\n";
    let source = SourceSection::default();
    let numeric = Schema::default();
    let reading = in_blocks_of(4, "f.csv", &source, &numeric);
    let mut short = vec![];
    let mut rows_before = 0;
    let summary = batches(&csv[..], &reading, |frame, decoded| {
        short.extend(decoded.short_rows.iter().map(|r| r.row + rows_before));
        rows_before += frame.height();
        Ok::<(), ()>(())
    })
    .unwrap();
    let (_, whole) = decode::decode(csv, "f.csv", &source, &Schema::default(), 1 << 20).unwrap();
    assert_eq!(summary.blank_lines, whole.blank_lines);
    assert_eq!(
        short,
        whole.short_rows.iter().map(|r| r.row).collect::<Vec<_>>()
    );
}
