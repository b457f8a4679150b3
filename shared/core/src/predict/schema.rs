//! A model's signature: what a request record carries (each field's type, whether it may be
//! null, the levels and ranges training saw), what the model answers (its classes and threshold),
//! one example record, and the same record as a JSON Schema, so that a client can check a request
//! before sending it. Built from the artifact alone.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::artifact::{InputField, ModelArtifact};
use crate::features::{CategorySource, MAX_SAFE_INTEGER};
use crate::spec::ColumnType;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSchema {
    pub model: String,
    pub version: u64,
    pub target: String,
    /// A record's fields, in the order a `features` row lists its values.
    pub inputs: Vec<InputSchema>,
    /// The labels a prediction takes; a binary model's positive class is the second.
    pub classes: Vec<String>,
    /// Binary: the positive class is predicted when its probability is at least this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// A record the model accepts, made of the commonest training values.
    pub example: Map<String, Value>,
    /// One record of `records` as a JSON Schema (draft 2020-12).
    pub record_schema: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSchema {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
    pub nullable: bool,
    /// `feature`, or `key` for the field that names a prediction (the spec's `[serving] key`).
    pub role: Role,
    /// Characters, for string, categorical and text fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// The levels training kept, most frequent first; another value is scored as a rare one,
    /// with a warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<String>>,
    /// The training range of a number; a value outside it is scored, with a warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_range: Option<[f64; 2]>,
    /// A boolean's own words for true and false, as its spec declares them (lowercased).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub true_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub false_values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Feature,
    Key,
}

/// The signature of `artifact`.
pub fn schema(artifact: &ModelArtifact) -> ModelSchema {
    let mut inputs: Vec<InputSchema> = artifact
        .inputs
        .iter()
        .map(|field| input(artifact, field, Role::Feature))
        .collect();
    inputs.extend(
        artifact
            .key
            .iter()
            .map(|field| input(artifact, field, Role::Key)),
    );
    let example = inputs
        .iter()
        .map(|field| (field.name.clone(), example_value(artifact, field)))
        .collect();
    ModelSchema {
        model: artifact.model.to_string(),
        version: artifact.version,
        target: artifact.target.clone(),
        record_schema: record_schema(&inputs, Dialect::JsonSchema),
        inputs,
        classes: artifact.classes.clone(),
        threshold: artifact.threshold,
        example,
    }
}

fn input(artifact: &ModelArtifact, field: &InputField, role: Role) -> InputSchema {
    let pipeline = &artifact.pipeline;
    let levels = pipeline
        .categorical
        .iter()
        .find(|e| e.column == field.name && !matches!(e.source, CategorySource::DatePart(_)))
        .map(|e| e.levels().to_vec());
    let training_range = pipeline
        .numeric
        .iter()
        .find(|e| e.column == field.name)
        .map(|e| [e.min, e.max]);
    let (true_values, false_values) = field.boolean_words.declared();
    InputSchema {
        name: field.name.clone(),
        kind: field.kind,
        nullable: field.nullable,
        role,
        max_length: field.max_length,
        levels,
        training_range,
        true_values: true_values.to_vec(),
        false_values: false_values.to_vec(),
    }
}

/// A value training saw often: the median of a number, the commonest level, the commonest words
/// of a text (those with the lowest idf), the day the model was trained for a time.
fn example_value(artifact: &ModelArtifact, field: &InputSchema) -> Value {
    let median = artifact
        .pipeline
        .numeric
        .iter()
        .find(|e| e.column == field.name)
        .map(|e| e.median);
    let level = field.levels.as_ref().and_then(|levels| levels.first());
    match field.kind {
        ColumnType::Integer => median.map_or(json!(0), |m| json!(m.round() as i64)),
        ColumnType::Float => median.map_or(json!(0.0), |m| json!(m)),
        ColumnType::Boolean => json!(level.is_some_and(|l| l == "true")),
        ColumnType::Datetime => json!(artifact.trained_at.to_rfc3339()),
        ColumnType::Text => json!(common_words(artifact, &field.name)
            .or_else(|| level.cloned())
            .unwrap_or_else(|| "text".to_owned())),
        ColumnType::String | ColumnType::Categorical => match (field.role, level) {
            (Role::Key, _) | (_, None) => json!(format!("{}-1", field.name)),
            (Role::Feature, Some(level)) => json!(level),
        },
    }
}

/// The three terms of a text feature's vocabulary found in most training documents.
fn common_words(artifact: &ModelArtifact, column: &str) -> Option<String> {
    let tfidf = &artifact
        .pipeline
        .text
        .iter()
        .find(|e| e.column == column)?
        .tfidf;
    let mut terms: Vec<(&String, f64)> =
        tfidf.terms.iter().zip(tfidf.idf.iter().copied()).collect();
    let order =
        |a: &(&String, f64), b: &(&String, f64)| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0));
    // The three lowest of tens of thousands, on every request: selected, then only they sorted.
    if terms.len() > 3 {
        terms.select_nth_unstable_by(3, order);
        terms.truncate(3);
    }
    terms.sort_by(order);
    let words: Vec<&str> = terms.iter().map(|(t, _)| t.as_str()).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The schema language a record's schema is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// JSON Schema draft 2020-12, as the signature carries it.
    JsonSchema,
    /// OpenAPI 3.0's schema objects, which differ in how a nullable field and examples are
    /// written, for a model's own OpenAPI document.
    OpenApi30,
}

