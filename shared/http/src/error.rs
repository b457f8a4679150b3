//! Every API error in one JSON shape, `{"error": {"code", "message", "details"}}`, with its status.
//! Messages say what to fix; what went wrong inside (store errors, checksums, paths) goes to the
//! log, never to the caller.

use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

use mlops_shared::predict::{Problem, RequestError, ServeError};
use mlops_shared::promotion::PromoteError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    /// Stable, machine-readable: clients branch on this, not on the message.
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Problem>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn no_route() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_route",
            "no such route; GET /openapi.json lists them",
        )
    }

    pub fn method_not_allowed() -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this route does not take that method; GET /openapi.json lists them",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            json!({"error": {"code": self.code, "message": self.message, "details": self.details}});
        (self.status, Json(body)).into_response()
    }
}

impl From<RequestError> for ApiError {
    fn from(error: RequestError) -> Self {
        match error {
            RequestError::Malformed(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", error.to_string())
            }
            RequestError::TooDeep { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "too_deep", error.to_string())
            }
            RequestError::TooMany { .. } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_many_records",
                format!("{error}; split the batch"),
            ),
            RequestError::Invalid { total, problems } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid_request",
                message: format!(
                    "{total} problem(s) with the request{}",
                    if total > problems.len() {
                        format!("; the first {} are listed", problems.len())
                    } else {
                        String::new()
                    }
                ),
                details: problems,
            },
        }
    }
}

impl From<ServeError> for ApiError {
    fn from(error: ServeError) -> Self {
        match &error {
            ServeError::UnknownModel(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_model", error.to_string())
            }
            ServeError::NoAlias { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "no_alias", error.to_string())
            }
            ServeError::UnknownVersion { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_version", error.to_string())
            }
            ServeError::Unavailable { model, version, .. } => {
                tracing::error!(%error, "model unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "model_unavailable",
                    format!(
                        "{model} version {version} cannot be loaded right now; try again later"
                    ),
                )
            }
            ServeError::Registry(_) => unavailable("registry", &error),
        }
    }
}

impl From<PromoteError> for ApiError {
    fn from(error: PromoteError) -> Self {
        let (status, code) = match &error {
            PromoteError::UnknownModel(_) => (StatusCode::NOT_FOUND, "unknown_model"),
            PromoteError::UnknownVersion { .. } => (StatusCode::NOT_FOUND, "unknown_version"),
            PromoteError::UnknownAlias { .. } => (StatusCode::NOT_FOUND, "no_alias"),
            PromoteError::GatesFailed { .. } => (StatusCode::CONFLICT, "gates_failed"),
            PromoteError::Conflict(_) => (StatusCode::CONFLICT, "concurrent_change"),
            PromoteError::NoCandidate(_)
            | PromoteError::NotPromotable { .. }
            | PromoteError::NotRejectable { .. }
            | PromoteError::RejectedVersion { .. }
            | PromoteError::NoPreviousChampion(_)
            | PromoteError::ChampionAlias
            | PromoteError::Artifact { .. } => (StatusCode::CONFLICT, "not_allowed"),
            PromoteError::BadOperation(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            PromoteError::Spec(_)
            | PromoteError::Scoring(_)
            | PromoteError::Corrupt { .. }
            | PromoteError::Store(_)
            | PromoteError::Registry(_)
            | PromoteError::Events(_)
            | PromoteError::Smoke(_) => return unavailable("registry or store", &error),
        };
        let mut api = ApiError::new(status, code, error.to_string());
        if let PromoteError::GatesFailed { decision, .. } = &error {
            api.details = decision
                .failed_gates()
                .iter()
                .map(|gate| Problem {
                    record: None,
                    field: Some(gate.name.clone()),
                    problem: gate.detail.clone(),
                })
                .collect();
        }
        api
    }
}

/// A 503 whose cause is logged, not returned.
pub(crate) fn unavailable(what: &str, error: &dyn std::error::Error) -> ApiError {
    tracing::error!(%error, "{what} unavailable");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        format!("the {what} is unavailable right now; try again later"),
    )
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body is over {} bytes", super::MAX_BODY_BYTES),
            )
        } else {
            ApiError::bad_request(format!("the body could not be read: {rejection}"))
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request(format!("bad query string: {}", rejection.body_text()))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::BytesRejection(e) => e.into(),
            JsonRejection::JsonSyntaxError(_) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                rejection.body_text(),
            ),
            _ => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                rejection.body_text(),
            ),
        }
    }
}
