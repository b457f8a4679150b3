//! The live-quality check the drift function also runs, on a schedule of its own: an event
//! `{"job": "monitor", "model": "flights", "hours": 24}` joins the model's recent predictions with
//! the outcomes known now (see `mlops_shared::monitor`), writes the report, announces a degraded
//! version and publishes the live figures. It shares the drift check's reads (inference records,
//! artifacts, curated data) and its rights to announce, so it needs no function of its own.

use chrono::{DateTime, Duration, Utc};
use mlops_shared::monitor::{MonitorError, MonitorJob, MonitorOutcome};
use mlops_shared::names::ModelName;
use mlops_shared::observability::{MetricSet, Unit};
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info};

pub type MonitorHandlerError = mlops_shared::handler::HandlerError<MonitorError>;

/// The window a scheduled check looks back over unless the event says otherwise.
pub const DEFAULT_HOURS: u32 = 24;

const EXPECTED: &str =
    "{\"job\": \"monitor\", \"model\": \"<name>\"} with optional \"hours\" (the window, default 24)";

/// Whether an event (or an EventBridge event's detail) asks for the monitor job.
pub fn is_monitor_event(event: &Value) -> bool {
    let body = event.get("detail").unwrap_or(event);
    body.get("job").and_then(Value::as_str) == Some("monitor")
}

#[derive(Debug, Clone, PartialEq)]
pub struct MonitorRequest {
    pub model: ModelName,
    pub hours: u32,
}

pub fn parse_request(event: &Value) -> Result<MonitorRequest, MonitorHandlerError> {
    let body = event.get("detail").unwrap_or(event);
    let bad = |what: &str| MonitorHandlerError::BadEvent(format!("{what}; send {EXPECTED}"));
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no model named"))?;
    let model = ModelName::parse(model).map_err(|e| bad(&e.to_string()))?;
    let hours = match body.get("hours") {
        None | Some(Value::Null) => DEFAULT_HOURS,
        Some(hours) => hours
            .as_u64()
            .and_then(|h| u32::try_from(h).ok())
            .filter(|h| (1..=8784).contains(h))
            .ok_or_else(|| bad("\"hours\" must be a whole number from 1 to 8784"))?,
    };
    Ok(MonitorRequest { model, hours })
}

#[derive(Debug, Clone, Serialize)]
pub struct MonitorResponse {
    pub model: ModelName,
    pub predictions: u64,
    pub labelled: u64,
    /// Each version's verdict (`ok`, `degraded`, `insufficient_data`).
    pub verdicts: Vec<(u64, String)>,
    pub report_key: String,
    /// The versions announced as degraded.
    pub degraded: Vec<u64>,
}

#[tracing::instrument(skip_all)]
pub async fn handle(
    job: &MonitorJob<'_>,
    event: &Value,
    now: DateTime<Utc>,
) -> Result<MonitorResponse, MonitorHandlerError> {
    let request = parse_request(event)?;
    let model = request.model.to_string();
    let from = now - Duration::hours(request.hours.into());
    let outcome = match job.run(&request.model, from, now).await {
        Ok(outcome) => outcome,
        Err(source) if source.is_retryable() => {
            return Err(MonitorHandlerError::Retryable {
                task: format!("the live-quality check of {model}"),
                source,
            })
        }
        Err(source) => {
            error!(model, error = %source, "live-quality check failed");
            return Err(MonitorHandlerError::Failed {
                task: format!("the live-quality check of {model}"),
                source,
            });
        }
    };
    for set in metrics(&outcome) {
        set.emit();
    }
    let report = &outcome.report;
    info!(model, labelled = report.counts.labelled, degraded = ?outcome.degraded, "live quality checked");
    Ok(MonitorResponse {
        model: report.model.clone(),
        predictions: report.counts.predictions,
        labelled: report.counts.labelled,
        verdicts: report
            .versions
            .iter()
            .map(|v| (v.version, v.judgement.verdict.as_str().to_owned()))
            .collect(),
        report_key: outcome.json_key.to_string(),
        degraded: outcome.degraded.clone(),
    })
}

/// Per model and version: the labelled rows, the share of predictions labelled, the live primary
/// metric (by metric name), whether the version was found degraded, and for a binary model its
/// positive rate and whether it left the test part's band.
pub fn metrics(outcome: &MonitorOutcome) -> Vec<MetricSet> {
    let report = &outcome.report;
    report
        .versions
        .iter()
        .map(|v| {
            let judged = &v.judgement;
            let coverage = if v.predictions == 0 {
                0.0
            } else {
                judged.labelled as f64 / v.predictions as f64
            };
            let mut set = MetricSet::new()
                .dimension("Model", report.model.as_str())
                .dimension("Version", &v.version.to_string())
                .dimension("Metric", judged.metric.as_str())
                .metric("LabelledRows", judged.labelled as f64, Unit::Count)
                .metric("LabelCoverage", coverage, Unit::None)
                .metric(
                    "PerformanceDegraded",
                    f64::from(u8::from(outcome.degraded.contains(&v.version))),
                    Unit::Count,
                );
            if let Some(live) = judged.live {
                set = set.metric("LiveMetric", live, Unit::None);
            }
            if let Some(shape) = &v.scores {
                set = set.metric("PositiveRate", shape.positive_rate, Unit::None);
                if let Some(band) = &shape.band {
                    let outside = f64::from(u8::from(band.outside));
                    set = set.metric("PositiveRateOutOfBand", outside, Unit::Count);
                }
            }
            set
        })
        .collect()
}