/// A time field: an RFC 3339 time, or whole milliseconds since the epoch.
fn datetime(nullable: bool, dialect: Dialect) -> Value {
    let mut forms = vec![
        json!({ "type": "string", "format": "date-time" }),
        json!({ "type": "integer", "minimum": i64::MIN, "maximum": i64::MAX }),
    ];
    match (nullable, dialect) {
        (false, _) => json!({ "anyOf": forms }),
        (true, Dialect::JsonSchema) => {
            forms.push(json!({ "type": "null" }));
            json!({ "anyOf": forms })
        }
        (true, Dialect::OpenApi30) => json!({ "anyOf": forms, "nullable": true }),
    }
}

/// One record as a schema in `dialect`: each field's type (with null when it may be missing),
/// lengths and formats; levels and ranges are described, not enforced, since the API scores
/// other values too (with a warning). Fields the model does not read are allowed: the API
/// ignores them unless the deployment refuses them.
pub fn record_schema(inputs: &[InputSchema], dialect: Dialect) -> Value {
    let mut properties = Map::new();
    for field in inputs {
        let kind = match field.kind {
            ColumnType::Integer => "integer",
            ColumnType::Float => "number",
            ColumnType::Boolean => "boolean",
            ColumnType::String | ColumnType::Categorical | ColumnType::Text => "string",
            ColumnType::Datetime => {
                properties.insert(field.name.clone(), datetime(field.nullable, dialect));
                continue;
            }
        };
        let mut property = Map::new();
        match (field.nullable, dialect) {
            (false, _) => {
                property.insert("type".into(), json!(kind));
            }
            (true, Dialect::JsonSchema) => {
                property.insert("type".into(), json!([kind, "null"]));
            }
            (true, Dialect::OpenApi30) => {
                property.insert("type".into(), json!(kind));
                property.insert("nullable".into(), json!(true));
            }
        }
        if field.kind == ColumnType::Integer {
            // Integers are held as 64-bit floats: beyond this they would not be exact.
            let bound = MAX_SAFE_INTEGER as i64;
            property.insert("minimum".into(), json!(-bound));
            property.insert("maximum".into(), json!(bound));
        }
        if let Some(max) = field.max_length {
            property.insert("maxLength".into(), json!(max));
        }
        if field.kind == ColumnType::Text && !field.nullable {
            // A blank text is a missing one.
            property.insert("pattern".into(), json!("\\S"));
        }
        if let Some(levels) = &field.levels {
            match dialect {
                Dialect::JsonSchema => property.insert("examples".into(), json!(levels)),
                Dialect::OpenApi30 => property.insert("example".into(), json!(levels.first())),
            };
        }
        if let Some([low, high]) = field.training_range {
            property.insert(
                "description".into(),
                json!(format!("seen in training from {low} to {high}")),
            );
        }
        properties.insert(field.name.clone(), Value::Object(property));
    }
    let required: Vec<&str> = inputs
        .iter()
        .filter(|f| !f.nullable)
        .map(|f| f.name.as_str())
        .collect();
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": true,
    });
    // OpenAPI 3.0 does not allow an empty list of required properties.
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    if dialect == Dialect::JsonSchema {
        schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    }
    schema
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
