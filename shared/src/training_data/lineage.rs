//! What a trained version learned from and how its rows were split, written as `lineage.json`
//! beside the artifact: enough to rebuild its test part exactly.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::split::TimeRange;
use super::TargetShaping;
use crate::ingest::catalog::DataVersionRecord;
use crate::learn::ModelParams;
use crate::names::{ModelName, ObjectKey};
use crate::spec::SplitSection;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    pub model: ModelName,
    pub version: u64,
    pub fingerprint: String,
    pub data_versions: Vec<DataVersionRef>,
    /// Retired versions left out of this training (their data kept; see `mlops data list`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_versions: Vec<String>,
    pub spec_sha256: String,
    pub spec_version: u32,
    pub code_version: String,
    pub seed: u64,
    pub learner: String,
    pub params: ModelParams,
    pub rows: RowCounts,
    /// How the target's values became the classes (absent in lineages from before it existed:
    /// the values were the classes).
    #[serde(default)]
    pub target: TargetShaping,
    /// How the rows were split, so the test part can be rebuilt (promotion scores the champion on it).
    pub split: SplitSection,
    /// For a time split: the first and last time in each part.
    pub time_ranges: Option<BTreeMap<String, Option<TimeRange>>>,
    pub trained_at: DateTime<Utc>,
    pub training_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowCounts {
    pub loaded: usize,
    /// Rows left out because of their target: null, a value the spec's map leaves out, or a
    /// rare class dropped (`target` counts the last two).
    pub without_target: usize,
    pub train: usize,
    /// Training rows after oversampling (equal to `train` otherwise).
    pub train_after_balancing: usize,
    pub validation: usize,
    pub test: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataVersionRef {
    pub version: String,
    pub data_key: ObjectKey,
    pub data_sha256: String,
    pub rows: u64,
    pub source_key: ObjectKey,
}

impl From<&DataVersionRecord> for DataVersionRef {
    fn from(v: &DataVersionRecord) -> Self {
        Self {
            version: v.version.clone(),
            data_key: v.data_key.clone(),
            data_sha256: v.data_sha256.clone(),
            rows: v.rows,
            source_key: v.source_key.clone(),
        }
    }
}
