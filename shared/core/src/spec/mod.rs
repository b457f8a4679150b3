//! The dataset contract: one declarative file per dataset (`specs/<dataset>.toml` in the store).
//!
//! Parsing is two steps: serde reads the TOML into typed sections (rejecting unknown keys, so typos
//! surface), then [`DatasetSpec::check`] collects every semantic problem at once, each with the path of
//! the offending entry, so an author fixes the whole file in one pass.

pub mod outcomes;
pub mod rule;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::features::text::TextOptions;
use crate::learn::ModelKind;
use crate::names::DatasetName;
pub use rule::{CompareOp, Comparison, Operand};

/// The file extensions a spec may be stored under, in lookup order.
pub const SPEC_EXTENSIONS: [&str; 2] = ["toml", "json"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    pub dataset: DatasetSection,
    #[serde(default)]
    pub source: SourceSection,
    #[serde(default)]
    pub policy: PolicySection,
    pub columns: Vec<ColumnSpec>,
    #[serde(default)]
    pub table: TableSection,
    pub target: Option<TargetSection>,
    pub features: Option<FeaturesSection>,
    pub split: Option<SplitSection>,
    pub training: Option<TrainingSection>,
    pub promotion: Option<PromotionSection>,
    pub drift: Option<DriftSection>,
    pub serving: Option<ServingSection>,
    pub monitoring: Option<MonitoringSection>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSection {
    pub name: DatasetName,
    /// Bumped by the author whenever the contract changes; recorded in every manifest.
    pub version: u32,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// Decided from the key's extension, then from the first bytes.
    #[default]
    Auto,
    Csv,
    Parquet,
    Jsonl,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSection {
    #[serde(default)]
    pub format: FileFormat,
    /// CSV field separator, one ASCII character.
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// Uploads larger than this are quarantined unread.
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    /// A file holding a longer value (a cell, a JSON string or number) is quarantined unread: one
    /// 200 MB cell took ten times its size in memory to read and check.
    #[serde(default = "default_max_value_bytes")]
    pub max_value_bytes: u64,
}

impl Default for SourceSection {
    fn default() -> Self {
        Self {
            format: FileFormat::Auto,
            delimiter: default_delimiter(),
            max_file_bytes: default_max_file_bytes(),
            max_value_bytes: default_max_value_bytes(),
        }
    }
}

fn default_delimiter() -> char {
    ','
}

fn default_max_file_bytes() -> u64 {
    512 * 1024 * 1024
}

/// A mebibyte: far above any feature value (a long review is a few kilobytes), far below what
/// would strain a function's memory.
fn default_max_value_bytes() -> u64 {
    1024 * 1024
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ExtraColumns {
    #[default]
    Reject,
    Drop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InvalidRows {
    /// Any row failing a row-level rule (beyond its `mostly` tolerance) rejects the file.
    #[default]
    Reject,
    /// Such rows are dropped and recorded, as long as they stay within `max_invalid_row_fraction`.
    Drop,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySection {
    #[serde(default)]
    pub extra_columns: ExtraColumns,
    #[serde(default)]
    pub invalid_rows: InvalidRows,
    #[serde(default = "default_max_invalid_row_fraction")]
    pub max_invalid_row_fraction: f64,
}

impl Default for PolicySection {
    fn default() -> Self {
        Self {
            extra_columns: ExtraColumns::Reject,
            invalid_rows: InvalidRows::Reject,
            max_invalid_row_fraction: default_max_invalid_row_fraction(),
        }
    }
}

fn default_max_invalid_row_fraction() -> f64 {
    0.01
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    Integer,
    Float,
    String,
    Categorical,
    Boolean,
    Datetime,
    /// Free text (a review, a description): read as a string; a value empty after trimming is
    /// missing, and `max_length` bounds its characters.
    Text,
}

/// The words a boolean column is written with: the standard spellings (see [`boolean_spelling`])
/// and those the spec declares for it (`true_values`, `false_values`, e.g. "Active" and
/// "Inactive"), in any case. Ingest reads the column with them and the artifact keeps them, so the
/// API takes the same words: a value accepted at one end is accepted at the other.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BooleanWords {
    /// Lowercased, as they are compared.
    true_values: Vec<String>,
    false_values: Vec<String>,
}

impl BooleanWords {
    pub fn new(true_values: &[String], false_values: &[String]) -> Self {
        let lower = |words: &[String]| words.iter().map(|w| w.trim().to_lowercase()).collect();
        BooleanWords {
            true_values: lower(true_values),
            false_values: lower(false_values),
        }
    }

    /// The boolean `text` spells, if any.
    pub fn read(&self, text: &str) -> Option<bool> {
        if let Some(standard) = boolean_spelling(text) {
            return Some(standard);
        }
        if self.true_values.is_empty() && self.false_values.is_empty() {
            return None;
        }
        let text = text.trim().to_lowercase();
        if self.true_values.contains(&text) {
            Some(true)
        } else if self.false_values.contains(&text) {
            Some(false)
        } else {
            None
        }
    }

    /// The declared words, true ones first, as the spec wrote them (lowercased).
    pub fn declared(&self) -> (&[String], &[String]) {
        (&self.true_values, &self.false_values)
    }
}

/// A boolean written as text, as files and requests spell it: true, t, yes, y, 1 and false, f,
/// no, n, 0, in any case, with surrounding spaces. Ingest reads boolean columns this way and
/// the API takes the same spellings beside JSON's true and false, so a value accepted at one end
/// is accepted at the other.
pub fn boolean_spelling(text: &str) -> Option<bool> {
    // Compared without a lowercased copy: ingest calls this once per cell.
    let text = text.trim();
    let spelled = |words: [&str; 5]| words.iter().any(|w| w.eq_ignore_ascii_case(text));
    if spelled(["true", "t", "yes", "y", "1"]) {
        Some(true)
    } else if spelled(["false", "f", "no", "n", "0"]) {
        Some(false)
    } else {
        None
    }
}

impl ColumnType {
    pub fn is_numeric(self) -> bool {
        matches!(self, ColumnType::Integer | ColumnType::Float)
    }

    pub fn is_textual(self) -> bool {
        matches!(
            self,
            ColumnType::String | ColumnType::Categorical | ColumnType::Text
        )
    }

    /// Whether its values can name a record: strings, or whole numbers (not free text).
    pub fn can_be_key(self) -> bool {
        matches!(
            self,
            ColumnType::String | ColumnType::Categorical | ColumnType::Integer
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Integer => "integer",
            ColumnType::Float => "float",
            ColumnType::String => "string",
            ColumnType::Categorical => "categorical",
            ColumnType::Boolean => "boolean",
            ColumnType::Datetime => "datetime",
            ColumnType::Text => "text",
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An allowed value: integers for integer columns, strings for textual ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AllowedValue {
    Integer(i64),
    Text(String),
}

impl fmt::Display for AllowedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowedValue::Integer(value) => write!(f, "{value}"),
            AllowedValue::Text(value) => f.write_str(value),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub nullable: bool,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub allowed: Option<Vec<AllowedValue>>,
    pub regex: Option<String>,
    #[serde(default)]
    pub unique: bool,
    pub max_null_fraction: Option<f64>,
    /// Textual columns: at most this many characters.
    pub max_length: Option<u64>,
    /// chrono format for datetime columns; RFC 3339 and `YYYY-MM-DD[ HH:MM:SS]` are read without one.
    pub format: Option<String>,
    /// Boolean columns: words read as true beside the standard spellings (any case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub true_values: Vec<String>,
    /// Boolean columns: words read as false beside the standard spellings (any case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub false_values: Vec<String>,
    /// Fraction of rows that must pass this column's row-level checks (type, nulls, range, allowed, regex).
    #[serde(default = "one")]
    pub mostly: f64,
    #[serde(default)]
    pub description: String,
}

impl ColumnSpec {
    /// The words a boolean column is written with (see [`BooleanWords`]).
    pub fn boolean_words(&self) -> BooleanWords {
        BooleanWords::new(&self.true_values, &self.false_values)
    }
}

fn yes() -> bool {
    true
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TableSection {
    pub min_rows: Option<u64>,
    pub max_rows: Option<u64>,
    #[serde(default)]
    pub unique_keys: Vec<Vec<String>>,
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    /// `<column or number> <op> <column or number>`, op one of `< <= > >= == !=`.
    pub check: String,
    #[serde(default = "one")]
    pub mostly: f64,
}

impl RuleSpec {
    /// The parsed comparison; [`DatasetSpec::check`] has proven it parses.
    pub fn comparison(&self) -> Result<Comparison, String> {
        rule::parse(&self.check)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    Binary,
    Multiclass,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSection {
    pub column: String,
    pub kind: TargetKind,
    /// For binary targets: the label value of the positive class (after `map`).
    pub positive: Option<AllowedValue>,
    /// The target's values as the classes to learn (`"Charged Off" = "bad"`); when given, a
    /// value it does not list is left out of training, and counted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub map: BTreeMap<String, String>,
    /// A class with fewer labelled rows than this is rare; `rare_classes` says what becomes of it.
    #[serde(default = "default_min_class_rows")]
    pub min_class_rows: usize,
    #[serde(default)]
    pub rare_classes: RareClasses,
}

/// The class a target value is learned as under `map` (the `[target] map`): itself when the map
/// is empty, its mapped class, or None for a value the map leaves out.
pub fn mapped_class<'a>(map: &'a BTreeMap<String, String>, value: &'a str) -> Option<&'a str> {
    if map.is_empty() {
        Some(value)
    } else {
        map.get(value).map(String::as_str)
    }
}

/// What training does with a rare class: `"error"` (stop, naming it), `"drop"` (train without its
/// rows, and count them), or `{ merge_into = "<class>" }` (its rows learned as that class).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RareClasses {
    #[default]
    Error,
    Drop,
    MergeInto(String),
}

/// Classes as a list for a message.
fn join(classes: &BTreeSet<&str>) -> String {
    classes.iter().copied().collect::<Vec<_>>().join(", ")
}

fn default_min_class_rows() -> usize {
    20
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeaturesSection {
    pub columns: Vec<String>,
    /// Columns known only after the outcome; listing one as a feature is an error.
    #[serde(default)]
    pub leakage: Vec<String>,
    /// Datetime features expand into these parts.
    #[serde(default)]
    pub date_parts: Vec<DatePart>,
    #[serde(default = "yes")]
    pub standardize: bool,
    /// Categorical levels rarer than this share of training rows are grouped into one "rare" level.
    #[serde(default = "default_rare_level_share")]
    pub rare_level_share: f64,
    /// How each free-text feature becomes terms (`[features.text.<column>]`); a text feature
    /// without its block takes the defaults.
    #[serde(default)]
    pub text: BTreeMap<String, TextOptions>,
}

fn default_rare_level_share() -> f64 {
    0.01
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePart {
    Hour,
    DayOfWeek,
    Day,
    Month,
}

impl DatePart {
    pub fn as_str(self) -> &'static str {
        match self {
            DatePart::Hour => "hour",
            DatePart::DayOfWeek => "day_of_week",
            DatePart::Day => "day",
            DatePart::Month => "month",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitStrategy {
    Time,
    Random,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSection {
    pub strategy: SplitStrategy,
    pub time_column: Option<String>,
    pub train: f64,
    pub validation: f64,
    pub test: f64,
    #[serde(default)]
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClassBalance {
    #[default]
    None,
    Weights,
    Oversample,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdObjective {
    #[default]
    MaxF1,
    MinCost,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateSpec {
    pub model: ModelKind,
    /// A small search space: each parameter and the values to try.
    #[serde(default)]
    pub search: BTreeMap<String, Vec<toml::Value>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSection {
    pub candidates: Vec<CandidateSpec>,
    #[serde(default)]
    pub class_balance: ClassBalance,
    #[serde(default)]
    pub threshold: ThresholdObjective,
    pub cost_fp: Option<f64>,
    pub cost_fn: Option<f64>,
    /// Curated versions to train on: all of them, or those ingested within this many days.
    pub window_days: Option<u32>,
    /// Only these curated versions (ids as `mlops data list` shows them), within the window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_versions: Vec<String>,
    #[serde(default)]
    pub seed: u64,
    /// Where training runs on AWS: in the train function, or as a container task (past
    /// Lambda's 15 minutes and 10 GB). Locally `mlops train` always trains in its own process.
    #[serde(default)]
    pub compute: Compute,
    /// With `compute = "auto"`, the most rows the train function trains itself; more go to
    /// the container task.
    #[serde(default = "default_lambda_max_rows")]
    pub lambda_max_rows: u64,
    /// On AWS, a search of at least this many candidates runs one candidate per Lambda
    /// invocation (the train-search state machine) instead of all of them in the train
    /// function; 0 never fans out. Locally `mlops train` runs every candidate in its process.
    #[serde(default = "default_fan_out_candidates")]
    pub fan_out_candidates: usize,
}

/// Where training runs on AWS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compute {
    /// The train function up to `lambda_max_rows` rows, the container task beyond.
    #[default]
    Auto,
    Lambda,
    Container,
}

/// Measured (bench/train_scale.sh): the bundled spec's four tree candidates take 27 s per
/// million rows on two cores and peak at 7.4 million rows per GB, so 5 million rows train in
/// about 2.5 minutes within the train function's 3.5 GB, leaving room for more candidates or
/// a linear model's larger design, far from the 15-minute limit.
fn default_lambda_max_rows() -> u64 {
    5_000_000
}

/// Measured (bench/train_search.sh, the flights year, twelve candidates): one process fits them
/// in 18.1 s; fanned out, a fit step spends 0.38 s preparing the data again beside 1.0–2.0 s of
/// fitting, and plan and finish take 0.8 s, so the search would end in about 3.1 s for 27% more
/// function time. Under eight candidates one function is done soon enough that the extra
/// invocations and their preparation are not worth it.
fn default_fan_out_candidates() -> usize {
    8
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    RocAuc,
    PrAuc,
    LogLoss,
    Accuracy,
    F1,
    F1Macro,
    Precision,
    Recall,
}

impl Metric {
    /// As specs and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::RocAuc => "roc_auc",
            Metric::PrAuc => "pr_auc",
            Metric::LogLoss => "log_loss",
            Metric::Accuracy => "accuracy",
            Metric::F1 => "f1",
            Metric::F1Macro => "f1_macro",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionSection {
    pub primary_metric: Metric,
    /// The primary metric must reach at least this on the test data.
    pub min_primary: Option<f64>,
    /// Improvement over the champion required to replace it.
    #[serde(default)]
    pub min_improvement: f64,
    /// Columns whose values define slices; no slice may regress by more than `max_slice_regression`.
    #[serde(default)]
    pub slices: Vec<String>,
    #[serde(default = "default_max_slice_regression")]
    pub max_slice_regression: f64,
    #[serde(default)]
    pub require_approval: bool,
    /// A candidate replaces a champion only after it scored beside it as the `shadow` for at
    /// least this many labelled predictions, and was no worse live (beyond the interval).
    #[serde(default)]
    pub require_live_evidence: Option<u64>,
}

fn default_max_slice_regression() -> f64 {
    0.02
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftSection {
    #[serde(default = "default_window_hours")]
    pub window_hours: u32,
    /// Data set drift when at least this share of features drifted.
    #[serde(default = "default_drift_share")]
    pub drift_share: f64,
    /// Below this many current rows the verdict is "insufficient data".
    #[serde(default = "default_drift_min_rows")]
    pub min_rows: u64,
    #[serde(default = "default_psi_threshold")]
    pub psi_threshold: f64,
    /// Retrain automatically when data set drift is found.
    #[serde(default)]
    pub retrain: bool,
}

impl Default for DriftSection {
    fn default() -> Self {
        DriftSection {
            window_hours: default_window_hours(),
            drift_share: default_drift_share(),
            min_rows: default_drift_min_rows(),
            psi_threshold: default_psi_threshold(),
            retrain: false,
        }
    }
}

fn default_window_hours() -> u32 {
    24
}

fn default_drift_share() -> f64 {
    0.5
}

fn default_drift_min_rows() -> u64 {
    200
}

fn default_psi_threshold() -> f64 {
    0.2
}

/// How live quality is judged once outcomes arrive.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringSection {
    /// A version is degraded when its live primary metric falls below its test value by more
    /// than this (or below `promotion.min_primary`), the interval excluding the test value.
    #[serde(default = "default_max_live_regression")]
    pub max_live_regression: f64,
    /// Below this many labelled predictions the verdict is `insufficient_data`.
    #[serde(default = "default_min_labelled_rows")]
    pub min_labelled_rows: u64,
    /// A champion found degraded returns to the champion before it (once per version, never to a
    /// version itself withdrawn for cause), and retraining is asked for.
    #[serde(default)]
    pub auto_rollback: bool,
    /// The smoke test after a promotion fails when scoring its golden rows (read, checked,
    /// scored and answered as a request) takes longer than this.
    #[serde(default = "default_smoke_budget_ms")]
    pub smoke_budget_ms: u64,
    /// A binary model's share of positive predictions is out of band when it leaves the test
    /// part's share by more than this fraction of it (beyond sampling error).
    #[serde(default = "default_positive_rate_tolerance")]
    pub positive_rate_tolerance: f64,
}

impl Default for MonitoringSection {
    fn default() -> Self {
        MonitoringSection {
            max_live_regression: default_max_live_regression(),
            min_labelled_rows: default_min_labelled_rows(),
            auto_rollback: false,
            smoke_budget_ms: default_smoke_budget_ms(),
            positive_rate_tolerance: default_positive_rate_tolerance(),
        }
    }
}

fn default_positive_rate_tolerance() -> f64 {
    0.5
}

fn default_smoke_budget_ms() -> u64 {
    1000
}

fn default_max_live_regression() -> f64 {
    0.05
}

fn default_min_labelled_rows() -> u64 {
    200
}

/// How predictions are answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServingSection {
    /// A column each prediction request carries beside the features (not one of them), such as a
    /// flight's id: it becomes the prediction's id, so outcomes reported later under the same key
    /// are joined to it.
    pub key: Option<String>,
}

/// One problem in a spec, located by a path such as `columns[3].max`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecProblem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("the spec is not valid {format}: {message}")]
    Syntax {
        format: &'static str,
        message: String,
    },
    #[error("the spec has {} problem(s):\n{}", .0.len(), list(.0))]
    Invalid(Vec<SpecProblem>),
}

fn list(problems: &[SpecProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A spec that parsed and passed every semantic check, with the hash of the exact text it came from.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    pub spec: DatasetSpec,
    /// SHA-256 (hex) of the spec file's bytes: what manifests and lineage record.
    pub sha256: String,
}

impl DatasetSpec {
    /// Reads a spec from TOML (or JSON when `extension` says so) and checks it.
    pub fn parse(text: &str, extension: &str) -> Result<LoadedSpec, SpecError> {
        let spec: DatasetSpec = match extension {
            "json" => serde_json::from_str(text).map_err(|e| SpecError::Syntax {
                format: "JSON",
                message: e.to_string(),
            })?,
            _ => toml::from_str(text).map_err(|e| SpecError::Syntax {
                format: "TOML",
                message: e.to_string(),
            })?,
        };
        let problems = spec.check();
        if !problems.is_empty() {
            return Err(SpecError::Invalid(problems));
        }
        let mut spec = spec;
        spec.give_text_features_their_options();
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        Ok(LoadedSpec { spec, sha256 })
    }

    /// Every free-text feature gets a `[features.text]` entry (the defaults when the spec has
    /// none), so the pipeline knows which features are text from the features section alone.
    fn give_text_features_their_options(&mut self) {
        let text_columns: Vec<String> = self
            .columns
            .iter()
            .filter(|c| c.kind == ColumnType::Text)
            .map(|c| c.name.clone())
            .collect();
        if let Some(features) = &mut self.features {
            for name in text_columns {
                if features.columns.contains(&name) {
                    features.text.entry(name).or_default();
                }
            }
        }
    }

    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Every semantic problem in the spec; empty when it is usable.
    pub fn check(&self) -> Vec<SpecProblem> {
        let mut out = Problems::default();
        self.check_columns(&mut out);
        self.check_table(&mut out);
        self.check_ml_sections(&mut out);
        if !(0.0..=1.0).contains(&self.policy.max_invalid_row_fraction) {
            out.push("policy.max_invalid_row_fraction", "must be between 0 and 1");
        }
        if !self.source.delimiter.is_ascii() || self.source.delimiter.is_ascii_alphanumeric() {
            out.push(
                "source.delimiter",
                "must be one ASCII punctuation or whitespace character, such as ',' ';' or '\\t'",
            );
        }
        if self.source.max_file_bytes == 0 {
            out.push("source.max_file_bytes", "must be greater than 0");
        }
        if self.source.max_value_bytes == 0 {
            out.push("source.max_value_bytes", "must be greater than 0");
        }
        out.0
    }

    fn check_columns(&self, out: &mut Problems) {
        if self.columns.is_empty() {
            out.push("columns", "declare at least one column");
        }
        let mut seen = HashSet::new();
        for (i, col) in self.columns.iter().enumerate() {
            let at = |field: &str| format!("columns[{i}] ({}).{field}", col.name);
            if col.name.trim().is_empty() {
                out.push(format!("columns[{i}].name"), "must not be empty");
            }
            if !seen.insert(col.name.as_str()) {
                out.push(
                    format!("columns[{i}].name"),
                    format!("{:?} is declared twice", col.name),
                );
            }
            if col.min.is_some() || col.max.is_some() {
                if !col.kind.is_numeric() {
                    out.push(
                        at("min"),
                        format!(
                            "min/max apply to integer and float columns, not {}",
                            col.kind
                        ),
                    );
                }
                if let (Some(min), Some(max)) = (col.min, col.max) {
                    if min > max {
                        out.push(at("min"), format!("min {min} is greater than max {max}"));
                    }
                }
            }
            if let Some(allowed) = &col.allowed {
                if allowed.is_empty() {
                    out.push(at("allowed"), "must list at least one value");
                }
                let fits = |v: &AllowedValue| match (col.kind, v) {
                    (ColumnType::Integer, AllowedValue::Integer(_)) => true,
                    (kind, AllowedValue::Text(_)) => kind.is_textual(),
                    _ => false,
                };
                if !matches!(
                    col.kind,
                    ColumnType::Integer | ColumnType::String | ColumnType::Categorical
                ) {
                    out.push(at("allowed"), format!("allowed values apply to integer, string and categorical columns, not {}", col.kind));
                } else if let Some(bad) = allowed.iter().find(|v| !fits(v)) {
                    out.push(
                        at("allowed"),
                        format!("value {bad} does not match the column type {}", col.kind),
                    );
                }
            }
            check_boolean_words(col, &at, out);
            if let Some(pattern) = &col.regex {
                if !col.kind.is_textual() {
                    out.push(
                        at("regex"),
                        format!(
                            "regex applies to string and categorical columns, not {}",
                            col.kind
                        ),
                    );
                }
                if let Err(e) = regex::Regex::new(pattern) {
                    out.push(at("regex"), format!("does not compile: {e}"));
                }
            }
            if let Some(max) = col.max_length {
                if !col.kind.is_textual() {
                    out.push(
                        at("max_length"),
                        format!(
                            "max_length applies to string, categorical and text columns, not {}",
                            col.kind
                        ),
                    );
                } else if max == 0 {
                    out.push(at("max_length"), "must be at least 1");
                }
            }
            if let Some(fraction) = col.max_null_fraction {
                if !(0.0..=1.0).contains(&fraction) {
                    out.push(at("max_null_fraction"), "must be between 0 and 1");
                } else if !col.nullable && fraction > 0.0 {
                    out.push(
                        at("max_null_fraction"),
                        "the column is not nullable; set nullable = true to allow nulls",
                    );
                }
            }
            if col.format.is_some() && col.kind != ColumnType::Datetime {
                out.push(
                    at("format"),
                    format!("format applies to datetime columns, not {}", col.kind),
                );
            }
            if !(col.mostly > 0.0 && col.mostly <= 1.0) {
                out.push(at("mostly"), "must be in (0, 1]");
            }
        }
    }

    fn check_table(&self, out: &mut Problems) {
        if let (Some(min), Some(max)) = (self.table.min_rows, self.table.max_rows) {
            if min > max {
                out.push(
                    "table.min_rows",
                    format!("min_rows {min} is greater than max_rows {max}"),
                );
            }
        }
        for (i, key) in self.table.unique_keys.iter().enumerate() {
            if key.is_empty() {
                out.push(
                    format!("table.unique_keys[{i}]"),
                    "must name at least one column",
                );
            }
            for name in key {
                self.require_column(out, &format!("table.unique_keys[{i}]"), name);
            }
        }
        let mut names = HashSet::new();
        for (i, rule) in self.table.rules.iter().enumerate() {
            let at = format!("table.rules[{i}] ({})", rule.name);
            if !names.insert(rule.name.as_str()) {
                out.push(&at, "rule names must be unique");
            }
            if !(rule.mostly > 0.0 && rule.mostly <= 1.0) {
                out.push(format!("{at}.mostly"), "must be in (0, 1]");
            }
            match rule.comparison() {
                Err(message) => out.push(format!("{at}.check"), message),
                Ok(comparison) => {
                    for name in comparison.columns() {
                        match self.column(name) {
                            None => out.push(format!("{at}.check"), format!("unknown column {name:?}")),
                            Some(col) if !col.kind.is_numeric() => out.push(
                                format!("{at}.check"),
                                format!("column {name:?} is {}; rules compare integer and float columns", col.kind),
                            ),
                            Some(_) => {}
                        }
                    }
                }
            }
        }
    }

    fn check_ml_sections(&self, out: &mut Problems) {
        if let Some(target) = &self.target {
            self.require_column(out, "target.column", &target.column);
            if target.kind == TargetKind::Binary && target.positive.is_none() {
                out.push(
                    "target.positive",
                    "a binary target names its positive class",
                );
            }
            let classes: BTreeSet<&str> = target.map.values().map(String::as_str).collect();
            if !target.map.is_empty() {
                if let Some(positive) = &target.positive {
                    let positive = positive.to_string();
                    if !classes.contains(positive.as_str()) {
                        out.push(
                            "target.positive",
                            format!(
                                "{positive:?} is not a class target.map makes ({})",
                                join(&classes)
                            ),
                        );
                    }
                }
                if let RareClasses::MergeInto(class) = &target.rare_classes {
                    if !classes.contains(class.as_str()) {
                        out.push(
                            "target.rare_classes",
                            format!(
                                "merge_into {class:?} is not a class target.map makes ({})",
                                join(&classes)
                            ),
                        );
                    }
                }
            }
            if target.min_class_rows == 0 {
                out.push("target.min_class_rows", "must be at least 1");
            }
        }
        if let Some(features) = &self.features {
            if features.columns.is_empty() {
                out.push("features.columns", "list at least one feature");
            }
            let mut seen = HashSet::new();
            for name in &features.columns {
                self.require_column(out, "features.columns", name);
                if !seen.insert(name) {
                    out.push("features.columns", format!("{name:?} is listed twice"));
                }
                if features.leakage.contains(name) {
                    out.push("features.columns", format!("{name:?} is marked as leakage (known only after the outcome) and cannot be a feature"));
                }
                if self.target.as_ref().is_some_and(|t| &t.column == name) {
                    out.push(
                        "features.columns",
                        format!("{name:?} is the target; it cannot also be a feature"),
                    );
                }
            }
            for name in &features.leakage {
                self.require_column(out, "features.leakage", name);
            }
            let datetime_feature = features.columns.iter().find(|name| {
                self.column(name)
                    .is_some_and(|c| c.kind == ColumnType::Datetime)
            });
            if let (Some(name), true) = (datetime_feature, features.date_parts.is_empty()) {
                out.push(
                    "features.date_parts",
                    format!("{name:?} is a datetime feature; name the parts to use (hour, day_of_week, day, month)"),
                );
            }
            if !(0.0..1.0).contains(&features.rare_level_share) {
                out.push("features.rare_level_share", "must be in [0, 1)");
            }
            for (name, options) in &features.text {
                let path = format!("features.text.{name}");
                match self.column(name) {
                    None => out.push(&path, format!("unknown column {name:?}")),
                    Some(col) if col.kind != ColumnType::Text => out.push(
                        &path,
                        format!(
                            "{name:?} is {}; text options apply to text columns",
                            col.kind
                        ),
                    ),
                    Some(_) if !features.columns.contains(name) => {
                        out.push(&path, format!("{name:?} is not in features.columns"))
                    }
                    Some(_) => {}
                }
                for (field, problem) in options.problems() {
                    out.push(format!("{path}.{field}"), problem);
                }
            }
        }
        if let Some(split) = &self.split {
            for (name, value) in [
                ("train", split.train),
                ("validation", split.validation),
                ("test", split.test),
            ] {
                if !(value > 0.0 && value < 1.0) {
                    out.push(format!("split.{name}"), "must be in (0, 1)");
                }
            }
            let sum = split.train + split.validation + split.test;
            if (sum - 1.0).abs() > 1e-9 {
                out.push(
                    "split",
                    format!("train + validation + test must be 1, not {sum}"),
                );
            }
            match (split.strategy, &split.time_column) {
                (SplitStrategy::Time, None) => {
                    out.push("split.time_column", "a time split names its time column")
                }
                (_, Some(name)) => match self.column(name) {
                    None => out.push("split.time_column", format!("unknown column {name:?}")),
                    Some(col) if col.kind != ColumnType::Datetime => out.push(
                        "split.time_column",
                        format!("{name:?} is {}, not datetime", col.kind),
                    ),
                    Some(_) => {}
                },
                (SplitStrategy::Random, None) => {}
            }
        }
        if let Some(training) = &self.training {
            if training.candidates.is_empty() {
                out.push("training.candidates", "name at least one candidate model");
            }
            let only_text = self.features.as_ref().is_some_and(|f| {
                f.columns.iter().all(|name| {
                    self.column(name)
                        .is_some_and(|c| c.kind == ColumnType::Text)
                })
            });
            for (i, candidate) in training.candidates.iter().enumerate() {
                if let Err(problem) = crate::learn::grid(candidate.model, &candidate.search) {
                    out.push(format!("training.candidates[{i}].search"), problem);
                }
                if only_text && candidate.model == ModelKind::GradientBoosting {
                    out.push(
                        format!("training.candidates[{i}].model"),
                        "gradient boosting does not use text features, and every feature here is text; use logistic_regression",
                    );
                }
            }
            if training.lambda_max_rows == 0 {
                out.push(
                    "training.lambda_max_rows",
                    "must be at least 1 (compute = \"container\" always uses the container task)",
                );
            }
            if training.threshold == ThresholdObjective::MinCost {
                for (name, cost) in [("cost_fp", training.cost_fp), ("cost_fn", training.cost_fn)] {
                    if !cost.is_some_and(|c| c > 0.0) {
                        out.push(
                            format!("training.{name}"),
                            "threshold = \"min_cost\" needs a positive cost",
                        );
                    }
                }
            }
            if self.target.is_none() || self.features.is_none() {
                out.push(
                    "training",
                    "training needs [target] and [features] sections",
                );
            }
        }
        if let Some(promotion) = &self.promotion {
            for name in &promotion.slices {
                self.require_column(out, "promotion.slices", name);
            }
            if !(0.0..=1.0).contains(&promotion.max_slice_regression) {
                out.push("promotion.max_slice_regression", "must be between 0 and 1");
            }
        }
        if let Some(key) = self.serving.as_ref().and_then(|s| s.key.as_ref()) {
            self.check_serving_key(out, key);
        }
        if let Some(monitoring) = &self.monitoring {
            if !(0.0..=1.0).contains(&monitoring.max_live_regression) {
                out.push("monitoring.max_live_regression", "must be between 0 and 1");
            }
            if monitoring.positive_rate_tolerance.is_nan()
                || monitoring.positive_rate_tolerance < 0.0
            {
                out.push("monitoring.positive_rate_tolerance", "must be at least 0");
            }
            if monitoring.smoke_budget_ms == 0 {
                out.push("monitoring.smoke_budget_ms", "must be at least 1");
            }
            if monitoring.min_labelled_rows == 0 {
                out.push("monitoring.min_labelled_rows", "must be at least 1");
            }
        }
        if let Some(drift) = &self.drift {
            if !(drift.drift_share > 0.0 && drift.drift_share <= 1.0) {
                out.push("drift.drift_share", "must be in (0, 1]");
            }
            if drift.window_hours == 0 {
                out.push("drift.window_hours", "must be at least 1");
            }
            if drift.psi_threshold <= 0.0 {
                out.push("drift.psi_threshold", "must be positive");
            }
        }
    }

    /// The key identifies a prediction: a text or whole-number column that is neither a feature
    /// nor the target.
    fn check_serving_key(&self, out: &mut Problems, key: &str) {
        let path = "serving.key";
        match self.column(key) {
            None => out.push(path, format!("unknown column {key:?}")),
            Some(col) if !col.kind.can_be_key() => out.push(
                path,
                format!(
                    "{key:?} is {}; a key is a string, categorical or integer column",
                    col.kind
                ),
            ),
            Some(_) => {}
        }
        if self
            .features
            .as_ref()
            .is_some_and(|f| f.columns.iter().any(|c| c == key))
        {
            out.push(
                path,
                format!("{key:?} is a feature; a key is sent beside the features"),
            );
        }
        if self.target.as_ref().is_some_and(|t| t.column == key) {
            out.push(path, format!("{key:?} is the target"));
        }
    }

    fn require_column(&self, out: &mut Problems, path: &str, name: &str) {
        if self.column(name).is_none() {
            out.push(path, format!("unknown column {name:?}"));
        }
    }
}

/// A boolean column's declared words: on boolean columns only, not blank, and each meaning one
/// thing (not declared both ways, nor against its standard meaning, as "no" for true).
fn check_boolean_words(col: &ColumnSpec, at: &dyn Fn(&str) -> String, out: &mut Problems) {
    if col.true_values.is_empty() && col.false_values.is_empty() {
        return;
    }
    if col.kind != ColumnType::Boolean {
        out.push(
            at("true_values"),
            format!(
                "true_values/false_values apply to boolean columns, not {}",
                col.kind
            ),
        );
        return;
    }
    for (key, words, meaning) in [
        ("true_values", &col.true_values, true),
        ("false_values", &col.false_values, false),
    ] {
        for word in words {
            if word.trim().is_empty() {
                out.push(at(key), "a word must not be blank");
            } else if boolean_spelling(word) == Some(!meaning) {
                out.push(
                    at(key),
                    format!(
                        "{word:?} already means {} in every boolean column",
                        !meaning
                    ),
                );
            }
        }
    }
    let (truthy, falsy) = (BooleanWords::new(&col.true_values, &[]), &col.false_values);
    if let Some(both) = falsy
        .iter()
        .find(|w| truthy.read(w) == Some(true) && boolean_spelling(w).is_none())
    {
        out.push(
            at("false_values"),
            format!("{both:?} is also in true_values: a word means one thing"),
        );
    }
}

#[derive(Default)]
struct Problems(Vec<SpecProblem>);

impl Problems {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(SpecProblem {
            path: path.into(),
            message: message.into(),
        });
    }
}

#[cfg(test)]
mod tests;
