//! The ingest Lambda's handler, driven by `events/s3-put-flights.json`, against moto.

use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use ingest::{handle, Config, HandlerError};
use mlops_shared::ingest::{catalog, Ingestor, Status};
use mlops_shared::names::{DatasetName, ObjectKey};
use mlops_shared::ports::Backends;
use mlops_shared::spec::{stored, DatasetSpec};
use mlops_tests::{aws_backends, flights_sample, flights_spec, repo_file};
use serde_json::Value;

const EVENT_KEY: &str = "raw/flights/flights-2013-01.csv.gz";

struct Setup {
    backends: Backends,
    config: Config,
    ingestor: Arc<Ingestor>,
}

async fn setup() -> Setup {
    let aws = aws_backends().await;
    let (backends, bucket, table) = (aws.backends, aws.bucket, aws.table);
    let text = flights_spec();
    let loaded = DatasetSpec::parse(&text, "toml").expect("bundled spec is valid");
    stored::put(backends.store.as_ref(), &loaded, &text, "toml")
        .await
        .expect("install spec");
    let config = Config {
        bucket,
        registry_table: table,
        max_file_bytes: 1 << 30,
    };
    let ingestor = Arc::new(Ingestor::new(
        backends.store.clone(),
        backends.registry.clone(),
        config.max_file_bytes,
    ));
    Setup {
        backends,
        config,
        ingestor,
    }
}

impl Setup {
    /// How many data versions and upload records the registry holds for flights.
    async fn recorded(&self) -> (usize, usize) {
        let registry = self.backends.registry.as_ref();
        let versions = catalog::versions(registry, &flights())
            .await
            .expect("versions");
        let uploads = catalog::uploads(registry, &flights())
            .await
            .expect("uploads");
        (versions.len(), uploads.len())
    }
}

/// The repo's event file, pointed at this test's bucket (and optionally another key).
fn event(bucket: &str, key: Option<&str>) -> S3Event {
    let mut event: S3Event = serde_json::from_slice(&repo_file("events/s3-put-flights.json"))
        .expect("event file parses");
    for record in &mut event.records {
        record.s3.bucket.name = Some(bucket.to_owned());
        if let Some(key) = key {
            record.s3.object.key = Some(key.to_owned());
        }
    }
    event
}

fn key(text: &str) -> ObjectKey {
    ObjectKey::parse(text).expect("valid key")
}

async fn json_at(backends: &Backends, key_text: &str) -> Value {
    let object = backends
        .store
        .get(&key(key_text))
        .await
        .expect("object exists");
    serde_json::from_slice(&object.bytes).expect("valid JSON")
}

