//! The verdict on a version's live quality: its primary metric on the labelled predictions, with
//! a bootstrap interval, against what its test part promised and the policy's floor. Too few
//! labelled rows give no verdict, and a shortfall the interval does not confirm is not one.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::evaluate::{evaluate, higher_is_better, roc_auc};
use crate::spec::Metric;

/// Resamples behind the interval.
const RESAMPLES: usize = 200;

/// Rows each resample draws at most: beyond this the interval is that of this many rows (wider
/// than the true one, so a shortfall is confirmed only more cautiously), and its cost stays
/// bounded.
const MAX_RESAMPLED_ROWS: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    Degraded,
    InsufficientData,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Degraded => "degraded",
            Verdict::InsufficientData => "insufficient_data",
        }
    }
}

/// What a verdict is judged by: the spec's primary metric and floor, and its monitoring section.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub metric: Metric,
    pub min_primary: Option<f64>,
    pub max_live_regression: f64,
    pub min_labelled_rows: u64,
}

/// A version's labelled predictions: row-major class probabilities and the observed classes.
pub struct Labelled<'a> {
    pub probabilities: &'a [f64],
    pub y: &'a [u32],
    pub classes: &'a [String],
    pub threshold: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    pub verdict: Verdict,
    pub metric: Metric,
    pub labelled: u64,
    pub live: Option<f64>,
    /// The version's value on its test part.
    pub test: Option<f64>,
    /// The 95% bootstrap interval of the live value.
    pub interval: Option<(f64, f64)>,
    pub reasons: Vec<String>,
}

/// Judges `rows`, whose primary metric is `live` (see [`live_metric`]; the caller has usually
/// computed it already).
pub fn judge(
    rules: &Rules,
    test: Option<f64>,
    live: Option<f64>,
    rows: &Labelled,
    seed: u64,
) -> Judgement {
    let labelled = rows.y.len() as u64;
    let mut judgement = Judgement {
        verdict: Verdict::InsufficientData,
        metric: rules.metric,
        labelled,
        live: None,
        test,
        interval: None,
        reasons: Vec::new(),
    };
    if labelled < rules.min_labelled_rows {
        judgement.reasons.push(format!(
            "{labelled} labelled predictions; at least {} are needed",
            rules.min_labelled_rows
        ));
        return judgement;
    }
    judgement.live = live;
    judgement.interval = bootstrap(rules.metric, rows, seed);
    let (Some(live), Some((low, high))) = (live, judgement.interval) else {
        judgement
            .reasons
            .push("the metric is undefined on these rows (one class only)".into());
        return judgement;
    };
    let higher = higher_is_better(rules.metric);
    let worse = |a: f64, b: f64| if higher { a < b } else { a > b };
    let name = rules.metric;
    if let Some(floor) = rules.min_primary.filter(|&floor| worse(live, floor)) {
        judgement.reasons.push(format!(
            "live {name} {live:.4} is worse than the floor {floor}"
        ));
    }
    if let Some(test) = test {
        let allowed = if higher {
            test - rules.max_live_regression
        } else {
            test + rules.max_live_regression
        };
        if worse(live, allowed) {
            judgement.reasons.push(format!(
                "live {name} {live:.4} is worse than the test part's {test:.4} by more than {}",
                rules.max_live_regression
            ));
        }
    }
    // Only a shortfall the interval confirms: the test value lies outside it, on the good side.
    let confirmed = test.is_some_and(|test| if higher { high < test } else { low > test });
    judgement.verdict = if !judgement.reasons.is_empty() && confirmed {
        Verdict::Degraded
    } else {
        if !judgement.reasons.is_empty() {
            judgement.reasons.push(format!(
                "not confirmed: the interval [{low:.4}, {high:.4}] holds the test value"
            ));
        }
        Verdict::Ok
    };
    judgement
}

