//! The template's Glue table describes the inference records the predict function writes: every
//! field a record can carry is a column of a type that reads it, and every column is a field, so
//! an Athena query over `inference_records` sees what was predicted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use mlops_local::LocalFolderStore;
use mlops_shared::artifact::ModelArtifact;
use mlops_shared::ports::ObjectStore;
use mlops_shared::predict::{
    parse, predict_with, InferenceLog, Limits, Loaded, PredictOptions, Sampling, Selector,
};
use mlops_shared::sample_artifacts::{artifact, text_artifact};
use serde_json::Value;

/// The `Columns:` of the `InferenceRecordsTable` resource, name to type, read as text as the
/// other template checks read it (CloudFormation's tags are not plain YAML).
fn columns(template: &str) -> BTreeMap<String, String> {
    let lines: Vec<&str> = template.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "  InferenceRecordsTable:")
        .expect("template.yaml has the InferenceRecordsTable");
    let block = lines[start + 1..]
        .iter()
        .take_while(|l| l.is_empty() || l.starts_with("   "))
        .skip_while(|l| l.trim() != "Columns:")
        .skip(1);
    let mut columns = BTreeMap::new();
    let mut name = None;
    for line in block.map(|l| l.trim()) {
        if let Some(n) = line.strip_prefix("- Name: ") {
            name = Some(n.to_owned());
        } else if let (Some(kind), Some(n)) = (line.strip_prefix("Type: "), name.take()) {
            columns.insert(n, kind.to_owned());
        }
    }
    columns
}

/// The records `model` leaves for one request asking for `options`.
async fn records(model: ModelArtifact, body: &str, options: PredictOptions) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(LocalFolderStore::new(dir.path().to_path_buf()));
    let sampling = Sampling::new(1.0, 1, Duration::from_secs(3600)).expect("valid");
    let log = InferenceLog::new(store.clone(), sampling);
    let frame = parse(body.as_bytes(), &model.request_fields(), &Limits::default()).expect("reads");
    let predictions = predict_with(&model, &frame, "req", options).expect("predicts");
    let loaded = Arc::new(Loaded::new(1, model));
    log.record(
        "req",
        &Selector::champion(),
        &loaded,
        frame,
        &predictions,
        None,
    );
    log.flush().await;
    let mut out = Vec::new();
    for info in store.list("inference/").await.expect("lists") {
        let bytes = store.get(&info.key).await.expect("reads").bytes;
        for line in mlops_tests::gunzip(&bytes).lines() {
            out.push(serde_json::from_str(line).expect("a record"));
        }
    }
    out
}

/// Whether a column of Hive type `kind` reads the JSON `value` (the JSON SerDe reads an object
/// into a string column as its JSON text).
fn reads(kind: &str, value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(_) => kind == "string",
        Value::Number(n) if n.is_i64() || n.is_u64() => kind == "bigint" || kind == "double",
        Value::Number(_) => kind == "double",
        Value::Bool(_) => kind == "boolean",
        Value::Array(_) => kind.starts_with("array<"),
        Value::Object(_) => {
            kind.starts_with("map<") || kind.starts_with("struct<") || kind == "string"
        }
    }
}

#[tokio::test]
async fn the_glue_table_has_a_column_for_every_field_of_an_inference_record() {
    let template = String::from_utf8(mlops_tests::repo_file("template.yaml")).expect("UTF-8");
    let columns = columns(&template);
    assert!(columns.len() > 5, "{columns:?}");
    let all = PredictOptions {
        top_k: Some(2),
        explain: true,
    };
    let mut written = records(
        artifact(),
        r#"{"records": [{"distance": 500, "origin": "EWR"}, {"distance": 99999}]}"#,
        PredictOptions::default(),
    )
    .await;
    written.extend(
        records(
            text_artifact(),
            r#"{"records": [{"title": "green tea leaves", "price": 4.5}]}"#,
            all,
        )
        .await,
    );
    let mut seen = BTreeSet::new();
    for record in &written {
        for (field, value) in record.as_object().expect("a JSON object") {
            if field == "model" {
                continue; // the partition, from the key
            }
            let kind = columns
                .get(field)
                .unwrap_or_else(|| panic!("no column for the field {field:?} of {record}"));
            assert!(reads(kind, value), "{field}: {kind} cannot read {value}");
            seen.insert(field.clone());
        }
    }
    let unused: Vec<&String> = columns.keys().filter(|c| !seen.contains(*c)).collect();
    assert!(unused.is_empty(), "columns no record fills: {unused:?}");
}
