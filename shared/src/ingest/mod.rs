//! Ingestion: an upload under `raw/<dataset>/…` becomes a curated, content-addressed data version,
//! or a quarantined copy with a report saying every reason. The upload itself is never deleted.
//!
//! Idempotent under at-least-once delivery: the version id derives from the content and the spec,
//! every write is "create if absent", and the registry records are conditional puts, so the same event
//! twice, or the same file under two keys, yields one data version.

pub use mlops_core::ingest::*;

pub mod catalog;
mod passes;
pub mod retirement;

use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::clock;
use crate::names::{DatasetName, ObjectKey};
use crate::ports::{ObjectStore, PutOutcome, RegistryError, RegistryStore, StoreError};
use crate::spec::stored::{self, StoredSpecError};
use crate::spec::{InvalidRows, LoadedSpec};
use crate::version::CODE_VERSION;
use catalog::{DataVersionRecord, UploadRecord, UploadStatus};
use profile::ColumnProfile;
use report::{ColumnSchema, Manifest, ObjectRef, SourceRef, SpecRef, ValidationReport, Verdict};
use validate::{Checked, Finding};

pub use catalog::UploadStatus as Status;

pub const RAW_PREFIX: &str = "raw/";
pub const CURATED_PREFIX: &str = "curated/";
pub const QUARANTINE_PREFIX: &str = "quarantine/";

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The key is not an upload (`raw/<dataset>/<file>`); nothing was read or written.
    #[error("{key:?} is not an upload: ingestion reads keys of the form raw/<dataset>/<file>")]
    NotAnUpload { key: String },
    #[error("upload {0} no longer exists")]
    Vanished(ObjectKey),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("internal data processing error: {0}")]
    Data(#[from] PolarsError),
    /// The local copy of an upload, or the files made from it, could not be written or read.
    #[error("scratch space: {0}")]
    Scratch(std::io::Error),
}

impl IngestError {
    /// Whether retrying the same event could succeed (Lambda should then fail the invocation).
    pub fn is_retryable(&self) -> bool {
        match self {
            IngestError::Store(e) => e.is_retryable(),
            IngestError::Registry(e) => e.is_retryable(),
            // A full or failing disk may be another invocation's: worth a retry.
            IngestError::Scratch(_) => true,
            IngestError::NotAnUpload { .. } | IngestError::Vanished(_) | IngestError::Data(_) => {
                false
            }
        }
    }
}

/// What became of one upload.
#[derive(Debug, Clone, Serialize)]
pub struct IngestOutcome {
    pub key: ObjectKey,
    pub dataset: DatasetName,
    pub status: UploadStatus,
    /// Rows in the data version (accepted, duplicate) or rows read (quarantined).
    pub rows: u64,
    pub rows_dropped: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The manifest of the data version, or the validation report of the quarantined copy.
    pub report: ObjectKey,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// What an upload holds: the dataset's rows, or outcomes observed for its predictions (uploaded
/// under `raw/<dataset>/outcomes/`, checked against the contract derived from the dataset's, see
/// [`crate::spec::outcomes`]). Each has its own curated folder and registry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Data,
    Outcomes,
}

/// The folder under `raw/<dataset>/` (and `curated/<dataset>/`) that holds outcomes.
pub const OUTCOMES_FOLDER: &str = "outcomes/";

impl Stream {
    /// Where its versions are curated, below `curated/<dataset>/`.
    fn curated_folder(self) -> &'static str {
        match self {
            Stream::Data => "",
            Stream::Outcomes => OUTCOMES_FOLDER,
        }
    }
}

/// An upload key split into its dataset and its path below `raw/<dataset>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawKey {
    pub key: ObjectKey,
    pub dataset: DatasetName,
    pub relative: String,
    pub stream: Stream,
}

