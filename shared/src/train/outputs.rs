//! What training writes under `models/<model>/<version>/`: the artifact first, then its checksum, metrics,
//! lineage, reference profile, golden rows and model card. The registry entry comes only after all of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::golden::GoldenRows;
use super::{model_prefix, object_key, TrainError};
use crate::artifact::ModelArtifact;
use crate::evaluate::{Evaluation, Threshold};
use crate::learn::ModelParams;
use crate::model_registry;
use crate::names::{ModelName, ObjectKey};
use crate::ports::{ObjectStore, RegistryError, RegistryStore};
use crate::spec::Metric;
use crate::training_data::Lineage;

use crate::drift::Profile;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsReport {
    pub primary_metric: Metric,
    pub threshold: Option<Threshold>,
    pub test: Evaluation,
    pub validation: Evaluation,
    /// Test metrics per value of each slice column.
    pub slices: BTreeMap<String, BTreeMap<String, Evaluation>>,
    /// Every candidate tried, with its validation score.
    pub candidates: Vec<CandidateResult>,
    /// Index of the kept candidate.
    pub chosen: usize,
    /// Binary: the test part's scores in ten bins against the share of positives in each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calibration: Vec<crate::evaluate::CalibrationBin>,
    /// Per true class, its test rows' scores in 20 bins (the positive class's score for a
    /// binary model, the class's own probability otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub score_histograms: Vec<crate::evaluate::ClassScores>,
    /// Each input feature's mean absolute contribution to the margin on the test part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importance: Option<crate::predict::explain::GlobalImportance>,
}

impl MetricsReport {
    /// The headline test metrics, for the registry.
    pub fn summary(&self) -> BTreeMap<String, f64> {
        let t = &self.test;
        [
            ("roc_auc", t.roc_auc),
            ("pr_auc", t.pr_auc),
            ("log_loss", Some(t.log_loss)),
            ("accuracy", Some(t.accuracy)),
            ("precision", t.precision),
            ("recall", t.recall),
            ("f1", t.f1),
            ("f1_macro", Some(t.f1_macro)),
            ("threshold", self.threshold.map(|th| th.value)),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v)))
        .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateResult {
    pub description: String,
    pub params: ModelParams,
    /// The primary metric on the validation part.
    pub validation_score: f64,
    pub fit_seconds: f64,
    /// Boosting rounds kept after early stopping.
    pub rounds: Option<usize>,
}

pub struct Written {
    pub artifact: ObjectKey,
    /// `model.bin.sha256`, in `sha256sum` format, so a downloaded artifact can be checked.
    pub checksum: ObjectKey,
    pub artifact_sha256: String,
    pub artifact_bytes: u64,
    pub metrics: ObjectKey,
    pub lineage: ObjectKey,
    pub reference: ObjectKey,
    pub golden: ObjectKey,
    pub card: ObjectKey,
}

#[allow(clippy::too_many_arguments)]
pub async fn write(
    store: &dyn ObjectStore,
    model: &ModelName,
    version: u64,
    artifact: &ModelArtifact,
    metrics: &MetricsReport,
    lineage: &Lineage,
    reference: &Profile,
    golden: &GoldenRows,
    card: &str,
) -> Result<Written, TrainError> {
    let prefix = model_prefix(model, version);
    let key = |file: &str| object_key(&format!("{prefix}/{file}"));
    let bytes = artifact.encode()?;
    let written = Written {
        artifact: key("model.bin"),
        checksum: key("model.bin.sha256"),
        artifact_sha256: hex::encode(Sha256::digest(&bytes)),
        artifact_bytes: bytes.len() as u64,
        metrics: key("metrics.json"),
        lineage: key("lineage.json"),
        reference: key("reference.json"),
        golden: key("golden.json"),
        card: key("card.html"),
    };
    store.put(&written.artifact, bytes).await?;
    for (key, body) in [
        (
            &written.checksum,
            format!("{}  model.bin\n", written.artifact_sha256).into_bytes(),
        ),
        (&written.metrics, json(metrics)?),
        (&written.lineage, json(lineage)?),
        (&written.reference, json(reference)?),
        (&written.golden, json(golden)?),
        (&written.card, card.as_bytes().to_vec()),
    ] {
        store.put(key, body).await?;
    }
    Ok(written)
}

/// Removes the files of a version that will not be registered. Best effort: a file left behind
/// is unreferenced, never pointed at.
/// Removes what a run that will not register `version` wrote under `models/<model>/<version>/`.
pub async fn remove(store: &dyn ObjectStore, model: &ModelName, version: u64) {
    let prefix = format!("{}/", model_prefix(model, version));
    let written = match store.list(&prefix).await {
        Ok(written) => written,
        Err(e) => {
            tracing::warn!(%prefix, error = %e, "could not list an unregistered run's files");
            return;
        }
    };
    for object in written {
        if let Err(e) = store.delete(&object.key).await {
            tracing::warn!(key = %object.key, error = %e, "could not remove an unregistered model file");
        }
    }
}

/// A run still unregistered this long after it took its number was killed or crashed: no
/// training runs this long in a Lambda (15 minutes at most), and a container task has hours.
pub const ABANDONED_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(6);

/// Removes the outputs of `model`'s runs that took a version number more than
/// [`ABANDONED_AFTER`] before `now` and never registered it, forgets those runs and returns
/// their versions. The numbers stay unused: a number is never handed out twice.
pub async fn sweep_abandoned(
    store: &dyn ObjectStore,
    registry: &dyn RegistryStore,
    model: &ModelName,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u64>, RegistryError> {
    let mut swept = Vec::new();
    for run in model_registry::pending_runs(registry, model).await? {
        if now - run.started_at < ABANDONED_AFTER {
            continue;
        }
        remove(store, model, run.version).await;
        model_registry::end_run(registry, model, run.version).await?;
        tracing::warn!(%model, version = run.version, started_at = %run.started_at, "swept the outputs of a training run that never registered");
        swept.push(run.version);
    }
    Ok(swept)
}

fn json(value: &impl Serialize) -> Result<Vec<u8>, TrainError> {
    serde_json::to_vec_pretty(value).map_err(|e| TrainError::Corrupt {
        what: "a training output".into(),
        problem: e.to_string(),
    })
}
