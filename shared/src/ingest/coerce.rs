//! Types every declared column per the spec. A value that does not parse becomes null in the typed
//! frame and is flagged in that column's type-error mask, so validation reports it with its raw text.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use polars::prelude::*;

use crate::spec::{ColumnSpec, ColumnType};

/// The typed column and which rows held a value that is not of the declared type.
pub struct TypedColumn {
    pub series: Series,
    pub type_errors: BooleanChunked,
}

pub fn polars_type(kind: ColumnType) -> DataType {
    match kind {
        ColumnType::Integer => DataType::Int64,
        ColumnType::Float => DataType::Float64,
        ColumnType::String | ColumnType::Categorical => DataType::String,
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
            (ColumnType::Boolean, DataType::String) => parse_booleans(raw.str()?),
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
    Ok(TypedColumn {
        series,
        type_errors,
    })
}

fn parse_booleans(text: &StringChunked) -> Series {
    text.iter()
        .map(|value| {
            value.and_then(|v| match v.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "y" | "1" => Some(true),
                "false" | "f" | "no" | "n" | "0" => Some(false),
                _ => None,
            })
        })
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
mod tests {
    use super::*;

    fn column(kind: ColumnType) -> ColumnSpec {
        toml::from_str(&format!("name = \"c\"\ntype = \"{kind}\"")).unwrap()
    }

    fn text(values: &[Option<&str>]) -> Series {
        Series::new("c".into(), values)
    }

    fn errors(typed: &TypedColumn) -> Vec<bool> {
        typed
            .type_errors
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect()
    }

    #[test]
    fn flags_values_that_are_not_of_the_declared_type() {
        let typed = coerce(
            &text(&[Some("1"), Some("x"), None, Some("2.5")]),
            &column(ColumnType::Integer),
        )
        .unwrap();
        assert_eq!(typed.series.dtype(), &DataType::Int64);
        assert_eq!(errors(&typed), [false, true, false, true]);
        let typed = coerce(
            &text(&[Some("1.5"), Some("nan?")]),
            &column(ColumnType::Float),
        )
        .unwrap();
        assert_eq!(errors(&typed), [false, true]);
    }

    #[test]
    fn parses_booleans_and_datetimes() {
        let typed = coerce(
            &text(&[Some("yes"), Some("0"), Some("maybe")]),
            &column(ColumnType::Boolean),
        )
        .unwrap();
        assert_eq!(errors(&typed), [false, false, true]);
        let values = [
            Some("2013-01-01T10:00:00Z"),
            Some("2013-01-01 10:00:00"),
            Some("2013-01-01"),
            Some("soon"),
        ];
        let typed = coerce(&text(&values), &column(ColumnType::Datetime)).unwrap();
        assert_eq!(errors(&typed), [false, false, false, true]);
        let millis: Vec<Option<i64>> = typed
            .series
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(millis[0], Some(1_357_034_400_000));
        assert_eq!(millis[0], millis[1]);
    }

    #[test]
    fn json_floats_in_integer_columns_are_flagged() {
        let raw = Series::new("c".into(), &[Some(1.0f64), Some(2.5)]);
        let typed = coerce(&raw, &column(ColumnType::Integer)).unwrap();
        assert_eq!(
            errors(&typed),
            [true, true],
            "floats are not integers, even 1.0 written as a float"
        );
    }
}
