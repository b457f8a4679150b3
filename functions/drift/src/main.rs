//! Wires the drift function: config and clients once at cold start, then one check per event (the
//! drift check, or the live-quality check).

use drift::dispatch;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use mlops_shared::config::{AwsTargets, Env};
use mlops_shared::drift::DriftJob;
use mlops_shared::monitor::MonitorJob;

fn main() -> Result<(), Error> {
    mlops_shared::process::start_runtime()?.block_on(serve())
}

async fn serve() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = AwsTargets::from_env(&Env::process())?;
    let backends =
        mlops_aws::backends(&config.bucket, &config.registry_table, &config.event_bus).await;
    let drift = DriftJob::new(&backends);
    let live = MonitorJob::new(&backends);
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        dispatch(&drift, &live, event.payload, chrono::Utc::now())
    }))
    .await
}
