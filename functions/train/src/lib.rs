//! The train Lambda's handler: a schedule tick, an on-demand request, a `DriftDetected` event or a
//! `RetrainRequested` event (a champion withdrawn for degraded live quality) names a dataset; the
//! domain trains (or finds the same training done before), hands a training too large for
//! Lambda to the container task, or a wide search to the train-search state machine; this
//! reports it. The state machine's steps invoke this function too, with `{"step": …}`
//! ([`parse_step`]). The same binary is the container task's entry point ([`run_task`]).

use mlops_shared::model_registry::ModelVersionRecord;
use mlops_shared::names::{DatasetName, ModelName, ObjectKey};
use mlops_shared::observability::{MetricSet, Unit};
use mlops_shared::train::{
    CandidateStep, Handled, Planned, SearchPlan, Silent, TrainError, TrainOutcome, Trainer,
};
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
    SearchRequested(SearchRequested),
    Planned(PlanAnswer),
    Candidate(CandidateAnswer),
}

/// A search handed to the train-search state machine.
#[derive(Debug, Clone, Serialize)]
pub struct SearchRequested {
    /// `search_requested`.
    pub status: &'static str,
    pub dataset: DatasetName,
    pub candidates: usize,
    pub trigger: String,
}

/// A step of the train-search state machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Plan(TrainRequest),
    Fit { plan: SearchPlan, candidate: usize },
    Finish(SearchPlan),
}

/// The plan step's answer: the state machine's Map state runs one fit step per candidate.
#[derive(Debug, Clone, Serialize)]
pub struct PlanAnswer {
    /// `planned`.
    pub status: &'static str,
    pub plan: SearchPlan,
    /// The candidates' indices, the Map state's items.
    pub candidates: Vec<usize>,
}

/// The fit step's answer.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateAnswer {
    /// `fitted`, or `kept_before` when an earlier run of the step had fitted it.
    pub status: &'static str,
    pub candidate: usize,
    pub description: String,
    /// The primary metric on the validation part (null when it is undefined).
    pub validation_score: f64,
    pub fit_seconds: f64,
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

/// Reads a state machine step: `{"step": "plan", "dataset": …, "trigger": …}`,
/// `{"step": "fit", "plan": {…}, "candidate": 3}` or `{"step": "finish", "plan": {…}}`, the plan as
/// the plan step answered it. None for any other event.
pub fn parse_step(event: &Value) -> Option<Result<Step, HandlerError>> {
    let step = event.get("step")?;
    let plan = || {
        let plan = event.get("plan").ok_or_else(|| {
            HandlerError::BadEvent("a fit or finish step carries the plan step's \"plan\"".into())
        })?;
        serde_json::from_value::<SearchPlan>(plan.clone())
            .map_err(|e| HandlerError::BadEvent(format!("plan: {e}")))
    };
    Some(match step.as_str() {
        Some("plan") => parse_request(event).map(Step::Plan),
        Some("fit") => plan().and_then(|plan| {
            let candidate = event
                .get("candidate")
                .and_then(Value::as_u64)
                .ok_or_else(|| {
                    HandlerError::BadEvent(
                        "a fit step names its candidate: {\"candidate\": <index>}".into(),
                    )
                })?;
            Ok(Step::Fit {
                plan,
                candidate: candidate as usize,
            })
        }),
        Some("finish") => plan().map(Step::Finish),
        _ => Err(HandlerError::BadEvent(format!(
            "step is \"plan\", \"fit\" or \"finish\", not {step}"
        ))),
    })
}

#[tracing::instrument(skip_all)]
pub async fn handle(trainer: &Trainer, event: Value) -> Result<Answer, HandlerError> {
    if let Some(step) = parse_step(&event) {
        return run_step(trainer, step?).await;
    }
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
        Handled::SearchRequested { candidates } => {
            info!(
                dataset,
                candidates, "handed to the train-search state machine"
            );
            Ok(Answer::SearchRequested(SearchRequested {
                status: "search_requested",
                dataset: request.dataset,
                candidates,
                trigger: request.trigger,
            }))
        }
    }
}

/// One step of the train-search state machine.
async fn run_step(trainer: &Trainer, step: Step) -> Result<Answer, HandlerError> {
    match step {
        Step::Plan(request) => {
            let dataset = request.dataset.to_string();
            let planned = trainer.plan(&request.dataset, &request.trigger).await;
            Ok(match failed(&dataset, planned)? {
                Planned::Trained(outcome) => Answer::Trained(trained(outcome, request.trigger)),
                Planned::Search { plan, candidates } => {
                    info!(
                        dataset,
                        candidates,
                        fingerprint = plan.fingerprint,
                        "search planned"
                    );
                    Answer::Planned(PlanAnswer {
                        status: "planned",
                        plan,
                        candidates: (0..candidates).collect(),
                    })
                }
            })
        }
        Step::Fit { plan, candidate } => {
            let dataset = plan.dataset.to_string();
            let step = trainer.fit_candidate(&plan, candidate).await;
            let CandidateStep { result, fitted_now } = failed(&dataset, step)?;
            info!(
                dataset,
                candidate,
                score = result.validation_score,
                fitted_now,
                "candidate"
            );
            Ok(Answer::Candidate(CandidateAnswer {
                status: if fitted_now { "fitted" } else { "kept_before" },
                candidate,
                description: result.description,
                validation_score: result.validation_score,
                fit_seconds: result.fit_seconds,
            }))
        }
        Step::Finish(plan) => {
            let dataset = plan.dataset.to_string();
            let outcome = trainer.finish(&plan, &Silent).await;
            Ok(Answer::Trained(trained(
                failed(&dataset, outcome)?,
                plan.trigger,
            )))
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
