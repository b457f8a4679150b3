//! Why the model decided as it did: the margin of the decision (the positive class's log-odds for
//! a binary model, the predicted class's margin otherwise) split over the input features, so the
//! base value plus every contribution is the margin. The linear model's contributions are
//! coefficient × standardised value (a category: its level's weight; a text: weight × TF-IDF
//! summed over its terms, the largest listed); the trees' are exact TreeSHAP values. Averaged
//! in absolute value over the test part they are the model's global importance.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::artifact::ModelArtifact;
use crate::features::text::terms;
use crate::features::{Encoded, Pipeline, RawColumn, RawFrame};
use crate::learn::{Model, ShapScratch};

/// At most this many of a text's terms are listed under its contribution.
pub const MAX_TERMS: usize = 10;

/// One decision's margin, split over the input features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The class whose margin is explained.
    pub class: String,
    /// The margin before any input is known: the linear model's intercept, or the trees'
    /// average margin over their training rows.
    pub base_value: f64,
    /// The margin (log-odds for a binary model): `base_value` plus every contribution.
    pub raw_score: f64,
    /// Every input feature, the largest contribution either way first.
    pub contributions: Vec<Contribution>,
}

/// How much one input feature moved the margin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The input column (`column.part` for a date part).
    pub feature: String,
    /// In the margin's units: positive pushed towards the class explained.
    pub contribution: f64,
    /// A linear model's text: the terms that moved it most, each weight × TF-IDF.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<TermContribution>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermContribution {
    pub term: String,
    pub contribution: f64,
}

/// Whether the model can explain: every model can but trees stored before explanations
/// (artifact format 3 and older), which lack the training row counts TreeSHAP weighs by.
pub fn available(artifact: &ModelArtifact) -> bool {
    artifact.learner.explains()
}

/// The output whose margin decides `class`: a binary model has one, the positive class's.
fn output_of(artifact: &ModelArtifact, class: usize) -> usize {
    if artifact.classes.len() == 2 {
        0
    } else {
        class
    }
}

/// Row `row`'s decision for `class` (its index among the classes), explained.
pub fn explain(
    artifact: &ModelArtifact,
    frame: &RawFrame,
    encoded: &Encoded,
    row: usize,
    class: usize,
    scratch: &mut ShapScratch,
) -> Explanation {
    let output = output_of(artifact, class);
    let split = artifact
        .learner
        .contributions(encoded, row, output, scratch);
    let text_start = encoded.numeric.len() + encoded.categorical.len();
    let mut contributions: Vec<Contribution> = artifact
        .pipeline
        .feature_names()
        .into_iter()
        .zip(&split.features)
        .enumerate()
        .map(|(i, (feature, &contribution))| Contribution {
            feature,
            contribution,
            terms: match &artifact.learner {
                Model::LogisticRegression(_) if i >= text_start => {
                    text_terms(artifact, frame, encoded, row, output, i - text_start)
                }
                _ => Vec::new(),
            },
        })
        .collect();
    contributions.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    let class_name = if artifact.classes.len() == 2 {
        1
    } else {
        class
    };
    Explanation {
        class: artifact
            .classes
            .get(class_name)
            .cloned()
            .unwrap_or_default(),
        base_value: split.base,
        raw_score: split.base + split.features.iter().sum::<f64>(),
        contributions,
    }
}

/// A linear model's largest term contributions to text feature `t` of row `row`.
fn text_terms(
    artifact: &ModelArtifact,
    frame: &RawFrame,
    encoded: &Encoded,
    row: usize,
    output: usize,
    t: usize,
) -> Vec<TermContribution> {
    let Model::LogisticRegression(model) = &artifact.learner else {
        return Vec::new();
    };
    let layout = &model.layout;
    let w = &model.weights[output * layout.width..(output + 1) * layout.width];
    let offset = layout.text_offset(encoded, t);
    let encoder = &artifact.pipeline.text[t];
    let document = match frame.column(&encoder.column) {
        Ok(RawColumn::Text(values)) => values.get(row).unwrap_or_default(),
        _ => "",
    };
    let mut names: Vec<(u32, String)> = Vec::new();
    if encoder.tfidf.terms.is_empty() {
        // Hashed columns have no names: the document's own terms name them.
        for term in terms(document, &encoder.tfidf.options) {
            if let Some(column) = encoder.tfidf.column(&term) {
                if !names.iter().any(|(c, _)| *c == column) {
                    names.push((column, term));
                }
            }
        }
    }
    let mut out: Vec<TermContribution> = encoded.text[t]
        .row(row)
        .map(|(column, weight)| TermContribution {
            term: encoder
                .tfidf
                .terms
                .get(column as usize)
                .cloned()
                .or_else(|| {
                    names
                        .iter()
                        .find(|(c, _)| *c == column)
                        .map(|(_, t)| t.clone())
                })
                .unwrap_or_else(|| format!("#{column} (hashed)")),
            contribution: w[offset + column as usize] * weight,
        })
        .filter(|c| c.contribution != 0.0)
        .collect();
    out.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    out.truncate(MAX_TERMS);
    out
}

