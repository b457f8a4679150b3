//! A prediction request read against the model's input schema: JSON records by field name, or
//! feature rows in the model's input order. Every problem is reported with its record and field,
//! not just the first; nothing from outside can make this panic.

use std::borrow::Cow;
use std::cell::Cell as Flag;
use std::fmt;

use chrono::DateTime;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Serialize;

use super::respond::{PredictOptions, MAX_TOP_K};
use crate::artifact::InputField;
use crate::features::{RawColumn, RawFrame, MAX_SAFE_INTEGER};
use crate::spec::ColumnType;

/// What a request may carry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_records: usize,
    pub unknown_fields: UnknownFields,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_records: 10_000,
            unknown_fields: UnknownFields::Ignore,
        }
    }
}

/// A record field the model does not read: ignored, or a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownFields {
    Ignore,
    Reject,
}

/// One thing wrong with a request, where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The record's index, when the problem is in one record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub problem: String,
}

/// At most this many problems are listed; the count says how many there were.
pub const MAX_LISTED_PROBLEMS: usize = 100;

/// Arrays and objects nested deeper than this are refused as soon as the reader meets them: a
/// request needs three levels (body, list, record), and unbounded nesting would overflow the
/// reading thread's stack (sonic-rs skips an unused value recursively, without a bound).
pub const MAX_NESTING: usize = 64;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// Not JSON at all (HTTP 400).
    #[error("the body is not valid JSON: {0}")]
    Malformed(String),
    /// JSON nested deeper than [`MAX_NESTING`] (HTTP 400).
    #[error("the body nests arrays or objects more than {max} levels deep; a request needs 3")]
    TooDeep { max: usize },
    /// More records than allowed (HTTP 413).
    #[error("{count} records in one request; at most {max}")]
    TooMany { count: usize, max: usize },
    /// JSON, but not what the model takes (HTTP 422).
    #[error("{total} problem(s) with the request")]
    Invalid {
        total: usize,
        problems: Vec<Problem>,
    },
}

/// Reads `body` into a frame of the model's input columns, one row per record.
///
/// The body is read in one pass straight into the columns (no JSON tree, no per-record maps, no
/// allocation per value): this is the prediction path's cost per record. The usual by-name body
/// is read by [`super::canonical`], which compares its keys instead of parsing them; any other body
/// by the general reader, which finds every problem.
pub fn parse(
    body: &[u8],
    inputs: &[InputField],
    limits: &Limits,
) -> Result<RawFrame, RequestError> {
    let rows = likely_records(body.len(), inputs.len(), limits);
    match super::canonical::read(body, inputs, limits.max_records, rows) {
        Some(frame) => Ok(frame),
        None => read_general(body, inputs, limits, rows),
    }
}

/// The options a body carries beside its list (`"top_k"`, `"explain"`). Call it on a body that
/// [`parse`] read: the list is skipped here, and `parse` has bounded its nesting.
pub fn options(body: &[u8]) -> Result<PredictOptions, RequestError> {
    let mentions = |key: &[u8]| memchr::memmem::find(body, key).is_some();
    if !mentions(b"\"top_k\"") && !mentions(b"\"explain\"") {
        return Ok(PredictOptions::default());
    }
    #[derive(serde::Deserialize)]
    struct Options {
        top_k: Option<serde_json::Value>,
        explain: Option<serde_json::Value>,
    }
    let given: Options = sonic_rs::from_slice(body).map_err(|e| {
        RequestError::Malformed(e.to_string().lines().next().unwrap_or_default().to_owned())
    })?;
    let mut problems = Vec::new();
    let mut problem = |field: &str, text: &str| {
        problems.push(Problem {
            record: None,
            field: Some(field.to_owned()),
            problem: text.to_owned(),
        })
    };
    let top_k = match given.top_k {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => match value.as_u64() {
            // Checked here, not only once merged with the query's: a query's top_k must not
            // hide a body's out of bounds.
            Some(k) if (1..=MAX_TOP_K as u64).contains(&k) => Some(k as usize),
            _ => {
                problem(
                    "top_k",
                    &format!("expected a whole number of classes, from 1 to {MAX_TOP_K}"),
                );
                None
            }
        },
    };
    let explain = match given.explain {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(explain)) => explain,
        Some(_) => {
            problem("explain", "expected true or false");
            false
        }
    };
    if problems.is_empty() {
        Ok(PredictOptions { top_k, explain })
    } else {
        Err(RequestError::Invalid {
            total: problems.len(),
            problems,
        })
    }
}

