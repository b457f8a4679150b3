//! One drift check from start to finish: the model version and its reference profile, the current
//! data, the comparison, the reports, and a `DriftDetected` event when the data set drifted.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::json;

use super::compare::{compare, Thresholds};
use super::current::{self, Current};
use super::error::DriftError;
use super::profile::{Profile, ProfileBuilder};
use super::report::{self, CurrentInfo, DriftReport, ReferenceInfo};
use crate::ingest::catalog;
use crate::names::{DatasetName, ModelName, ObjectKey};
use crate::ports::Backends;
use crate::ports::{DomainEvent, EventPublisher, ObjectStore, RegistryStore, StoreError};
use crate::predict::compaction;
use crate::predict::{cache, Selector};
use crate::spec::stored;
use crate::spec::DriftSection;

/// The event announcing data set drift, for retraining and alerts.
pub const DRIFT_DETECTED: &str = "DriftDetected";

#[derive(Debug, Clone, PartialEq)]
pub struct DriftRequest {
    pub model: ModelName,
    /// The version whose features (and reference profile) are used; `None`: the champion.
    pub version: Option<u64>,
    /// What the current data is compared with: the version's training data, or a baseline file.
    pub reference: Reference,
    pub current: Current,
    /// What started the check (`schedule`, `cli`, …), for the report.
    pub trigger: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reference {
    /// The profile of the version's training data, stored when it was trained.
    Training,
    /// A file of the dataset's columns, profiled (and scored by the model) now.
    File { name: String, path: PathBuf },
}

#[derive(Debug, Clone, PartialEq)]
pub struct DriftOutcome {
    pub report: DriftReport,
    pub json_key: ObjectKey,
    pub html_key: ObjectKey,
    /// Whether a `DriftDetected` event was published.
    pub announced: bool,
}

pub struct DriftJob {
    store: Arc<dyn ObjectStore>,
    registry: Arc<dyn RegistryStore>,
    events: Arc<dyn EventPublisher>,
}

impl DriftJob {
    pub fn new(backends: &Backends) -> Self {
        Self {
            store: backends.store.clone(),
            registry: backends.registry.clone(),
            events: backends.events.clone(),
        }
    }

