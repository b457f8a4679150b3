//! Training: from the curated versions a dataset's spec selects to a registered candidate model
//! whose artifact, metrics, lineage, reference profile and model card are in the object store.
//!
//! Idempotent: the training fingerprint (data versions, spec, training's code version, seed) is registered
//! with the version, and the same input again reports that version instead of training.

mod card;
pub mod outputs;
mod reference;

pub use outputs::{CandidateResult, MetricsReport};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use crate::artifact::{ArtifactError, InputField, ModelArtifact};
use crate::drift::Profile;
use crate::evaluate::{self, choose_threshold, higher_is_better};
use crate::features::{FeatureError, Pipeline, RawFrame};
use crate::learn::{self, Dataset, LearnError, Model, ModelParams};
use crate::model_registry::{self, ModelStatus, ModelVersionRecord, RegisterError};
use crate::names::{DatasetName, ModelName, ObjectKey};
use crate::ports::Backends;
use crate::ports::{
    DomainEvent, EventError, EventPublisher, ObjectStore, RegistryError, RegistryStore, StoreError,
};
use crate::spec::stored::{self, StoredSpecError};
use crate::spec::{ClassBalance, ColumnSpec, DatasetSpec, Metric, TargetKind};
use crate::training_data::split::{self, split_rows};
use crate::training_data::{curated, slice_values, DataError, DataVersionRef, Lineage, RowCounts};
use crate::version::CODE_VERSION;

/// The version of what training does, part of every training fingerprint. Bump it when the same
/// data, spec and seed would give another model: a learner, the split, the search, the metrics or
/// the artifact's format changed. A build that changes none of that (documentation, serving, the
/// command line) then reports the model it trained before instead of training again; the build
/// itself is recorded in the lineage ([`CODE_VERSION`]).
pub const MODEL_CODE_VERSION: u32 = 1;

/// Each class needs at least this many training rows (and one row in validation and test).
pub const MIN_CLASS_ROWS: usize = 10;

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
    #[error("class {class:?} has {rows} row(s) in the {part} part; at least {needed} are needed")]
    TooFewRows {
        class: String,
        part: &'static str,
        rows: usize,
        needed: usize,
    },
    #[error("no row has a value for the target {0:?}")]
    NoLabels(String),
    #[error("candidate {candidate} failed: {source}")]
    Learn {
        candidate: String,
        source: LearnError,
    },
    #[error("training.candidates: {0}")]
    Search(String),
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
}

impl TrainError {
    /// Whether running the same training again could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            TrainError::Data(e) => e.is_retryable(),
            TrainError::Store(e) => e.is_retryable(),
            TrainError::Registry(e) => e.is_retryable(),
            TrainError::Events(e) => e.is_retryable(),
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
}

/// The event announcing a new candidate, for the promote step.
pub const MODEL_TRAINED: &str = "ModelTrained";

/// What a training run records about itself beside the fitted model.
struct Run<'a> {
    dataset: &'a DatasetName,
    trigger: &'a str,
    fingerprint: String,
    data_versions: Vec<DataVersionRef>,
    versions: &'a [crate::ingest::catalog::DataVersionRecord],
    spec_sha256: &'a str,
    spec: &'a DatasetSpec,
    trained_at: String,
    started: Instant,
}

/// Everything the fitted model was judged on, before it is written out.
struct Fitted {
    artifact: ModelArtifact,
    metrics: MetricsReport,
    lineage: Lineage,
    reference: Profile,
    roc: Option<Vec<(f64, f64)>>,
}

impl Trainer {
    pub fn new(backends: &Backends) -> Self {
        Self {
            store: backends.store.clone(),
            registry: backends.registry.clone(),
            events: backends.events.clone(),
        }
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
        // A candidate nobody has decided on yet is announced again when its input comes back: if
        // an earlier announcement was lost, promotion still runs (it ignores duplicates).
        if outcome.created || outcome.record.status == ModelStatus::Candidate {
            self.events.publish(&model_trained(&outcome.record)).await?;
        }
        Ok(outcome)
    }

