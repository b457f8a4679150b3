//! A per-column profile of accepted data, stored in the manifest: what a reader (or a later drift
//! check) wants to know about a data version without opening it. Built a batch at a time.

use std::collections::BTreeMap;

use foldhash::HashMap;
use hyperloglogplus::{HyperLogLog, HyperLogLogPlus};

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use crate::moments::Moments;
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
    /// From sketches (quantiles, distinct counts), the column having too many values to hold.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub estimated: bool,
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
    let mut builder = ProfileBuilder::new(spec);
    builder.add(frame)?;
    Ok(builder.finish())
}

/// Numeric values held exactly per column before a t-digest takes over: 8 MB of f64s. Every
/// month of the flights data, and any upload below a million rows, is profiled exactly.
pub const EXACT_VALUES: usize = 1 << 20;
/// Distinct categories counted exactly per column before a HyperLogLog counts them.
pub const EXACT_DISTINCT: usize = 100_000;
/// The t-digest's compression: quantiles within about 0.5% of rank.
const DIGEST_SIZE: usize = 200;
/// HyperLogLog++ precision: 16 K registers, about 0.8% relative error.
const HLL_PRECISION: u8 = 14;

/// A profile built from a file's typed rows a batch at a time, in constant memory per column:
/// exact, as [`profile`] of the whole frame, while a column's values fit the exact limits, then
/// from mergeable sketches (a t-digest for quantiles, running moments for mean and deviation, a
/// HyperLogLog for distinct counts), and then marked `estimated`.
pub struct ProfileBuilder<'s> {
    spec: &'s DatasetSpec,
    columns: Vec<ColumnSketch>,
}

struct ColumnSketch {
    nulls: u64,
    stats: StatsSketch,
}

enum StatsSketch {
    Numeric(NumericSketch),
    Categorical(CategorySketch),
    Boolean { trues: u64 },
    Datetime { min: Option<i64>, max: Option<i64> },
    Text(TextSketch),
}

struct NumericSketch {
    /// The present values while they fit; `None` once the digest holds them.
    exact: Option<Vec<f64>>,
    digest: tdigest::TDigest,
    /// Once the digest holds the values: their count, extremes, mean and deviations.
    moments: Moments,
}

#[derive(Default)]
struct CategorySketch {
    counts: HashMap<String, u64>,
    /// Every value, once there are more distinct ones than counted exactly.
    distinct: Option<HyperLogLogPlus<str, foldhash::fast::FixedState>>,
}

#[derive(Default)]
struct TextSketch {
    count: u64,
    total: u64,
    min: Option<u64>,
    max: Option<u64>,
}

impl<'s> ProfileBuilder<'s> {
    pub fn new(spec: &'s DatasetSpec) -> Self {
        let columns = spec
            .columns
            .iter()
            .map(|col| ColumnSketch {
                nulls: 0,
                stats: match col.kind {
                    ColumnType::Integer | ColumnType::Float => {
                        StatsSketch::Numeric(NumericSketch {
                            exact: Some(Vec::new()),
                            digest: tdigest::TDigest::new_with_size(DIGEST_SIZE),
                            moments: Moments::default(),
                        })
                    }
                    ColumnType::String | ColumnType::Categorical => {
                        StatsSketch::Categorical(CategorySketch::default())
                    }
                    ColumnType::Boolean => StatsSketch::Boolean { trues: 0 },
                    ColumnType::Datetime => StatsSketch::Datetime {
                        min: None,
                        max: None,
                    },
                    ColumnType::Text => StatsSketch::Text(TextSketch::default()),
                },
            })
            .collect();
        Self { spec, columns }
    }

    /// Adds a batch of typed rows (every declared column).
    pub fn add(&mut self, frame: &DataFrame) -> PolarsResult<()> {
        self.columns
            .par_iter_mut()
            .zip(&self.spec.columns)
            .try_for_each(|(sketch, col)| {
                let series = frame.column(&col.name)?.as_materialized_series();
                sketch.nulls += series.null_count() as u64;
                match &mut sketch.stats {
                    StatsSketch::Numeric(numeric) => {
                        let values = series.cast(&DataType::Float64)?;
                        numeric.add(present_values(values.f64()?));
                    }
                    StatsSketch::Categorical(categories) => categories.add(series.str()?),
                    StatsSketch::Boolean { trues } => {
                        *trues += series.bool()?.sum().unwrap_or(0) as u64
                    }
                    StatsSketch::Datetime { min, max } => {
                        let millis = series.cast(&DataType::Int64)?;
                        let millis = millis.i64()?;
                        *min = min.iter().copied().chain(millis.min()).min();
                        *max = max.iter().copied().chain(millis.max()).max();
                    }
                    StatsSketch::Text(text) => text.add(series.str()?),
                }
                Ok(())
            })
    }