impl RawKey {
    pub fn parse(key: &ObjectKey) -> Result<Self, IngestError> {
        let not_upload = || IngestError::NotAnUpload {
            key: key.to_string(),
        };
        let rest = key
            .as_str()
            .strip_prefix(RAW_PREFIX)
            .ok_or_else(not_upload)?;
        let (dataset, relative) = rest.split_once('/').ok_or_else(not_upload)?;
        let dataset = DatasetName::parse(dataset).map_err(|_| not_upload())?;
        let stream = if relative.starts_with(OUTCOMES_FOLDER) {
            Stream::Outcomes
        } else {
            Stream::Data
        };
        Ok(Self {
            key: key.clone(),
            dataset,
            relative: relative.to_owned(),
            stream,
        })
    }

    /// Where upload `id`'s copy is kept: `quarantine/<dataset>/<id>/<path below raw/<dataset>/>`.
    pub fn quarantine_key(&self, id: &str) -> ObjectKey {
        key(&format!(
            "{QUARANTINE_PREFIX}{}/{id}/{}",
            self.dataset, self.relative
        ))
    }

    /// Where upload `id`'s report is kept: beside its folder, where no upload's name can reach.
    pub fn quarantine_report_key(&self, id: &str) -> ObjectKey {
        key(&format!(
            "{QUARANTINE_PREFIX}{}/{id}.report.json",
            self.dataset
        ))
    }
}

/// Builds a key from parts that are valid by construction (validated names and fixed segments).
fn key(text: &str) -> ObjectKey {
    ObjectKey::parse(text).unwrap_or_else(|e| unreachable!("key built from valid parts: {e}"))
}

