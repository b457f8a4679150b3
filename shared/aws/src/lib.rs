//! The ports implemented on AWS: objects in S3, the registry in DynamoDB, events on EventBridge.

mod dynamo;
pub mod endpoint;
mod eventbridge;
mod s3;

pub use dynamo::DynamoRegistry;
pub use eventbridge::EventBridgePublisher;
pub use s3::S3Store;

use std::sync::Arc;

use aws_sdk_s3::error::SdkError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use mlops_shared::ports::Backends;

/// S3, DynamoDB and EventBridge, configured from the environment (region, credentials, and the
/// endpoints [`endpoint`] decides).
pub async fn backends(bucket: &str, table: &str, event_bus: &str) -> Backends {
    let config = aws_config::load_from_env().await;
    let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(&config);
    dynamodb.set_endpoint_url(endpoint::from_process("DYNAMODB"));
    let mut eventbridge = aws_sdk_eventbridge::config::Builder::from(&config);
    eventbridge.set_endpoint_url(endpoint::from_process("EVENTBRIDGE"));
    Backends {
        store: Arc::new(S3Store::new(S3Store::client(&config), bucket)),
        registry: Arc::new(DynamoRegistry::new(
            aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
            table,
        )),
        events: Arc::new(EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::from_conf(eventbridge.build()),
            event_bus,
        )),
    }
}

/// The HTTP status of a failed AWS call, when a response came back at all.
fn http_status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response()
        .map(|response| response.status().as_u16())
}
