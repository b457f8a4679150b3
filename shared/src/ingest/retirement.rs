//! Data versions taken out of training and put back. A retired version's data and record stay
//! where they are; a marker beside the record says who retired it, when and why, and every
//! retirement and restoration is an entry of the dataset's audit trail.
//!
//! Keys (the dataset's partition, `pk = DATASET#<dataset>`):
//! - `sk = RETIRED#<version>`: the version is retired (the marker goes when it is restored);
//! - `sk = DATAAUDIT#<time>#<version>`: one retirement or restoration.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::catalog::{dataset_pk, version_key};
use super::Stream;
use crate::names::DatasetName;
use crate::ports::{Condition, Item, ItemKey, RegistryError, RegistryStore, WriteOp};

/// Who retired (or restored) a version, when, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retirement {
    pub actor: String,
    pub at: DateTime<Utc>,
    pub reason: String,
}

impl Retirement {
    /// Refuses a change without a reason: the audit trail must say why.
    pub fn new(actor: &str, at: DateTime<Utc>, reason: &str) -> Result<Self, RetirementError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(RetirementError::NoReason);
        }
        Ok(Retirement {
            actor: actor.to_owned(),
            at,
            reason: reason.to_owned(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataAction {
    Retire,
    Restore,
}

/// One entry of a dataset's audit trail of data versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataAuditEntry {
    pub dataset: DatasetName,
    pub version: String,
    pub action: DataAction,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RetirementError {
    #[error("{dataset} has no data version {version} (mlops data list --dataset {dataset})")]
    NoSuchVersion {
        dataset: DatasetName,
        version: String,
    },
    #[error("data version {version} of {dataset} is already retired")]
    AlreadyRetired {
        dataset: DatasetName,
        version: String,
    },
    #[error("data version {version} of {dataset} is not retired")]
    NotRetired {
        dataset: DatasetName,
        version: String,
    },
    #[error("say why: a retirement or restoration needs a reason, for the audit trail")]
    NoReason,
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

fn marker_key(dataset: &DatasetName, version: &str) -> ItemKey {
    ItemKey::new(dataset_pk(dataset), format!("RETIRED#{version}"))
}

fn audit_key(dataset: &DatasetName, at: DateTime<Utc>, version: &str) -> ItemKey {
    ItemKey::new(
        dataset_pk(dataset),
        format!(
            "DATAAUDIT#{}#{version}",
            at.to_rfc3339_opts(SecondsFormat::Micros, true)
        ),
    )
}

/// Takes `version` out of training, saying who, when and why; the data stays.
pub async fn retire(
    registry: &dyn RegistryStore,
    dataset: &DatasetName,
    version: &str,
    by: &Retirement,
) -> Result<(), RetirementError> {
    let marker = Item::from_record(marker_key(dataset, version), by)?;
    let put = WriteOp::Put {
        item: marker,
        condition: Condition::NotExists,
    };
    let conflict = RetirementError::AlreadyRetired {
        dataset: dataset.clone(),
        version: version.to_owned(),
    };
    change(
        registry,
        dataset,
        version,
        put,
        DataAction::Retire,
        by,
        conflict,
    )
    .await
}

/// Puts a retired `version` back into training, saying who, when and why.
pub async fn restore(
    registry: &dyn RegistryStore,
    dataset: &DatasetName,
    version: &str,
    by: &Retirement,
) -> Result<(), RetirementError> {
    let delete = WriteOp::Delete {
        key: marker_key(dataset, version),
        condition: Condition::Exists,
    };
    let conflict = RetirementError::NotRetired {
        dataset: dataset.clone(),
        version: version.to_owned(),
    };
    change(
        registry,
        dataset,
        version,
        delete,
        DataAction::Restore,
        by,
        conflict,
    )
    .await
}

/// The retired versions of a dataset.
pub async fn retirements(
    registry: &dyn RegistryStore,
    dataset: &DatasetName,
) -> Result<BTreeMap<String, Retirement>, RegistryError> {
    registry
        .query(&dataset_pk(dataset), "RETIRED#")
        .await?
        .into_iter()
        .map(|item| {
            let version = item.key.sk.trim_start_matches("RETIRED#").to_owned();
            item.into_record().map(|r| (version, r))
        })
        .collect()
}

/// Every retirement and restoration of a dataset's versions, oldest first.
pub async fn audit(
    registry: &dyn RegistryStore,
    dataset: &DatasetName,
) -> Result<Vec<DataAuditEntry>, RegistryError> {
    registry
        .query(&dataset_pk(dataset), "DATAAUDIT#")
        .await?
        .into_iter()
        .map(Item::into_record)
        .collect()
}

/// The marker's change and its audit entry in one transaction, on a version that exists;
/// `conflict` when the marker is not in the state the change needs.
async fn change(
    registry: &dyn RegistryStore,
    dataset: &DatasetName,
    version: &str,
    marker: WriteOp,
    action: DataAction,
    by: &Retirement,
    conflict: RetirementError,
) -> Result<(), RetirementError> {
    let no_such_version = || RetirementError::NoSuchVersion {
        dataset: dataset.clone(),
        version: version.to_owned(),
    };
    if !exists(registry, dataset, version).await? {
        return Err(no_such_version());
    }
    let entry = DataAuditEntry {
        dataset: dataset.clone(),
        version: version.to_owned(),
        action,
        actor: by.actor.clone(),
        at: by.at,
        reason: by.reason.clone(),
    };
    let audit = Item::from_record(audit_key(dataset, by.at, version), &entry)?;
    let written = registry
        .transact(vec![
            WriteOp::Check {
                key: version_key(dataset, Stream::Data, version),
                condition: Condition::Exists,
            },
            marker,
            WriteOp::Put {
                item: audit,
                condition: Condition::NotExists,
            },
        ])
        .await;
    match written {
        Err(RegistryError::TransactionCancelled { failed }) if failed.contains(&1) => Err(conflict),
        Err(RegistryError::TransactionCancelled { failed }) if failed.contains(&0) => {
            Err(no_such_version())
        }
        other => Ok(other?),
    }
}

async fn exists(
    registry: &dyn RegistryStore,
    dataset: &DatasetName,
    version: &str,
) -> Result<bool, RegistryError> {
    Ok(registry
        .get(&version_key(dataset, Stream::Data, version))
        .await?
        .is_some())
}
