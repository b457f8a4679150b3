//! A text file (CSV or JSON Lines, optionally gzip) read a bounded block of records at a time, so
//! a file larger than memory is never held whole: decompressed as it is read, cut only where a
//! record ends (a line break outside quotes), and each block decoded as [`decode`] decodes a whole
//! file (the same checks, the header put back in front), keeping only the columns asked for.
//! Parquet is not read here: it is read by row slices from its own metadata.
//!
//! [`decode`]: super::decode::decode

use std::io::{BufRead, BufReader, Read};

use polars::prelude::*;

use super::decode::{self, DecodeError, ReadFormat, GZIP_MAGIC};
use super::layout;
use crate::spec::SourceSection;

/// Text decoded per block: big enough for polars to parse in parallel, small enough that a block
/// and its columns stay a few tens of megabytes.
pub const BLOCK_BYTES: usize = 8 << 20;

/// Why a file could not be read block by block.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("{0}")]
    Decode(DecodeError),
    /// A block's own problem; its row numbers count from the block's first row.
    #[error("in the rows after the first {rows_before}: {error}")]
    InBlock {
        rows_before: usize,
        error: DecodeError,
    },
    #[error("it is Parquet: read it by row slices, not as text")]
    Parquet,
    #[error("it could not be read: {0}")]
    Io(#[from] std::io::Error),
}

/// What happened: the file could not be read, or `each` refused a block.
#[derive(Debug)]
pub enum Failure<E> {
    Read(BlockError),
    Each(E),
}

/// Calls `each` with the file's `columns` (those the header has; the caller says what a missing
/// one means), a block of at least `block_bytes` of text at a time, until the file ends. The
/// decompressed content stops at `max_bytes`, as [`decode`](super::decode::decode)'s does.
#[allow(clippy::too_many_arguments)]
pub fn text_batches<'r, E>(
    reader: impl Read + 'r,
    file_name: &str,
    source: &SourceSection,
    numeric: &Schema,
    columns: &[String],
    max_bytes: u64,
    block_bytes: usize,
    mut each: impl FnMut(DataFrame) -> Result<(), E>,
) -> Result<(), Failure<E>> {
    let read = |e: BlockError| Failure::Read(e);
    let mut input = BufReader::with_capacity(1 << 16, reader);
    let gzipped = input
        .fill_buf()
        .map_err(|e| read(e.into()))?
        .starts_with(&GZIP_MAGIC);
    let lower = file_name.to_ascii_lowercase();
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
        max_bytes,
        gzipped,
        ended: false,
    };
    let mut first = blocks.next(block_bytes).map_err(read)?;
    // Blank lines before the header may fill whole blocks.
    while first.iter().all(u8::is_ascii_whitespace) && !blocks.ended {
        let more = blocks.next(block_bytes).map_err(read)?;
        first.extend_from_slice(&more);
    }
    if first.iter().all(u8::is_ascii_whitespace) {
        return Err(read(BlockError::Decode(DecodeError::Empty)));
    }
    let format = decode::detect(&first, name, source.format);
    if format == ReadFormat::Parquet {
        return Err(read(BlockError::Parquet));
    }
    if memchr::memchr(b'\n', &first).is_none() && memchr::memchr(b'\r', &first).is_some() {
        return Err(read(BlockError::Decode(DecodeError::CarriageReturnsOnly)));
    }
    let separator = u8::try_from(source.delimiter).unwrap_or(b',');
    // CSV: the header line, given again to every block; the columns asked for that it names.
    let (header, wanted) = match format {
        ReadFormat::Csv => {
            let header = header_line(&first);
            let text = decode::utf8(header).map_err(|e| read(BlockError::Decode(e)))?;
            let names = layout::survey(text, separator, usize::MAX).header;
            let wanted: Vec<String> = columns
                .iter()
                .filter(|c| names.contains(c))
                .cloned()
                .collect();
            (header.to_vec(), wanted)
        }
        _ => (Vec::new(), columns.to_vec()),
    };
    if wanted.is_empty() {
        // Nothing to read (polars cannot read no columns): the caller sees a frame without them.
        return each(DataFrame::empty()).map_err(Failure::Each);
    }
    let mut rows_before = 0;
    let mut block = first[header.len()..].to_vec();
    let mut rows_seen = false;
    loop {
        if !block.iter().all(u8::is_ascii_whitespace) {
            let text = [header.as_slice(), &block].concat();
            let frame = decode::decode_text_block(&text, format, source, numeric, &wanted)
                .map_err(|error| {
                    read(match rows_before {
                        0 => BlockError::Decode(error),
                        _ => BlockError::InBlock { rows_before, error },
                    })
                })?;
            rows_before += frame.height();
            rows_seen |= frame.height() > 0;
            each(frame).map_err(Failure::Each)?;
        }
        if blocks.ended {
            break;
        }
        block = blocks.next(block_bytes).map_err(read)?;
    }
    if !rows_seen {
        return Err(read(BlockError::Decode(DecodeError::HeaderOnly)));
    }
    Ok(())
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
    /// At least `size` bytes (unless the file ends first), up to the end of the last whole record.
    fn next(&mut self, size: usize) -> Result<Vec<u8>, BlockError> {
        let mut block = std::mem::take(&mut self.carry);
        let mut scanned = 0;
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
            let got = self
                .input
                .by_ref()
                .take(wanted as u64)
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
