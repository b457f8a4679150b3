//! The HTTP API. Serving routes (predict, registry view, health, OpenAPI) run in the predict
//! function; admin routes (promote, reject, rollback, outcomes) run in the promote function's API
//! binary, which holds the registry write permissions; `mlops serve` runs both on one socket.

pub mod admin;
pub mod error;
pub mod lambda;
pub mod model_openapi;
pub mod monitor;
pub mod outcomes;
pub mod serving;

pub use error::ApiError;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;

use mlops_shared::names::ModelName;

/// Lambda refuses larger payloads; locally the same limit applies.
pub const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

/// The API's OpenAPI 3 document, served at `GET /openapi.json` and checked against the routes.
pub const OPENAPI: &str = include_str!("openapi.json");

/// [`OPENAPI`] parsed, once per process: a model's own document is made from it per request.
fn openapi_document() -> &'static serde_json::Value {
    static DOCUMENT: std::sync::LazyLock<serde_json::Value> =
        std::sync::LazyLock::new(|| match serde_json::from_str(OPENAPI) {
            Ok(document) => document,
            Err(e) => unreachable!("the OpenAPI document is checked JSON: {e}"),
        });
    &DOCUMENT
}

/// The id a request is known by in logs and inference records. The Lambda binaries set it from
/// the invocation's request id; without it, serving numbers requests itself.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Who made an admin request, for the audit trail: the IAM principal in AWS.
#[derive(Debug, Clone)]
pub struct Caller(pub String);

/// The finishing touches every router gets: the body limit and JSON answers for unknown routes
/// and methods.
pub fn finish(router: Router) -> Router {
    router
        .fallback(|| async { ApiError::no_route() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The admin routes on a local socket: off unless asked for.
pub struct LocalAdmin {
    pub admin: Arc<admin::Admin>,
    /// The bearer token admin requests must carry, for a machine others use too.
    pub token: Option<String>,
}

/// The serving routes, and the admin routes when asked for, on one router: as `mlops serve` and
/// the tests run them. Its `/openapi.json` describes this deployment, not the AWS one.
pub fn local_router(serving: Arc<serving::Serving>, admin: Option<LocalAdmin>) -> Router {
    let document = local_openapi(admin.as_ref().map(|admin| admin.token.is_some()));
    let router = serving::routes(serving).route(
        "/openapi.json",
        axum::routing::get(move || async move { serving::openapi(document) }),
    );
    finish(match admin {
        Some(local) => router.merge(admin::local_router(local.admin, local.token)),
        None => router,
    })
}

/// The OpenAPI document as a local socket serves it: without the admin routes when they are off
/// (`None`); otherwise with what they require there instead of IAM (the bearer token when
/// `Some(true)`, nothing but the JSON content type when `Some(false)`).
pub fn local_openapi(admin_with_token: Option<bool>) -> String {
    let mut document = openapi_document().clone();
    let is_admin = |item: &serde_json::Value| {
        item.as_object().is_some_and(|ops| {
            ops.values().any(|op| {
                op["tags"]
                    .as_array()
                    .is_some_and(|t| t.contains(&"admin".into()))
            })
        })
    };
    if let Some(paths) = document["paths"].as_object_mut() {
        match admin_with_token {
            None => paths.retain(|_, item| !is_admin(item)),
            Some(token) => {
                let security = if token {
                    serde_json::json!([{ "token": [] }])
                } else {
                    serde_json::json!([])
                };
                for item in paths.values_mut().filter(|item| is_admin(item)) {
                    if let Some(ops) = item.as_object_mut() {
                        for op in ops.values_mut() {
                            op["security"] = security.clone();
                        }
                    }
                }
            }
        }
    }
    if admin_with_token == Some(true) {
        document["components"]["securitySchemes"]["token"] = serde_json::json!({
            "type": "http",
            "scheme": "bearer",
            "description": "The token `mlops serve --admin --admin-token` was started with."
        });
    }
    document.to_string()
}

fn model_name(text: &str) -> Result<ModelName, ApiError> {
    ModelName::parse(text).map_err(|e| ApiError::bad_request(e.to_string()))
}
