//! The sampled inference records a serving process keeps for monitoring, written in batches to
//! the local folder store.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use mlops_local::LocalFolderStore;
use mlops_shared::features::RawFrame;
use mlops_shared::names::ObjectKey;
use mlops_shared::ports::ObjectStore;
use mlops_shared::predict::{
    parse, predict, InferenceLog, InferenceRecord, InferenceStats, Limits, Loaded, Prediction,
    Sampling, Selector,
};
use mlops_shared::sample_artifacts::artifact;
use serde_json::Value;

fn answered(body: &str) -> (RawFrame, Vec<Prediction>) {
    let model = artifact();
    let frame = parse(body.as_bytes(), &model.inputs, &Limits::default()).expect("valid request");
    let predictions = predict(&model, &frame, "req").expect("predicts");
    (frame, predictions)
}

/// The test artifact, loaded as version `version`.
fn loaded(version: u64) -> Arc<Loaded> {
    Arc::new(Loaded::new(version, artifact()))
}

/// `log` keeps what the champion (version `version`) answered to a request, with no shadow.
fn keep(
    log: &InferenceLog,
    request_id: &str,
    version: u64,
    frame: RawFrame,
    predictions: &[Prediction],
) {
    let champion = Selector::champion();
    log.record(
        request_id,
        &champion,
        &loaded(version),
        frame,
        predictions,
        None,
    );
}

fn sampling(rate: f64, batch_records: usize) -> Sampling {
    Sampling::new(rate, batch_records, Duration::from_secs(3600)).expect("valid settings")
}

async fn written(store: &LocalFolderStore) -> Vec<(String, Vec<InferenceRecord>)> {
    let mut out = Vec::new();
    for info in store.list("inference/").await.expect("lists") {
        let bytes = store.get(&info.key).await.expect("reads").bytes;
        let records = mlops_tests::gunzip(&bytes)
            .lines()
            .map(|line| serde_json::from_str(line).expect("one record per line"))
            .collect();
        out.push((info.key.to_string(), records));
    }
    out
}

#[tokio::test]
async fn records_are_written_in_batches_by_model_and_day_with_inputs_and_outputs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(LocalFolderStore::new(dir.path().to_path_buf()));
    let log = InferenceLog::new(store.clone(), sampling(1.0, 3));
    let (frame, predictions) =
        answered(r#"{"records": [{"distance": 500, "origin": "EWR"}, {"distance": 812.5}]}"#);
    keep(&log, "req-1", 3, frame, &predictions);
    assert_eq!(log.stats().sampled, 2);
    assert!(
        written(&store).await.is_empty(),
        "two records are not a batch yet"
    );

    let (frame2, predictions2) = answered(r#"{"records": [{"distance": 6000, "origin": "LGA"}]}"#);
    keep(&log, "req-2", 3, frame2, &predictions2);
    log.flush().await;
    let objects = written(&store).await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    let (key, records) = &objects[0];
    let today = Utc::now().format("%Y-%m-%d").to_string();
    assert!(
        key.starts_with(&format!("inference/flights/dt={today}/")) && key.ends_with(".jsonl.gz"),
        "{key}"
    );
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].request_id, "req-1");
    assert_eq!(records[0].version, 3);
    assert_eq!(
        records[0].alias.as_deref(),
        Some("champion"),
        "the alias that answered"
    );
    assert_eq!(
        [
            &records[0].output.prediction_id,
            &records[1].output.prediction_id
        ],
        ["req-0", "req-1"],
        "each record keeps its prediction's id"
    );
    assert_eq!(records[0].features["distance"], serde_json::json!(500));
    assert_eq!(records[0].features["origin"], serde_json::json!("EWR"));
    assert_eq!(records[1].features["distance"], serde_json::json!(812.5));
    assert_eq!(records[1].features["origin"], Value::Null);
    assert_eq!(records[0].output, predictions[0]);
    assert_eq!(records[2].output, predictions2[0]);
    assert_eq!(records[2].output.warnings.len(), 2, "warnings are kept");
    assert_eq!(
        log.stats(),
        InferenceStats {
            shadowed: 0,
            shadow_failed: 0,
            sampled: 3,
            written: 3,
            failed: 0
        }
    );
}

#[tokio::test]
async fn the_sample_rate_keeps_about_its_share_and_zero_keeps_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(LocalFolderStore::new(dir.path().to_path_buf()));
    let body = format!(
        r#"{{"records": [{}]}}"#,
        vec![r#"{"distance": 500}"#; 1000].join(",")
    );
    let (frame, predictions) = answered(&body);

    let none = InferenceLog::new(store.clone(), sampling(0.0, 10));
    keep(&none, "r", 1, frame.clone(), &predictions);
    none.flush().await;
    assert_eq!(none.stats(), InferenceStats::default());
    assert!(written(&store).await.is_empty());

    let half = InferenceLog::new(store.clone(), sampling(0.5, 100_000));
    keep(&half, "r", 1, frame, &predictions);
    half.flush().await;
    let stats = half.stats();
    // 1,000 draws at p = 0.5: the standard deviation is 16 records; 400..600 is six of them.
    assert!((400..=600).contains(&stats.sampled), "{stats:?}");
    assert_eq!(stats.written, stats.sampled);
    let objects = written(&store).await;
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].1.len() as u64, stats.sampled);
}

