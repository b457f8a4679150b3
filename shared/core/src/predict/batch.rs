//! Batch scoring from files: a JSON request body, JSON Lines (one record per line) or CSV with a
//! header, each as it is or gzipped, turned into the request body the API takes, so a file is validated and answered
//! exactly as the same records sent over HTTP.

use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;
use serde_json::{Map, Value};

use crate::artifact::InputField;
use crate::ingest::decode::{gunzip, GZIP_MAGIC};
use crate::spec::ColumnType;

/// The most a gzipped batch file may expand to.
const MAX_INFLATED_BYTES: u64 = 4 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchFormat {
    /// A request body: `{"records": […]}` or `{"features": […]}`.
    Json,
    JsonLines,
    Csv,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BatchError {
    #[error(
        "{0}: name a .json (request body), .jsonl / .ndjson (one record per line) or .csv file (each may be gzipped: .csv.gz)"
    )]
    UnknownFormat(String),
    #[error("the gzipped file cannot be read: {0}")]
    BadGzip(String),
    #[error("line {line} is not a JSON object: {problem}")]
    BadLine { line: usize, problem: String },
    #[error("the CSV file is unreadable: {0}")]
    BadCsv(String),
}

impl BatchFormat {
    pub fn of(path: &Path) -> Result<BatchFormat, BatchError> {
        let name = path.to_string_lossy().to_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".json") {
            Ok(BatchFormat::Json)
        } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
            Ok(BatchFormat::JsonLines)
        } else if name.ends_with(".csv") {
            Ok(BatchFormat::Csv)
        } else {
            Err(BatchError::UnknownFormat(path.display().to_string()))
        }
    }
}

/// The request body for the file's records (a gzipped file is inflated first).
pub fn request_body(
    bytes: Vec<u8>,
    format: BatchFormat,
    inputs: &[InputField],
) -> Result<Vec<u8>, BatchError> {
    let bytes = if bytes.starts_with(&GZIP_MAGIC) {
        // As ingest inflates an upload: bounded, so that a small bomb cannot fill the memory.
        gunzip(&bytes, MAX_INFLATED_BYTES).map_err(|e| BatchError::BadGzip(e.to_string()))?
    } else {
        bytes
    };
    let records = match format {
        BatchFormat::Json => return Ok(bytes),
        BatchFormat::JsonLines => json_lines(&bytes)?,
        BatchFormat::Csv => csv_records(bytes, inputs)?,
    };
    let mut body = Map::new();
    body.insert("records".into(), Value::Array(records));
    Ok(Value::Object(body).to_string().into_bytes())
}

fn json_lines(bytes: &[u8]) -> Result<Vec<Value>, BatchError> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.trim_ascii().is_empty())
        .map(|(i, line)| match serde_json::from_slice::<Value>(line) {
            Ok(record @ Value::Object(_)) => Ok(record),
            Ok(other) => Err(BatchError::BadLine {
                line: i + 1,
                problem: format!("found {other}"),
            }),
            Err(e) => Err(BatchError::BadLine {
                line: i + 1,
                problem: e.to_string(),
            }),
        })
        .collect()
}

/// CSV cells are text: each becomes the JSON value its input field takes when it reads as one, and
/// stays text otherwise, so the request's validation reports it. Empty cells are null; columns
/// the model does not read are left out.
fn csv_records(bytes: Vec<u8>, inputs: &[InputField]) -> Result<Vec<Value>, BatchError> {
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(|e| BatchError::BadCsv(e.to_string()))?;
    let mut records = vec![Map::new(); frame.height()];
    for field in inputs {
        let Ok(column) = frame.column(&field.name) else {
            continue;
        };
        let text = column
            .str()
            .map_err(|e| BatchError::BadCsv(e.to_string()))?;
        for (record, cell) in records.iter_mut().zip(text.iter()) {
            record.insert(field.name.clone(), typed(cell, field));
        }
    }
    Ok(records.into_iter().map(Value::Object).collect())
}