/// Reads any body, finding every problem it has.
pub(crate) fn read_general(
    body: &[u8],
    inputs: &[InputField],
    limits: &Limits,
    rows: usize,
) -> Result<RawFrame, RequestError> {
    // sonic-rs (SIMD JSON, through the same serde visitors) reads a 10,000-record body in about
    // half serde_json's time. Its messages end with a snippet of the body: the first line is kept.
    let malformed = |e: sonic_rs::Error| {
        let message = e.to_string();
        RequestError::Malformed(message.lines().next().unwrap_or_default().to_owned())
    };
    let mut reader = Reader::new(inputs, limits, rows);
    let mut json = sonic_rs::Deserializer::from_slice(body);
    let read = BodySeed(&mut reader).deserialize(&mut json);
    if reader.too_deep.get() {
        return Err(RequestError::TooDeep { max: MAX_NESTING });
    }
    read.map_err(malformed)?;
    json.end().map_err(malformed)?;
    reader.finish()
}

/// Room to make for the records a body of `bytes` holds, so that the columns never grow (growing
/// them reallocated each column a dozen times for 10,000 records and copied it about once more). A
/// record takes at least two bytes a value (feature rows; records by name take more), and there
/// are never more than the limit allows: the room is at most what a body this size can fill.
fn likely_records(bytes: usize, inputs: usize, limits: &Limits) -> usize {
    (bytes / (2 * inputs + 2)).min(limits.max_records)
}

/// Which list the body carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Records,
    Features,
}

/// What became of one value: written into its column's current row, or why not (the row then
/// keeps its null).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell {
    Written,
    Null,
    /// A value of the wrong type: what came (the field's type says what was expected). Kept to
    /// two bytes: returning the two messages from every value's visitor went through the stack
    /// and stalled on store forwarding, a seventh of reading a request (perf annotate).
    Wrong(Got),
    /// A string longer than the field's `max_length`.
    TooLong,
}

/// How a string is taken for a textual field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextValue {
    Taken,
    /// A free text that is empty after trimming: missing, as at ingest.
    Blank,
    /// Longer than the field's `max_length` characters.
    TooLong,
}

pub(super) fn text_value(field: &InputField, s: &str) -> TextValue {
    if field.kind == ColumnType::Text && s.trim().is_empty() {
        TextValue::Blank
    } else if field
        .max_length
        .is_some_and(|max| s.len() as u64 > max && s.chars().count() as u64 > max)
    {
        TextValue::TooLong
    } else {
        TextValue::Taken
    }
}

/// The JSON kind of a value its field does not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Got {
    Boolean,
    Number,
    String,
    Array,
    Object,
    /// An integer beyond [`MAX_SAFE_INTEGER`] for an integer feature.
    HugeInteger,
}

impl Got {
    fn name(self) -> &'static str {
        match self {
            Got::Boolean => "a boolean",
            Got::Number => "a number",
            Got::String => "a string",
            Got::Array => "an array",
            Got::Object => "an object",
            Got::HugeInteger => "a number outside that range",
        }
    }
}

const RFC3339: &str = "an RFC 3339 time such as 2013-07-01T09:00:00Z";

/// What `field` takes, for "expected …, got …".
fn expected(field: &InputField, got: Got) -> Cow<'static, str> {
    let (true_words, false_words) = field.boolean_words.declared();
    if field.kind == ColumnType::Boolean && !(true_words.is_empty() && false_words.is_empty()) {
        let quoted = |words: &[String]| {
            words
                .iter()
                .map(|w| format!("{w:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Cow::Owned(format!(
            "{}, or this field's own words: {} for true, {} for false",
            expected_of(field.kind, got),
            quoted(true_words),
            quoted(false_words)
        ));
    }
    Cow::Borrowed(expected_of(field.kind, got))
}

/// What a field of type `kind` takes.
fn expected_of(kind: ColumnType, got: Got) -> &'static str {
    match kind {
        ColumnType::Float => "a number",
        ColumnType::Integer if got == Got::HugeInteger => {
            "an integer between -9007199254740991 and 9007199254740991 (exact as a 64-bit float)"
        }
        ColumnType::Integer => "an integer",
        ColumnType::String | ColumnType::Categorical | ColumnType::Text => "a string",
        ColumnType::Boolean => "true or false (or a spelling of them: \"yes\", \"no\", \"y\", \"n\", \"t\", \"f\", \"1\", \"0\")",
        // Whole numbers are taken as milliseconds: the number that came was not whole.
        ColumnType::Datetime if got == Got::Number => {
            "milliseconds since the epoch, or an RFC 3339 time"
        }
        ColumnType::Datetime => RFC3339,
    }
}

