//! Wires the ingest function: config and clients once at cold start, then one handler call per event.

use ingest::{handle, Config};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use mlops_shared::config::Env;
use mlops_shared::ingest::Ingestor;

fn main() -> Result<(), Error> {
    mlops_shared::process::start_runtime()?.block_on(serve())
}

async fn serve() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env(&Env::process())?;
    // Ingestion publishes no events; the bus name is never used.
    let backends = mlops_aws::backends(&config.bucket, &config.registry_table, "default").await;
    let ingestor = Ingestor::new(backends.store, backends.registry, config.max_file_bytes);
    run(service_fn(|event: LambdaEvent<_>| {
        handle(&ingestor, &config, event.payload)
    }))
    .await
}
