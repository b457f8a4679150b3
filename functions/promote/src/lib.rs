//! The promote Lambda's handler: a `ModelTrained` event lets the policy decide on the new
//! candidate; a `PerformanceDegraded` event about the champion withdraws it where the spec turns
//! `[monitoring] auto_rollback` on; a direct invoke carries a person's request (promote, reject,
//! rollback, set or remove an alias; retire or restore a data version). All go to the same domain
//! functions the command line uses.

use chrono::{DateTime, Utc};
use mlops_shared::ingest::retirement::{self, DataAction, Retirement, RetirementError};
use mlops_shared::model_registry::Action;
use mlops_shared::monitor::PERFORMANCE_DEGRADED;
use mlops_shared::names::DatasetName;
use mlops_shared::names::{Alias, ModelName};
use mlops_shared::observability::{MetricSet, Unit};
use mlops_shared::ports::RegistryStore;
use mlops_shared::promotion::{Cause, Command, Outcome, PromoteError, Promoter, Request};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{info, warn};

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("unusable event: {0}")]
    BadEvent(String),
    /// The registry changed meanwhile, or a store was unavailable: Lambda retries asynchronous
    /// invocations, and the retry decides afresh.
    #[error("may succeed on retry: {0}")]
    Retryable(PromoteError),
    #[error(transparent)]
    Refused(PromoteError),
    #[error(transparent)]
    Data(RetirementError),
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        let error_type = match &error {
            HandlerError::BadEvent(_) => "BadEvent",
            HandlerError::Retryable(_) => "Retryable",
            HandlerError::Refused(_) => "Refused",
            HandlerError::Data(RetirementError::Registry(e)) if e.is_retryable() => "Retryable",
            HandlerError::Data(_) => "Refused",
        };
        Self {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ActionName {
    Promote,
    Reject,
    Rollback,
    SetAlias,
    RemoveAlias,
}

/// A direct invoke: `{"action": "promote", "model": "flights", "version": 3, "force": false,
/// "reason": "…", "actor": "…", "operation_id": "…"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Invoke {
    action: ActionName,
    model: ModelName,
    version: Option<u64>,
    alias: Option<String>,
    #[serde(default)]
    force: bool,
    reason: Option<String>,
    actor: Option<String>,
    operation_id: Option<String>,
}

/// Reads the command and who asks from an EventBridge event (`ModelTrained`,
/// `PerformanceDegraded`) or a direct invoke. `request_id` (the Lambda request id, the same on
/// every retry of one invocation) is the idempotency key unless the event brings its own.
pub fn parse(event: &Value, request_id: &str) -> Result<(Command, Request), HandlerError> {
    let bad = |message: String| HandlerError::BadEvent(message);
    if let Some(detail_type) = event.get("detail-type") {
        let kind = detail_type.as_str().unwrap_or_default();
        if kind != "ModelTrained" && kind != PERFORMANCE_DEGRADED {
            return Err(bad(format!(
                "the promote function handles ModelTrained and {PERFORMANCE_DEGRADED} events, not {detail_type}"
            )));
        }
        let detail = event.get("detail").unwrap_or(&Value::Null);
        let model = detail
            .get("model")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("the {kind} detail has no \"model\"")))?;
        let model = ModelName::parse(model).map_err(|e| bad(e.to_string()))?;
        let version = detail
            .get("version")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad(format!("the {kind} detail has no numeric \"version\"")))?;
        let id = event
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or(request_id);
        let (command, reason) = if kind == PERFORMANCE_DEGRADED {
            let cause = Cause::of_degradation(detail);
            let reason = format!("live quality: {}", cause.detail);
            let command = Command::Withdraw {
                model,
                version,
                cause,
            };
            (command, reason)
        } else {
            let reason = "automatic decision after training".to_owned();
            (Command::Decide { model, version }, reason)
        };
        let request = Request::new(
            &format!("event:{id}"),
            &format!("promote-function ({kind} event {id})"),
            Some(reason),
        )
        .map_err(|e| bad(e.to_string()))?;
        return Ok((command, request));
    }
    let invoke: Invoke = serde_json::from_value(event.clone()).map_err(|e| {
        bad(format!(
            "{e}; send a ModelTrained event or {{\"action\": \"promote\" | \"reject\" | \"rollback\" | \"set_alias\" | \"remove_alias\", \"model\": …, \"version\"?: …, \"alias\"?: …}}"
        ))
    })?;
    let model = invoke.model;
    let need_version = |action: &str| {
        invoke
            .version
            .ok_or_else(|| bad(format!("{action} needs \"version\"")))
    };
    let need_alias = |action: &str| {
        let name = invoke
            .alias
            .as_deref()
            .ok_or_else(|| bad(format!("{action} needs \"alias\"")))?;
        Alias::parse(name).map_err(|e| bad(e.to_string()))
    };
    let command = match invoke.action {
        ActionName::Promote => Command::Promote {
            model,
            version: invoke.version,
            force: invoke.force,
        },
        ActionName::Reject => Command::Reject {
            model,
            version: need_version("reject")?,
        },
        ActionName::Rollback => Command::Rollback { model },
        ActionName::SetAlias => Command::SetAlias {
            model,
            alias: need_alias("set_alias")?,
            version: need_version("set_alias")?,
        },
        ActionName::RemoveAlias => Command::RemoveAlias {
            model,
            alias: need_alias("remove_alias")?,
        },
    };
    let operation = invoke.operation_id.as_deref().unwrap_or(request_id);
    let actor = invoke.actor.map_or_else(
        || "direct-invoke".to_owned(),
        |a| format!("direct-invoke:{a}"),
    );
    let request = Request::new(operation, &actor, invoke.reason).map_err(|e| bad(e.to_string()))?;
    Ok((command, request))
}

