//! A wide search fanned out over Lambda invocations, one candidate each, by the train-search
//! state machine (`infra/statemachine/train-search.asl.json`):
//!
//! 1. [`Trainer::plan`] chooses the input once: the curated versions and their fingerprint. The
//!    same input trained before ends the search there.
//! 2. [`Trainer::fit_candidate`] (the Map state, one invocation per candidate) prepares the same
//!    parts from the same data and spec, fits its candidate, scores it on validation and keeps
//!    it under `searches/<model>/<fingerprint>/`.
//! 3. [`Trainer::finish`] keeps the best candidate, judges it on the test part, writes the
//!    outputs and registers them as [`Trainer::train`] does, then removes the kept candidates.
//!
//! `mlops train` runs the same three steps in one process ([`super::fit::fit`]), where the parts
//! are prepared once. Every step may run again: a fitted candidate is kept once and reused, and
//! the fingerprint registers one version whichever execution gets there first.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::fit::{self, CandidateFit};
use super::{
    object_key, CandidateResult, Input, Progress, Selection, Settings, Silent, TrainError,
    TrainOutcome, Trainer,
};
use crate::clock;
use crate::learn::ModelParams;
use crate::names::{DatasetName, ObjectKey};
use crate::ports::StoreError;

/// What a search's plan chose, carried through its every step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchPlan {
    pub dataset: DatasetName,
    pub trigger: String,
    /// The training fingerprint of the chosen input; a step that finds another one refuses.
    pub fingerprint: String,
    /// The curated versions every step trains on.
    pub data_versions: Vec<String>,
    /// Retired versions the plan left out, for the lineage.
    pub retired_versions: Vec<String>,
    /// When the search began: the lineage's training time counts from here.
    pub planned_at: DateTime<Utc>,
}

/// What planning found.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    /// The same input was trained before: its version, and nothing to search.
    Trained(TrainOutcome),
    /// The search to run: its plan and how many candidates it has.
    Search { plan: SearchPlan, candidates: usize },
}

/// One candidate's step, done.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateStep {
    pub result: CandidateResult,
    /// False when an earlier run of the step had kept this candidate already.
    pub fitted_now: bool,
}

impl Trainer {
    /// The search's first step: the input, or the version it made before.
    pub async fn plan(&self, dataset: &DatasetName, trigger: &str) -> Result<Planned, TrainError> {
        let planned_at = clock::now();
        let input = self.choose_input(dataset, Selection::Spec).await?;
        self.sweep_abandoned(&input.model).await;
        if let Some(record) = self.trained_before(&input).await? {
            let outcome = TrainOutcome {
                record,
                created: false,
            };
            self.announce(&outcome).await?;
            return Ok(Planned::Trained(outcome));
        }
        let candidates = fit::candidates(&Settings::of(&input.loaded.spec)?)?.len();
        Ok(Planned::Search {
            plan: SearchPlan {
                dataset: dataset.clone(),
                trigger: trigger.to_owned(),
                fingerprint: input.fingerprint,
                data_versions: input.versions.into_iter().map(|v| v.version).collect(),
                retired_versions: input.retired,
                planned_at,
            },
            candidates,
        })
    }

    /// Fits the search's candidate `index` and keeps it for [`Trainer::finish`]; one kept by an
    /// earlier run of this step is reused.
    pub async fn fit_candidate(
        &self,
        plan: &SearchPlan,
        index: usize,
    ) -> Result<CandidateStep, TrainError> {
        let input = self.planned_input(plan).await?;
        let settings = Settings::of(&input.loaded.spec)?;
        let combos = fit::candidates(&settings)?;
        let params = combos.get(index).ok_or_else(|| {
            TrainError::Search(format!(
                "the search has {} candidates (0 to {}); there is no candidate {index}",
                combos.len(),
                combos.len().saturating_sub(1)
            ))
        })?;
        match self.kept_candidate(&input, index, params).await {
            Ok(Some(kept)) => {
                return Ok(CandidateStep {
                    result: kept.result,
                    fitted_now: false,
                })
            }
            Ok(None) => {}
            // Fitting it again replaces what an interrupted write left.
            Err(TrainError::Corrupt { what, problem }) => {
                tracing::warn!(what, problem, "fitting a kept candidate again");
            }
            Err(e) => return Err(e),
        }
        let data = input.fetch(self.store.as_ref(), &settings).await?;
        let fitting = fit::prepare(&settings, &data, std::slice::from_ref(params), &Silent)?;
        drop(data);
        let fitted = fit::fit_candidate(&settings, &fitting, index, params)?;
        let bytes = postcard::to_allocvec(&fitted).map_err(|e| TrainError::Corrupt {
            what: format!("candidate {index}"),
            problem: e.to_string(),
        })?;
        self.store.put(&candidate_key(&input, index), bytes).await?;
        Ok(CandidateStep {
            result: fitted.result,
            fitted_now: true,
        })
    }

