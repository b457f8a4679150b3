//! Reading artifacts written by earlier releases: a registry keeps serving versions trained
//! before an upgrade. postcard writes fields in order without names, so each older layout is
//! read through its own copy of the structs that changed, then completed with what the older
//! format could not hold.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{InputField, ModelArtifact};
use crate::features::{CategoricalEncoder, NumericEncoder, Pipeline};
use crate::learn::{GbdtModel, LogisticModel, Model, ModelParams, Node, Tree};
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
    learner: Format3Model,
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

/// Formats 3 and 4: the current fields, with inputs that had no declared boolean words. Format
/// 3's trees did not keep their row counts: its learner is a [`Format3Model`], format 4's a
/// [`Model`].
#[derive(Deserialize)]
struct Format4<Learner> {
    model: ModelName,
    version: u64,
    dataset: DatasetName,
    target: String,
    task: TargetKind,
    classes: Vec<String>,
    threshold: Option<f64>,
    inputs: Vec<Format4Input>,
    pipeline: Pipeline,
    learner: Learner,
    params: ModelParams,
    fingerprint: String,
    code_version: String,
    trained_at: DateTime<Utc>,
    key: Option<Format4Input>,
}

#[derive(Deserialize)]
struct Format4Input {
    name: String,
    kind: ColumnType,
    nullable: bool,
    max_length: Option<u64>,
}

impl From<Format4Input> for InputField {
    fn from(old: Format4Input) -> Self {
        InputField::new(&old.name, old.kind, old.nullable, old.max_length)
    }
}

impl<Learner: Into<Model>> From<Format4<Learner>> for ModelArtifact {
    fn from(old: Format4<Learner>) -> Self {
        ModelArtifact {
            model: old.model,
            version: old.version,
            dataset: old.dataset,
            target: old.target,
            task: old.task,
            classes: old.classes,
            threshold: old.threshold,
            inputs: old.inputs.into_iter().map(InputField::from).collect(),
            pipeline: old.pipeline,
            learner: old.learner.into(),
            params: old.params,
            fingerprint: old.fingerprint,
            code_version: old.code_version,
            trained_at: old.trained_at,
            key: old.key.map(InputField::from),
        }
    }
}

/// Formats 1 to 3: the learners before the trees kept each node's training rows.
#[derive(Deserialize)]
enum Format3Model {
    LogisticRegression(LogisticModel),
    GradientBoosting(Format3Gbdt),
}

#[derive(Deserialize)]
struct Format3Gbdt {
    base: Vec<f64>,
    trees: Vec<Format3Tree>,
}

#[derive(Deserialize)]
struct Format3Tree {
    nodes: Vec<Node>,
}

/// Such trees score as before; without row counts they cannot explain.
impl From<Format3Model> for Model {
    fn from(old: Format3Model) -> Self {
        match old {
            Format3Model::LogisticRegression(model) => Model::LogisticRegression(model),
            Format3Model::GradientBoosting(model) => Model::GradientBoosting(GbdtModel {
                base: model.base,
                trees: model
                    .trees
                    .into_iter()
                    .map(|tree| Tree {
                        nodes: tree.nodes,
                        cover: Vec::new(),
                    })
                    .collect(),
            }),
        }
    }
}

#[derive(Deserialize)]
struct Format2Pipeline {
    numeric: Vec<NumericEncoder>,
    categorical: Vec<CategoricalEncoder>,
}

impl From<Format2Input> for InputField {
    fn from(old: Format2Input) -> Self {
        InputField::new(&old.name, old.kind, old.nullable, None)
    }
}

pub(super) fn decode(format: u16, body: &[u8]) -> Result<ModelArtifact, postcard::Error> {
    match format {
        3 => return Ok(postcard::from_bytes::<Format4<Format3Model>>(body)?.into()),
        4 => return Ok(postcard::from_bytes::<Format4<Model>>(body)?.into()),
        _ => {}
    }
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
        learner: old.learner.into(),
        params: old.params,
        fingerprint: old.fingerprint,
        code_version: old.code_version,
        trained_at: old.trained_at,
        key: old.key.map(InputField::from),
    })
}