/// A person's request about a data version, by direct invoke: `{"action": "retire_data" |
/// "restore_data", "dataset": "flights", "version": "<data version>", "reason": "…", "actor": "…"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataInvoke {
    action: DataActionName,
    dataset: DatasetName,
    version: String,
    reason: String,
    actor: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum DataActionName {
    RetireData,
    RestoreData,
}

/// A data version's retirement or restoration, as applied or found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataChange {
    pub dataset: DatasetName,
    pub version: String,
    pub action: DataAction,
    /// False when the version already was as asked (a redelivered request changes nothing).
    pub applied: bool,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub reason: String,
    pub message: String,
}

/// What the function answers.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Decided(Outcome),
    Data(DataChange),
}

/// Every event the function takes: data-version requests go to the data versions' functions,
/// the rest to [`handle`].
pub async fn handle_event(
    promoter: &Promoter,
    registry: &dyn RegistryStore,
    event: Value,
    request_id: &str,
) -> Result<Answer, HandlerError> {
    let action = event.get("action").and_then(Value::as_str);
    if !matches!(action, Some("retire_data" | "restore_data")) {
        return handle(promoter, event, request_id)
            .await
            .map(Answer::Decided);
    }
    let invoke: DataInvoke = serde_json::from_value(event).map_err(|e| {
        HandlerError::BadEvent(format!(
            "{e}; send {{\"action\": \"retire_data\" | \"restore_data\", \"dataset\": …, \"version\": …, \"reason\": …, \"actor\"?: …}}"
        ))
    })?;
    change_data(registry, invoke, mlops_shared::clock::now())
        .await
        .map(Answer::Data)
}

#[tracing::instrument(skip_all)]
async fn change_data(
    registry: &dyn RegistryStore,
    invoke: DataInvoke,
    at: DateTime<Utc>,
) -> Result<DataChange, HandlerError> {
    let actor = invoke.actor.map_or_else(
        || "direct-invoke".to_owned(),
        |a| format!("direct-invoke:{a}"),
    );
    let by = Retirement::new(&actor, at, &invoke.reason).map_err(HandlerError::Data)?;
    let (dataset, version) = (&invoke.dataset, invoke.version.as_str());
    let (action, result) = match invoke.action {
        DataActionName::RetireData => (
            DataAction::Retire,
            retirement::retire(registry, dataset, version, &by).await,
        ),
        DataActionName::RestoreData => (
            DataAction::Restore,
            retirement::restore(registry, dataset, version, &by).await,
        ),
    };
    let (applied, message) = match result {
        Ok(()) if action == DataAction::Retire => (
            true,
            format!("retired {dataset} version {version}: training leaves it out from now on"),
        ),
        Ok(()) => (
            true,
            format!("restored {dataset} version {version}: training uses it again"),
        ),
        // A redelivered request finds its own change made.
        Err(e @ (RetirementError::AlreadyRetired { .. } | RetirementError::NotRetired { .. })) => {
            (false, e.to_string())
        }
        Err(e) => {
            warn!(error = %e, "data version request refused");
            return Err(HandlerError::Data(e));
        }
    };
    info!(%dataset, version, ?action, applied, actor, "data version request");
    Ok(DataChange {
        dataset: invoke.dataset,
        version: invoke.version,
        action,
        applied,
        actor,
        at,
        reason: by.reason,
        message,
    })
}

#[tracing::instrument(skip_all)]
pub async fn handle(
    promoter: &Promoter,
    event: Value,
    request_id: &str,
) -> Result<Outcome, HandlerError> {
    let (command, request) = parse(&event, request_id)?;
    info!(
        ?command,
        actor = request.actor,
        operation = request.operation,
        "promotion request"
    );
    let result = promoter.execute(&command, &request).await;
    match result {
        Ok(outcome) => {
            metrics(&outcome).emit();
            info!(
                model = %outcome.model,
                version = outcome.version,
                applied = outcome.applied,
                message = outcome.message,
                "decided"
            );
            Ok(outcome)
        }
        Err(e) if e.is_retryable() => {
            warn!(error = %e, "will retry");
            Err(HandlerError::Retryable(e))
        }
        Err(e) => {
            warn!(error = %e, "refused");
            Err(HandlerError::Refused(e))
        }
    }
}

fn metrics(outcome: &Outcome) -> MetricSet {
    let count =
        |action: Action| f64::from(u8::from(outcome.applied && outcome.action == Some(action)));
    let mut set = MetricSet::new()
        .dimension("Model", outcome.model.as_str())
        .metric("Promotions", count(Action::Promote), Unit::Count)
        .metric("Rollbacks", count(Action::Rollback), Unit::Count)
        .metric("Withdrawals", count(Action::Withdraw), Unit::Count)
        .metric("PromotionsRefused", count(Action::Refuse), Unit::Count);
    if let Some(champion) = outcome.champion {
        set = set.metric("ChampionVersion", champion as f64, Unit::None);
    }
    set
}

#[cfg(test)]
#[path = "lib_tests.rs"]
mod tests;
