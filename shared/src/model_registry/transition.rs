//! Every change to who serves (aliases, statuses) is one transaction: the model item moves to its
//! next revision only if it is still at the revision the decision was based on, each version
//! changes status only from the status it was read in, the audit entry is appended, and the
//! operation is recorded so that a retry is not applied twice.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{attrs, model_key, model_pk, version_key, AuditEntry, Decision, ModelStatus};
use crate::names::{Alias, DatasetName, ModelName, CHAMPION};
use crate::ports::{Condition, Item, ItemKey, RegistryError, RegistryStore, WriteOp};

/// How long an applied operation id is remembered (the table's TTL removes it after).
const OPERATION_TTL_DAYS: i64 = 30;

/// The model item: version numbering, aliases and champion history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelState {
    pub model: ModelName,
    pub dataset: DatasetName,
    /// The last version number handed out.
    pub latest_version: u64,
    /// Bumped by every transition; a transition applies only at the revision it read.
    pub revision: u64,
    pub aliases: BTreeMap<Alias, u64>,
    /// Every champion in the order it took over, the current one last: rollback returns to the
    /// one before.
    pub champions: Vec<u64>,
    pub created_at: DateTime<Utc>,
}

impl ModelState {
    pub fn new(model: &ModelName, dataset: &DatasetName, now: DateTime<Utc>) -> ModelState {
        ModelState {
            model: model.clone(),
            dataset: dataset.clone(),
            latest_version: 1,
            revision: 0,
            aliases: BTreeMap::new(),
            champions: Vec::new(),
            created_at: now,
        }
    }

    pub fn champion(&self) -> Option<u64> {
        self.aliases.get(CHAMPION).copied()
    }
}

/// One version's status change, applied only if the version is still in `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub version: u64,
    pub from: ModelStatus,
    pub to: ModelStatus,
    /// Stored on the version with its new status, when a policy decided.
    pub decision: Option<Decision>,
}

/// A change of aliases and statuses, with its audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The model item as read; the transition applies only if it is still at this revision.
    pub read: ModelState,
    pub aliases: BTreeMap<Alias, u64>,
    pub champions: Vec<u64>,
    pub changes: Vec<StatusChange>,
    /// The audit entry; its revision is set on apply.
    pub entry: AuditEntry,
}

#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    /// Someone changed the model (or one of the versions) since it was read.
    #[error("{model} changed while this was being decided (it is no longer at revision {revision}); read it again and retry")]
    Conflict { model: ModelName, revision: u64 },
    /// The same operation was applied before, as this audit revision.
    #[error("operation {operation} was already applied (revision {revision})")]
    AlreadyApplied { operation: String, revision: u64 },
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Applies the transition in one transaction, and returns its audit entry as written.
pub async fn apply(
    registry: &dyn RegistryStore,
    transition: Transition,
) -> Result<AuditEntry, TransitionError> {
    let model = transition.read.model.clone();
    let revision = transition.read.revision + 1;
    let mut entry = transition.entry;
    entry.revision = revision;
    let operation = entry.operation.clone();
    let mut set = Map::new();
    set.insert("revision".into(), json!(revision));
    set.insert("aliases".into(), json!(transition.aliases));
    set.insert("champions".into(), json!(transition.champions));
    let mut ops = vec![
        WriteOp::Put {
            item: Item {
                key: operation_key(&model, &operation),
                attrs: attrs(json!({
                    "revision": revision,
                    "at": entry.at,
                    "expires_at": expires_at(entry.at),
                })),
            },
            condition: Condition::NotExists,
        },
        WriteOp::Update {
            key: model_key(&model),
            set,
            condition: Condition::Equals {
                attr: "revision".into(),
                value: json!(transition.read.revision),
            },
        },
        WriteOp::Put {
            item: Item::from_record(audit_key(&model, revision), &entry)?,
            condition: Condition::NotExists,
        },
    ];
    for change in &transition.changes {
        let mut set = Map::new();
        set.insert("status".into(), json!(change.to));
        set.insert("status_changed_at".into(), json!(entry.at));
        if let Some(decision) = &change.decision {
            set.insert(
                "decision".into(),
                serde_json::to_value(decision)
                    .map_err(|e| RegistryError::Invalid(e.to_string()))?,
            );
        }
        ops.push(WriteOp::Update {
            key: version_key(&model, change.version),
            set,
            condition: Condition::Equals {
                attr: "status".into(),
                value: json!(change.from),
            },
        });
    }
    match registry.transact(ops).await {
        Ok(()) => Ok(entry),
        Err(RegistryError::TransactionCancelled { failed }) if failed.contains(&0) => {
            let revision = applied_revision(registry, &model, &operation)
                .await?
                .unwrap_or(revision);
            Err(TransitionError::AlreadyApplied {
                operation,
                revision,
            })
        }
        Err(RegistryError::TransactionCancelled { .. }) => Err(TransitionError::Conflict {
            model,
            revision: transition.read.revision,
        }),
        Err(e) => Err(e.into()),
    }
}

/// The audit revision an operation was applied as, if it was.
pub async fn applied_revision(
    registry: &dyn RegistryStore,
    model: &ModelName,
    operation: &str,
) -> Result<Option<u64>, RegistryError> {
    Ok(registry
        .get(&operation_key(model, operation))
        .await?
        .and_then(|item| item.attrs.get("revision").and_then(Value::as_u64)))
}

pub(super) fn audit_key(model: &ModelName, revision: u64) -> ItemKey {
    ItemKey::new(model_pk(model), format!("AUDIT#{revision:010}"))
}

fn operation_key(model: &ModelName, operation: &str) -> ItemKey {
    ItemKey::new(model_pk(model), format!("OPERATION#{operation}"))
}

/// Epoch seconds after which DynamoDB's TTL may delete an operation record.
fn expires_at(at: DateTime<Utc>) -> i64 {
    at.checked_add_signed(Duration::days(OPERATION_TTL_DAYS))
        .map_or(i64::MAX, |t| t.timestamp())
}
