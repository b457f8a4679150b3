//! What is asked of the registry, one type for every caller: the promote function's events and
//! direct invokes, the admin API and the command line all build a [`Command`] and hand it to
//! `Promoter::execute`.

use serde::Serialize;

use super::Cause;
use crate::names::{Alias, ModelName};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    /// After training (a `ModelTrained` event): the policy decides on the new candidate.
    Decide {
        model: ModelName,
        version: u64,
    },
    /// A person promotes a version (default: the newest candidate); `force` overrides failed
    /// gates and a rejected or archived status, never the artifact check.
    Promote {
        model: ModelName,
        version: Option<u64>,
        force: bool,
    },
    /// A person rejects a candidate.
    Reject {
        model: ModelName,
        version: u64,
    },
    /// The champion returns to the one it replaced.
    Rollback {
        model: ModelName,
    },
    /// Points a named alias (not `champion`) at a version.
    SetAlias {
        model: ModelName,
        alias: Alias,
        version: u64,
    },
    RemoveAlias {
        model: ModelName,
        alias: Alias,
    },
    /// The champion failed a check (its smoke test, or live quality with `[monitoring]
    /// auto_rollback`): it is rejected, and the champion before it returns.
    Withdraw {
        model: ModelName,
        version: u64,
        cause: Cause,
    },
}

impl Command {
    pub fn model(&self) -> &ModelName {
        match self {
            Command::Decide { model, .. }
            | Command::Promote { model, .. }
            | Command::Reject { model, .. }
            | Command::Rollback { model }
            | Command::SetAlias { model, .. }
            | Command::RemoveAlias { model, .. }
            | Command::Withdraw { model, .. } => model,
        }
    }
}
