//! The admin routes: the registry's promote, reject and rollback over HTTP, IAM-authorised in the
//! template, reported outcomes (see [`super::outcomes`]) and the operators' window view (see
//! [`super::monitor`]). Each registry command is the same
//! `Promoter` call as the command line and the promote function's direct invoke, with the same
//! idempotency: a retried request with its `operation_id` is applied once.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{model_name, monitor, outcomes, ApiError, Caller, RequestId, MAX_BODY_BYTES};
use mlops_shared::ingest::Ingestor;
use mlops_shared::ports::{Backends, RegistryStore};
use mlops_shared::predict::Problem;
use mlops_shared::promotion::{Command, Outcome, PromoteError, Promoter, Request};

/// What the admin routes act on.
pub struct Admin {
    pub promoter: Promoter,
    /// Takes reported outcomes in as uploads of the model's dataset.
    pub ingestor: Ingestor,
    pub registry: Arc<dyn RegistryStore>,
    /// What the monitor's window view reads.
    pub backends: Backends,
}

impl Admin {
    pub fn new(backends: &Backends) -> Self {
        Admin {
            promoter: Promoter::new(backends),
            ingestor: Ingestor::new(
                backends.store.clone(),
                backends.registry.clone(),
                MAX_BODY_BYTES as u64,
            ),
            registry: backends.registry.clone(),
            backends: backends.clone(),
        }
    }
}

pub fn router(admin: Arc<Admin>) -> Router {
    Router::new()
        .route("/models/{model}/promote", post(promote_route))
        .route("/models/{model}/reject", post(reject_route))
        .route("/models/{model}/rollback", post(rollback_route))
        .route("/models/{model}/outcomes", post(outcomes::route))
        .route("/models/{model}/monitor", get(monitor::route))
        .with_state(admin)
}

/// The admin routes on a local socket (`mlops serve --admin`), where no IAM signature protects
/// them: a request that changes something must say `content-type: application/json` (which a web
/// page cannot send to another origin without a CORS preflight, which this server never grants),
/// and every request must carry the bearer token when one is set.
pub fn local_router(admin: Arc<Admin>, token: Option<String>) -> Router {
    router(admin).route_layer(middleware::from_fn_with_state(
        token.map(Arc::<str>::from),
        local_guard,
    ))
}

async fn local_guard(
    State(token): State<Option<Arc<str>>>,
    mut request: axum::extract::Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json && request.method() != axum::http::Method::GET {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "admin routes take `content-type: application/json` (an empty body too)",
        )
        .into_response();
    }
    if let Some(token) = token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|given| same_secret(given.as_bytes(), token.as_bytes())) {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "admin routes need `authorization: Bearer <token>`, the token `mlops serve` was started with",
            )
            .into_response();
        }
        request.extensions_mut().insert(Caller("http:token".into()));
    }
    next.run(request).await
}

/// Compares two secrets in time that does not depend on where they first differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// What every admin body may carry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdminBody {
    version: Option<u64>,
    #[serde(default)]
    force: bool,
    reason: Option<String>,
    /// The idempotency key; default: the request id (a new one per HTTP request).
    operation_id: Option<String>,
}

/// Who, why and the idempotency key, from the body and the request's context.
struct Context {
    caller: Option<Extension<Caller>>,
    request_id: Option<Extension<RequestId>>,
}

impl Context {
    fn request(&self, body: &AdminBody) -> Result<Request, PromoteError> {
        let operation = body.operation_id.clone().unwrap_or_else(|| {
            self.request_id.as_ref().map_or_else(
                || {
                    format!(
                        "http:{}",
                        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
                    )
                },
                |Extension(RequestId(id))| format!("http:{id}"),
            )
        });
        let actor = self
            .caller
            .as_ref()
            .map_or("http:unauthenticated", |Extension(Caller(who))| {
                who.as_str()
            });
        Request::new(&operation, actor, body.reason.clone())
    }
}

/// An empty body is `{}`: rollback and promote need nothing more.
fn parse<T: DeserializeOwned + Default>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_body(body)
}

/// A JSON body: 400 when it is not JSON, 422 when it is JSON of another shape.
pub(crate) fn parse_body<T: DeserializeOwned>(body: Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(&body).map_err(|e| {
        let mut error = ApiError::from(mlops_shared::predict::RequestError::Malformed(
            e.to_string(),
        ));
        if !e.is_syntax() && !e.is_eof() {
            error.status = StatusCode::UNPROCESSABLE_ENTITY;
            error.code = "invalid_request";
            error.message = format!("the body is not what this route takes: {e}");
        }
        error
    })
}

fn reply(result: Result<Outcome, ApiError>) -> Response {
    match result {
        Ok(outcome) => Json(outcome).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn promote_route(
    State(admin): State<Arc<Admin>>,
    Path(model): Path<String>,
    caller: Option<Extension<Caller>>,
    request_id: Option<Extension<RequestId>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let context = Context { caller, request_id };
    reply(
        async {
            let model = model_name(&model)?;
            let body: AdminBody = parse(body)?;
            let request = context.request(&body)?;
            let command = Command::Promote {
                model,
                version: body.version,
                force: body.force,
            };
            Ok(admin.promoter.execute(&command, &request).await?)
        }
        .await,
    )
}

async fn reject_route(
    State(admin): State<Arc<Admin>>,
    Path(model): Path<String>,
    caller: Option<Extension<Caller>>,
    request_id: Option<Extension<RequestId>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let context = Context { caller, request_id };
    reply(
        async {
            let model = model_name(&model)?;
            let body: AdminBody = parse(body)?;
            let Some(version) = body.version else {
                let mut error = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_request",
                    "name the version to reject",
                );
                error.details.push(Problem {
                    record: None,
                    field: Some("version".into()),
                    problem: "required".into(),
                });
                return Err(error);
            };
            let request = context.request(&body)?;
            let command = Command::Reject { model, version };
            Ok(admin.promoter.execute(&command, &request).await?)
        }
        .await,
    )
}

async fn rollback_route(
    State(admin): State<Arc<Admin>>,
    Path(model): Path<String>,
    caller: Option<Extension<Caller>>,
    request_id: Option<Extension<RequestId>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let context = Context { caller, request_id };
    reply(
        async {
            let model = model_name(&model)?;
            let body: AdminBody = parse(body)?;
            if body.version.is_some() || body.force {
                let mut error = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_request",
                    "rollback returns to the previous champion; it takes no version or force",
                );
                for (given, field) in [(body.version.is_some(), "version"), (body.force, "force")] {
                    if given {
                        error.details.push(Problem {
                            record: None,
                            field: Some(field.into()),
                            problem: "not taken by rollback".into(),
                        });
                    }
                }
                return Err(error);
            }
            let request = context.request(&body)?;
            Ok(admin
                .promoter
                .execute(&Command::Rollback { model }, &request)
                .await?)
        }
        .await,
    )
}
