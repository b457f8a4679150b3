//! The object store port: S3 in AWS, a folder on a laptop.

use std::path::Path;

use async_trait::async_trait;

use crate::names::ObjectKey;

/// Size and entity tag of a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: ObjectKey,
    pub size: u64,
    /// Changes whenever the content changes (S3's ETag; a content hash locally).
    pub etag: String,
    /// S3's version id in a versioned bucket: which of the key's objects this is. None locally,
    /// where a key never holds two uploads, and in listings.
    pub version: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StoredObject {
    pub info: ObjectInfo,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    /// `put_if_absent` found the key already there and left it untouched.
    AlreadyExists,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("object {0} does not exist")]
    NotFound(ObjectKey),
    /// A transient or infrastructure failure: retrying may help.
    #[error("object store unavailable while {action} {key}: {message}")]
    Unavailable {
        action: &'static str,
        key: String,
        message: String,
    },
    /// The store refused the request (permissions, bad configuration): retrying will not help.
    #[error("object store refused {action} {key}: {message}")]
    Refused {
        action: &'static str,
        key: String,
        message: String,
    },
}

impl StoreError {
    /// Whether the same call could succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }

    /// The file given to `put_file_if_absent` cannot be read: the caller's mistake, not the store's.
    pub fn unreadable_file(key: &ObjectKey, path: &Path, err: impl std::fmt::Display) -> Self {
        StoreError::Refused {
            action: "reading the file to write at",
            key: key.to_string(),
            message: format!("{}: {err}", path.display()),
        }
    }
}

#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// A human-readable location of the store (`s3://bucket`, `/home/me/.mlops`).
    fn location(&self) -> String;

    /// Where one object is, for people and lineage (`s3://bucket/key`, `/home/me/.mlops/objects/key`).
    fn uri(&self, key: &ObjectKey) -> String {
        format!("{}/{key}", self.location())
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectInfo, StoreError>;

    async fn get(&self, key: &ObjectKey) -> Result<StoredObject, StoreError>;

    /// Writes the object at `key` into a new file at `path` without holding it in memory: a local
    /// folder has the kernel copy it, S3 streams it. Training at scale reads curated data so.
    async fn get_to_file(&self, key: &ObjectKey, path: &Path) -> Result<(), StoreError>;

    /// Writes `bytes` at `key`, replacing what was there, atomically: readers see the old or the new
    /// object, never a part.
    async fn put(&self, key: &ObjectKey, bytes: Vec<u8>) -> Result<(), StoreError>;

    /// Writes the file at `path` at `key` as `put_if_absent` does, without reading it into memory
    /// first: a local folder has the kernel copy it, S3 streams it. A file that cannot be read is
    /// `Refused`.
    async fn put_file_if_absent(
        &self,
        key: &ObjectKey,
        path: &Path,
    ) -> Result<PutOutcome, StoreError>;

    /// Writes only if nothing is at `key`. Of many concurrent writers exactly one gets `Created`.
    async fn put_if_absent(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
    ) -> Result<PutOutcome, StoreError>;

    /// Every object whose key starts with `prefix`, sorted by key.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError>;

    async fn copy(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), StoreError>;

    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError>;
}
