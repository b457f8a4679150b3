//! Wires the ingest function: config and clients once at cold start, then one handler call per event.

use ingest::{handle, Config};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use mlops_shared::adapters::Backends;
use mlops_shared::ingest::Ingestor;

/// polars allocates from many threads; mimalloc returns memory to the system sooner and is faster
/// than the system allocator for it (see the benchmark figures in the README).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let backends = Backends::aws(&config.bucket, &config.registry_table).await;
    let ingestor = Ingestor::new(backends.store, backends.registry, config.max_file_bytes);
    run(service_fn(|event: LambdaEvent<_>| {
        handle(&ingestor, &config, event.payload)
    }))
    .await
}
