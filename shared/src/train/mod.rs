//! Training: from the curated versions a dataset's spec selects to a registered candidate model
//! whose artifact, metrics, lineage, reference profile and model card are in the object store.
//!
//! Idempotent: the training fingerprint (data versions, spec, training's code version, seed) is registered
//! with the version, and the same input again reports that version instead of training.

mod card;
mod fit;
pub mod golden;
pub mod outputs;
mod reference;
mod steps;

pub use outputs::{CandidateResult, MetricsReport};
pub use steps::{CandidateStep, Planned, SearchPlan};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};

use crate::artifact::{ArtifactError, InputField, ModelArtifact};
use crate::clock;
use crate::features::{FeatureError, Pipeline};
use crate::learn::LearnError;
use crate::model_registry::{self, ModelStatus, ModelVersionRecord, RegisterError};
use crate::names::{DatasetName, ModelName, ObjectKey};
use crate::ports::Backends;
use crate::ports::{
    DomainEvent, EventError, EventPublisher, ObjectStore, RegistryError, RegistryStore, StoreError,
};
use crate::spec::stored::{self, StoredSpecError};
use crate::spec::{ColumnSpec, Compute, DatasetSpec, LoadedSpec, Metric, TargetKind};
use crate::training_data::{curated, DataError, DataVersionRef, Lineage};
use crate::version::CODE_VERSION;

/// The version of what training does, part of every training fingerprint. Bump it when the same
/// data, spec and seed would give another model: a learner, the split, the search, the metrics or
/// the artifact's format changed. A build that changes none of that (documentation, serving, the
/// command line) then reports the model it trained before instead of training again; the build
/// itself is recorded in the lineage ([`CODE_VERSION`]).
pub const MODEL_CODE_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Spec(#[from] StoredSpecError),
    #[error("the spec of {dataset} has no [{section}] section; training needs [target], [features], [split] and [training]")]
    NotConfigured {
        dataset: DatasetName,
        section: &'static str,
    },
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{what} is unreadable: {problem}")]
    Corrupt { what: String, problem: String },
    #[error(transparent)]
    Features(#[from] FeatureError),
    #[error("the target {target:?} has a single class ({class:?}) in the training data; a classifier needs at least two")]
    OneClass { target: String, class: String },
    #[error("the binary target {target:?} has {} classes ({}); declare kind = \"multiclass\" or fix the data", classes.len(), classes.join(", "))]
    NotBinary {
        target: String,
        classes: Vec<String>,
    },
    #[error("the positive class {positive:?} of {target:?} never occurs in the training data")]
    PositiveAbsent { target: String, positive: String },
    #[error("class {class:?} has {rows} row(s) in the {part} part; at least {needed} are needed: add data, or set [target] rare_classes = \"drop\" or {{ merge_into = \"<class>\" }} (with min_class_rows) to train without it")]
    TooFewRows {
        class: String,
        part: &'static str,
        rows: usize,
        needed: usize,
    },
    #[error("no row has a value for the target {0:?}")]
    NoLabels(String),
    #[error(transparent)]
    Shaping(#[from] crate::training_data::ShapingError),
    #[error("candidate {candidate} failed: {source}")]
    Learn {
        candidate: String,
        source: LearnError,
    },
    #[error("training.candidates: {0}")]
    Search(String),
    #[error("the spec or the data changed since this search was planned (fingerprint {planned}, now {now}): run the search again")]
    PlanOutdated { planned: String, now: String },
    #[error("candidate {index} of the search was not kept: its step did not finish; run the search again")]
    CandidateMissing { index: usize },
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    #[error("the model card could not be rendered: {0}")]
    Card(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("the model is registered, but announcing it failed: {0}")]
    Events(#[from] EventError),
    #[error("asking for the container task or the search's state machine to train failed: {0}")]
    HandOff(EventError),
}

impl TrainError {
    /// Whether running the same training again could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            TrainError::Data(e) => e.is_retryable(),
            TrainError::Store(e) => e.is_retryable(),
            TrainError::Registry(e) => e.is_retryable(),
            TrainError::Events(e) | TrainError::HandOff(e) => e.is_retryable(),
            TrainError::Spec(StoredSpecError::Store(e)) => e.is_retryable(),
            _ => false,
        }
    }
}

/// What a long training step reports, for a progress bar on a terminal.
pub trait Progress: Send + Sync {
    /// A new step begins; `total` units of work follow (0: unknown).
    fn begin(&self, step: &str, total: u64);
    fn advance(&self, detail: &str);
    fn end(&self);
}

/// Reports nothing (Lambda, `--json`).
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: &str, _: u64) {}
    fn advance(&self, _: &str) {}
    fn end(&self) {}
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    pub record: ModelVersionRecord,
    /// False when the same input had been trained before and its version is reported instead.
    pub created: bool,
}