/// The request being read: the columns so far (the current record is their last row), the problems.
struct Reader<'a> {
    inputs: &'a [InputField],
    limits: &'a Limits,
    columns: Vec<RawColumn>,
    /// Per input, 1 + the index of the last record that had it: present in the current record when
    /// equal to 1 + its index, so nothing needs resetting between records.
    seen: Vec<usize>,
    /// The current record's null or wrong values, by input position, reported when it ends.
    refused: Vec<(usize, Cell)>,
    /// How many inputs the current record has.
    present: usize,
    /// For the n-th key of a record, the input the n-th key of the previous record named: clients
    /// send their fields in the same order every time, so a key is found in one comparison.
    key_order: Vec<usize>,
    unknown: Vec<String>,
    shapes: Vec<Shape>,
    /// A `records` or `features` value that is not an array.
    not_a_list: bool,
    /// Set where nesting passed [`MAX_NESTING`]: the read then stops with an error.
    too_deep: Flag<bool>,
    count: usize,
    problems: Problems,
}

impl<'a> Reader<'a> {
    fn new(inputs: &'a [InputField], limits: &'a Limits, rows: usize) -> Self {
        Reader {
            inputs,
            limits,
            columns: inputs
                .iter()
                .map(|field| RawColumn::with_capacity(field.kind, rows))
                .collect(),
            seen: vec![0; inputs.len()],
            refused: Vec::new(),
            present: 0,
            key_order: Vec::new(),
            unknown: Vec::new(),
            shapes: Vec::new(),
            not_a_list: false,
            too_deep: Flag::new(false),
            count: 0,
            problems: Problems::default(),
        }
    }

    /// A skipper for an unused value at `depth` (the body is at 1).
    fn skip(&self, depth: usize) -> Skip<'_> {
        Skip {
            depth,
            too_deep: &self.too_deep,
        }
    }

    /// Records past the limit are only counted, for the 413's message.
    fn over_limit(&self) -> bool {
        self.count > self.limits.max_records
    }

    /// Starts a record: a row of nulls that its values then fill.
    fn begin_record(&mut self) {
        self.present = 0;
        for column in &mut self.columns {
            column.push_null();
        }
    }

    /// One value of the current record, read straight into its column.
    fn read_value<'de, D: Deserializer<'de>>(
        &mut self,
        index: usize,
        at: usize,
        value: D,
    ) -> Result<(), D::Error> {
        let field = &self.inputs[at];
        let cell = CellSeed {
            field,
            column: &mut self.columns[at],
            too_deep: &self.too_deep,
        }
        .deserialize(value)?;
        if self.seen[at] != index + 1 {
            self.seen[at] = index + 1;
            self.present += 1;
        }
        // A repeated key counts once, as its last value.
        if !self.refused.is_empty() {
            self.refused.retain(|(input, _)| *input != at);
        }
        if cell != Cell::Written {
            // A key repeated with a null or a wrong value: the row holds no value, not the earlier one.
            self.columns[at].clear_last();
        }
        match cell {
            Cell::Written => {}
            Cell::Null if field.nullable => {}
            refused => self.refused.push((at, refused)),
        }
        Ok(())
    }

    /// Ends a record: its problems, in the model's input order.
    fn end_record(&mut self, index: usize) {
        if !self.unknown.is_empty() {
            self.unknown.sort_unstable();
            self.unknown.dedup();
            for name in std::mem::take(&mut self.unknown) {
                self.problems.push(
                    Some(index),
                    Some(&name),
                    "unknown field: the model does not read it".into(),
                );
            }
        }
        if self.refused.is_empty() && self.present == self.inputs.len() {
            return;
        }
        self.refused.sort_by_key(|(at, _)| *at);
        let mut refused = std::mem::take(&mut self.refused).into_iter().peekable();
        for (at, field) in self.inputs.iter().enumerate() {
            let problem = if self.seen[at] != index + 1 {
                (!field.nullable).then(|| "missing required feature".to_owned())
            } else {
                match refused.next_if(|(input, _)| *input == at) {
                    Some((_, Cell::Wrong(got))) => Some(format!(
                        "expected {}, got {}",
                        expected(field, got),
                        got.name()
                    )),
                    Some((_, Cell::TooLong)) => Some(format!(
                        "longer than the {} characters this field takes",
                        field.max_length.unwrap_or_default()
                    )),
                    Some(_) if field.kind == ColumnType::Text => Some(
                        "null or blank text is not allowed: the model needs a value".to_owned(),
                    ),
                    Some(_) => Some("null is not allowed: the model needs a value".to_owned()),
                    None => None,
                }
            };
            if let Some(problem) = problem {
                self.problems.push(Some(index), Some(&field.name), problem);
            }
        }
    }

    /// A record that is not an object, or a feature row that is not an array of the right length:
    /// one problem (the request is refused, so what its row holds does not matter).
    fn bad_record(&mut self, index: usize, problem: String) {
        self.refused.clear();
        self.problems.push(Some(index), None, problem);
    }

    fn finish(mut self) -> Result<RawFrame, RequestError> {
        if self.over_limit() {
            return Err(RequestError::TooMany {
                count: self.count,
                max: self.limits.max_records,
            });
        }
        if self.shapes.len() != 1 || self.not_a_list {
            let names: Vec<&str> = self.inputs.iter().map(|f| f.name.as_str()).collect();
            self.problems.push(
                None,
                None,
                format!(
                    "send {{\"records\": [{{\"field\": value, …}}, …]}} or {{\"features\": [[value, …], …]}} with values in the order [{}]",
                    names.join(", ")
                ),
            );
        }
        if self.problems.total > 0 {
            return Err(RequestError::Invalid {
                total: self.problems.total,
                problems: self.problems.listed,
            });
        }
        frame_of(self.inputs, self.columns, self.count)
    }
}

