//! Test support: fresh stores on the local moto server (started by `infra/test.sh`) and on temporary
//! folders, the bundled sample, and the repo's event files.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use mlops_shared::adapters::{Backends, DynamoRegistry, LocalFolderStore, S3Store, SqliteRegistry};
use mlops_shared::ports::{ObjectStore, RegistryStore};
use mlops_shared::spec::{stored, DatasetSpec};

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

/// S3 and DynamoDB on the local server, with the names of the bucket and table.
pub async fn aws_backends() -> (Backends, String, String) {
    let (store, bucket) = s3_store().await;
    let (registry, table) = dynamo_registry().await;
    (
        Backends {
            store: Arc::new(store),
            registry: Arc::new(registry),
        },
        bucket,
        table,
    )
}

/// The embedded default in a temporary folder, kept alive by the returned guard.
pub fn local_backends() -> (Backends, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    (Backends::local(dir.path()).expect("local backends"), dir)
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

/// Installs a spec (TOML text) in the store, as `mlops spec put` does.
pub async fn install_spec(backends: &Backends, text: &str) {
    let loaded = DatasetSpec::parse(text, "toml").expect("spec is valid");
    stored::put(backends.store.as_ref(), &loaded, text, "toml")
        .await
        .expect("install spec");
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
