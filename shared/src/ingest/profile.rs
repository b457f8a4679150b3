//! A per-column profile of accepted data, stored in the manifest: what a reader (or a later drift
//! check) wants to know about a data version without opening it.

use std::collections::{BTreeMap, HashMap};

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

fn numeric(series: &Series) -> PolarsResult<Stats> {
    let values = series.cast(&DataType::Float64)?;
    let values = values.f64()?;
    let probabilities: Vec<f64> = QUANTILES.iter().map(|(_, q)| *q).collect();
    let values_at = values.quantiles(&probabilities, QuantileMethod::Linear)?;
    let quantiles = QUANTILES
        .iter()
        .zip(values_at)
        .filter_map(|((name, _), value)| Some((*name, value?)))
        .collect();
    Ok(Stats::Numeric {
        min: values.min(),
        max: values.max(),
        mean: values.mean(),
        std: values.std(1),
        quantiles,
    })
}

fn categorical(values: &StringChunked) -> Stats {
    let mut counts: HashMap<&str, u64> = HashMap::new();
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
            value: value.to_owned(),
            count,
        })
        .collect();
    Stats::Categorical { distinct, top }
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
