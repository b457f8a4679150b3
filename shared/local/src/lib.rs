//! The ports implemented for the embedded local default: objects in a folder, the registry in an
//! SQLite file, events appended to a JSON Lines file. No server, no account.

mod local_events;
mod local_folder;
mod sqlite;

pub use local_events::EventLog;
pub use local_folder::LocalFolderStore;
pub use sqlite::SqliteRegistry;

use std::path::Path;
use std::sync::Arc;

use mlops_shared::ports::{Backends, RegistryError};

/// Objects under `<home>/objects`, the registry in `<home>/registry.sqlite`, events appended to
/// `<home>/events.jsonl`.
pub fn backends(home: &Path) -> Result<Backends, RegistryError> {
    Ok(Backends {
        store: Arc::new(LocalFolderStore::new(home.join("objects"))),
        registry: Arc::new(SqliteRegistry::open(&home.join("registry.sqlite"))?),
        events: Arc::new(EventLog::new(home.join("events.jsonl"))),
    })
}
