//! The model registry in the registry table: version numbering, candidate registration (with the
//! training fingerprints that make training idempotent), aliases, status transitions and their
//! audit trail.
//!
//! Keys (single-table design, see docs/registry.md):
//! - `pk = MODELS`, `sk = MODEL#<model>`: one entry per model, to list them.
//! - `pk = MODEL#<model>`, `sk = MODEL`: the model: last version number handed out, aliases, the
//!   champion history and the revision every transition is conditioned on.
//! - `pk = MODEL#<model>`, `sk = VERSION#<10-digit version>`: one version (sorts numerically).
//! - `pk = MODEL#<model>`, `sk = FINGERPRINT#<fingerprint>`: which version some training input became.
//! - `pk = MODEL#<model>`, `sk = AUDIT#<10-digit revision>`: one transition, in order.
//! - `pk = MODEL#<model>`, `sk = OPERATION#<id>`: an applied operation, so a retry is not applied twice.
//! - `pk = MODEL#<model>`, `sk = RUN#<10-digit version>`: a training run that took a version number
//!   and has not registered it yet; a run that never does (killed, crashed) is found by it and swept.

mod audit;
mod decision;
mod load;
mod transition;
mod view;

pub use audit::{champion_at, entry, history, Action, AuditEntry};
pub use decision::{Decision, Gate, APPROVAL, LIVE_EVIDENCE};
pub use load::{load_verified, LoadError};
pub use transition::{
    applied_revision, apply, ModelState, StatusChange, Transition, TransitionError,
};
pub use view::{summaries, view, ModelSummary, ModelView};

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::names::{DatasetName, ModelName, ObjectKey};
use crate::ports::{Condition, Item, ItemKey, RegistryError, RegistryStore, WriteOp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelStatus {
    Candidate,
    Champion,
    Archived,
    Rejected,
}

impl ModelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Candidate => "candidate",
            ModelStatus::Champion => "champion",
            ModelStatus::Archived => "archived",
            ModelStatus::Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for ModelStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One registered model version: where its artifact is, how good it is, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersionRecord {
    pub model: ModelName,
    pub version: u64,
    pub status: ModelStatus,
    pub dataset: DatasetName,
    pub learner: String,
    pub artifact_key: ObjectKey,
    pub artifact_uri: String,
    pub artifact_sha256: String,
    pub artifact_bytes: u64,
    pub metrics_key: ObjectKey,
    pub lineage_key: ObjectKey,
    pub reference_key: ObjectKey,
    pub card_key: ObjectKey,
    /// A few hundred test rows with training's answers, for the smoke test after a promotion;
    /// none for versions trained before golden rows were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub golden_key: Option<ObjectKey>,
    /// Test metrics, by name (e.g. `roc_auc`, `f1`, `f1_macro`).
    pub metrics: BTreeMap<String, f64>,
    pub fingerprint: String,
    pub data_versions: Vec<String>,
    pub spec_sha256: String,
    pub code_version: String,
    /// What started the training (e.g. `schedule`, `cli`, `drift`).
    pub trigger: String,
    pub trained_at: DateTime<Utc>,
    /// The last promotion decision about this version, with every gate's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// Free text and labels people attach (`mlops annotate`).
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// How many times it was annotated: the optimistic check of the next annotation.
    #[serde(default)]
    pub annotations: u64,
}

pub fn model_pk(model: &ModelName) -> String {
    format!("MODEL#{model}")
}

pub fn version_key(model: &ModelName, version: u64) -> ItemKey {
    ItemKey::new(model_pk(model), format!("VERSION#{version:010}"))
}

fn model_key(model: &ModelName) -> ItemKey {
    ItemKey::new(model_pk(model), "MODEL")
}

/// The partition listing every model.
const MODELS_PK: &str = "MODELS";

fn listing_key(model: &ModelName) -> ItemKey {
    ItemKey::new(MODELS_PK, format!("MODEL#{model}"))
}

fn fingerprint_key(model: &ModelName, fingerprint: &str) -> ItemKey {
    ItemKey::new(model_pk(model), format!("FINGERPRINT#{fingerprint}"))
}

fn run_key(model: &ModelName, version: u64) -> ItemKey {
    ItemKey::new(model_pk(model), format!("RUN#{version:010}"))
}

/// A version number handed to a training run that has not registered it (yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRun {
    pub version: u64,
    pub started_at: chrono::DateTime<chrono::Utc>,
}

