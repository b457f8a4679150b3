//! The smoke test after every promotion: the champion is resolved and loaded as the predict
//! function does it, its golden rows (see [`crate::train::golden`]) are read and scored as a
//! request, and the answer must have the API's shape, training's probabilities and labels, and
//! come within the spec's time budget. A champion that fails is withdrawn (see `withdraw.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::model_registry::ModelVersionRecord;
use crate::ports::{ObjectStore, RegistryStore, StoreError};
use crate::predict::{
    self, Limits, Loaded, ModelCache, PredictResponse, Selector, ServeError, UnknownFields,
};
use crate::train::golden::GoldenRows;

/// Served probabilities may differ from training's by float rounding only.
pub const TOLERANCE: f64 = 1e-9;

/// What the smoke test found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SmokeTest {
    pub passed: bool,
    pub version: u64,
    /// Golden rows scored (none for a version trained before they were kept: only loading was
    /// checked).
    pub rows: usize,
    /// The largest difference between a served probability and training's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_difference: Option<f64>,
    /// Rows whose served label is not training's.
    pub mismatched_labels: usize,
    /// Reading, scoring and answering the golden rows.
    pub elapsed_ms: f64,
    pub budget_ms: u64,
    /// Every failed check, for people.
    pub problems: Vec<String>,
}

impl SmokeTest {
    /// One line: what passed, or every problem.
    pub fn summary(&self) -> String {
        if self.passed {
            format!(
                "smoke test passed: {} golden rows answered as trained in {:.1} ms",
                self.rows, self.elapsed_ms
            )
        } else {
            format!("smoke test failed: {}", self.problems.join("; "))
        }
    }
}

/// Runs the smoke test of `record`, which the registry names champion. A store or registry that
/// does not answer is an error (try again); everything else the test finds is in its result.
pub async fn run(
    store: Arc<dyn ObjectStore>,
    registry: Arc<dyn RegistryStore>,
    record: &ModelVersionRecord,
    budget_ms: u64,
) -> Result<SmokeTest, SmokeError> {
    let mut test = SmokeTest {
        passed: false,
        version: record.version,
        rows: 0,
        max_difference: None,
        mismatched_labels: 0,
        elapsed_ms: 0.0,
        budget_ms,
        problems: Vec::new(),
    };
    let cache = ModelCache::new(store.clone(), registry, Duration::ZERO);
    let loaded = match cache.get(&record.model, &Selector::champion()).await {
        Ok(loaded) => loaded,
        Err(ServeError::Registry(e)) => return Err(SmokeError::Registry(e)),
        Err(e) => {
            test.problems
                .push(format!("the champion cannot be served: {e}"));
            return Ok(test);
        }
    };
    if loaded.version != record.version {
        test.problems.push(format!(
            "the registry serves version {} as champion, not version {}",
            loaded.version, record.version
        ));
        return Ok(test);
    }
    let golden = match &record.golden_key {
        None => None,
        Some(key) => match store.get(key).await {
            Ok(object) => match serde_json::from_slice::<GoldenRows>(&object.bytes) {
                Ok(golden) => Some(golden),
                Err(e) => {
                    test.problems
                        .push(format!("the golden rows {key} are unreadable: {e}"));
                    return Ok(test);
                }
            },
            Err(StoreError::NotFound(_)) => {
                test.problems
                    .push(format!("the golden rows {key} are missing"));
                return Ok(test);
            }
            Err(e) => return Err(SmokeError::Store(e)),
        },
    };
    if let Some(golden) = golden {
        check(&mut test, &loaded, &golden);
    }
    test.passed = test.problems.is_empty();
    Ok(test)
}

#[derive(Debug, thiserror::Error)]
pub enum SmokeError {
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Registry(crate::ports::RegistryError),
}

