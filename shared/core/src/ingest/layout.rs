//! The record structure of a CSV text, surveyed before polars parses it. polars reads a blank line
//! as a row of nulls, pads a row with too few fields with nulls, renames a repeated header name
//! (`hour_duplicated_0`) and names no row when one has too many fields: each of those would be
//! reported wrongly or not at all. The survey finds them, quote-aware, in one pass, and the first
//! value too large to read: a single 200 MB cell once took polars and the checks after it ten times
//! its size in memory.
//!
//! Quotes follow RFC 4180: a quote opens a quoted field only at the field's start, and inside one
//! a quote is written twice. polars splits lines by counting every quote but splits fields by the
//! field-start rule, so a quote anywhere else makes it misread rows, or abort inside its number
//! parser: such a quote is a fault of the file, found here with its record and field.

use std::borrow::Cow;
use std::ops::Range;

/// A data row whose field count differs from the header's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowWidth {
    /// 0-based among the data rows, blank lines not counted (the frame's row index).
    pub row: usize,
    pub fields: usize,
}

/// What the survey found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    /// The header's names, unquoted.
    pub header: Vec<String>,
    /// Blank lines (nothing but whitespace), each with its line break: skipped, as every CSV
    /// reader users know skips them.
    pub blank_lines: Vec<Range<usize>>,
    pub short_rows: Vec<RowWidth>,
    pub long_rows: Vec<RowWidth>,
    /// The first quote the file gets wrong; the survey stops there, since the records after it
    /// have no one reading.
    pub quote_fault: Option<QuoteFault>,
    /// The first value longer than the survey's limit; the survey stops there too.
    pub oversized_value: Option<OversizedValue>,
}

/// A value of `bytes` bytes (quotes included) in field `field` (1-based) of record `record`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OversizedValue {
    pub record: usize,
    pub field: usize,
    pub bytes: usize,
}

/// A quote the CSV rules do not allow, in record `record` (0 the header, n the n-th data row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteFault {
    pub record: usize,
    pub kind: QuoteFaultKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteFaultKind {
    /// A quoted field still open at the end of the text: everything after its quote would be one
    /// value.
    Unclosed,
    /// A quote inside a field (1-based) that does not start with one, or after a closing quote.
    Stray { field: usize },
}

impl Layout {
    /// A name the header gives twice, with both 1-based positions.
    pub fn repeated_name(&self) -> Option<(&str, usize, usize)> {
        self.header.iter().enumerate().find_map(|(second, name)| {
            self.header[..second]
                .iter()
                .position(|earlier| earlier == name)
                .map(|first| (name.as_str(), first + 1, second + 1))
        })
    }

    /// `text` without its blank lines (borrowed when it has none).
    pub fn without_blank_lines<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.blank_lines.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut kept = String::with_capacity(text.len());
        let mut from = 0;
        for blank in &self.blank_lines {
            kept.push_str(&text[from..blank.start]);
            from = blank.end;
        }
        kept.push_str(&text[from..]);
        Cow::Owned(kept)
    }
}

/// Surveys `text`, a CSV whose fields are separated by `separator` and quoted with `"`, whose
/// values may have at most `max_value_bytes` bytes.
pub fn survey(text: &str, separator: u8, max_value_bytes: usize) -> Layout {
    let bytes = text.as_bytes();
    // Without a quote anywhere, a record is a line and its separators are all field breaks: the
    // common case, counted a line at a time.
    let quoted = memchr::memchr(b'"', bytes).is_some();
    let mut layout = Layout::default();
    let mut header_fields = None;
    let mut row = 0;
    let mut at = 0;
    while at < bytes.len() {
        let record = if quoted {
            quoted_record(bytes, at, separator)
        } else {
            plain_record(bytes, at, separator)
        };
        // 0 the header, n the n-th data row: how faults name the record.
        let number = header_fields.map_or(0, |_| row + 1);
        if let Some(kind) = record.quote_fault {
            layout.quote_fault = Some(QuoteFault {
                record: number,
                kind,
            });
            return layout;
        }
        let content = &bytes[record.content.clone()];
        let blank = content.trim_ascii().is_empty();
        // Only a record longer than the limit can hold a value longer than it.
        if content.len() > max_value_bytes && !blank {
            if let Some((field, bytes)) = first_field_over(content, separator, max_value_bytes) {
                layout.oversized_value = Some(OversizedValue {
                    record: number,
                    field,
                    bytes,
                });
                return layout;
            }
        }
        if blank {
            layout.blank_lines.push(at..record.next);
        } else {
            match header_fields {
                None => {
                    header_fields = Some(record.fields);
                    layout.header = header_names(&text[record.content.clone()], separator);
                }
                Some(expected) => {
                    let width = RowWidth {
                        row,
                        fields: record.fields,
                    };
                    if record.fields < expected {
                        layout.short_rows.push(width);
                    } else if record.fields > expected {
                        layout.long_rows.push(width);
                    }
                    row += 1;
                }
            }
        }
        at = record.next;
    }
    layout
}

