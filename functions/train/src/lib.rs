//! The train Lambda's handler: a schedule tick, an on-demand request, a `DriftDetected` event or a
//! `RetrainRequested` event (a champion withdrawn for degraded live quality) names a dataset; the
//! domain trains (or finds the same training done before), or hands a training too large for
//! Lambda to the container task; this reports it. The same binary is the container task's
//! entry point ([`run_task`]).

use mlops_shared::model_registry::ModelVersionRecord;
use mlops_shared::names::{DatasetName, ModelName, ObjectKey};
use mlops_shared::observability::{MetricSet, Unit};
use mlops_shared::train::{Handled, Silent, TrainError, TrainOutcome, Trainer};
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info};

/// What to train and why.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainRequest {
    pub dataset: DatasetName,
    pub trigger: String,
}

pub type HandlerError = mlops_shared::handler::HandlerError<TrainError>;

/// What the function answers.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Trained(Response),
    HandedOff(HandOff),
}

/// A training handed to the container task.
#[derive(Debug, Clone, Serialize)]
pub struct HandOff {
    /// `container_task_requested`.
    pub status: &'static str,
    pub dataset: DatasetName,
    /// Rows the spec's curated versions hold.
    pub rows: u64,
    pub trigger: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Response {
    /// `registered`, or `already_trained` when the same input made this version before.
    pub status: &'static str,
    pub model: ModelName,
    pub version: u64,
    pub learner: String,
    pub metrics: std::collections::BTreeMap<String, f64>,
    pub artifact_key: ObjectKey,
    pub card_key: ObjectKey,
    pub trigger: String,
}

/// Reads the request from `{"dataset": "flights", "trigger"?: "…"}` (schedules and on-demand
/// invokes) or from an EventBridge event whose detail names the dataset (`DriftDetected`,
/// `RetrainRequested`).
pub fn parse_request(event: &Value) -> Result<TrainRequest, HandlerError> {
    let (body, default_trigger) = match (event.get("detail-type"), event.get("detail")) {
        (Some(detail_type), Some(detail)) => {
            let trigger = match detail_type.as_str() {
                Some("DriftDetected") => "drift",
                Some("RetrainRequested") => "performance",
                Some("Scheduled Event") => "schedule",
                _ => "event",
            };
            (detail, trigger)
        }
        _ => (event, "on-demand"),
    };
    let dataset = body
        .get("dataset")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            HandlerError::BadEvent(
                "name the dataset to train: {\"dataset\": \"<name>\"} (or an EventBridge event whose detail has \"dataset\")"
                    .into(),
            )
        })?;
    let dataset = DatasetName::parse(dataset).map_err(|e| HandlerError::BadEvent(e.to_string()))?;
    let trigger = body
        .get("trigger")
        .and_then(Value::as_str)
        .unwrap_or(default_trigger)
        .to_owned();
    Ok(TrainRequest { dataset, trigger })
}

#[tracing::instrument(skip_all)]
pub async fn handle(trainer: &Trainer, event: Value) -> Result<Answer, HandlerError> {
    let request = parse_request(&event)?;
    let dataset = request.dataset.to_string();
    info!(dataset, trigger = request.trigger, "training");
    let handled = trainer
        .train_or_hand_off(&request.dataset, &request.trigger, &Silent)
        .await;
    match failed(&dataset, handled)? {
        Handled::Trained(outcome) => Ok(Answer::Trained(trained(outcome, request.trigger))),
        Handled::HandedOff { rows } => {
            info!(dataset, rows, "handed to the container task");
            Ok(Answer::HandedOff(HandOff {
                status: "container_task_requested",
                dataset: request.dataset,
                rows,
                trigger: request.trigger,
            }))
        }
    }
}

/// The container task: trains `dataset` in this process, whatever its size.
pub async fn run_task(trainer: &Trainer, request: TrainRequest) -> Result<Response, HandlerError> {
    let dataset = request.dataset.to_string();
    info!(
        dataset,
        trigger = request.trigger,
        "training in the container task"
    );
    let outcome = trainer
        .train(&request.dataset, &request.trigger, &Silent)
        .await;
    Ok(trained(failed(&dataset, outcome)?, request.trigger))
}

/// The request of the container task's command line: `--task <dataset> <trigger>`; None when the
/// binary is not started as the task.
pub fn task_request(args: &[String]) -> Option<Result<TrainRequest, HandlerError>> {
    let [flag, dataset, trigger] = args else {
        return (args.first().map(String::as_str) == Some("--task")).then(|| {
            Err(HandlerError::BadEvent(
                "the container task takes: --task <dataset> <trigger>".into(),
            ))
        });
    };
    (flag == "--task").then(|| {
        Ok(TrainRequest {
            dataset: DatasetName::parse(dataset)
                .map_err(|e| HandlerError::BadEvent(e.to_string()))?,
            trigger: trigger.clone(),
        })
    })
}

/// A training error as the function reports it: retryable or not.
fn failed<T>(dataset: &str, result: Result<T, TrainError>) -> Result<T, HandlerError> {
    match result {
        Ok(value) => Ok(value),
        Err(source) if source.is_retryable() => Err(HandlerError::Retryable {
            task: format!("training {dataset}"),
            source,
        }),
        Err(source) => {
            error!(dataset, error = %source, "training failed");
            Err(HandlerError::Failed {
                task: format!("training {dataset}"),
                source,
            })
        }
    }
}

fn trained(outcome: TrainOutcome, trigger: String) -> Response {
    metrics(&outcome.record, outcome.created).emit();
    let record = outcome.record;
    info!(
        model = %record.model,
        version = record.version,
        created = outcome.created,
        "trained"
    );
    Response {
        status: if outcome.created {
            "registered"
        } else {
            "already_trained"
        },
        model: record.model,
        version: record.version,
        learner: record.learner,
        metrics: record.metrics,
        artifact_key: record.artifact_key,
        card_key: record.card_key,
        trigger,
    }
}

fn metrics(record: &ModelVersionRecord, created: bool) -> MetricSet {
    let mut set = MetricSet::new()
        .dimension("Model", record.model.as_str())
        .metric(
            "ModelsRegistered",
            f64::from(u8::from(created)),
            Unit::Count,
        )
        .metric("ArtifactBytes", record.artifact_bytes as f64, Unit::Bytes);
    for (name, metric) in [
        ("roc_auc", "TestRocAuc"),
        ("f1", "TestF1"),
        ("f1_macro", "TestF1Macro"),
    ] {
        if let Some(value) = record.metrics.get(name) {
            set = set.metric(metric, *value, Unit::None);
        }
    }
    set
}

#[cfg(test)]
#[path = "lib_tests.rs"]
mod tests;