/// The frame of the inputs' columns, `rows` rows each.
fn frame_of(
    inputs: &[InputField],
    columns: Vec<RawColumn>,
    rows: usize,
) -> Result<RawFrame, RequestError> {
    let mut frame = RawFrame::new(rows);
    for (field, column) in inputs.iter().zip(columns) {
        frame
            .insert(field.name.clone(), column)
            .map_err(|e| RequestError::Invalid {
                total: 1,
                problems: vec![Problem {
                    record: None,
                    field: Some(field.name.clone()),
                    problem: e.to_string(),
                }],
            })?;
    }
    Ok(frame)
}

#[derive(Default)]
struct Problems {
    total: usize,
    listed: Vec<Problem>,
}

impl Problems {
    fn push(&mut self, record: Option<usize>, field: Option<&str>, problem: String) {
        self.total += 1;
        if self.listed.len() < MAX_LISTED_PROBLEMS {
            self.listed.push(Problem {
                record,
                field: field.map(str::to_owned),
                problem,
            });
        }
    }
}

/// The body: an object whose `records` or `features` list is read; anything else is skipped.
struct BodySeed<'r, 'a>(&'r mut Reader<'a>);

impl<'de> DeserializeSeed<'de> for BodySeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BodySeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a request body")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(BodyKey)? {
            let Some(shape) = key else {
                map.next_value_seed(self.0.skip(2))?;
                continue;
            };
            self.0.shapes.push(shape);
            if self.0.shapes.len() > 1 {
                map.next_value_seed(self.0.skip(2))?;
            } else {
                map.next_value_seed(ListSeed(&mut *self.0, shape))?;
            }
        }
        Ok(())
    }

    // Any other body is JSON, but not a request: the problem is reported by `finish`.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self.0.skip(2))?.is_some() {}
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

/// Skips a value the reader does not use, refusing nesting past [`MAX_NESTING`] before it recurses
/// further.
#[derive(Clone, Copy)]
struct Skip<'f> {
    /// How deep the skipped value is: the body is at 1.
    depth: usize,
    too_deep: &'f Flag<bool>,
}

