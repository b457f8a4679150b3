//! The monitor job: the predictions of a window joined with the outcomes known by now, and each
//! version's live metrics beside what its test part promised. The report is written to
//! `reports/monitor/<model>/`, and a version found degraded is announced (`PerformanceDegraded`).

pub use mlops_core::monitor::*;

mod inputs;
pub mod window;

pub use window::{parse_window, WindowView};

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};
use std::io::Cursor;

use chrono::{DateTime, Utc};
use polars::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::artifact::ModelArtifact;
use crate::evaluate::{by_slice, evaluate, Evaluation};
use crate::ingest::catalog;
use crate::model_registry::{self, LoadError};
use crate::names::{ModelName, ObjectKey, SHADOW};
use crate::ports::{
    Backends, DomainEvent, EventError, EventPublisher, ObjectStore, RegistryError, RegistryStore,
    StoreError,
};
use crate::predict::inference::{self, InferenceRecord};
use crate::promotion::policy::Policy;
use crate::spec::outcomes::OBSERVED_AT;
use crate::spec::stored::{self, StoredSpecError};
use crate::spec::DatasetSpec;
use crate::train::outputs::MetricsReport;
use crate::training_data::{Lineage, TargetShaping};
use inputs::Inputs;

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("model {0} is not in the registry")]
    UnknownModel(ModelName),
    #[error("{model} version {version} cannot be read: {problem}")]
    Version {
        model: ModelName,
        version: u64,
        problem: String,
    },
    #[error("the outcomes at {what} cannot be read: {problem}")]
    Outcomes { what: String, problem: String },
    #[error("the report cannot be written: {0}")]
    Report(String),
    #[error(transparent)]
    Spec(#[from] StoredSpecError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Events(#[from] EventError),
}

impl MonitorError {
    /// Whether running the same check again could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            MonitorError::Store(e) => e.is_retryable(),
            MonitorError::Registry(e) => e.is_retryable(),
            MonitorError::Events(e) => e.is_retryable(),
            MonitorError::Spec(StoredSpecError::Store(e)) => e.is_retryable(),
            _ => false,
        }
    }
}

/// The event a degraded version is announced with.
pub const PERFORMANCE_DEGRADED: &str = "PerformanceDegraded";

/// What a run did: the report, where it was written, and the versions announced as degraded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorOutcome {
    pub report: LiveReport,
    pub json_key: ObjectKey,
    pub html_key: ObjectKey,
    pub degraded: Vec<u64>,
}

impl MonitorOutcome {
    /// The `PerformanceDegraded` events the run published, one per degraded version.
    pub fn degradations(&self) -> Vec<DomainEvent> {
        self.report
            .versions
            .iter()
            .filter(|v| self.degraded.contains(&v.version))
            .map(|v| performance_degraded(&self.report, v, &self.json_key))
            .collect()
    }
}

const TEMPLATE: &str = include_str!("../../templates/monitor.html");

#[derive(Serialize)]
struct Page<'a> {
    report: &'a LiveReport,
}

/// The report as one self-contained HTML page.
pub fn render_html(report: &LiveReport) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.add_template("monitor.html", TEMPLATE)?;
    env.get_template("monitor.html")?
        .render(minijinja::value::Serde(&Page { report }))
}

/// What was predicted in a window, what came of it, and how each version did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveReport {
    pub model: ModelName,
    /// The version serving as champion when the job ran.
    pub champion: Option<u64>,
    /// Predictions made from `from` until `until`, with the outcomes known when the job ran.
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub counts: JoinCounts,
    /// Inference-record lines that could not be read.
    pub unreadable_records: u64,
    pub versions: Vec<LiveVersion>,
    /// Each version that scored as the shadow, beside the champion on the same labelled
    /// predictions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shadows: Vec<ShadowComparison>,
}