    /// The search's last step: the best kept candidate, judged on the test part, registered and
    /// announced; or the version the same input registered before.
    pub async fn finish(
        &self,
        plan: &SearchPlan,
        progress: &dyn Progress,
    ) -> Result<TrainOutcome, TrainError> {
        let input = self.planned_input(plan).await?;
        if let Some(record) = self.trained_before(&input).await? {
            let outcome = TrainOutcome {
                record,
                created: false,
            };
            self.announce(&outcome).await?;
            self.remove_kept(&input).await;
            return Ok(outcome);
        }
        let settings = Settings::of(&input.loaded.spec)?;
        let combos = fit::candidates(&settings)?;
        let mut search = fit::Search::new(&settings);
        for (index, params) in combos.iter().enumerate() {
            let kept = self
                .kept_candidate(&input, index, params)
                .await?
                .ok_or(TrainError::CandidateMissing { index })?;
            search.add(kept);
        }
        progress.begin("loading curated data", input.versions.len() as u64);
        let data = input.fetch(self.store.as_ref(), &settings).await?;
        progress.end();
        let fitting = fit::prepare(&settings, &data, &[], progress)?;
        drop(data);
        let fitted = fit::conclude(&settings, fitting, search, progress)?;
        let since_plan = (clock::now() - plan.planned_at)
            .to_std()
            .unwrap_or(Duration::ZERO);
        let started = Instant::now()
            .checked_sub(since_plan)
            .unwrap_or_else(Instant::now);
        let outcome = self
            .register(&input, &settings, fitted, &plan.trigger, started, progress)
            .await?;
        self.announce(&outcome).await?;
        self.remove_kept(&input).await;
        Ok(outcome)
    }

    /// The plan's input, checked to be the one it planned: a spec or a data version changed
    /// since would make another model.
    async fn planned_input(&self, plan: &SearchPlan) -> Result<Input, TrainError> {
        let input = self
            .choose_input(&plan.dataset, Selection::Exactly(&plan.data_versions))
            .await?;
        if input.fingerprint != plan.fingerprint {
            return Err(TrainError::PlanOutdated {
                planned: plan.fingerprint.clone(),
                now: input.fingerprint,
            });
        }
        Ok(Input {
            retired: plan.retired_versions.clone(),
            ..input
        })
    }

    /// Candidate `index` as its step kept it; None when it has not been kept.
    async fn kept_candidate(
        &self,
        input: &Input,
        index: usize,
        params: &ModelParams,
    ) -> Result<Option<CandidateFit>, TrainError> {
        let key = candidate_key(input, index);
        let bytes = match self.store.get(&key).await {
            Ok(object) => object.bytes,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let corrupt = |problem: String| TrainError::Corrupt {
            what: format!("the kept candidate {key}"),
            problem,
        };
        let kept: CandidateFit =
            postcard::from_bytes(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if kept.index != index || kept.result.params != *params {
            return Err(corrupt(format!(
                "it holds candidate {} ({}), not candidate {index}",
                kept.index, kept.result.description
            )));
        }
        Ok(Some(kept))
    }

    /// Removes the kept candidates of a registered search. Best effort: the bucket's lifecycle
    /// rule expires what is left.
    async fn remove_kept(&self, input: &Input) {
        let prefix = search_prefix(input);
        let kept = match self.store.list(&prefix).await {
            Ok(kept) => kept,
            Err(e) => {
                tracing::warn!(%prefix, error = %e, "could not list a search's kept candidates");
                return;
            }
        };
        for object in kept {
            if let Err(e) = self.store.delete(&object.key).await {
                tracing::warn!(key = %object.key, error = %e, "could not remove a kept candidate");
            }
        }
    }
}

/// Where a search keeps its fitted candidates: by model and fingerprint, so reruns of the same
/// input find them and another input never does.
fn search_prefix(input: &Input) -> String {
    format!("searches/{}/{}/", input.model, input.fingerprint)
}

fn candidate_key(input: &Input, index: usize) -> ObjectKey {
    object_key(&format!("{}candidate-{index}.bin", search_prefix(input)))
}