/// The runs of `model` that took a version number and have not registered it.
pub async fn pending_runs(
    registry: &dyn RegistryStore,
    model: &ModelName,
) -> Result<Vec<PendingRun>, RegistryError> {
    registry
        .query(&model_pk(model), "RUN#")
        .await?
        .into_iter()
        .map(|item| item.into_record())
        .collect()
}

/// Forgets a run that took `version` and will not register it (its outputs are removed first).
pub async fn end_run(
    registry: &dyn RegistryStore,
    model: &ModelName,
    version: u64,
) -> Result<(), RegistryError> {
    registry
        .transact(vec![WriteOp::Delete {
            key: run_key(model, version),
            condition: Condition::Always,
        }])
        .await
}

/// Optimistic attempts before version numbering gives up under contention.
const ALLOCATION_ATTEMPTS: usize = 20;

/// Hands out the model's next version number (1, 2, 3, …) and records the run that took it;
/// concurrent callers never get the same one. A number is never handed out twice, so a slow run
/// can never write over a newer one's outputs: the number of a run that never registers stays
/// unused, and its outputs are swept (see [`pending_runs`]).
pub async fn allocate_version(
    registry: &dyn RegistryStore,
    model: &ModelName,
    dataset: &DatasetName,
    now: DateTime<Utc>,
) -> Result<u64, RegistryError> {
    let key = model_key(model);
    let run = |version: u64| -> Result<WriteOp, RegistryError> {
        let started_at = chrono::Utc::now();
        Ok(WriteOp::Put {
            item: Item::from_record(
                run_key(model, version),
                &PendingRun {
                    version,
                    started_at,
                },
            )?,
            condition: Condition::NotExists,
        })
    };
    for _ in 0..ALLOCATION_ATTEMPTS {
        let result = match registry.get(&key).await? {
            None => {
                let state = ModelState::new(model, dataset, now);
                let listing = Item {
                    key: listing_key(model),
                    attrs: attrs(json!({ "model": model.as_str(), "created_at": now })),
                };
                registry
                    .transact(vec![
                        WriteOp::Put {
                            item: Item::from_record(key.clone(), &state)?,
                            condition: Condition::NotExists,
                        },
                        WriteOp::Put {
                            item: listing,
                            condition: Condition::NotExists,
                        },
                        run(1)?,
                    ])
                    .await
                    .map(|()| 1)
            }
            Some(item) => {
                let latest = item
                    .attrs
                    .get("latest_version")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| {
                        RegistryError::Invalid(format!(
                            "{}/{} has no latest_version",
                            key.pk, key.sk
                        ))
                    })?;
                let set = attrs(json!({ "latest_version": latest + 1 }));
                let condition = Condition::Equals {
                    attr: "latest_version".into(),
                    value: json!(latest),
                };
                registry
                    .transact(vec![
                        WriteOp::Update {
                            key: key.clone(),
                            set,
                            condition,
                        },
                        run(latest + 1)?,
                    ])
                    .await
                    .map(|()| latest + 1)
            }
        };
        match result {
            Err(
                RegistryError::ConditionFailed { .. } | RegistryError::TransactionCancelled { .. },
            ) => continue,
            other => return other,
        }
    }
    Err(RegistryError::Unavailable(format!(
        "could not number a new version of {model} after {ALLOCATION_ATTEMPTS} attempts"
    )))
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The same training input was registered meanwhile, as this version.
    #[error("the same training input is already registered as version {0}")]
    AlreadyRegistered(u64),
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Registers a candidate and its fingerprint in one transaction, so a training input maps to at
/// most one version even when two runs race.
pub async fn register_candidate(
    registry: &dyn RegistryStore,
    model: &ModelName,
    record: &ModelVersionRecord,
) -> Result<(), RegisterError> {
    let version = Item::from_record(version_key(model, record.version), record)?;
    let fingerprint = Item {
        key: fingerprint_key(model, &record.fingerprint),
        attrs: attrs(json!({ "version": record.version })),
    };
    let result = registry
        .transact(vec![
            WriteOp::Put {
                item: version,
                condition: Condition::NotExists,
            },
            WriteOp::Put {
                item: fingerprint,
                condition: Condition::NotExists,
            },
            WriteOp::Delete {
                key: run_key(model, record.version),
                condition: Condition::Always,
            },
        ])
        .await;
    match result {
        Err(RegistryError::TransactionCancelled { failed }) if failed.contains(&1) => {
            match find_fingerprint(registry, model, &record.fingerprint).await? {
                Some(existing) => Err(RegisterError::AlreadyRegistered(existing)),
                None => Err(RegistryError::TransactionCancelled { failed }.into()),
            }
        }
        other => Ok(other?),
    }
}