#[tokio::test]
async fn a_sampled_share_of_a_request_keeps_each_record_with_its_own_answer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(LocalFolderStore::new(dir.path().to_path_buf()));
    let records: Vec<String> = (0..200)
        .map(|i| {
            format!(
                r#"{{"distance": {}, "origin": "{}"}}"#,
                100 + 20 * i,
                ["EWR", "JFK"][i % 2]
            )
        })
        .collect();
    let (frame, predictions) = answered(&format!(r#"{{"records": [{}]}}"#, records.join(",")));
    let log = InferenceLog::new(store.clone(), sampling(0.3, 100_000));
    keep(&log, "r", 1, frame, &predictions);
    log.flush().await;
    let objects = written(&store).await;
    let kept = &objects[0].1;
    assert!(
        (20..180).contains(&kept.len()),
        "{} of 200 kept",
        kept.len()
    );
    for record in kept {
        let distance = record.features["distance"].as_i64().expect("a distance");
        let index = ((distance - 100) / 20) as usize;
        assert_eq!(record.output, predictions[index], "record {index}");
        assert_eq!(record.features["origin"], ["EWR", "JFK"][index % 2]);
    }
}

#[tokio::test]
async fn a_batch_older_than_the_maximum_age_is_written_by_the_next_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(LocalFolderStore::new(dir.path().to_path_buf()));
    let settings = Sampling::new(1.0, 1000, Duration::from_millis(50)).expect("valid");
    let log = InferenceLog::new(store.clone(), settings);
    let (frame, predictions) = answered(r#"{"records": [{"distance": 500}]}"#);
    keep(&log, "r1", 1, frame.clone(), &predictions);
    tokio::time::sleep(Duration::from_millis(80)).await;
    keep(&log, "r2", 1, frame, &predictions);
    // Wait for the background write without flushing: only the age rule can have started it.
    for _ in 0..100 {
        if log.stats().written == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(log.stats().written, 2);
    assert_eq!(written(&store).await.len(), 1);
}

#[tokio::test]
async fn a_failed_write_is_counted_and_never_reaches_the_caller() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A file where the store's folder should be: every write fails.
    let blocked = dir.path().join("objects");
    std::fs::write(&blocked, b"not a folder").expect("writes");
    let log = InferenceLog::new(Arc::new(LocalFolderStore::new(blocked)), sampling(1.0, 1));
    let (frame, predictions) = answered(r#"{"records": [{"distance": 500}, {"distance": 600}]}"#);
    keep(&log, "r", 1, frame, &predictions);
    log.flush().await;
    assert_eq!(
        log.stats(),
        InferenceStats {
            shadowed: 0,
            shadow_failed: 0,
            sampled: 2,
            written: 0,
            failed: 2
        }
    );
}

#[test]
fn settings_outside_their_range_are_refused() {
    assert!(Sampling::new(1.5, 10, Duration::ZERO).is_err());
    assert!(Sampling::new(-0.1, 10, Duration::ZERO).is_err());
    assert!(Sampling::new(f64::NAN, 10, Duration::ZERO).is_err());
    assert!(Sampling::new(0.5, 0, Duration::ZERO).is_err());
}

/// Records are written gzip-compressed; objects written plain by earlier releases are read as
/// well (a record in both counts once), and one that is neither is skipped and counted.
#[tokio::test]
async fn compressed_and_earlier_plain_objects_are_read_alike() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(LocalFolderStore::new(dir.path().to_path_buf()));
    let log = InferenceLog::new(store.clone(), sampling(1.0, 20));
    let body = serde_json::json!({ "records": (0..20)
        .map(|i| serde_json::json!({"distance": 500 + i, "origin": "EWR"}))
        .collect::<Vec<_>>() });
    let (frame, predictions) = answered(&body.to_string());
    keep(&log, "req-1", 3, frame, &predictions);
    log.flush().await;
    let [(key, records)] = &written(&store).await[..] else {
        panic!("one object");
    };
    let compressed = store
        .get(&ObjectKey::parse(key).expect("a key"))
        .await
        .expect("reads")
        .bytes;
    let text = mlops_tests::gunzip(&compressed);
    assert!(
        compressed.len() < text.len(),
        "{} bytes compressed from {}",
        compressed.len(),
        text.len()
    );
    let day = key.split('/').nth(2).expect("the day folder").to_owned();
    let plain = ObjectKey::parse(&format!("inference/flights/{day}/earlier.jsonl")).expect("a key");
    store.put(&plain, text.into_bytes()).await.expect("writes");
    let (both, _) = window(store.as_ref(), Utc::now() - chrono::Duration::hours(1)).await;
    assert_eq!(both, records[..], "a record in both objects counts once");
    store
        .delete(&ObjectKey::parse(key).expect("a key"))
        .await
        .expect("deletes");
    let broken =
        ObjectKey::parse(&format!("inference/flights/{day}/broken.jsonl.gz")).expect("a key");
    store
        .put(&broken, vec![0x1f, 0x8b, 1, 2, 3])
        .await
        .expect("writes");

    let (read, unreadable) = window(store.as_ref(), Utc::now() - chrono::Duration::hours(1)).await;
    assert_eq!(unreadable, 1, "the broken object");
    assert_eq!(read, records[..], "read from the plain object alone");
}

/// Every record of `model`'s window from `from` until an hour from now, and the unreadable count.
async fn window(
    store: &dyn ObjectStore,
    from: chrono::DateTime<Utc>,
) -> (Vec<InferenceRecord>, u64) {
    let mut read = Vec::new();
    let unreadable = mlops_shared::predict::inference::read_window(
        store,
        &mlops_tests::model_name("flights"),
        from,
        Utc::now() + chrono::Duration::hours(1),
        |_, batch| {
            read.extend(batch);
            Ok::<(), mlops_shared::ports::StoreError>(())
        },
    )
    .await
    .expect("reads the window");
    (read, unreadable)
}

/// A settled day's objects become one, with every record once, even after a run that stopped
/// between writing it and deleting them; a day too recent is left alone.
async fn settled_days_are_compacted_into_one_object(backends: mlops_shared::ports::Backends) {
    use mlops_shared::predict::compaction::{compact_settled_days, Compacted};
    let store = backends.store.clone();
    let log = InferenceLog::new(store.clone(), sampling(1.0, 2));
    for i in 0..3 {
        let body = format!(
            r#"{{"records": [{{"distance": {}, "origin": "EWR"}}, {{"distance": 700}}]}}"#,
            500 + i
        );
        let (frame, predictions) = answered(&body);
        keep(&log, &format!("req-{i}"), 3, frame, &predictions);
    }
    log.flush().await;
    let today = Utc::now().date_naive();
    let settled = today - chrono::Days::new(3);
    let folder = |day: chrono::NaiveDate| format!("inference/flights/dt={day}/");
    let objects = store.list(&folder(today)).await.expect("lists");
    assert_eq!(objects.len(), 3);
    // The same objects on a settled day, and an earlier release's plain copy of one of them.
    for (i, object) in objects.iter().enumerate() {
        let bytes = store.get(&object.key).await.expect("reads").bytes;
        let name = object.key.as_str().rsplit('/').next().expect("a name");
        let moved = ObjectKey::parse(&format!("{}{name}", folder(settled))).expect("a key");
        store.put(&moved, bytes.clone()).await.expect("writes");
        if i == 0 {
            let plain =
                ObjectKey::parse(&format!("{}earlier.jsonl", folder(settled))).expect("a key");
            let text = mlops_tests::gunzip(&bytes).into_bytes();
            store.put(&plain, text).await.expect("writes");
        }
    }
    let from = Utc::now() - chrono::Duration::days(4);
    let (before, _) = window(store.as_ref(), from).await;
    assert_eq!(
        before.len(),
        12,
        "today's six and the settled day's six, the copy counted once"
    );

    let done = compact_settled_days(store.as_ref(), &mlops_tests::model_name("flights"), today)
        .await
        .expect("compacts");
    assert_eq!(
        done,
        [Compacted {
            day: settled,
            objects: 4,
            records: 6
        }]
    );
    let left = store.list(&folder(settled)).await.expect("lists");
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0].key.as_str().contains("/compacted-") && left[0].key.as_str().ends_with(".jsonl.gz")
    );
    assert_eq!(
        store.list(&folder(today)).await.expect("lists").len(),
        3,
        "too recent"
    );
    let (after, unreadable) = window(store.as_ref(), from).await;
    assert_eq!((after.len(), unreadable), (12, 0));

    // A run that stopped before deleting: one of the objects is back beside the compacted one.
    let name = objects[1].key.as_str().rsplit('/').next().expect("a name");
    let back = ObjectKey::parse(&format!("{}{name}", folder(settled))).expect("a key");
    let bytes = store.get(&objects[1].key).await.expect("reads").bytes;
    store.put(&back, bytes).await.expect("writes");
    assert_eq!(
        window(store.as_ref(), from).await.0.len(),
        12,
        "counted once"
    );
    let again = compact_settled_days(store.as_ref(), &mlops_tests::model_name("flights"), today)
        .await
        .expect("compacts");
    assert_eq!(again.iter().map(|c| c.records).collect::<Vec<_>>(), [6]);
    assert_eq!(store.list(&folder(settled)).await.expect("lists").len(), 1);
    assert!(
        compact_settled_days(store.as_ref(), &mlops_tests::model_name("flights"), today)
            .await
            .expect("compacts")
            .is_empty()
    );
}
mlops_tests::on_both_stores!(settled_days_are_compacted_into_one_object);
