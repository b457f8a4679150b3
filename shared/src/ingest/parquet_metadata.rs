//! A Parquet file's metadata checked before polars reads it. polars 0.55 reserves memory by the
//! counts a file declares: a 1 KB file whose footer declared a list of billions of entries made it
//! ask for 50 GB, and a page header declaring an impossible value count made it ask for 2 EB
//! (both found by fuzzing). A failed allocation aborts the process, which no `catch_unwind` stops.
//!
//! The footer and every page header are Thrift (compact protocol) structures. Each value takes at
//! least one byte, so a list or string longer than the bytes left after it is corrupt; a count of
//! values or rows beyond the content limit could not be held in memory once read. Reading is
//! bounded by the metadata's own length.

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
    #[error("a column chunk or page lies outside its bounds")]
    OutOfBounds,
    #[error("a {what} of {count} is negative")]
    Negative { what: &'static str, count: i64 },
    /// More values or bytes than the content limit: the file is a decompression bomb, or lies.
    #[error("a {what} of {count} is more than the content limit")]
    OverLimit { what: &'static str, count: i64 },
}

/// Far deeper than Parquet's own metadata nests (about six levels).
const MAX_DEPTH: usize = 32;

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
    let footer = Reader::new(&file[footer_start..end]).read_struct(0)?.0;
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
    let start = match meta.int(11) {
        Some(dictionary) if dictionary > 0 => dictionary,
        _ => meta.int(9).unwrap_or(0),
    };
    let size = meta.int(7).unwrap_or(0);
    let (start, end) = match (usize::try_from(start), usize::try_from(size)) {
        (Ok(start), Ok(size)) if start.saturating_add(size) <= footer_start => {
            (start, start + size)
        }
        _ => return Err(MetadataFault::OutOfBounds),
    };
    let mut at = start;
    while at < end {
        let (header, header_length) = Reader::new(&file[at..end]).read_struct(0)?;
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

/// A Thrift value, kept only as far as the checks need: integers, and the shape around them.
#[derive(Debug)]
enum Thrift {
    Int(i64),
    Struct(Vec<(i16, Thrift)>),
    List(Vec<Thrift>),
    Other,
}

impl Thrift {
    fn field(&self, id: i16) -> Option<&Thrift> {
        match self {
            Thrift::Struct(fields) => fields.iter().find(|(f, _)| *f == id).map(|(_, v)| v),
            _ => None,
        }
    }

    fn int(&self, id: i16) -> Option<i64> {
        match self.field(id) {
            Some(Thrift::Int(value)) => Some(*value),
            _ => None,
        }
    }

    fn list(&self, id: i16) -> &[Thrift] {
        match self.field(id) {
            Some(Thrift::List(items)) => items,
            _ => &[],
        }
    }
}

const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;
const UUID: u8 = 13;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn byte(&mut self) -> Result<u8, MetadataFault> {
        let byte = *self.bytes.get(self.at).ok_or(MetadataFault::Truncated)?;
        self.at += 1;
        Ok(byte)
    }

    fn skip(&mut self, count: usize) -> Result<(), MetadataFault> {
        if count > self.left() {
            return Err(MetadataFault::Truncated);
        }
        self.at += count;
        Ok(())
    }

    /// An unsigned LEB128 varint.
    fn varint(&mut self) -> Result<u64, MetadataFault> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(MetadataFault::Truncated)
    }

    /// A zigzag varint: the compact protocol's signed integers.
    fn signed(&mut self) -> Result<i64, MetadataFault> {
        let raw = self.varint()?;
        Ok((raw >> 1) as i64 ^ -((raw & 1) as i64))
    }

    /// A count of entries, each of which takes at least one byte.
    fn entries(&mut self, declared: u64) -> Result<usize, MetadataFault> {
        let left = self.left();
        match usize::try_from(declared) {
            Ok(count) if count <= left => Ok(count),
            _ => Err(MetadataFault::ListTooLong { declared, left }),
        }
    }

    /// A struct, and the number of bytes it took.
    fn read_struct(mut self, depth: usize) -> Result<(Thrift, usize), MetadataFault> {
        let value = self.value(STRUCT, depth)?;
        Ok((value, self.at))
    }

    fn value(&mut self, kind: u8, depth: usize) -> Result<Thrift, MetadataFault> {
        match kind {
            BOOL_TRUE | BOOL_FALSE => Ok(Thrift::Other),
            BYTE => Ok(Thrift::Int(i64::from(self.byte()? as i8))),
            I16 | I32 | I64 => Ok(Thrift::Int(self.signed()?)),
            DOUBLE => self.skip(8).map(|()| Thrift::Other),
            UUID => self.skip(16).map(|()| Thrift::Other),
            BINARY => {
                let declared = self.varint()?;
                let left = self.left();
                match usize::try_from(declared) {
                    Ok(length) if length <= left => self.skip(length).map(|()| Thrift::Other),
                    _ => Err(MetadataFault::StringTooLong { declared, left }),
                }
            }
            LIST | SET => {
                let header = self.byte()?;
                let short = u64::from(header >> 4);
                let declared = if short == 15 { self.varint()? } else { short };
                let count = self.entries(declared)?;
                let element = header & 0x0f;
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push(self.element(element, depth)?);
                }
                Ok(Thrift::List(items))
            }
            MAP => {
                let declared = self.varint()?;
                let count = self.entries(declared)?;
                if count > 0 {
                    let types = self.byte()?;
                    for _ in 0..count {
                        self.element(types >> 4, depth)?;
                        self.element(types & 0x0f, depth)?;
                    }
                }
                Ok(Thrift::Other)
            }
            STRUCT => {
                if depth >= MAX_DEPTH {
                    return Err(MetadataFault::TooDeep);
                }
                let mut fields = Vec::new();
                let mut id: i16 = 0;
                loop {
                    let header = self.byte()?;
                    let kind = header & 0x0f;
                    if kind == 0 {
                        return Ok(Thrift::Struct(fields));
                    }
                    // A field id delta of 0 means the id follows in full.
                    id = match header >> 4 {
                        0 => self.signed()? as i16,
                        delta => id.wrapping_add(i16::from(delta)),
                    };
                    let value = self.value(kind, depth + 1)?;
                    fields.push((id, value));
                }
            }
            other => Err(MetadataFault::UnknownType(other)),
        }
    }

    /// An entry of a list, set or map: booleans there take a byte each.
    fn element(&mut self, kind: u8, depth: usize) -> Result<Thrift, MetadataFault> {
        match kind {
            BOOL_TRUE | BOOL_FALSE => self.skip(1).map(|()| Thrift::Other),
            kind => self.value(kind, depth + 1),
        }
    }
}

#[cfg(test)]
#[path = "parquet_metadata_tests.rs"]
mod tests;
