//! The contract outcome uploads (`raw/<dataset>/outcomes/…`) are checked against, derived from the
//! dataset's own: the id each prediction was given, the label that was observed (the target's type
//! and allowed values), and when it was observed. Ingestion then treats outcomes like any upload:
//! bad rows dropped and reported, bad files quarantined, nothing lost.

use sha2::{Digest, Sha256};

use super::{
    ColumnSpec, ColumnType, DatasetSpec, ExtraColumns, InvalidRows, LoadedSpec, PolicySection,
    TableSection,
};

/// The column naming the prediction an outcome is about, when the spec names no serving key.
pub const PREDICTION_ID: &str = "prediction_id";

/// The column saying when the outcome was observed.
pub const OBSERVED_AT: &str = "observed_at";

impl DatasetSpec {
    /// The column outcomes name their prediction by: the serving key, or [`PREDICTION_ID`].
    pub fn outcome_key(&self) -> &str {
        self.serving
            .as_ref()
            .and_then(|s| s.key.as_deref())
            .unwrap_or(PREDICTION_ID)
    }

    /// The contract of the dataset's outcomes; None when it has no target to observe.
    pub fn outcome_contract(&self) -> Option<DatasetSpec> {
        let target = self.column(&self.target.as_ref()?.column)?;
        let key = match self.column(self.outcome_key()) {
            Some(key) => key.clone(),
            None => column(PREDICTION_ID, ColumnType::String),
        };
        let mut observed_at = column(OBSERVED_AT, ColumnType::Datetime);
        observed_at.description = "when the outcome was observed".into();
        Some(DatasetSpec {
            dataset: self.dataset.clone(),
            source: self.source.clone(),
            // Other columns may come along and are dropped; a row whose key, label or time is
            // unusable is dropped and reported, the rest of the file kept.
            policy: PolicySection {
                extra_columns: ExtraColumns::Drop,
                invalid_rows: InvalidRows::Drop,
                max_invalid_row_fraction: 1.0,
            },
            columns: [key, target.clone(), observed_at]
                .into_iter()
                .map(required)
                .collect(),
            table: TableSection {
                min_rows: Some(1),
                ..TableSection::default()
            },
            target: None,
            features: None,
            split: None,
            training: None,
            promotion: None,
            drift: None,
            serving: None,
            monitoring: None,
        })
    }
}

impl LoadedSpec {
    /// The outcome contract, with a digest of its own: a file's outcome version depends on the
    /// dataset's spec it was derived from.
    pub fn outcomes(&self) -> Option<LoadedSpec> {
        Some(LoadedSpec {
            spec: self.spec.outcome_contract()?,
            sha256: hex::encode(Sha256::digest(
                format!("outcomes:{}", self.sha256).as_bytes(),
            )),
        })
    }
}

fn column(name: &str, kind: ColumnType) -> ColumnSpec {
    ColumnSpec {
        name: name.into(),
        kind,
        required: true,
        nullable: false,
        min: None,
        max: None,
        allowed: None,
        regex: None,
        unique: false,
        max_null_fraction: None,
        max_length: None,
        format: None,
        true_values: Vec::new(),
        false_values: Vec::new(),
        mostly: 1.0,
        description: String::new(),
    }
}

/// Every outcome column must be there with a value in every row.
fn required(column: ColumnSpec) -> ColumnSpec {
    ColumnSpec {
        required: true,
        nullable: false,
        unique: false,
        max_null_fraction: None,
        mostly: 1.0,
        ..column
    }
}

#[cfg(test)]
#[path = "outcomes_tests.rs"]
mod tests;
