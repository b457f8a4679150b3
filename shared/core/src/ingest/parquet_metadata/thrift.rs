//! A reader of Thrift's compact protocol that keeps only what the checks need (integers, and the
//! shape around them) and holds each known field to the type Parquet gives it.

use super::definitions::{Field, Shape};
use super::MetadataFault;

/// Far deeper than Parquet's own metadata nests (about six levels).
pub const MAX_DEPTH: usize = 32;

/// A Thrift value, kept only as far as the checks need.
#[derive(Debug)]
pub enum Thrift {
    Int(i64),
    Struct(Vec<(i16, Thrift)>),
    List(Vec<Thrift>),
    Other,
}

impl Thrift {
    pub fn field(&self, id: i16) -> Option<&Thrift> {
        match self {
            Thrift::Struct(fields) => fields.iter().find(|(f, _)| *f == id).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn int(&self, id: i16) -> Option<i64> {
        match self.field(id) {
            Some(Thrift::Int(value)) => Some(*value),
            _ => None,
        }
    }

    pub fn list(&self, id: i16) -> &[Thrift] {
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

impl Shape {
    /// Whether a value declared with Thrift type `kind` is what this shape reads.
    fn declared_as(self, kind: u8) -> bool {
        match self {
            Shape::Bool => kind == BOOL_TRUE || kind == BOOL_FALSE,
            Shape::Byte => kind == BYTE,
            Shape::I16 => kind == I16,
            Shape::I32 => kind == I32,
            Shape::I64 => kind == I64,
            Shape::Binary => kind == BINARY,
            Shape::List(_) => kind == LIST,
            Shape::Struct(_) => kind == STRUCT,
        }
    }
}

/// The type a value must have where one is known, and the field to name if it has another.
type Expected = Option<(Shape, &'static str)>;

pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// A structure with `fields`, and the number of bytes it took.
    pub fn read_struct(
        mut self,
        fields: &'static [Field],
    ) -> Result<(Thrift, usize), MetadataFault> {
        let value = self.read_fields(fields, 0)?;
        Ok((value, self.at))
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

    /// A value declared with Thrift type `kind`, which must be `expected` where that is known.
    fn value(
        &mut self,
        kind: u8,
        expected: Expected,
        depth: usize,
    ) -> Result<Thrift, MetadataFault> {
        if let Some((shape, name)) = expected {
            if !shape.declared_as(kind) {
                return Err(MetadataFault::WrongType { field: name });
            }
        }
        match kind {
            BOOL_TRUE | BOOL_FALSE => Ok(Thrift::Other),
            BYTE => Ok(Thrift::Int(i64::from(self.byte()? as i8))),
            I16 | I32 | I64 => {
                let value = self.signed()?;
                Ok(Thrift::Int(match expected {
                    Some((Shape::I32, _)) => i64::from(value as i32),
                    _ => value,
                }))
            }
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
                let element = match expected {
                    Some((Shape::List(element), name)) => Some((*element, name)),
                    _ => None,
                };
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push(self.element(header & 0x0f, element, depth)?);
                }
                Ok(Thrift::List(items))
            }
            MAP => {
                let declared = self.varint()?;
                let count = self.entries(declared)?;
                if count > 0 {
                    let types = self.byte()?;
                    for _ in 0..count {
                        self.element(types >> 4, None, depth)?;
                        self.element(types & 0x0f, None, depth)?;
                    }
                }
                Ok(Thrift::Other)
            }
            STRUCT => match expected {
                Some((Shape::Struct(fields), _)) => self.read_fields(fields, depth + 1),
                _ => self.read_fields(&[], depth + 1),
            },
            other => Err(MetadataFault::UnknownType(other)),
        }
    }

    /// An entry of a list, set or map.
    fn element(
        &mut self,
        kind: u8,
        expected: Expected,
        depth: usize,
    ) -> Result<Thrift, MetadataFault> {
        match kind {
            // polars' footer reader skips a boolean entry as no bytes, its page reader as one.
            // Parquet's metadata has no list of booleans, so a file holding one is refused
            // rather than read one way here and another there.
            BOOL_TRUE | BOOL_FALSE => Err(MetadataFault::BooleanList),
            kind => self.value(kind, expected, depth + 1),
        }
    }

    /// The fields of a structure, up to its stop byte. `fields` are the ones Parquet defines;
    /// others are read by their declared type, as polars skips them.
    fn read_fields(
        &mut self,
        fields: &'static [Field],
        depth: usize,
    ) -> Result<Thrift, MetadataFault> {
        if depth >= MAX_DEPTH {
            return Err(MetadataFault::TooDeep);
        }
        let mut values: Vec<(i16, Thrift)> = Vec::new();
        let mut id: i16 = 0;
        loop {
            let header = self.byte()?;
            let kind = header & 0x0f;
            if kind == 0 {
                return Ok(Thrift::Struct(values));
            }
            // A field id delta of 0 means the id follows in full.
            id = match header >> 4 {
                0 => self.signed()? as i16,
                delta => id.wrapping_add(i16::from(delta)),
            };
            let known = fields.iter().find(|field| field.id == id);
            if let Some(field) = known {
                // polars keeps the last of a repeated field; the checks would see the first.
                if values.iter().any(|(seen, _)| *seen == id) {
                    return Err(MetadataFault::Repeated { field: field.name });
                }
            }
            let value = self.value(kind, known.map(|f| (f.shape, f.name)), depth)?;
            values.push((id, value));
        }
    }
}