impl<'f> Skip<'f> {
    /// The skipper for the values inside this array or object.
    fn enter<E: de::Error>(self) -> Result<Skip<'f>, E> {
        if self.depth > MAX_NESTING {
            self.too_deep.set(true);
            return Err(E::custom("nested too deep"));
        }
        Ok(Skip {
            depth: self.depth + 1,
            too_deep: self.too_deep,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.enter()?;
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.enter()?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

/// A body key: `records` or `features`, or another (`None`), read without allocating.
struct BodyKey;

impl<'de> DeserializeSeed<'de> for BodyKey {
    type Value = Option<Shape>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Shape>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for BodyKey {
    type Value = Option<Shape>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Option<Shape>, E> {
        Ok(match key {
            "records" => Some(Shape::Records),
            "features" => Some(Shape::Features),
            _ => None,
        })
    }
}

/// The `records` or `features` list.
struct ListSeed<'r, 'a>(&'r mut Reader<'a>, Shape);

impl<'de> DeserializeSeed<'de> for ListSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ListSeed(reader, shape) = self;
        loop {
            let index = reader.count;
            reader.count += 1;
            let more = if reader.over_limit() {
                seq.next_element_seed(reader.skip(3))?.is_some()
            } else {
                seq.next_element_seed(RecordSeed(&mut *reader, shape, index))?
                    .is_some()
            };
            if !more {
                reader.count -= 1;
                return Ok(());
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.not_a_list = true;
        self.0.skip(2).visit_map(map)
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.not_a_list = true;
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.0.not_a_list = true;
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.0.not_a_list = true;
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.0.not_a_list = true;
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.0.not_a_list = true;
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.0.not_a_list = true;
        Ok(())
    }
}

/// One record: an object of field: value (records), or an array in input order (features).
struct RecordSeed<'r, 'a>(&'r mut Reader<'a>, Shape, usize);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl RecordSeed<'_, '_> {
    /// A record of the wrong JSON type.
    fn wrong<E>(self, got: &'static str) -> Result<(), E> {
        let RecordSeed(reader, shape, index) = self;
        reader.begin_record();
        let problem = match shape {
            Shape::Records => format!("a record is an object of field: value, not {got}"),
            Shape::Features => format!("a feature row is an array of values, not {got}"),
        };
        reader.bad_record(index, problem);
        Ok(())
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.1 == Shape::Features {
            self.0.skip(3).visit_map(map)?;
            return self.wrong("an object");
        }
        let RecordSeed(reader, _, index) = self;
        reader.begin_record();
        let reject_unknown = reader.limits.unknown_fields == UnknownFields::Reject;
        let mut position = 0;
        while let Some(key) = map.next_key_seed(KeySeed {
            inputs: reader.inputs,
            likely: reader.key_order.get(position).copied(),
            report_unknown: reject_unknown,
        })? {
            match key {
                Key::Input(at) => {
                    match reader.key_order.get_mut(position) {
                        Some(likely) => *likely = at,
                        None => reader.key_order.push(at),
                    }
                    position += 1;
                    map.next_value_seed(ValueSeed {
                        reader: &mut *reader,
                        index,
                        at,
                    })?;
                }
                Key::Unknown(name) => {
                    map.next_value_seed(reader.skip(4))?;
                    reader.unknown.extend(name);
                }
            }
        }
        reader.end_record(index);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.1 == Shape::Records {
            self.0.skip(3).visit_seq(seq)?;
            return self.wrong("an array");
        }
        let RecordSeed(reader, _, index) = self;
        reader.begin_record();
        let mut values = 0;
        loop {
            let more = if values < reader.inputs.len() {
                seq.next_element_seed(ValueSeed {
                    reader: &mut *reader,
                    index,
                    at: values,
                })?
                .is_some()
            } else {
                seq.next_element_seed(reader.skip(4))?.is_some()
            };
            if !more {
                break;
            }
            values += 1;
        }
        if values == reader.inputs.len() {
            reader.end_record(index);
        } else {
            let names: Vec<&str> = reader.inputs.iter().map(|f| f.name.as_str()).collect();
            let problem = format!(
                "{values} values; the model takes {} in this order: [{}]",
                names.len(),
                names.join(", ")
            );
            reader.bad_record(index, problem);
        }
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.wrong("null")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.wrong("a boolean")
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.wrong("a number")
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.wrong("a number")
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.wrong("a number")
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.wrong("a string")
    }
}

/// A record's key: an input's position, or an unknown field (named when unknown fields are refused).
enum Key {
    Input(usize),
    Unknown(Option<String>),
}

/// Reads a key without allocating it, unless it names an unknown field to report.
struct KeySeed<'a> {
    inputs: &'a [InputField],
    /// The input this key most likely names, tried first.
    likely: Option<usize>,
    report_unknown: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, name: &str) -> Result<Key, E> {
        let inputs = self.inputs;
        let at = self
            .likely
            .filter(|&at| inputs.get(at).is_some_and(|field| field.name == name))
            .or_else(|| inputs.iter().position(|field| field.name == name));
        Ok(match at {
            Some(at) => Key::Input(at),
            None => Key::Unknown(self.report_unknown.then(|| name.to_owned())),
        })
    }
}

/// The value of input `at` in record `index`.
struct ValueSeed<'r, 'a> {
    reader: &'r mut Reader<'a>,
    index: usize,
    at: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.reader.read_value(self.index, self.at, deserializer)
    }
}

/// One value, checked against its field's type and written into the current row of its column.
/// Never an error: a wrong type is a `Cell::Wrong`.
struct CellSeed<'c> {
    field: &'c InputField,
    column: &'c mut RawColumn,
    too_deep: &'c Flag<bool>,
}