    pub async fn run(
        &self,
        request: &DriftRequest,
        now: DateTime<Utc>,
    ) -> Result<DriftOutcome, DriftError> {
        let selector = request
            .version
            .map_or_else(Selector::champion, Selector::Version);
        let version = cache::resolve(self.registry.as_ref(), &request.model, &selector).await?;
        let (record, artifact) = cache::load(
            self.store.as_ref(),
            self.registry.as_ref(),
            &request.model,
            version,
        )
        .await?;
        let dataset = artifact.dataset.clone();
        let (_, loaded_spec) = stored::load(self.store.as_ref(), &dataset).await?;
        let spec = &loaded_spec.spec;
        let settings = spec.drift.clone().unwrap_or_else(DriftSection::default);
        let thresholds = Thresholds::from(&settings);
        let columns = artifact
            .inputs
            .iter()
            .map(|input| {
                spec.columns
                    .iter()
                    .find(|c| c.name == input.name)
                    .ok_or_else(|| DriftError::MissingColumn {
                        dataset: dataset.clone(),
                        column: input.name.clone(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let profiled = || ProfileBuilder::new(&artifact.pipeline, version);
        let (reference, reference_source) = match &request.reference {
            Reference::Training => (
                self.reference(&request.model, version, &record.reference_key)
                    .await?,
                format!("the training data of version {version}"),
            ),
            Reference::File { name, path } => {
                let mut builder = profiled();
                current::file(name, path, spec, &columns, &artifact, &mut builder)?;
                (builder.finish(), format!("file {name}"))
            }
        };
        let (source, read, suffix, current) = match &request.current {
            Current::Window { hours, until } => {
                // Housekeeping first, so the window is read from fewer objects; a failure is
                // logged and left for the next run.
                let model = &request.model;
                let today = until.date_naive();
                match compaction::compact_settled_days(self.store.as_ref(), model, today).await {
                    Ok(days) => {
                        for d in days {
                            tracing::info!(%model, day = %d.day, objects = d.objects, records = d.records, "inference records compacted");
                        }
                    }
                    Err(e) => tracing::warn!(%model, error = %e, "inference records not compacted"),
                }
                let hours = hours.unwrap_or(settings.window_hours);
                let (profile, read) = current::inference_window(
                    self.store.as_ref(),
                    &request.model,
                    &artifact,
                    version,
                    hours,
                    *until,
                )
                .await?;
                ("inference", read, String::new(), profile)
            }
            Current::DataVersion(wanted) => {
                let data = self.data_version(&dataset, wanted).await?;
                let mut builder = profiled();
                current::curated(
                    self.store.as_ref(),
                    &data.data_key,
                    &columns,
                    &artifact,
                    &mut builder,
                )
                .await?;
                let read = current::Read {
                    description: format!("data version {} of {dataset}", data.version),
                    unreadable_records: 0,
                };
                let short: String = data.version.chars().take(12).collect();
                (
                    "data_version",
                    read,
                    format!("-data-{short}"),
                    builder.finish(),
                )
            }
            Current::File { name, path } => {
                let mut builder = profiled();
                current::file(name, path, spec, &columns, &artifact, &mut builder)?;
                let read = current::Read {
                    description: format!("file {name}"),
                    unreadable_records: 0,
                };
                let suffix = format!("-file-{}", key_safe(name));
                ("file", read, suffix, builder.finish())
            }
        };
        let comparison = compare(&reference, &current, &thresholds);
        let report = DriftReport {
            model: request.model.clone(),
            dataset: dataset.clone(),
            generated_at: now.trunc_subsecs(0),
            trigger: request.trigger.clone(),
            verdict: report::verdict(comparison.dataset_drift).to_owned(),
            reference: ReferenceInfo {
                version,
                description: reference_source,
                rows: reference.rows,
                trained_at: record.trained_at,
            },
            current: CurrentInfo {
                source: source.to_owned(),
                description: read.description,
                rows: current.rows,
                unreadable_records: read.unreadable_records,
            },
            thresholds,
            comparison,
        };

        let base = format!(
            "reports/drift/{}/{}{suffix}",
            request.model,
            now.format("%Y-%m-%d")
        );
        let key = |ext: &str| {
            ObjectKey::parse(&format!("{base}.{ext}")).map_err(|e| DriftError::Unreadable {
                what: base.clone(),
                problem: e.to_string(),
            })
        };
        let (json_key, html_key) = (key("json")?, key("html")?);
        let html = report::render_html(&report).map_err(|e| DriftError::Render(e.to_string()))?;
        let json =
            serde_json::to_vec_pretty(&report).map_err(|e| DriftError::Render(e.to_string()))?;
        self.store.put(&json_key, json).await?;
        self.store.put(&html_key, html.into_bytes()).await?;

        let announced = report.comparison.dataset_drift == Some(true);
        if announced {
            self.events
                .publish(&drift_detected(
                    &report,
                    &json_key,
                    &html_key,
                    settings.retrain,
                ))
                .await?;
        }
        Ok(DriftOutcome {
            report,
            json_key,
            html_key,
            announced,
        })
    }

    async fn reference(
        &self,
        model: &ModelName,
        version: u64,
        key: &ObjectKey,
    ) -> Result<Profile, DriftError> {
        let unusable = |problem: String| DriftError::Reference {
            model: model.clone(),
            version,
            problem,
        };
        let bytes = match self.store.get(key).await {
            Ok(object) => object.bytes,
            Err(StoreError::NotFound(_)) => return Err(unusable(format!("{key} is missing"))),
            Err(e) => return Err(e.into()),
        };
        serde_json::from_slice(&bytes).map_err(|e| {
            unusable(format!(
                "{key} is not a profile this code reads ({e}); retrain to write a new one"
            ))
        })
    }

    /// The curated version with this id, or the only one starting with it.
    async fn data_version(
        &self,
        dataset: &DatasetName,
        wanted: &str,
    ) -> Result<catalog::DataVersionRecord, DriftError> {
        let versions = catalog::versions(self.registry.as_ref(), dataset).await?;
        let mut matching: Vec<_> = versions
            .into_iter()
            .filter(|v| v.version.starts_with(wanted) && !wanted.is_empty())
            .collect();
        if let Some(exact) = matching.iter().position(|v| v.version == wanted) {
            return Ok(matching.swap_remove(exact));
        }
        match matching.len() {
            1 => Ok(matching.remove(0)),
            0 => Err(DriftError::UnknownDataVersion {
                dataset: dataset.clone(),
                version: wanted.to_owned(),
                hint: "list them with `mlops versions` (or the data versions in the registry)"
                    .into(),
            }),
            n => Err(DriftError::UnknownDataVersion {
                dataset: dataset.clone(),
                version: wanted.to_owned(),
                hint: format!("{n} versions start with it; give more characters"),
            }),
        }
    }
}

fn drift_detected(
    report: &DriftReport,
    json_key: &ObjectKey,
    html_key: &ObjectKey,
    retrain: bool,
) -> DomainEvent {
    let drifted: Vec<&str> = report
        .comparison
        .features
        .iter()
        .filter(|f| f.drifted)
        .map(|f| f.name.as_str())
        .collect();
    DomainEvent {
        detail_type: DRIFT_DETECTED.to_owned(),
        detail: json!({
            "model": report.model,
            "dataset": report.dataset,
            "version": report.reference.version,
            "source": report.current.source,
            "rows": report.current.rows,
            "share_drifted": report.comparison.share_drifted,
            "drifted_features": drifted,
            "report_key": json_key,
            "html_key": html_key,
            "retrain": retrain,
        }),
    }
}

/// A file name as one safe key segment.
fn key_safe(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let safe: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if safe.trim_matches('.').is_empty() {
        "upload".into()
    } else {
        safe
    }
}
