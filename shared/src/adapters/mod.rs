//! Adapters: the ports implemented for AWS (S3, DynamoDB) and for the embedded local default
//! (a folder, an SQLite file).

pub mod dynamo;
pub mod eventbridge;
pub mod local_events;
pub mod local_folder;
pub mod s3;
pub mod sqlite;

pub use dynamo::DynamoRegistry;
pub use eventbridge::EventBridgePublisher;
pub use local_events::EventLog;
pub use local_folder::LocalFolderStore;
pub use s3::S3Store;
pub use sqlite::SqliteRegistry;

use aws_sdk_s3::error::SdkError;
pub(crate) use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// The HTTP status of a failed AWS call, when a response came back at all.
pub(crate) fn http_status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response()
        .map(|response| response.status().as_u16())
}

use std::path::Path;
use std::sync::Arc;

use crate::ports::{Backends, RegistryError};

/// S3, DynamoDB and EventBridge, configured from the environment (region, credentials,
/// `AWS_ENDPOINT_URL`).
pub async fn aws(bucket: &str, table: &str, event_bus: &str) -> Backends {
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

/// The embedded default: objects under `<home>/objects`, the registry in
/// `<home>/registry.sqlite`, events appended to `<home>/events.jsonl`.
pub fn local(home: &Path) -> Result<Backends, RegistryError> {
    Ok(Backends {
        store: Arc::new(LocalFolderStore::new(home.join("objects"))),
        registry: Arc::new(SqliteRegistry::open(&home.join("registry.sqlite"))?),
        events: Arc::new(EventLog::new(home.join("events.jsonl"))),
    })
}
