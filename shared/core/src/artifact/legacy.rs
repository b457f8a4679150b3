//! Reading artifacts written by earlier releases: a registry keeps serving versions trained
//! before an upgrade. postcard writes fields in order without names, so each older layout is
//! read through its own copy of the structs that changed, then completed with what the older
//! format could not hold.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{InputField, ModelArtifact};
use crate::features::{CategoricalEncoder, NumericEncoder, Pipeline};
use crate::learn::{Model, ModelParams};
use crate::names::{DatasetName, ModelName};
use crate::spec::{ColumnType, TargetKind};

/// Formats 1 and 2: no text features, no maximum lengths; format 1 also had no key.
#[derive(Deserialize)]
struct Format2 {
    model: ModelName,
    version: u64,
    dataset: DatasetName,
    target: String,
    task: TargetKind,
    classes: Vec<String>,
    threshold: Option<f64>,
    inputs: Vec<Format2Input>,
    pipeline: Format2Pipeline,
    learner: Model,
    params: ModelParams,
    fingerprint: String,
    code_version: String,
    trained_at: DateTime<Utc>,
    key: Option<Format2Input>,
}

#[derive(Deserialize)]
struct Format2Input {
    name: String,
    kind: ColumnType,
    nullable: bool,
}

#[derive(Deserialize)]
struct Format2Pipeline {
    numeric: Vec<NumericEncoder>,
    categorical: Vec<CategoricalEncoder>,
}

impl From<Format2Input> for InputField {
    fn from(old: Format2Input) -> Self {
        InputField {
            name: old.name,
            kind: old.kind,
            nullable: old.nullable,
            max_length: None,
        }
    }
}

pub(super) fn decode(format: u16, body: &[u8]) -> Result<ModelArtifact, postcard::Error> {
    let old: Format2 = if format == 1 {
        // A format-1 body is a format-2 body without its last field, the key, which postcard
        // writes as one zero byte when there is none.
        postcard::from_bytes(&[body, &[0]].concat())?
    } else {
        postcard::from_bytes(body)?
    };
    Ok(ModelArtifact {
        model: old.model,
        version: old.version,
        dataset: old.dataset,
        target: old.target,
        task: old.task,
        classes: old.classes,
        threshold: old.threshold,
        inputs: old.inputs.into_iter().map(InputField::from).collect(),
        pipeline: Pipeline {
            numeric: old.pipeline.numeric,
            categorical: old.pipeline.categorical,
            text: Vec::new(),
        },
        learner: old.learner,
        params: old.params,
        fingerprint: old.fingerprint,
        code_version: old.code_version,
        trained_at: old.trained_at,
        key: old.key.map(InputField::from),
    })
}
