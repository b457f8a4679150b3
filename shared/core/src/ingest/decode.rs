//! Bytes of an upload to a data frame: format detection, decompression and the checks that make a
//! broken file fail with a reason a person can act on (not polars' first parse error).

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::sync::Arc;

use polars::prelude::*;
use serde::de::IgnoredAny;

use super::layout::{self, OversizedValue, QuoteFault, QuoteFaultKind, RowWidth};
use super::parquet_metadata::{self, MetadataFault};
use crate::excerpt::cut;
use crate::spec::{ColumnType, DatasetSpec, FileFormat, SourceSection};

/// A JSON Lines value nested deeper than this is refused before polars reads it: a row needs one
/// level, and polars' reader recursed without a bound (deep values aborted the process, or took
/// minutes of CPU).
pub const MAX_JSON_NESTING: usize = 64;

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
    /// Blank lines skipped (CSV).
    pub blank_lines: usize,
    /// Data rows with fewer fields than the header (CSV): polars filled them with nulls, so
    /// validation refuses them as rows, by the policy.
    pub short_rows: Vec<RowWidth>,
}

/// Where a block of text starts in its file, so that its faults name the file's rows, lines and
/// bytes: added to the block's own data rows, lines and byte offsets (a CSV block's text starts
/// with the header again, which [`Origin::csv_block`] takes into account). Zero for a whole file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Origin {
    pub rows: usize,
    pub lines: usize,
    pub bytes: usize,
}

impl Origin {
    /// A CSV block after `rows` data rows, `lines` lines and `bytes` bytes of the file, read with
    /// the header's `header_lines` lines and `header_bytes` bytes in front of it.
    pub fn csv_block(
        rows: usize,
        lines: usize,
        bytes: usize,
        header_lines: usize,
        header_bytes: usize,
    ) -> Self {
        Self {
            rows,
            lines: lines.saturating_sub(header_lines),
            bytes: bytes.saturating_sub(header_bytes),
        }
    }

    /// A data row's number in the file (0 the header, n the n-th data row), from the block's.
    fn record(&self, record: usize) -> usize {
        match record {
            0 => 0,
            n => n + self.rows,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is empty")]
    Empty,
    #[error("the file has a header but no data rows")]
    HeaderOnly,
    #[error("the gzip stream is truncated or corrupt: {0}")]
    BadGzip(String),
    #[error("the content expands to more than {limit} bytes (gzip, or the counts a Parquet file declares), the limit for a file's content; reading stopped there")]
    DecompressedTooLarge { limit: u64 },
    #[error("the lines end with a carriage return alone (old Mac style); save the file with \\n or \\r\\n line endings")]
    CarriageReturnsOnly,
    #[error("the header names {name:?} twice (columns {first} and {second}); every column needs its own name")]
    RepeatedColumn {
        name: String,
        first: usize,
        second: usize,
    },
    #[error("{count} row(s) have more fields than the header's {header}: {examples}")]
    LongRows {
        header: usize,
        count: usize,
        examples: String,
    },
    #[error("{} opens a quoted field that is never closed, so the rest of the file would be one value: close the quote, and write a quote inside a quoted field as \"\"", record_name(*.row))]
    UnclosedQuote { row: usize },
    #[error("{}, field {field}, has a quote inside a field that does not start with one, or after its closing quote: put the whole field in quotes and double each quote inside it (5'10\" becomes \"5'10\"\"\")", record_name(*.row))]
    StrayQuote { row: usize, field: usize },
    #[error("{place} holds a value of {bytes} bytes; values may have at most {limit} (the spec's source.max_value_bytes)")]
    ValueTooLarge {
        /// Where: "row 3, column \"note\"", "line 2", "column \"note\"".
        place: String,
        bytes: usize,
        limit: u64,
    },
    #[error("line {line} nests arrays or objects more than {max} levels deep; a row needs one")]
    TooDeep { line: usize, max: usize },
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
            DecodeError::DecompressedTooLarge { .. } => "decompressed_too_large",
            DecodeError::CarriageReturnsOnly => "line_endings",
            DecodeError::RepeatedColumn { .. } => "repeated_column",
            DecodeError::LongRows { .. } => "unreadable",
            DecodeError::UnclosedQuote { .. } => "unreadable",
            DecodeError::StrayQuote { .. } => "unreadable",
            DecodeError::ValueTooLarge { .. } => "value_too_large",
            DecodeError::TooDeep { .. } => "nesting",
            DecodeError::NotUtf8 { .. } => "encoding",
            DecodeError::WrongDelimiter { .. } => "delimiter",
            DecodeError::Unreadable { .. } => "unreadable",
        }
    }
}

pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
pub const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

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

/// Reads `bytes` (named `file_name`) into a frame: the whole file as one batch of
/// [`blocks::batches`](super::blocks::batches), which reads uploads. CSV columns in `numeric` are
/// parsed as numbers when every value parses; otherwise (and for every other column) they come back
/// as text and are typed by [`super::coerce`], so every bad value can be reported, not just the
/// first. Compressed content stops at `max_bytes`: a small gzip can expand past any memory.
pub fn decode(
    bytes: &[u8],
    file_name: &str,
    source: &SourceSection,
    numeric: &Schema,
    max_bytes: u64,
) -> Result<(DataFrame, Decoded), DecodeError> {
    use super::blocks::{batches, BlockError, Failure, Reading};
    let reading = Reading {
        block_bytes: usize::MAX,
        parquet_rows: usize::MAX,
        ..Reading::new(file_name, source, numeric, max_bytes)
    };
    let mut whole = None;
    let summary = batches(bytes, &reading, |frame, decoded| {
        whole = Some((frame, decoded.short_rows.clone()));
        Ok::<(), std::convert::Infallible>(())
    })
    .map_err(|failure| match failure {
        Failure::Read(BlockError::Decode(e)) => e,
        Failure::Read(BlockError::Io(e)) => DecodeError::Unreadable {
            format: ReadFormat::Csv,
            message: e.to_string(),
        },
        Failure::Each(never) => match never {},
    })?;
    let (frame, short_rows) = whole.ok_or(DecodeError::HeaderOnly)?;
    Ok((
        frame,
        Decoded {
            short_rows,
            ..summary
        },
    ))
}

pub(crate) fn detect(bytes: &[u8], name: &str, declared: FileFormat) -> ReadFormat {
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

pub(crate) fn gunzip(bytes: &[u8], max_bytes: u64) -> Result<Vec<u8>, DecodeError> {
    let room = bytes.len().saturating_mul(4).min(max_bytes as usize);
    let mut out = Vec::with_capacity(room);
    // One byte past the limit tells a content of exactly the limit from a larger one.
    flate2::read::MultiGzDecoder::new(bytes)
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::BadGzip(e.to_string()))?;
    if out.len() as u64 > max_bytes {
        return Err(DecodeError::DecompressedTooLarge { limit: max_bytes });
    }
    Ok(out)
}

pub(crate) fn utf8(bytes: &[u8], origin: Origin) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let line = 1 + bytes[..offset].iter().filter(|b| **b == b'\n').count();
        DecodeError::NotUtf8 {
            line: line + origin.lines,
            offset: offset + origin.bytes,
        }
    })
}

/// One block of a text file's records, the CSV header in front (see [`super::blocks`]), read as
/// [`decode`] reads a whole file, keeping only `columns` (every column without them), with what
/// reading noticed (rows numbered within the block).
pub(crate) fn decode_text_block(
    text: &[u8],
    format: ReadFormat,
    source: &SourceSection,
    numeric: &Schema,
    columns: Option<&[String]>,
    origin: Origin,
) -> Result<(DataFrame, Decoded), DecodeError> {
    let text = utf8(text, origin)?;
    let mut decoded = Decoded {
        format,
        gzipped: false,
        blank_lines: 0,
        short_rows: vec![],
    };
    let frame = match format {
        ReadFormat::Csv => read_csv(text, source, numeric, columns, origin, &mut decoded)?,
        ReadFormat::Jsonl => read_jsonl(text, source.max_value_bytes, origin)?,
        ReadFormat::Parquet => {
            return Err(DecodeError::Unreadable {
                format,
                message: "Parquet is read by row slices, not as text".into(),
            })
        }
    };
    let Some(columns) = columns else {
        return Ok((frame, decoded));
    };
    // In the order asked for (a CSV reader keeps the file's), without those the file lacks.
    let present: Vec<&String> = columns
        .iter()
        .filter(|c| frame.schema().contains(c))
        .collect();
    let frame =
        frame
            .select(present.into_iter().cloned())
            .map_err(|e| DecodeError::Unreadable {
                format,
                message: first_line(&e.to_string()),
            })?;
    Ok((frame, decoded))
}

