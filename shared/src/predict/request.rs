//! A prediction request read against the model's input schema: JSON records by field name, or
//! feature rows in the model's input order. Every problem is reported with its record and field,
//! not just the first; nothing from outside can make this panic.

use std::collections::BTreeSet;

use chrono::DateTime;
use serde::Serialize;
use serde_json::Value;

use crate::artifact::InputField;
use crate::features::{RawColumn, RawFrame};
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

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// Not JSON at all (HTTP 400).
    #[error("the body is not valid JSON: {0}")]
    Malformed(String),
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
pub fn parse(
    body: &[u8],
    inputs: &[InputField],
    limits: &Limits,
) -> Result<RawFrame, RequestError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| RequestError::Malformed(e.to_string()))?;
    let mut problems = Problems::default();
    let rows: Vec<Row> = match (&value.get("records"), &value.get("features")) {
        (Some(Value::Array(records)), None) => {
            check_count(records.len(), limits)?;
            records
                .iter()
                .enumerate()
                .map(|(i, record)| by_name(i, record, inputs, limits, &mut problems))
                .collect()
        }
        (None, Some(Value::Array(rows))) => {
            check_count(rows.len(), limits)?;
            rows.iter()
                .enumerate()
                .map(|(i, row)| by_position(i, row, inputs, &mut problems))
                .collect()
        }
        _ => {
            let names: Vec<&str> = inputs.iter().map(|f| f.name.as_str()).collect();
            problems.push(
                None,
                None,
                format!(
                    "send {{\"records\": [{{\"field\": value, …}}, …]}} or {{\"features\": [[value, …], …]}} with values in the order [{}]",
                    names.join(", ")
                ),
            );
            Vec::new()
        }
    };
    if problems.total > 0 {
        return Err(RequestError::Invalid {
            total: problems.total,
            problems: problems.listed,
        });
    }
    frame(inputs, rows)
}

fn check_count(count: usize, limits: &Limits) -> Result<(), RequestError> {
    if count > limits.max_records {
        return Err(RequestError::TooMany {
            count,
            max: limits.max_records,
        });
    }
    Ok(())
}

/// One record's values, in the model's input order.
type Row = Vec<Cell>;

#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Number(f64),
    Text(String),
    Boolean(bool),
    Time(i64),
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

fn by_name(
    index: usize,
    record: &Value,
    inputs: &[InputField],
    limits: &Limits,
    problems: &mut Problems,
) -> Row {
    let Value::Object(fields) = record else {
        problems.push(
            Some(index),
            None,
            format!(
                "a record is an object of field: value, not {}",
                kind(record)
            ),
        );
        return Vec::new();
    };
    if limits.unknown_fields == UnknownFields::Reject {
        let known: BTreeSet<&str> = inputs.iter().map(|f| f.name.as_str()).collect();
        for name in fields.keys().filter(|name| !known.contains(name.as_str())) {
            problems.push(
                Some(index),
                Some(name),
                "unknown field: the model does not read it".into(),
            );
        }
    }
    inputs
        .iter()
        .map(|field| match fields.get(&field.name) {
            None if field.nullable => Cell::Null,
            None => {
                problems.push(
                    Some(index),
                    Some(&field.name),
                    "missing required feature".into(),
                );
                Cell::Null
            }
            Some(value) => cell(index, field, value, problems),
        })
        .collect()
}

fn by_position(index: usize, row: &Value, inputs: &[InputField], problems: &mut Problems) -> Row {
    match row {
        Value::Array(values) if values.len() == inputs.len() => inputs
            .iter()
            .zip(values)
            .map(|(field, value)| cell(index, field, value, problems))
            .collect(),
        Value::Array(values) => {
            problems.push(
                Some(index),
                None,
                format!(
                    "{} values; the model takes {} in this order: [{}]",
                    values.len(),
                    inputs.len(),
                    inputs
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            Vec::new()
        }
        other => {
            problems.push(
                Some(index),
                None,
                format!("a feature row is an array of values, not {}", kind(other)),
            );
            Vec::new()
        }
    }
}

/// One value, checked against its field's type.
fn cell(index: usize, field: &InputField, value: &Value, problems: &mut Problems) -> Cell {
    let mut wrong = |expected: &str| {
        problems.push(
            Some(index),
            Some(&field.name),
            format!("expected {expected}, got {}", kind(value)),
        );
        Cell::Null
    };
    match (field.kind, value) {
        (_, Value::Null) if field.nullable => Cell::Null,
        (_, Value::Null) => {
            problems.push(
                Some(index),
                Some(&field.name),
                "null is not allowed: the model needs a value".into(),
            );
            Cell::Null
        }
        (ColumnType::Float, Value::Number(n)) => {
            n.as_f64().map_or_else(|| wrong("a number"), Cell::Number)
        }
        (ColumnType::Integer, Value::Number(n)) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 => Cell::Number(x),
            _ => wrong("an integer"),
        },
        (ColumnType::String | ColumnType::Categorical, Value::String(s)) => Cell::Text(s.clone()),
        (ColumnType::Boolean, Value::Bool(b)) => Cell::Boolean(*b),
        (ColumnType::Datetime, Value::String(s)) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => Cell::Time(t.timestamp_millis()),
            Err(_) => wrong("an RFC 3339 time such as 2013-07-01T09:00:00Z"),
        },
        (ColumnType::Datetime, Value::Number(n)) => match n.as_i64() {
            Some(ms) => Cell::Time(ms),
            None => wrong("milliseconds since the epoch, or an RFC 3339 time"),
        },
        (ColumnType::Float, _) => wrong("a number"),
        (ColumnType::Integer, _) => wrong("an integer"),
        (ColumnType::String | ColumnType::Categorical, _) => wrong("a string"),
        (ColumnType::Boolean, _) => wrong("true or false"),
        (ColumnType::Datetime, _) => wrong("an RFC 3339 time such as 2013-07-01T09:00:00Z"),
    }
}

/// What a JSON value is, for messages ("got a string").
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The checked rows as columns.
fn frame(inputs: &[InputField], rows: Vec<Row>) -> Result<RawFrame, RequestError> {
    let mut frame = RawFrame::new(rows.len());
    for (at, field) in inputs.iter().enumerate() {
        let cells = rows
            .iter()
            .map(|row| row.get(at).cloned().unwrap_or(Cell::Null));
        let column = match field.kind {
            ColumnType::Integer | ColumnType::Float => RawColumn::Numeric(
                cells
                    .map(|c| match c {
                        Cell::Number(x) => Some(x),
                        _ => None,
                    })
                    .collect(),
            ),
            ColumnType::String | ColumnType::Categorical => RawColumn::Text(
                cells
                    .map(|c| match c {
                        Cell::Text(s) => Some(s),
                        _ => None,
                    })
                    .collect(),
            ),
            ColumnType::Boolean => RawColumn::Boolean(
                cells
                    .map(|c| match c {
                        Cell::Boolean(b) => Some(b),
                        _ => None,
                    })
                    .collect(),
            ),
            ColumnType::Datetime => RawColumn::Datetime(
                cells
                    .map(|c| match c {
                        Cell::Time(t) => Some(t),
                        _ => None,
                    })
                    .collect(),
            ),
        };
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

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
