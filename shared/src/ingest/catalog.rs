//! The registry records ingestion keeps: one per data version and one per upload. Both are written
//! with "only if absent" conditions, so redelivered events and re-uploads never duplicate them.
//!
//! Keys (single-table design, see docs/registry.md):
//! - `pk = DATASET#<dataset>`, `sk = VERSION#<version>`: an accepted data version.
//! - `pk = DATASET#<dataset>`, `sk = OUTCOMES#<version>`: an accepted version of its outcomes.
//! - `pk = DATASET#<dataset>`, `sk = UPLOAD#<key hash>-<content hash>-<spec hash>`: what became of one upload.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Stream;
use crate::names::{DatasetName, ObjectKey};
use crate::ports::{Condition, Item, ItemKey, RegistryError, RegistryStore};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UploadStatus {
    Accepted,
    Duplicate,
    Quarantined,
}

/// An accepted, curated data version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataVersionRecord {
    pub dataset: DatasetName,
    pub version: String,
    pub rows: u64,
    pub data_key: ObjectKey,
    pub data_sha256: String,
    pub manifest_key: ObjectKey,
    pub source_key: ObjectKey,
    pub source_sha256: String,
    pub spec_version: u32,
    pub ingested_at: DateTime<Utc>,
}

/// The outcome of one upload (a key with given content).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub dataset: DatasetName,
    pub source_key: ObjectKey,
    pub source_sha256: String,
    pub status: UploadStatus,
    pub rows: u64,
    pub rows_dropped: u64,
    pub version: Option<String>,
    /// The manifest (accepted) or validation report (quarantined).
    pub report_key: ObjectKey,
    pub reasons: Vec<String>,
    pub at: DateTime<Utc>,
}

pub fn dataset_pk(dataset: &DatasetName) -> String {
    format!("DATASET#{dataset}")
}

/// Where a stream's versions sort in the dataset's partition.
fn version_prefix(stream: Stream) -> &'static str {
    match stream {
        Stream::Data => "VERSION#",
        Stream::Outcomes => "OUTCOMES#",
    }
}

pub fn version_key(dataset: &DatasetName, stream: Stream, version: &str) -> ItemKey {
    ItemKey::new(
        dataset_pk(dataset),
        format!("{}{version}", version_prefix(stream)),
    )
}

/// One upload: a key with given content, judged under a given spec. A redelivered event maps to the
/// same item; a re-drive after the spec changed is judged afresh.
pub fn upload_key(
    dataset: &DatasetName,
    source: &ObjectKey,
    content: &str,
    spec_sha256: Option<&str>,
) -> ItemKey {
    let key_hash = hex::encode(&Sha256::digest(source.as_str().as_bytes())[..8]);
    let short = |text: &str| text.chars().take(16).collect::<String>();
    let spec = spec_sha256.map_or_else(|| "nospec".to_owned(), short);
    ItemKey::new(
        dataset_pk(dataset),
        format!("UPLOAD#{key_hash}-{}-{spec}", short(content)),
    )
}

/// Records a version of `stream`; `Ok(false)` when it was recorded before (the same content
/// again).
pub async fn record_version(
    registry: &dyn RegistryStore,
    record: &DataVersionRecord,
    stream: Stream,
) -> Result<bool, RegistryError> {
    let key = version_key(&record.dataset, stream, &record.version);
    let item = Item::from_record(key, record)?;
    match registry.put(item, Condition::NotExists).await {
        Ok(()) => Ok(true),
        Err(RegistryError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Records what became of an upload, unless an earlier delivery of the same event already did.
pub async fn record_upload(
    registry: &dyn RegistryStore,
    record: &UploadRecord,
    key: ItemKey,
) -> Result<(), RegistryError> {
    match registry
        .put(Item::from_record(key, record)?, Condition::NotExists)
        .await
    {
        Ok(()) | Err(RegistryError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn find_upload(
    registry: &dyn RegistryStore,
    key: &ItemKey,
) -> Result<Option<UploadRecord>, RegistryError> {
    registry.get(key).await?.map(Item::into_record).transpose()
}

/// Every data version of a dataset, in version id order.
pub async fn versions(
    registry: &dyn RegistryStore,
    dataset: &DatasetName,
) -> Result<Vec<DataVersionRecord>, RegistryError> {
    versions_of(registry, dataset, Stream::Data).await
}

/// Every accepted version of a dataset's outcomes, in version id order.
pub async fn outcome_versions(
    registry: &dyn RegistryStore,
    dataset: &DatasetName,
) -> Result<Vec<DataVersionRecord>, RegistryError> {
    versions_of(registry, dataset, Stream::Outcomes).await
}

async fn versions_of(
    registry: &dyn RegistryStore,
    dataset: &DatasetName,
    stream: Stream,
) -> Result<Vec<DataVersionRecord>, RegistryError> {
    registry
        .query(&dataset_pk(dataset), version_prefix(stream))
        .await?
        .into_iter()
        .map(Item::into_record)
        .collect()
}

/// Every upload of a dataset and what became of it.
pub async fn uploads(
    registry: &dyn RegistryStore,
    dataset: &DatasetName,
) -> Result<Vec<UploadRecord>, RegistryError> {
    registry
        .query(&dataset_pk(dataset), "UPLOAD#")
        .await?
        .into_iter()
        .map(Item::into_record)
        .collect()
}
