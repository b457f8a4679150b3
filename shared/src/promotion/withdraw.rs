//! Withdrawing a champion that failed a check: its smoke test after a promotion, or live quality
//! (a `PerformanceDegraded` verdict, where the spec turns `[monitoring] auto_rollback` on). The
//! version is rejected with the evidence and the champion before it returns, in one transaction.
//!
//! Automatic rollback must not make things worse: a live-quality withdrawal happens at most once
//! per version, never returns to a version itself withdrawn for cause, and never leaves the model
//! without a champion (a degraded model answers better than none). A failed smoke test withdraws
//! even the only champion: its answers are not the ones it was evaluated on.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{entry, policy::Policy, unchanged, Checked, Outcome, PromoteError, Promoter, Request};
use crate::clock;
use crate::model_registry::{
    self, Action, AuditEntry, Decision, Gate, ModelState, ModelStatus, StatusChange, Transition,
};
use crate::names::{Alias, ModelName, CHAMPION};
use crate::ports::DomainEvent;

/// The event asking the train function for a new candidate.
pub const RETRAIN_REQUESTED: &str = "RetrainRequested";

/// Which check a champion failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    SmokeTest,
    LiveQuality,
}

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::SmokeTest => "smoke_test",
            Check::LiveQuality => "live_quality",
        }
    }
}

/// Why a champion is withdrawn: the check, what it found, and its figure against its limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    pub check: Check,
    pub detail: String,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
}

impl Cause {
    /// What a `PerformanceDegraded` event's detail says: the metric, its live value against the
    /// test value, and the verdict's reasons.
    pub fn of_degradation(detail: &Value) -> Cause {
        let number = |name: &str| detail.get(name).and_then(Value::as_f64);
        let reasons: Vec<&str> = detail
            .get("reasons")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let metric = detail
            .get("metric")
            .and_then(Value::as_str)
            .unwrap_or("the primary metric");
        let figure = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{x:.4}"));
        Cause {
            check: Check::LiveQuality,
            detail: format!(
                "{metric} {} live on {} labelled predictions against {} on the test part{}{}",
                figure(number("live")),
                detail.get("labelled").and_then(Value::as_u64).unwrap_or(0),
                figure(number("test")),
                if reasons.is_empty() { "" } else { ": " },
                reasons.join("; ")
            ),
            value: number("live"),
            threshold: number("test"),
        }
    }
}

impl Promoter {
    pub(super) async fn withdraw_once(
        &self,
        model: &ModelName,
        state: &ModelState,
        version: u64,
        cause: &Cause,
        request: &Request,
    ) -> Result<Outcome, PromoteError> {
        let keep = |message: String| Ok(unchanged(state, version, message));
        if state.champion() != Some(version) {
            return keep(format!(
                "version {version} is not the champion; there is nothing to withdraw"
            ));
        }
        let automatic = cause.check == Check::LiveQuality;
        let record = self.version(model, version).await?;
        let spec = self.spec(&record).await?;
        if automatic && !spec.monitoring.as_ref().is_some_and(|m| m.auto_rollback) {
            return keep(format!(
                "automatic rollback is off ([monitoring] auto_rollback in the spec of {}): version {version} stays champion",
                record.dataset
            ));
        }
        let history = model_registry::history(self.registry.as_ref(), model).await?;
        let withdrawn = |v: u64| withdrawn_before(&history, v);
        if automatic && withdrawn(version) {
            return keep(format!(
                "version {version} was withdrawn for cause once already; it is not withdrawn automatically again"
            ));
        }
        let previous = state.champions.iter().rev().nth(1).copied();
        let target = match previous {
            Some(p) if !withdrawn(p) => match self.check(self.version(model, p).await?).await {
                Ok(target) => Ok(target),
                Err(PromoteError::Artifact { problem, .. }) => {
                    Err(format!("version {p}'s artifact is unusable ({problem})"))
                }
                Err(e) => return Err(e),
            },
            Some(p) => Err(format!(
                "version {p} before it was itself withdrawn for cause"
            )),
            None => Err("there is no champion before it".to_owned()),
        };
        let target = match target {
            Ok(target) => Some(target),
            Err(why) if automatic => {
                return keep(format!("{why}: version {version} stays champion"));
            }
            Err(_) => None,
        };
        let decision = Decision {
            passed: false,
            primary_metric: Policy::of(&spec).primary,
            candidate: version,
            candidate_score: cause.value,
            champion: target.as_ref().map(|t| t.record.version),
            champion_score: None,
            test_rows: 0,
            gates: vec![Gate {
                name: cause.check.as_str().to_owned(),
                passed: false,
                value: cause.value,
                threshold: cause.threshold,
                detail: cause.detail.clone(),
            }],
            decided_at: clock::now(),
        };
        let outcome = self
            .apply(
                model,
                transition(state, version, target.as_ref(), decision, request),
            )
            .await?;
        if outcome.applied {
            self.announce(&record.dataset, &outcome, cause, request)
                .await?;
        }
        Ok(outcome)
    }

    /// A withdrawal is a rollback to whoever listens; after live quality fell, a new candidate
    /// is asked for.
    async fn announce(
        &self,
        dataset: &crate::names::DatasetName,
        outcome: &Outcome,
        cause: &Cause,
        request: &Request,
    ) -> Result<(), PromoteError> {
        self.events
            .publish(&DomainEvent {
                detail_type: super::MODEL_ROLLED_BACK.to_owned(),
                detail: json!({
                    "model": outcome.model,
                    "version": outcome.champion,
                    "previous": outcome.version,
                    "revision": outcome.revision,
                    "actor": request.actor,
                    "reason": request.reason,
                    "cause": cause.check,
                    "detail": cause.detail,
                }),
            })
            .await?;
        if cause.check == Check::LiveQuality {
            self.events
                .publish(&DomainEvent {
                    detail_type: RETRAIN_REQUESTED.to_owned(),
                    detail: json!({
                        "dataset": dataset,
                        "model": outcome.model,
                        "trigger": "performance",
                        "withdrawn": outcome.version,
                    }),
                })
                .await?;
        }
        Ok(())
    }
}

/// Whether `version` was withdrawn for cause at some point of `history`.
fn withdrawn_before(history: &[AuditEntry], version: u64) -> bool {
    history
        .iter()
        .any(|e| e.action == Action::Withdraw && e.version == version)
}

/// `version` rejected with `decision`, every alias pointing to it dropped, and `target` (if any)
/// champion again.
fn transition(
    state: &ModelState,
    version: u64,
    target: Option<&Checked>,
    decision: Decision,
    request: &Request,
) -> Transition {
    let mut aliases = state.aliases.clone();
    aliases.retain(|_, v| *v != version);
    let mut champions = state.champions.clone();
    champions.pop();
    let mut changes = vec![StatusChange {
        version,
        from: ModelStatus::Champion,
        to: ModelStatus::Rejected,
        decision: Some(decision.clone()),
    }];
    if let Some(target) = target {
        aliases.insert(Alias::champion(), target.record.version);
        changes.push(StatusChange {
            version: target.record.version,
            from: target.record.status,
            to: ModelStatus::Champion,
            decision: None,
        });
    }
    let to = aliases.get(CHAMPION).copied();
    Transition {
        read: state.clone(),
        aliases,
        champions,
        changes,
        entry: entry(
            state,
            request,
            Action::Withdraw,
            version,
            (ModelStatus::Champion, ModelStatus::Rejected),
            Some((Alias::champion(), Some(version), to)),
            Some(decision),
            false,
        ),
    }
}