/// The champion and the shadow judged on the very same labelled predictions (those the shadow
/// scored): the evidence a `require_live_evidence` policy asks for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowComparison {
    pub champion: u64,
    pub shadow: u64,
    /// The shadow's verdict on the shared rows (its live value, interval and labelled rows).
    pub judgement: Judgement,
    /// The champion's primary metric on the same rows.
    pub champion_live: Option<f64>,
}

/// One version's live quality: its metrics on the labelled predictions, its test metrics, and
/// the verdict on its primary metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveVersion {
    pub version: u64,
    pub predictions: u64,
    /// None until a prediction of it has an outcome.
    pub live: Option<Evaluation>,
    /// What the version scored on its test part when it was trained.
    pub test: BTreeMap<String, f64>,
    pub judgement: Judgement,
    /// Binary models: the positive rate, score histogram and calibration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<ScoreShape>,
    /// The live metrics per value of each of the policy's slice columns, on the labelled rows.
    pub slices: BTreeMap<String, BTreeMap<String, Evaluation>>,
    /// Binary models whose spec prices mistakes (`training.cost_fp`, `cost_fn`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<RealisedCost>,
}

/// The mean cost per prediction the labelled rows realised, beside what the test part promised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RealisedCost {
    pub live_per_row: f64,
    pub test_per_row: Option<f64>,
    /// Live minus test: positive when mistakes cost more than promised.
    pub difference: Option<f64>,
}

pub struct MonitorJob<'a> {
    store: &'a dyn ObjectStore,
    registry: &'a dyn RegistryStore,
    events: &'a dyn EventPublisher,
}

/// A version that predicted in the window: its classes and threshold, and its predictions'
/// probabilities, row-major.
struct Scored {
    artifact: ModelArtifact,
    /// How its training made classes of the target's values (rare classes merged into another).
    target: TargetShaping,
    test: BTreeMap<String, f64>,
    /// The test part's confusion matrix, from the version's metrics file.
    test_confusion: Vec<Vec<u64>>,
    probabilities: Vec<f64>,
}

impl<'a> MonitorJob<'a> {
    pub fn new(backends: &'a Backends) -> Self {
        MonitorJob {
            store: backends.store.as_ref(),
            registry: backends.registry.as_ref(),
            events: backends.events.as_ref(),
        }
    }

