//! Input columns before preprocessing, from a curated polars frame (training) or from JSON records
//! (serving), so both go through one transform.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::FeatureError;
use crate::spec::{ColumnSpec, ColumnType};

/// The largest magnitude an integer feature takes: every integer up to it is exact in the f64 a
/// feature is held in (2^53 - 1, JavaScript's `Number.MAX_SAFE_INTEGER`); beyond it, 2^63 would
/// be scored as 9.2e18.
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

#[derive(Debug, Clone, PartialEq)]
pub enum RawColumn {
    /// Integer and float columns.
    Numeric(Vec<Option<f64>>),
    /// String and categorical columns.
    Text(TextColumn),
    Boolean(Vec<Option<bool>>),
    /// Milliseconds since the epoch, UTC.
    Datetime(Vec<Option<i64>>),
}

impl RawColumn {
    /// An empty column for values of `kind`, with room for `rows` rows.
    pub fn with_capacity(kind: ColumnType, rows: usize) -> RawColumn {
        match kind {
            ColumnType::Integer | ColumnType::Float => RawColumn::Numeric(Vec::with_capacity(rows)),
            ColumnType::String | ColumnType::Categorical | ColumnType::Text => {
                RawColumn::Text(TextColumn::with_capacity(rows))
            }
            ColumnType::Boolean => RawColumn::Boolean(Vec::with_capacity(rows)),
            ColumnType::Datetime => RawColumn::Datetime(Vec::with_capacity(rows)),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            RawColumn::Numeric(v) => v.len(),
            RawColumn::Text(v) => v.len(),
            RawColumn::Boolean(v) => v.len(),
            RawColumn::Datetime(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a row holding a null.
    pub fn push_null(&mut self) {
        match self {
            RawColumn::Numeric(v) => v.push(None),
            RawColumn::Text(v) => v.push(None),
            RawColumn::Boolean(v) => v.push(None),
            RawColumn::Datetime(v) => v.push(None),
        }
    }

    /// Makes the last row a null.
    pub fn clear_last(&mut self) {
        fn clear<T>(values: &mut [Option<T>]) {
            if let Some(last) = values.last_mut() {
                *last = None;
            }
        }
        match self {
            RawColumn::Numeric(v) => clear(v),
            RawColumn::Text(v) => v.clear_last(),
            RawColumn::Boolean(v) => clear(v),
            RawColumn::Datetime(v) => clear(v),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            RawColumn::Numeric(_) => "numeric",
            RawColumn::Text(_) => "text",
            RawColumn::Boolean(_) => "boolean",
            RawColumn::Datetime(_) => "datetime",
        }
    }

    /// Adds `other`'s rows after this column's; false (and nothing added) when it holds another
    /// kind of value.
    pub fn append(&mut self, other: RawColumn) -> bool {
        match (self, other) {
            (RawColumn::Numeric(a), RawColumn::Numeric(b)) => a.extend(b),
            (RawColumn::Text(a), RawColumn::Text(b)) => a.append(&b),
            (RawColumn::Boolean(a), RawColumn::Boolean(b)) => a.extend(b),
            (RawColumn::Datetime(a), RawColumn::Datetime(b)) => a.extend(b),
            _ => return false,
        }
        true
    }

    /// The rows at `indices`, in that order.
    pub fn take(&self, indices: &[usize]) -> RawColumn {
        fn pick<T: Clone>(values: &[T], indices: &[usize]) -> Vec<T> {
            indices.iter().map(|&i| values[i].clone()).collect()
        }
        match self {
            RawColumn::Numeric(v) => RawColumn::Numeric(pick(v, indices)),
            RawColumn::Text(v) => RawColumn::Text(v.take(indices)),
            RawColumn::Boolean(v) => RawColumn::Boolean(pick(v, indices)),
            RawColumn::Datetime(v) => RawColumn::Datetime(pick(v, indices)),
        }
    }

    /// A curated column typed per its spec.
    pub fn from_polars(series: &Series, spec: &ColumnSpec) -> Result<RawColumn, FeatureError> {
        RawColumn::from_series(series, spec.kind).map_err(|_| FeatureError::WrongType {
            column: spec.name.clone(),
            expected: spec.kind.as_str(),
            found: "a column polars cannot cast",
        })
    }

    /// Reads a curated column, whose polars type follows the spec's column type.
    fn from_series(series: &Series, kind: ColumnType) -> PolarsResult<RawColumn> {
        Ok(match kind {
            ColumnType::Integer | ColumnType::Float => {
                let values = series.cast(&DataType::Float64)?;
                RawColumn::Numeric(with_nulls(values.f64()?))
            }
            ColumnType::String | ColumnType::Categorical | ColumnType::Text => {
                let values = series.cast(&DataType::String)?;
                RawColumn::Text(values.str()?.iter().collect())
            }
            ColumnType::Boolean => {
                let values = series.cast(&DataType::Boolean)?;
                RawColumn::Boolean(values.bool()?.iter().collect())
            }
            ColumnType::Datetime => {
                let values = series.cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?;
                RawColumn::Datetime(with_nulls(values.datetime()?.physical()))
            }
        })
    }
}

/// A numeric column's values with their nulls, chunk by chunk over the arrays' slices: polars'
/// per-value iterator was a tenth of drift's CPU time on 1 M rows per side (perf).
fn with_nulls<T: PolarsNumericType>(column: &ChunkedArray<T>) -> Vec<Option<T::Native>> {
    let mut out = Vec::with_capacity(column.len());
    for array in column.downcast_iter() {
        match array.validity().filter(|valid| valid.unset_bits() > 0) {
            None => out.extend(array.values().iter().map(|&x| Some(x))),
            Some(valid) => out.extend(
                array
                    .values()
                    .iter()
                    .zip(valid.iter())
                    .map(|(&x, ok)| ok.then_some(x)),
            ),
        }
    }
    out
}

/// Text values in one buffer: no allocation per value, which at millions of rows (drift,
/// training) or thousands per request (serving) is most of the cost of a column of strings.
#[derive(Debug, Clone, Default)]
pub struct TextColumn {
    text: String,
    /// Each row's start and end in `text`; None for a null.
    spans: Vec<Option<(usize, usize)>>,
}

impl TextColumn {
    /// Room for `rows` rows of a few characters each.
    pub fn with_capacity(rows: usize) -> Self {
        TextColumn {
            text: String::with_capacity(rows * 4),
            spans: Vec::with_capacity(rows),
        }
    }

    pub fn push(&mut self, value: Option<&str>) {
        self.spans.push(value.map(|v| {
            let start = self.text.len();
            self.text.push_str(v);
            (start, self.text.len())
        }));
    }

    /// Sets the last row's value; false when there is no row.
    pub fn set_last(&mut self, value: &str) -> bool {
        let start = self.text.len();
        match self.spans.last_mut() {
            Some(span) => {
                self.text.push_str(value);
                *span = Some((start, self.text.len()));
                true
            }
            None => false,
        }
    }

    /// Makes the last row a null.
    pub fn clear_last(&mut self) {
        if let Some(span) = self.spans.last_mut() {
            *span = None;
        }
    }

    /// The row's value; None for a null or a row past the end.
    pub fn get(&self, row: usize) -> Option<&str> {
        let (start, end) = (*self.spans.get(row)?)?;
        self.text.get(start..end)
    }

    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        self.spans
            .iter()
            .map(|span| span.and_then(|(start, end)| self.text.get(start..end)))
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn take(&self, indices: &[usize]) -> TextColumn {
        indices.iter().map(|&i| self.get(i)).collect()
    }

    fn append(&mut self, other: &TextColumn) {
        let offset = self.text.len();
        self.text.push_str(&other.text);
        self.spans.extend(
            other
                .spans
                .iter()
                .map(|span| span.map(|(start, end)| (start + offset, end + offset))),
        );
    }
}

/// Equal when the values are (the buffer may hold text no row points at).
impl PartialEq for TextColumn {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<'a> FromIterator<Option<&'a str>> for TextColumn {
    fn from_iter<I: IntoIterator<Item = Option<&'a str>>>(values: I) -> Self {
        let mut column = TextColumn::default();
        values.into_iter().for_each(|v| column.push(v));
        column
    }
}

/// Named columns of equal length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawFrame {
    rows: usize,
    columns: BTreeMap<String, RawColumn>,
}

impl RawFrame {
    pub fn new(rows: usize) -> Self {
        Self {
            rows,
            columns: BTreeMap::new(),
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn insert(
        &mut self,
        name: impl Into<String>,
        column: RawColumn,
    ) -> Result<(), FeatureError> {
        let name = name.into();
        if column.len() != self.rows {
            return Err(FeatureError::Length {
                column: name,
                expected: self.rows,
                found: column.len(),
            });
        }
        self.columns.insert(name, column);
        Ok(())
    }

    pub fn column(&self, name: &str) -> Result<&RawColumn, FeatureError> {
        self.columns
            .get(name)
            .ok_or_else(|| FeatureError::MissingColumn(name.to_owned()))
    }

    pub fn take(&self, indices: &[usize]) -> RawFrame {
        RawFrame {
            rows: indices.len(),
            columns: self
                .columns
                .iter()
                .map(|(name, col)| (name.clone(), col.take(indices)))
                .collect(),
        }
    }

    /// The given columns of a curated frame, typed per their spec.
    pub fn from_polars(frame: &DataFrame, columns: &[&ColumnSpec]) -> Result<Self, FeatureError> {
        let mut raw = RawFrame::new(frame.height());
        for spec in columns {
            let series = frame
                .column(&spec.name)
                .map_err(|_| FeatureError::MissingColumn(spec.name.clone()))?
                .as_materialized_series();
            raw.insert(spec.name.clone(), RawColumn::from_polars(series, spec)?)?;
        }
        Ok(raw)
    }
}
