//! The drift Lambda's handler: a schedule tick or an on-demand invoke names a model (and optionally
//! the current data); the domain checks it against the training reference; this reports the result
//! and publishes its metrics. An event with `"job": "monitor"` runs the live-quality check instead
//! (see [`monitor`]).

pub mod monitor;

use chrono::{DateTime, Utc};
use lambda_runtime::Diagnostic;
use mlops_shared::drift::{Current, DriftError, DriftJob, DriftOutcome, DriftRequest, Reference};
use mlops_shared::monitor::MonitorJob;
use mlops_shared::names::ModelName;
use mlops_shared::observability::{MetricSet, Unit};
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info};

pub type HandlerError = mlops_shared::handler::HandlerError<DriftError>;

#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub model: String,
    pub version: u64,
    /// `drift`, `no drift` or `insufficient data`.
    pub verdict: String,
    pub dataset_drift: Option<bool>,
    pub share_drifted: f64,
    pub drifted_features: Vec<String>,
    pub rows: u64,
    pub report_key: String,
    pub html_key: String,
    pub announced: bool,
}

const EXPECTED: &str = "{\"model\": \"<name>\"} with optional \"version\" (the reference; default the champion), \"hours\" (the window of inference records), \"current_version\" (a curated data version instead) and \"trigger\"";

/// Reads `{"model": "flights", …}` (schedules and on-demand invokes; see [`EXPECTED`]) or an
/// EventBridge event whose detail carries the same fields.
pub fn parse_request(event: &Value, now: DateTime<Utc>) -> Result<DriftRequest, HandlerError> {
    let (body, default_trigger) = match (event.get("detail-type"), event.get("detail")) {
        (Some(detail_type), Some(detail)) => (
            detail,
            if detail_type == "Scheduled Event" {
                "schedule"
            } else {
                "event"
            },
        ),
        _ => (event, "on-demand"),
    };
    let bad = |what: &str| HandlerError::BadEvent(format!("{what}; send {EXPECTED}"));
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no model named"))?;
    let model = ModelName::parse(model).map_err(|e| bad(&e.to_string()))?;
    let number = |field: &str| -> Result<Option<u64>, HandlerError> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| bad(&format!("\"{field}\" must be a positive whole number"))),
        }
    };
    let version = number("version")?;
    let hours = number("hours")?
        .map(|h| u32::try_from(h).ok().filter(|h| *h > 0))
        .map(|h| h.ok_or_else(|| bad("\"hours\" must be from 1 to 4294967295")))
        .transpose()?;
    let current = match body.get("current_version").and_then(Value::as_str) {
        Some(data_version) => Current::DataVersion(data_version.to_owned()),
        None => Current::Window { hours, until: now },
    };
    let trigger = body
        .get("trigger")
        .and_then(Value::as_str)
        .unwrap_or(default_trigger)
        .to_owned();
    Ok(DriftRequest {
        model,
        version,
        reference: Reference::Training,
        current,
        trigger,
    })
}

/// Runs the job the event asks for: the live-quality check, or the drift check.
pub async fn dispatch(
    drift: &DriftJob,
    live: &MonitorJob<'_>,
    event: Value,
    now: DateTime<Utc>,
) -> Result<Value, Diagnostic> {
    // Both answers are plain records: serialising them cannot fail.
    if monitor::is_monitor_event(&event) {
        let response = monitor::handle(live, &event, now).await?;
        Ok(serde_json::to_value(response).unwrap_or_default())
    } else {
        let response = handle(drift, event, now).await?;
        Ok(serde_json::to_value(response).unwrap_or_default())
    }
}

#[tracing::instrument(skip_all)]
pub async fn handle(
    job: &DriftJob,
    event: Value,
    now: DateTime<Utc>,
) -> Result<Response, HandlerError> {
    let request = parse_request(&event, now)?;
    let model = request.model.to_string();
    info!(model, trigger = request.trigger, "checking drift");
    let outcome = match job.run(&request, now).await {
        Ok(outcome) => outcome,
        Err(source) if source.is_retryable() => {
            return Err(HandlerError::Retryable {
                task: format!("the drift check of {model}"),
                source,
            })
        }
        Err(source) => {
            error!(model, error = %source, "drift check failed");
            return Err(HandlerError::Failed {
                task: format!("the drift check of {model}"),
                source,
            });
        }
    };
    for set in metrics(&outcome) {
        set.emit();
    }
    let report = outcome.report;
    info!(
        model,
        verdict = report.verdict,
        share_drifted = report.comparison.share_drifted,
        "drift checked"
    );
    Ok(Response {
        model,
        version: report.reference.version,
        verdict: report.verdict,
        dataset_drift: report.comparison.dataset_drift,
        share_drifted: report.comparison.share_drifted,
        drifted_features: report
            .comparison
            .features
            .iter()
            .filter(|f| f.drifted)
            .map(|f| f.name.clone())
            .collect(),
        rows: report.current.rows,
        report_key: outcome.json_key.to_string(),
        html_key: outcome.html_key.to_string(),
        announced: outcome.announced,
    })
}

/// The data set's figures per model, and each feature's score per model and feature.
pub fn metrics(outcome: &DriftOutcome) -> Vec<MetricSet> {
    let report = &outcome.report;
    let c = &report.comparison;
    let mut sets = vec![MetricSet::new()
        .dimension("Model", report.model.as_str())
        .metric("ShareDriftedFeatures", c.share_drifted, Unit::None)
        .metric("DriftedFeatures", c.drifted_features as f64, Unit::Count)
        .metric("DriftCurrentRows", report.current.rows as f64, Unit::Count)
        .metric(
            "DatasetDrift",
            f64::from(u8::from(c.dataset_drift == Some(true))),
            Unit::Count,
        )];
    for feature in c.features.iter().chain(&c.prediction) {
        if let Some(score) = feature.score {
            sets.push(
                MetricSet::new()
                    .dimension("Model", report.model.as_str())
                    .dimension("Feature", &feature.name)
                    .metric("DriftScore", score, Unit::None)
                    .metric(
                        "FeatureDrifted",
                        f64::from(u8::from(feature.drifted)),
                        Unit::Count,
                    ),
            );
        }
    }
    sets
}

#[cfg(test)]
#[path = "lib_tests.rs"]
mod tests;