/// The version a training fingerprint was registered as, if any.
pub async fn find_fingerprint(
    registry: &dyn RegistryStore,
    model: &ModelName,
    fingerprint: &str,
) -> Result<Option<u64>, RegistryError> {
    Ok(registry
        .get(&fingerprint_key(model, fingerprint))
        .await?
        .and_then(|item| item.attrs.get("version").and_then(Value::as_u64)))
}

pub async fn get_version(
    registry: &dyn RegistryStore,
    model: &ModelName,
    version: u64,
) -> Result<Option<ModelVersionRecord>, RegistryError> {
    registry
        .get(&version_key(model, version))
        .await?
        .map(Item::into_record)
        .transpose()
}

/// Every version of a model, oldest first.
pub async fn versions(
    registry: &dyn RegistryStore,
    model: &ModelName,
) -> Result<Vec<ModelVersionRecord>, RegistryError> {
    registry
        .query(&model_pk(model), "VERSION#")
        .await?
        .into_iter()
        .map(Item::into_record)
        .collect()
}

/// A change to a version's description and tags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Annotation {
    pub description: Option<String>,
    pub set_tags: BTreeMap<String, String>,
    pub remove_tags: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    #[error("{model} has no version {version}")]
    UnknownVersion { model: ModelName, version: u64 },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;
const MAX_DESCRIPTION: usize = 4096;

/// Sets a version's description and tags: metadata, not a change of who serves, so no audit
/// entry. Optimistic: applied only if nobody annotated the version since it was read.
pub async fn annotate(
    registry: &dyn RegistryStore,
    model: &ModelName,
    version: u64,
    annotation: &Annotation,
) -> Result<ModelVersionRecord, AnnotateError> {
    for (key, value) in &annotation.set_tags {
        let key_ok = (1..=MAX_TAG_KEY).contains(&key.len()) && !key.chars().any(char::is_control);
        if !key_ok {
            return Err(AnnotateError::Invalid(format!(
                "tag key {key:?} must be 1-{MAX_TAG_KEY} characters without control characters"
            )));
        }
        if value.len() > MAX_TAG_VALUE {
            return Err(AnnotateError::Invalid(format!(
                "the value of tag {key:?} is over {MAX_TAG_VALUE} characters"
            )));
        }
    }
    if annotation
        .description
        .as_ref()
        .is_some_and(|d| d.len() > MAX_DESCRIPTION)
    {
        return Err(AnnotateError::Invalid(format!(
            "a description is at most {MAX_DESCRIPTION} characters"
        )));
    }
    for _ in 0..ALLOCATION_ATTEMPTS {
        let record = get_version(registry, model, version)
            .await?
            .ok_or_else(|| AnnotateError::UnknownVersion {
                model: model.clone(),
                version,
            })?;
        let mut tags = record.tags.clone();
        tags.extend(annotation.set_tags.clone());
        for key in &annotation.remove_tags {
            tags.remove(key);
        }
        let description = annotation
            .description
            .clone()
            .unwrap_or(record.description.clone());
        let set = attrs(json!({
            "tags": tags,
            "description": description,
            "annotations": record.annotations + 1,
        }));
        let condition = Condition::Equals {
            attr: "annotations".into(),
            value: json!(record.annotations),
        };
        match registry
            .update(&version_key(model, version), set, condition)
            .await
        {
            Ok(item) => return Ok(item.into_record()?),
            Err(RegistryError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(RegistryError::Unavailable(format!(
        "{model} version {version} is being annotated by others; try again"
    ))
    .into())
}

/// The model's numbering, aliases and champion history; None for a model never trained.
pub async fn get_model(
    registry: &dyn RegistryStore,
    model: &ModelName,
) -> Result<Option<ModelState>, RegistryError> {
    registry
        .get(&model_key(model))
        .await?
        .map(Item::into_record)
        .transpose()
}

/// The name of every model, in order.
pub async fn models(registry: &dyn RegistryStore) -> Result<Vec<ModelName>, RegistryError> {
    registry
        .query(MODELS_PK, "MODEL#")
        .await?
        .into_iter()
        .map(|item| {
            let name = item.key.sk.trim_start_matches("MODEL#");
            ModelName::parse(name).map_err(|e| RegistryError::Invalid(e.to_string()))
        })
        .collect()
}

fn attrs(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
