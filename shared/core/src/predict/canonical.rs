//! The usual by-name request read without a general JSON parser: `{"records": [...]}` whose every
//! record names every input once, in the same order as the first record, with values of the
//! input's type and nulls only where the model takes them. Clients that serialise one record type
//! send exactly that. Its keys are then known before they are read, so each is compared with the
//! bytes it must be instead of being parsed as a string; most of the request is keys.
//!
//! Anything else, valid or not (other keys or key orders, missing or unknown fields, escapes in a
//! string, a value of the wrong type, too many records, malformed JSON), makes [`read`] give up,
//! and [`super::request::parse`] reads the body in full with its problems. So this reader never
//! judges a request: it only returns the frame the general reader would have built.

use chrono::DateTime;

use crate::artifact::InputField;
use crate::features::{RawColumn, RawFrame, MAX_SAFE_INTEGER};
use crate::spec::ColumnType;

/// The frame of `body` when it has the usual shape; None when the general reader must read it.
/// At most `max_records` records are read; `rows` is the room to make for them.
pub fn read(
    body: &[u8],
    inputs: &[InputField],
    max_records: usize,
    rows: usize,
) -> Option<RawFrame> {
    let mut scan = Scan { body, at: 0 };
    scan.token(b'{')?;
    scan.key(b"records")?;
    scan.token(b'[')?;
    let mut columns: Vec<RawColumn> = inputs
        .iter()
        .map(|field| RawColumn::with_capacity(field.kind, rows))
        .collect();
    let order = scan.first_record(inputs, &mut columns)?;
    let mut count = 1;
    loop {
        if count > max_records {
            return None;
        }
        if scan.token(b',').is_none() {
            break;
        }
        scan.record(inputs, &order, &mut columns)?;
        count += 1;
    }
    scan.token(b']')?;
    scan.token(b'}')?;
    scan.space();
    if scan.at != body.len() {
        return None;
    }
    let mut frame = RawFrame::new(count);
    for (field, column) in inputs.iter().zip(columns) {
        frame.insert(field.name.clone(), column).ok()?;
    }
    Some(frame)
}

/// The powers of ten an f64 holds exactly.
const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A position in the body. Every method returns None where the body departs from the usual shape.
struct Scan<'b> {
    body: &'b [u8],
    at: usize,
}

/// A JSON number: its value, and the integer it is when written without fraction or exponent.
struct Number {
    value: f64,
    integer: Option<i64>,
}

impl<'b> Scan<'b> {
    fn peek(&self) -> Option<u8> {
        self.body.get(self.at).copied()
    }

    /// Skips JSON whitespace.
    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    /// `byte` after any whitespace.
    fn token(&mut self, byte: u8) -> Option<()> {
        self.space();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The key `name` (written without escapes) and its colon.
    fn key(&mut self, name: &[u8]) -> Option<()> {
        self.token(b'"')?;
        let end = self.at + name.len();
        if !same(self.body.get(self.at..end)?, name) || self.body.get(end)? != &b'"' {
            return None;
        }
        self.at = end + 1;
        self.token(b':')
    }

    /// A string without escapes or control characters, as UTF-8, after its opening quote.
    fn string(&mut self) -> Option<&'b str> {
        let rest = self.body.get(self.at..)?;
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        self.at += len + 1;
        std::str::from_utf8(&rest[..len]).ok()
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.body.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// Decimal digits, appended to `mantissa` (which wraps past 19 digits: the count says so);
    /// how many there were.
    fn digits(&mut self, mantissa: &mut u64) -> usize {
        let start = self.at;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            *mantissa = mantissa
                .wrapping_mul(10)
                .wrapping_add(u64::from(digit - b'0'));
            self.at += 1;
        }
        self.at - start
    }

