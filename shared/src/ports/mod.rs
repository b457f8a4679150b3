//! What the domain needs from the world, as small traits. Adapters live in `crate::adapters`.

pub mod events;
pub mod object_store;
pub mod registry;

pub use events::{DomainEvent, EventError, EventPublisher};
pub use object_store::{ObjectInfo, ObjectStore, PutOutcome, StoreError, StoredObject};
pub use registry::{Condition, Item, ItemKey, RegistryError, RegistryStore, WriteOp};
