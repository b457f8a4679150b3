//! Predictions for the rows of a request: the label, the positive-class score (binary) or every
//! class's probability (multiclass), the most probable classes and the decision's largest
//! contributions when asked, and warnings where a value lies outside what the model saw in
//! training.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::explain::{self, Explanation};
use crate::artifact::ModelArtifact;
use crate::features::{CategorySource, Encoded, FeatureError, RawColumn, RawFrame};
use crate::names::ModelName;

/// The answer to a prediction request, the same over HTTP and from the command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictResponse {
    pub model: ModelName,
    pub version: u64,
    pub predictions: Vec<Prediction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Names the prediction, so outcomes reported later are joined to it: the record's key when
    /// the model has one (the spec's `[serving] key`), else `<request id>-<position>`.
    #[serde(default)]
    pub prediction_id: String,
    /// Shared by the records that have it: a string per record was a tenth of scoring's time.
    pub label: Arc<str>,
    /// Binary: the positive class's probability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Multiclass: each class's probability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<BTreeMap<String, f64>>,
    /// The `top_k` most probable classes, most probable first, when the request asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<Vec<RankedClass>>,
    /// The decision's margin split over the input features, when the request asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedClass {
    pub class: String,
    pub probability: f64,
}

/// The largest `top_k` a request may ask for, as the OpenAPI document declares it (a request
/// asking for more classes than the model has gets them all).
pub const MAX_TOP_K: usize = 1_000_000;

/// What a request may ask for beyond the predictions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct PredictOptions {
    /// The k most probable classes with their probabilities (at most every class).
    pub top_k: Option<usize>,
    /// Each prediction's contributions per input feature.
    #[serde(default)]
    pub explain: bool,
}

impl PredictOptions {
    /// Why `artifact` cannot answer these options, if it cannot.
    pub fn check(&self, artifact: &ModelArtifact) -> Result<(), String> {
        if self.top_k.is_some_and(|k| !(1..=MAX_TOP_K).contains(&k)) {
            return Err(format!("top_k must be between 1 and {MAX_TOP_K}"));
        }
        if self.explain && !explain::available(artifact) {
            return Err(format!(
                "version {} of {} was trained before explanations and cannot explain; train a new version",
                artifact.version, artifact.model
            ));
        }
        Ok(())
    }

    /// These options, with any the other set gives (a request's body beside its query).
    pub fn or(self, other: PredictOptions) -> PredictOptions {
        PredictOptions {
            top_k: self.top_k.or(other.top_k),
            explain: self.explain || other.explain,
        }
    }
}

/// Predictions for the rows of `frame` (read with [`ModelArtifact::request_fields`]), named after
/// their keys or `request_id`.
pub fn predict(
    artifact: &ModelArtifact,
    frame: &RawFrame,
    request_id: &str,
) -> Result<Vec<Prediction>, FeatureError> {
    predict_with(artifact, frame, request_id, PredictOptions::default())
}

/// [`predict`], with what the options ask for (checked with [`PredictOptions::check`]: a
/// model that cannot explain gives no explanation).
pub fn predict_with(
    artifact: &ModelArtifact,
    frame: &RawFrame,
    request_id: &str,
    options: PredictOptions,
) -> Result<Vec<Prediction>, FeatureError> {
    let mut ids = prediction_ids(artifact, frame, request_id)?;
    let encoded = artifact.pipeline.transform(frame)?;
    let probabilities = artifact.learner.probabilities(&encoded);
    let mut warnings = warnings(artifact, frame, &encoded)?;
    let k = artifact.classes.len().max(1);
    let labels: Vec<Arc<str>> = artifact
        .classes
        .iter()
        .map(|c| Arc::from(c.as_str()))
        .collect();
    let explains = options.explain && explain::available(artifact);
    let mut scratch = crate::learn::ShapScratch::default();
    Ok(probabilities
        .chunks(k)
        .zip(warnings.iter_mut())
        .zip(ids.iter_mut())
        .enumerate()
        .map(|(row, ((p, warnings), id))| {
            let binary = k == 2;
            let class = crate::learn::predicted_class(p, artifact.threshold);
            Prediction {
                top_k: options.top_k.map(|top| ranked(&artifact.classes, p, top)),
                explanation: explains
                    .then(|| explain::explain(artifact, frame, &encoded, row, class, &mut scratch)),
                prediction_id: std::mem::take(id),
                label: labels.get(class).cloned().unwrap_or_else(|| Arc::from("")),
                score: binary.then(|| p[1]),
                probabilities: (!binary).then(|| {
                    artifact
                        .classes
                        .iter()
                        .cloned()
                        .zip(p.iter().copied())
                        .collect()
                }),
                warnings: std::mem::take(warnings),
            }
        })
        .collect())
}

