//! `GET /models/{model}/monitor?window=1h`: the operators' view of a recent window (see
//! [`mlops_shared::monitor::window`]), read-only: nothing is written or announced.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::admin::Admin;
use super::error::unavailable;
use super::{model_name, ApiError};
use mlops_shared::clock;
use mlops_shared::monitor::{parse_window, MonitorError, MonitorJob};
use mlops_shared::predict::Problem;

#[derive(Debug, Deserialize)]
pub struct WindowQuery {
    window: Option<String>,
}

/// The window when the query names none.
const DEFAULT_WINDOW: &str = "1h";

pub async fn route(
    State(admin): State<Arc<Admin>>,
    Path(model): Path<String>,
    query: Result<Query<WindowQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match view(&admin, &model, query).await {
        Ok(view) => Json(view).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn view(
    admin: &Admin,
    model: &str,
    query: Result<Query<WindowQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<mlops_shared::monitor::WindowView, ApiError> {
    let model = model_name(model)?;
    let Query(query) = query.map_err(|e| bad_window(e.body_text()))?;
    let window =
        parse_window(query.window.as_deref().unwrap_or(DEFAULT_WINDOW)).map_err(bad_window)?;
    let until = clock::now();
    MonitorJob::new(&admin.backends)
        .window(&model, until - window, until)
        .await
        .map_err(|error| match error {
            MonitorError::UnknownModel(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_model", error.to_string())
            }
            error => unavailable("monitor's data", &error),
        })
}

fn bad_window(problem: String) -> ApiError {
    let mut error = ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_request",
        "the window is not one this route reads",
    );
    error.details.push(Problem {
        record: None,
        field: Some("window".into()),
        problem,
    });
    error
}
