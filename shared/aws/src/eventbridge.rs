//! The event port on Amazon EventBridge.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;

use mlops_shared::ports::events::{DomainEvent, EventError, EventPublisher, EVENT_SOURCE};

pub struct EventBridgePublisher {
    client: Client,
    bus: String,
}

impl EventBridgePublisher {
    pub fn new(client: Client, bus: &str) -> Self {
        Self {
            client,
            bus: bus.to_owned(),
        }
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, event: &DomainEvent) -> Result<(), EventError> {
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type(&event.detail_type)
            .detail(event.detail.to_string())
            .build();
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| {
                let status = crate::http_status(&e);
                let message = aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string();
                match status {
                    Some(400..=499) => EventError::Refused(message),
                    _ => EventError::Unavailable(message),
                }
            })?;
        // PutEvents reports per-entry failures in a successful response.
        match output.entries().first() {
            Some(entry) if entry.error_code().is_some() => Err(EventError::Unavailable(format!(
                "{}: {}",
                entry.error_code().unwrap_or_default(),
                entry.error_message().unwrap_or_default()
            ))),
            _ if output.failed_entry_count() > 0 => {
                Err(EventError::Unavailable("the event was not accepted".into()))
            }
            _ => Ok(()),
        }
    }
}
