//! The serving routes: predictions from a model's champion (or a named alias or version), the
//! registry view, health and the API's OpenAPI document. The predict function serves these.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::model_openapi::model_openapi;
use super::{model_name, ApiError, RequestId, OPENAPI};
use mlops_shared::model_registry;
use mlops_shared::names::{Alias, ModelName, CHAMPION};
use mlops_shared::observability::{MetricSet, Unit};
use mlops_shared::ports::{ObjectStore, RegistryStore};
use mlops_shared::predict::inference::ShadowRequest;
use mlops_shared::predict::{
    self, InferenceLog, Loaded, ModelCache, PredictResponse, Selector, ServingSettings,
};

/// What every serving request shares: the model cache, the registry, the inference log.
pub struct Serving {
    registry: Arc<dyn RegistryStore>,
    cache: Arc<ModelCache>,
    inference: InferenceLog,
    settings: ServingSettings,
    cold: AtomicBool,
    requests: AtomicU64,
    started: Instant,
}

impl Serving {
    pub fn new(
        store: Arc<dyn ObjectStore>,
        registry: Arc<dyn RegistryStore>,
        settings: ServingSettings,
    ) -> Self {
        Serving {
            cache: Arc::new(ModelCache::new(
                store.clone(),
                registry.clone(),
                settings.cache_ttl,
            )),
            inference: InferenceLog::new(store, settings.sampling),
            registry,
            settings,
            cold: AtomicBool::new(true),
            requests: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// The inference log, to flush before the process exits.
    pub fn inference(&self) -> &InferenceLog {
        &self.inference
    }

    async fn answer(
        &self,
        model: &str,
        which: Result<Query<Which>, QueryRejection>,
        body: Result<Bytes, BytesRejection>,
        request_id: &str,
    ) -> Result<Answered, ApiError> {
        let model = model_name(model)?;
        let Query(which) = which?;
        let selector = which.selector()?;
        let body = body?;
        let loaded = self.cache.get(&model, &selector).await?;
        let artifact = &loaded.artifact;
        let frame = predict::parse(&body, &loaded.fields, &self.settings.limits)?;
        let options = which.options()?.or(predict::options(&body)?);
        options.check(artifact).map_err(ApiError::bad_request)?;
        let predictions =
            predict::predict_with(artifact, &frame, request_id, options).map_err(|error| {
                // The request matched the model's own schema, so this is a defect, not bad input.
                tracing::error!(%error, %model, version = loaded.version, "prediction failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the model could not score this request",
                )
            })?;
        let shadow = self
            .shadow(&model, &selector, loaded.version)
            .map(|model| ShadowRequest {
                model,
                body: body.clone(),
            });
        self.inference
            .record(request_id, &selector, &loaded, frame, &predictions, shadow);
        Ok(Answered {
            model,
            response: PredictResponse {
                model: artifact.model.clone(),
                version: loaded.version,
                predictions,
            },
        })
    }

    /// The shadow version that also scores a champion request, when one is set and loaded:
    /// looking for it never waits (see [`ModelCache::get_if_ready`]).
    fn shadow(&self, model: &ModelName, selector: &Selector, champion: u64) -> Option<Arc<Loaded>> {
        let asks_champion =
            matches!(selector, Selector::Alias(alias) if alias.as_str() == CHAMPION);
        if !asks_champion || self.settings.sampling.rate <= 0.0 {
            return None;
        }
        let shadow = Selector::Alias(Alias::shadow());
        self.cache
            .get_if_ready(model, &shadow)
            .filter(|shadow| shadow.version != champion)
    }

    fn request_id(&self, given: Option<Extension<RequestId>>) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        given.map_or_else(|| format!("local-{n}"), |Extension(RequestId(id))| id)
    }
}

/// The answer as JSON, written into a buffer sized for it: axum's `Json` starts at 128 bytes and
/// doubles, copying a 10,000-record answer (0.5 MB) a dozen times on the way.
fn json_reply(response: &PredictResponse) -> Response {
    let mut body = Vec::with_capacity(64 + 56 * response.predictions.len());
    match serde_json::to_writer(&mut body, response) {
        Ok(()) => (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "the answer could not be written as JSON");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the answer could not be written",
            )
            .into_response()
        }
    }
}

