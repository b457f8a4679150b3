//! Wires the train function: config and clients once at cold start, then one training per event.
//! Started as `train --task <dataset> <trigger>` it is the container task instead: one training,
//! its answer on standard output, exit status 1 when it fails.

use std::process::ExitCode;

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use mlops_shared::config::{AwsTargets, Env};
use mlops_shared::train::Trainer;
use train::{handle, run_task, task_request};

fn main() -> Result<ExitCode, Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = mlops_shared::process::start_runtime()?;
    lambda_runtime::tracing::init_default_subscriber();
    match task_request(&args) {
        None => runtime.block_on(serve()).map(|()| ExitCode::SUCCESS),
        Some(Err(bad)) => {
            eprintln!("{bad}");
            Ok(ExitCode::FAILURE)
        }
        Some(Ok(request)) => runtime.block_on(async {
            let trainer = Trainer::new(&backends().await?);
            Ok(match run_task(&trainer, request).await {
                Ok(response) => {
                    println!("{}", serde_json::to_string(&response)?);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            })
        }),
    }
}

async fn backends() -> Result<mlops_shared::ports::Backends, Error> {
    let config = AwsTargets::from_env(&Env::process())?;
    Ok(mlops_aws::backends(&config.bucket, &config.registry_table, &config.event_bus).await)
}

async fn serve() -> Result<(), Error> {
    let trainer = Trainer::new(&backends().await?);
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        handle(&trainer, event.payload)
    }))
    .await
}
