//! Test support: fresh stores on the local moto server (started by `infra/test.sh`) and on temporary
//! folders, the bundled sample, and the repo's event files.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use mlops_aws::{DynamoRegistry, EventBridgePublisher, S3Store};
use mlops_local::{LocalFolderStore, SqliteRegistry};
use mlops_shared::ingest::{Ingestor, Status};
use mlops_shared::names::{DatasetName, ModelName, ObjectKey};
use mlops_shared::ports::Backends;
use mlops_shared::ports::{ObjectStore, RegistryStore};
use mlops_shared::spec::{stored, DatasetSpec};
use mlops_shared::train::{Silent, TrainError, TrainOutcome, Trainer};
use serde_json::Value;

/// The repository root (this crate lives in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn repo_file(relative: &str) -> Vec<u8> {
    let path = repo_root().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A name no other test in this run uses (moto's state is shared by every client).
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

async fn aws_config() -> aws_config::SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run the tests with infra/test.sh, which starts moto on loopback"
    );
    aws_config::load_from_env().await
}

/// A new, empty bucket on the local server.
pub async fn s3_store() -> (S3Store, String) {
    let config = aws_config().await;
    let client = S3Store::client(&config);
    let bucket = unique_name("bucket");
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket on moto");
    (S3Store::new(client, &bucket), bucket)
}

/// A new, empty registry table on the local server.
pub async fn dynamo_registry() -> (DynamoRegistry, String) {
    let config = aws_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("registry");
    DynamoRegistry::create_table(&client, &table)
        .await
        .expect("create table on moto");
    (DynamoRegistry::new(client, &table), table)
}

/// S3, DynamoDB and an EventBridge bus on the local server, with their names. Every event on the
/// bus is also routed to an SQS queue, so tests can read what was published.
pub struct AwsBackends {
    pub backends: Backends,
    pub bucket: String,
    pub table: String,
    pub bus: String,
    queue_url: String,
    sqs: aws_sdk_sqs::Client,
}

pub async fn aws_backends() -> AwsBackends {
    let (store, bucket) = s3_store().await;
    let (registry, table) = dynamo_registry().await;
    let config = aws_config().await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let bus = unique_name("bus");
    events
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("create bus on moto");
    let queue_url = sqs
        .create_queue()
        .queue_name(unique_name("events"))
        .send()
        .await
        .expect("create queue on moto")
        .queue_url
        .expect("queue url");
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("queue arn");
    let rule = unique_name("all");
    events
        .put_rule()
        .name(&rule)
        .event_bus_name(&bus)
        .event_pattern(r#"{"source": ["mlops"]}"#)
        .send()
        .await
        .expect("create rule on moto");
    events
        .put_targets()
        .rule(&rule)
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(queue_arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("add target on moto");
    let backends = Backends {
        store: Arc::new(store),
        registry: Arc::new(registry),
        events: Arc::new(EventBridgePublisher::new(events, &bus)),
    };
    AwsBackends {
        backends,
        bucket,
        table,
        bus,
        queue_url,
        sqs,
    }
}

impl AwsBackends {
    /// The events published on the bus since the last call, as EventBridge delivered them.
    pub async fn received_events(&self) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive from moto");
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return out;
            }
            for message in messages {
                let body = message.body.unwrap_or_default();
                out.push(serde_json::from_str(&body).expect("event is JSON"));
                if let Some(handle) = message.receipt_handle {
                    self.sqs
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .expect("delete from moto");
                }
            }
        }
    }
}

/// The embedded default in a temporary folder, kept alive by the returned guard.
pub fn local_backends() -> (Backends, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    (
        mlops_local::backends(dir.path()).expect("local backends"),
        dir,
    )
}

pub fn local_store() -> (Arc<dyn ObjectStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    (Arc::new(LocalFolderStore::new(dir.path())), dir)
}

pub fn sqlite_registry() -> (Arc<dyn RegistryStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let registry = SqliteRegistry::open(&dir.path().join("registry.sqlite")).expect("open sqlite");
    (Arc::new(registry), dir)
}

/// The bundled flights spec and sample months.
pub fn flights_spec() -> String {
    String::from_utf8(repo_file("infra/datasets/flights.toml")).expect("spec is UTF-8")
}

