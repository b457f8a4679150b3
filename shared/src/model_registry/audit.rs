//! The append-only audit trail: one entry per transition, numbered by the model's revision, so
//! one query returns the whole history in order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Decision;
use super::{model_pk, ModelStatus};
use crate::names::{Alias, ModelName};
use crate::ports::{Item, RegistryError, RegistryStore};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A version became champion.
    Promote,
    /// The policy refused an automatic promotion; the version is rejected.
    Refuse,
    /// The policy passed but needs a person's approval; the version stays a candidate.
    AwaitApproval,
    /// A person rejected a candidate.
    Reject,
    /// The champion returned to the previous one.
    Rollback,
    /// The champion failed a check and was rejected; the previous one returned, if there was one
    /// that was not withdrawn itself.
    Withdraw,
    SetAlias,
    RemoveAlias,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Promote => "promote",
            Action::Refuse => "refuse",
            Action::AwaitApproval => "await_approval",
            Action::Reject => "reject",
            Action::Rollback => "rollback",
            Action::Withdraw => "withdraw",
            Action::SetAlias => "set_alias",
            Action::RemoveAlias => "remove_alias",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Who did what, when, to which version, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub model: ModelName,
    /// The model's revision this transition produced: 1, 2, 3, …
    pub revision: u64,
    pub at: DateTime<Utc>,
    pub action: Action,
    /// Who or what asked: `promote-function (ModelTrained <event id>)`, `cli:<user>`, …
    pub actor: String,
    /// The version acted on.
    pub version: u64,
    /// The alias moved (`champion` for promotions and rollbacks).
    pub alias: Option<Alias>,
    /// The version the alias pointed to before, and after.
    pub from_version: Option<u64>,
    pub to_version: Option<u64>,
    /// The champion once this entry applied: the answer to "who was champion then?".
    pub champion: Option<u64>,
    /// The version's status before and after.
    pub from_status: ModelStatus,
    pub to_status: ModelStatus,
    /// The policy gates were bypassed on request.
    pub forced: bool,
    pub decision: Option<Decision>,
    pub reason: String,
    /// The idempotency key of the request.
    pub operation: String,
}

/// Every transition of the model, oldest first (one query).
pub async fn history(
    registry: &dyn RegistryStore,
    model: &ModelName,
) -> Result<Vec<AuditEntry>, RegistryError> {
    registry
        .query(&model_pk(model), "AUDIT#")
        .await?
        .into_iter()
        .map(Item::into_record)
        .collect()
}

/// One entry of the trail, by revision.
pub async fn entry(
    registry: &dyn RegistryStore,
    model: &ModelName,
    revision: u64,
) -> Result<Option<AuditEntry>, RegistryError> {
    registry
        .get(&super::transition::audit_key(model, revision))
        .await?
        .map(Item::into_record)
        .transpose()
}

/// The champion at time `at`, from the history: the champion after the last entry made at or
/// before `at`. None when there was none yet.
pub fn champion_at(history: &[AuditEntry], at: DateTime<Utc>) -> Option<u64> {
    history
        .iter()
        .take_while(|entry| entry.at <= at)
        .last()
        .and_then(|entry| entry.champion)
}
