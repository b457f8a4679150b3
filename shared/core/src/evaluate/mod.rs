//! Evaluating a model's probabilities against the truth, with scikit-learn's metric definitions,
//! overall and per slice.

mod calibration;
mod curves;
mod scores;
mod threshold;

pub use calibration::{calibration, CalibrationBin};
pub use curves::{average_precision, roc_auc, roc_auc_and_average_precision, roc_curve};
pub use scores::{score_histograms, ClassScores};
pub use threshold::{choose as choose_threshold, Threshold};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::Metric;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub rows: usize,
    /// Binary: of the positive class's score. Multiclass: one-vs-rest, macro-averaged. None when
    /// a class is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roc_auc: Option<f64>,
    /// Average precision of the positive class (binary only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pr_auc: Option<f64>,
    pub log_loss: f64,
    pub accuracy: f64,
    /// Binary, at the decision threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recall: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f1: Option<f64>,
    pub precision_macro: f64,
    pub recall_macro: f64,
    pub f1_macro: f64,
    pub f1_weighted: f64,
    pub per_class: Vec<ClassMetrics>,
    /// Rows are true classes, columns predicted classes, in class order.
    pub confusion_matrix: Vec<Vec<u64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

impl Evaluation {
    /// The metric's value; higher is better for all but log loss.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::RocAuc => self.roc_auc,
            Metric::PrAuc => self.pr_auc,
            Metric::LogLoss => Some(self.log_loss),
            Metric::Accuracy => Some(self.accuracy),
            Metric::F1 => self.f1,
            Metric::F1Macro => Some(self.f1_macro),
            Metric::Precision => self.precision,
            Metric::Recall => self.recall,
        }
    }
}

/// Whether a larger value of the metric is better.
pub fn higher_is_better(metric: Metric) -> bool {
    metric != Metric::LogLoss
}

/// Metrics of row-major class `probabilities` against class indices `y`. A binary model predicts
/// the positive class (index 1) when its probability is at least `threshold`; a multiclass model
/// predicts its most probable class.
pub fn evaluate(
    probabilities: &[f64],
    y: &[u32],
    classes: &[String],
    threshold: Option<f64>,
) -> Evaluation {
    let k = classes.len();
    let rows = y.len();
    let predicted: Vec<usize> = probabilities
        .chunks(k)
        .map(|p| match (k, threshold) {
            (2, Some(t)) => usize::from(p[1] >= t),
            _ => argmax(p),
        })
        .collect();
    let mut confusion = vec![vec![0u64; k]; k];
    for (&truth, &guess) in y.iter().zip(&predicted) {
        confusion[truth as usize][guess] += 1;
    }
    let per_class: Vec<ClassMetrics> = (0..k)
        .map(|c| {
            let tp = confusion[c][c] as f64;
            let predicted_c: u64 = (0..k).map(|t| confusion[t][c]).sum();
            let support: u64 = confusion[c].iter().sum();
            let precision = ratio(tp, predicted_c as f64);
            let recall = ratio(tp, support as f64);
            ClassMetrics {
                class: classes[c].clone(),
                precision,
                recall,
                f1: ratio(2.0 * tp, predicted_c as f64 + support as f64),
                support,
            }
        })
        .collect();
    let mean = |f: fn(&ClassMetrics) -> f64| per_class.iter().map(f).sum::<f64>() / k as f64;
    let weighted = |f: fn(&ClassMetrics) -> f64| {
        per_class
            .iter()
            .map(|c| f(c) * c.support as f64)
            .sum::<f64>()
            / rows.max(1) as f64
    };
    let correct: u64 = (0..k).map(|c| confusion[c][c]).sum();
    let class_scores = |c: usize| -> (Vec<bool>, Vec<f64>) {
        (
            y.iter().map(|&t| t as usize == c).collect(),
            probabilities.chunks(k).map(|p| p[c]).collect(),
        )
    };
    let (roc, pr_auc) = if k == 2 {
        let (truth, scores) = class_scores(1);
        roc_auc_and_average_precision(&truth, &scores)
    } else {
        let aucs: Option<Vec<f64>> = (0..k)
            .map(|c| {
                let (truth, scores) = class_scores(c);
                roc_auc(&truth, &scores)
            })
            .collect();
        (aucs.map(|a| a.iter().sum::<f64>() / k as f64), None)
    };
    let binary = (k == 2).then(|| &per_class[1]);
    Evaluation {
        rows,
        roc_auc: roc,
        pr_auc,
        log_loss: log_loss(probabilities, y, k),
        accuracy: ratio(correct as f64, rows as f64),
        precision: binary.map(|c| c.precision),
        recall: binary.map(|c| c.recall),
        f1: binary.map(|c| c.f1),
        precision_macro: mean(|c| c.precision),
        recall_macro: mean(|c| c.recall),
        f1_macro: mean(|c| c.f1),
        f1_weighted: weighted(|c| c.f1),
        per_class,
        confusion_matrix: confusion,
    }
}

/// The evaluation of each value of a slice column, keyed by value.
pub fn by_slice(
    probabilities: &[f64],
    y: &[u32],
    classes: &[String],
    threshold: Option<f64>,
    slice_values: &[String],
) -> BTreeMap<String, Evaluation> {
    let k = classes.len();
    let mut rows: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, value) in slice_values.iter().enumerate() {
        rows.entry(value.as_str()).or_default().push(i);
    }
    rows.into_iter()
        .map(|(value, indices)| {
            let p: Vec<f64> = indices
                .iter()
                .flat_map(|&i| probabilities[i * k..(i + 1) * k].iter().copied())
                .collect();
            let truth: Vec<u32> = indices.iter().map(|&i| y[i]).collect();
            (value.to_owned(), evaluate(&p, &truth, classes, threshold))
        })
        .collect()
}

/// Mean negative log-likelihood of the true class, with probabilities clipped to [ε, 1 − ε] and
/// renormalised as scikit-learn does.
fn log_loss(probabilities: &[f64], y: &[u32], k: usize) -> f64 {
    let eps = f64::EPSILON;
    let total: f64 = probabilities
        .chunks(k)
        .zip(y)
        .map(|(p, &truth)| {
            let clipped: Vec<f64> = p.iter().map(|v| v.clamp(eps, 1.0 - eps)).collect();
            let sum: f64 = clipped.iter().sum();
            -(clipped[truth as usize] / sum).ln()
        })
        .sum();
    total / y.len().max(1) as f64
}

fn argmax(p: &[f64]) -> usize {
    p.iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

/// a / b, or 0 when b is 0 (scikit-learn's `zero_division=0`).
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}
