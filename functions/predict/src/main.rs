//! Wires the predict function: clients, settings and the model cache once at cold start, then the
//! serving routes for every API Gateway request. Everything it does is in `mlops_http`.

use std::sync::Arc;
use std::time::Duration;

use lambda_http::Error;
use mlops_http::{self as http, serving};
use mlops_shared::config::{AwsTargets, Env};
use mlops_shared::predict::ServingSettings;

fn main() -> Result<(), Error> {
    mlops_shared::process::start_light_runtime()?.block_on(serve())
}

async fn serve() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let env = Env::process();
    let targets = AwsTargets::from_env(&env)?;
    let mut settings = ServingSettings::from_env(&env)?;
    settings.metrics = true;
    let backends =
        mlops_aws::backends(&targets.bucket, &targets.registry_table, &targets.event_bus).await;
    let serving = Arc::new(serving::Serving::new(
        backends.store,
        backends.registry,
        settings,
    ));
    let at_shutdown = Arc::clone(&serving);
    lambda_runtime::spawn_graceful_shutdown_handler(move || write_inference_records(at_shutdown))
        .await;
    http::lambda::run(http::finish(serving::router(serving))).await
}

/// Writes the inference records still buffered when Lambda stops the container, which would
/// otherwise be lost with it: on a quiet API, most of them. Lambda allows 500 ms after SIGTERM.
async fn write_inference_records(serving: Arc<serving::Serving>) {
    let inference = serving.inference();
    let flushed = tokio::time::timeout(Duration::from_millis(450), inference.flush()).await;
    let stats = inference.stats();
    lambda_http::tracing::info!(
        sampled = stats.sampled,
        written = stats.written,
        failed = stats.failed,
        finished = flushed.is_ok(),
        "inference records written at shutdown"
    );
}