    /// Judges the window, writes the report and announces each degraded version.
    pub async fn run(
        &self,
        model: &ModelName,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<MonitorOutcome, MonitorError> {
        let report = self.report(model, from, until).await?;
        self.publish(report).await
    }

    /// [`MonitorJob::run`] and [`MonitorJob::window`] from one read of the window.
    pub async fn run_with_view(
        &self,
        model: &ModelName,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<(MonitorOutcome, WindowView), MonitorError> {
        let (report, records, versions, inputs) = self.read_and_judge(model, from, until).await?;
        let view = window::view(&report, &records, &versions, &inputs);
        Ok((self.publish(report).await?, view))
    }

    /// Writes the report and announces each degraded version.
    async fn publish(&self, report: LiveReport) -> Result<MonitorOutcome, MonitorError> {
        let (model, until) = (&report.model, report.until);
        let (json_key, html_key) = (
            report_key(model, until, "json"),
            report_key(model, until, "html"),
        );
        let failed = |e: &dyn std::fmt::Display| MonitorError::Report(e.to_string());
        let json = serde_json::to_vec_pretty(&report).map_err(|e| failed(&e))?;
        let html = render_html(&report).map_err(|e| failed(&e))?;
        self.store.put(&json_key, json).await?;
        self.store.put(&html_key, html.into_bytes()).await?;
        let mut degraded = Vec::new();
        for version in &report.versions {
            if version.judgement.verdict == Verdict::Degraded {
                self.events
                    .publish(&performance_degraded(&report, version, &json_key))
                    .await?;
                degraded.push(version.version);
            }
        }
        Ok(MonitorOutcome {
            report,
            json_key,
            html_key,
            degraded,
        })
    }

    /// The live report of the window, without writing or announcing anything.
    pub async fn report(
        &self,
        model: &ModelName,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<LiveReport, MonitorError> {
        Ok(self.read_and_judge(model, from, until).await?.0)
    }

    /// The operators' view of the window: what was asked and answered, and each version's live
    /// quality; nothing is written or announced.
    pub async fn window(
        &self,
        model: &ModelName,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<WindowView, MonitorError> {
        let (report, records, versions, inputs) = self.read_and_judge(model, from, until).await?;
        Ok(window::view(&report, &records, &versions, &inputs))
    }

    /// The window's records, the versions that answered them, and the live report.
    async fn read_and_judge(
        &self,
        model: &ModelName,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<
        (
            LiveReport,
            Vec<InferenceRecord>,
            BTreeMap<u64, Scored>,
            Inputs,
        ),
        MonitorError,
    > {
        let state = model_registry::get_model(self.registry, model)
            .await?
            .ok_or_else(|| MonitorError::UnknownModel(model.clone()))?;
        // Each record's inputs move to a column store, and its warnings are only counted: what
        // is left of a record is its prediction.
        let mut records = Vec::new();
        let mut inputs = Inputs::default();
        let unreadable = inference::read_window(self.store, model, from, until, |_, batch| {
            for mut record in batch {
                inputs.push(&mut record.features);
                record.output.warnings.truncate(1);
                records.push(record);
            }
            Ok::<(), MonitorError>(())
        })
        .await?;
        let mut versions: BTreeMap<u64, Scored> = BTreeMap::new();
        let mut predicted = Vec::with_capacity(records.len());
        for record in &records {
            let scored = match versions.entry(record.version) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(new) => new.insert(self.version(model, record.version).await?),
            };
            let classes = &scored.artifact.classes;
            scored.probabilities.extend(probabilities(record, classes));
            predicted.push(Predicted {
                id: &record.output.prediction_id,
                version: record.version,
                at: record.at.timestamp_millis(),
            });
        }

        let (_, spec) = stored::load(self.store, &state.dataset).await?;
        let rules = rules(&spec.spec);
        let slices = Policy::of(&spec.spec).slices;
        let costs = spec
            .spec
            .training
            .as_ref()
            .and_then(|t| Some((t.cost_fp?, t.cost_fn?)));
        let outcomes = self.outcomes(&state.dataset, &spec.spec).await?;
        let observed: Vec<Observed> = outcomes
            .iter()
            .map(|(id, label, at)| Observed {
                id,
                label,
                observed_at: *at,
            })
            .collect();
        // An outcome of a rare class the version learned as another is judged as that class.
        let (labelled, counts) = join(&predicted, &observed, |version, label| {
            let scored = versions.get(&version)?;
            let class = scored.target.learned_as(label);
            let classes = &scored.artifact.classes;
            classes.iter().position(|c| c == class).map(|i| i as u32)
        });

        let shadows = shadow_versions(&records)
            .into_iter()
            .filter_map(|shadow| {
                let champion = state.champion()?;
                shadow_comparison(&records, &versions, &labelled, &rules, champion, shadow)
            })
            .collect();
        let report = LiveReport {
            model: model.clone(),
            champion: state.champion(),
            from,
            until,
            counts,
            unreadable_records: unreadable,
            shadows,
            versions: live_by_version(
                &records,
                &inputs,
                &versions,
                &labelled,
                &Judging {
                    rules: &rules,
                    slices: &slices,
                    costs,
                    tolerance: spec
                        .spec
                        .monitoring
                        .clone()
                        .unwrap_or_default()
                        .positive_rate_tolerance,
                },
            ),
        };
        Ok((report, records, versions, inputs))
    }

    /// One of a version's JSON files; unreadable, it is `failed`'s problem.
    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        key: &ObjectKey,
        failed: impl Fn(String) -> MonitorError,
    ) -> Result<T, MonitorError> {
        let bytes = self.store.get(key).await?.bytes;
        serde_json::from_slice(&bytes).map_err(|e| failed(e.to_string()))
    }

    async fn version(&self, model: &ModelName, version: u64) -> Result<Scored, MonitorError> {
        let failed = |problem: String| MonitorError::Version {
            model: model.clone(),
            version,
            problem,
        };
        let record = model_registry::get_version(self.registry, model, version)
            .await?
            .ok_or_else(|| failed("it is not in the registry".into()))?;
        let artifact = match model_registry::load_verified(self.store, &record).await {
            Ok(artifact) => artifact,
            Err(LoadError::Store(e)) => return Err(e.into()),
            Err(e) => return Err(failed(e.to_string())),
        };
        let metrics: MetricsReport = self.json(&record.metrics_key, &failed).await?;
        let lineage: Lineage = self.json(&record.lineage_key, &failed).await?;
        Ok(Scored {
            artifact,
            target: lineage.target,
            test: record.metrics,
            test_confusion: metrics.test.confusion_matrix,
            probabilities: Vec::new(),
        })
    }

    /// Every outcome of the dataset: (prediction id, label, observed at in milliseconds).
    async fn outcomes(
        &self,
        dataset: &crate::names::DatasetName,
        spec: &crate::spec::DatasetSpec,
    ) -> Result<Vec<(String, String, i64)>, MonitorError> {
        let Some(target_section) = &spec.target else {
            return Ok(Vec::new());
        };
        let (key_column, target) = (spec.outcome_key(), target_section.column.as_str());
        // Outcomes arrive as the data spells them: the spec's map makes them classes.
        let class_of = |label: String| {
            crate::spec::mapped_class(&target_section.map, &label).map(str::to_owned)
        };
        let mut out = Vec::new();
        for version in catalog::outcome_versions(self.registry, dataset).await? {
            let bytes = self.store.get(&version.data_key).await?.bytes;
            let unreadable = |e: PolarsError| MonitorError::Outcomes {
                what: version.data_key.to_string(),
                problem: e.to_string(),
            };
            let frame = ParquetReader::new(Cursor::new(bytes))
                .finish()
                .map_err(unreadable)?;
            let text = |name: &str| -> Result<Vec<Option<String>>, PolarsError> {
                let column = frame.column(name)?.cast(&DataType::String)?;
                Ok(column.str()?.iter().map(|v| v.map(str::to_owned)).collect())
            };
            let ids = text(key_column).map_err(unreadable)?;
            let labels = text(target).map_err(unreadable)?;
            let times = frame
                .column(OBSERVED_AT)
                .and_then(|c| c.cast(&DataType::Datetime(TimeUnit::Milliseconds, None)))
                .and_then(|c| c.cast(&DataType::Int64))
                .map_err(unreadable)?;
            let times: Vec<Option<i64>> = times.i64().map_err(unreadable)?.iter().collect();
            // The outcome contract makes every column required: a row lacking one was dropped.
            for ((id, label), at) in ids.into_iter().zip(labels).zip(times) {
                if let (Some(id), Some(label), Some(at)) = (id, label.and_then(class_of), at) {
                    out.push((id, label, at));
                }
            }
        }
        Ok(out)
    }
}

/// Where a run's report goes: one per model and time the window ends (to the millisecond, so that
/// runs in one second keep their own reports).
fn report_key(model: &ModelName, until: DateTime<Utc>, extension: &str) -> ObjectKey {
    let key = format!(
        "reports/monitor/{model}/{}.{extension}",
        until.format("%Y-%m-%dT%H%M%S%.3fZ")
    );
    // A checked model name and a formatted time always make a valid key.
    ObjectKey::parse(&key).unwrap_or_else(|e| unreachable!("{key}: {e}"))
}

fn performance_degraded(
    report: &LiveReport,
    version: &LiveVersion,
    json_key: &ObjectKey,
) -> DomainEvent {
    let judged = &version.judgement;
    DomainEvent {
        detail_type: PERFORMANCE_DEGRADED.to_owned(),
        detail: json!({
            "model": report.model,
            "version": version.version,
            "champion": report.champion == Some(version.version),
            "metric": judged.metric,
            "live": judged.live,
            "test": judged.test,
            "interval": judged.interval,
            "labelled": judged.labelled,
            "reasons": judged.reasons,
            "from": report.from,
            "until": report.until,
            "report_key": json_key,
        }),
    }
}

fn is_shadow(record: &InferenceRecord) -> bool {
    record.alias.as_deref() == Some(SHADOW)
}

/// The versions that scored as the shadow in the window.
fn shadow_versions(records: &[InferenceRecord]) -> Vec<u64> {
    let mut out: Vec<u64> = records
        .iter()
        .filter(|r| is_shadow(r))
        .map(|r| r.version)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The shadow's and the champion's primary metric on the labelled predictions both made (the
/// shadow's records carry the alias and the champion's prediction ids).
fn shadow_comparison(
    records: &[InferenceRecord],
    versions: &BTreeMap<u64, Scored>,
    labelled: &[Labelled],
    rules: &Rules,
    champion: u64,
    shadow: u64,
) -> Option<ShadowComparison> {
    let (ours, theirs) = (versions.get(&shadow)?, versions.get(&champion)?);
    // Each labelled champion prediction's row, by id.
    let mut champion_rows: HashMap<&str, (usize, u32)> = HashMap::new();
    for l in labelled {
        let record = &records[l.prediction];
        if record.version == champion && !is_shadow(record) {
            champion_rows.insert(&record.output.prediction_id, (l.prediction, l.class));
        }
    }
    let (mut p_shadow, mut y) = (Vec::new(), Vec::new());
    let (mut p_champion, mut y_champion) = (Vec::new(), Vec::new());
    for l in labelled {
        let record = &records[l.prediction];
        if record.version != shadow || !is_shadow(record) {
            continue;
        }
        if let Some(&(row, class)) = champion_rows.get(record.output.prediction_id.as_str()) {
            p_shadow.extend(probabilities(record, &ours.artifact.classes));
            y.push(l.class);
            p_champion.extend(probabilities(&records[row], &theirs.artifact.classes));
            y_champion.push(class);
        }
    }
    let rows = verdict::Labelled {
        probabilities: &p_shadow,
        y: &y,
        classes: &ours.artifact.classes,
        threshold: ours.artifact.threshold,
    };
    let judgement = judge(
        rules,
        ours.test.get(rules.metric.as_str()).copied(),
        verdict::live_metric(rules.metric, &rows),
        &rows,
        shadow,
    );
    let champion_live = (!y.is_empty())
        .then(|| {
            evaluate(
                &p_champion,
                &y_champion,
                &theirs.artifact.classes,
                theirs.artifact.threshold,
            )
            .get(rules.metric)
        })
        .flatten();
    Some(ShadowComparison {
        champion,
        shadow,
        judgement,
        champion_live,
    })
}

/// A record's class probabilities in its version's class order.
fn probabilities<'r>(
    record: &'r InferenceRecord,
    classes: &'r [String],
) -> impl Iterator<Item = f64> + 'r {
    let output = &record.output;
    classes.iter().enumerate().map(
        move |(i, class)| match (&output.probabilities, output.score) {
            (Some(all), _) => all.get(class).copied().unwrap_or(0.0),
            (None, Some(score)) if i == 1 => score,
            (None, Some(score)) => 1.0 - score,
            (None, None) => 0.0,
        },
    )
}

/// What a live verdict is judged by: the promotion policy's primary metric and floor, and the
/// spec's `[monitoring]` section (or its defaults).
fn rules(spec: &DatasetSpec) -> Rules {
    let policy = Policy::of(spec);
    let monitoring = spec.monitoring.clone().unwrap_or_default();
    Rules {
        metric: policy.primary,
        min_primary: policy.min_primary,
        max_live_regression: monitoring.max_live_regression,
        min_labelled_rows: monitoring.min_labelled_rows,
    }
}

/// What the spec says live quality is judged by, beside the verdict's rules.
struct Judging<'a> {
    rules: &'a Rules,
    /// The policy's slice columns.
    slices: &'a [String],
    /// The prices of a false positive and a false negative, where the spec sets them.
    costs: Option<(f64, f64)>,
    /// `[monitoring] positive_rate_tolerance`.
    tolerance: f64,
}

fn live_by_version(
    records: &[InferenceRecord],
    inputs: &Inputs,
    versions: &BTreeMap<u64, Scored>,
    labelled: &[Labelled],
    judging: &Judging,
) -> Vec<LiveVersion> {
    let Judging {
        rules,
        slices,
        costs,
        tolerance,
    } = *judging;
    // Each record's row among its version's predictions.
    let mut row_of = Vec::with_capacity(records.len());
    let mut rows: BTreeMap<u64, usize> = BTreeMap::new();
    for record in records {
        let row = rows.entry(record.version).or_default();
        row_of.push(*row);
        *row += 1;
    }
    versions
        .iter()
        .map(|(&version, scored)| {
            let k = scored.artifact.classes.len();
            let mut p = Vec::new();
            let mut y = Vec::new();
            let mut slice_values: Vec<Vec<String>> = vec![Vec::new(); slices.len()];
            for l in labelled
                .iter()
                .filter(|l| records[l.prediction].version == version)
            {
                let row = row_of[l.prediction];
                p.extend_from_slice(&scored.probabilities[row * k..(row + 1) * k]);
                y.push(l.class);
                for (values, column) in slice_values.iter_mut().zip(slices) {
                    values.push(inputs.slice_value(column, l.prediction));
                }
            }
            let artifact = &scored.artifact;
            let slices = slices
                .iter()
                .zip(&slice_values)
                .map(|(column, values)| {
                    let by_value = by_slice(&p, &y, &artifact.classes, artifact.threshold, values);
                    (column.clone(), by_value)
                })
                .collect();
            let live =
                (!y.is_empty()).then(|| evaluate(&p, &y, &artifact.classes, artifact.threshold));
            let judgement = judge(
                rules,
                scored.test.get(rules.metric.as_str()).copied(),
                live.as_ref().and_then(|l| l.get(rules.metric)),
                &verdict::Labelled {
                    probabilities: &p,
                    y: &y,
                    classes: &artifact.classes,
                    threshold: artifact.threshold,
                },
                version,
            );
            // A binary model's positive score is its second class's probability.
            let scores = (k == 2).then(|| {
                let positive: Vec<f64> = scored.probabilities.chunks(2).map(|p| p[1]).collect();
                let labelled: Vec<(f64, bool)> =
                    p.chunks(2).zip(&y).map(|(p, &c)| (p[1], c == 1)).collect();
                let mut shape = shape(&positive, artifact.threshold.unwrap_or(0.5), &labelled);
                shape.band = positive_rate_band(
                    &scored.test_confusion,
                    shape.positive_rate,
                    positive.len() as u64,
                    tolerance,
                );
                shape
            });
            let cost = match (costs, &live) {
                (Some((fp, fn_)), Some(live)) if k == 2 => {
                    cost_per_row(&live.confusion_matrix, fp, fn_).map(|live_per_row| {
                        let test_per_row = cost_per_row(&scored.test_confusion, fp, fn_);
                        RealisedCost {
                            live_per_row,
                            test_per_row,
                            difference: test_per_row.map(|test| live_per_row - test),
                        }
                    })
                }
                _ => None,
            };
            LiveVersion {
                version,
                predictions: rows.get(&version).copied().unwrap_or_default() as u64,
                live,
                test: scored.test.clone(),
                judgement,
                scores,
                slices,
                cost,
            }
        })
        .collect()
}
