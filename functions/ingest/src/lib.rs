//! The ingest Lambda's handler: S3 `ObjectCreated` events in, one ingestion per record, a summary out.
//! The domain decides; this only translates the event and the outcome.

use std::borrow::Cow;

use aws_lambda_events::event::s3::S3Event;
use mlops_shared::config::{ConfigError, Env};
use mlops_shared::ingest::{IngestError, IngestOutcome, Ingestor, Status};
use mlops_shared::names::ObjectKey;
use mlops_shared::observability::{MetricSet, Unit};
use serde::Serialize;
use tracing::{error, warn};

/// Uploads above this are quarantined unread, whatever a spec allows. An upload is read from /tmp a
/// batch at a time, so /tmp bounds it (about 1.6 × the file); the template gives the function 10 GiB
/// and sets `MAX_FILE_BYTES` from `MaxFileBytes` (5 GiB).
const DEFAULT_MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    pub bucket: String,
    pub registry_table: String,
    pub max_file_bytes: u64,
}

impl Config {
    /// Reads `BUCKET`, `REGISTRY_TABLE` and optionally `MAX_FILE_BYTES`.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            bucket: env.required("BUCKET")?,
            registry_table: env.required("REGISTRY_TABLE")?,
            max_file_bytes: env.parsed_or(
                "MAX_FILE_BYTES",
                DEFAULT_MAX_FILE_BYTES,
                "number of bytes",
            )?,
        })
    }
}

pub type HandlerError = mlops_shared::handler::HandlerError<IngestError>;

/// A record that named nothing this function ingests.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub key: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Response {
    pub results: Vec<IngestOutcome>,
    pub skipped: Vec<Skipped>,
}

#[tracing::instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle(
    ingestor: &Ingestor,
    config: &Config,
    event: S3Event,
) -> Result<Response, HandlerError> {
    if event.records.is_empty() {
        return Err(HandlerError::BadEvent("the event has no S3 records".into()));
    }
    let mut response = Response::default();
    for record in event.records {
        let bucket = record.s3.bucket.name.unwrap_or_default();
        let raw_key = record.s3.object.key.unwrap_or_default();
        let skip = |reason: String| {
            warn!(bucket, key = raw_key, reason, "skipped record");
            Skipped {
                key: raw_key.clone(),
                reason,
            }
        };
        if bucket != config.bucket {
            response.skipped.push(skip(format!(
                "bucket {bucket:?} is not this function's bucket {:?}",
                config.bucket
            )));
            continue;
        }
        let key = match decode_key(&raw_key)
            .and_then(|k| ObjectKey::parse(&k).map_err(|e| e.to_string()))
        {
            Ok(key) => key,
            Err(reason) => {
                response.skipped.push(skip(reason));
                continue;
            }
        };
        match ingestor.ingest(&key).await {
            Ok(outcome) => {
                metrics(&outcome).emit();
                response.results.push(outcome);
            }
            Err(e @ (IngestError::NotAnUpload { .. } | IngestError::Vanished(_))) => {
                response.skipped.push(skip(e.to_string()))
            }
            Err(source) if source.is_retryable() => {
                return Err(HandlerError::Retryable {
                    task: format!("ingesting {key}"),
                    source,
                })
            }
            Err(source) => {
                error!(key = %key, error = %source, "ingestion failed");
                return Err(HandlerError::Failed {
                    task: format!("ingesting {key}"),
                    source,
                });
            }
        }
    }
    Ok(response)
}

/// S3 event keys are form-encoded: `+` is a space and other bytes are percent-escaped.
pub fn decode_key(raw: &str) -> Result<String, String> {
    let spaced: Cow<'_, str> = if raw.contains('+') {
        Cow::Owned(raw.replace('+', " "))
    } else {
        Cow::Borrowed(raw)
    };
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| format!("key {raw:?} is not valid percent-encoded UTF-8"))
}

fn metrics(outcome: &IngestOutcome) -> MetricSet {
    let (accepted, duplicate, quarantined) = match outcome.status {
        Status::Accepted => (1.0, 0.0, 0.0),
        Status::Duplicate => (0.0, 1.0, 0.0),
        Status::Quarantined => (0.0, 0.0, 1.0),
    };
    let rows = outcome.rows as f64;
    MetricSet::new()
        .dimension("Dataset", outcome.dataset.as_str())
        .metric("FilesAccepted", accepted, Unit::Count)
        .metric("FilesDuplicate", duplicate, Unit::Count)
        .metric("FilesQuarantined", quarantined, Unit::Count)
        .metric(
            "RowsAccepted",
            if accepted > 0.0 { rows } else { 0.0 },
            Unit::Count,
        )
        .metric(
            "RowsQuarantined",
            if quarantined > 0.0 { rows } else { 0.0 },
            Unit::Count,
        )
        .metric("RowsDropped", outcome.rows_dropped as f64, Unit::Count)
}

#[cfg(test)]
#[path = "lib_tests.rs"]
mod tests;