struct Answered {
    model: ModelName,
    response: PredictResponse,
}

/// `?alias=challenger` or `?version=3` (neither means the champion), and what to answer beside
/// the predictions: `?top_k=3`, `?explain=true`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Which {
    alias: Option<String>,
    version: Option<String>,
    top_k: Option<String>,
    explain: Option<String>,
}

impl Which {
    fn options(&self) -> Result<predict::PredictOptions, ApiError> {
        let top_k = match &self.top_k {
            None => None,
            Some(k) => match k.parse::<usize>() {
                Ok(k) if k >= 1 => Some(k),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "top_k={k:?} is not a whole number of classes, at least 1"
                    )))
                }
            },
        };
        let explain = match self.explain.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "explain={other:?}: write explain=true or explain=false"
                )))
            }
        };
        Ok(predict::PredictOptions { top_k, explain })
    }

    fn selector(&self) -> Result<Selector, ApiError> {
        selector(&self.alias, &self.version)
    }
}

/// `?alias=challenger` or `?version=3`; neither means the champion.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Selection {
    alias: Option<String>,
    version: Option<String>,
}

fn selector(alias: &Option<String>, version: &Option<String>) -> Result<Selector, ApiError> {
    match (alias, version) {
        (None, None) => Ok(Selector::champion()),
        (Some(alias), None) => Alias::parse(alias)
            .map(Selector::Alias)
            .map_err(|e| ApiError::bad_request(e.to_string())),
        (None, Some(version)) => version.parse().map(Selector::Version).map_err(|_| {
            ApiError::bad_request(format!("version={version:?} is not a version number"))
        }),
        (Some(_), Some(_)) => Err(ApiError::bad_request("give alias or version, not both")),
    }
}

/// The serving routes and the OpenAPI document of the AWS deployment (the predict function).
pub fn router(serving: Arc<Serving>) -> Router {
    routes(serving).route(
        "/openapi.json",
        get(|| async { openapi(OPENAPI.to_owned()) }),
    )
}

/// The serving routes, without the document: a deployment serves the one that describes it.
pub fn routes(serving: Arc<Serving>) -> Router {
    Router::new()
        .route("/models/{model}/predict", post(predict_route))
        .route("/models", get(models_route))
        .route("/models/{model}", get(model_route))
        .route("/models/{model}/schema", get(schema_route))
        .route("/models/{model}/openapi.json", get(model_openapi_route))
        .route("/health", get(health_route))
        .with_state(serving)
}

/// `GET /openapi.json`'s answer.
pub fn openapi(document: String) -> Response {
    ([(CONTENT_TYPE, "application/json")], document).into_response()
}

async fn predict_route(
    State(app): State<Arc<Serving>>,
    Path(model): Path<String>,
    which: Result<Query<Which>, QueryRejection>,
    request_id: Option<Extension<RequestId>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let cold_start = app.cold.swap(false, Ordering::Relaxed);
    let request_id = app.request_id(request_id);
    let result = app.answer(&model, which, body, &request_id).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(Answered { model, response }) => {
            let records = response.predictions.len();
            tracing::info!(
                request_id,
                %model,
                version = response.version,
                records,
                status = 200,
                latency_ms,
                cold_start,
                "predicted"
            );
            if app.settings.metrics {
                let scores: Vec<f64> = response
                    .predictions
                    .iter()
                    .filter_map(|p| {
                        p.score.or_else(|| {
                            p.probabilities
                                .as_ref()
                                .and_then(|all| all.values().copied().reduce(f64::max))
                        })
                    })
                    .collect();
                MetricSet::new()
                    .dimension("Model", model.as_str())
                    .metric("Requests", 1.0, Unit::Count)
                    .metric("Records", records as f64, Unit::Count)
                    .metric("Latency", latency_ms, Unit::Milliseconds)
                    .values("Score", &scores, Unit::None)
                    .emit();
            }
            let version = HeaderValue::from(response.version);
            let mut reply = json_reply(&response);
            reply.headers_mut().insert("x-model-version", version);
            reply
        }
        Err(error) => {
            tracing::info!(
                request_id,
                model,
                status = error.status.as_u16(),
                code = error.code,
                latency_ms,
                cold_start,
                "refused"
            );
            if app.settings.metrics {
                MetricSet::new()
                    .dimension("Code", error.code)
                    .metric("Errors", 1.0, Unit::Count)
                    .emit();
            }
            error.into_response()
        }
    }
}