pub struct Trainer {
    store: Arc<dyn ObjectStore>,
    registry: Arc<dyn RegistryStore>,
    events: Arc<dyn EventPublisher>,
    /// Curated versions to train on instead of the spec's choice.
    pinned: Vec<String>,
}

/// The event announcing a new candidate, for the promote step.
pub const MODEL_TRAINED: &str = "ModelTrained";

/// The event asking for the container task to train a dataset (its rule starts the task).
pub const TRAINING_TASK_REQUESTED: &str = "TrainingTaskRequested";

/// The event asking for a search fanned out over Lambda invocations (its rule starts the
/// train-search state machine).
pub const TRAINING_SEARCH_REQUESTED: &str = "TrainingSearchRequested";

/// What the train function did with a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    Trained(TrainOutcome),
    /// The spec places this training in the container task, which was asked for.
    HandedOff {
        rows: u64,
    },
    /// The search is wide enough to fan out: the train-search state machine was asked for.
    SearchRequested {
        candidates: usize,
    },
}

/// Which curated versions a training takes.
#[derive(Clone, Copy)]
enum Selection<'a> {
    /// Those the command line pins, else the spec's (its window and pins).
    Spec,
    /// These, as a search's plan chose them.
    Exactly(&'a [String]),
}

/// What a training learns from, chosen once: the spec, the curated versions and their fingerprint.
struct Input {
    dataset: DatasetName,
    model: ModelName,
    loaded: LoadedSpec,
    versions: Vec<crate::ingest::catalog::DataVersionRecord>,
    /// Retired versions left out.
    retired: Vec<String>,
    fingerprint: String,
}

impl Input {
    /// The columns training reads of the chosen versions.
    async fn fetch<'s>(
        &'s self,
        store: &dyn ObjectStore,
        settings: &Settings<'s>,
    ) -> Result<curated::Curated<'s>, TrainError> {
        let data_versions: Vec<DataVersionRef> =
            self.versions.iter().map(DataVersionRef::from).collect();
        let columns = settings.columns(&self.loaded.spec);
        Ok(curated::Curated::fetch(store, &data_versions, columns).await?)
    }
}

/// What a training run records about itself beside the fitted model.
struct Run<'a> {
    dataset: &'a DatasetName,
    trigger: &'a str,
    fingerprint: String,
    data_versions: Vec<DataVersionRef>,
    versions: &'a [crate::ingest::catalog::DataVersionRecord],
    /// Retired versions left out.
    retired_versions: Vec<String>,
    spec_sha256: &'a str,
    spec: &'a DatasetSpec,
    settings: &'a Settings<'a>,
    trained_at: DateTime<Utc>,
    started: Instant,
}

impl Trainer {
    pub fn new(backends: &Backends) -> Self {
        Self {
            store: backends.store.clone(),
            registry: backends.registry.clone(),
            events: backends.events.clone(),
            pinned: Vec::new(),
        }
    }

    /// Trains on these curated versions only (`mlops train --data-versions`), instead of those
    /// the spec's `[training] data_versions` names or every one.
    pub fn pinned(mut self, versions: Vec<String>) -> Self {
        self.pinned = versions;
        self
    }

    /// Trains a candidate for `dataset`, registers it and announces it with a `ModelTrained`
    /// event; or reports the version the same input became before. `trigger` says what started
    /// it (schedule, cli, drift, …).
    pub async fn train(
        &self,
        dataset: &DatasetName,
        trigger: &str,
        progress: &dyn Progress,
    ) -> Result<TrainOutcome, TrainError> {
        let outcome = self.train_or_find(dataset, trigger, progress).await?;
        self.announce(&outcome).await?;
        Ok(outcome)
    }