pub fn curated_key(dataset: &DatasetName, stream: Stream, version: &str, file: &str) -> ObjectKey {
    let folder = stream.curated_folder();
    key(&format!(
        "{CURATED_PREFIX}{dataset}/{folder}{version}/{file}"
    ))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The ingestion service: built once (at cold start), then called per upload.
pub struct Ingestor {
    store: Arc<dyn ObjectStore>,
    registry: Arc<dyn RegistryStore>,
    /// A hard cap whatever a spec allows: what this process's scratch space can hold.
    max_file_bytes: u64,
    /// Where uploads are copied and read (a Lambda's /tmp).
    scratch: std::path::PathBuf,
}

/// The decision on a checked file.
enum Decision {
    Accept {
        /// The rows to drop, if any.
        invalid: Option<BooleanChunked>,
        failures: Vec<Finding>,
    },
    Reject {
        failures: Vec<Finding>,
    },
}

/// An accepted upload's rows, as they are to be stored.
struct Curated {
    data: passes::Written,
    dropped: Option<passes::Written>,
    rows: u64,
    profile: Vec<ColumnProfile>,
    report: ValidationReport,
}

impl Ingestor {
    pub fn new(
        store: Arc<dyn ObjectStore>,
        registry: Arc<dyn RegistryStore>,
        max_file_bytes: u64,
    ) -> Self {
        Self {
            store,
            registry,
            max_file_bytes,
            scratch: std::env::temp_dir(),
        }
    }

    /// Ingests the upload at `key`.
    #[tracing::instrument(skip(self), fields(key = %key))]
    pub async fn ingest(&self, key: &ObjectKey) -> Result<IngestOutcome, IngestError> {
        let raw = RawKey::parse(key)?;
        let info = match self.store.head(key).await {
            Ok(info) => info,
            Err(StoreError::NotFound(_)) => return Err(IngestError::Vanished(key.clone())),
            Err(e) => return Err(e.into()),
        };
        let mut source = SourceRef {
            store: self.store.location(),
            key: key.clone(),
            etag: info.etag.clone(),
            version_id: info.version.clone(),
            size: info.size,
            sha256: None,
        };

        if info.size > self.max_file_bytes {
            let finding = too_large(info.size, self.max_file_bytes);
            return self.quarantine(&raw, source, None, vec![finding]).await;
        }
        let (spec_key, spec) = match stored::load(self.store.as_ref(), &raw.dataset).await {
            Ok(found) => found,
            Err(StoredSpecError::Store(e)) => return Err(e.into()),
            Err(e @ StoredSpecError::Missing { .. }) => {
                let finding = Finding::file_level(
                    "unknown_dataset",
                    vec![],
                    format!("{e}; install one with `mlops spec put`"),
                );
                return self.quarantine(&raw, source, None, vec![finding]).await;
            }
            Err(e) => {
                let finding = Finding::file_level("invalid_spec", vec![], e.to_string());
                return self.quarantine(&raw, source, None, vec![finding]).await;
            }
        };
        let spec = match raw.stream {
            Stream::Data => spec,
            Stream::Outcomes => match spec.outcomes() {
                Some(outcomes) => outcomes,
                None => {
                    let finding = Finding::file_level(
                        "no_target",
                        vec![],
                        format!(
                            "{} has no [target], so no outcome can be observed for it",
                            raw.dataset
                        ),
                    );
                    return self.quarantine(&raw, source, None, vec![finding]).await;
                }
            },
        };
        let spec_ref = SpecRef {
            key: spec_key,
            version: spec.spec.dataset.version,
            sha256: spec.sha256.clone(),
        };
        if info.size > spec.spec.source.max_file_bytes {
            let finding = too_large(info.size, spec.spec.source.max_file_bytes);
            return self
                .quarantine(&raw, source, Some(spec_ref), vec![finding])
                .await;
        }

        // The upload is read from a local copy (a Lambda's /tmp), a batch at a time.
        let scratch = tempfile::Builder::new()
            .prefix("ingest-")
            .tempdir_in(&self.scratch)
            .map_err(IngestError::Scratch)?;
        let upload = scratch.path().join("upload");
        match self.store.get_to_file(key, &upload).await {
            Ok(()) => {}
            Err(StoreError::NotFound(_)) => return Err(IngestError::Vanished(key.clone())),
            Err(e) => return Err(e.into()),
        }
        let source_sha256 = file_sha256(&upload).map_err(IngestError::Scratch)?;
        source.sha256 = Some(source_sha256.clone());

        // A redelivered event: report what the first delivery decided.
        let upload_key = catalog::upload_key(&raw.dataset, key, &source_sha256, Some(&spec.sha256));
        if let Some(previous) = catalog::find_upload(self.registry.as_ref(), &upload_key).await? {
            info!(status = ?previous.status, "upload seen before");
            return Ok(outcome_of_repeat(previous));
        }

        // The content's limit is the upload's: what is decoded is the content, not its gzip.
        let max_content = self.max_file_bytes.min(spec.spec.source.max_file_bytes);
        let first = {
            let (upload, name, spec) = (
                upload.clone(),
                raw.key.file_name().to_owned(),
                spec.spec.clone(),
            );
            let dir = scratch.path().to_owned();
            blocking(move || passes::check_upload(&upload, &name, &spec, max_content, &dir)).await?
        };
        let first = match first {
            Ok(first) => first,
            Err(fault) => {
                let finding = Finding::file_level(fault.rule(), vec![], fault.to_string());
                return self
                    .quarantine(&raw, source, Some(spec_ref), vec![finding])
                    .await;
            }
        };
        let rows = first.checked.rows;
        let format = first.format;
        let warnings = first.checked.warnings.clone();
        let report = |verdict, failures, rows_accepted, rows_dropped| ValidationReport {
            dataset: raw.dataset.clone(),
            verdict,
            source: source.clone(),
            spec: Some(spec_ref.clone()),
            format: Some(format),
            rows,
            rows_accepted,
            rows_dropped,
            failures,
            warnings: warnings.clone(),
            checked_at: clock::now(),
            code_version: CODE_VERSION.into(),
        };
        let curated = match decide(first.checked, &spec) {
            Decision::Reject { failures } => {
                let report = report(Verdict::Quarantined, failures, 0, 0);
                return self.write_quarantine(&raw, report, upload_key).await;
            }
            Decision::Accept {
                invalid: None,
                failures,
            } => {
                let report = report(Verdict::Accepted, failures, rows, 0);
                Curated {
                    data: first.typed,
                    dropped: None,
                    rows,
                    profile: first.profile,
                    report,
                }
            }
            Decision::Accept {
                invalid: Some(invalid),
                failures,
            } => {
                let dropped = invalid.sum().unwrap_or(0) as u64;
                let report = report(Verdict::Accepted, failures, rows - dropped, dropped);
                let (typed, spec, dir) =
                    (first.typed, spec.spec.clone(), scratch.path().to_owned());
                let split =
                    blocking(move || passes::drop_rows(&typed.path, &invalid, &spec, &dir)).await?;
                Curated {
                    data: split.kept,
                    dropped: Some(split.dropped),
                    rows: rows - dropped,
                    profile: split.profile,
                    report,
                }
            }
        };
        self.accept(&raw, &spec, spec_ref, curated, upload_key, scratch.path())
            .await
    }

    async fn accept(
        &self,
        raw: &RawKey,
        spec: &LoadedSpec,
        spec_ref: SpecRef,
        curated: Curated,
        upload_key: crate::ports::ItemKey,
        scratch: &Path,
    ) -> Result<IngestOutcome, IngestError> {
        let dataset = &raw.dataset;
        let Curated {
            data,
            dropped,
            rows,
            profile,
            report: validation,
        } = curated;
        let source_sha256 = validation.source.sha256.clone().unwrap_or_default();
        // Same content under the same contract: same version, whatever the key or the delivery.
        let version =
            sha256_hex(format!("{}:{source_sha256}", spec.sha256).as_bytes())[..16].to_owned();
        let data = self
            .put_file_if_absent(
                curated_key(dataset, raw.stream, &version, "data.parquet"),
                &data,
                scratch,
            )
            .await?;
        let dropped_rows = match dropped {
            Some(dropped) => Some(
                self.put_file_if_absent(
                    curated_key(dataset, raw.stream, &version, "dropped_rows.parquet"),
                    &dropped,
                    scratch,
                )
                .await?,
            ),
            None => None,
        };
        let manifest_key = curated_key(dataset, raw.stream, &version, "manifest.json");
        let ingested_at = clock::now();
        let manifest = Manifest {
            dataset: dataset.clone(),
            version: version.clone(),
            rows,
            schema: spec
                .spec
                .columns
                .iter()
                .map(|c| ColumnSchema {
                    name: c.name.clone(),
                    kind: c.kind,
                })
                .collect(),
            data: data.clone(),
            dropped_rows,
            source: validation.source.clone(),
            spec: spec_ref.clone(),
            profile,
            validation: validation.clone(),
            ingested_at,
            code_version: CODE_VERSION.into(),
        };
        // The manifest is written last: a version is complete once its manifest exists.
        self.store
            .put_if_absent(&manifest_key, to_json(&manifest))
            .await?;

        let record = DataVersionRecord {
            dataset: dataset.clone(),
            version: version.clone(),
            rows,
            data_key: data.key.clone(),
            data_sha256: data.sha256.clone(),
            manifest_key: manifest_key.clone(),
            source_key: raw.key.clone(),
            source_sha256: source_sha256.clone(),
            spec_version: spec_ref.version,
            ingested_at,
        };
        let created = catalog::record_version(self.registry.as_ref(), &record, raw.stream).await?;
        let status = if created {
            UploadStatus::Accepted
        } else {
            UploadStatus::Duplicate
        };
        let upload = UploadRecord {
            dataset: dataset.clone(),
            source_key: raw.key.clone(),
            source_sha256,
            status,
            rows,
            rows_dropped: validation.rows_dropped,
            version: Some(version.clone()),
            report_key: manifest_key.clone(),
            reasons: validation
                .failures
                .iter()
                .map(|f| format!("{}: {}", f.rule, f.message))
                .collect(),
            at: ingested_at,
        };
        catalog::record_upload(self.registry.as_ref(), &upload, upload_key).await?;
        info!(dataset = %dataset, rows, rows_dropped = validation.rows_dropped, version, ?status, "accepted");
        Ok(IngestOutcome {
            key: raw.key.clone(),
            dataset: dataset.clone(),
            status,
            rows,
            rows_dropped: validation.rows_dropped,
            version: Some(version),
            report: manifest_key,
            reasons: upload.reasons,
        })
    }

    /// Stores a written file unless the object exists; returns what is stored at the key.
    async fn put_file_if_absent(
        &self,
        key: ObjectKey,
        file: &passes::Written,
        scratch: &Path,
    ) -> Result<ObjectRef, IngestError> {
        match self.store.put_file_if_absent(&key, &file.path).await? {
            PutOutcome::Created => Ok(ObjectRef {
                key,
                sha256: file.sha256.clone(),
                bytes: file.bytes,
            }),
            // Written by an earlier delivery: describe the object that is there, not the one we made.
            PutOutcome::AlreadyExists => {
                let existing = scratch.join("existing");
                self.store.get_to_file(&key, &existing).await?;
                let sha256 = file_sha256(&existing).map_err(IngestError::Scratch)?;
                let bytes = std::fs::metadata(&existing)
                    .map_err(IngestError::Scratch)?
                    .len();
                Ok(ObjectRef { key, sha256, bytes })
            }
        }
    }

    /// Quarantines an upload that failed before its rows could be checked.
    async fn quarantine(
        &self,
        raw: &RawKey,
        source: SourceRef,
        spec: Option<SpecRef>,
        failures: Vec<Finding>,
    ) -> Result<IngestOutcome, IngestError> {
        let content = source.sha256.as_deref().unwrap_or(&source.etag);
        let upload_key = catalog::upload_key(
            &raw.dataset,
            &raw.key,
            content,
            spec.as_ref().map(|s| s.sha256.as_str()),
        );
        let report = ValidationReport {
            dataset: raw.dataset.clone(),
            verdict: Verdict::Quarantined,
            source,
            spec,
            format: None,
            rows: 0,
            rows_accepted: 0,
            rows_dropped: 0,
            failures,
            warnings: vec![],
            checked_at: clock::now(),
            code_version: CODE_VERSION.into(),
        };
        self.write_quarantine(raw, report, upload_key).await
    }

    /// Copies the upload to quarantine, then writes its report and records the outcome. The upload
    /// stays where it is: the copy is made before anything could ever remove it.
    async fn write_quarantine(
        &self,
        raw: &RawKey,
        report: ValidationReport,
        upload_key: crate::ports::ItemKey,
    ) -> Result<IngestOutcome, IngestError> {
        let id = report.source.upload_id();
        let (copy, report_key) = (raw.quarantine_key(&id), raw.quarantine_report_key(&id));
        self.store
            .copy(&raw.key, &copy)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => IngestError::Vanished(raw.key.clone()),
                other => other.into(),
            })?;
        self.store.put(&report_key, to_json(&report)).await?;
        let reasons: Vec<String> = report
            .failures
            .iter()
            .map(|f| format!("{}: {}", f.rule, f.message))
            .collect();
        let record = UploadRecord {
            dataset: raw.dataset.clone(),
            source_key: raw.key.clone(),
            source_sha256: report.source.sha256.clone().unwrap_or_default(),
            status: UploadStatus::Quarantined,
            rows: report.rows,
            rows_dropped: 0,
            version: None,
            report_key: report_key.clone(),
            reasons: reasons.clone(),
            at: report.checked_at,
        };
        catalog::record_upload(self.registry.as_ref(), &record, upload_key).await?;
        warn!(dataset = %raw.dataset, rows = report.rows, reasons = ?reasons, report = %report_key, "quarantined");
        Ok(IngestOutcome {
            key: raw.key.clone(),
            dataset: raw.dataset.clone(),
            status: UploadStatus::Quarantined,
            rows: report.rows,
            rows_dropped: 0,
            version: None,
            report: report_key,
            reasons,
        })
    }

    /// Stores `bytes` as an upload of `dataset` named `file_name` under `raw/`, then ingests it:
    /// what the local runner does with data it holds (the demo's samples).
    pub async fn upload_and_ingest(
        &self,
        dataset: &DatasetName,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Result<IngestOutcome, IngestError> {
        let upload = self
            .store_upload(dataset, file_name, Upload::Bytes(bytes))
            .await?;
        self.ingest(&upload).await
    }

    /// The same for the file at `path` (`mlops ingest`), stored without passing through this
    /// process's memory.
    pub async fn upload_file_and_ingest(
        &self,
        dataset: &DatasetName,
        file_name: &str,
        path: &Path,
    ) -> Result<IngestOutcome, IngestError> {
        let upload = self
            .store_upload(dataset, file_name, Upload::File(path))
            .await?;
        self.ingest(&upload).await
    }

    /// Stores an upload at `raw/<dataset>/<file_name>`, never over an earlier upload: the same
    /// content there is the same upload (a re-run, which ingestion reports as seen before); other
    /// content of the same name goes to `raw/<dataset>/<its SHA-256, 16 hex>/<file_name>`. Only a
    /// name taken before costs a hash of the content.
    async fn store_upload(
        &self,
        dataset: &DatasetName,
        file_name: &str,
        content: Upload<'_>,
    ) -> Result<ObjectKey, IngestError> {
        let key = upload_key(dataset, file_name)?;
        if content.put_if_absent(self.store.as_ref(), &key).await? == PutOutcome::Created {
            return Ok(key);
        }
        let sha256 = content.sha256(&key)?;
        match self.store.get(&key).await {
            Ok(existing) if sha256_hex(&existing.bytes) == sha256 => return Ok(key),
            Ok(_) | Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let own = upload_key(dataset, &format!("{}/{file_name}", &sha256[..16]))?;
        // Already there means the same content: its key holds its hash.
        content.put_if_absent(self.store.as_ref(), &own).await?;
        Ok(own)
    }
}

/// What the local runner uploads.
enum Upload<'a> {
    Bytes(Vec<u8>),
    File(&'a Path),
}

impl Upload<'_> {
    async fn put_if_absent(
        &self,
        store: &dyn ObjectStore,
        key: &ObjectKey,
    ) -> Result<PutOutcome, StoreError> {
        match self {
            Upload::Bytes(bytes) => store.put_if_absent(key, bytes.clone()).await,
            Upload::File(path) => store.put_file_if_absent(key, path).await,
        }
    }

    fn sha256(&self, key: &ObjectKey) -> Result<String, StoreError> {
        match self {
            Upload::Bytes(bytes) => Ok(sha256_hex(bytes)),
            Upload::File(path) => {
                let mut file = std::fs::File::open(path)
                    .map_err(|e| StoreError::unreadable_file(key, path, e))?;
                let mut hasher = Sha256::new();
                std::io::copy(&mut file, &mut hasher)
                    .map_err(|e| StoreError::unreadable_file(key, path, e))?;
                Ok(hex::encode(hasher.finalize()))
            }
        }
    }
}