    async fn train_or_find(
        &self,
        dataset: &DatasetName,
        trigger: &str,
        progress: &dyn Progress,
    ) -> Result<TrainOutcome, TrainError> {
        let started = Instant::now();
        let now = Utc::now();
        let (_, loaded) = stored::load(self.store.as_ref(), dataset).await?;
        let spec = &loaded.spec;
        let settings = Settings::of(spec)?;
        let model: &ModelName = dataset;
        // Killed or crashed runs of this model leave outputs no version points at.
        if let Err(e) =
            outputs::sweep_abandoned(self.store.as_ref(), self.registry.as_ref(), model, now).await
        {
            tracing::warn!(%model, error = %e, "could not sweep abandoned training runs");
        }
        let versions =
            curated::select_versions(self.registry.as_ref(), dataset, settings.window_days, now)
                .await?;
        let fingerprint = fingerprint(&versions, &loaded.sha256, settings.seed);
        if let Some(existing) =
            model_registry::find_fingerprint(self.registry.as_ref(), model, &fingerprint).await?
        {
            if let Some(record) =
                model_registry::get_version(self.registry.as_ref(), model, existing).await?
            {
                return Ok(TrainOutcome {
                    record,
                    created: false,
                });
            }
        }

        progress.begin("loading curated data", versions.len() as u64);
        let columns = settings.columns(spec);
        let data_versions: Vec<DataVersionRef> =
            versions.iter().map(DataVersionRef::from).collect();
        let frame = curated::load(self.store.as_ref(), &data_versions, &columns).await?;
        progress.end();

        let trained_at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
        let fitted = fit(spec, &settings, frame, progress)?;

        progress.begin("writing artifacts", 0);
        let version = model_registry::allocate_version(
            self.registry.as_ref(),
            model,
            dataset.as_str(),
            &trained_at,
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
                    dataset,
                    trigger,
                    fingerprint,
                    data_versions,
                    versions: &versions,
                    spec_sha256: &loaded.sha256,
                    spec,
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
        fitted: Fitted,
        run: Run<'_>,
    ) -> Result<ModelVersionRecord, TrainError> {
        let Run {
            dataset,
            trigger,
            fingerprint,
            data_versions,
            versions,
            spec_sha256,
            spec,
            trained_at,
            started,
        } = run;
        let mut artifact = fitted.artifact;
        artifact.version = version;
        artifact.fingerprint = fingerprint.clone();
        artifact.trained_at = trained_at.clone();
        let mut lineage = fitted.lineage;
        lineage.version = version;
        lineage.fingerprint = fingerprint.clone();
        lineage.data_versions = data_versions;
        lineage.spec_sha256 = spec_sha256.to_owned();
        lineage.spec_version = spec.dataset.version;
        lineage.trained_at = trained_at.clone();
        lineage.training_seconds = started.elapsed().as_secs_f64();

        let written = outputs::write(
            self.store.as_ref(),
            model,
            version,
            &artifact,
            &fitted.metrics,
            &lineage,
            &fitted.reference,
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
            model: model.to_string(),
            version,
            status: ModelStatus::Candidate,
            dataset: dataset.to_string(),
            learner: artifact.params.learner().to_owned(),
            artifact_uri: self.store.uri(&written.artifact),
            artifact_key: written.artifact.to_string(),
            artifact_sha256: written.artifact_sha256.clone(),
            artifact_bytes: written.artifact_bytes,
            metrics_key: written.metrics.to_string(),
            lineage_key: written.lineage.to_string(),
            reference_key: written.reference.to_string(),
            card_key: written.card.to_string(),
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

/// The class of each labelled row and the class names, checked against the spec's target kind.
fn classes_of(
    settings: &Settings,
    labels: &[String],
) -> Result<(Vec<String>, Vec<u32>), TrainError> {
    let mut classes: Vec<String> = labels.to_vec();
    classes.sort();
    classes.dedup();
    let target = settings.target.name.clone();
    if classes.len() == 1 {
        return Err(TrainError::OneClass {
            target,
            class: classes.remove(0),
        });
    }
    if settings.kind == TargetKind::Binary {
        if classes.len() != 2 {
            return Err(TrainError::NotBinary { target, classes });
        }
        let positive = settings.positive.clone().unwrap_or_default();
        let Some(at) = classes.iter().position(|c| *c == positive) else {
            return Err(TrainError::PositiveAbsent { target, positive });
        };
        // The positive class is always the second.
        if at == 0 {
            classes.swap(0, 1);
        }
    }
    let index: BTreeMap<&str, u32> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32))
        .collect();
    let y = labels.iter().map(|l| index[l.as_str()]).collect();
    Ok((classes, y))
}

fn check_class_rows(
    classes: &[String],
    y: &[u32],
    parts: [(&'static str, &[usize], usize); 3],
) -> Result<(), TrainError> {
    for (part, rows, needed) in parts {
        let mut counts = vec![0usize; classes.len()];
        for &row in rows {
            counts[y[row] as usize] += 1;
        }
        if let Some((class, &rows)) = counts.iter().enumerate().find(|(_, &n)| n < needed) {
            return Err(TrainError::TooFewRows {
                class: classes[class].clone(),
                part,
                rows,
                needed,
            });
        }
    }
    Ok(())
}

/// Splits, fits the pipeline and every candidate, keeps the best on validation, picks the
/// threshold, and evaluates on the untouched test part.
fn fit(
    spec: &DatasetSpec,
    settings: &Settings,
    frame: RawFrame,
    progress: &dyn Progress,
) -> Result<Fitted, TrainError> {
    let loaded_rows = frame.rows();
    let target_labels = curated::labels(frame.column(&settings.target.name)?);
    let labelled: Vec<usize> = (0..frame.rows())
        .filter(|&i| target_labels[i].is_some())
        .collect();
    if labelled.is_empty() {
        return Err(TrainError::NoLabels(settings.target.name.clone()));
    }
    // The unlabelled frame is dropped at once: training holds the data only once at a time.
    let frame = {
        let labelled_frame = frame.take(&labelled);
        drop(frame);
        labelled_frame
    };
    let labels: Vec<String> = labelled
        .iter()
        .filter_map(|&i| target_labels[i].clone())
        .collect();
    let (classes, y) = classes_of(settings, &labels)?;
    let (parts, times) = split_rows(settings.split, &frame, &y, classes.len())?;
    check_class_rows(
        &classes,
        &y,
        [
            ("training", &parts.train, MIN_CLASS_ROWS),
            ("validation", &parts.validation, 1),
            ("test", &parts.test, 1),
        ],
    )?;

    progress.begin("fitting the feature pipeline", 0);
    let train_frame = frame.take(&parts.train);
    let pipeline = Pipeline::fit(settings.features, &train_frame)?;
    let train_rows = match settings.training.class_balance {
        ClassBalance::Oversample => {
            split::oversample(&parts.train, &y, classes.len(), settings.seed)
        }
        ClassBalance::None | ClassBalance::Weights => parts.train.clone(),
    };
    let x_all = pipeline.transform(&frame)?;
    let test_slices = settings
        .slices
        .iter()
        .map(|column| {
            let values = slice_values(frame.column(column)?);
            Ok((
                column.clone(),
                parts.test.iter().map(|&i| values[i].clone()).collect(),
            ))
        })
        .collect::<Result<Vec<(String, Vec<String>)>, TrainError>>()?;
    drop(frame);
    let x_fit = x_all.take(&parts.train);
    let x_oversampled = (settings.training.class_balance == ClassBalance::Oversample)
        .then(|| x_all.take(&train_rows));
    let x_train = x_oversampled.as_ref().unwrap_or(&x_fit);
    let x_valid = x_all.take(&parts.validation);
    let x_test = x_all.take(&parts.test);
    drop(x_all);
    let pick = |rows: &[usize]| rows.iter().map(|&i| y[i]).collect::<Vec<u32>>();
    let (y_train, y_valid, y_test) = (
        pick(&train_rows),
        pick(&parts.validation),
        pick(&parts.test),
    );
    let class_weight = class_weights(&y_train, classes.len(), settings.training.class_balance);
    let w_train: Vec<f64> = y_train.iter().map(|&c| class_weight[c as usize]).collect();
    let w_valid: Vec<f64> = y_valid.iter().map(|&c| class_weight[c as usize]).collect();
    progress.end();

    let train_set = Dataset {
        x: x_train,
        y: &y_train,
        weights: &w_train,
        classes: classes.len(),
    };
    let valid_set = Dataset {
        x: &x_valid,
        y: &y_valid,
        weights: &w_valid,
        classes: classes.len(),
    };
    let grids = settings
        .training
        .candidates
        .iter()
        .map(|candidate| learn::grid(candidate.model, &candidate.search))
        .collect::<Result<Vec<_>, _>>()
        .map_err(TrainError::Search)?;
    let combos: Vec<ModelParams> = grids.into_iter().flatten().collect();
    progress.begin("fitting candidates", combos.len() as u64);
    let binary = classes.len() == 2;
    let threshold_for = |probabilities: &[f64]| {
        binary.then(|| {
            let truth: Vec<bool> = y_valid.iter().map(|&c| c == 1).collect();
            let scores: Vec<f64> = probabilities.chunks(2).map(|p| p[1]).collect();
            choose_threshold(
                &truth,
                &scores,
                settings.training.threshold,
                settings.training.cost_fp.unwrap_or(1.0),
                settings.training.cost_fn.unwrap_or(1.0),
            )
        })
    };
    let mut results = Vec::new();
    /// The best candidate so far, with what validation said of it.
    struct Best {
        index: usize,
        model: Model,
        score: f64,
        threshold: Option<evaluate::Threshold>,
        validation: evaluate::Evaluation,
    }
    let mut best: Option<Best> = None;
    for (i, params) in combos.iter().enumerate() {
        let started = Instant::now();
        let model =
            Model::fit(params, &train_set, &valid_set).map_err(|source| TrainError::Learn {
                candidate: describe(params),
                source,
            })?;
        let probabilities = model.probabilities(&x_valid);
        let threshold = threshold_for(&probabilities);
        let validation = evaluate::evaluate(
            &probabilities,
            &y_valid,
            &classes,
            threshold.map(|t| t.value),
        );
        let score = validation.get(settings.primary).unwrap_or(f64::NAN);
        let better = best.as_ref().is_none_or(|b| {
            b.score.is_nan()
                || if higher_is_better(settings.primary) {
                    score > b.score
                } else {
                    score < b.score
                }
        });
        results.push(CandidateResult {
            params: params.clone(),
            description: describe(params),
            validation_score: score,
            fit_seconds: started.elapsed().as_secs_f64(),
            rounds: match &model {
                Model::GradientBoosting(m) => Some(m.rounds()),
                Model::LogisticRegression(_) => None,
            },
        });
        progress.advance(&format!("{} → {:.4}", describe(params), score));
        if better {
            best = Some(Best {
                index: i,
                model,
                score,
                threshold,
                validation,
            });
        }
    }
    progress.end();
    let Some(Best {
        index: best_index,
        model,
        threshold,
        validation,
        ..
    }) = best
    else {
        return Err(TrainError::Search("no candidate to fit".into()));
    };

    progress.begin("evaluating on the test part", 0);
    let threshold_value = threshold.map(|t| t.value);
    let test_probabilities = model.probabilities(&x_test);
    let test = evaluate::evaluate(&test_probabilities, &y_test, &classes, threshold_value);
    let mut slices = BTreeMap::new();
    for (column, values) in &test_slices {
        slices.insert(
            column.clone(),
            evaluate::by_slice(
                &test_probabilities,
                &y_test,
                &classes,
                threshold_value,
                values,
            ),
        );
    }
    let roc = binary
        .then(|| {
            let truth: Vec<bool> = y_test.iter().map(|&c| c == 1).collect();
            let scores: Vec<f64> = test_probabilities.chunks(2).map(|p| p[1]).collect();
            evaluate::roc_curve(&truth, &scores)
        })
        .flatten();
    let train_probabilities = model.probabilities(&x_fit);
    let predicted: Vec<usize> = train_probabilities
        .chunks(classes.len())
        .map(|p| crate::learn::predicted_class(p, threshold_value))
        .collect();
    let reference = reference::profile(
        &pipeline,
        &train_frame,
        &train_probabilities,
        &predicted,
        &classes,
        settings.seed,
    )?;
    progress.end();

    let params = combos[best_index].clone();
    let time_range = |rows: &[usize]| times.as_ref().and_then(|t| split::time_range(t, rows));
    let lineage = Lineage {
        model: spec.dataset.name.to_string(),
        version: 0,
        fingerprint: String::new(),
        data_versions: Vec::new(),
        spec_sha256: String::new(),
        spec_version: spec.dataset.version,
        code_version: CODE_VERSION.to_owned(),
        seed: settings.seed,
        learner: params.learner().to_owned(),
        params: params.clone(),
        rows: RowCounts {
            loaded: loaded_rows,
            without_target: loaded_rows - labelled.len(),
            train: parts.train.len(),
            train_after_balancing: train_rows.len(),
            validation: parts.validation.len(),
            test: parts.test.len(),
        },
        time_ranges: times.as_ref().map(|_| {
            BTreeMap::from([
                ("train".to_owned(), time_range(&parts.train)),
                ("validation".to_owned(), time_range(&parts.validation)),
                ("test".to_owned(), time_range(&parts.test)),
            ])
        }),
        split: settings.split.clone(),
        trained_at: String::new(),
        training_seconds: 0.0,
    };
    let metrics = MetricsReport {
        primary_metric: settings.primary,
        threshold,
        test,
        validation,
        slices,
        candidates: results,
        chosen: best_index,
    };
    let artifact = ModelArtifact {
        model: spec.dataset.name.to_string(),
        version: 0,
        dataset: spec.dataset.name.to_string(),
        target: settings.target.name.clone(),
        task: settings.kind,
        classes: classes.clone(),
        threshold: threshold_value,
        inputs: input_fields(spec, &pipeline),
        pipeline,
        learner: model,
        params,
        fingerprint: String::new(),
        code_version: CODE_VERSION.to_owned(),
        trained_at: String::new(),
    };
    Ok(Fitted {
        artifact,
        metrics,
        lineage,
        reference,
        roc,
    })
}

/// "Balanced" weights as scikit-learn computes them: rows / (classes × rows of the class).
fn class_weights(y: &[u32], classes: usize, balance: ClassBalance) -> Vec<f64> {
    if balance != ClassBalance::Weights {
        return vec![1.0; classes];
    }
    let mut counts = vec![0usize; classes];
    for &c in y {
        counts[c as usize] += 1;
    }
    counts
        .iter()
        .map(|&n| y.len() as f64 / (classes as f64 * n.max(1) as f64))
        .collect()
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
        })
        .collect()
}

fn describe(params: &ModelParams) -> String {
    match params {
        ModelParams::LogisticRegression(p) => format!("logistic_regression(c={})", p.c),
        ModelParams::GradientBoosting(p) => format!(
            "gradient_boosting(rounds={}, learning_rate={}, num_leaves={}, max_depth={}, min_leaf_rows={}, l2={})",
            p.rounds,
            p.learning_rate,
            p.num_leaves,
            p.max_depth.map_or("none".to_owned(), |d| d.to_string()),
            p.min_leaf_rows,
            p.l2
        ),
    }
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