async fn models_route(State(app): State<Arc<Serving>>) -> Response {
    match model_registry::summaries(app.registry.as_ref()).await {
        Ok(models) => Json(json!({ "models": models })).into_response(),
        Err(error) => ApiError::from(predict::ServeError::from(error)).into_response(),
    }
}

async fn model_route(State(app): State<Arc<Serving>>, Path(model): Path<String>) -> Response {
    let model = match model_name(&model) {
        Ok(model) => model,
        Err(error) => return error.into_response(),
    };
    match model_registry::view(app.registry.as_ref(), &model).await {
        Ok(Some(view)) => Json(view).into_response(),
        Ok(None) => ApiError::from(predict::ServeError::UnknownModel(model)).into_response(),
        Err(error) => ApiError::from(predict::ServeError::from(error)).into_response(),
    }
}

/// The signature of the champion (or the alias or version asked for): what a record carries and
/// what the model answers, with an example and the record's JSON Schema.
async fn schema_route(
    State(app): State<Arc<Serving>>,
    Path(model): Path<String>,
    selection: Result<Query<Selection>, QueryRejection>,
) -> Response {
    match selected(&app, &model, selection).await {
        Ok(loaded) => Json(predict::schema(&loaded.artifact)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// The same version's predict operation as an OpenAPI document of its own, for client generators.
async fn model_openapi_route(
    State(app): State<Arc<Serving>>,
    Path(model): Path<String>,
    selection: Result<Query<Selection>, QueryRejection>,
) -> Response {
    match selected(&app, &model, selection).await {
        Ok(loaded) => Json(model_openapi(
            &predict::schema(&loaded.artifact),
            predict::explain::available(&loaded.artifact),
            &app.settings.limits,
        ))
        .into_response(),
        Err(error) => error.into_response(),
    }
}

/// The loaded version a signature route asks for: the champion, or `?alias=` or `?version=`.
async fn selected(
    app: &Serving,
    model: &str,
    selection: Result<Query<Selection>, QueryRejection>,
) -> Result<Arc<Loaded>, ApiError> {
    let model = model_name(model)?;
    let Query(selection) = selection?;
    let selector = selector(&selection.alias, &selection.version)?;
    Ok(app.cache.get(&model, &selector).await?)
}

/// 200 `ok` while every model requests asked for is served; 503 `degraded` when one cannot be
/// loaded (its cause is in the log, at error level).
async fn health_route(State(app): State<Arc<Serving>>) -> Response {
    let models = app.cache.health();
    let degraded = models.iter().any(|m| m.unavailable_since.is_some());
    let models: Vec<_> = models
        .into_iter()
        .map(|m| {
            let selector = match m.selector {
                Selector::Alias(alias) => json!({"alias": alias.as_str()}),
                Selector::Version(v) => json!({"version": v}),
            };
            let mut entry = json!({
                "model": m.model.as_str(),
                "selector": selector,
                "version": m.version,
                "state": if m.unavailable_since.is_some() { "unavailable" } else { "loaded" },
            });
            if let Some(since) = m.unavailable_since {
                entry["unavailable_since"] = json!(since.to_rfc3339());
            }
            entry
        })
        .collect();
    let inference = app.inference.stats();
    let status = if degraded {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = Json(json!({
        "status": if degraded { "degraded" } else { "ok" },
        "uptime_seconds": app.started.elapsed().as_secs(),
        "models": models,
        "inference_records": {
            "sampled": inference.sampled,
            "written": inference.written,
            "failed": inference.failed,
        },
    }));
    (status, body).into_response()
}
