//! Compares a current profile with the reference, feature by feature and for the data set. The test
//! for each feature is chosen as Evidently chooses it by default, so verdicts mean what users know.

use std::collections::BTreeSet;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::profile::{CategoricalProfile, FeatureProfile, NumericProfile, Profile, TextProfile};
use super::stats::{self, Counts};
use crate::spec::DriftSection;

/// A reference of at most this many values gets the hypothesis tests (p-values); a larger one the
/// distances, which do not flag negligible shifts merely because the samples are large.
const SMALL_REFERENCE: u64 = 1_000;
/// Features with at most this many distinct values (both sides together) are compared as levels.
const FEW_VALUES: usize = 5;
/// The Kolmogorov–Smirnov p-value is exact; its cost grows with both sizes, so a larger current
/// side is compared through a random sample of this many values (the reference has at most 1,000).
const KS_CURRENT_SAMPLE: usize = 10_000;
const P_VALUE_THRESHOLD: f64 = 0.05;
const DISTANCE_THRESHOLD: f64 = 0.1;
/// Quantile bins of the reference for PSI and KL.
const PSI_BINS: usize = 10;
/// Bars per histogram in the report.
const HISTOGRAM_BINS: usize = 20;
const TOP_LEVELS: usize = 20;
/// A text feature's word distribution is compared over the reference's most frequent words, this
/// many, and the rest together. Measured on the review samples: over 300 words, 300 reviews of
/// one category (dog food) are at 0.16 from all categories, and 300 to 1,000 reviews of the same
/// distribution within 0.06; over 100 words the function words hide the shift (0.11), over 1,000
/// the rare words' noise nears the 0.1 threshold (0.09 for 300 reviews alike).
const COMPARED_WORDS: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    KolmogorovSmirnov,
    ChiSquare,
    ZTest,
    Wasserstein,
    JensenShannon,
}