    /// A number in JSON's grammar. Integers of up to 18 digits are read exactly. A decimal of at
    /// most 2^53 scaled by at most 10^22 is one exact division or multiplication, which IEEE
    /// arithmetic rounds correctly (Clinger's fast path, as float parsers take it); any other is
    /// parsed by the standard library. Both are correctly rounded, as sonic-rs is; a negative zero
    /// written as such is zero, as sonic-rs reads it (a negative number too small for an f64 stays
    /// -0.0).
    fn number(&mut self) -> Option<Number> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        self.at += usize::from(negative);
        let mut mantissa = 0u64;
        let whole = match self.peek()? {
            b'0' => {
                self.at += 1;
                1
            }
            b'1'..=b'9' => self.digits(&mut mantissa),
            _ => return None,
        };
        let mut fraction = None;
        if self.peek() == Some(b'.') {
            self.at += 1;
            let count = self.digits(&mut mantissa);
            if count == 0 {
                return None;
            }
            fraction = Some(count);
        }
        let digits_end = self.at;
        let mut exponent = None;
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            let sign = match self.peek() {
                Some(b'-') => -1,
                Some(b'+') => 1,
                _ => 0,
            };
            self.at += usize::from(sign != 0);
            let mut power = 0u64;
            let count = self.digits(&mut power);
            if count == 0 {
                return None;
            }
            let power = if count > 4 { 99_999 } else { power as i32 };
            exponent = Some(if sign < 0 { -power } else { power });
        }
        let signed = |x: f64| if negative && x != 0.0 { -x } else { x };
        if fraction.is_none() && exponent.is_none() {
            if whole > 18 {
                return None;
            }
            let n = if negative {
                -(mantissa as i64)
            } else {
                mantissa as i64
            };
            return Some(Number {
                value: n as f64,
                integer: Some(n),
            });
        }
        let digits = whole + fraction.unwrap_or(0);
        let scale = exponent.unwrap_or(0) - fraction.unwrap_or(0) as i32;
        let value = match POWERS_OF_TEN.get(scale.unsigned_abs() as usize) {
            Some(&power) if digits <= 19 && mantissa <= 1 << 53 => {
                let m = mantissa as f64;
                signed(if scale < 0 { m / power } else { m * power })
            }
            _ => {
                let zero = !self.body[start..digits_end]
                    .iter()
                    .any(|digit| (b'1'..=b'9').contains(digit));
                let value: f64 = std::str::from_utf8(&self.body[start..self.at])
                    .ok()?
                    .parse()
                    .ok()?;
                if zero {
                    0.0
                } else {
                    value
                }
            }
        };
        value.is_finite().then_some(Number {
            value,
            integer: None,
        })
    }

    /// One value of `field`, appended to its column: what the general reader writes for a value of
    /// the field's type, or None for anything it would refuse.
    fn value(&mut self, field: &InputField, column: &mut RawColumn) -> Option<()> {
        self.space();
        match (self.peek()?, column) {
            (b'n', column) if field.nullable => {
                self.literal(b"null")?;
                column.push_null();
            }
            (b't', RawColumn::Boolean(values)) => {
                self.literal(b"true")?;
                values.push(Some(true));
            }
            (b'f', RawColumn::Boolean(values)) => {
                self.literal(b"false")?;
                values.push(Some(false));
            }
            (b'"', RawColumn::Text(values)) => {
                self.at += 1;
                let text = self.string()?;
                // A blank free text or one too long: the general reader says what it makes of it.
                if super::request::text_value(field, text) != super::request::TextValue::Taken {
                    return None;
                }
                values.push(Some(text));
            }
            (b'"', RawColumn::Boolean(values)) => {
                self.at += 1;
                values.push(Some(field.boolean_words.read(self.string()?)?));
            }
            (b'"', RawColumn::Datetime(values)) => {
                self.at += 1;
                let time = DateTime::parse_from_rfc3339(self.string()?).ok()?;
                values.push(Some(time.timestamp_millis()));
            }
            (b'-' | b'0'..=b'9', RawColumn::Numeric(values)) => {
                let number = self.number()?;
                if field.kind == ColumnType::Integer
                    && (number.value.abs() > MAX_SAFE_INTEGER
                        || number.integer.is_none() && number.value.fract() != 0.0)
                {
                    return None;
                }
                values.push(Some(number.value));
            }
            (b'-' | b'0'..=b'9', RawColumn::Datetime(values)) => {
                values.push(Some(self.number()?.integer?));
            }
            _ => return None,
        }
        Some(())
    }

    /// The first record: every input once, in any order, which the other records must keep.
    fn first_record(
        &mut self,
        inputs: &[InputField],
        columns: &mut [RawColumn],
    ) -> Option<Vec<usize>> {
        self.token(b'{')?;
        let mut order: Vec<usize> = Vec::with_capacity(inputs.len());
        loop {
            self.token(b'"')?;
            let name = self.string()?;
            let at = inputs.iter().position(|field| field.name == name)?;
            if order.contains(&at) {
                return None;
            }
            self.token(b':')?;
            self.value(&inputs[at], &mut columns[at])?;
            order.push(at);
            if order.len() == inputs.len() {
                break;
            }
            self.token(b',')?;
        }
        self.token(b'}')?;
        Some(order)
    }

    /// A record after the first: the same keys in the same order.
    fn record(
        &mut self,
        inputs: &[InputField],
        order: &[usize],
        columns: &mut [RawColumn],
    ) -> Option<()> {
        self.token(b'{')?;
        for (position, &at) in order.iter().enumerate() {
            if position > 0 {
                self.token(b',')?;
            }
            self.key(inputs[at].name.as_bytes())?;
            self.value(&inputs[at], &mut columns[at])?;
        }
        self.token(b'}')
    }
}

/// `a == b` for short slices, compared a word at a time: calling memcmp for each key cost more than
/// comparing it.
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word =
        |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or_default());
    let half =
        |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or_default());
    match n {
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => {
            (0..n - 8).step_by(8).all(|at| word(a, at) == word(b, at))
                && word(a, n - 8) == word(b, n - 8)
        }
    }
}

#[cfg(test)]
#[path = "canonical_tests.rs"]
mod tests;
