//! Bytes of an upload to a data frame: format detection, decompression and the checks that make a
//! broken file fail with a reason a person can act on (not polars' first parse error).

use std::io::{Cursor, Read};

use polars::prelude::*;

use std::sync::Arc;

use crate::spec::{ColumnType, DatasetSpec, FileFormat, SourceSection};

/// The format a file was read as, recorded in reports and manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadFormat {
    Csv,
    Parquet,
    Jsonl,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub format: ReadFormat,
    pub gzipped: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is empty")]
    Empty,
    #[error("the file has a header but no data rows")]
    HeaderOnly,
    #[error("the gzip stream is truncated or corrupt: {0}")]
    BadGzip(String),
    #[error("the file is not valid UTF-8: invalid bytes at line {line}, byte offset {offset}")]
    NotUtf8 { line: usize, offset: usize },
    #[error("the header has one column {header:?}: the file looks {found:?}-separated, but the spec expects {expected:?}")]
    WrongDelimiter {
        header: String,
        found: char,
        expected: char,
    },
    #[error("the file could not be read as {format:?}: {message}")]
    Unreadable { format: ReadFormat, message: String },
}

impl DecodeError {
    /// The rule name used in validation reports.
    pub fn rule(&self) -> &'static str {
        match self {
            DecodeError::Empty => "empty_file",
            DecodeError::HeaderOnly => "no_data_rows",
            DecodeError::BadGzip(_) => "corrupt_compression",
            DecodeError::NotUtf8 { .. } => "encoding",
            DecodeError::WrongDelimiter { .. } => "delimiter",
            DecodeError::Unreadable { .. } => "unreadable",
        }
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
pub(crate) const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// The declared integer and float columns: a CSV parser can type them directly, which is much faster
/// than reading text and casting.
pub fn numeric_schema(spec: &DatasetSpec) -> Schema {
    spec.columns
        .iter()
        .filter_map(|col| match col.kind {
            ColumnType::Integer => Some(Field::new(col.name.as_str().into(), DataType::Int64)),
            ColumnType::Float => Some(Field::new(col.name.as_str().into(), DataType::Float64)),
            _ => None,
        })
        .collect()
}

/// Reads `bytes` (named `file_name`) into a frame. CSV columns in `numeric` are parsed as numbers when
/// every value parses; otherwise (and for every other column) they come back as text and are typed by
/// [`super::coerce`], so every bad value can be reported, not just the first.
pub fn decode(
    bytes: &[u8],
    file_name: &str,
    source: &SourceSection,
    numeric: &Schema,
) -> Result<(DataFrame, Decoded), DecodeError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty);
    }
    let lower = file_name.to_ascii_lowercase();
    let gzipped = bytes.starts_with(&GZIP_MAGIC);
    let inflated;
    let (bytes, inner_name) = if gzipped {
        inflated = gunzip(bytes)?;
        (
            inflated.as_slice(),
            lower.strip_suffix(".gz").unwrap_or(&lower),
        )
    } else {
        (bytes, lower.as_str())
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty);
    }
    let format = detect(bytes, inner_name, source.format);
    let frame = match format {
        ReadFormat::Parquet => read_parquet(bytes)?,
        ReadFormat::Csv => read_csv(utf8(bytes)?, source.delimiter, numeric)?,
        ReadFormat::Jsonl => read_jsonl(utf8(bytes)?)?,
    };
    if frame.height() == 0 {
        return Err(DecodeError::HeaderOnly);
    }
    Ok((frame, Decoded { format, gzipped }))
}

fn detect(bytes: &[u8], name: &str, declared: FileFormat) -> ReadFormat {
    match declared {
        FileFormat::Csv => return ReadFormat::Csv,
        FileFormat::Parquet => return ReadFormat::Parquet,
        FileFormat::Jsonl => return ReadFormat::Jsonl,
        FileFormat::Auto => {}
    }
    if bytes.starts_with(PARQUET_MAGIC) || name.ends_with(".parquet") || name.ends_with(".pq") {
        ReadFormat::Parquet
    } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".json") {
        ReadFormat::Jsonl
    } else {
        ReadFormat::Csv
    }
}

fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::BadGzip(e.to_string()))?;
    Ok(out)
}

fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let line = 1 + bytes[..offset].iter().filter(|b| **b == b'\n').count();
        DecodeError::NotUtf8 { line, offset }
    })
}

fn read_csv(text: &str, delimiter: char, numeric: &Schema) -> Result<DataFrame, DecodeError> {
    let header = text.lines().next().unwrap_or_default();
    let separator = u8::try_from(delimiter).unwrap_or(b',');
    if !header.contains(delimiter) {
        let found = [',', ';', '\t', '|']
            .into_iter()
            .filter(|c| *c != delimiter)
            .max_by_key(|c| header.matches(*c).count());
        if let Some(found) = found.filter(|c| header.contains(*c)) {
            return Err(DecodeError::WrongDelimiter {
                header: truncate(header, 80),
                found,
                expected: delimiter,
            });
        }
    }
    let read = |numeric: Option<SchemaRef>| {
        CsvReadOptions::default()
            .with_has_header(true)
            // Columns not typed here stay text and are typed per the spec, value by value.
            .with_infer_schema_length(Some(0))
            .with_schema_overwrite(numeric)
            .with_parse_options(CsvParseOptions::default().with_separator(separator))
            .with_raise_if_empty(false)
            .with_rechunk(true)
            .into_reader_with_file_handle(Cursor::new(text.as_bytes()))
            .finish()
    };
    // The fast path fails on the first value that is not a number; the text path then finds them all.
    let typed = if numeric.is_empty() {
        None
    } else {
        read(Some(Arc::new(numeric.clone()))).ok()
    };
    match typed {
        Some(frame) => Ok(frame),
        None => read(None).map_err(|e| DecodeError::Unreadable {
            format: ReadFormat::Csv,
            message: first_line(&e.to_string()),
        }),
    }
}

fn read_jsonl(text: &str) -> Result<DataFrame, DecodeError> {
    JsonReader::new(Cursor::new(text.as_bytes()))
        .with_json_format(JsonFormat::JsonLines)
        .finish()
        .map_err(|e| DecodeError::Unreadable {
            format: ReadFormat::Jsonl,
            message: first_line(&e.to_string()),
        })
}

fn read_parquet(bytes: &[u8]) -> Result<DataFrame, DecodeError> {
    ParquetReader::new(Cursor::new(bytes))
        .finish()
        .map_err(|e| DecodeError::Unreadable {
            format: ReadFormat::Parquet,
            message: first_line(&e.to_string()),
        })
}

fn first_line(message: &str) -> String {
    truncate(message.lines().next().unwrap_or_default(), 300)
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
