//! Why a drift check failed, and whether running it again could succeed.

use crate::features::FeatureError;
use crate::names::{DatasetName, ModelName};
use crate::ports::{EventError, RegistryError, StoreError};
use crate::predict::ServeError;
use crate::spec::stored::StoredSpecError;

#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// Unknown model or version, no champion, or an artifact that cannot be used.
    #[error(transparent)]
    Model(#[from] ServeError),
    #[error("the reference profile of {model} version {version} is unusable: {problem}")]
    Reference {
        model: ModelName,
        version: u64,
        problem: String,
    },
    #[error(transparent)]
    Spec(#[from] StoredSpecError),
    #[error("{dataset} has no data version {version}: {hint}")]
    UnknownDataVersion {
        dataset: DatasetName,
        version: String,
        hint: String,
    },
    #[error("the spec of {dataset} no longer declares {column}, an input of the model")]
    MissingColumn {
        dataset: DatasetName,
        column: String,
    },
    #[error("cannot read {what}: {problem}")]
    Unreadable { what: String, problem: String },
    #[error(transparent)]
    Features(#[from] FeatureError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("the report is written, but announcing the drift failed: {0}")]
    Events(#[from] EventError),
    #[error("rendering the HTML report failed: {0}")]
    Render(String),
}

impl DriftError {
    /// Whether running the same check again could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            DriftError::Store(e) => e.is_retryable(),
            DriftError::Registry(e) | DriftError::Model(ServeError::Registry(e)) => {
                e.is_retryable()
            }
            DriftError::Model(ServeError::Unavailable { .. }) => true,
            DriftError::Events(e) => e.is_retryable(),
            DriftError::Spec(StoredSpecError::Store(e)) => e.is_retryable(),
            _ => false,
        }
    }
}
