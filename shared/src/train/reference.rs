//! The reference profile stored with each model: what its training inputs and predictions looked
//! like, for the drift job to compare live data against.

use std::collections::BTreeMap;

use rand::seq::IndexedRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::features::{FeatureError, Pipeline, RawColumn, RawFrame};

/// Values kept per numeric feature for tests that need raw samples (e.g. Kolmogorov–Smirnov).
const SAMPLE_SIZE: usize = 1_000;
const QUANTILE_BINS: usize = 10;
const SCORE_BINS: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceProfile {
    pub rows: usize,
    pub features: Vec<FeatureProfile>,
    pub predictions: PredictionProfile,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeatureProfile {
    Numeric {
        name: String,
        count: usize,
        nulls: usize,
        min: f64,
        max: f64,
        mean: f64,
        std: f64,
        /// Quantile bin edges (deciles), from the minimum to the maximum.
        quantiles: Vec<f64>,
        /// A seeded random sample of at most 1,000 values.
        sample: Vec<f64>,
    },
    Categorical {
        name: String,
        count: usize,
        nulls: usize,
        /// Rows per level, as the pipeline keys them.
        frequencies: BTreeMap<String, u64>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionProfile {
    /// Rows predicted as each class on the training data.
    pub labels: BTreeMap<String, u64>,
    /// Binary: counts of the positive-class probability in 20 equal bins over [0, 1].
    pub score_histogram: Option<Vec<u64>>,
    /// Binary: a seeded sample of positive-class probabilities.
    pub score_sample: Option<Vec<f64>>,
}

pub fn profile(
    pipeline: &Pipeline,
    train: &RawFrame,
    probabilities: &[f64],
    predicted: &[usize],
    classes: &[String],
    seed: u64,
) -> Result<ReferenceProfile, FeatureError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut features = Vec::new();
    for encoder in &pipeline.numeric {
        let RawColumn::Numeric(values) = train.column(&encoder.column)? else {
            continue;
        };
        let mut present: Vec<f64> = values.iter().flatten().copied().collect();
        present.sort_unstable_by(f64::total_cmp);
        let count = present.len();
        let mean = present.iter().sum::<f64>() / count.max(1) as f64;
        let variance =
            present.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count.max(1) as f64;
        let quantiles = (0..=QUANTILE_BINS)
            .filter_map(|q| {
                present
                    .get(((count.saturating_sub(1)) * q) / QUANTILE_BINS)
                    .copied()
            })
            .collect();
        let sample = present.sample(&mut rng, SAMPLE_SIZE).copied().collect();
        features.push(FeatureProfile::Numeric {
            name: encoder.column.clone(),
            count,
            nulls: values.len() - count,
            min: present.first().copied().unwrap_or(f64::NAN),
            max: present.last().copied().unwrap_or(f64::NAN),
            mean,
            std: variance.sqrt(),
            quantiles,
            sample,
        });
    }
    for encoder in &pipeline.categorical {
        let (counts, nulls) = encoder.level_counts(train.column(&encoder.column)?)?;
        features.push(FeatureProfile::Categorical {
            name: encoder.name(),
            count: train.rows() - nulls,
            nulls,
            frequencies: counts.into_iter().map(|(k, v)| (k, v as u64)).collect(),
        });
    }

    let mut labels: BTreeMap<String, u64> = classes.iter().map(|c| (c.clone(), 0)).collect();
    for &class in predicted {
        *labels.entry(classes[class].clone()).or_default() += 1;
    }
    let binary = classes.len() == 2;
    let scores: Vec<f64> = probabilities
        .chunks(classes.len())
        .map(|p| p[p.len() - 1])
        .collect();
    let score_histogram = binary.then(|| {
        let mut bins = vec![0u64; SCORE_BINS];
        for s in &scores {
            bins[((s * SCORE_BINS as f64) as usize).min(SCORE_BINS - 1)] += 1;
        }
        bins
    });
    let score_sample = binary.then(|| scores.sample(&mut rng, SAMPLE_SIZE).copied().collect());
    Ok(ReferenceProfile {
        rows: train.rows(),
        features,
        predictions: PredictionProfile {
            labels,
            score_histogram,
            score_sample,
        },
    })
}
