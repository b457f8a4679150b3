//! A Parquet file's metadata checked before polars reads it. polars 0.55 reserves memory by the
//! counts a file declares: a 1 KB file whose footer declared a list of billions of entries made it
//! ask for 50 GB, and a page header declaring an impossible value count made it ask for 2 EB
//! (both found by fuzzing). A failed allocation aborts the process, which no `catch_unwind` stops.
//!
//! The footer and every page header are Thrift (compact protocol) structures. Each value takes at
//! least one byte, so a list or string longer than the bytes left after it is corrupt; a count of
//! values or rows beyond the content limit could not be held in memory once read. Reading is
//! bounded by the metadata's own length.
//!
//! polars reads the fields it knows by their id, as the type Parquet gives them, whatever type
//! the file declares: a file that lies about a type (found by fuzzing) is read here as polars
//! reads it, or refused (see `definitions`).

mod definitions;
mod thrift;

use definitions::{FILE_METADATA, PAGE_HEADER};
use thrift::{Reader, Thrift, MAX_DEPTH};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataFault {
    #[error("the footer's length points outside the file")]
    FooterOutOfFile,
    #[error("its metadata ends inside a value")]
    Truncated,
    #[error("a list declares {declared} entries, more than its {left} bytes can hold")]
    ListTooLong { declared: u64, left: usize },
    #[error("a string declares {declared} bytes, but {left} are left")]
    StringTooLong { declared: u64, left: usize },
    #[error("its metadata nests structures more than {MAX_DEPTH} deep")]
    TooDeep,
    #[error("its metadata holds a value of unknown Thrift type {0}")]
    UnknownType(u8),
    #[error("its metadata declares {field} with a type other than Parquet's")]
    WrongType { field: &'static str },
    #[error("its metadata gives {field} twice")]
    Repeated { field: &'static str },
    #[error("its metadata holds a list of booleans, which Parquet's never does")]
    BooleanList,
    #[error("a column chunk or page lies outside its bounds")]
    OutOfBounds,
    #[error("a {what} of {count} is negative")]
    Negative { what: &'static str, count: i64 },
    /// More values or bytes than the content limit: the file is a decompression bomb, or lies.
    #[error("a {what} of {count} is more than the content limit")]
    OverLimit { what: &'static str, count: i64 },
}

/// Checks the footer of `file`, a whole Parquet file, and the header of every page it points at,
/// against `max_bytes`, the most content a file may unfold into. A file too short to have a
/// footer is left to polars, which says so.
pub fn check(file: &[u8], max_bytes: u64) -> Result<(), MetadataFault> {
    let Some(end) = file.len().checked_sub(8) else {
        return Ok(());
    };
    let mut length = [0u8; 4];
    length.copy_from_slice(&file[end..end + 4]);
    let footer_start = end
        .checked_sub(u32::from_le_bytes(length) as usize)
        .ok_or(MetadataFault::FooterOutOfFile)?;
    let footer = Reader::new(&file[footer_start..end])
        .read_struct(FILE_METADATA)?
        .0;
    let limit = i64::try_from(max_bytes).unwrap_or(i64::MAX);
    // FileMetaData: 4 row_groups. RowGroup: 1 columns, 3 num_rows.
    for group in footer.list(4) {
        bounded("row count", group.int(3), limit)?;
        for chunk in group.list(1) {
            // ColumnChunk: 3 meta_data, absent when the chunk lives in another file (polars
            // refuses those itself).
            if let Some(meta) = chunk.field(3) {
                check_pages(file, footer_start, meta, limit)?;
            }
        }
    }
    Ok(())
}

/// The page headers of one column chunk. ColumnMetaData: 5 num_values, 7 total_compressed_size,
/// 9 data_page_offset, 11 dictionary_page_offset.
fn check_pages(
    file: &[u8],
    footer_start: usize,
    meta: &Thrift,
    limit: i64,
) -> Result<(), MetadataFault> {
    bounded("value count", meta.int(5), limit)?;
    // polars starts at the dictionary page whenever the offset is given, whatever its value.
    let start = meta.int(11).or(meta.int(9)).unwrap_or(0);
    let size = meta.int(7).unwrap_or(0);
    let (start, end) = match (usize::try_from(start), usize::try_from(size)) {
        (Ok(start), Ok(size)) if start.saturating_add(size) <= footer_start => {
            (start, start + size)
        }
        _ => return Err(MetadataFault::OutOfBounds),
    };
    let mut at = start;
    while at < end {
        let (header, header_length) = Reader::new(&file[at..end]).read_struct(PAGE_HEADER)?;
        // PageHeader: 2 uncompressed_page_size, 3 compressed_page_size, 5/7/8 the data,
        // dictionary and data v2 headers, each with 1 num_values.
        bounded("page size", header.int(2), limit)?;
        let compressed = bounded("page size", header.int(3), limit)?;
        for kind in [5, 7, 8] {
            if let Some(page) = header.field(kind) {
                bounded("page value count", page.int(1), limit)?;
            }
        }
        at = at
            .checked_add(header_length)
            .and_then(|at| at.checked_add(compressed as usize))
            .filter(|next| *next <= end)
            .ok_or(MetadataFault::OutOfBounds)?;
    }
    Ok(())
}

/// A declared count, which must lie between 0 and the limit (a missing one counts as 0).
fn bounded(what: &'static str, count: Option<i64>, limit: i64) -> Result<i64, MetadataFault> {
    match count.unwrap_or(0) {
        count if count < 0 => Err(MetadataFault::Negative { what, count }),
        count if count > limit => Err(MetadataFault::OverLimit { what, count }),
        count => Ok(count),
    }
}

#[cfg(test)]
mod tests;
