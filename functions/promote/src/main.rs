//! Wires the promote function: config and clients once at cold start, then one decision or
//! manual request per event.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use mlops_shared::config::{AwsTargets, Env};
use mlops_shared::promotion::Promoter;
use promote::handle_event;

fn main() -> Result<(), Error> {
    mlops_shared::process::start_runtime()?.block_on(serve())
}

async fn serve() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = AwsTargets::from_env(&Env::process())?;
    let backends =
        mlops_aws::backends(&config.bucket, &config.registry_table, &config.event_bus).await;
    let promoter = Promoter::new(&backends);
    let registry = backends.registry.as_ref();
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let request_id = event.context.request_id.clone();
        let promoter = &promoter;
        async move { handle_event(promoter, registry, event.payload, &request_id).await }
    }))
    .await
}
