//! Profiles of the same pipeline's features merged into one: a window of days is the days'
//! profiles merged, not their records read again. Counts, extremes, means and deviations merge
//! exactly; numeric values stay exact while both sides are and the union is small enough,
//! otherwise they become a uniform sample drawn from both in proportion to their counts; levels
//! past [`MAX_LEVELS`] and words past [`TOP_WORDS`] keep the most frequent.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::profile::{
    CategoricalProfile, FeatureProfile, NumericProfile, PredictionProfile, Profile, TextProfile,
    MAX_DISTINCT, MAX_LEVELS, OTHER_LEVELS, TOP_WORDS,
};
use super::stats::Counts;

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("profiles of different features cannot be merged: {0}")]
pub struct MergeError(String);

impl Profile {
    /// This profile and `other` as one; `seed` makes any sampling reproducible.
    pub fn merge(self, other: Profile, seed: u64) -> Result<Profile, MergeError> {
        let names = |p: &Profile| p.features.iter().map(|f| f.name().to_owned()).collect();
        let (ours, theirs): (Vec<String>, Vec<String>) = (names(&self), names(&other));
        if ours != theirs {
            return Err(MergeError(format!(
                "[{}] and [{}]",
                ours.join(", "),
                theirs.join(", ")
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let features = self
            .features
            .into_iter()
            .zip(other.features)
            .map(|pair| {
                Ok(match pair {
                    (FeatureProfile::Numeric(a), FeatureProfile::Numeric(b)) => {
                        FeatureProfile::Numeric(numeric(a, b, &mut rng))
                    }
                    (FeatureProfile::Categorical(a), FeatureProfile::Categorical(b)) => {
                        FeatureProfile::Categorical(categorical(a, b))
                    }
                    (FeatureProfile::Text(a), FeatureProfile::Text(b)) => {
                        FeatureProfile::Text(text(a, b, &mut rng))
                    }
                    (a, _) => {
                        return Err(MergeError(format!(
                            "{} is of another kind on each side",
                            a.name()
                        )))
                    }
                })
            })
            .collect::<Result<Vec<_>, MergeError>>()?;
        let predictions = match (self.predictions, other.predictions) {
            (Some(a), Some(b)) => Some(PredictionProfile {
                labels: categorical(a.labels, b.labels),
                score: match (a.score, b.score) {
                    (Some(a), Some(b)) => Some(numeric(a, b, &mut rng)),
                    (a, b) => a.or(b),
                },
            }),
            (a, b) => a.or(b),
        };
        Ok(Profile {
            rows: self.rows + other.rows,
            features,
            predictions,
        })
    }
}

fn numeric(a: NumericProfile, b: NumericProfile, rng: &mut ChaCha8Rng) -> NumericProfile {
    if b.count == 0 {
        return NumericProfile {
            nulls: a.nulls + b.nulls,
            ..a
        };
    }
    if a.count == 0 {
        return NumericProfile {
            nulls: a.nulls + b.nulls,
            name: a.name,
            ..b
        };
    }
    let (na, nb) = (a.count as f64, b.count as f64);
    let n = na + nb;
    let (mean_a, mean_b) = (a.mean.unwrap_or(0.0), b.mean.unwrap_or(0.0));
    let delta = mean_b - mean_a;
    let mean = mean_a + delta * nb / n;
    // Chan et al.'s pairwise update of the squared deviations.
    let m2 = |std: Option<f64>, count: f64| std.unwrap_or(0.0).powi(2) * count;
    let m2 = m2(a.std, na) + m2(b.std, nb) + delta * delta * na * nb / n;
    let union = || {
        Counts::from_pairs(
            a.values
                .values
                .iter()
                .copied()
                .zip(a.values.counts.iter().copied())
                .chain(
                    b.values
                        .values
                        .iter()
                        .copied()
                        .zip(b.values.counts.iter().copied()),
                )
                .collect(),
        )
    };
    let (exact, values) = if a.exact && b.exact && union().distinct() <= MAX_DISTINCT {
        (true, union())
    } else {
        // Each side gives its share of the sample: a uniform sample of the two together.
        let from_a = ((MAX_DISTINCT as f64) * na / n).round() as usize;
        let mut sample = a.values.sample(from_a, rng);
        sample.extend(b.values.sample(MAX_DISTINCT - from_a, rng));
        (false, Counts::from_values(sample))
    };
    NumericProfile {
        name: a.name,
        count: a.count + b.count,
        nulls: a.nulls + b.nulls,
        min: min_max(a.min, b.min, f64::min),
        max: min_max(a.max, b.max, f64::max),
        mean: Some(mean),
        std: Some((m2 / n).sqrt()),
        exact,
        values,
    }
}

fn min_max(a: Option<f64>, b: Option<f64>, pick: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

fn categorical(a: CategoricalProfile, b: CategoricalProfile) -> CategoricalProfile {
    CategoricalProfile {
        name: a.name,
        count: a.count + b.count,
        nulls: a.nulls + b.nulls,
        levels: most_frequent(a.levels, b.levels, MAX_LEVELS, Some(OTHER_LEVELS)),
    }
}

fn text(a: TextProfile, b: TextProfile, rng: &mut ChaCha8Rng) -> TextProfile {
    TextProfile {
        name: a.name,
        count: a.count + b.count,
        nulls: a.nulls + b.nulls,
        words: numeric(a.words, b.words, rng),
        terms: a.terms + b.terms,
        unknown_terms: a.unknown_terms + b.unknown_terms,
        top_words: most_frequent(a.top_words, b.top_words, TOP_WORDS, None),
        word_total: a.word_total + b.word_total,
    }
}

/// The counts of `a` and `b` added up, the `keep` most frequent kept (ties by name); the rest
/// counted under `other` when given, else left out.
fn most_frequent(
    a: BTreeMap<String, u64>,
    b: BTreeMap<String, u64>,
    keep: usize,
    other: Option<&str>,
) -> BTreeMap<String, u64> {
    let mut counts = a;
    for (name, count) in b {
        *counts.entry(name).or_default() += count;
    }
    if counts.len() <= keep {
        return counts;
    }
    let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let rest: u64 = ranked.split_off(keep).into_iter().map(|(_, n)| n).sum();
    let mut kept: BTreeMap<String, u64> = ranked.into_iter().collect();
    if let Some(other) = other {
        *kept.entry(other.to_owned()).or_default() += rest;
    }
    kept
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