    /// Announces a new candidate with a `ModelTrained` event. A candidate nobody has decided on
    /// yet is announced again when its input comes back: if an earlier announcement was lost,
    /// promotion still runs (it ignores duplicates).
    async fn announce(&self, outcome: &TrainOutcome) -> Result<(), TrainError> {
        if outcome.created || outcome.record.status == ModelStatus::Candidate {
            self.events.publish(&model_trained(&outcome.record)).await?;
        }
        Ok(())
    }

    /// Trains here, or, where the spec's `compute` places this training in the container task
    /// (`container`, or `auto` past `lambda_max_rows` rows), asks for that task with a
    /// `TrainingTaskRequested` event, or, for a search of `fan_out_candidates` candidates or
    /// more, asks for the train-search state machine with a `TrainingSearchRequested` event. The
    /// train function calls this; the task, and `mlops train`, call [`Trainer::train`].
    pub async fn train_or_hand_off(
        &self,
        dataset: &DatasetName,
        trigger: &str,
        progress: &dyn Progress,
    ) -> Result<Handled, TrainError> {
        let (_, loaded) = stored::load(self.store.as_ref(), dataset).await?;
        let settings = Settings::of(&loaded.spec)?;
        let rows = match settings.training.compute {
            Compute::Lambda => None,
            Compute::Auto | Compute::Container => {
                let selected = curated::select_versions(
                    self.registry.as_ref(),
                    dataset,
                    settings.window_days,
                    self.pins(&settings),
                    clock::now(),
                )
                .await?;
                Some(selected.versions.iter().map(|v| v.rows).sum::<u64>())
            }
        };
        let hand_off = match (settings.training.compute, rows) {
            (Compute::Container, Some(rows)) => Some(rows),
            (Compute::Auto, Some(rows)) if rows > settings.training.lambda_max_rows => Some(rows),
            _ => None,
        };
        if let Some(rows) = hand_off {
            self.request(
                TRAINING_TASK_REQUESTED,
                serde_json::json!({"dataset": dataset, "trigger": trigger, "rows": rows}),
            )
            .await?;
            return Ok(Handled::HandedOff { rows });
        }
        let candidates = fit::candidates(&settings)?.len();
        let fan_out = settings.training.fan_out_candidates;
        if fan_out > 0 && candidates >= fan_out {
            self.request(
                TRAINING_SEARCH_REQUESTED,
                serde_json::json!({"dataset": dataset, "trigger": trigger, "candidates": candidates}),
            )
            .await?;
            return Ok(Handled::SearchRequested { candidates });
        }
        Ok(Handled::Trained(
            self.train(dataset, trigger, progress).await?,
        ))
    }

    /// Asks for training elsewhere: the container task or the search's state machine.
    async fn request(
        &self,
        detail_type: &str,
        detail: serde_json::Value,
    ) -> Result<(), TrainError> {
        self.events
            .publish(&DomainEvent {
                detail_type: detail_type.to_owned(),
                detail,
            })
            .await
            .map_err(TrainError::HandOff)
    }

    /// The curated versions to train on: those named on the command line, else the spec's.
    fn pins<'s>(&'s self, settings: &'s Settings) -> &'s [String] {
        if self.pinned.is_empty() {
            &settings.training.data_versions
        } else {
            &self.pinned
        }
    }

    async fn train_or_find(
        &self,
        dataset: &DatasetName,
        trigger: &str,
        progress: &dyn Progress,
    ) -> Result<TrainOutcome, TrainError> {
        let started = Instant::now();
        let input = self.choose_input(dataset, Selection::Spec).await?;
        self.sweep_abandoned(&input.model).await;
        if let Some(record) = self.trained_before(&input).await? {
            return Ok(TrainOutcome {
                record,
                created: false,
            });
        }
        let settings = Settings::of(&input.loaded.spec)?;
        progress.begin("loading curated data", input.versions.len() as u64);
        let data = input.fetch(self.store.as_ref(), &settings).await?;
        progress.end();
        let fitted = fit::fit(&settings, &data, progress)?;
        drop(data);
        self.register(&input, &settings, fitted, trigger, started, progress)
            .await
    }

