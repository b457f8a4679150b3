//! A registered version's artifact, read from the object store and checked against what the
//! registry recorded: promotion and serving use nothing else, so neither can act on an artifact
//! that is missing, altered or unreadable.

use sha2::{Digest, Sha256};

use super::ModelVersionRecord;
use crate::artifact::ModelArtifact;
use crate::names::ObjectKey;
use crate::ports::{ObjectStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0} is missing")]
    Missing(ObjectKey),
    /// The store failed to answer; retrying may help (see [`StoreError::is_retryable`]).
    #[error(transparent)]
    Store(StoreError),
    /// The artifact is there but is not the one registered, or cannot be decoded.
    #[error("{0}")]
    Unusable(String),
}

pub async fn load_verified(
    store: &dyn ObjectStore,
    record: &ModelVersionRecord,
) -> Result<ModelArtifact, LoadError> {
    let key = &record.artifact_key;
    let bytes = match store.get(key).await {
        Ok(object) => object.bytes,
        Err(StoreError::NotFound(_)) => return Err(LoadError::Missing(key.clone())),
        Err(e) => return Err(LoadError::Store(e)),
    };
    let found = hex::encode(Sha256::digest(&bytes));
    if found != record.artifact_sha256 {
        return Err(LoadError::Unusable(format!(
            "{key} has SHA-256 {found}, the registry recorded {}",
            record.artifact_sha256
        )));
    }
    ModelArtifact::decode(&bytes).map_err(|e| LoadError::Unusable(e.to_string()))
}
