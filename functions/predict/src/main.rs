//! Wires the predict function: clients, settings and the model cache once at cold start, then the
//! serving routes for every API Gateway request. Everything it does is in `mlops_shared::http`.

use std::sync::Arc;

use lambda_http::Error;
use mlops_shared::adapters::Backends;
use mlops_shared::config::{AwsTargets, Env};
use mlops_shared::http::{self, serving};
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
        Backends::aws(&targets.bucket, &targets.registry_table, &targets.event_bus).await;
    let serving = Arc::new(serving::Serving::new(
        backends.store,
        backends.registry,
        settings,
    ));
    http::lambda::run(http::finish(serving::router(serving))).await
}
