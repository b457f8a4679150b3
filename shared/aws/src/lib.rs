//! The ports implemented on AWS: objects in S3, the registry in DynamoDB, events on EventBridge.

mod dynamo;
mod eventbridge;
mod s3;

pub use dynamo::DynamoRegistry;
pub use eventbridge::EventBridgePublisher;
pub use s3::S3Store;

use std::sync::Arc;

use aws_sdk_s3::error::SdkError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use mlops_shared::ports::Backends;

/// S3, DynamoDB and EventBridge, configured from the environment (region, credentials,
/// `AWS_ENDPOINT_URL`).
pub async fn backends(bucket: &str, table: &str, event_bus: &str) -> Backends {
    let config = aws_config::load_from_env().await;
    Backends {
        store: Arc::new(S3Store::new(S3Store::client(&config), bucket)),
        registry: Arc::new(DynamoRegistry::new(
            aws_sdk_dynamodb::Client::new(&config),
            table,
        )),
        events: Arc::new(EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(&config),
            event_bus,
        )),
    }
}

/// The HTTP status of a failed AWS call, when a response came back at all.
fn http_status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response()
        .map(|response| response.status().as_u16())
}