/// Where a file given by name is uploaded: `raw/<dataset>/<file_name>`.
fn upload_key(dataset: &DatasetName, file_name: &str) -> Result<ObjectKey, IngestError> {
    ObjectKey::parse(&format!("{RAW_PREFIX}{dataset}/{file_name}")).map_err(|_| {
        IngestError::NotAnUpload {
            key: file_name.to_owned(),
        }
    })
}

/// A Parquet writer as curated data is written: zstd level 1, not polars' default 3 (on the
/// flights data the files came out slightly smaller for a little less CPU).
fn parquet_writer<W: std::io::Write>(sink: W) -> ParquetWriter<W> {
    let level = polars_parquet::write::ZstdLevel::try_new(1).ok();
    ParquetWriter::new(sink).with_compression(ParquetCompression::Zstd(level))
}

/// Runs a pass over an upload off the async workers. A panic inside it goes on as the panic it
/// is, as it would have where the pass was called.
async fn blocking<T: Send + 'static>(
    pass: impl FnOnce() -> Result<T, IngestError> + Send + 'static,
) -> Result<T, IngestError> {
    match tokio::task::spawn_blocking(pass).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(IngestError::Scratch(std::io::Error::other(e))),
    }
}

/// The SHA-256 of a file, read in a stream.
fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