impl<'de> DeserializeSeed<'de> for CellSeed<'_> {
    type Value = Cell;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cell, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl CellSeed<'_> {
    fn number(self, x: f64, whole: Option<i64>) -> Cell {
        match (self.field.kind, whole) {
            (ColumnType::Float, _) => set_last(self.column, Typed::Number(x)),
            (ColumnType::Integer, _) if x.abs() > MAX_SAFE_INTEGER => Cell::Wrong(Got::HugeInteger),
            // JSON integers need no check (x.fract() is a libm call on baseline x86-64).
            (ColumnType::Integer, Some(_)) => set_last(self.column, Typed::Number(x)),
            (ColumnType::Integer, None) if x.fract() == 0.0 => {
                set_last(self.column, Typed::Number(x))
            }
            (ColumnType::Datetime, Some(ms)) => set_last(self.column, Typed::Time(ms)),
            _ => Cell::Wrong(Got::Number),
        }
    }
}

/// A value of the type its field declares.
enum Typed<'s> {
    Number(f64),
    Text(&'s str),
    Boolean(bool),
    Time(i64),
}

/// Writes `value` into the current (last) row of its column (made for its field's type, so the
/// two always match).
fn set_last(column: &mut RawColumn, value: Typed<'_>) -> Cell {
    fn replace<T>(values: &mut [Option<T>], value: T) -> bool {
        values.last_mut().map(|last| *last = Some(value)).is_some()
    }
    let written = match (column, value) {
        (RawColumn::Numeric(values), Typed::Number(x)) => replace(values, x),
        (RawColumn::Text(values), Typed::Text(s)) => values.set_last(s),
        (RawColumn::Boolean(values), Typed::Boolean(b)) => replace(values, b),
        (RawColumn::Datetime(values), Typed::Time(t)) => replace(values, t),
        _ => false,
    };
    if written {
        Cell::Written
    } else {
        Cell::Null
    }
}

impl<'de> Visitor<'de> for CellSeed<'_> {
    type Value = Cell;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a feature value")
    }

    fn visit_unit<E>(self) -> Result<Cell, E> {
        Ok(Cell::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Cell, E> {
        Ok(match self.field.kind {
            ColumnType::Boolean => set_last(self.column, Typed::Boolean(b)),
            _ => Cell::Wrong(Got::Boolean),
        })
    }
    fn visit_i64<E>(self, n: i64) -> Result<Cell, E> {
        Ok(self.number(n as f64, Some(n)))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Cell, E> {
        Ok(self.number(n as f64, i64::try_from(n).ok()))
    }
    fn visit_f64<E>(self, x: f64) -> Result<Cell, E> {
        Ok(self.number(x, None))
    }
    fn visit_str<E>(self, s: &str) -> Result<Cell, E> {
        Ok(match self.field.kind {
            ColumnType::String | ColumnType::Categorical | ColumnType::Text => {
                match text_value(self.field, s) {
                    TextValue::Taken => set_last(self.column, Typed::Text(s)),
                    TextValue::Blank => Cell::Null,
                    TextValue::TooLong => Cell::TooLong,
                }
            }
            ColumnType::Datetime => match DateTime::parse_from_rfc3339(s) {
                Ok(t) => set_last(self.column, Typed::Time(t.timestamp_millis())),
                Err(_) => Cell::Wrong(Got::String),
            },
            ColumnType::Boolean => match self.field.boolean_words.read(s) {
                Some(b) => set_last(self.column, Typed::Boolean(b)),
                None => Cell::Wrong(Got::String),
            },
            _ => Cell::Wrong(Got::String),
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Cell, A::Error> {
        Skip {
            depth: 4,
            too_deep: self.too_deep,
        }
        .visit_seq(seq)?;
        Ok(Cell::Wrong(Got::Array))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Cell, A::Error> {
        Skip {
            depth: 4,
            too_deep: self.too_deep,
        }
        .visit_map(map)?;
        Ok(Cell::Wrong(Got::Object))
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
pub(super) mod tests;
