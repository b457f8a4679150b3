//! Splitting rows into train, validation and test: by time when the data has a time column (the
//! model is judged on a later period than it learned from), otherwise at random within each class.

use rand::seq::{IndexedRandom, SliceRandom};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::curated::Curated;
use super::DataError;
use crate::features::{FeatureError, RawColumn};
use crate::spec::{SplitSection, SplitStrategy};

#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
    pub test: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
pub struct Fractions {
    pub train: f64,
    pub validation: f64,
}

/// The first and last time in a part, as RFC 3339 text, for lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeRange {
    pub from: String,
    pub to: String,
}

/// Earlier rows train, later rows validate, the latest test. Rows with the same time stay in one
/// part, so no moment is both learned from and judged on.
pub fn by_time(times: &[i64], fractions: Fractions) -> Split {
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by_key(|&i| (times[i], i));
    let n = order.len();
    let cut = |share: f64| {
        let mut at = ((n as f64 * share).round() as usize).min(n);
        while at > 0 && at < n && times[order[at]] == times[order[at - 1]] {
            at += 1;
        }
        at
    };
    let first = cut(fractions.train);
    let second = cut(fractions.train + fractions.validation).max(first);
    Split {
        train: order[..first].to_vec(),
        validation: order[first..second].to_vec(),
        test: order[second..].to_vec(),
    }
}

/// A seeded random split that keeps each class's share in every part.
pub fn stratified(labels: &[u32], classes: usize, fractions: Fractions, seed: u64) -> Split {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut split = Split {
        train: Vec::new(),
        validation: Vec::new(),
        test: Vec::new(),
    };
    for class in 0..classes as u32 {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rows.shuffle(&mut rng);
        let n = rows.len() as f64;
        let first = (n * fractions.train).round() as usize;
        let second = ((n * (fractions.train + fractions.validation)).round() as usize).max(first);
        split.train.extend_from_slice(&rows[..first]);
        split.validation.extend_from_slice(&rows[first..second]);
        split.test.extend_from_slice(&rows[second..]);
    }
    split.train.sort_unstable();
    split.validation.sort_unstable();
    split.test.sort_unstable();
    split
}

/// Rows of the training part repeated at random until every class has as many as the largest.
pub fn oversample(train: &[usize], labels: &[u32], classes: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let by_class: Vec<Vec<usize>> = (0..classes as u32)
        .map(|c| train.iter().copied().filter(|&i| labels[i] == c).collect())
        .collect();
    let largest = by_class.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = train.to_vec();
    for rows in by_class.iter().filter(|rows| !rows.is_empty()) {
        for _ in rows.len()..largest {
            if let Some(&row) = rows.choose(&mut rng) {
                out.push(row);
            }
        }
    }
    out
}

pub fn time_range(times: &[i64], rows: &[usize]) -> Option<TimeRange> {
    let min = rows.iter().map(|&i| times[i]).min()?;
    let max = rows.iter().map(|&i| times[i]).max()?;
    let text = |millis: i64| {
        chrono::DateTime::from_timestamp_millis(millis)
            .map_or_else(|| millis.to_string(), |t| t.to_rfc3339())
    };
    Some(TimeRange {
        from: text(min),
        to: text(max),
    })
}

/// Train, validation and test positions among the labelled `rows` of `data` (their classes `y`)
/// as the split section says, with each labelled row's time for a time split (the only column it
/// reads). Training and the promotion's holdout both split here, so the test part the champion is
/// scored on is exactly the candidate's.
pub fn split_rows(
    split: &SplitSection,
    data: &Curated,
    rows: &[usize],
    y: &[u32],
    classes: usize,
) -> Result<(Split, Option<Vec<i64>>), DataError> {
    let fractions = Fractions {
        train: split.train,
        validation: split.validation,
    };
    let times = match (&split.strategy, &split.time_column) {
        (SplitStrategy::Time, Some(column)) => match data.column(column)?.take(rows) {
            RawColumn::Datetime(values) => Some(
                values
                    .into_iter()
                    .map(|v| v.unwrap_or(i64::MIN))
                    .collect::<Vec<_>>(),
            ),
            other => {
                return Err(FeatureError::WrongType {
                    column: column.clone(),
                    expected: "datetime",
                    found: other.kind_name(),
                }
                .into())
            }
        },
        _ => None,
    };
    let parts = match &times {
        Some(times) => by_time(times, fractions),
        None => stratified(y, classes, fractions, split.seed),
    };
    Ok((parts, times))
}

#[cfg(test)]
#[path = "split_tests.rs"]
mod tests;
