//! An upload read a bounded batch at a time, so a file larger than memory is never decoded
//! whole. Text (CSV or JSON Lines, optionally gzip) is decompressed as it is read, cut only where a
//! record ends (a line break outside quotes), and each block decoded as [`decode`] decodes a whole
//! file (the same checks, the header put back in front, faults named by the file's rows and lines).
//! Parquet is columnar and compressed: its bytes are held, and decoded a slice of rows at a time.
//!
//! [`decode`]: super::decode::decode

use std::io::{BufRead, BufReader, Read};

use polars::prelude::*;

use super::decode::{self, DecodeError, Decoded, Origin, ReadFormat, GZIP_MAGIC};
use super::layout;
use crate::spec::SourceSection;

/// Text decoded per block: big enough for polars to parse in parallel, small enough that a block
/// and its columns stay a few tens of megabytes.
pub const BLOCK_BYTES: usize = 8 << 20;

/// Parquet rows decoded per slice: about a text block's worth of the flights data.
pub const PARQUET_ROWS: usize = 50_000;

/// Why a file could not be read batch by batch.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("{0}")]
    Decode(DecodeError),
    #[error("it could not be read: {0}")]
    Io(#[from] std::io::Error),
}

/// What happened: the file could not be read, or `each` refused a batch.
#[derive(Debug)]
pub enum Failure<E> {
    Read(BlockError),
    Each(E),
}

/// What to read, and how much at a time.
pub struct Reading<'a> {
    pub file_name: &'a str,
    pub source: &'a SourceSection,
    /// The declared numeric columns, parsed as numbers where every value of a block is one.
    pub numeric: &'a Schema,
    /// Only these columns (those the file has: the caller says what a missing one means), or all.
    pub columns: Option<&'a [String]>,
    /// The most the decompressed content may hold, as [`decode`](super::decode::decode)'s.
    pub max_bytes: u64,
    pub block_bytes: usize,
    pub parquet_rows: usize,
}

impl<'a> Reading<'a> {
    /// Every column, in blocks of [`BLOCK_BYTES`] and slices of [`PARQUET_ROWS`].
    pub fn new(
        file_name: &'a str,
        source: &'a SourceSection,
        numeric: &'a Schema,
        max_bytes: u64,
    ) -> Self {
        Self {
            file_name,
            source,
            numeric,
            columns: None,
            max_bytes,
            block_bytes: BLOCK_BYTES,
            parquet_rows: PARQUET_ROWS,
        }
    }
}

