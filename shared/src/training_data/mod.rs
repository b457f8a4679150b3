//! The rows a model learns from and is judged on: the curated versions a spec selects, how they
//! are split into train, validation and test, the lineage that records both, and a trained
//! version's test part rebuilt from that lineage. Training and promotion both use it, so the
//! champion is scored on exactly the rows the candidate was.

pub mod curated;
mod lineage;
pub mod split;
mod target;
mod test_part;

pub use curated::slice_values;
pub use lineage::{DataVersionRef, Lineage, RowCounts};
pub use split::TimeRange;
pub use target::{ShapingError, TargetShaping};
pub use test_part::{test_part, TestPart};

use crate::features::FeatureError;
use crate::names::DatasetName;
use crate::ports::{RegistryError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("no curated data for {dataset}{}: ingest a file under raw/{dataset}/ first", window_days.map(|d| format!(" in the last {d} days")).unwrap_or_default())]
    NoData {
        dataset: DatasetName,
        window_days: Option<u32>,
    },
    #[error(
        "{dataset} has no data version {version} to train on (mlops data list --dataset {dataset})"
    )]
    NoSuchVersion {
        dataset: DatasetName,
        version: String,
    },
    #[error("data version {version} of {dataset} is pinned for training but retired ({reason}); restore it or unpin it")]
    PinnedRetired {
        dataset: DatasetName,
        version: String,
        reason: String,
    },
    #[error("column {column:?} is missing from curated version {version} (ingested under an older spec?)")]
    MissingColumn { column: String, version: String },
    #[error("{what} is unreadable: {problem}")]
    Corrupt { what: String, problem: String },
    #[error("no room to copy the curated data to read it: {0} (on Lambda, raise the function's EphemeralStorage)")]
    Scratch(String),
    #[error(transparent)]
    Features(#[from] FeatureError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl DataError {
    /// Whether reading the same data again could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            DataError::Store(e) => e.is_retryable(),
            DataError::Registry(e) => e.is_retryable(),
            _ => false,
        }
    }
}
