//! Wires the train function: config and clients once at cold start, then one training per event.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use mlops_shared::config::{AwsTargets, Env};
use mlops_shared::train::Trainer;
use train::handle;

fn main() -> Result<(), Error> {
    mlops_shared::process::start_runtime()?.block_on(serve())
}

async fn serve() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = AwsTargets::from_env(&Env::process())?;
    let backends =
        mlops_aws::backends(&config.bucket, &config.registry_table, &config.event_bus).await;
    let trainer = Trainer::new(&backends);
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        handle(&trainer, event.payload)
    }))
    .await
}