    /// The spec, the curated versions `selection` names and the fingerprint they make.
    async fn choose_input(
        &self,
        dataset: &DatasetName,
        selection: Selection<'_>,
    ) -> Result<Input, TrainError> {
        let now = clock::now();
        let (_, loaded) = stored::load(self.store.as_ref(), dataset).await?;
        let settings = Settings::of(&loaded.spec)?;
        let (window_days, pins) = match selection {
            Selection::Spec => (settings.window_days, self.pins(&settings)),
            Selection::Exactly(versions) => (None, versions),
        };
        let curated::Selected { versions, retired } =
            curated::select_versions(self.registry.as_ref(), dataset, window_days, pins, now)
                .await?;
        let fingerprint = fingerprint(&versions, &loaded.sha256, settings.seed);
        let model = ModelName::of_dataset(dataset);
        Ok(Input {
            dataset: dataset.clone(),
            model,
            versions,
            retired,
            fingerprint,
            loaded,
        })
    }

    /// Removes what killed or crashed runs of this model left, which no version points at.
    async fn sweep_abandoned(&self, model: &ModelName) {
        let (store, registry) = (self.store.as_ref(), self.registry.as_ref());
        if let Err(e) = outputs::sweep_abandoned(store, registry, model, clock::now()).await {
            tracing::warn!(%model, error = %e, "could not sweep abandoned training runs");
        }
    }

    /// The version the same input registered before, if any.
    async fn trained_before(
        &self,
        input: &Input,
    ) -> Result<Option<ModelVersionRecord>, TrainError> {
        let registry = self.registry.as_ref();
        let Some(existing) =
            model_registry::find_fingerprint(registry, &input.model, &input.fingerprint).await?
        else {
            return Ok(None);
        };
        Ok(model_registry::get_version(registry, &input.model, existing).await?)
    }

    /// Numbers a fitted model, writes its outputs and registers it as a candidate; or withdraws
    /// it when a concurrent run registered the same input first.
    async fn register(
        &self,
        input: &Input,
        settings: &Settings<'_>,
        fitted: fit::Fitted,
        trigger: &str,
        started: Instant,
        progress: &dyn Progress,
    ) -> Result<TrainOutcome, TrainError> {
        let model = &input.model;
        let trained_at = clock::now().trunc_subsecs(0);
        progress.begin("writing artifacts", 0);
        let version = model_registry::allocate_version(
            self.registry.as_ref(),
            model,
            &input.dataset,
            trained_at,
        )
        .await?;
        // Whatever fails before registration, the run's outputs and its claim on the number go
        // with it.
        let record = match self
            .write_outputs(
                model,
                version,
                fitted,
                Run {
                    dataset: &input.dataset,
                    trigger,
                    fingerprint: input.fingerprint.clone(),
                    data_versions: input.versions.iter().map(DataVersionRef::from).collect(),
                    versions: &input.versions,
                    retired_versions: input.retired.clone(),
                    spec_sha256: &input.loaded.sha256,
                    spec: &input.loaded.spec,
                    settings,
                    trained_at,
                    started,
                },
            )
            .await
        {
            Ok(record) => record,
            Err(e) => {
                self.abandon(model, version).await;
                return Err(e);
            }
        };
        progress.end();
        match model_registry::register_candidate(self.registry.as_ref(), model, &record).await {
            Ok(()) => Ok(TrainOutcome {
                record,
                created: true,
            }),
            // A concurrent run with the same input won; its version stands, ours is withdrawn.
            Err(RegisterError::AlreadyRegistered(existing)) => {
                self.abandon(model, version).await;
                let record = model_registry::get_version(self.registry.as_ref(), model, existing)
                    .await?
                    .ok_or_else(|| {
                        RegistryError::Invalid(format!("{model} version {existing} is missing"))
                    })?;
                Ok(TrainOutcome {
                    record,
                    created: false,
                })
            }
            // The registration may have happened all the same (an answer lost on the way): the
            // outputs stay. If it did not, the run's record remains and the sweep removes them.
            Err(RegisterError::Registry(e)) => Err(e.into()),
        }
    }

