//! Why a linear model decided as it did: each input's contribution to the margin of the decision
//! (the positive class for a binary model, the predicted class otherwise), as the model computes
//! it: weight × standardised value for a number, the level's weight for a category, and weight ×
//! TF-IDF for each term of a text. The largest contributions either way come first.

use serde::{Deserialize, Serialize};

use crate::artifact::ModelArtifact;
use crate::features::text::terms;
use crate::features::{Encoded, RawColumn, RawFrame};
use crate::learn::{LogisticModel, Model};

/// At most this many contributions are listed per prediction.
pub const MAX_CONTRIBUTIONS: usize = 10;

/// How much one input (or one term of a text input) moved the decision's margin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub feature: String,
    /// The term, for a text feature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    /// In log-odds: positive pushed towards the class decided on.
    pub contribution: f64,
}

/// The model explains its predictions when it is linear.
pub fn linear(artifact: &ModelArtifact) -> Option<&LogisticModel> {
    match &artifact.learner {
        Model::LogisticRegression(model) => Some(model),
        Model::GradientBoosting(_) => None,
    }
}

/// The largest contributions to row `row`'s decision for `class` (its index among the classes).
pub fn contributions(
    artifact: &ModelArtifact,
    model: &LogisticModel,
    frame: &RawFrame,
    encoded: &Encoded,
    row: usize,
    class: usize,
) -> Vec<Contribution> {
    let layout = &model.layout;
    // A binary model has one output, the positive class's margin.
    let output = if layout.outputs == 1 { 0 } else { class };
    let w = &model.weights[output * layout.width..(output + 1) * layout.width];
    let pipeline = &artifact.pipeline;
    let mut out: Vec<Contribution> = Vec::new();
    let mut push = |feature: &str, term: Option<String>, contribution: f64| {
        if contribution != 0.0 {
            out.push(Contribution {
                feature: feature.to_owned(),
                term,
                contribution,
            });
        }
    };
    for (j, encoder) in pipeline.numeric.iter().enumerate() {
        push(&encoder.column, None, w[1 + j] * encoded.numeric[j][row]);
    }
    for (c, encoder) in pipeline.categorical.iter().enumerate() {
        let code = encoded.categorical[c][row] as usize;
        push(&encoder.name(), None, w[layout.offsets[c] + code]);
    }
    for (t, encoder) in pipeline.text.iter().enumerate() {
        let offset = layout.text_offset(encoded, t);
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
        for (column, weight) in encoded.text[t].row(row) {
            let term = encoder
                .tfidf
                .terms
                .get(column as usize)
                .cloned()
                .or_else(|| {
                    names
                        .iter()
                        .find(|(c, _)| *c == column)
                        .map(|(_, t)| t.clone())
                });
            push(&encoder.column, term, w[offset + column as usize] * weight);
        }
    }
    out.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    out.truncate(MAX_CONTRIBUTIONS);
    out
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
    let Some(model) = linear(artifact) else {
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