impl Test {
    /// The name used in reports and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Test::KolmogorovSmirnov => "kolmogorov_smirnov",
            Test::ChiSquare => "chi_square",
            Test::ZTest => "z_test",
            Test::Wasserstein => "wasserstein",
            Test::JensenShannon => "jensen_shannon",
        }
    }

    /// Whether the score is a p-value (drift when below the threshold) or a distance (at or above).
    fn is_p_value(self) -> bool {
        matches!(
            self,
            Test::KolmogorovSmirnov | Test::ChiSquare | Test::ZTest
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Numeric,
    Categorical,
    /// A text feature's words; its length in words is a numeric entry beside it.
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Data set drift when at least this share of features drifted…
    pub drift_share: f64,
    /// …and the current data has at least this many rows.
    pub min_rows: u64,
    pub psi: f64,
}

impl From<&DriftSection> for Thresholds {
    fn from(section: &DriftSection) -> Self {
        Thresholds {
            drift_share: section.drift_share,
            min_rows: section.min_rows,
            psi: section.psi_threshold,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// `None` when the current data has fewer rows than the minimum: "insufficient data".
    pub dataset_drift: Option<bool>,
    pub share_drifted: f64,
    pub drifted_features: usize,
    pub features: Vec<FeatureDrift>,
    /// The model's outputs on both sides (scores and labels), when both are known.
    pub prediction: Vec<FeatureDrift>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDrift {
    pub name: String,
    pub kind: Kind,
    /// `None` when there was nothing to test (see `note`).
    pub test: Option<Test>,
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    /// What the threshold is compared with: the p-value for tests, the distance for distances.
    pub score: Option<f64>,
    pub threshold: Option<f64>,
    pub drifted: bool,
    /// True when a side was compared through a random sample of its values.
    pub sampled: bool,
    pub psi: Option<f64>,
    pub psi_drifted: bool,
    pub kl_divergence: Option<f64>,
    /// Share of rows without a value, reference and current.
    pub missing: [f64; 2],
    /// Share of current values outside the reference range (numeric) or levels the reference never
    /// had (categorical).
    pub out_of_range: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub reference: Summary,
    pub current: Summary,
    pub histogram: Histogram,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub missing: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levels: Option<usize>,
    /// Categorical: the most frequent level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<String>,
}

/// Each side's share of values per bin: equal-width ranges over the reference's values (numeric)
/// or levels (categorical).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub bins: Vec<String>,
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
    /// The current values' share below the reference's smallest value, when there are any:
    /// drawn as a bar of its own, so an outlier does not squeeze the reference's bins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    /// The same above the reference's largest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
}

pub fn compare(reference: &Profile, current: &Profile, thresholds: &Thresholds) -> Comparison {
    let features: Vec<FeatureDrift> = reference
        .features
        .iter()
        .filter_map(|r| Some((r, current.feature(r.name())?)))
        .flat_map(|(r, c)| compare_feature(r, c, thresholds))
        .collect();
    let drifted_features = features.iter().filter(|f| f.drifted).count();
    let share_drifted = if features.is_empty() {
        0.0
    } else {
        drifted_features as f64 / features.len() as f64
    };
    let dataset_drift =
        (current.rows >= thresholds.min_rows).then_some(share_drifted >= thresholds.drift_share);
    let prediction = match (&reference.predictions, &current.predictions) {
        (Some(r), Some(c)) => {
            let mut out = vec![compare_categorical(&r.labels, &c.labels, thresholds)];
            if let (Some(rs), Some(cs)) = (&r.score, &c.score) {
                out.insert(0, compare_numeric(rs, cs, thresholds));
            }
            out
        }
        _ => Vec::new(),
    };
    Comparison {
        dataset_drift,
        share_drifted,
        drifted_features,
        features,
        prediction,
    }
}

/// One entry per feature; two for a text feature (its words, and its length in words).
fn compare_feature(
    reference: &FeatureProfile,
    current: &FeatureProfile,
    thresholds: &Thresholds,
) -> Vec<FeatureDrift> {
    match (reference, current) {
        (FeatureProfile::Numeric(r), FeatureProfile::Numeric(c)) => {
            vec![compare_numeric(r, c, thresholds)]
        }
        (FeatureProfile::Categorical(r), FeatureProfile::Categorical(c)) => {
            vec![compare_categorical(r, c, thresholds)]
        }
        (FeatureProfile::Text(r), FeatureProfile::Text(c)) => vec![
            compare_words(r, c, thresholds),
            compare_numeric(&r.words, &c.words, thresholds),
        ],
        // Both profiles come from the same pipeline; a mismatch means a corrupt profile.
        (r, _) => vec![FeatureDrift::untested(
            r.name(),
            "the current profile has another kind of values for this feature",
        )],
    }
}

/// A text feature's words: the Jensen–Shannon distance between the two sides' shares of the
/// reference's most frequent words (the rest as one bin); out of range, the share of the model's
/// terms outside its vocabulary.
fn compare_words(r: &TextProfile, c: &TextProfile, thresholds: &Thresholds) -> FeatureDrift {
    let mut top: Vec<(&String, &u64)> = r.top_words.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    top.truncate(COMPARED_WORDS);
    let other = "(other words)".to_owned();
    let mut keys: Vec<&String> = top.iter().map(|(word, _)| *word).collect();
    let mut rc: Vec<u64> = top.iter().map(|(_, n)| **n).collect();
    let mut cc: Vec<u64> = keys
        .iter()
        .map(|word| c.top_words.get(*word).copied().unwrap_or(0))
        .collect();
    let rest = |total: u64, counted: &[u64]| total.saturating_sub(counted.iter().sum());
    let (r_rest, c_rest) = (rest(r.word_total, &rc), rest(c.word_total, &cc));
    keys.push(&other);
    rc.push(r_rest);
    cc.push(c_rest);
    let summary = |p: &TextProfile| Summary {
        levels: Some(p.top_words.len()),
        top: p
            .top_words
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(word, _)| word.clone()),
        ..numeric_summary(&p.words)
    };
    let mut out = FeatureDrift {
        kind: Kind::Text,
        missing: [
            share(r.nulls, r.count + r.nulls),
            share(c.nulls, c.count + c.nulls),
        ],
        out_of_range: share(c.unknown_terms, c.terms),
        reference: summary(r),
        current: summary(c),
        histogram: level_histogram(&keys, &rc, r.word_total, &cc, c.word_total),
        ..FeatureDrift::untested(&r.name, "")
    };
    if let Some(note) = nothing_to_test(r.word_total, c.word_total) {
        out.note = Some(note.into());
        out.drifted = r.word_total > 0 && c.word_total == 0 && c.nulls > 0;
        return out;
    }
    let as_f64 = |v: &[u64]| v.iter().map(|&n| n as f64).collect::<Vec<f64>>();
    let distance = stats::jensen_shannon(&as_f64(&rc), &as_f64(&cc));
    out.decide(
        Test::JensenShannon,
        stats::Tested {
            statistic: distance,
            p_value: f64::NAN,
        },
    );
    let as_shares = |counts: &[u64], total| counts.iter().map(|&n| share(n, total)).collect();
    out.set_psi(
        as_shares(&rc, r.word_total),
        as_shares(&cc, c.word_total),
        thresholds,
    );
    out
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn compare_numeric(
    r: &NumericProfile,
    c: &NumericProfile,
    thresholds: &Thresholds,
) -> FeatureDrift {
    let mut out = FeatureDrift {
        kind: Kind::Numeric,
        missing: [
            share(r.nulls, r.count + r.nulls),
            share(c.nulls, c.count + c.nulls),
        ],
        out_of_range: match (r.min, r.max) {
            (Some(min), Some(max)) => share(
                c.values.below(min) + (c.values.total() - c.values.at_most(max)),
                c.values.total(),
            ),
            _ => 0.0,
        },
        reference: numeric_summary(r),
        current: numeric_summary(c),
        histogram: numeric_histogram(&r.values, &c.values),
        ..FeatureDrift::untested(&r.name, "")
    };
    if let Some(note) = nothing_to_test(r.count, c.count) {
        out.note = Some(note.into());
        out.drifted = r.count > 0 && c.count == 0 && c.nulls > 0;
        return out;
    }
    let distinct = union_size(&r.values.values, &c.values.values);
    out.sampled = !r.exact || !c.exact;
    let (test, tested) = if distinct <= FEW_VALUES && r.exact && c.exact {
        let keys: Vec<f64> = merged(&r.values.values, &c.values.values);
        let count = |counts: &Counts, key: &f64| {
            counts
                .values
                .binary_search_by(|v| v.total_cmp(key))
                .map_or(0, |i| counts.counts[i])
        };
        let rc: Vec<u64> = keys.iter().map(|k| count(&r.values, k)).collect();
        let cc: Vec<u64> = keys.iter().map(|k| count(&c.values, k)).collect();
        level_test(r.count, &rc, c.count, &cc)
    } else if r.count <= SMALL_REFERENCE {
        let current = if c.values.total() as usize > KS_CURRENT_SAMPLE {
            out.sampled = true;
            let mut rng = ChaCha8Rng::seed_from_u64(c.count);
            Counts::from_values(c.values.sample(KS_CURRENT_SAMPLE, &mut rng))
        } else {
            c.values.clone()
        };
        (
            Test::KolmogorovSmirnov,
            stats::ks_2samp(&r.values, &current),
        )
    } else {
        let distance = stats::wasserstein(&r.values, &c.values) / r.std.unwrap_or(0.0).max(0.001);
        (
            Test::Wasserstein,
            stats::Tested {
                statistic: distance,
                p_value: f64::NAN,
            },
        )
    };
    out.decide(test, tested);
    let (ref_bins, cur_bins) = quantile_bins(&r.values, &c.values);
    out.set_psi(ref_bins, cur_bins, thresholds);
    out
}

fn compare_categorical(
    r: &CategoricalProfile,
    c: &CategoricalProfile,
    thresholds: &Thresholds,
) -> FeatureDrift {
    let keys: Vec<&String> = r
        .levels
        .keys()
        .chain(c.levels.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let rc: Vec<u64> = keys
        .iter()
        .map(|k| r.levels.get(*k).copied().unwrap_or(0))
        .collect();
    let cc: Vec<u64> = keys
        .iter()
        .map(|k| c.levels.get(*k).copied().unwrap_or(0))
        .collect();
    let unseen: u64 = c
        .levels
        .iter()
        .filter(|(k, _)| !r.levels.contains_key(*k))
        .map(|(_, v)| v)
        .sum();
    let mut out = FeatureDrift {
        kind: Kind::Categorical,
        missing: [
            share(r.nulls, r.count + r.nulls),
            share(c.nulls, c.count + c.nulls),
        ],
        out_of_range: share(unseen, c.count),
        reference: level_summary(r),
        current: level_summary(c),
        histogram: level_histogram(&keys, &rc, r.count, &cc, c.count),
        ..FeatureDrift::untested(&r.name, "")
    };
    if let Some(note) = nothing_to_test(r.count, c.count) {
        out.note = Some(note.into());
        out.drifted = r.count > 0 && c.count == 0 && c.nulls > 0;
        return out;
    }
    let (test, tested) = level_test(r.count, &rc, c.count, &cc);
    out.decide(test, tested);
    let as_shares = |counts: &[u64], total| counts.iter().map(|&n| share(n, total)).collect();
    out.set_psi(as_shares(&rc, r.count), as_shares(&cc, c.count), thresholds);
    out
}

fn nothing_to_test(reference: u64, current: u64) -> Option<&'static str> {
    match (reference, current) {
        (0, _) => Some("the reference has no values for this feature"),
        (_, 0) => Some("the current data has no values for this feature"),
        _ => None,
    }
}

/// The test for values compared level by level (categories, or numbers with few distinct values),
/// over counts per key in the same order on both sides.
fn level_test(n_ref: u64, reference: &[u64], n_cur: u64, current: &[u64]) -> (Test, stats::Tested) {
    let present = reference
        .iter()
        .zip(current)
        .filter(|(r, c)| **r + **c > 0)
        .count();
    if n_ref > SMALL_REFERENCE {
        let to_f64 = |v: &[u64]| v.iter().map(|&n| n as f64).collect::<Vec<f64>>();
        let distance = stats::jensen_shannon(&to_f64(reference), &to_f64(current));
        return (
            Test::JensenShannon,
            stats::Tested {
                statistic: distance,
                p_value: f64::NAN,
            },
        );
    }
    if present > 2 {
        let scale = n_cur as f64 / n_ref as f64;
        let expected: Vec<f64> = reference.iter().map(|&n| n as f64 * scale).collect();
        let observed: Vec<f64> = current.iter().map(|&n| n as f64).collect();
        return (Test::ChiSquare, stats::chi_square(&observed, &expected));
    }
    // Two levels at most: the share of rows not in the first level, on each side.
    let first = reference
        .iter()
        .zip(current)
        .position(|(r, c)| r + c > 0)
        .unwrap_or(0);
    (
        Test::ZTest,
        stats::z_test(
            n_ref - reference[first],
            n_ref,
            n_cur - current[first],
            n_cur,
        ),
    )
}

impl FeatureDrift {
    fn untested(name: &str, note: &str) -> FeatureDrift {
        let empty = Summary {
            count: 0,
            missing: 0,
            min: None,
            max: None,
            mean: None,
            std: None,
            median: None,
            levels: None,
            top: None,
        };
        FeatureDrift {
            name: name.to_owned(),
            kind: Kind::Numeric,
            test: None,
            statistic: None,
            p_value: None,
            score: None,
            threshold: None,
            drifted: false,
            sampled: false,
            psi: None,
            psi_drifted: false,
            kl_divergence: None,
            missing: [0.0, 0.0],
            out_of_range: 0.0,
            note: (!note.is_empty()).then(|| note.to_owned()),
            reference: empty.clone(),
            current: empty,
            histogram: Histogram {
                bins: Vec::new(),
                reference: Vec::new(),
                current: Vec::new(),
                below: None,
                above: None,
            },
        }
    }

    fn decide(&mut self, test: Test, tested: stats::Tested) {
        let (score, threshold) = if test.is_p_value() {
            (tested.p_value, P_VALUE_THRESHOLD)
        } else {
            (tested.statistic, DISTANCE_THRESHOLD)
        };
        self.test = Some(test);
        self.statistic = Some(tested.statistic).filter(|s| s.is_finite());
        self.p_value = test.is_p_value().then_some(tested.p_value);
        self.score = Some(score);
        self.threshold = Some(threshold);
        self.drifted = if test.is_p_value() {
            score < threshold
        } else {
            score >= threshold
        };
    }

    fn set_psi(&mut self, mut reference: Vec<f64>, mut current: Vec<f64>, thresholds: &Thresholds) {
        stats::floor_empty(&mut reference);
        stats::floor_empty(&mut current);
        let psi = stats::psi(&reference, &current);
        self.psi = Some(psi);
        self.psi_drifted = psi >= thresholds.psi;
        self.kl_divergence = Some(stats::kl_divergence(&reference, &current));
    }
}

/// Both sides' shares in the reference's decile bins (fewer where deciles coincide).
fn quantile_bins(reference: &Counts, current: &Counts) -> (Vec<f64>, Vec<f64>) {
    let mut edges: Vec<f64> = (1..PSI_BINS)
        .filter_map(|q| reference.quantile(q as f64 / PSI_BINS as f64))
        .collect();
    edges.dedup();
    let shares = |counts: &Counts| {
        let n = counts.total();
        let mut below = 0;
        let mut out: Vec<f64> = edges
            .iter()
            .map(|&edge| {
                let upto = counts.at_most(edge);
                let s = share(upto - below, n);
                below = upto;
                s
            })
            .collect();
        out.push(share(n - below, n));
        out
    };
    (shares(reference), shares(current))
}

fn numeric_histogram(reference: &Counts, current: &Counts) -> Histogram {
    let range = |counts: &Counts| Some((*counts.values.first()?, *counts.values.last()?));
    let (lo, hi) = range(reference)
        .or_else(|| range(current))
        .unwrap_or((0.0, 0.0));
    let bins = if hi > lo { HISTOGRAM_BINS } else { 1 };
    let width = (hi - lo) / bins as f64;
    let upper = |i: usize| {
        if i + 1 == bins {
            hi
        } else {
            lo + width * (i + 1) as f64
        }
    };
    let shares = |counts: &Counts| {
        let n = counts.total();
        let mut below = counts.below(lo);
        (0..bins)
            .map(|i| {
                let upto = counts.at_most(upper(i));
                let s = share(upto - below, n);
                below = upto;
                s
            })
            .collect()
    };
    let n = current.total();
    let outside = |count: u64| (count > 0).then(|| share(count, n));
    Histogram {
        bins: (0..bins)
            .map(|i| format!("{}–{}", short(lo + width * i as f64), short(upper(i))))
            .collect(),
        reference: shares(reference),
        current: shares(current),
        below: outside(current.below(lo)),
        above: outside(n - current.at_most(hi)),
    }
}

/// The most frequent levels over both sides; the rest together as one bar.
fn level_histogram(keys: &[&String], rc: &[u64], nr: u64, cc: &[u64], nc: u64) -> Histogram {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| {
        let weight = |i: usize| share(rc[i], nr) + share(cc[i], nc);
        weight(b).total_cmp(&weight(a)).then(a.cmp(&b))
    });
    let mut histogram = Histogram {
        bins: Vec::new(),
        reference: Vec::new(),
        current: Vec::new(),
        below: None,
        above: None,
    };
    for &i in order.iter().take(TOP_LEVELS) {
        histogram.bins.push(keys[i].clone());
        histogram.reference.push(share(rc[i], nr));
        histogram.current.push(share(cc[i], nc));
    }
    if order.len() > TOP_LEVELS {
        let rest = &order[TOP_LEVELS..];
        histogram.bins.push(format!("{} other levels", rest.len()));
        histogram
            .reference
            .push(rest.iter().map(|&i| share(rc[i], nr)).sum());
        histogram
            .current
            .push(rest.iter().map(|&i| share(cc[i], nc)).sum());
    }
    histogram
}

/// A number for a bin label: four significant digits at most.
fn short(x: f64) -> String {
    let text = format!("{:.4}", x);
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed.len() > 10 {
        format!("{x:.3e}")
    } else {
        trimmed.to_owned()
    }
}

fn numeric_summary(p: &NumericProfile) -> Summary {
    Summary {
        count: p.count,
        missing: p.nulls,
        min: p.min,
        max: p.max,
        mean: p.mean,
        std: p.std,
        median: p.values.quantile(0.5),
        levels: None,
        top: None,
    }
}

fn level_summary(p: &CategoricalProfile) -> Summary {
    Summary {
        count: p.count,
        missing: p.nulls,
        min: None,
        max: None,
        mean: None,
        std: None,
        median: None,
        levels: Some(p.levels.len()),
        top: p
            .levels
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(k, _)| k.clone()),
    }
}

fn merged(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut all: Vec<f64> = a.iter().chain(b).copied().collect();
    all.sort_unstable_by(f64::total_cmp);
    all.dedup();
    all
}

/// The number of distinct values of both sides together, exact up to FEW_VALUES (past it, a lower
/// bound above FEW_VALUES is enough).
fn union_size(a: &[f64], b: &[f64]) -> usize {
    if a.len() > FEW_VALUES || b.len() > FEW_VALUES {
        a.len().max(b.len())
    } else {
        merged(a, b).len()
    }
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
