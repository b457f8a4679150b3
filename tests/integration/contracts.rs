//! One contract suite per port, run against every adapter.

mod local_folder {
    use std::sync::Arc;

    use mlops_local::LocalFolderStore;
    use mlops_shared::ports::ObjectStore;

    fn fresh() -> Arc<dyn ObjectStore> {
        // The folder outlives the test; it is under the system temp dir and small.
        let dir = tempfile::tempdir().expect("temp dir").keep();
        Arc::new(LocalFolderStore::new(dir))
    }

    mlops_shared::object_store_contract_tests!(fresh());
}

mod s3 {
    use std::sync::Arc;

    use mlops_shared::ports::ObjectStore;

    async fn fresh() -> Arc<dyn ObjectStore> {
        Arc::new(mlops_tests::s3_store().await.0)
    }

    mlops_shared::object_store_contract_tests!(fresh().await);
}

mod sqlite {
    use std::sync::Arc;

    use mlops_local::SqliteRegistry;
    use mlops_shared::ports::RegistryStore;

    fn fresh() -> Arc<dyn RegistryStore> {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        Arc::new(SqliteRegistry::open(&dir.join("registry.sqlite")).expect("open sqlite"))
    }

    mlops_shared::registry_contract_tests!(fresh());
}

mod dynamodb {
    use std::sync::Arc;

    use mlops_shared::ports::RegistryStore;

    async fn fresh() -> Arc<dyn RegistryStore> {
        Arc::new(mlops_tests::dynamo_registry().await.0)
    }

    mlops_shared::registry_contract_tests!(fresh().await);
}

/// Two handles on one SQLite file behave like two processes: the file lock, not the in-process
/// mutex, must keep conditional writes atomic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_conditional_puts_are_atomic_across_connections() {
    use mlops_local::SqliteRegistry;
    use mlops_shared::ports::{Condition, Item, ItemKey, RegistryError, RegistryStore};

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("registry.sqlite");
    let handles: Vec<SqliteRegistry> = (0..4)
        .map(|_| SqliteRegistry::open(&path).expect("open"))
        .collect();
    let writers = handles.into_iter().enumerate().map(|(i, registry)| {
        tokio::spawn(async move {
            let attrs = serde_json::json!({"writer": i})
                .as_object()
                .cloned()
                .unwrap_or_default();
            registry
                .put(
                    Item {
                        key: ItemKey::new("RACE", "X"),
                        attrs,
                    },
                    Condition::NotExists,
                )
                .await
        })
    });
    let results = futures::future::join_all(writers).await;
    let wins = results.iter().filter(|r| matches!(r, Ok(Ok(())))).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(RegistryError::ConditionFailed { .. }))))
        .count();
    assert_eq!((wins, conflicts), (1, 3), "{results:?}");
}