/// One record: its bytes without the line break, its field count, where the next one starts,
/// and the first quote it gets wrong.
struct Record {
    content: Range<usize>,
    fields: usize,
    next: usize,
    quote_fault: Option<QuoteFaultKind>,
}

fn plain_record(bytes: &[u8], at: usize, separator: u8) -> Record {
    let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |n| at + n);
    let line = &bytes[at..end];
    // A plain count, which the compiler vectorises.
    let separators = line.iter().filter(|&&b| b == separator).count();
    Record {
        content: at..end - usize::from(line.last() == Some(&b'\r')),
        fields: 1 + separators,
        next: (end + 1).min(bytes.len()),
        quote_fault: None,
    }
}

/// Where the scanner is within a field of a text that has quotes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Within {
    FieldStart,
    Unquoted,
    Quoted,
    /// Just after a quote inside a quoted field: a second quote is an escaped one, anything else
    /// means the field was closed.
    QuoteInQuoted,
    /// After a closing quote and a carriage return: a line break or a separator must follow.
    Closed,
}

fn quoted_record(bytes: &[u8], at: usize, separator: u8) -> Record {
    let mut within = Within::FieldStart;
    let mut separators = 0;
    let mut quote_fault = None;
    let mut end = bytes.len();
    for (offset, &byte) in bytes[at..].iter().enumerate() {
        let field_break = byte == separator || byte == b'\n';
        within = match (within, byte) {
            (Within::Quoted, b'"') => Within::QuoteInQuoted,
            (Within::Quoted, _) => Within::Quoted,
            (Within::QuoteInQuoted, b'"') => Within::Quoted,
            (Within::QuoteInQuoted, b'\r') => Within::Closed,
            (Within::FieldStart, b'"') => Within::Quoted,
            (_, _) if field_break => Within::FieldStart,
            (Within::FieldStart | Within::Unquoted, _) if byte != b'"' => Within::Unquoted,
            _ => {
                quote_fault = Some(QuoteFaultKind::Stray {
                    field: separators + 1,
                });
                end = at + offset;
                break;
            }
        };
        if within == Within::FieldStart {
            if byte == b'\n' {
                end = at + offset;
                break;
            }
            separators += 1;
        }
    }
    if within == Within::Quoted && quote_fault.is_none() {
        quote_fault = Some(QuoteFaultKind::Unclosed);
    }
    let content_end = if end > at && bytes[end - 1] == b'\r' {
        end - 1
    } else {
        end
    };
    Record {
        content: at..content_end,
        fields: 1 + separators,
        next: (end + 1).min(bytes.len()),
        quote_fault,
    }
}

/// The first field (1-based) of a record's content longer than `max` bytes, with its length. The
/// record's quotes are well formed (the survey stops at the first that is not).
fn first_field_over(content: &[u8], separator: u8, max: usize) -> Option<(usize, usize)> {
    let mut in_quotes = false;
    let mut start = 0;
    let mut field = 1;
    for (at, &byte) in content.iter().enumerate() {
        if byte == b'"' {
            in_quotes = !in_quotes;
        } else if byte == separator && !in_quotes {
            if at - start > max {
                return Some((field, at - start));
            }
            (start, field) = (at + 1, field + 1);
        }
    }
    (content.len() - start > max).then_some((field, content.len() - start))
}

/// The header's names: split at separators outside quotes, quotes removed (`""` is one quote).
fn header_names(header: &str, separator: u8) -> Vec<String> {
    let mut names = Vec::new();
    let mut name = String::new();
    let mut in_quotes = false;
    let mut chars = header.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                chars.next();
                name.push('"');
            }
            '"' => in_quotes = !in_quotes,
            c if c == char::from(separator) && !in_quotes => names.push(std::mem::take(&mut name)),
            c => name.push(c),
        }
    }
    names.push(name);
    names
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