/// At most this many rows of the test part are explained for the global importance: an even
/// sample of a larger part ranks the features the same (see the README's figures).
pub const IMPORTANCE_ROWS: usize = 5_000;

/// What drives the model's decisions overall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalImportance {
    /// The test part's rows explained.
    pub rows: usize,
    /// Largest first.
    pub features: Vec<FeatureImportance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureImportance {
    pub feature: String,
    /// The mean absolute contribution to the margin (for several classes, averaged over the
    /// classes' margins too).
    pub mean_abs_contribution: f64,
}

/// Each feature's mean absolute contribution over the rows of `encoded` (an even sample of at
/// most [`IMPORTANCE_ROWS`]); `None` when there are no rows or the model cannot explain.
pub fn importance(
    pipeline: &Pipeline,
    model: &Model,
    classes: usize,
    encoded: &Encoded,
) -> Option<GlobalImportance> {
    if !model.explains() || encoded.rows == 0 {
        return None;
    }
    let outputs = crate::learn::output_count(classes);
    let step = encoded.rows.div_ceil(IMPORTANCE_ROWS);
    let rows: Vec<usize> = (0..encoded.rows).step_by(step).collect();
    let features = encoded.feature_count();
    let totals = rows
        .par_chunks(64)
        .map(|chunk| {
            let mut scratch = ShapScratch::default();
            let mut sums = vec![0.0; features];
            for &row in chunk {
                for output in 0..outputs {
                    let split = model.contributions(encoded, row, output, &mut scratch);
                    for (sum, c) in sums.iter_mut().zip(&split.features) {
                        *sum += c.abs();
                    }
                }
            }
            sums
        })
        .reduce(
            || vec![0.0; features],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let count = (rows.len() * outputs) as f64;
    let mut ranked: Vec<FeatureImportance> = pipeline
        .feature_names()
        .into_iter()
        .zip(totals)
        .map(|(feature, total)| FeatureImportance {
            feature,
            mean_abs_contribution: total / count,
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.mean_abs_contribution
            .total_cmp(&a.mean_abs_contribution)
            .then_with(|| a.feature.cmp(&b.feature))
    });
    Some(GlobalImportance {
        rows: rows.len(),
        features: ranked,
    })
}

/// The terms whose weights speak most for one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassTerms {
    pub class: String,
    pub feature: String,
    /// Most informative first, with their weights (log-odds per unit of TF-IDF).
    pub terms: Vec<(String, f64)>,
}

/// Per class and text feature, the `per_class` terms with the largest weights towards it: for a
/// binary model the largest positive weights (the positive class) and the most negative (the
/// other); for several classes each class's largest weights. Hashed terms are named by bucket.
pub fn informative_terms(artifact: &ModelArtifact, per_class: usize) -> Vec<ClassTerms> {
    let Model::LogisticRegression(model) = &artifact.learner else {
        return Vec::new();
    };
    let layout = &model.layout;
    let categorical = artifact.pipeline.categorical.len();
    let mut out = Vec::new();
    for (t, encoder) in artifact.pipeline.text.iter().enumerate() {
        let offset = layout.offsets[categorical + t];
        let width = encoder.tfidf.width();
        let name = |column: usize| {
            encoder
                .tfidf
                .terms
                .get(column)
                .cloned()
                .unwrap_or_else(|| format!("#{column} (hashed)"))
        };
        let top = |output: usize, sign: f64| -> Vec<(String, f64)> {
            let w = &model.weights[output * layout.width + offset..][..width];
            let mut order: Vec<usize> = (0..width).filter(|&i| w[i] * sign > 0.0).collect();
            order.sort_by(|&a, &b| (w[b] * sign).total_cmp(&(w[a] * sign)));
            order
                .into_iter()
                .take(per_class)
                .map(|i| (name(i), w[i]))
                .collect()
        };
        for (k, class) in artifact.classes.iter().enumerate() {
            let terms = if layout.outputs == 1 {
                top(0, if k == 1 { 1.0 } else { -1.0 })
            } else {
                top(k, 1.0)
            };
            out.push(ClassTerms {
                class: class.clone(),
                feature: encoder.column.clone(),
                terms,
            });
        }
    }
    out
}
