//! Types every declared column per the spec. A value that does not parse becomes null in the typed
//! frame and is flagged in that column's type-error mask, so validation reports it with its raw text.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use polars::prelude::*;

use crate::spec::{BooleanWords, ColumnSpec, ColumnType};

/// The typed column and which rows held a value that is not of the declared type.
pub struct TypedColumn {
    pub series: Series,
    pub type_errors: BooleanChunked,
}

pub fn polars_type(kind: ColumnType) -> DataType {
    match kind {
        ColumnType::Integer => DataType::Int64,
        ColumnType::Float => DataType::Float64,
        ColumnType::String | ColumnType::Categorical | ColumnType::Text => DataType::String,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Datetime => DataType::Datetime(TimeUnit::Milliseconds, None),
    }
}

pub fn coerce(raw: &Series, spec: &ColumnSpec) -> PolarsResult<TypedColumn> {
    let target = polars_type(spec.kind);
    let series = if raw.dtype() == &target {
        raw.clone()
    } else {
        match (spec.kind, raw.dtype()) {
            (ColumnType::Boolean, DataType::String) => {
                parse_booleans(raw.str()?, &spec.boolean_words())
            }
            (ColumnType::Datetime, DataType::String) => {
                parse_datetimes(raw.str()?, spec.format.as_deref())?
            }
            (ColumnType::Datetime, DataType::Datetime(_, _) | DataType::Date) => {
                raw.cast(&target)?
            }
            // Integer and float columns read from text or from other numeric types; anything else
            // goes through its text form, so e.g. a JSON `1.5` in an integer column is flagged.
            (ColumnType::Integer | ColumnType::Float, dtype)
                if dtype.is_primitive_numeric() && !dtype.is_float() =>
            {
                raw.cast(&target)?
            }
            (ColumnType::Float, dtype) if dtype.is_float() => raw.cast(&target)?,
            (_, DataType::String) => raw.cast(&target)?,
            _ => raw.cast(&DataType::String)?.cast(&target)?,
        }
    };
    let type_errors = raw.is_not_null() & series.is_null();
    let series = match spec.kind {
        ColumnType::Float => nan_as_missing(series)?,
        ColumnType::Text => blank_as_missing(series)?,
        _ => series,
    };
    Ok(TypedColumn {
        series,
        type_errors,
    })
}

/// NaN is a missing value, as pandas reads it: a range check must not call it "above the
/// maximum", and nullability decides whether the column may lack it.
fn nan_as_missing(series: Series) -> PolarsResult<Series> {
    let values = series.f64()?;
    let nan = values.is_nan();
    if !nan.any() {
        return Ok(series);
    }
    Ok(values.set(&nan, None)?.into_series())
}

/// A text of nothing but whitespace is a missing one: nullability and `max_null_fraction` then
/// decide how many a column may lack.
fn blank_as_missing(series: Series) -> PolarsResult<Series> {
    let texts = series.str()?;
    let blank: BooleanChunked = texts
        .iter()
        .map(|v| Some(v.is_some_and(|v| v.trim().is_empty())))
        .collect();
    if !blank.any() {
        return Ok(series);
    }
    Ok(texts.set(&blank, None)?.into_series())
}

fn parse_booleans(text: &StringChunked, words: &BooleanWords) -> Series {
    text.iter()
        .map(|value| value.and_then(|v| words.read(v)))
        .collect::<BooleanChunked>()
        .with_name(text.name().clone())
        .into_series()
}

fn parse_datetimes(text: &StringChunked, format: Option<&str>) -> PolarsResult<Series> {
    let millis: Int64Chunked = text
        .iter()
        .map(|value| value.and_then(|v| parse_datetime(v.trim(), format)))
        .collect();
    Ok(millis
        .with_name(text.name().clone())
        .into_datetime(TimeUnit::Milliseconds, None)
        .into_series())
}

/// Milliseconds since the epoch (UTC) of one value.
fn parse_datetime(value: &str, format: Option<&str>) -> Option<i64> {
    if let Some(format) = format {
        return NaiveDateTime::parse_from_str(value, format)
            .map(|dt| dt.and_utc().timestamp_millis())
            .or_else(|_| DateTime::parse_from_str(value, format).map(|dt| dt.timestamp_millis()))
            .or_else(|_| {
                NaiveDate::parse_from_str(value, format).map(|d| {
                    d.and_time(chrono::NaiveTime::MIN)
                        .and_utc()
                        .timestamp_millis()
                })
            })
            .ok();
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(value) {
        return Some(dt.timestamp_millis());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(value, format) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok().map(|d| {
        d.and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis()
    })
}

#[cfg(test)]
#[path = "coerce_tests.rs"]
mod tests;