/// Scores the golden rows as a request and compares the answer with training's.
fn check(test: &mut SmokeTest, loaded: &Loaded, golden: &GoldenRows) {
    test.rows = golden.records.len();
    let started = Instant::now();
    let answer = answer(loaded, golden);
    test.elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
    let answer = match answer {
        Ok(answer) => answer,
        Err(problem) => {
            test.problems.push(problem);
            return;
        }
    };
    if test.elapsed_ms > test.budget_ms as f64 {
        test.problems.push(format!(
            "answering {} golden rows took {:.1} ms, over the budget of {} ms ([monitoring] smoke_budget_ms)",
            test.rows, test.elapsed_ms, test.budget_ms
        ));
    }
    let classes = &loaded.artifact.classes;
    let served = match shape(&answer, classes, golden.records.len()) {
        Ok(served) => served,
        Err(problem) => {
            test.problems
                .push(format!("the answer is not the API's shape: {problem}"));
            return;
        }
    };
    let mut max_difference: f64 = 0.0;
    for ((label, probabilities), (expected_label, expected)) in served
        .iter()
        .zip(golden.labels.iter().zip(&golden.probabilities))
    {
        if label != expected_label {
            test.mismatched_labels += 1;
        }
        for (p, q) in probabilities.iter().zip(expected) {
            max_difference = max_difference.max((p - q).abs());
        }
        if probabilities.len() != expected.len() {
            max_difference = f64::INFINITY;
        }
    }
    test.max_difference = Some(max_difference);
    if max_difference > TOLERANCE {
        test.problems.push(format!(
            "served probabilities differ from training's by up to {max_difference:.3e} (at most {TOLERANCE:e} is allowed)"
        ));
    }
    if test.mismatched_labels > 0 {
        test.problems.push(format!(
            "{} of {} golden rows get another label than in training",
            test.mismatched_labels, test.rows
        ));
    }
}

/// The golden records read, scored and answered as the predict route does, as JSON.
fn answer(loaded: &Loaded, golden: &GoldenRows) -> Result<Value, String> {
    let body = serde_json::to_vec(&serde_json::json!({ "records": golden.records }))
        .map_err(|e| format!("the golden rows cannot be sent: {e}"))?;
    let limits = Limits {
        max_records: golden.records.len().max(1),
        unknown_fields: UnknownFields::Reject,
    };
    let frame = predict::parse(&body, &loaded.fields, &limits)
        .map_err(|e| format!("serving refuses the golden rows: {e}"))?;
    let predictions = predict::predict(&loaded.artifact, &frame, "smoke-test")
        .map_err(|e| format!("serving cannot score the golden rows: {e}"))?;
    let response = PredictResponse {
        model: loaded.artifact.model.clone(),
        version: loaded.version,
        predictions,
    };
    serde_json::to_value(&response).map_err(|e| format!("the answer cannot be written: {e}"))
}

/// Each prediction's label and class probabilities, read from the answer as a client reads it,
/// or what is wrong with its shape.
fn shape(
    answer: &Value,
    classes: &[String],
    rows: usize,
) -> Result<Vec<(String, Vec<f64>)>, String> {
    let predictions = answer
        .get("predictions")
        .and_then(Value::as_array)
        .ok_or("no \"predictions\" array")?;
    if predictions.len() != rows {
        return Err(format!(
            "{} predictions for {rows} records",
            predictions.len()
        ));
    }
    let probability = |value: Option<&Value>, what: &str| {
        value
            .and_then(Value::as_f64)
            .filter(|p| (0.0..=1.0).contains(p))
            .ok_or_else(|| format!("{what} is not a probability"))
    };
    predictions
        .iter()
        .enumerate()
        .map(|(i, prediction)| {
            let id = prediction.get("prediction_id").and_then(Value::as_str);
            if id.is_none_or(str::is_empty) {
                return Err(format!("prediction {i} has no prediction_id"));
            }
            let label = prediction
                .get("label")
                .and_then(Value::as_str)
                .filter(|l| classes.iter().any(|c| c == l))
                .ok_or_else(|| format!("prediction {i}'s label is not one of the classes"))?;
            let probabilities = if classes.len() == 2 {
                let score =
                    probability(prediction.get("score"), &format!("prediction {i}'s score"))?;
                vec![1.0 - score, score]
            } else {
                let map = prediction
                    .get("probabilities")
                    .and_then(Value::as_object)
                    .ok_or_else(|| format!("prediction {i} has no probabilities"))?;
                let probabilities = classes
                    .iter()
                    .map(|c| {
                        probability(
                            map.get(c),
                            &format!("prediction {i}'s probability of {c:?}"),
                        )
                    })
                    .collect::<Result<Vec<f64>, String>>()?;
                let sum: f64 = probabilities.iter().sum();
                if map.len() != classes.len() || (sum - 1.0).abs() > 1e-6 {
                    return Err(format!(
                        "prediction {i}'s probabilities are not one per class summing to 1"
                    ));
                }
                probabilities
            };
            Ok((label.to_owned(), probabilities))
        })
        .collect()
}
