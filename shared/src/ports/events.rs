//! The event port: domain events for the next step of the pipeline (EventBridge in AWS, a JSON
//! Lines file on a laptop). Consumers must tolerate duplicates: events are delivered at least once.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every event this product emits carries this source.
pub const EVENT_SOURCE: &str = "mlops";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// EventBridge's `detail-type`, e.g. `ModelTrained`.
    pub detail_type: String,
    pub detail: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// A transient or infrastructure failure: retrying may help.
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
    /// The bus refused the event (permissions, missing bus): retrying will not help.
    #[error("event bus refused the event: {0}")]
    Refused(String),
}

impl EventError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, EventError::Unavailable(_))
    }
}

#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, event: &DomainEvent) -> Result<(), EventError>;
}
