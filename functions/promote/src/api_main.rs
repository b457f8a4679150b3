//! Wires the admin API function: the registry's promote, reject and rollback, and reported
//! outcomes, as HTTP routes (IAM-authorised in the template), with the caller's IAM identity in
//! the audit trail.

use std::sync::Arc;

use lambda_http::Error;
use mlops_http::{self as http, admin};
use mlops_shared::config::{AwsTargets, Env};

fn main() -> Result<(), Error> {
    mlops_shared::process::start_runtime()?.block_on(serve())
}

async fn serve() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let targets = AwsTargets::from_env(&Env::process())?;
    let backends =
        mlops_aws::backends(&targets.bucket, &targets.registry_table, &targets.event_bus).await;
    let admin = Arc::new(admin::Admin::new(&backends));
    http::lambda::run(http::finish(admin::router(admin))).await
}
