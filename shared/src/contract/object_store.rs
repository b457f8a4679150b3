//! Behaviour every [`ObjectStore`] adapter must show.

use std::sync::Arc;

use crate::names::ObjectKey;
use crate::ports::{ObjectStore, PutOutcome, StoreError};

fn key(text: &str) -> ObjectKey {
    ObjectKey::parse(text).expect("test keys are valid")
}

pub async fn put_then_get_returns_the_same_bytes(store: Arc<dyn ObjectStore>) {
    let k = key("raw/flights/jan.csv");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    store.put(&k, bytes.clone()).await.expect("put");
    let object = store.get(&k).await.expect("get");
    assert_eq!(object.bytes, bytes);
    assert_eq!(object.info.size, bytes.len() as u64);
    let head = store.head(&k).await.expect("head");
    assert_eq!(head.size, bytes.len() as u64);
    assert!(!head.etag.is_empty(), "an etag is reported");
}

pub async fn missing_objects_are_not_found(store: Arc<dyn ObjectStore>) {
    let k = key("raw/none/here.csv");
    assert!(matches!(store.get(&k).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.head(&k).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        store.copy(&k, &key("other/x")).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn put_replaces_and_changes_the_etag(store: Arc<dyn ObjectStore>) {
    let k = key("a/b.txt");
    store.put(&k, b"one".to_vec()).await.expect("first put");
    let first = store.head(&k).await.expect("head").etag;
    store.put(&k, b"two!".to_vec()).await.expect("second put");
    let object = store.get(&k).await.expect("get");
    assert_eq!(object.bytes, b"two!");
    assert_ne!(object.info.etag, first);
}

pub async fn put_file_if_absent_writes_the_file_once_and_refuses_a_missing_one(
    store: Arc<dyn ObjectStore>,
) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("jan.csv");
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(&path, &bytes).expect("writes the file");
    let k = key("raw/flights/jan.csv");
    assert_eq!(
        store.put_file_if_absent(&k, &path).await.expect("put"),
        PutOutcome::Created
    );
    assert_eq!(store.get(&k).await.expect("get").bytes, bytes);
    // An upload already there is never replaced.
    let other = dir.path().join("other.csv");
    std::fs::write(&other, b"another upload").expect("writes the file");
    assert_eq!(
        store.put_file_if_absent(&k, &other).await.expect("put"),
        PutOutcome::AlreadyExists
    );
    assert_eq!(store.get(&k).await.expect("get").bytes, bytes);

    let missing = dir.path().join("feb.csv");
    let refused = store
        .put_file_if_absent(&key("raw/flights/feb.csv"), &missing)
        .await
        .expect_err("no such file");
    assert!(!refused.is_retryable(), "{refused}");
    assert!(refused.to_string().contains("feb.csv"), "{refused}");
    assert!(matches!(
        store.head(&key("raw/flights/feb.csv")).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn get_to_file_writes_the_object_and_finds_a_missing_one(store: Arc<dyn ObjectStore>) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let k = key("curated/flights/v1/data.parquet");
    // Several megabytes: S3 sends the body in many chunks.
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 239) as u8).collect();
    store.put(&k, bytes.clone()).await.expect("put");
    let path = dir.path().join("copy.parquet");
    store.get_to_file(&k, &path).await.expect("get to file");
    assert_eq!(std::fs::read(&path).expect("reads the copy"), bytes);

    let missing = store
        .get_to_file(
            &key("curated/flights/none/data.parquet"),
            &dir.path().join("none"),
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
}

pub async fn put_if_absent_creates_once_and_keeps_the_first(store: Arc<dyn ObjectStore>) {
    let k = key("curated/x/v1/manifest.json");
    assert_eq!(
        store
            .put_if_absent(&k, b"first".to_vec())
            .await
            .expect("create"),
        PutOutcome::Created
    );
    assert_eq!(
        store
            .put_if_absent(&k, b"second".to_vec())
            .await
            .expect("again"),
        PutOutcome::AlreadyExists
    );
    assert_eq!(store.get(&k).await.expect("get").bytes, b"first");
}

pub async fn exactly_one_concurrent_put_if_absent_wins(store: Arc<dyn ObjectStore>) {
    let k = key("race/object");
    let writers = (0..8u8).map(|i| {
        let (store, k) = (Arc::clone(&store), k.clone());
        tokio::spawn(async move { (i, store.put_if_absent(&k, vec![i; 1024]).await) })
    });
    let results = futures::future::join_all(writers).await;
    let winners: Vec<u8> = results
        .into_iter()
        .map(|joined| joined.expect("writer task"))
        .filter_map(|(i, outcome)| {
            (outcome.expect("put_if_absent") == PutOutcome::Created).then_some(i)
        })
        .collect();
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(
        store.get(&k).await.expect("get").bytes,
        vec![winners[0]; 1024]
    );
}

pub async fn list_returns_keys_under_a_prefix_sorted(store: Arc<dyn ObjectStore>) {
    for k in [
        "raw/flights/b.csv",
        "raw/flights/a.csv",
        "raw/flights/2013/c.csv",
        "raw/flightsx/d.csv",
        "curated/e",
    ] {
        store
            .put(&key(k), k.as_bytes().to_vec())
            .await
            .expect("put");
    }
    let listed: Vec<String> = store
        .list("raw/flights/")
        .await
        .expect("list")
        .into_iter()
        .map(|o| o.key.to_string())
        .collect();
    assert_eq!(
        listed,
        [
            "raw/flights/2013/c.csv",
            "raw/flights/a.csv",
            "raw/flights/b.csv"
        ]
    );
    let partial: Vec<String> = store
        .list("raw/flights")
        .await
        .expect("list")
        .into_iter()
        .map(|o| o.key.to_string())
        .collect();
    assert_eq!(
        partial.len(),
        4,
        "a prefix need not end at a '/': {partial:?}"
    );
    assert!(store.list("nothing/").await.expect("list").is_empty());
    let sizes: Vec<u64> = store
        .list("curated/")
        .await
        .expect("list")
        .iter()
        .map(|o| o.size)
        .collect();
    assert_eq!(sizes, [9]);
}

pub async fn list_pages_through_many_keys(store: Arc<dyn ObjectStore>) {
    // More than one S3 page (1,000 keys).
    let writes = (0..1_050).map(|i| {
        let store = Arc::clone(&store);
        async move { store.put(&key(&format!("many/{i:05}")), vec![1]).await }
    });
    for result in futures::future::join_all(writes).await {
        result.expect("put");
    }
    assert_eq!(store.list("many/").await.expect("list").len(), 1_050);
}

pub async fn copy_duplicates_and_delete_removes(store: Arc<dyn ObjectStore>) {
    let (from, to) = (
        key("raw/flights/with space+plus%.csv"),
        key("quarantine/flights/with space+plus%.csv"),
    );
    store.put(&from, b"payload".to_vec()).await.expect("put");
    store.copy(&from, &to).await.expect("copy");
    assert_eq!(store.get(&to).await.expect("get copy").bytes, b"payload");
    assert_eq!(
        store.get(&from).await.expect("source kept").bytes,
        b"payload"
    );
    store.delete(&from).await.expect("delete");
    assert!(matches!(
        store.get(&from).await,
        Err(StoreError::NotFound(_))
    ));
    store
        .delete(&from)
        .await
        .expect("deleting a missing key is not an error");
}

/// Expands to one test per contract case for an adapter. `$make` is an async expression giving a
/// fresh, empty `Arc<dyn ObjectStore>`.
#[macro_export]
macro_rules! object_store_contract_tests {
    ($make:expr) => {
        $crate::object_store_contract_tests!(@cases $make;
            put_then_get_returns_the_same_bytes,
            missing_objects_are_not_found,
            put_replaces_and_changes_the_etag,
            put_file_if_absent_writes_the_file_once_and_refuses_a_missing_one,
            get_to_file_writes_the_object_and_finds_a_missing_one,
            put_if_absent_creates_once_and_keeps_the_first,
            exactly_one_concurrent_put_if_absent_wins,
            list_returns_keys_under_a_prefix_sorted,
            list_pages_through_many_keys,
            copy_duplicates_and_delete_removes,
        );
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::contract::object_store::$case($make).await;
            }
        )+
    };
}
