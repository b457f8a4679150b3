//! Promotion: which version answers requests, and why. Automatic on `ModelTrained` (the policy
//! decides), manual for people (promote, force, reject, roll back, move aliases). Every change is
//! one optimistic transaction in the registry with its audit entry; the artifact an alias would
//! point to is read and its SHA-256 checked first.

mod command;
mod compare;
pub mod policy;
pub mod smoke;
mod withdraw;

pub use command::Command;
pub use compare::{Comparison, Scored};
pub use policy::{Approval, Policy};
pub use smoke::SmokeTest;
pub use withdraw::{Cause, Check, RETRAIN_REQUESTED};

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use crate::artifact::ModelArtifact;
use crate::clock;
use crate::ingest::catalog;
use crate::model_registry::{
    self, Action, AuditEntry, Decision, Gate, LoadError, ModelState, ModelStatus,
    ModelVersionRecord, StatusChange, Transition, TransitionError,
};
use crate::monitor::window::MAX_WINDOW;
use crate::monitor::{MonitorError, MonitorJob};
use crate::names::{Alias, DatasetName, ModelName, ObjectKey, CHAMPION};
use crate::ports::Backends;
use crate::ports::{
    DomainEvent, EventError, EventPublisher, ObjectStore, RegistryError, RegistryStore, StoreError,
};
use crate::spec::stored::{self, StoredSpecError};
use crate::spec::DatasetSpec;
use crate::training_data::{DataError, Lineage};

pub const MODEL_PROMOTED: &str = "ModelPromoted";
pub const MODEL_ROLLED_BACK: &str = "ModelRolledBack";