    pub fn finish(self) -> Vec<ColumnProfile> {
        self.columns
            .into_iter()
            .zip(&self.spec.columns)
            .map(|(sketch, col)| {
                let (stats, estimated) = match sketch.stats {
                    StatsSketch::Numeric(numeric) => numeric.finish(),
                    StatsSketch::Categorical(categories) => categories.finish(),
                    StatsSketch::Boolean { trues } => (Stats::Boolean { true_count: trues }, false),
                    StatsSketch::Datetime { min, max } => {
                        let iso = |ms: Option<i64>| {
                            ms.and_then(chrono::DateTime::from_timestamp_millis)
                                .map(|dt| dt.to_rfc3339())
                        };
                        let stats = Stats::Datetime {
                            min: iso(min),
                            max: iso(max),
                        };
                        (stats, false)
                    }
                    StatsSketch::Text(text) => (text.finish(), false),
                };
                ColumnProfile {
                    name: col.name.clone(),
                    kind: col.kind,
                    nulls: sketch.nulls,
                    estimated,
                    stats,
                }
            })
            .collect()
    }
}

impl NumericSketch {
    fn add(&mut self, values: Vec<f64>) {
        match &mut self.exact {
            Some(exact) if exact.len() + values.len() <= EXACT_VALUES => exact.extend(values),
            Some(exact) => {
                let held = std::mem::take(exact);
                self.exact = None;
                self.moments.add(&held);
                self.moments.add(&values);
                self.digest = self.digest.merge_unsorted(held).merge_unsorted(values);
            }
            None => {
                self.moments.add(&values);
                self.digest = self.digest.merge_unsorted(values);
            }
        }
    }

    fn finish(self) -> (Stats, bool) {
        if let Some(exact) = self.exact {
            return (numeric_of(exact), false);
        }
        let m = self.moments;
        let quantiles = QUANTILES
            .iter()
            .map(|(name, q)| (*name, self.digest.estimate_quantile(*q)))
            .collect();
        let stats = Stats::Numeric {
            min: Some(m.min),
            max: Some(m.max),
            mean: Some(m.mean),
            std: (m.count > 1).then(|| (m.m2 / (m.count - 1) as f64).sqrt()),
            quantiles,
        };
        (stats, true)
    }
}

impl CategorySketch {
    fn add(&mut self, values: &StringChunked) {
        for value in values.iter().flatten() {
            if let Some(distinct) = &mut self.distinct {
                distinct.insert(value);
                // Past the exact limit, only the values counted so far keep their counts.
                if let Some(count) = self.counts.get_mut(value) {
                    *count += 1;
                }
                continue;
            }
            match self.counts.get_mut(value) {
                Some(count) => *count += 1,
                None => {
                    self.counts.insert(value.to_owned(), 1);
                    if self.counts.len() > EXACT_DISTINCT {
                        self.distinct = Some(self.estimator());
                    }
                }
            }
        }
    }

    /// A HyperLogLog holding the values counted so far.
    fn estimator(&self) -> HyperLogLogPlus<str, foldhash::fast::FixedState> {
        let mut distinct =
            HyperLogLogPlus::new(HLL_PRECISION, foldhash::fast::FixedState::default())
                .unwrap_or_else(|e| unreachable!("precision {HLL_PRECISION} is valid: {e}"));
        for value in self.counts.keys() {
            distinct.insert(value.as_str());
        }
        distinct
    }

    fn finish(self) -> (Stats, bool) {
        let (distinct, estimated) = match self.distinct {
            Some(mut estimator) => (estimator.count().round() as u64, true),
            None => (self.counts.len() as u64, false),
        };
        (
            ranked(self.counts.iter().map(|(v, c)| (v.as_str(), *c)), distinct),
            estimated,
        )
    }
}

impl TextSketch {
    fn add(&mut self, values: &StringChunked) {
        for length in values.iter().flatten().map(|v| v.chars().count() as u64) {
            self.count += 1;
            self.total += length;
            self.min = Some(self.min.map_or(length, |m| m.min(length)));
            self.max = Some(self.max.map_or(length, |m| m.max(length)));
        }
    }

    fn finish(self) -> Stats {
        Stats::Text {
            min_length: self.min,
            mean_length: (self.count > 0).then(|| self.total as f64 / self.count as f64),
            max_length: self.max,
        }
    }
}

/// Min, max, mean, sample standard deviation and quantiles of the present values, exactly, from
/// one copy of them. Quantiles interpolate linearly between order statistics (as numpy and pandas
/// do by default); the order statistics are found by selection rather than a sort, which profiles
/// several times faster.
fn numeric_of(mut present: Vec<f64>) -> Stats {
    let n = present.len();
    if n == 0 {
        return Stats::Numeric {
            min: None,
            max: None,
            mean: None,
            std: None,
            quantiles: BTreeMap::new(),
        };
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
    Stats::Numeric {
        min: Some(present[0]),
        max: Some(present[n - 1]),
        mean: Some(mean),
        std,
        quantiles,
    }
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

/// The most frequent values (by count, then value), with the distinct count.
fn ranked<'v>(counts: impl Iterator<Item = (&'v str, u64)>, distinct: u64) -> Stats {
    let mut top: Vec<(&str, u64)> = counts.collect();
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

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