fn typed(cell: Option<&str>, field: &InputField) -> Value {
    let Some(text) = cell.map(str::trim).filter(|t| !t.is_empty()) else {
        return Value::Null;
    };
    let parsed = match field.kind {
        ColumnType::Integer => text.parse::<i64>().ok().map(Value::from).or_else(|| {
            // "3.0" is a whole number too, as CSV writers often print them.
            text.parse::<f64>()
                .ok()
                .filter(|x| x.fract() == 0.0 && x.abs() < 9.0e15)
                .map(|x| Value::from(x as i64))
        }),
        ColumnType::Float => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        ColumnType::Boolean => field.boolean_words.read(text).map(Value::Bool),
        ColumnType::String | ColumnType::Categorical | ColumnType::Datetime | ColumnType::Text => {
            None
        }
    };
    parsed.unwrap_or_else(|| Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Vec<InputField> {
        [
            ("month", ColumnType::Integer),
            ("temp", ColumnType::Float),
            ("origin", ColumnType::Categorical),
            ("holiday", ColumnType::Boolean),
        ]
        .into_iter()
        .map(|(name, kind)| InputField::new(name, kind, true, None))
        .collect()
    }

    fn records(body: Vec<u8>) -> Value {
        serde_json::from_slice::<Value>(&body).expect("JSON")["records"].clone()
    }

    #[test]
    fn csv_cells_take_their_fields_types_and_bad_cells_stay_text_for_validation() {
        let csv = "month,temp,origin,holiday,late\n7,84.2,EWR,true,1\n3.0,,JFK,0,0\nseven,warm,,maybe,1\n";
        let body =
            request_body(csv.as_bytes().to_vec(), BatchFormat::Csv, &inputs()).expect("reads");
        assert_eq!(
            records(body),
            serde_json::json!([
                {"month": 7, "temp": 84.2, "origin": "EWR", "holiday": true},
                {"month": 3, "temp": null, "origin": "JFK", "holiday": false},
                {"month": "seven", "temp": "warm", "origin": null, "holiday": "maybe"},
            ])
        );
    }

    #[test]
    fn json_lines_are_records_and_a_bad_line_is_named() {
        let lines = "{\"month\": 7}\n\n{\"month\": 8}\n";
        let body = request_body(lines.as_bytes().to_vec(), BatchFormat::JsonLines, &inputs())
            .expect("reads");
        assert_eq!(
            records(body),
            serde_json::json!([{"month": 7}, {"month": 8}])
        );
        let bad = "{\"month\": 7}\n[1, 2]\n";
        assert_eq!(
            request_body(bad.as_bytes().to_vec(), BatchFormat::JsonLines, &inputs()),
            Err(BatchError::BadLine {
                line: 2,
                problem: "found [1,2]".into()
            })
        );
    }

    #[test]
    fn a_line_that_is_not_utf8_is_named_not_altered() {
        let mut lines = b"{\"month\": 7}\r\n{\"origin\": \"".to_vec();
        lines.extend([0xff, 0xfe]);
        lines.extend(b"\"}\n");
        match request_body(lines, BatchFormat::JsonLines, &inputs()) {
            Err(BatchError::BadLine { line: 2, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn formats_follow_the_file_name() {
        assert_eq!(
            BatchFormat::of(Path::new("a/b.JSON")),
            Ok(BatchFormat::Json)
        );
        assert_eq!(
            BatchFormat::of(Path::new("b.ndjson")),
            Ok(BatchFormat::JsonLines)
        );
        assert_eq!(BatchFormat::of(Path::new("b.csv")), Ok(BatchFormat::Csv));
        assert_eq!(BatchFormat::of(Path::new("b.csv.gz")), Ok(BatchFormat::Csv));
        assert!(BatchFormat::of(Path::new("b.parquet")).is_err());
        assert!(BatchFormat::of(Path::new("b.gz")).is_err());
    }

    #[test]
    fn a_gzipped_file_is_read_as_its_content_and_a_broken_one_is_refused() {
        use std::io::Write;
        let csv = "month,temp\n7,84.2\n";
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(csv.as_bytes()).expect("in memory");
        let gzipped = gzip.finish().expect("in memory");
        let body = request_body(gzipped.clone(), BatchFormat::Csv, &inputs()).expect("reads");
        assert_eq!(
            records(body),
            serde_json::json!([{"month": 7, "temp": 84.2}])
        );
        let truncated = gzipped[..gzipped.len() / 2].to_vec();
        assert!(matches!(
            request_body(truncated, BatchFormat::Csv, &inputs()),
            Err(BatchError::BadGzip(_))
        ));
    }
}
