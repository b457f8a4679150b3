//! What the domain needs from the world, as small traits, and the bundle of them a process wires
//! once. The adapters (AWS, local) implement them.

pub mod events;
pub mod object_store;
pub mod registry;

pub use events::{DomainEvent, EventError, EventPublisher};
pub use object_store::{ObjectInfo, ObjectStore, PutOutcome, StoreError, StoredObject};
pub use registry::{Condition, Item, ItemKey, RegistryError, RegistryStore, WriteOp};

use std::sync::Arc;

/// The ports, wired once per process and shared by every request (built by `mlops_aws::backends`
/// or `mlops_local::backends`).
#[derive(Clone)]
pub struct Backends {
    pub store: Arc<dyn ObjectStore>,
    pub registry: Arc<dyn RegistryStore>,
    pub events: Arc<dyn EventPublisher>,
}
