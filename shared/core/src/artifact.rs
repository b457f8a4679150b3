//! The model artifact: the fitted pipeline, the learner and everything serving needs, in one
//! versioned binary file. Serving decodes it and applies exactly what training fitted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::features::{FeatureError, Pipeline, RawFrame};
use crate::learn::{Model, ModelParams};
use crate::names::{DatasetName, ModelName};
use crate::spec::{BooleanWords, ColumnType, TargetKind};

/// Bumped whenever the layout changes; older readers refuse newer files with a clear error, and
/// this reader still reads every older format (see [`legacy`]). Format 2 added the serving key;
/// format 3 the text features and each input's maximum length; format 4 each tree node's
/// training rows, which explanations weigh by; format 5 the words boolean inputs are written with.
pub const ARTIFACT_FORMAT: u16 = 5;
const MAGIC: &[u8; 8] = b"MLOPSMDL";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelArtifact {
    pub model: ModelName,
    pub version: u64,
    pub dataset: DatasetName,
    pub target: String,
    pub task: TargetKind,
    /// Class labels; a binary model's positive class is the second.
    pub classes: Vec<String>,
    /// Binary: predict the positive class when its probability is at least this.
    pub threshold: Option<f64>,
    /// The input columns a request must (or may) carry.
    pub inputs: Vec<InputField>,
    pub pipeline: Pipeline,
    pub learner: Model,
    pub params: ModelParams,
    pub fingerprint: String,
    pub code_version: String,
    pub trained_at: DateTime<Utc>,
    /// The field each request record carries beside the inputs to name its prediction (the
    /// spec's `[serving] key`); without one, predictions are named after their request.
    pub key: Option<InputField>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputField {
    pub name: String,
    pub kind: ColumnType,
    pub nullable: bool,
    /// The spec's `max_length` in characters, for string, categorical and text fields.
    pub max_length: Option<u64>,
    /// The words a boolean field may be written with beside true and false, as ingest reads them.
    pub boolean_words: BooleanWords,
}

impl InputField {
    /// A field with no declared boolean words.
    pub fn new(name: &str, kind: ColumnType, nullable: bool, max_length: Option<u64>) -> Self {
        InputField {
            name: name.to_owned(),
            kind,
            nullable,
            max_length,
            boolean_words: BooleanWords::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("not a model artifact (bad header)")]
    NotAnArtifact,
    #[error("artifact format {found} is newer than this code reads ({ARTIFACT_FORMAT}); upgrade the functions")]
    UnsupportedFormat { found: u16 },
    #[error("artifact body is corrupt: {0}")]
    Corrupt(String),
}

impl ModelArtifact {
    pub fn encode(&self) -> Result<Vec<u8>, ArtifactError> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&ARTIFACT_FORMAT.to_le_bytes());
        postcard::to_extend(self, bytes).map_err(|e| ArtifactError::Corrupt(e.to_string()))
    }

    pub fn decode(bytes: &[u8]) -> Result<ModelArtifact, ArtifactError> {
        let body = bytes
            .strip_prefix(MAGIC)
            .ok_or(ArtifactError::NotAnArtifact)?;
        let (format, body) = body
            .split_at_checked(2)
            .ok_or(ArtifactError::NotAnArtifact)?;
        let found = u16::from_le_bytes([format[0], format[1]]);
        let corrupt = |e: postcard::Error| ArtifactError::Corrupt(e.to_string());
        match found {
            ARTIFACT_FORMAT => postcard::from_bytes(body).map_err(corrupt),
            1..=4 => legacy::decode(found, body).map_err(corrupt),
            _ => Err(ArtifactError::UnsupportedFormat { found }),
        }
    }

    /// The fields a request record carries: the inputs, then the key when the model has one.
    /// Built once per loaded model: reading a request takes them as a slice.
    pub fn request_fields(&self) -> Vec<InputField> {
        self.inputs.iter().chain(&self.key).cloned().collect()
    }

    /// Row-major class probabilities of the rows of `frame`.
    pub fn predict(&self, frame: &RawFrame) -> Result<Vec<f64>, FeatureError> {
        let encoded = self.pipeline.transform(frame)?;
        Ok(self.learner.probabilities(&encoded))
    }
}

mod legacy;

#[cfg(test)]
#[path = "artifact_tests.rs"]
mod tests;