fn too_large(size: u64, limit: u64) -> Finding {
    Finding::file_level(
        "file_too_large",
        vec![],
        format!("the file is {size} bytes; the limit is {limit} bytes"),
    )
}

fn outcome_of_repeat(previous: UploadRecord) -> IngestOutcome {
    let status = match previous.status {
        UploadStatus::Quarantined => UploadStatus::Quarantined,
        UploadStatus::Accepted | UploadStatus::Duplicate => UploadStatus::Duplicate,
    };
    IngestOutcome {
        key: previous.source_key,
        dataset: previous.dataset,
        status,
        rows: previous.rows,
        rows_dropped: previous.rows_dropped,
        version: previous.version,
        report: previous.report_key,
        reasons: previous.reasons,
    }
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    // Our report types hold only strings, numbers and maps with string keys: serialising cannot fail.
    serde_json::to_vec_pretty(value).unwrap_or_else(|e| unreachable!("serialising a report: {e}"))
}

/// Applies the spec's policy to the checks: reject, accept, or accept without the invalid rows.
fn decide(checked: Checked, spec: &LoadedSpec) -> Decision {
    let Checked {
        rows,
        file_failures,
        row_failures,
        ..
    } = checked;
    let row_findings: Vec<Finding> = row_failures.iter().map(|f| f.finding.clone()).collect();
    if !file_failures.is_empty() {
        return Decision::Reject {
            failures: [file_failures, row_findings].concat(),
        };
    }
    if row_failures.is_empty() {
        return Decision::Accept {
            invalid: None,
            failures: vec![],
        };
    }
    let policy = &spec.spec.policy;
    if policy.invalid_rows == InvalidRows::Reject {
        return Decision::Reject {
            failures: row_findings,
        };
    }
    let invalid = row_failures
        .iter()
        .skip(1)
        .fold(row_failures[0].rows.clone(), |acc, f| &acc | &f.rows);
    let invalid_count = invalid.sum().unwrap_or(0) as u64;
    let fraction = invalid_count as f64 / rows.max(1) as f64;
    if fraction > policy.max_invalid_row_fraction {
        let mut failures = row_findings;
        failures.push(Finding::file_level(
            "too_many_invalid_rows",
            vec![],
            format!(
                "{invalid_count} rows ({:.2}%) fail row-level rules; at most {:.2}% may be dropped",
                fraction * 100.0,
                policy.max_invalid_row_fraction * 100.0
            ),
        ));
        return Decision::Reject { failures };
    }
    let kept = rows - invalid_count;
    if let Some(min) = spec.spec.table.min_rows.filter(|min| kept < *min) {
        let mut failures = row_findings;
        failures.push(Finding::file_level(
            "row_count",
            vec![],
            format!("{kept} rows remain after dropping invalid rows; at least {min} required"),
        ));
        return Decision::Reject { failures };
    }
    Decision::Accept {
        invalid: Some(invalid),
        failures: row_findings,
    }
}

#[cfg(test)]
mod tests;