fn flights() -> DatasetName {
    DatasetName::parse("flights").expect("valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_the_sample_month_named_in_the_real_event() {
    let s = setup().await;
    s.backends
        .store
        .put(&key(EVENT_KEY), flights_sample("01"))
        .await
        .expect("upload");

    let response = handle(&s.ingestor, &s.config, event(&s.config.bucket, None))
        .await
        .expect("handled");
    assert!(response.skipped.is_empty(), "{:?}", response.skipped);
    let outcome = &response.results[0];
    assert_eq!(outcome.status, Status::Accepted, "{outcome:?}");
    assert_eq!(outcome.rows, 3000);
    let version = outcome.version.clone().expect("a version");

    let manifest = json_at(&s.backends, &outcome.report).await;
    assert_eq!(manifest["rows"], 3000);
    assert_eq!(manifest["spec"]["version"], 1);
    assert_eq!(manifest["source"]["key"], EVENT_KEY);
    assert_eq!(manifest["profile"].as_array().map(Vec::len), Some(29));
    let carrier = manifest["profile"]
        .as_array()
        .and_then(|p| p.iter().find(|c| c["name"] == "carrier"))
        .expect("carrier");
    assert!(
        carrier["top"].as_array().is_some_and(|top| !top.is_empty()),
        "top categories profiled"
    );

    let data_key = format!("curated/flights/{version}/data.parquet");
    let data = s
        .backends
        .store
        .get(&key(&data_key))
        .await
        .expect("curated data exists");
    let sha = sha256_hex(&data.bytes);
    assert_eq!(
        manifest["data"]["sha256"],
        sha.as_str(),
        "the manifest names the exact bytes"
    );

    let versions = catalog::versions(s.backends.registry.as_ref(), &flights())
        .await
        .expect("versions");
    assert_eq!(versions.len(), 1);
    assert_eq!(
        versions[0].data_sha256, sha,
        "the registry points at the exact bytes"
    );
    assert_eq!(versions[0].rows, 3000);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_twice_gives_one_version() {
    let s = setup().await;
    s.backends
        .store
        .put(&key(EVENT_KEY), flights_sample("02"))
        .await
        .expect("upload");
    let first = handle(&s.ingestor, &s.config, event(&s.config.bucket, None))
        .await
        .expect("first");
    let second = handle(&s.ingestor, &s.config, event(&s.config.bucket, None))
        .await
        .expect("second");
    assert_eq!(first.results[0].status, Status::Accepted);
    assert_eq!(second.results[0].status, Status::Duplicate);
    assert_eq!(first.results[0].version, second.results[0].version);
    assert_eq!(s.recorded().await, (1, 1), "no duplicate records");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_file_under_two_keys_gives_one_version() {
    let s = setup().await;
    let copy = "raw/flights/again/jan copy.csv.gz";
    s.backends
        .store
        .put(&key(EVENT_KEY), flights_sample("01"))
        .await
        .expect("upload");
    s.backends
        .store
        .put(&key(copy), flights_sample("01"))
        .await
        .expect("upload copy");
    let first = handle(&s.ingestor, &s.config, event(&s.config.bucket, None))
        .await
        .expect("first");
    // S3 form-encodes keys in events: the space arrives as '+'.
    let second = handle(
        &s.ingestor,
        &s.config,
        event(&s.config.bucket, Some("raw/flights/again/jan+copy.csv.gz")),
    )
    .await
    .expect("second");
    assert_eq!(first.results[0].status, Status::Accepted);
    assert_eq!(second.results[0].status, Status::Duplicate);
    assert_eq!(second.results[0].key, copy);
    assert_eq!(s.recorded().await, (1, 2), "both uploads are accounted for");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_give_exactly_one_accepted_version() {
    let s = setup().await;
    s.backends
        .store
        .put(&key(EVENT_KEY), flights_sample("03"))
        .await
        .expect("upload");
    let deliveries = (0..4).map(|_| {
        let (ingestor, config, event) = (
            s.ingestor.clone(),
            s.config.clone(),
            event(&s.config.bucket, None),
        );
        tokio::spawn(async move { handle(&ingestor, &config, event).await })
    });
    let statuses: Vec<Status> = futures::future::join_all(deliveries)
        .await
        .into_iter()
        .map(|joined| joined.expect("task").expect("handled").results[0].status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == Status::Accepted).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == Status::Duplicate).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(s.recorded().await.0, 1, "one data version");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_events_are_errors_or_skips_never_panics() {
    let s = setup().await;
    let mut empty = event(&s.config.bucket, None);
    empty.records.clear();
    let no_records = |result| matches!(result, Err(HandlerError::BadEvent(reason)) if reason == "the event has no S3 records");
    assert!(no_records(handle(&s.ingestor, &s.config, empty).await));

    let not_an_event = serde_json::from_str::<S3Event>(r#"{"detail-type": "Scheduled Event"}"#);
    match not_an_event {
        Err(_) => {}
        Ok(parsed) => assert!(no_records(handle(&s.ingestor, &s.config, parsed).await)),
    }

    for (bad_key, reason) in [
        ("curated/flights/x/data.parquet", "not an upload"),
        ("raw/flights/%ff%fe.csv", "percent-encoded"),
        ("raw/flights/never-uploaded.csv", "no longer exists"),
        ("raw//x.csv", "invalid"),
    ] {
        let response = handle(
            &s.ingestor,
            &s.config,
            event(&s.config.bucket, Some(bad_key)),
        )
        .await
        .expect("handled");
        assert!(response.results.is_empty(), "{bad_key}");
        assert!(
            response.skipped[0].reason.contains(reason),
            "{bad_key}: {}",
            response.skipped[0].reason
        );
    }
    let other_bucket = handle(&s.ingestor, &s.config, event("someone-elses-bucket", None))
        .await
        .expect("handled");
    assert!(other_bucket.skipped[0]
        .reason
        .contains("not this function's bucket"));
    assert!(
        s.backends
            .store
            .list("quarantine/")
            .await
            .expect("list")
            .is_empty(),
        "nothing was written"
    );
    assert!(
        s.backends
            .store
            .list("curated/")
            .await
            .expect("list")
            .is_empty(),
        "nothing was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_for_an_unknown_dataset_is_quarantined_and_kept() {
    let s = setup().await;
    let upload = "raw/weather/2013-01.csv";
    s.backends
        .store
        .put(&key(upload), b"station,temp\nJFK,3.5\n".to_vec())
        .await
        .expect("upload");
    let response = handle(
        &s.ingestor,
        &s.config,
        event(&s.config.bucket, Some(upload)),
    )
    .await
    .expect("handled");
    let outcome = &response.results[0];
    assert_eq!(outcome.status, Status::Quarantined);
    // Under the upload's own id, where no other upload's name reaches.
    let id = outcome
        .report
        .strip_prefix("quarantine/weather/")
        .and_then(|rest| rest.strip_suffix(".report.json"))
        .expect("a report under quarantine/weather/");
    assert_eq!(id.len(), 16, "{id}");
    let report = json_at(&s.backends, &outcome.report).await;
    assert_eq!(report["failures"][0]["rule"], "unknown_dataset");
    assert!(report["failures"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("specs/weather.toml")));
    let kept = s
        .backends
        .store
        .get(&key(upload))
        .await
        .expect("the upload is kept");
    let copy = s
        .backends
        .store
        .get(&key(&format!("quarantine/weather/{id}/2013-01.csv")))
        .await
        .expect("the copy exists");
    assert_eq!(kept.bytes, copy.bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_spec_in_the_bucket_quarantines_with_its_problems() {
    let s = setup().await;
    let broken =
        flights_spec().replace(r#"check = "dewp <= temp""#, r#"check = "dewp <= nowhere""#);
    s.backends
        .store
        .put(&key("specs/flights.toml"), broken.into_bytes())
        .await
        .expect("overwrite spec");
    s.backends
        .store
        .put(&key(EVENT_KEY), flights_sample("01"))
        .await
        .expect("upload");
    let response = handle(&s.ingestor, &s.config, event(&s.config.bucket, None))
        .await
        .expect("handled");
    assert_eq!(response.results[0].status, Status::Quarantined);
    let report = json_at(&s.backends, &response.results[0].report).await;
    assert_eq!(report["failures"][0]["rule"], "invalid_spec");
    let message = report["failures"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("unknown column \"nowhere\""), "{message}");
}