/// `columns`: only these (each in the header), or every column.
fn read_csv(
    text: &str,
    source: &SourceSection,
    numeric: &Schema,
    columns: Option<&[String]>,
    origin: Origin,
    decoded: &mut Decoded,
) -> Result<DataFrame, DecodeError> {
    let delimiter = source.delimiter;
    let header = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default();
    let separator = u8::try_from(delimiter).unwrap_or(b',');
    if !header.contains(delimiter) {
        let found = [',', ';', '\t', '|']
            .into_iter()
            .filter(|c| *c != delimiter)
            .max_by_key(|c| header.matches(*c).count());
        if let Some(found) = found.filter(|c| header.contains(*c)) {
            return Err(DecodeError::WrongDelimiter {
                header: cut(header, 80).into_owned(),
                found,
                expected: delimiter,
            });
        }
    }
    let max_value_bytes = usize::try_from(source.max_value_bytes).unwrap_or(usize::MAX);
    let layout = layout::survey(text, separator, max_value_bytes);
    if let Some((name, first, second)) = layout.repeated_name() {
        return Err(DecodeError::RepeatedColumn {
            name: cut(name, 80).into_owned(),
            first,
            second,
        });
    }
    // polars would misread the rows after such a quote, or abort on a lone one at the end.
    if let Some(QuoteFault { record, kind }) = layout.quote_fault {
        let row = origin.record(record);
        return Err(match kind {
            QuoteFaultKind::Unclosed => DecodeError::UnclosedQuote { row },
            QuoteFaultKind::Stray { field } => DecodeError::StrayQuote { row, field },
        });
    }
    if let Some(OversizedValue {
        record,
        field,
        bytes,
    }) = layout.oversized_value
    {
        let column = layout.header.get(field - 1).map_or_else(
            || format!("field {field}"),
            |name| format!("column {:?}", cut(name, 80)),
        );
        return Err(DecodeError::ValueTooLarge {
            place: format!("{}, {column},", record_name(origin.record(record))),
            bytes,
            limit: source.max_value_bytes,
        });
    }
    if !layout.long_rows.is_empty() {
        return Err(long_rows(layout.header.len(), &layout.long_rows, origin));
    }
    decoded.blank_lines = layout.blank_lines.len();
    let text = layout.without_blank_lines(text);
    decoded.short_rows = layout.short_rows;
    let read = |numeric: Option<SchemaRef>| {
        CsvReadOptions::default()
            .with_has_header(true)
            // Columns not typed here stay text and are typed per the spec, value by value.
            .with_infer_schema_length(Some(0))
            .with_schema_overwrite(numeric)
            .with_parse_options(CsvParseOptions::default().with_separator(separator))
            .with_raise_if_empty(false)
            .with_rechunk(true)
            .with_columns(columns.map(|names| names.iter().map(|n| n.as_str().into()).collect()))
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

/// The header (0) or a 1-based data row.
fn record_name(row: usize) -> String {
    match row {
        0 => "the header".to_string(),
        row => format!("row {row}"),
    }
}

/// The first rows with too many fields, named by their 1-based data row.
fn long_rows(header: usize, rows: &[RowWidth], origin: Origin) -> DecodeError {
    let examples: Vec<String> = rows
        .iter()
        .take(5)
        .map(|r| format!("row {} has {}", r.row + 1 + origin.rows, r.fields))
        .collect();
    DecodeError::LongRows {
        header,
        count: rows.len(),
        examples: examples.join(", "),
    }
}

fn read_jsonl(text: &str, max_value_bytes: u64, origin: Origin) -> Result<DataFrame, DecodeError> {
    let max_value = usize::try_from(max_value_bytes).unwrap_or(usize::MAX);
    match jsonl_fault(text.as_bytes(), MAX_JSON_NESTING, max_value) {
        Some(JsonlFault::TooDeep { line }) => {
            return Err(DecodeError::TooDeep {
                line: line + origin.lines,
                max: MAX_JSON_NESTING,
            })
        }
        Some(JsonlFault::ValueTooLarge { line, bytes }) => {
            return Err(DecodeError::ValueTooLarge {
                place: format!("line {}", line + origin.lines),
                bytes,
                limit: max_value_bytes,
            })
        }
        None => {}
    }
    JsonReader::new(Cursor::new(text.as_bytes()))
        .with_json_format(JsonFormat::JsonLines)
        .finish()
        .map_err(|e| DecodeError::Unreadable {
            format: ReadFormat::Jsonl,
            message: bad_json_line(text, origin).unwrap_or_else(|| first_line(&e.to_string())),
        })
}

/// What JSON Lines must not hold before polars reads them, with its 1-based line.
#[derive(Debug, PartialEq, Eq)]
enum JsonlFault {
    /// A value nested deeper than the limit.
    TooDeep { line: usize },
    /// A string, number or literal longer than the limit (a string's quotes included).
    ValueTooLarge { line: usize, bytes: usize },
}

/// The first fault of JSON Lines, found in one pass over the bytes without parsing them.
fn jsonl_fault(bytes: &[u8], max_depth: usize, max_value: usize) -> Option<JsonlFault> {
    let (mut line, mut depth) = (1, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    // Where the string, number or literal being read began.
    let mut token_start: Option<usize> = None;
    // A line break after the last byte ends the last token as any line's end does.
    for (at, byte) in bytes.iter().copied().chain([b'\n']).enumerate() {
        // The byte that ends a token: a string's closing quote belongs to it.
        let token_end = match (in_string, escaped, byte) {
            (true, false, b'"') => Some(at + 1),
            (true, _, b'\n') => Some(at),
            (
                false,
                _,
                b'"' | b'[' | b'{' | b']' | b'}' | b'\n' | b',' | b':' | b' ' | b'\t' | b'\r',
            ) => Some(at),
            _ => None,
        };
        if let (Some(end), Some(start)) = (token_end, token_start) {
            if end - start > max_value {
                let bytes = end - start;
                return Some(JsonlFault::ValueTooLarge { line, bytes });
            }
            token_start = None;
        }
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                b'\n' => (line, in_string, depth) = (line + 1, false, 0),
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => (in_string, token_start) = (true, Some(at)),
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return Some(JsonlFault::TooDeep { line });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => (line, depth) = (line + 1, 0),
            b',' | b':' | b' ' | b'\t' | b'\r' => {}
            _ => token_start = token_start.or(Some(at)),
        }
    }
    None
}

/// polars names no line when JSON Lines fail to parse: the first line that is not a JSON object,
/// and why, found again line by line (only once reading has failed).
fn bad_json_line(text: &str, origin: Origin) -> Option<String> {
    text.lines().enumerate().find_map(|(index, line)| {
        if line.trim().is_empty() {
            return None;
        }
        serde_json::from_str::<BTreeMap<String, IgnoredAny>>(line)
            .err()
            .map(|e| format!("line {}: {e}", index + 1 + origin.lines))
    })
}

/// Why Parquet could not be read slice by slice.
pub enum SliceFailure<E> {
    Decode(DecodeError),
    Each(E),
}

/// Calls `each` with a Parquet file's `columns` (or all), `rows` rows at a time: its metadata
/// checked once, each slice checked as it is decoded.
pub(crate) fn parquet_slices<E>(
    bytes: &[u8],
    columns: Option<&[String]>,
    max_value_bytes: u64,
    max_bytes: u64,
    rows: usize,
    mut each: impl FnMut(DataFrame) -> Result<(), E>,
) -> Result<(), SliceFailure<E>> {
    let unreadable = |message: String| {
        SliceFailure::Decode(DecodeError::Unreadable {
            format: ReadFormat::Parquet,
            message,
        })
    };
    // polars reserves memory by the counts the metadata declares: a lying one aborts the process.
    match parquet_metadata::check(bytes, max_bytes) {
        Ok(()) => {}
        Err(MetadataFault::OverLimit { .. }) => {
            return Err(SliceFailure::Decode(DecodeError::DecompressedTooLarge {
                limit: max_bytes,
            }))
        }
        Err(fault) => return Err(unreadable(format!("its metadata is corrupt ({fault})"))),
    }
    let metadata = unwinding(|| {
        ParquetReader::new(Cursor::new(bytes))
            .get_metadata()
            .cloned()
    })
    .map_err(unreadable)?;
    let total = metadata.num_rows;
    let schema =
        unwinding(|| ParquetReader::new(Cursor::new(bytes)).schema()).map_err(unreadable)?;
    // Those of `columns` the file has: the caller says what a missing one means.
    let columns: Option<Vec<String>> = columns.map(|columns| {
        columns
            .iter()
            .filter(|c| schema.contains(c))
            .cloned()
            .collect()
    });
    if columns.as_ref().is_some_and(Vec::is_empty) {
        return each(DataFrame::empty()).map_err(SliceFailure::Each);
    }
    let mut offset = 0;
    loop {
        let frame = unwinding(|| {
            let mut reader = ParquetReader::new(Cursor::new(bytes))
                .with_columns(columns.clone())
                .with_slice(Some((offset, rows)));
            reader.set_metadata(metadata.clone());
            reader.finish()
        })
        .map_err(unreadable)?;
        check_parquet_slice(&frame, max_value_bytes).map_err(SliceFailure::Decode)?;
        let height = frame.height();
        each(frame).map_err(SliceFailure::Each)?;
        offset += height;
        if height == 0 || offset >= total {
            return Ok(());
        }
    }
}

/// What polars trusts a Parquet file for, checked on what it decoded.
fn check_parquet_slice(frame: &DataFrame, max_value_bytes: u64) -> Result<(), DecodeError> {
    // polars trusts the row counts a file declares per column chunk: a file whose columns disagree
    // comes back as a frame whose columns have different lengths, which nothing after can use.
    if let Some(short) = frame.columns().iter().find(|c| c.len() != frame.height()) {
        return Err(DecodeError::Unreadable {
            format: ReadFormat::Parquet,
            message: format!(
                "its metadata is corrupt (column {:?} has {} rows, the file {})",
                cut(short.name(), 80),
                short.len(),
                frame.height()
            ),
        });
    }
    // Compression hides a long value's size until it is read, but the checks after reading would
    // hold it several times over.
    for column in frame.columns() {
        let Ok(texts) = column.str() else { continue };
        let longest = texts.iter().flatten().map(str::len).max().unwrap_or(0);
        if longest as u64 > max_value_bytes {
            return Err(DecodeError::ValueTooLarge {
                place: format!("column {:?}", cut(column.name(), 80)),
                bytes: longest,
                limit: max_value_bytes,
            });
        }
    }
    Ok(())
}

/// Runs a polars Parquet read. polars' footer decoder panics on some corrupt metadata (found by
/// fuzzing, polars 0.55) instead of returning an error: the upload is then unreadable, and the
/// process that must quarantine it lives on. Nothing outside the reader is shared with it, so
/// unwinding leaves no broken state.
fn unwinding<T>(read: impl FnOnce() -> PolarsResult<T>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(first_line(&e.to_string())),
        Err(panic) => {
            let cause = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(first_line(&format!("its metadata is corrupt ({cause})")))
        }
    }
}

fn first_line(message: &str) -> String {
    cut(message.lines().next().unwrap_or_default(), 300).into_owned()
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
