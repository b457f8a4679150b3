//! A Parquet footer checked before polars reads it. The footer is a Thrift (compact protocol)
//! structure, and polars 0.55 reserves memory for each list by the length the list declares: a
//! 1 KB file declaring a list of billions of entries made it ask for 50 GB and abort the process
//! (found by fuzzing), which no `catch_unwind` can stop. Every value takes at least one byte, so a
//! list longer than the bytes left after it, or a string longer than them, is a corrupt footer.
//! The walk reads the structure without building it, in time bounded by the footer's length.

/// Why a footer is corrupt, for the report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FooterFault {
    #[error("the footer's length points outside the file")]
    OutOfFile,
    #[error("the footer ends inside a value")]
    Truncated,
    #[error(
        "a list in the footer declares {declared} entries, more than its {left} bytes can hold"
    )]
    ListTooLong { declared: u64, left: usize },
    #[error("a string in the footer declares {declared} bytes, but {left} are left")]
    StringTooLong { declared: u64, left: usize },
    #[error("the footer nests structures more than {MAX_DEPTH} deep")]
    TooDeep,
    #[error("the footer holds a value of unknown Thrift type {0}")]
    UnknownType(u8),
}

/// Far deeper than Parquet's own metadata nests (about six levels).
const MAX_DEPTH: usize = 32;

/// Checks the footer of `file`, a whole Parquet file (`PAR1` at both ends was not checked: polars
/// reports a file without them clearly).
pub fn check(file: &[u8]) -> Result<(), FooterFault> {
    let Some(end) = file.len().checked_sub(8) else {
        return Ok(());
    };
    let mut length = [0u8; 4];
    length.copy_from_slice(&file[end..end + 4]);
    let length = u32::from_le_bytes(length) as usize;
    let start = end.checked_sub(length).ok_or(FooterFault::OutOfFile)?;
    let mut walk = Walk {
        bytes: &file[start..end],
        at: 0,
    };
    walk.value(STRUCT, 0)
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

struct Walk<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Walk<'_> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn byte(&mut self) -> Result<u8, FooterFault> {
        let byte = *self.bytes.get(self.at).ok_or(FooterFault::Truncated)?;
        self.at += 1;
        Ok(byte)
    }

    fn skip(&mut self, count: usize) -> Result<(), FooterFault> {
        if count > self.left() {
            return Err(FooterFault::Truncated);
        }
        self.at += count;
        Ok(())
    }

    /// An unsigned LEB128 varint (the compact protocol's integers, zigzag or not).
    fn varint(&mut self) -> Result<u64, FooterFault> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(FooterFault::Truncated)
    }

    /// A count of entries, each of which takes at least one byte.
    fn entries(&mut self, declared: u64) -> Result<usize, FooterFault> {
        let left = self.left();
        match usize::try_from(declared) {
            Ok(count) if count <= left => Ok(count),
            _ => Err(FooterFault::ListTooLong { declared, left }),
        }
    }

    fn value(&mut self, kind: u8, depth: usize) -> Result<(), FooterFault> {
        match kind {
            BOOL_TRUE | BOOL_FALSE => Ok(()),
            BYTE => self.skip(1),
            I16 | I32 | I64 => self.varint().map(drop),
            DOUBLE => self.skip(8),
            UUID => self.skip(16),
            BINARY => {
                let declared = self.varint()?;
                let left = self.left();
                match usize::try_from(declared) {
                    Ok(length) if length <= left => self.skip(length),
                    _ => Err(FooterFault::StringTooLong { declared, left }),
                }
            }
            LIST | SET => {
                let header = self.byte()?;
                let short = u64::from(header >> 4);
                let declared = if short == 15 { self.varint()? } else { short };
                let count = self.entries(declared)?;
                let element = header & 0x0f;
                for _ in 0..count {
                    self.element(element, depth)?;
                }
                Ok(())
            }
            MAP => {
                let declared = self.varint()?;
                let count = self.entries(declared)?;
                if count == 0 {
                    return Ok(());
                }
                let types = self.byte()?;
                for _ in 0..count {
                    self.element(types >> 4, depth)?;
                    self.element(types & 0x0f, depth)?;
                }
                Ok(())
            }
            STRUCT => {
                if depth >= MAX_DEPTH {
                    return Err(FooterFault::TooDeep);
                }
                loop {
                    let header = self.byte()?;
                    let kind = header & 0x0f;
                    if kind == 0 {
                        return Ok(());
                    }
                    // A field id delta of 0 means the id follows in full.
                    if header >> 4 == 0 {
                        self.varint()?;
                    }
                    self.value(kind, depth + 1)?;
                }
            }
            other => Err(FooterFault::UnknownType(other)),
        }
    }

    /// An entry of a list, set or map: booleans there take a byte each.
    fn element(&mut self, kind: u8, depth: usize) -> Result<(), FooterFault> {
        match kind {
            BOOL_TRUE | BOOL_FALSE => self.skip(1),
            kind => self.value(kind, depth + 1),
        }
    }
}

#[cfg(test)]
#[path = "parquet_footer_tests.rs"]
mod tests;