    /// Writes a fitted model's outputs as `version`; the record that registers them.
    async fn write_outputs(
        &self,
        model: &ModelName,
        version: u64,
        fitted: fit::Fitted,
        run: Run<'_>,
    ) -> Result<ModelVersionRecord, TrainError> {
        let Run {
            dataset,
            trigger,
            fingerprint,
            data_versions,
            versions,
            retired_versions,
            spec_sha256,
            spec,
            settings,
            trained_at,
            started,
        } = run;
        let threshold = fitted.threshold();
        let lineage = Lineage {
            model: model.clone(),
            version,
            fingerprint: fingerprint.clone(),
            data_versions,
            retired_versions,
            spec_sha256: spec_sha256.to_owned(),
            spec_version: spec.dataset.version,
            code_version: CODE_VERSION.to_owned(),
            seed: settings.seed,
            learner: fitted.params.learner().to_owned(),
            params: fitted.params.clone(),
            rows: fitted.rows,
            target: fitted.target.clone(),
            split: settings.split.clone(),
            time_ranges: fitted.time_ranges,
            trained_at,
            training_seconds: started.elapsed().as_secs_f64(),
        };
        let artifact = ModelArtifact {
            model: model.clone(),
            version,
            dataset: dataset.clone(),
            target: settings.target.name.clone(),
            task: settings.kind,
            threshold,
            classes: fitted.classes,
            inputs: input_fields(spec, &fitted.pipeline),
            pipeline: fitted.pipeline,
            learner: fitted.model,
            params: fitted.params,
            fingerprint: fingerprint.clone(),
            code_version: CODE_VERSION.to_owned(),
            trained_at,
            key: serving_key(spec),
        };

        let golden = golden::build(
            &artifact,
            &fitted.golden_frame,
            &fitted.golden_probabilities,
        )
        .map_err(|e| TrainError::Corrupt {
            what: "the golden rows".into(),
            problem: e.to_string(),
        })?;
        let written = outputs::write(
            self.store.as_ref(),
            model,
            version,
            &artifact,
            &fitted.metrics,
            &lineage,
            &fitted.reference,
            &golden,
            &card::render(
                spec,
                &artifact,
                &fitted.metrics,
                &lineage,
                fitted.roc.as_deref(),
            )
            .map_err(|e| TrainError::Card(e.to_string()))?,
        )
        .await?;

        Ok(ModelVersionRecord {
            model: model.clone(),
            version,
            status: ModelStatus::Candidate,
            dataset: dataset.clone(),
            learner: artifact.params.learner().to_owned(),
            artifact_uri: self.store.uri(&written.artifact),
            artifact_key: written.artifact.clone(),
            artifact_sha256: written.artifact_sha256.clone(),
            artifact_bytes: written.artifact_bytes,
            metrics_key: written.metrics,
            lineage_key: written.lineage,
            reference_key: written.reference,
            card_key: written.card,
            golden_key: Some(written.golden),
            metrics: fitted.metrics.summary(),
            fingerprint,
            data_versions: versions.iter().map(|v| v.version.clone()).collect(),
            spec_sha256: spec_sha256.to_owned(),
            code_version: CODE_VERSION.to_owned(),
            trigger: trigger.to_owned(),
            trained_at,
            decision: None,
            description: String::new(),
            tags: BTreeMap::new(),
            annotations: 0,
        })
    }

    /// Withdraws a run that will not register `version`: its outputs, then its claim.
    async fn abandon(&self, model: &ModelName, version: u64) {
        outputs::remove(self.store.as_ref(), model, version).await;
        if let Err(e) = model_registry::end_run(self.registry.as_ref(), model, version).await {
            tracing::warn!(%model, version, error = %e, "could not withdraw an unregistered run; it is swept later");
        }
    }
}

fn model_trained(record: &ModelVersionRecord) -> DomainEvent {
    DomainEvent {
        detail_type: MODEL_TRAINED.to_owned(),
        detail: serde_json::json!({
            "model": record.model,
            "version": record.version,
            "dataset": record.dataset,
            "status": record.status,
            "learner": record.learner,
            "metrics": record.metrics,
            "artifact_key": record.artifact_key,
            "artifact_sha256": record.artifact_sha256,
            "fingerprint": record.fingerprint,
            "trigger": record.trigger,
        }),
    }
}

