//! Training end to end on the bundled sample, on the embedded default and on moto alike: what is
//! written and registered, idempotency, serving reproducing the test predictions, races, a
//! multiclass data set, and every bad input ending in a clear error with nothing registered.

use mlops_local::EventLog;
use mlops_shared::artifact::ModelArtifact;
use mlops_shared::evaluate::evaluate;
use mlops_shared::features::RawFrame;
use mlops_shared::ingest::{catalog, Stream};
use mlops_shared::learn::LearnError;
use mlops_shared::model_registry::{self, ModelStatus};
use mlops_shared::names::{DatasetName, ModelName, ObjectKey};
use mlops_shared::ports::Backends;
use mlops_shared::predict;
use mlops_shared::spec::DatasetSpec;
use mlops_shared::train::TrainError;
use mlops_shared::training_data::DataError;
use mlops_tests::{
    aws_backends, dataset_name, flights_sample, flights_spec, gunzip, ingest, install_spec,
    json_object, key, local_backends, model_name, train,
};
use polars::prelude::*;

const SAMPLE_MONTHS: [&str; 4] = ["01", "02", "03", "07"];

fn sample_files() -> Vec<(String, Vec<u8>)> {
    SAMPLE_MONTHS
        .iter()
        .map(|m| (format!("flights-2013-{m}.csv.gz"), flights_sample(m)))
        .collect()
}

async fn trains_registers_and_writes_every_output(backends: Backends) {
    ingest(&backends, &flights_spec(), sample_files()).await;
    let outcome = train(&backends, "flights").await.expect("trains");
    let record = &outcome.record;
    assert!(outcome.created);
    assert_eq!((record.version, record.status), (1, ModelStatus::Candidate));
    assert_eq!(record.data_versions.len(), 4);
    for metric in [
        "roc_auc",
        "pr_auc",
        "f1",
        "log_loss",
        "accuracy",
        "precision",
        "recall",
    ] {
        assert!(record.metrics.contains_key(metric), "missing {metric}");
    }
    assert!(record.metrics["roc_auc"] > 0.6, "{:?}", record.metrics);

    // The registry points at an artifact that is there and has the registered hash.
    let artifact = backends
        .store
        .get(&key(&record.artifact_key))
        .await
        .expect("artifact");
    assert_eq!(hex_sha256(&artifact.bytes), record.artifact_sha256);
    assert_eq!(artifact.bytes.len() as u64, record.artifact_bytes);
    let checksum_key = format!("{}.sha256", record.artifact_key);
    let checksum = backends
        .store
        .get(&key(&checksum_key))
        .await
        .expect("checksum file")
        .bytes;
    assert_eq!(
        String::from_utf8(checksum).expect("text"),
        format!("{}  model.bin\n", record.artifact_sha256)
    );
    let decoded = ModelArtifact::decode(&artifact.bytes).expect("decodes");
    assert_eq!(
        (decoded.version, decoded.classes.clone()),
        (1, vec!["0".to_owned(), "1".to_owned()])
    );
    assert!(decoded.threshold.is_some());
    assert!(!decoded
        .inputs
        .iter()
        .any(|f| f.name == "late" || f.name == "dep_delay"));
    assert!(record.artifact_key.starts_with("models/flights/1/"));
    let registered =
        model_registry::get_version(backends.registry.as_ref(), &model_name("flights"), 1)
            .await
            .expect("reads")
            .expect("registered");
    assert_eq!(&registered, record);

    let metrics = json_object(&backends, &record.metrics_key).await;
    assert_eq!(
        metrics["test"]["confusion_matrix"].as_array().map(Vec::len),
        Some(2)
    );
    for slice in ["origin", "carrier"] {
        let values = metrics["slices"][slice].as_object().expect("slice table");
        assert!(
            values.contains_key("JFK") || values.contains_key("UA"),
            "{slice}: {values:?}"
        );
        assert!(values
            .values()
            .all(|e| e["rows"].as_u64().is_some_and(|n| n > 0)));
    }
    assert!(metrics["candidates"]
        .as_array()
        .is_some_and(|c| c.len() >= 2));
    // Calibration: ten bins of the test part's scores, every test row in one of them.
    let bins = metrics["calibration"].as_array().expect("calibration bins");
    assert_eq!(bins.len(), 10);
    let binned: u64 = bins.iter().filter_map(|b| b["rows"].as_u64()).sum();
    let tested = json_object(&backends, &record.lineage_key).await["rows"]["test"].as_u64();
    assert_eq!(Some(binned), tested);
    // Per true class, its test rows' positive-class scores in 20 bins.
    let by_class = metrics["score_histograms"].as_array().expect("histograms");
    assert_eq!(by_class.len(), 2);
    let mut counted = 0;
    for class in by_class {
        let counts: Vec<u64> = serde_json::from_value(class["counts"].clone()).expect("counts");
        assert_eq!(counts.len(), 20);
        assert_eq!(Some(counts.iter().sum::<u64>()), class["rows"].as_u64());
        counted += counts.iter().sum::<u64>();
    }
    assert_eq!(Some(counted), tested);
    for bin in bins.iter().filter(|b| b["rows"].as_u64() > Some(0)) {
        let predicted = bin["mean_predicted"].as_f64().expect("a mean");
        assert!(bin["from"].as_f64() <= Some(predicted) && Some(predicted) <= bin["to"].as_f64());
    }

    let lineage = json_object(&backends, &record.lineage_key).await;
    assert_eq!(lineage["fingerprint"], record.fingerprint.as_str());
    assert_eq!(lineage["data_versions"].as_array().map(Vec::len), Some(4));
    let ranges = &lineage["time_ranges"];
    assert!(ranges["train"]["to"].as_str() < ranges["validation"]["from"].as_str());
    assert!(ranges["validation"]["to"].as_str() < ranges["test"]["from"].as_str());
    let rows = &lineage["rows"];
    let parts: u64 = ["train", "validation", "test"]
        .iter()
        .filter_map(|p| rows[*p].as_u64())
        .sum();
    assert_eq!(
        Some(parts + rows["without_target"].as_u64().unwrap_or(0)),
        rows["loaded"].as_u64()
    );

    let reference = json_object(&backends, &record.reference_key).await;
    let features = reference["features"].as_array().expect("features");
    assert!(features
        .iter()
        .any(|f| f["name"] == "distance" && f["kind"] == "numeric"));
    assert!(features
        .iter()
        .any(|f| f["name"] == "time_hour.day_of_week" && f["kind"] == "categorical"));
    // The model's scores on the held-out test part, one per row, for prediction drift.
    let predictions = &reference["predictions"];
    let labelled: u64 = predictions["labels"]["levels"]
        .as_object()
        .expect("levels")
        .values()
        .filter_map(|n| n.as_u64())
        .sum();
    assert_eq!(predictions["score"]["count"].as_u64(), Some(labelled));
    assert_eq!(Some(labelled), rows["test"].as_u64());

    let card = backends
        .store
        .get(&key(&record.card_key))
        .await
        .expect("card");
    let card = String::from_utf8(card.bytes).expect("UTF-8");
    assert!(card.contains("flights — version 1"));
    assert!(card.contains("<svg") && card.contains("ROC curve"));
    assert!(card.contains("Calibration (test, 10 bins)"));
    assert!(card.contains("What drives its decisions") && card.contains("exact TreeSHAP"));
    assert!(
        card.contains("Scores by true class") && card.contains("aria-label=\"scores of class 1\"")
    );
    assert!(card.contains("origin = JFK"));
    assert!(
        !card.contains("<script"),
        "the card is self-contained and static"
    );
}