/// The flights spec with the logistic regression only, so the tests train in seconds.
pub fn quick_flights_spec() -> String {
    let spec = flights_spec();
    let gbdt = spec
        .find("[[training.candidates]]\nmodel = \"gradient_boosting\"")
        .expect("the spec has a gradient boosting candidate");
    let promotion = spec
        .find("[promotion]")
        .expect("the spec has a promotion section");
    format!("{}{}", &spec[..gbdt], &spec[promotion..])
}

/// The quick flights spec searching six candidates (four logistic regressions, two small tree
/// ensembles), fanned out on AWS from `fan_out` candidates.
pub fn wide_search_flights_spec(fan_out: usize) -> String {
    let spec = quick_flights_spec()
        .replace(
            "search = { c = [0.1, 1.0] }",
            "search = { c = [0.01, 0.1, 1.0, 10.0] }\n\n[[training.candidates]]\nmodel = \"gradient_boosting\"\nsearch = { num_leaves = [7, 15], rounds = [40] }",
        )
        .replace(
            "[training]\n",
            &format!("[training]\nfan_out_candidates = {fan_out}\n"),
        );
    assert!(
        spec.contains("rounds = [40]"),
        "the quick spec's search changed"
    );
    spec
}

/// Installs a spec (TOML text) in the store, as `mlops spec put` does.
pub async fn install_spec(backends: &Backends, text: &str) {
    let loaded = DatasetSpec::parse(text, "toml").expect("spec is valid");
    stored::put(backends.store.as_ref(), &loaded, text, "toml")
        .await
        .expect("install spec");
}

/// A file on disk, as `mlops drift --current-file` reads one; its folder goes when it is dropped.
pub struct DataFile {
    _dir: tempfile::TempDir,
    pub name: String,
    pub path: PathBuf,
}

impl DataFile {
    pub fn new(name: &str, bytes: &[u8]) -> DataFile {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("writes the file");
        DataFile {
            _dir: dir,
            name: name.to_owned(),
            path,
        }
    }
}

pub fn flights_sample(month: &str) -> Vec<u8> {
    repo_file(&format!(
        "infra/datasets/flights-sample/flights-2013-{month}.csv.gz"
    ))
}

pub fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("gunzip");
    text
}

pub fn dataset_name(text: &str) -> DatasetName {
    DatasetName::parse(text).expect("valid name")
}

pub fn model_name(text: &str) -> ModelName {
    ModelName::parse(text).expect("valid name")
}

pub fn key(text: &str) -> ObjectKey {
    ObjectKey::parse(text).expect("valid key")
}

pub fn ingestor(backends: &Backends) -> Ingestor {
    Ingestor::new(backends.store.clone(), backends.registry.clone(), 1 << 30)
}

/// Installs `spec` and ingests each (file name, bytes); every file must be accepted.
pub async fn ingest(backends: &Backends, spec: &str, files: Vec<(String, Vec<u8>)>) {
    install_spec(backends, spec).await;
    let dataset = DatasetSpec::parse(spec, "toml")
        .expect("valid")
        .spec
        .dataset
        .name;
    let ingestor = ingestor(backends);
    for (file, bytes) in files {
        let outcome = ingestor
            .upload_and_ingest(&dataset, &file, bytes)
            .await
            .expect("ingests");
        assert_eq!(
            outcome.status,
            Status::Accepted,
            "{file}: {:?}",
            outcome.reasons
        );
    }
}

pub async fn train(backends: &Backends, dataset: &str) -> Result<TrainOutcome, TrainError> {
    Trainer::new(backends)
        .train(&dataset_name(dataset), "test", &Silent)
        .await
}

pub async fn json_object(backends: &Backends, key_text: &str) -> Value {
    let object = backends
        .store
        .get(&key(key_text))
        .await
        .expect("object exists");
    serde_json::from_slice(&object.bytes).expect("JSON")
}

/// Runs a scenario as two tests: on the embedded default and on moto (S3, DynamoDB, EventBridge).
#[macro_export]
macro_rules! on_both_stores {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test]
            async fn on_the_embedded_default() {
                let (backends, _dir) = $crate::local_backends();
                super::$scenario(backends).await;
            }

            #[tokio::test]
            async fn on_dynamodb() {
                super::$scenario($crate::aws_backends().await.backends).await;
            }
        }
    };
}
