//! A per-column profile of accepted data, stored in the manifest: what a reader (or a later drift
//! check) wants to know about a data version without opening it.

use std::collections::BTreeMap;

use foldhash::HashMap;

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use crate::spec::{ColumnType, DatasetSpec};

const TOP_CATEGORIES: usize = 10;
const QUANTILES: [(&str, f64); 5] = [
    ("p05", 0.05),
    ("p25", 0.25),
    ("p50", 0.5),
    ("p75", 0.75),
    ("p95", 0.95),
];

#[derive(Debug, Clone, Serialize)]
pub struct ColumnProfile {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
    pub nulls: u64,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Stats {
    Numeric {
        min: Option<f64>,
        max: Option<f64>,
        mean: Option<f64>,
        std: Option<f64>,
        quantiles: BTreeMap<&'static str, f64>,
    },
    Categorical {
        distinct: u64,
        top: Vec<CategoryCount>,
    },
    Boolean {
        true_count: u64,
    },
    Datetime {
        min: Option<String>,
        max: Option<String>,
    },
    /// Free text: its length in characters (distinct texts tell nothing).
    Text {
        min_length: Option<u64>,
        mean_length: Option<f64>,
        max_length: Option<u64>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryCount {
    pub value: String,
    pub count: u64,
}

/// Profiles every declared column of a typed, validated frame.
pub fn profile(frame: &DataFrame, spec: &DatasetSpec) -> PolarsResult<Vec<ColumnProfile>> {
    spec.columns
        .par_iter()
        .map(|col| {
            let series = frame.column(&col.name)?.as_materialized_series();
            let stats = match col.kind {
                ColumnType::Integer | ColumnType::Float => numeric(series)?,
                ColumnType::String | ColumnType::Categorical => categorical(series.str()?),
                ColumnType::Boolean => Stats::Boolean {
                    true_count: series.bool()?.sum().unwrap_or(0) as u64,
                },
                ColumnType::Datetime => datetime(series)?,
                ColumnType::Text => text(series.str()?),
            };
            Ok(ColumnProfile {
                name: col.name.clone(),
                kind: col.kind,
                nulls: series.null_count() as u64,
                stats,
            })
        })
        .collect()
}

/// Min, max, mean, sample standard deviation and quantiles of the present values (nulls and NaN
/// left out), from one copy of them. Quantiles interpolate linearly between order statistics (as
/// numpy and pandas do by default); the order statistics are found by selection rather than a sort,
/// which profiles several times faster.
fn numeric(series: &Series) -> PolarsResult<Stats> {
    let values = series.cast(&DataType::Float64)?;
    let mut present = present_values(values.f64()?);
    let n = present.len();
    if n == 0 {
        return Ok(Stats::Numeric {
            min: None,
            max: None,
            mean: None,
            std: None,
            quantiles: BTreeMap::new(),
        });
    }
    let mean = present.iter().sum::<f64>() / n as f64;
    let std = (n > 1).then(|| {
        let squares: f64 = present.iter().map(|v| (v - mean) * (v - mean)).sum();
        (squares / (n - 1) as f64).sqrt()
    });
    // The ranks each quantile interpolates between, plus the extremes.
    let position = |q: f64| q * (n - 1) as f64;
    let mut ranks: Vec<usize> = QUANTILES
        .iter()
        .flat_map(|(_, q)| [position(*q).floor() as usize, position(*q).ceil() as usize])
        .chain([0, n - 1])
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    select_ranks(&mut present, &ranks);
    let quantiles = QUANTILES
        .iter()
        .map(|(name, q)| {
            let (at, below) = (position(*q), position(*q).floor());
            let (low, high) = (present[below as usize], present[at.ceil() as usize]);
            (*name, low + (at - below) * (high - low))
        })
        .collect();
    Ok(Stats::Numeric {
        min: Some(present[0]),
        max: Some(present[n - 1]),
        mean: Some(mean),
        std,
        quantiles,
    })
}

/// The values that are neither null nor NaN, read chunk by chunk over the arrays' slices and
/// validity bitmaps: polars' per-value iterator showed in profiles of ingestion, whose delay and
/// time columns have nulls.
fn present_values(column: &Float64Chunked) -> Vec<f64> {
    let mut present = Vec::with_capacity(column.len() - column.null_count());
    for array in column.downcast_iter() {
        let values = array.values().iter().copied();
        match array.validity().filter(|valid| valid.unset_bits() > 0) {
            None => present.extend(values.filter(|v| !v.is_nan())),
            Some(valid) => present.extend(
                values
                    .zip(valid.iter())
                    .filter(|&(v, ok)| ok && !v.is_nan())
                    .map(|(v, _)| v),
            ),
        }
    }
    present
}

/// Reorders `values` so that each of the ascending `ranks` holds the value of that rank in sorted
/// order: one selection per rank, each within the part the previous ones left unsettled.
fn select_ranks(values: &mut [f64], ranks: &[usize]) {
    let Some(&middle) = ranks.get(ranks.len() / 2) else {
        return;
    };
    let (below, _, above) = values.select_nth_unstable_by(middle, f64::total_cmp);
    let split = ranks.len() / 2;
    select_ranks(below, &ranks[..split]);
    let offset = middle + 1;
    let higher: Vec<usize> = ranks[split + 1..].iter().map(|r| r - offset).collect();
    select_ranks(above, &higher);
}

fn categorical(values: &StringChunked) -> Stats {
    let mut counts: HashMap<&str, u64> = HashMap::default();
    for value in values.iter().flatten() {
        *counts.entry(value).or_default() += 1;
    }
    let distinct = counts.len() as u64;
    let mut top: Vec<(&str, u64)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let top = top
        .into_iter()
        .take(TOP_CATEGORIES)
        .map(|(value, count)| CategoryCount {
            value: crate::excerpt::excerpt(value).into_owned(),
            count,
        })
        .collect();
    Stats::Categorical { distinct, top }
}

fn text(values: &StringChunked) -> Stats {
    let lengths: Vec<u64> = values
        .iter()
        .flatten()
        .map(|v| v.chars().count() as u64)
        .collect();
    Stats::Text {
        min_length: lengths.iter().min().copied(),
        mean_length: (!lengths.is_empty())
            .then(|| lengths.iter().sum::<u64>() as f64 / lengths.len() as f64),
        max_length: lengths.iter().max().copied(),
    }
}

fn datetime(series: &Series) -> PolarsResult<Stats> {
    let millis = series.cast(&DataType::Int64)?;
    let millis = millis.i64()?;
    let iso = |ms: Option<i64>| {
        ms.and_then(chrono::DateTime::from_timestamp_millis)
            .map(|dt| dt.to_rfc3339())
    };
    Ok(Stats::Datetime {
        min: iso(millis.min()),
        max: iso(millis.max()),
    })
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
