//! `POST /models/{model}/outcomes`: outcomes reported one by one or in small batches, by systems
//! that learn them (a flight lands, a loan is repaid). The body is stored as an outcomes upload of
//! the model's dataset, named after its content, and ingested at once like any upload: the same
//! body twice is one version, a bad row is dropped and reported, a body that cannot be used is
//! quarantined and answered 422, and nothing is lost.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::admin::Admin;
use super::{model_name, ApiError};
use mlops_shared::ingest::{IngestOutcome, Status, OUTCOMES_FOLDER};
use mlops_shared::model_registry;
use mlops_shared::predict::Problem;

/// At most this many outcomes in one request; larger sets are uploaded as files.
pub const MAX_OUTCOMES: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomesBody {
    /// Rows of the dataset's outcome contract: the prediction's id (or the serving key), the
    /// target column, `observed_at`.
    outcomes: Vec<Map<String, Value>>,
}

pub async fn route(
    State(admin): State<Arc<Admin>>,
    Path(model): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match report(&admin, &model, body).await {
        Ok(outcome) => Json(outcome).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn report(
    admin: &Admin,
    model: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<IngestOutcome, ApiError> {
    let model = model_name(model)?;
    let body: OutcomesBody = super::admin::parse_body(body?)?;
    if body.outcomes.is_empty() {
        return Err(invalid("report at least one outcome", Vec::new()));
    }
    if body.outcomes.len() > MAX_OUTCOMES {
        return Err(invalid(
            &format!(
                "{} outcomes in one request; at most {MAX_OUTCOMES} (upload larger sets under raw/<dataset>/{OUTCOMES_FOLDER})",
                body.outcomes.len()
            ),
            Vec::new(),
        ));
    }
    let state = model_registry::get_model(admin.registry.as_ref(), &model)
        .await
        .map_err(|e| super::error::unavailable("registry", &e))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_model",
                format!("model {model} is not in the registry"),
            )
        })?;
    let mut lines = Vec::new();
    for outcome in &body.outcomes {
        // A map of JSON values always serialises.
        serde_json::to_writer(&mut lines, outcome)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        lines.push(b'\n');
    }
    let name = hex::encode(&Sha256::digest(&lines)[..8]);
    let outcome = admin
        .ingestor
        .upload_and_ingest(
            &state.dataset,
            &format!("{OUTCOMES_FOLDER}api-{name}.jsonl"),
            lines,
        )
        .await
        .map_err(|e| super::error::unavailable("store", &e))?;
    if outcome.status == Status::Quarantined {
        let details = outcome
            .reasons
            .iter()
            .map(|reason| Problem {
                record: None,
                field: None,
                problem: reason.clone(),
            })
            .collect();
        return Err(invalid(
            &format!(
                "the outcomes cannot be used as they are (the report is at {}); nothing was recorded",
                outcome.report
            ),
            details,
        ));
    }
    Ok(outcome)
}

fn invalid(message: &str, details: Vec<Problem>) -> ApiError {
    let mut error = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_outcomes",
        message,
    );
    error.details = details;
    error
}