/// Calls `each` with the file's rows a batch at a time, in order, each with what reading it
/// noticed (its rows numbered within the batch), until the file ends; returns how it was read.
pub fn batches<'r, E>(
    reader: impl Read + 'r,
    reading: &Reading<'_>,
    mut each: impl FnMut(DataFrame, &Decoded) -> Result<(), E>,
) -> Result<Decoded, Failure<E>> {
    let read = |e: BlockError| Failure::Read(e);
    let fault = |e: DecodeError| Failure::Read(BlockError::Decode(e));
    let source = reading.source;
    let mut input = BufReader::with_capacity(1 << 16, reader);
    let gzipped = input
        .fill_buf()
        .map_err(|e| read(e.into()))?
        .starts_with(&GZIP_MAGIC);
    let lower = reading.file_name.to_ascii_lowercase();
    let (input, name): (Box<dyn BufRead + 'r>, &str) = if gzipped {
        let inflated = flate2::read::MultiGzDecoder::new(input);
        let name = lower.strip_suffix(".gz").unwrap_or(&lower);
        (Box::new(BufReader::with_capacity(1 << 16, inflated)), name)
    } else {
        (Box::new(input), &lower)
    };
    let mut blocks = Blocks {
        input,
        carry: Vec::new(),
        read: 0,
        max_bytes: reading.max_bytes,
        gzipped,
        ended: false,
    };
    let block_bytes = reading.block_bytes;
    let mut first = blocks.next(block_bytes).map_err(read)?;
    // Blank lines before the header may fill whole blocks.
    while first.iter().all(u8::is_ascii_whitespace) && !blocks.ended {
        let more = blocks.next(block_bytes).map_err(read)?;
        first.extend_from_slice(&more);
    }
    if first.iter().all(u8::is_ascii_whitespace) {
        return Err(fault(DecodeError::Empty));
    }
    let format = decode::detect(&first, name, source.format);
    let mut summary = Decoded {
        format,
        gzipped,
        blank_lines: 0,
        short_rows: vec![],
    };
    if format == ReadFormat::Parquet {
        let bytes = blocks.rest(first).map_err(read)?;
        let mut rows = 0;
        decode::parquet_slices(
            &bytes,
            reading.columns,
            source.max_value_bytes,
            reading.max_bytes,
            reading.parquet_rows,
            |frame| {
                rows += frame.height();
                each(frame, &summary)
            },
        )
        .map_err(|e| match e {
            decode::SliceFailure::Decode(e) => fault(e),
            decode::SliceFailure::Each(e) => Failure::Each(e),
        })?;
        return match rows {
            0 => Err(fault(DecodeError::HeaderOnly)),
            _ => Ok(summary),
        };
    }
    if memchr::memchr(b'\n', &first).is_none() && memchr::memchr(b'\r', &first).is_some() {
        return Err(fault(DecodeError::CarriageReturnsOnly));
    }
    let separator = u8::try_from(source.delimiter).unwrap_or(b',');
    // CSV: the header (after any blank lines), given again to every later block.
    let (lead, header, wanted) = match format {
        ReadFormat::Csv => {
            let lead = header_line(&first);
            let start = lead[..lead.len() - 1]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |nl| nl + 1);
            let header = &lead[start.min(lead.len())..];
            let text = decode::utf8(header, Origin::default()).map_err(fault)?;
            let names = layout::survey(text, separator, usize::MAX).header;
            let wanted: Option<Vec<String>> = reading.columns.map(|columns| {
                columns
                    .iter()
                    .filter(|c| names.contains(c))
                    .cloned()
                    .collect()
            });
            (lead.to_vec(), header.to_vec(), wanted)
        }
        _ => (
            Vec::new(),
            Vec::new(),
            reading.columns.map(<[String]>::to_vec),
        ),
    };
    if wanted.as_ref().is_some_and(Vec::is_empty) {
        // Nothing to read (polars cannot read no columns): the caller sees a frame without them.
        each(DataFrame::empty(), &summary).map_err(Failure::Each)?;
        return Ok(summary);
    }
    let lines_in = |text: &[u8]| memchr::memchr_iter(b'\n', text).count();
    let (mut rows_before, mut lines_before, mut bytes_before) = (0, lines_in(&lead), lead.len());
    // Each block's text: what goes in front of it (the lead, then the header), then its records.
    let (mut text, mut front) = (first, lead.len());
    loop {
        let block = &text[front..];
        let (lines, bytes) = (lines_in(block), block.len());
        let rows = if block.iter().all(u8::is_ascii_whitespace) {
            // Blank lines only: counted as the reader would have skipped them, decoded as nothing.
            summary.blank_lines += blank_lines(block);
            if front > header.len() {
                // The blank lines before the header, which the first block would have counted.
                summary.blank_lines += lines_in(&text[..front - header.len()]);
            }
            None
        } else {
            let origin = match format {
                ReadFormat::Csv => Origin::csv_block(
                    rows_before,
                    lines_before,
                    bytes_before,
                    lines_in(&text[..front]),
                    front,
                ),
                _ => Origin {
                    rows: rows_before,
                    lines: lines_before,
                    bytes: bytes_before,
                },
            };
            let decoded = decode::decode_text_block(
                &text,
                format,
                source,
                reading.numeric,
                wanted.as_deref(),
                origin,
            )
            .map_err(fault)?;
            Some(decoded)
        };
        // The text is not needed once decoded: freed before its rows are checked.
        drop(std::mem::take(&mut text));
        if let Some((frame, decoded)) = rows {
            rows_before += frame.height();
            summary.blank_lines += decoded.blank_lines;
            each(frame, &decoded).map_err(Failure::Each)?;
        }
        lines_before += lines;
        bytes_before += bytes;
        if blocks.ended {
            break;
        }
        text = blocks.next_after(&header, block_bytes).map_err(read)?;
        front = header.len();
    }
    if rows_before == 0 {
        return Err(fault(DecodeError::HeaderOnly));
    }
    Ok(summary)
}