#[tokio::test]
async fn training_writes_and_registers_a_candidate_on_the_embedded_default() {
    let (backends, dir) = local_backends();
    trains_registers_and_writes_every_output(backends).await;
    let events = EventLog::new(dir.path().join("events.jsonl"))
        .read()
        .expect("event log");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].detail_type, "ModelTrained");
    assert_eq!(events[0].detail["version"], 1);
}

#[tokio::test]
async fn training_writes_and_registers_a_candidate_on_s3_and_dynamodb() {
    let backends = aws_backends().await.backends;
    trains_registers_and_writes_every_output(backends).await;
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn the_same_input_twice_registers_one_model_and_new_data_a_second() {
    let (backends, _dir) = local_backends();
    ingest(&backends, &flights_spec(), sample_files()).await;
    let first = train(&backends, "flights").await.expect("trains");
    let again = train(&backends, "flights").await.expect("reports");
    assert!(!again.created);
    assert_eq!(again.record, first.record);

    // A new data version changes the fingerprint: a new version is trained.
    let january = gunzip(&flights_sample("01"));
    let half: String = january
        .lines()
        .take(1500)
        .map(|l| format!("{l}\n"))
        .collect();
    ingest(
        &backends,
        &flights_spec(),
        vec![("flights-2013-01-half.csv".into(), half.into_bytes())],
    )
    .await;
    let second = train(&backends, "flights").await.expect("trains");
    assert!(second.created);
    assert_eq!(second.record.version, 2);
    assert_ne!(second.record.fingerprint, first.record.fingerprint);
    let versions = model_registry::versions(backends.registry.as_ref(), &model_name("flights"))
        .await
        .expect("reads");
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
}

async fn concurrent_runs_register_one_version(backends: Backends) {
    ingest(&backends, &flights_spec(), sample_files()).await;
    let (a, b) = tokio::join!(train(&backends, "flights"), train(&backends, "flights"));
    let (a, b) = (a.expect("first run"), b.expect("second run"));
    assert_eq!(
        a.record.version, b.record.version,
        "both report the one registered version"
    );
    assert_eq!(
        u8::from(a.created) + u8::from(b.created),
        1,
        "exactly one registered"
    );
    let versions = model_registry::versions(backends.registry.as_ref(), &model_name("flights"))
        .await
        .expect("reads");
    assert_eq!(versions.len(), 1);
    // The loser's files are gone: only the registered version has a folder.
    let files = backends.store.list("models/flights/").await.expect("lists");
    let prefix = format!("models/flights/{}/", a.record.version);
    assert!(
        files.iter().all(|f| f.key.as_str().starts_with(&prefix)),
        "{files:?}"
    );
    // Neither run is left pending: the winner registered, the loser withdrew.
    assert_eq!(
        model_registry::pending_runs(backends.registry.as_ref(), &model_name("flights"))
            .await
            .expect("reads"),
        []
    );
}

/// A run killed after taking version 2 (its number and a half-written folder), beside a run
/// still training as version 3.
async fn runs_killed_mid_write_are_swept_once_they_cannot_be_running(backends: Backends) {
    ingest(&backends, &flights_spec(), sample_files()).await;
    train(&backends, "flights").await.expect("trains");
    let model = model_name("flights");
    let registry = backends.registry.as_ref();
    for version in [2, 3] {
        let taken = model_registry::allocate_version(
            registry,
            &model,
            &dataset_name("flights"),
            mlops_shared::clock::now(),
        )
        .await
        .expect("numbers");
        assert_eq!(taken, version);
        backends
            .store
            .put(
                &key(&format!("models/flights/{version}/model.bin")),
                b"half".to_vec(),
            )
            .await
            .expect("writes");
    }
    let now = chrono::Utc::now();
    let later = now + mlops_shared::train::outputs::ABANDONED_AFTER;
    let sweep = |at| {
        mlops_shared::train::outputs::sweep_abandoned(backends.store.as_ref(), registry, &model, at)
    };
    assert_eq!(
        sweep(now).await.expect("sweeps"),
        Vec::<u64>::new(),
        "both may still be running"
    );
    assert_eq!(sweep(later).await.expect("sweeps"), [2, 3]);
    let files = backends.store.list("models/flights/").await.expect("lists");
    assert!(
        files
            .iter()
            .all(|f| f.key.as_str().starts_with("models/flights/1/")),
        "{files:?}"
    );
    assert_eq!(
        model_registry::pending_runs(registry, &model)
            .await
            .expect("reads"),
        []
    );
    // Numbers are never handed out twice: the next run is version 4.
    assert_eq!(
        model_registry::allocate_version(
            registry,
            &model,
            &dataset_name("flights"),
            mlops_shared::clock::now()
        )
        .await
        .expect("numbers"),
        4
    );
}

#[tokio::test]
async fn runs_killed_mid_write_are_swept_on_the_embedded_default() {
    let (backends, _dir) = local_backends();
    runs_killed_mid_write_are_swept_once_they_cannot_be_running(backends).await;
}

#[tokio::test]
async fn runs_killed_mid_write_are_swept_on_dynamodb() {
    runs_killed_mid_write_are_swept_once_they_cannot_be_running(aws_backends().await.backends)
        .await;
}

#[tokio::test]
async fn concurrent_runs_on_the_same_input_register_one_version_on_the_embedded_default() {
    let (backends, _dir) = local_backends();
    concurrent_runs_register_one_version(backends).await;
}

#[tokio::test]
async fn concurrent_runs_on_the_same_input_register_one_version_on_dynamodb() {
    let backends = aws_backends().await.backends;
    concurrent_runs_register_one_version(backends).await;
}

/// The curated rows of the test part, in the order training evaluated them.
async fn test_rows(
    backends: &Backends,
    record: &model_registry::ModelVersionRecord,
) -> (RawFrame, Vec<String>) {
    let lineage = json_object(backends, &record.lineage_key).await;
    let from = lineage["time_ranges"]["test"]["from"]
        .as_str()
        .expect("test range")
        .to_owned();
    let from = chrono::DateTime::parse_from_rfc3339(&from)
        .expect("RFC 3339")
        .timestamp_millis();
    let mut frames = Vec::new();
    let mut versions = catalog::versions(backends.registry.as_ref(), &dataset_name("flights"))
        .await
        .expect("reads");
    versions.sort_by(|a, b| a.version.cmp(&b.version));
    for v in versions {
        let bytes = backends
            .store
            .get(&key(&v.data_key))
            .await
            .expect("curated")
            .bytes;
        frames.push(
            ParquetReader::new(std::io::Cursor::new(bytes))
                .finish()
                .expect("parquet"),
        );
    }
    let mut all = frames.remove(0);
    for f in frames {
        all.vstack_mut(&f).expect("same schema");
    }
    let spec = DatasetSpec::parse(&flights_spec(), "toml")
        .expect("valid")
        .spec;
    let columns: Vec<_> = spec.columns.iter().collect();
    let raw = RawFrame::from_polars(&all, &columns).expect("typed");
    let times = match raw.column("time_hour").expect("time") {
        mlops_shared::features::RawColumn::Datetime(t) => t.clone(),
        other => panic!("time_hour is {}", other.kind_name()),
    };
    let late = match raw.column("late").expect("target") {
        mlops_shared::features::RawColumn::Numeric(v) => v.clone(),
        other => panic!("late is {}", other.kind_name()),
    };
    let mut rows: Vec<usize> = (0..raw.rows())
        .filter(|&i| late[i].is_some() && times[i].is_some_and(|t| t >= from))
        .collect();
    rows.sort_by_key(|&i| (times[i], i));
    let labels = rows
        .iter()
        .map(|&i| format!("{}", late[i].unwrap_or(-1.0) as i64))
        .collect();
    (raw.take(&rows), labels)
}

#[tokio::test]
async fn serving_an_artifact_reproduces_the_test_predictions_exactly() {
    let (backends, _dir) = local_backends();
    ingest(&backends, &flights_spec(), sample_files()).await;
    let record = train(&backends, "flights").await.expect("trains").record;
    let artifact = artifact_of(&backends, &record).await;
    let (rows, labels) = test_rows(&backends, &record).await;
    let probabilities = artifact.predict(&rows).expect("predicts");
    let y: Vec<u32> = labels
        .iter()
        .map(|l| {
            artifact
                .classes
                .iter()
                .position(|c| c == l)
                .expect("known class") as u32
        })
        .collect();
    let served = evaluate(&probabilities, &y, &artifact.classes, artifact.threshold);
    let metrics = json_object(&backends, &record.metrics_key).await;
    let trained: mlops_shared::evaluate::Evaluation =
        serde_json::from_value(metrics["test"].clone()).expect("evaluation");
    // Bit-for-bit equal metrics over the same rows means bit-for-bit equal predictions.
    assert_eq!(served, trained);

    // Each served explanation sums to its prediction's log-odds, and averaged over the test part
    // they are the global importance training wrote.
    let options = mlops_shared::predict::PredictOptions {
        top_k: None,
        explain: true,
    };
    let explained =
        mlops_shared::predict::predict_with(&artifact, &rows, "test", options).expect("explains");
    let mut totals: std::collections::BTreeMap<String, f64> = Default::default();
    for prediction in &explained {
        let explanation = prediction.explanation.as_ref().expect("asked for");
        let score = prediction.score.expect("binary");
        let sum: f64 = explanation
            .contributions
            .iter()
            .map(|c| c.contribution)
            .sum();
        assert!((explanation.base_value + sum - (score / (1.0 - score)).ln()).abs() < 1e-9);
        for c in &explanation.contributions {
            *totals.entry(c.feature.clone()).or_default() += c.contribution.abs();
        }
    }
    let importance = &metrics["importance"];
    assert_eq!(importance["rows"].as_u64(), Some(explained.len() as u64));
    let features = importance["features"].as_array().expect("features");
    assert_eq!(features.len(), artifact.pipeline.feature_names().len());
    for f in features {
        let name = f["feature"].as_str().expect("a name");
        let mean = totals[name] / explained.len() as f64;
        let written = f["mean_abs_contribution"].as_f64().expect("a number");
        assert!((mean - written).abs() < 1e-9, "{name}: {mean} vs {written}");
    }
}

/// A synthetic three-class data set: the species follows from two measurements and a colour.
fn multiclass_csv(rows: usize) -> String {
    let mut out = String::from("length,width,colour,species\n");
    for i in 0..rows {
        let length = ((i * 37) % 100) as f64 / 10.0;
        let width = ((i * 53) % 100) as f64 / 20.0;
        let colour = ["red", "green", "blue", "white"][i % 4];
        let species = if length < 3.5 {
            "setosa"
        } else if length + width > 9.0 || colour == "blue" {
            "virginica"
        } else {
            "versicolor"
        };
        out.push_str(&format!("{length},{width},{colour},{species}\n"));
    }
    out
}

const MULTICLASS_SPEC: &str = r#"
[dataset]
name = "plants"
version = 1

[[columns]]
name = "length"
type = "float"

[[columns]]
name = "width"
type = "float"

[[columns]]
name = "colour"
type = "categorical"

[[columns]]
name = "species"
type = "string"
allowed = ["setosa", "versicolor", "virginica"]

[target]
column = "species"
kind = "multiclass"

[features]
columns = ["length", "width", "colour"]

[split]
strategy = "random"
train = 0.6
validation = 0.2
test = 0.2
seed = 3

[training]
seed = 3
class_balance = "oversample"
[[training.candidates]]
model = "logistic_regression"
[[training.candidates]]
model = "gradient_boosting"
search = { num_leaves = [7], rounds = [100] }

[promotion]
primary_metric = "f1_macro"
slices = ["colour"]
"#;

#[tokio::test]
async fn a_multiclass_target_trains_with_per_class_metrics() {
    let (backends, _dir) = local_backends();
    ingest(
        &backends,
        MULTICLASS_SPEC,
        vec![("plants.csv".into(), multiclass_csv(1200).into_bytes())],
    )
    .await;
    let record = train(&backends, "plants").await.expect("trains").record;
    assert!(record.metrics["f1_macro"] > 0.9, "{:?}", record.metrics);
    assert!(
        !record.metrics.contains_key("f1"),
        "binary-only metrics are absent"
    );
    let metrics = json_object(&backends, &record.metrics_key).await;
    let per_class = metrics["test"]["per_class"].as_array().expect("per class");
    let classes: Vec<&str> = per_class
        .iter()
        .filter_map(|c| c["class"].as_str())
        .collect();
    assert_eq!(classes, vec!["setosa", "versicolor", "virginica"]);
    assert_eq!(
        metrics["test"]["confusion_matrix"].as_array().map(Vec::len),
        Some(3)
    );
    assert!(metrics["threshold"].is_null());
    let lineage = json_object(&backends, &record.lineage_key).await;
    let rows = &lineage["rows"];
    assert!(
        rows["train_after_balancing"].as_u64() > rows["train"].as_u64(),
        "oversampled: {rows}"
    );
    assert_eq!(artifact_of(&backends, &record).await.classes, classes);
}

/// A boolean column written in words its spec declares ("Wild" / "Cultivated") is read by
/// ingest, kept in the artifact, listed in the signature and taken by the API in any case.
#[tokio::test]
async fn a_boolean_in_its_own_words_is_read_alike_at_ingest_and_at_predict() {
    let (backends, _dir) = local_backends();
    let spec = MULTICLASS_SPEC
        .replace(
            "[target]",
            "[[columns]]\nname = \"wild\"\ntype = \"boolean\"\ntrue_values = [\"Wild\"]\nfalse_values = [\"Cultivated\"]\n\n[target]",
        )
        .replace(
            "columns = [\"length\", \"width\", \"colour\"]",
            "columns = [\"length\", \"width\", \"colour\", \"wild\"]",
        );
    let mut csv = String::from("length,width,colour,species,wild\n");
    for (i, line) in multiclass_csv(1200).lines().skip(1).enumerate() {
        let wild = if i % 3 == 0 { "Wild" } else { "Cultivated" };
        csv.push_str(&format!("{line},{wild}\n"));
    }
    ingest(
        &backends,
        &spec,
        vec![("plants.csv".into(), csv.into_bytes())],
    )
    .await;
    let record = train(&backends, "plants").await.expect("trains").record;
    let model = artifact_of(&backends, &record).await;
    let signature = predict::schema(&model);
    let wild = signature
        .inputs
        .iter()
        .find(|f| f.name == "wild")
        .expect("the boolean input");
    assert_eq!(
        (&wild.true_values[..], &wild.false_values[..]),
        (&["wild".to_owned()][..], &["cultivated".to_owned()][..])
    );
    let body = serde_json::json!({"records": [
        {"length": 5.0, "width": 2.0, "colour": "red", "wild": "CULTIVATED"},
        {"length": 5.0, "width": 2.0, "colour": "red", "wild": "wild"},
        {"length": 5.0, "width": 2.0, "colour": "red", "wild": "feral"},
    ]});
    let Err(predict::RequestError::Invalid { problems, .. }) = predict::parse(
        body.to_string().as_bytes(),
        &model.request_fields(),
        &predict::Limits::default(),
    ) else {
        panic!("a word the spec does not declare is refused");
    };
    assert_eq!(
        (
            problems.len(),
            problems[0].record,
            problems[0].field.as_deref()
        ),
        (1, Some(2), Some("wild"))
    );
    let body = serde_json::json!({ "records": body["records"].as_array().map(|r| &r[..2]) });
    let frame = predict::parse(
        body.to_string().as_bytes(),
        &model.request_fields(),
        &predict::Limits::default(),
    )
    .expect("the declared words are read");
    let scored = predict::predict(&model, &frame, "req").expect("scores");
    assert_eq!(scored.len(), 2);
}

/// Trains `dataset` after ingesting `files` under `spec`, expecting an error and no trace of a
/// model in the registry or the store.
async fn fails_cleanly(spec: &str, files: Vec<(String, Vec<u8>)>) -> TrainError {
    let (backends, _dir) = local_backends();
    let dataset = DatasetSpec::parse(spec, "toml")
        .expect("valid")
        .spec
        .dataset
        .name;
    if files.is_empty() {
        install_spec(&backends, spec).await;
    } else {
        ingest(&backends, spec, files).await;
    }
    let error = train(&backends, dataset.as_str())
        .await
        .expect_err("training fails");
    let versions =
        model_registry::versions(backends.registry.as_ref(), &ModelName::of_dataset(&dataset))
            .await
            .expect("reads");
    assert!(versions.is_empty(), "nothing registered");
    let files = backends.store.list("models/").await.expect("lists");
    assert!(files.is_empty(), "nothing written: {files:?}");
    error
}

fn plants_with(species: impl Fn(usize) -> &'static str) -> Vec<(String, Vec<u8>)> {
    let csv: String = std::iter::once("length,width,colour,species".to_owned())
        .chain((0..300).map(|i| format!("{},{},red,{}", i % 10, i % 7, species(i))))
        .map(|l| l + "\n")
        .collect();
    vec![("plants.csv".into(), csv.into_bytes())]
}

#[tokio::test]
async fn no_curated_data_is_a_clear_error() {
    let error = fails_cleanly(&flights_spec(), vec![]).await;
    assert!(
        matches!(error, TrainError::Data(DataError::NoData { .. })),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("ingest a file under raw/flights/"),
        "{error}"
    );
}

#[tokio::test]
async fn a_target_with_one_class_is_a_clear_error() {
    let error = fails_cleanly(MULTICLASS_SPEC, plants_with(|_| "setosa")).await;
    assert!(matches!(error, TrainError::OneClass { .. }), "{error}");
}

#[tokio::test]
async fn too_few_rows_of_a_class_is_a_clear_error() {
    let error = fails_cleanly(
        MULTICLASS_SPEC,
        plants_with(|i| {
            if i % 100 == 0 {
                "virginica"
            } else if i % 2 == 0 {
                "setosa"
            } else {
                "versicolor"
            }
        }),
    )
    .await;
    assert!(
        matches!(&error, TrainError::TooFewRows { class, .. } if class == "virginica"),
        "{error}"
    );
}

#[tokio::test]
async fn an_all_null_feature_is_a_clear_error() {
    let spec = MULTICLASS_SPEC.replace(
        "name = \"width\"\ntype = \"float\"",
        "name = \"width\"\ntype = \"float\"\nnullable = true",
    );
    let csv: String = std::iter::once("length,width,colour,species".to_owned())
        .chain((0..300).map(|i| {
            format!(
                "{},,red,{}",
                i % 10,
                ["setosa", "versicolor", "virginica"][i % 3]
            )
        }))
        .map(|l| l + "\n")
        .collect();
    let error = fails_cleanly(&spec, vec![("plants.csv".into(), csv.into_bytes())]).await;
    assert!(
        error.to_string().contains("\"width\" has no values"),
        "{error}"
    );
}

#[tokio::test]
async fn a_spec_naming_a_column_the_data_lacks_is_a_clear_error() {
    let (backends, _dir) = local_backends();
    ingest(
        &backends,
        MULTICLASS_SPEC,
        plants_with(|i| ["setosa", "versicolor", "virginica"][i % 3]),
    )
    .await;
    // The spec gains a column after the data was curated.
    let changed = MULTICLASS_SPEC
        .replace("version = 1", "version = 2")
        .replace(
            "[target]",
            "[[columns]]\nname = \"height\"\ntype = \"float\"\nrequired = false\n\n[target]",
        )
        .replace(
            "columns = [\"length\", \"width\", \"colour\"]",
            "columns = [\"length\", \"width\", \"colour\", \"height\"]",
        );
    install_spec(&backends, &changed).await;
    let error = train(&backends, "plants").await.expect_err("fails");
    assert!(
        matches!(&error, TrainError::Data(DataError::MissingColumn { column, .. }) if column == "height"),
        "{error}"
    );
    assert!(
        model_registry::versions(backends.registry.as_ref(), &model_name("plants"))
            .await
            .expect("reads")
            .is_empty()
    );
}

#[tokio::test]
async fn a_model_that_does_not_converge_is_a_clear_error() {
    let spec = MULTICLASS_SPEC.replace(
        "[[training.candidates]]\nmodel = \"logistic_regression\"",
        "[[training.candidates]]\nmodel = \"logistic_regression\"\nsearch = { max_iter = [1] }",
    );
    let error = fails_cleanly(
        &spec,
        plants_with(|i| ["setosa", "versicolor", "virginica"][i % 3]),
    )
    .await;
    assert!(
        matches!(
            error,
            TrainError::Learn {
                source: LearnError::NotConverged { .. },
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("raise max_iter"), "{error}");
}

#[tokio::test]
async fn a_training_window_leaves_out_versions_ingested_before_it() {
    let (backends, _dir) = local_backends();
    let spec = MULTICLASS_SPEC.replace(
        "seed = 3\nclass_balance",
        "seed = 3\nwindow_days = 30\nclass_balance",
    );
    ingest(
        &backends,
        &spec,
        vec![("plants.csv".into(), multiclass_csv(1200).into_bytes())],
    )
    .await;
    // A version ingested a year ago whose data is gone: reading it would fail.
    let old = catalog::DataVersionRecord {
        dataset: DatasetName::parse("plants").unwrap(),
        version: "0000000000000000".into(),
        rows: 10,
        data_key: ObjectKey::parse("curated/plants/0000000000000000/data.parquet").unwrap(),
        data_sha256: "0".repeat(64),
        manifest_key: ObjectKey::parse("curated/plants/0000000000000000/manifest.json").unwrap(),
        source_key: ObjectKey::parse("raw/plants/old.csv").unwrap(),
        source_sha256: "0".repeat(64),
        spec_version: 1,
        ingested_at: "2025-11-01T00:00:00Z".parse().unwrap(),
    };
    catalog::record_version(backends.registry.as_ref(), &old, Stream::Data)
        .await
        .expect("records");
    let record = train(&backends, "plants")
        .await
        .expect("the old version is outside the window")
        .record;
    assert_eq!(record.data_versions.len(), 1);
    assert!(!record.data_versions.contains(&old.version));

    // Without the window the old version is selected, and its missing data is an error.
    install_spec(&backends, MULTICLASS_SPEC).await;
    let error = train(&backends, "plants")
        .await
        .expect_err("old data is gone");
    assert!(
        error
            .to_string()
            .contains("curated version 0000000000000000"),
        "{error}"
    );
}

/// A registered version's artifact, as serving loads it.
async fn artifact_of(
    backends: &Backends,
    record: &mlops_shared::model_registry::ModelVersionRecord,
) -> ModelArtifact {
    let bytes = backends
        .store
        .get(&key(&record.artifact_key))
        .await
        .expect("artifact")
        .bytes;
    ModelArtifact::decode(&bytes).expect("decodes")
}

/// The classes a registered version's artifact predicts.
async fn classes_of(
    backends: &Backends,
    record: &mlops_shared::model_registry::ModelVersionRecord,
) -> Vec<String> {
    artifact_of(backends, record).await.classes
}

/// The multiclass plants spec with `lines` added to its [target] section.
pub(crate) fn plants_spec_with_target(lines: &str) -> String {
    MULTICLASS_SPEC.replace(
        "[target]\ncolumn = \"species\"\nkind = \"multiclass\"\n",
        &format!("[target]\ncolumn = \"species\"\nkind = \"multiclass\"\n{lines}\n"),
    )
}

/// One virginica in a hundred: too few to train on as a class of its own.
pub(crate) fn plants_with_rare_virginica(offset: usize) -> Vec<(String, Vec<u8>)> {
    let mut files = plants_with(|i| {
        if i % 100 == 0 {
            "virginica"
        } else if i % 2 == 0 {
            "setosa"
        } else {
            "versicolor"
        }
    });
    // A later file of other rows (the lengths shifted), for a second version.
    if offset > 0 {
        let csv = String::from_utf8(files[0].1.clone()).expect("UTF-8");
        let shifted: String = csv
            .lines()
            .enumerate()
            .map(|(i, line)| match (i, line.split_once(',')) {
                (0, _) | (_, None) => format!("{line}\n"),
                (_, Some((length, rest))) => format!("{}.5,{rest}\n", length),
            })
            .collect();
        files = vec![(format!("plants-{offset}.csv"), shifted.into_bytes())];
    }
    files
}

#[tokio::test]
async fn rare_classes_are_dropped_or_merged_as_the_spec_says_and_the_lineage_counts_them() {
    for (policy, classes, dropped, merged) in [
        (
            "rare_classes = \"drop\"",
            vec!["setosa", "versicolor"],
            3,
            0,
        ),
        (
            "rare_classes = { merge_into = \"versicolor\" }",
            vec!["setosa", "versicolor"],
            0,
            3,
        ),
    ] {
        let (backends, _dir) = local_backends();
        let spec = plants_spec_with_target(policy);
        ingest(&backends, &spec, plants_with_rare_virginica(0)).await;
        let first = train(&backends, "plants").await.expect("trains").record;
        let artifact = json_object(&backends, &first.lineage_key).await;
        let target = &artifact["target"];
        assert_eq!(
            target["dropped"]["virginica"].as_u64().unwrap_or(0),
            dropped,
            "{policy}: {target}"
        );
        assert_eq!(
            target["merged"]["virginica"].as_u64().unwrap_or(0),
            merged,
            "{policy}: {target}"
        );
        assert_eq!(
            artifact["rows"]["without_target"].as_u64(),
            Some(dropped),
            "{policy}"
        );
        assert_eq!(classes_of(&backends, &first).await, classes, "{policy}");
        let card = backends
            .store
            .get(&key(&first.card_key))
            .await
            .expect("card")
            .bytes;
        let card = String::from_utf8(card).expect("UTF-8");
        assert!(
            card.contains("virginica (3)"),
            "{policy}: the card says what was done"
        );

        // A second version is judged against the champion on its test part, rebuilt with the
        // same classes (a dropped or merged class is not a class of either model).
        let request = mlops_shared::promotion::Request::new("first", "test", None).expect("valid");
        let promoter = mlops_shared::promotion::Promoter::new(&backends);
        let decide = |version| mlops_shared::promotion::Command::Decide {
            model: model_name("plants"),
            version,
        };
        promoter
            .execute(&decide(1), &request)
            .await
            .expect("first champion");
        ingest(&backends, &spec, plants_with_rare_virginica(1)).await;
        let second = train(&backends, "plants")
            .await
            .expect("trains again")
            .record;
        assert_eq!(second.version, 2);
        let request = mlops_shared::promotion::Request::new("second", "test", None).expect("valid");
        let decided = promoter
            .execute(&decide(2), &request)
            .await
            .unwrap_or_else(|e| {
                panic!("{policy}: the champion scored on the candidate's test part: {e}")
            });
        assert!(decided.decision.is_some(), "{policy}: {}", decided.message);
    }
}

#[tokio::test]
async fn a_target_map_makes_the_classes_and_leaves_unmapped_values_out() {
    let (backends, _dir) = local_backends();
    let spec = plants_spec_with_target("map = { setosa = \"small\", versicolor = \"large\" }");
    ingest(&backends, &spec, plants_with_rare_virginica(0)).await;
    let record = train(&backends, "plants").await.expect("trains").record;
    let lineage = json_object(&backends, &record.lineage_key).await;
    assert_eq!(lineage["target"]["unmapped_rows"], 3, "{lineage}");
    assert_eq!(lineage["target"]["map"]["setosa"], "small");
    assert_eq!(classes_of(&backends, &record).await, ["large", "small"]);
}

#[tokio::test]
async fn a_rare_class_with_the_default_policy_names_the_remedy() {
    let error = fails_cleanly(MULTICLASS_SPEC, plants_with_rare_virginica(0)).await;
    let message = error.to_string();
    assert!(message.contains("\"virginica\""), "{message}");
    assert!(message.contains("rare_classes = \"drop\""), "{message}");
}
