//! The event port on a laptop: one JSON object per line, appended to a file that the local runner
//! (and its user) can read back.

use std::io::Write;
use std::path::PathBuf;

use async_trait::async_trait;
use serde_json::json;

use mlops_shared::ports::events::{DomainEvent, EventError, EventPublisher, EVENT_SOURCE};

pub struct EventLog {
    path: PathBuf,
}

impl EventLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Every event published so far, oldest first.
    pub fn read(&self) -> Result<Vec<DomainEvent>, EventError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(EventError::Unavailable(e.to_string())),
        };
        text.lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                    EventError::Unavailable(format!("{}: {e}", self.path.display()))
                })?;
                Ok(DomainEvent {
                    detail_type: value["detail-type"].as_str().unwrap_or_default().to_owned(),
                    detail: value["detail"].clone(),
                })
            })
            .collect()
    }
}

#[async_trait]
impl EventPublisher for EventLog {
    async fn publish(&self, event: &DomainEvent) -> Result<(), EventError> {
        let line = json!({
            "source": EVENT_SOURCE,
            "detail-type": event.detail_type,
            "time": chrono::Utc::now().to_rfc3339(),
            "detail": event.detail,
        })
        .to_string()
            + "\n";
        let path = self.path.clone();
        // One write of a whole line in append mode: concurrent writers never interleave lines.
        tokio::task::spawn_blocking(move || {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?
                .write_all(line.as_bytes())
        })
        .await
        .map_err(|e| EventError::Unavailable(e.to_string()))?
        .map_err(|e| EventError::Unavailable(e.to_string()))
    }
}