/// The `top` most probable classes, most probable first (ties in class order).
fn ranked(classes: &[String], probabilities: &[f64], top: usize) -> Vec<RankedClass> {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));
    order
        .into_iter()
        .take(top)
        .map(|i| RankedClass {
            class: classes.get(i).cloned().unwrap_or_default(),
            probability: probabilities[i],
        })
        .collect()
}

/// Each row's id: its key's value, or its request id and position.
fn prediction_ids(
    artifact: &ModelArtifact,
    frame: &RawFrame,
    request_id: &str,
) -> Result<Vec<String>, FeatureError> {
    let Some(key) = &artifact.key else {
        return Ok((0..frame.rows())
            .map(|row| format!("{request_id}-{row}"))
            .collect());
    };
    // The request reader refuses a record without its key, so every row has one.
    Ok(match frame.column(&key.name)? {
        RawColumn::Text(values) => (0..frame.rows())
            .map(|row| values.get(row).unwrap_or_default().to_owned())
            .collect(),
        RawColumn::Numeric(values) => values
            .iter()
            .map(|v| v.map(|v| (v as i64).to_string()).unwrap_or_default())
            .collect(),
        RawColumn::Boolean(_) | RawColumn::Datetime(_) => {
            return Err(FeatureError::WrongType {
                column: key.name.clone(),
                expected: "a string or integer key",
                found: "another type",
            })
        }
    })
}

/// Per row: numeric values outside the training range, categories the model never kept (read
/// from the encoded codes, so each value is looked up once), texts with no known term.
fn warnings(
    artifact: &ModelArtifact,
    frame: &RawFrame,
    encoded: &Encoded,
) -> Result<Vec<Vec<String>>, FeatureError> {
    let mut out = vec![Vec::new(); frame.rows()];
    for encoder in &artifact.pipeline.numeric {
        if let RawColumn::Numeric(values) = frame.column(&encoder.column)? {
            // The text around the value, formatted at the column's first warning only: when data
            // drifts every record warns, and formatting the range's two numbers each time tripled
            // the cost of a warning; when nothing warns, a request formats nothing.
            let mut text: Option<(String, String)> = None;
            for (row, value) in values.iter().enumerate() {
                if let Some(x) = value.filter(|x| *x < encoder.min || *x > encoder.max) {
                    let (before, after) = text.get_or_insert_with(|| {
                        let range = format!(
                            " is outside the training range [{}, {}]",
                            encoder.min, encoder.max
                        );
                        (format!("{}: ", encoder.column), range)
                    });
                    out[row].push(around(before, x, after));
                }
            }
        }
    }
    // `transform` encodes the categorical features in the pipeline's order.
    for (encoder, codes) in artifact
        .pipeline
        .categorical
        .iter()
        .zip(&encoded.categorical)
    {
        if encoder.source != CategorySource::Text {
            continue;
        }
        if let RawColumn::Text(values) = frame.column(&encoder.column)? {
            let mut before: Option<String> = None;
            let after = " was unseen or rare in training; scored as a rare category";
            for (row, (value, &code)) in values.iter().zip(codes).enumerate() {
                if let Some(v) = value.filter(|_| code == encoder.rare_code()) {
                    let before = before.get_or_insert_with(|| format!("{}: ", encoder.column));
                    let shown = crate::excerpt::excerpt(v);
                    out[row].push(around(before, format_args!("{shown:?}"), after));
                }
            }
        }
    }
    for (encoder, documents) in artifact.pipeline.text.iter().zip(&encoded.text) {
        let warning = format!(
            "{}: no word the model learned (empty after cleaning, or every word unseen in training); scored without it",
            encoder.column
        );
        // A missing text is scored without it like any missing value, without a warning.
        let RawColumn::Text(values) = frame.column(&encoder.column)? else {
            continue;
        };
        for (row, (warnings, value)) in out.iter_mut().zip(values.iter()).enumerate() {
            if value.is_some() && documents.row(row).next().is_none() {
                warnings.push(warning.clone());
            }
        }
    }
    Ok(out)
}

/// `before`, then `value` as `format!` writes it, then `after`.
fn around(before: &str, value: impl std::fmt::Display, after: &str) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(before.len() + 24 + after.len());
    text.push_str(before);
    let _ = write!(text, "{value}");
    text.push_str(after);
    text
}

#[cfg(test)]
#[path = "respond_tests.rs"]
mod tests;
