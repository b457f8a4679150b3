//! What ingestion writes for people and later functions: the validation report of a quarantined file
//! and the manifest of an accepted data version.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::decode::ReadFormat;
use super::profile::ColumnProfile;
use super::validate::Finding;
use crate::names::{DatasetName, ObjectKey};

/// The uploaded object a report or manifest is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRef {
    /// `s3://bucket` or the local home folder.
    pub store: String,
    pub key: ObjectKey,
    pub etag: String,
    /// S3's version id of the upload, in a versioned bucket: the exact object read, even after
    /// the key is written again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl SourceRef {
    /// A name for this upload that no other upload has: 16 hex digits of the SHA-256 of its key
    /// and its S3 version id (or, unversioned, its entity tag). The quarantine keeps each
    /// upload's copy and report under it, so a later upload of the same name replaces nothing.
    pub fn upload_id(&self) -> String {
        let version = self.version_id.as_deref().unwrap_or(&self.etag);
        let digest = sha2::Sha256::digest(format!("{}\n{version}", self.key).as_bytes());
        hex::encode(&digest[..8])
    }
}

/// The contract a file was checked against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecRef {
    pub key: ObjectKey,
    pub version: u32,
    pub sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Accepted,
    Quarantined,
}

/// Every check's outcome for one upload, written beside a quarantined copy (`<upload id>.report.json`)
/// and summarised in an accepted version's manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationReport {
    pub dataset: DatasetName,
    pub verdict: Verdict,
    pub source: SourceRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<SpecRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<ReadFormat>,
    /// Data rows read from the file (0 when it could not be read).
    pub rows: u64,
    pub rows_accepted: u64,
    pub rows_dropped: u64,
    /// Why the file was rejected, or why rows were dropped: every failed rule.
    pub failures: Vec<Finding>,
    /// Failures within a rule's `mostly` tolerance, and notes such as dropped extra columns.
    pub warnings: Vec<Finding>,
    pub checked_at: DateTime<Utc>,
    pub code_version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnSchema {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: crate::spec::ColumnType,
}

/// An accepted file's curated parquet object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObjectRef {
    pub key: ObjectKey,
    pub sha256: String,
    pub bytes: u64,
}

/// `curated/<dataset>/<version>/manifest.json`: what the version holds and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub dataset: DatasetName,
    pub version: String,
    pub rows: u64,
    pub schema: Vec<ColumnSchema>,
    pub data: ObjectRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_rows: Option<ObjectRef>,
    pub source: SourceRef,
    pub spec: SpecRef,
    pub validation: ValidationReport,
    pub profile: Vec<ColumnProfile>,
    pub ingested_at: DateTime<Utc>,
    pub code_version: String,
}