/// The metric on the rows.
pub fn live_metric(metric: Metric, rows: &Labelled) -> Option<f64> {
    if metric == Metric::RocAuc && rows.classes.len() == 2 {
        // Only the ranking is needed: no confusion matrix, no other metric.
        let truth: Vec<bool> = rows.y.iter().map(|&c| c == 1).collect();
        let scores: Vec<f64> = rows.probabilities.chunks(2).map(|p| p[1]).collect();
        return roc_auc(&truth, &scores);
    }
    evaluate(rows.probabilities, rows.y, rows.classes, rows.threshold).get(metric)
}

/// The 2.5th and 97.5th percentiles of the metric over resamples of the rows, drawn with
/// replacement; None when too few resamples define it.
fn bootstrap(metric_of: Metric, rows: &Labelled, seed: u64) -> Option<(f64, f64)> {
    let n = rows.y.len();
    if n == 0 {
        return None;
    }
    let k = rows.classes.len();
    let draw = n.min(MAX_RESAMPLED_ROWS);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    if metric_of == Metric::RocAuc && k == 2 {
        return percentiles(ranked_auc_resamples(rows, draw, &mut rng));
    }
    let mut values = Vec::with_capacity(RESAMPLES);
    let (mut p, mut y) = (Vec::with_capacity(draw * k), Vec::with_capacity(draw));
    for _ in 0..RESAMPLES {
        p.clear();
        y.clear();
        for _ in 0..draw {
            let i = rng.random_range(0..n);
            p.extend_from_slice(&rows.probabilities[i * k..(i + 1) * k]);
            y.push(rows.y[i]);
        }
        let resample = Labelled {
            probabilities: &p,
            y: &y,
            classes: rows.classes,
            threshold: rows.threshold,
        };
        values.extend(live_metric(metric_of, &resample));
    }
    percentiles(values)
}

/// The 2.5th and 97.5th percentiles, when at least half the resamples define the metric.
fn percentiles(mut values: Vec<f64>) -> Option<(f64, f64)> {
    if values.len() < RESAMPLES / 2 {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    Some((at(0.025), at(0.975)))
}

/// A binary model's ROC AUC on each resample (the same draws as the general path), without
/// sorting each one by score: the rows are ranked once (equal scores share a rank), a resample's
/// rows are sorted by rank (small integers), and one pass counts, for each positive, the
/// negatives ranked below it and half those tied with it: the Mann–Whitney statistic, which is
/// the area under the ROC curve.
fn ranked_auc_resamples(rows: &Labelled, draw: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let n = rows.y.len();
    // Sorting (score, row) pairs: no lookups scattered over memory while sorting.
    let mut order: Vec<(f64, u32)> = (0..n)
        .map(|i| (rows.probabilities[2 * i + 1], i as u32))
        .collect();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank = vec![0u32; n];
    let mut current = 0u32;
    for (at, &(score, row)) in order.iter().enumerate() {
        if at > 0 && score != order[at - 1].0 {
            current += 1;
        }
        rank[row as usize] = current;
    }
    let mut values = Vec::with_capacity(RESAMPLES);
    // Rank and class of each drawn row, as one integer: sorting it sorts by rank.
    let mut drawn: Vec<u64> = Vec::with_capacity(draw);
    for _ in 0..RESAMPLES {
        drawn.clear();
        for _ in 0..draw {
            let i = rng.random_range(0..n);
            drawn.push(u64::from(rank[i]) << 1 | u64::from(rows.y[i] == 1));
        }
        drawn.sort_unstable();
        let (mut negatives_below, mut sum) = (0u64, 0.0f64);
        let (mut positives, mut negatives) = (0u64, 0u64);
        let mut at = 0;
        while at < drawn.len() {
            let tie = drawn[at] >> 1;
            let (mut pos, mut neg) = (0u64, 0u64);
            while at < drawn.len() && drawn[at] >> 1 == tie {
                if drawn[at] & 1 == 1 {
                    pos += 1;
                } else {
                    neg += 1;
                }
                at += 1;
            }
            sum += pos as f64 * (negatives_below as f64 + 0.5 * neg as f64);
            negatives_below += neg;
            positives += pos;
            negatives += neg;
        }
        if positives > 0 && negatives > 0 {
            values.push(sum / (positives as f64 * negatives as f64));
        }
    }
    values
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