/// The lines of a text of whitespace only.
fn blank_lines(text: &[u8]) -> usize {
    let lines = memchr::memchr_iter(b'\n', text).count();
    lines + usize::from(!text.is_empty() && !text.ends_with(b"\n"))
}

/// The first line of `text` with its line break (the whole text when it has none).
fn header_line(text: &[u8]) -> &[u8] {
    // Blank lines before the header are skipped, as the whole-file reader skips them.
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(0, |at| {
            text[..at]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |nl| nl + 1)
        });
    let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |at| start + at + 1);
    &text[..end]
}

/// The decompressed text, handed out in blocks that each end where a record ends.
struct Blocks<'r> {
    input: Box<dyn BufRead + 'r>,
    /// Read past the last block's end: the start of the next record.
    carry: Vec<u8>,
    read: u64,
    max_bytes: u64,
    gzipped: bool,
    ended: bool,
}

impl Blocks<'_> {
    /// `first` and the rest of the content, whole.
    fn rest(mut self, mut first: Vec<u8>) -> Result<Vec<u8>, BlockError> {
        first.append(&mut self.carry);
        loop {
            let more = self.next(1 << 20)?;
            first.extend_from_slice(&more);
            if self.ended {
                return Ok(first);
            }
        }
    }

    /// At least `size` bytes (unless the file ends first), up to the end of the last whole record.
    fn next(&mut self, size: usize) -> Result<Vec<u8>, BlockError> {
        self.next_after(&[], size)
    }

    /// `front`, then the next block (as [`Blocks::next`]), in one buffer: a CSV block with its
    /// header in front, never copied again.
    fn next_after(&mut self, front: &[u8], size: usize) -> Result<Vec<u8>, BlockError> {
        let mut block = Vec::with_capacity(front.len() + size.min(BLOCK_BYTES) + (1 << 16));
        block.extend_from_slice(front);
        block.append(&mut self.carry);
        let size = size.saturating_add(front.len());
        let mut scanned = front.len();
        let mut quoted = false;
        loop {
            if block.len() >= size {
                if let Some(end) = record_end(&block, &mut scanned, &mut quoted) {
                    self.carry = block.split_off(end);
                    return Ok(block);
                }
            }
            let before = block.len();
            // Up to the size, then on in steps until a record ends.
            let wanted = size.saturating_sub(before).max(size.min(1 << 16)).max(1);
            // Never more than one byte past the limit: a small gzip can expand past any memory.
            let room = self.max_bytes.saturating_sub(self.read).saturating_add(1);
            let wanted = (wanted as u64).min(room);
            let got = self
                .input
                .by_ref()
                .take(wanted)
                .read_to_end(&mut block)
                .map_err(|e| match self.gzipped {
                    true => BlockError::Decode(DecodeError::BadGzip(e.to_string())),
                    false => BlockError::Io(e),
                })?;
            self.read += got as u64;
            if self.read > self.max_bytes {
                return Err(BlockError::Decode(DecodeError::DecompressedTooLarge {
                    limit: self.max_bytes,
                }));
            }
            if got == 0 {
                self.ended = true;
                return Ok(block);
            }
        }
    }
}

/// Just past the last line break of `text` outside quotes, scanning on from `scanned` with the
/// quote state `quoted` there (both kept for the next call on the same, longer text). A doubled
/// quote inside a quoted field toggles twice, so only the fields' own quotes count.
fn record_end(text: &[u8], scanned: &mut usize, quoted: &mut bool) -> Option<usize> {
    let mut last = None;
    for at in memchr::memchr2_iter(b'"', b'\n', &text[*scanned..]).map(|at| at + *scanned) {
        match text[at] {
            b'"' => *quoted = !*quoted,
            _ if !*quoted => last = Some(at + 1),
            _ => {}
        }
    }
    *scanned = text.len();
    last
}

#[cfg(test)]
#[path = "blocks_tests.rs"]
mod tests;
