//! The learners: logistic regression (L-BFGS) and gradient-boosted trees (histograms), both
//! probabilistic, binary or multiclass, with sample weights. A model maps encoded rows to margins;
//! probabilities come from the same link function for every learner.

mod gbdt;
mod logistic;
mod params;

pub use gbdt::{BinnedData, BinnedRows, GbdtModel, GbdtParams, Node, ShapScratch, Tree};
pub use logistic::{Layout, LogisticModel, LogisticParams};
pub use params::{grid, ModelKind, ModelParams};

use serde::{Deserialize, Serialize};

use crate::features::Encoded;

/// Rows with their class indices and sample weights.
#[derive(Clone, Copy)]
pub struct Dataset<'a> {
    pub x: &'a Encoded,
    pub y: &'a [u32],
    pub weights: &'a [f64],
    pub classes: usize,
}

/// The rows a candidate learns from, in the form its learner takes: the encoded design for the
/// linear model, the same rows binned for the trees. Training at scale builds only the forms its
/// candidates take, column by column.
#[derive(Clone, Copy)]
pub struct TrainingRows<'a> {
    pub encoded: Option<&'a Encoded>,
    pub binned: Option<&'a BinnedData>,
    pub y: &'a [u32],
    pub weights: &'a [f64],
    pub classes: usize,
}

/// The form of the training rows a learner takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowForm {
    Encoded,
    Binned,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LearnError {
    #[error("logistic regression did not converge in {iterations} iterations (gradient norm {gradient_norm:.2e}); raise max_iter or lower c")]
    NotConverged { iterations: u64, gradient_norm: f64 },
    #[error("the training rows were not prepared as {0:?} rows, the form this learner takes")]
    Unprepared(RowForm),
    #[error("the solver failed: {0}")]
    Solver(String),
}

/// One row's margin for one output, split: `base` plus every feature's contribution is the
/// margin.
#[derive(Debug, Clone, PartialEq)]
pub struct Contributions {
    /// The margin before any feature is known.
    pub base: f64,
    /// Per encoded feature: the numeric ones, the categorical ones, then the texts.
    pub features: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Model {
    LogisticRegression(LogisticModel),
    GradientBoosting(GbdtModel),
}

impl Model {
    pub fn fit(
        params: &ModelParams,
        train: &TrainingRows,
        validation: &Dataset,
    ) -> Result<Model, LearnError> {
        let unprepared = || LearnError::Unprepared(params.row_form());
        Ok(match params {
            ModelParams::LogisticRegression(p) => {
                let rows = Dataset {
                    x: train.encoded.ok_or_else(unprepared)?,
                    y: train.y,
                    weights: train.weights,
                    classes: train.classes,
                };
                Model::LogisticRegression(LogisticModel::fit(&rows, p)?)
            }
            ModelParams::GradientBoosting(p) => {
                let rows = BinnedRows {
                    x: train.binned.ok_or_else(unprepared)?,
                    y: train.y,
                    weights: train.weights,
                    classes: train.classes,
                };
                Model::GradientBoosting(GbdtModel::fit(&rows, validation, p))
            }
        })
    }

    /// Whether the model can split its margins over the features: trees stored before
    /// explanations (artifact format 3 and older) lack the row counts TreeSHAP needs.
    pub fn explains(&self) -> bool {
        match self {
            Model::LogisticRegression(_) => true,
            Model::GradientBoosting(m) => m.explains(),
        }
    }

    /// Row `row`'s margin for `output` (0 for a binary model, the class otherwise) split over
    /// the encoded features, in [`Encoded::feature_count`] order: coefficient × standardised
    /// value for the linear model, exact TreeSHAP for the trees.
    pub fn contributions(
        &self,
        x: &Encoded,
        row: usize,
        output: usize,
        scratch: &mut ShapScratch,
    ) -> Contributions {
        match self {
            Model::LogisticRegression(m) => m.contributions(x, row, output),
            Model::GradientBoosting(m) => m.contributions(x, row, output, scratch),
        }
    }

    /// Row-major class probabilities: `classes` per row.
    pub fn probabilities(&self, x: &Encoded) -> Vec<f64> {
        let (margins, outputs) = match self {
            Model::LogisticRegression(m) => (m.margins(x), m.layout.outputs),
            Model::GradientBoosting(m) => (m.margins(x), m.outputs()),
        };
        if outputs == 1 {
            margins
                .iter()
                .flat_map(|&m| {
                    let p = sigmoid(m);
                    [1.0 - p, p]
                })
                .collect()
        } else {
            margins.chunks(outputs).flat_map(softmax).collect()
        }
    }
}

/// The predicted class of one row's probabilities: for two classes, the positive one when its
/// probability reaches the threshold (if there is one); otherwise the most probable (the first on
/// ties).
pub fn predicted_class(probabilities: &[f64], threshold: Option<f64>) -> usize {
    match threshold {
        Some(t) if probabilities.len() == 2 => usize::from(probabilities[1] >= t),
        _ => {
            probabilities
                .iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (i, &p)| {
                    if p > best.1 {
                        (i, p)
                    } else {
                        best
                    }
                })
                .0
        }
    }
}

/// One margin for two classes (the positive class's log-odds), one per class otherwise.
pub fn output_count(classes: usize) -> usize {
    if classes == 2 {
        1
    } else {
        classes
    }
}

pub fn sigmoid(m: f64) -> f64 {
    1.0 / (1.0 + (-m).exp())
}

fn softmax(margins: &[f64]) -> Vec<f64> {
    let max = margins.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = margins.iter().map(|m| (m - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Log loss (binary cross-entropy or multinomial) on margins: its per-output gradients and
/// hessians, and its weighted mean.
pub(crate) struct LossGradient {
    classes: usize,
}

impl LossGradient {
    pub fn new(classes: usize) -> Self {
        Self { classes }
    }

    /// For each output, (gradient, hessian) per row.
    pub fn gradients(&self, margins: &[f64], y: &[u32], w: &[f64]) -> Vec<(Vec<f64>, Vec<f64>)> {
        let outputs = output_count(self.classes);
        let n = y.len();
        let mut out = vec![(vec![0.0; n], vec![0.0; n]); outputs];
        let mut set = |k: usize, i: usize, p: f64, target: bool| {
            out[k].0[i] = w[i] * (p - target as u8 as f64);
            out[k].1[i] = w[i] * (p * (1.0 - p)).max(1e-16);
        };
        for i in 0..n {
            if outputs == 1 {
                set(0, i, sigmoid(margins[i]), y[i] == 1);
            } else {
                let probabilities = softmax(&margins[i * outputs..(i + 1) * outputs]);
                for (k, p) in probabilities.into_iter().enumerate() {
                    set(k, i, p, y[i] as usize == k);
                }
            }
        }
        out
    }

    pub fn mean_loss(&self, margins: &[f64], y: &[u32], w: &[f64]) -> f64 {
        let outputs = output_count(self.classes);
        let mut total = 0.0;
        let mut weight = 0.0;
        for (i, (&label, &wi)) in y.iter().zip(w).enumerate() {
            let row = &margins[i * outputs..(i + 1) * outputs];
            let loss = if outputs == 1 {
                // log(1 + e^m) - y·m, computed without overflow.
                let m = row[0];
                m.max(0.0) + (-m.abs()).exp().ln_1p() - if label == 1 { m } else { 0.0 }
            } else {
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let log_sum = max + row.iter().map(|m| (m - max).exp()).sum::<f64>().ln();
                log_sum - row[label as usize]
            };
            total += wi * loss;
            weight += wi;
        }
        total / weight
    }
}