/// The spec's training sections, checked to be present.
struct Settings<'a> {
    target: &'a ColumnSpec,
    /// How the target's values become classes.
    target_section: &'a crate::spec::TargetSection,
    kind: TargetKind,
    positive: Option<String>,
    features: &'a crate::spec::FeaturesSection,
    split: &'a crate::spec::SplitSection,
    training: &'a crate::spec::TrainingSection,
    primary: Metric,
    slices: Vec<String>,
    window_days: Option<u32>,
    seed: u64,
}

impl<'a> Settings<'a> {
    fn of(spec: &'a DatasetSpec) -> Result<Settings<'a>, TrainError> {
        let missing = |section| TrainError::NotConfigured {
            dataset: spec.dataset.name.clone(),
            section,
        };
        let target = spec.target.as_ref().ok_or_else(|| missing("target"))?;
        let features = spec.features.as_ref().ok_or_else(|| missing("features"))?;
        let split = spec.split.as_ref().ok_or_else(|| missing("split"))?;
        let training = spec.training.as_ref().ok_or_else(|| missing("training"))?;
        let target_column = spec.column(&target.column).ok_or_else(|| {
            TrainError::Features(FeatureError::MissingColumn(target.column.clone()))
        })?;
        let primary = spec.promotion.as_ref().map_or(
            match target.kind {
                TargetKind::Binary => Metric::RocAuc,
                TargetKind::Multiclass => Metric::F1Macro,
            },
            |p| p.primary_metric,
        );
        Ok(Settings {
            target: target_column,
            target_section: target,
            kind: target.kind,
            positive: target.positive.as_ref().map(ToString::to_string),
            features,
            split,
            training,
            primary,
            slices: spec
                .promotion
                .as_ref()
                .map(|p| p.slices.clone())
                .unwrap_or_default(),
            window_days: training.window_days,
            seed: training.seed,
        })
    }

    /// Every column training reads: features, target, time column and slice columns.
    fn columns(&self, spec: &'a DatasetSpec) -> Vec<&'a ColumnSpec> {
        let mut names: Vec<&str> = self.features.columns.iter().map(String::as_str).collect();
        names.push(&self.target.name);
        names.extend(self.split.time_column.as_deref());
        names.extend(self.slices.iter().map(String::as_str));
        let mut columns: Vec<&ColumnSpec> = Vec::new();
        for name in names {
            if let Some(column) = spec.column(name) {
                if !columns.iter().any(|c| c.name == column.name) {
                    columns.push(column);
                }
            }
        }
        columns
    }
}

/// A hash of everything that determines the model: the data versions (by content), the spec,
/// the version of training's code and the seed.
fn fingerprint(
    versions: &[crate::ingest::catalog::DataVersionRecord],
    spec_sha256: &str,
    seed: u64,
) -> String {
    let mut hasher = Sha256::new();
    for v in versions {
        hasher.update(format!("data:{}:{}\n", v.version, v.data_sha256));
    }
    hasher.update(format!(
        "spec:{spec_sha256}\ncode:{MODEL_CODE_VERSION}\nseed:{seed}\n"
    ));
    hex::encode(&hasher.finalize()[..16])
}

fn input_fields(spec: &DatasetSpec, pipeline: &Pipeline) -> Vec<InputField> {
    pipeline
        .input_columns()
        .into_iter()
        .filter_map(|name| spec.column(name))
        .map(|c| InputField {
            name: c.name.clone(),
            kind: c.kind,
            nullable: c.nullable || !c.required,
            max_length: c.max_length,
            boolean_words: c.boolean_words(),
        })
        .collect()
}

/// The spec's serving key as a field every request record must carry.
fn serving_key(spec: &DatasetSpec) -> Option<InputField> {
    let name = spec.serving.as_ref()?.key.as_ref()?;
    spec.column(name).map(|c| InputField {
        name: c.name.clone(),
        kind: c.kind,
        nullable: false,
        max_length: c.max_length,
        boolean_words: c.boolean_words(),
    })
}

/// Where a model version's files live.
pub fn model_prefix(model: &ModelName, version: u64) -> String {
    format!("models/{model}/{version}")
}

pub(crate) fn object_key(text: &str) -> ObjectKey {
    // Built from a validated model name, a number and fixed file names.
    ObjectKey::parse(text).unwrap_or_else(|_| unreachable!("valid by construction: {text}"))
}

#[cfg(test)]
mod tests;