#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    #[error("model {0} is not in the registry: train it first (mlops train --dataset {0})")]
    UnknownModel(ModelName),
    #[error("{model} has no version {version}")]
    UnknownVersion { model: ModelName, version: u64 },
    #[error("{0} has no candidate version to promote; name the version")]
    NoCandidate(ModelName),
    #[error("{model} version {version} is {status}: only a forced promotion makes it champion{hint}", hint = if *status == ModelStatus::Archived { " (or use rollback to return to the previous champion)" } else { "" })]
    NotPromotable {
        model: ModelName,
        version: u64,
        status: ModelStatus,
    },
    #[error("{model} version {version} is {status}; only a candidate can be rejected")]
    NotRejectable {
        model: ModelName,
        version: u64,
        status: ModelStatus,
    },
    #[error("{model} version {version} is rejected; an alias cannot point to it")]
    RejectedVersion { model: ModelName, version: u64 },
    #[error("{0} has no previous champion to roll back to")]
    NoPreviousChampion(ModelName),
    #[error("the champion alias moves only by promote or rollback")]
    ChampionAlias,
    #[error("{model} has no alias {alias}")]
    UnknownAlias { model: ModelName, alias: Alias },
    #[error("{model} version {version} fails the promotion policy: {}; a forced promotion overrides it", failed_gates(.decision))]
    GatesFailed {
        model: ModelName,
        version: u64,
        decision: Box<Decision>,
    },
    #[error("the artifact of {model} version {version} is unusable: {problem}")]
    Artifact {
        model: ModelName,
        version: u64,
        problem: String,
    },
    #[error("operation id {0:?} is invalid: use 1-128 characters from A-Z, a-z, 0-9, '.', '_', ':' and '-'")]
    BadOperation(String),
    #[error(transparent)]
    Conflict(TransitionError),
    #[error(transparent)]
    Spec(#[from] StoredSpecError),
    #[error("scoring on the test part failed: {0}")]
    Scoring(#[from] DataError),
    #[error("{what} is unreadable: {problem}")]
    Corrupt { what: String, problem: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("the change is applied, but announcing it failed: {0}")]
    Events(#[from] EventError),
    #[error("the smoke test could not run: {0}")]
    Smoke(#[from] smoke::SmokeError),
}

impl PromoteError {
    /// Whether trying again (reading the registry afresh) could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            PromoteError::Conflict(_) => true,
            PromoteError::Store(e) => e.is_retryable(),
            PromoteError::Registry(e) => e.is_retryable(),
            PromoteError::Events(e) => e.is_retryable(),
            PromoteError::Spec(StoredSpecError::Store(e)) => e.is_retryable(),
            PromoteError::Scoring(e) => e.is_retryable(),
            PromoteError::Smoke(smoke::SmokeError::Store(e)) => e.is_retryable(),
            PromoteError::Smoke(smoke::SmokeError::Registry(e)) => e.is_retryable(),
            _ => false,
        }
    }
}

/// How often a command is tried when another change to the model wins the race.
const ATTEMPTS: u32 = 8;

/// Runs a command again, reading the registry afresh each time, while it loses optimistic races
/// to other changes of the same model: with jittered, growing pauses (10 ms doubling up to 640 ms,
/// "full jitter"), so that contenders spread out instead of colliding again, and at most
/// [`ATTEMPTS`] times. Every attempt decides on the state it read; a caller gets a conflict only
/// when the model kept changing under all of them.
async fn retrying<F, Fut>(mut command: F) -> Result<Outcome, PromoteError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Outcome, PromoteError>>,
{
    let mut attempt = 0;
    loop {
        match command().await {
            Err(PromoteError::Conflict(conflict)) if attempt + 1 < ATTEMPTS => {
                tracing::info!(%conflict, attempt, "lost a race to another change; trying again");
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// A random pause below 10 ms × 2^attempt (at most 640 ms).
fn backoff(attempt: u32) -> std::time::Duration {
    use std::hash::BuildHasher;
    let ceiling_us = 10_000u64 << attempt.min(6);
    // A fresh RandomState is seeded randomly: enough randomness for jitter, no generator to keep.
    let random = std::collections::hash_map::RandomState::new().hash_one(attempt);
    std::time::Duration::from_micros(random % ceiling_us)
}

fn failed_gates(decision: &Decision) -> String {
    decision
        .failed_gates()
        .iter()
        .map(|g| format!("{} ({})", g.name, g.detail))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Who asks, why, and the idempotency key that makes a retry of the same request a no-op.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub operation: String,
    pub actor: String,
    pub reason: Option<String>,
}

impl Request {
    pub fn new(
        operation: &str,
        actor: &str,
        reason: Option<String>,
    ) -> Result<Request, PromoteError> {
        let valid = (1..=128).contains(&operation.len())
            && operation
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
        if !valid {
            return Err(PromoteError::BadOperation(operation.to_owned()));
        }
        Ok(Request {
            operation: operation.to_owned(),
            actor: actor.to_owned(),
            reason,
        })
    }
}

/// What a request did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub model: ModelName,
    pub version: u64,
    /// What was recorded; None when there was nothing to do.
    pub action: Option<Action>,
    /// False when nothing changed: a duplicate event, a retried request, or already so.
    pub applied: bool,
    pub champion: Option<u64>,
    pub revision: Option<u64>,
    pub decision: Option<Decision>,
    pub message: String,
    /// After a promotion: the new champion's smoke test. When it failed, the outcome is the
    /// withdrawal that followed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoke_test: Option<SmokeTest>,
}

pub struct Promoter {
    store: Arc<dyn ObjectStore>,
    registry: Arc<dyn RegistryStore>,
    events: Arc<dyn EventPublisher>,
}

/// A version with its artifact, read and checked.
struct Checked {
    record: ModelVersionRecord,
    artifact: ModelArtifact,
}

impl Promoter {
    pub fn new(backends: &Backends) -> Self {
        Self {
            store: backends.store.clone(),
            registry: backends.registry.clone(),
            events: backends.events.clone(),
        }
    }

    async fn on_trained_once(
        &self,
        model: &ModelName,
        state: &ModelState,
        version: u64,
        request: &Request,
    ) -> Result<Outcome, PromoteError> {
        let record = self.version(model, version).await?;
        if record.status != ModelStatus::Candidate {
            return Ok(unchanged(
                state,
                version,
                format!("version {version} is already {}", record.status),
            ));
        }
        if record
            .decision
            .as_ref()
            .is_some_and(|d| d.awaits_approval() && d.champion == state.champion())
        {
            return Ok(unchanged(
                state,
                version,
                format!("version {version} already awaits approval"),
            ));
        }
        let spec = self.spec(&record).await?;
        let (decision, candidate) = match self.check(record).await {
            Ok(candidate) => {
                let decision = self
                    .decide(&spec, state, &candidate, Approval::Pending)
                    .await?;
                (decision, Some(candidate))
            }
            // A candidate whose artifact is gone or altered is refused, with the reason.
            Err(PromoteError::Artifact { problem, .. }) => (
                artifact_refusal(&spec, version, state.champion(), problem),
                None,
            ),
            Err(e) => return Err(e),
        };
        let (action, to) = if decision.passed {
            (Action::Promote, ModelStatus::Champion)
        } else if decision.awaits_approval() {
            (Action::AwaitApproval, ModelStatus::Candidate)
        } else {
            (Action::Refuse, ModelStatus::Rejected)
        };
        match (action, candidate) {
            (Action::Promote, Some(candidate)) => {
                self.make_champion(state, &candidate.record, Some(decision), false, request)
                    .await
            }
            _ => {
                self.settle_candidate(state, version, action, to, Some(decision), request)
                    .await
            }
        }
    }

    async fn promote_once(
        &self,
        model: &ModelName,
        state: &ModelState,
        version: Option<u64>,
        force: bool,
        request: &Request,
    ) -> Result<Outcome, PromoteError> {
        let record = match version {
            Some(version) => self.version(model, version).await?,
            None => model_registry::versions(self.registry.as_ref(), model)
                .await?
                .into_iter()
                .rev()
                .find(|v| v.status == ModelStatus::Candidate)
                .ok_or_else(|| PromoteError::NoCandidate(model.clone()))?,
        };
        let version = record.version;
        match record.status {
            ModelStatus::Champion => {
                return Ok(unchanged(
                    state,
                    version,
                    format!("version {version} is already the champion"),
                ))
            }
            ModelStatus::Rejected | ModelStatus::Archived if !force => {
                return Err(PromoteError::NotPromotable {
                    model: model.clone(),
                    version,
                    status: record.status,
                })
            }
            _ => {}
        }
        let spec = self.spec(&record).await?;
        let candidate = self.check(record).await?;
        let decision = self
            .decide(
                &spec,
                state,
                &candidate,
                Approval::Given {
                    by: request.actor.clone(),
                },
            )
            .await?;
        if !decision.passed && !force {
            return Err(PromoteError::GatesFailed {
                model: model.clone(),
                version,
                decision: Box::new(decision),
            });
        }
        self.make_champion(state, &candidate.record, Some(decision), force, request)
            .await
    }

    async fn reject_once(
        &self,
        model: &ModelName,
        state: &ModelState,
        version: u64,
        request: &Request,
    ) -> Result<Outcome, PromoteError> {
        let record = self.version(model, version).await?;
        if record.status != ModelStatus::Candidate {
            return Err(PromoteError::NotRejectable {
                model: model.clone(),
                version,
                status: record.status,
            });
        }
        self.settle_candidate(
            state,
            version,
            Action::Reject,
            ModelStatus::Rejected,
            None,
            request,
        )
        .await
    }

    async fn rollback_once(
        &self,
        model: &ModelName,
        state: &ModelState,
        request: &Request,
    ) -> Result<Outcome, PromoteError> {
        let (Some(&current), Some(&previous)) =
            (state.champions.last(), state.champions.iter().rev().nth(1))
        else {
            return Err(PromoteError::NoPreviousChampion(model.clone()));
        };
        let target = self.check(self.version(model, previous).await?).await?;
        let mut aliases = state.aliases.clone();
        aliases.insert(Alias::champion(), previous);
        let mut champions = state.champions.clone();
        champions.pop();
        let from_status = target.record.status;
        let mut changes = vec![StatusChange {
            version: current,
            from: ModelStatus::Champion,
            to: ModelStatus::Archived,
            decision: None,
        }];
        if current != previous {
            changes.push(StatusChange {
                version: previous,
                from: from_status,
                to: ModelStatus::Champion,
                decision: None,
            });
        }
        let transition = Transition {
            read: state.clone(),
            aliases,
            champions,
            changes,
            entry: entry(
                state,
                request,
                Action::Rollback,
                previous,
                (from_status, ModelStatus::Champion),
                Some((Alias::champion(), Some(current), Some(previous))),
                None,
                false,
            ),
        };
        let outcome = self.apply(model, transition).await?;
        if outcome.applied {
            self.events
                .publish(&DomainEvent {
                    detail_type: MODEL_ROLLED_BACK.to_owned(),
                    detail: json!({
                        "model": model.as_str(),
                        "version": previous,
                        "previous": current,
                        "revision": outcome.revision,
                        "actor": request.actor,
                        "reason": request.reason,
                    }),
                })
                .await?;
        }
        Ok(outcome)
    }

    async fn set_alias_once(
        &self,
        model: &ModelName,
        state: &ModelState,
        alias: &Alias,
        version: u64,
        request: &Request,
    ) -> Result<Outcome, PromoteError> {
        let before = state.aliases.get(alias.as_str()).copied();
        if before == Some(version) {
            return Ok(unchanged(
                state,
                version,
                format!("{alias} already points to version {version}"),
            ));
        }
        let record = self.version(model, version).await?;
        if record.status == ModelStatus::Rejected {
            return Err(PromoteError::RejectedVersion {
                model: model.clone(),
                version,
            });
        }
        let status = record.status;
        self.check(record).await?;
        let mut aliases = state.aliases.clone();
        aliases.insert(alias.clone(), version);
        let transition = Transition {
            read: state.clone(),
            aliases,
            champions: state.champions.clone(),
            changes: Vec::new(),
            entry: entry(
                state,
                request,
                Action::SetAlias,
                version,
                (status, status),
                Some((alias.clone(), before, Some(version))),
                None,
                false,
            ),
        };
        self.apply(model, transition).await
    }
    async fn remove_alias_once(
        &self,
        model: &ModelName,
        state: &ModelState,
        alias: &Alias,
        request: &Request,
    ) -> Result<Outcome, PromoteError> {
        let Some(&version) = state.aliases.get(alias.as_str()) else {
            return Err(PromoteError::UnknownAlias {
                model: model.clone(),
                alias: alias.clone(),
            });
        };
        let status = self.version(model, version).await?.status;
        let mut aliases = state.aliases.clone();
        aliases.remove(alias.as_str());
        let transition = Transition {
            read: state.clone(),
            aliases,
            champions: state.champions.clone(),
            changes: Vec::new(),
            entry: entry(
                state,
                request,
                Action::RemoveAlias,
                version,
                (status, status),
                Some((alias.clone(), Some(version), None)),
                None,
                false,
            ),
        };
        self.apply(model, transition).await
    }

    /// Carries out `command` for `request`'s caller. Every command is applied at most once per
    /// operation id (a retry reports what the first attempt did), and is tried again, on the
    /// registry read afresh, while it loses races to other changes of the same model.
    ///
    /// `Decide`: the policy decides whether the version replaces the champion, waits for
    /// approval, or is refused (rejected); a duplicate event, or one about a version already
    /// decided, changes nothing. `Promote`: the policy still runs and is recorded.
    pub async fn execute(
        &self,
        command: &Command,
        request: &Request,
    ) -> Result<Outcome, PromoteError> {
        if let Command::SetAlias { alias, .. } | Command::RemoveAlias { alias, .. } = command {
            if alias.as_str() == CHAMPION {
                return Err(PromoteError::ChampionAlias);
            }
        }
        let outcome = self.execute_once(command, request).await?;
        if outcome.action == Some(Action::Promote) {
            return self.smoke_test(outcome, request).await;
        }
        Ok(outcome)
    }

    /// Carries out `command`, trying again while it loses races.
    async fn execute_once(
        &self,
        command: &Command,
        request: &Request,
    ) -> Result<Outcome, PromoteError> {
        retrying(|| async {
            let model = command.model();
            if let Some(outcome) = self.replayed(model, request).await? {
                return Ok(outcome);
            }
            let state = &self.state(model).await?;
            match command {
                Command::Decide { version, .. } => {
                    self.on_trained_once(model, state, *version, request).await
                }
                Command::Promote { version, force, .. } => {
                    self.promote_once(model, state, *version, *force, request)
                        .await
                }
                Command::Reject { version, .. } => {
                    self.reject_once(model, state, *version, request).await
                }
                Command::Rollback { .. } => self.rollback_once(model, state, request).await,
                Command::SetAlias { alias, version, .. } => {
                    self.set_alias_once(model, state, alias, *version, request)
                        .await
                }
                Command::RemoveAlias { alias, .. } => {
                    self.remove_alias_once(model, state, alias, request).await
                }
                Command::Withdraw { version, cause, .. } => {
                    self.withdraw_once(model, state, *version, cause, request)
                        .await
                }
            }
        })
        .await
    }

    /// Smoke-tests the champion a promotion made, and withdraws it if it fails. Nothing is
    /// tested when the champion changed again meanwhile: the change that did it tests its own.
    async fn smoke_test(
        &self,
        promoted: Outcome,
        request: &Request,
    ) -> Result<Outcome, PromoteError> {
        let model = &promoted.model;
        let version = promoted.version;
        if self.state(model).await?.champion() != Some(version) {
            return Ok(promoted);
        }
        let record = self.version(model, version).await?;
        let spec = self.spec(&record).await?;
        let budget = spec.monitoring.unwrap_or_default().smoke_budget_ms;
        let test = smoke::run(self.store.clone(), self.registry.clone(), &record, budget).await?;
        tracing::info!(%model, version, passed = test.passed, summary = test.summary(), "smoke test");
        if test.passed {
            return Ok(Outcome {
                message: format!("{}; {}", promoted.message, test.summary()),
                smoke_test: Some(test),
                ..promoted
            });
        }
        let withdrawal = Request::new(
            &smoke_operation(&request.operation),
            "smoke-test",
            Some(format!("after {}: {}", request.actor, test.summary())),
        )?;
        let command = Command::Withdraw {
            model: model.clone(),
            version,
            cause: Cause {
                check: Check::SmokeTest,
                detail: test.problems.join("; "),
                value: test.max_difference,
                threshold: Some(smoke::TOLERANCE),
            },
        };
        let withdrawn = self.execute_once(&command, &withdrawal).await?;
        Ok(Outcome {
            message: format!(
                "version {version} was promoted, then {}; {}",
                test.summary(),
                withdrawn.message
            ),
            smoke_test: Some(test),
            ..withdrawn
        })
    }

    /// Records what became of a candidate that does not become champion: rejected (its aliases
    /// dropped), or still a candidate awaiting approval, with the decision if a policy ran.
    async fn settle_candidate(
        &self,
        state: &ModelState,
        version: u64,
        action: Action,
        to: ModelStatus,
        decision: Option<Decision>,
        request: &Request,
    ) -> Result<Outcome, PromoteError> {
        let mut aliases = state.aliases.clone();
        if to == ModelStatus::Rejected {
            aliases.retain(|_, v| *v != version);
        }
        let transition = Transition {
            read: state.clone(),
            aliases,
            champions: state.champions.clone(),
            changes: vec![StatusChange {
                version,
                from: ModelStatus::Candidate,
                to,
                decision: decision.clone(),
            }],
            entry: entry(
                state,
                request,
                action,
                version,
                (ModelStatus::Candidate, to),
                None,
                decision,
                false,
            ),
        };
        self.apply(&state.model, transition).await
    }

    /// Moves the champion alias to `record`, archiving the champion it replaces.
    async fn make_champion(
        &self,
        state: &ModelState,
        record: &ModelVersionRecord,
        decision: Option<Decision>,
        forced: bool,
        request: &Request,
    ) -> Result<Outcome, PromoteError> {
        let version = record.version;
        let previous = state.champion();
        if previous == Some(version) {
            // The model was read as having this champion, its version record afterwards as not
            // one: a change came between the two reads. Read both again.
            return Err(PromoteError::Conflict(TransitionError::Conflict {
                model: state.model.clone(),
                revision: state.revision,
            }));
        }
        let mut aliases = state.aliases.clone();
        aliases.insert(Alias::champion(), version);
        let mut champions = state.champions.clone();
        champions.push(version);
        let mut changes = vec![StatusChange {
            version,
            from: record.status,
            to: ModelStatus::Champion,
            decision: decision.clone(),
        }];
        if let Some(previous) = previous {
            changes.push(StatusChange {
                version: previous,
                from: ModelStatus::Champion,
                to: ModelStatus::Archived,
                decision: None,
            });
        }
        let transition = Transition {
            read: state.clone(),
            aliases,
            champions,
            changes,
            entry: entry(
                state,
                request,
                Action::Promote,
                version,
                (record.status, ModelStatus::Champion),
                Some((Alias::champion(), previous, Some(version))),
                decision.clone(),
                forced,
            ),
        };
        let outcome = self.apply(&state.model, transition).await?;
        if outcome.applied {
            self.events
                .publish(&DomainEvent {
                    detail_type: MODEL_PROMOTED.to_owned(),
                    detail: json!({
                        "model": state.model,
                        "version": version,
                        "previous": previous,
                        "revision": outcome.revision,
                        "forced": forced,
                        "actor": request.actor,
                        "reason": request.reason,
                        "primary_metric": decision.as_ref().map(|d| d.primary_metric),
                        "score": decision.as_ref().and_then(|d| d.candidate_score),
                        "champion_score": decision.as_ref().and_then(|d| d.champion_score),
                    }),
                })
                .await?;
        }
        Ok(outcome)
    }

    async fn apply(
        &self,
        model: &ModelName,
        transition: Transition,
    ) -> Result<Outcome, PromoteError> {
        let aliases = transition.aliases.clone();
        match model_registry::apply(self.registry.as_ref(), transition).await {
            Ok(entry) => Ok(Outcome {
                model: entry.model.clone(),
                version: entry.version,
                action: Some(entry.action),
                applied: true,
                champion: aliases.get(CHAMPION).copied(),
                revision: Some(entry.revision),
                message: describe(&entry),
                decision: entry.decision,
                smoke_test: None,
            }),
            Err(TransitionError::AlreadyApplied { revision, .. }) => {
                self.replay_of(model, revision).await
            }
            Err(TransitionError::Registry(e)) => Err(e.into()),
            Err(conflict) => Err(PromoteError::Conflict(conflict)),
        }
    }

    /// The outcome of a request that was already applied (a retry), if it was.
    async fn replayed(
        &self,
        model: &ModelName,
        request: &Request,
    ) -> Result<Option<Outcome>, PromoteError> {
        match model_registry::applied_revision(self.registry.as_ref(), model, &request.operation)
            .await?
        {
            Some(revision) => Ok(Some(self.replay_of(model, revision).await?)),
            None => Ok(None),
        }
    }

    async fn replay_of(&self, model: &ModelName, revision: u64) -> Result<Outcome, PromoteError> {
        let entry = model_registry::entry(self.registry.as_ref(), model, revision)
            .await?
            .ok_or_else(|| PromoteError::Corrupt {
                what: format!("the audit trail of {model}"),
                problem: format!("revision {revision} is missing"),
            })?;
        Ok(Outcome {
            model: entry.model.clone(),
            version: entry.version,
            action: Some(entry.action),
            applied: false,
            champion: entry.champion,
            revision: Some(entry.revision),
            message: format!("already applied: {}", describe(&entry)),
            decision: entry.decision,
            smoke_test: None,
        })
    }

    async fn state(&self, model: &ModelName) -> Result<ModelState, PromoteError> {
        model_registry::get_model(self.registry.as_ref(), model)
            .await?
            .ok_or_else(|| PromoteError::UnknownModel(model.clone()))
    }

    async fn version(
        &self,
        model: &ModelName,
        version: u64,
    ) -> Result<ModelVersionRecord, PromoteError> {
        model_registry::get_version(self.registry.as_ref(), model, version)
            .await?
            .ok_or_else(|| PromoteError::UnknownVersion {
                model: model.clone(),
                version,
            })
    }

    /// Reads the version's artifact and checks it is the one registered.
    async fn check(&self, record: ModelVersionRecord) -> Result<Checked, PromoteError> {
        let model = record.model.clone();
        let unusable = |problem: String| PromoteError::Artifact {
            model: model.clone(),
            version: record.version,
            problem,
        };
        let artifact = match model_registry::load_verified(self.store.as_ref(), &record).await {
            Ok(artifact) => artifact,
            Err(LoadError::Store(e)) => return Err(e.into()),
            Err(e) => return Err(unusable(e.to_string())),
        };
        Ok(Checked { record, artifact })
    }

    /// Runs the policy: the candidate and the current champion scored on the candidate's test
    /// part, and the gates over them.
    async fn decide(
        &self,
        spec: &DatasetSpec,
        state: &ModelState,
        candidate: &Checked,
        approval: Approval,
    ) -> Result<Decision, PromoteError> {
        let model = &state.model;
        let dataset = &candidate.record.dataset;
        let policy = Policy::of(spec);
        let lineage: Lineage = self.json(&candidate.record.lineage_key).await?;
        let champion_version = state
            .champion()
            .filter(|&champion| champion != candidate.record.version);
        let champion = match champion_version {
            Some(version) => Some(match self.version(model, version).await {
                Ok(record) => self.check(record).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }),
            None => None,
        };
        let mut comparison = compare::compare(
            self.store.as_ref(),
            spec,
            &lineage,
            &candidate.artifact,
            champion
                .as_ref()
                .and_then(|c| c.as_ref().ok())
                .map(|c| &c.artifact),
            &policy.slices,
        )
        .await?;
        if let Some(Err(problem)) = &champion {
            comparison.champion = Some(Err(problem.clone()));
        }
        let data_validation = self.data_validation(dataset, &lineage).await?;
        let live = match (policy.require_live_evidence, champion_version) {
            (Some(_), Some(champion)) => Some(
                self.live_evidence(model, candidate.record.version, champion)
                    .await?,
            ),
            _ => None,
        };
        Ok(policy::decide(
            &policy,
            policy::Evidence {
                candidate: candidate.record.version,
                champion: champion_version,
                comparison: &comparison,
                data_validation,
                approval,
                live,
                decided_at: clock::now(),
            },
        ))
    }

    /// How the candidate did as the shadow, beside the champion, over the monitor's longest
    /// window.
    async fn live_evidence(
        &self,
        model: &ModelName,
        candidate: u64,
        champion: u64,
    ) -> Result<policy::LiveEvidence, PromoteError> {
        let backends = Backends {
            store: self.store.clone(),
            registry: self.registry.clone(),
            events: self.events.clone(),
        };
        let until = clock::now();
        let report = MonitorJob::new(&backends)
            .report(model, until - MAX_WINDOW, until)
            .await
            .map_err(|e| match e {
                MonitorError::Store(e) => PromoteError::Store(e),
                MonitorError::Registry(e) => PromoteError::Registry(e),
                e => PromoteError::Corrupt {
                    what: format!("the live evidence of {model}"),
                    problem: e.to_string(),
                },
            })?;
        // Only the rows both scored count: the candidate as the shadow, the champion beside it.
        let paired = report
            .shadows
            .iter()
            .find(|c| c.shadow == candidate && c.champion == champion);
        Ok(policy::LiveEvidence {
            labelled: paired.map_or(0, |c| c.judgement.labelled),
            live: paired.and_then(|c| c.judgement.live),
            interval: paired.and_then(|c| c.judgement.interval),
            champion_live: paired.and_then(|c| c.champion_live),
        })
    }

    /// The current spec of the dataset the version learned from: the policy is read from it.
    async fn spec(&self, record: &ModelVersionRecord) -> Result<DatasetSpec, PromoteError> {
        Ok(stored::load(self.store.as_ref(), &record.dataset)
            .await?
            .1
            .spec)
    }

    /// Every data version the candidate learned from is one the contract accepted, unchanged,
    /// and not retired since.
    async fn data_validation(
        &self,
        dataset: &DatasetName,
        lineage: &Lineage,
    ) -> Result<Result<usize, String>, PromoteError> {
        let accepted = catalog::versions(self.registry.as_ref(), dataset).await?;
        let retired =
            crate::ingest::retirement::retirements(self.registry.as_ref(), dataset).await?;
        for used in &lineage.data_versions {
            if let Some(retirement) = retired.get(&used.version) {
                return Ok(Err(format!(
                    "data version {} was retired by {} on {} ({})",
                    used.version,
                    retirement.actor,
                    retirement.at.format("%Y-%m-%d %H:%M UTC"),
                    retirement.reason
                )));
            }
            match accepted.iter().find(|v| v.version == used.version) {
                None => {
                    return Ok(Err(format!(
                        "data version {} is not an accepted version of {dataset}",
                        used.version
                    )))
                }
                Some(v) if v.data_sha256 != used.data_sha256 => {
                    return Ok(Err(format!(
                        "data version {} has SHA-256 {} in the registry, {} in the lineage",
                        used.version, v.data_sha256, used.data_sha256
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(Ok(lineage.data_versions.len()))
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        key: &ObjectKey,
    ) -> Result<T, PromoteError> {
        let bytes = self.store.get(key).await?.bytes;
        serde_json::from_slice(&bytes).map_err(|e| PromoteError::Corrupt {
            what: key.to_string(),
            problem: e.to_string(),
        })
    }
}

fn unchanged(state: &ModelState, version: u64, message: String) -> Outcome {
    Outcome {
        model: state.model.clone(),
        version,
        action: None,
        applied: false,
        champion: state.champion(),
        revision: Some(state.revision),
        decision: None,
        message,
        smoke_test: None,
    }
}

/// The operation id of the withdrawal a failed smoke test makes: derived from the promotion's,
/// so a retried promotion withdraws once.
fn smoke_operation(promotion: &str) -> String {
    let mut id: String = promotion.chars().take(122).collect();
    id.push_str(":smoke");
    id
}

/// The decision for a candidate whose artifact cannot be used: refused, whatever its metrics.
fn artifact_refusal(
    spec: &DatasetSpec,
    version: u64,
    champion: Option<u64>,
    problem: String,
) -> Decision {
    Decision {
        passed: false,
        primary_metric: Policy::of(spec).primary,
        candidate: version,
        candidate_score: None,
        champion,
        champion_score: None,
        test_rows: 0,
        gates: vec![Gate {
            name: "artifact".into(),
            passed: false,
            value: None,
            threshold: None,
            detail: problem,
        }],
        decided_at: clock::now(),
    }
}

#[allow(clippy::too_many_arguments)]
fn entry(
    state: &ModelState,
    request: &Request,
    action: Action,
    version: u64,
    (from_status, to_status): (ModelStatus, ModelStatus),
    alias: Option<(Alias, Option<u64>, Option<u64>)>,
    decision: Option<Decision>,
    forced: bool,
) -> AuditEntry {
    let champion = match &alias {
        Some((name, _, to)) if name.as_str() == CHAMPION => *to,
        _ => state.champion(),
    };
    let (alias, from_version, to_version) = match alias {
        Some((name, from, to)) => (Some(name), from, to),
        None => (None, None, None),
    };
    AuditEntry {
        model: state.model.clone(),
        revision: 0,
        at: clock::now(),
        action,
        actor: request.actor.clone(),
        version,
        alias,
        from_version,
        to_version,
        champion,
        from_status,
        to_status,
        forced,
        decision,
        reason: request.reason.clone().unwrap_or_default(),
        operation: request.operation.clone(),
    }
}

/// One line on what an audit entry did.
pub fn describe(entry: &AuditEntry) -> String {
    let v = entry.version;
    match entry.action {
        Action::Promote => match entry.from_version {
            Some(previous) => format!(
                "version {v} is the champion (was version {previous}){}",
                if entry.forced { ", forced" } else { "" }
            ),
            None => format!(
                "version {v} is the first champion{}",
                if entry.forced { ", forced" } else { "" }
            ),
        },
        Action::Refuse => format!(
            "version {v} refused by the policy: {}",
            entry
                .decision
                .as_ref()
                .map(failed_gates)
                .unwrap_or_default()
        ),
        Action::AwaitApproval => format!("version {v} passed the policy and awaits approval"),
        Action::Reject => format!("version {v} rejected"),
        Action::Rollback => format!(
            "rolled back to version {v}{}",
            entry
                .from_version
                .map(|from| format!(" (from version {from})"))
                .unwrap_or_default()
        ),
        Action::Withdraw => format!(
            "version {v} withdrawn for {}; {}",
            entry
                .decision
                .as_ref()
                .and_then(|d| d.gates.first())
                .map(|g| format!("{}: {}", g.name, g.detail))
                .unwrap_or_default(),
            match entry.to_version {
                Some(to) => format!("version {to} is the champion again"),
                None => "no version is champion".to_owned(),
            }
        ),
        Action::SetAlias => format!(
            "{} points to version {v}",
            entry.alias.as_ref().map_or("alias", Alias::as_str)
        ),
        Action::RemoveAlias => format!(
            "{} removed (was version {v})",
            entry.alias.as_ref().map_or("alias", Alias::as_str)
        ),
    }
}
