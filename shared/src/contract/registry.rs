//! Behaviour every [`RegistryStore`] adapter must show.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::ports::{Condition, Item, ItemKey, RegistryError, RegistryStore, WriteOp};

fn attrs(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn item(pk: &str, sk: &str, value: Value) -> Item {
    Item {
        key: ItemKey::new(pk, sk),
        attrs: attrs(value),
    }
}

pub async fn put_then_get_round_trips_nested_values(registry: Arc<dyn RegistryStore>) {
    let value = json!({"status": "accepted", "rows": 28_000, "share": 0.25, "ok": true, "none": null,
                       "tags": ["a", "b"], "profile": {"min": -3, "max": 9.5, "nested": [{"x": 1}]}});
    registry
        .put(
            item("DATASET#f", "VERSION#1", value.clone()),
            Condition::Always,
        )
        .await
        .expect("put");
    let got = registry
        .get(&ItemKey::new("DATASET#f", "VERSION#1"))
        .await
        .expect("get")
        .expect("present");
    assert_eq!(Value::Object(got.attrs), value);
    assert!(registry
        .get(&ItemKey::new("DATASET#f", "VERSION#2"))
        .await
        .expect("get")
        .is_none());
}

pub async fn put_if_not_exists_fails_the_second_time(registry: Arc<dyn RegistryStore>) {
    let first = item("P", "S", json!({"n": 1}));
    registry
        .put(first, Condition::NotExists)
        .await
        .expect("first put");
    let second = registry
        .put(item("P", "S", json!({"n": 2})), Condition::NotExists)
        .await;
    assert!(
        matches!(second, Err(RegistryError::ConditionFailed { .. })),
        "{second:?}"
    );
    let got = registry
        .get(&ItemKey::new("P", "S"))
        .await
        .expect("get")
        .expect("present");
    assert_eq!(got.attrs["n"], json!(1), "the first write is kept");
}

pub async fn exactly_one_concurrent_conditional_put_wins(registry: Arc<dyn RegistryStore>) {
    let writers = (0..8).map(|i| {
        let registry = Arc::clone(&registry);
        tokio::spawn(async move {
            registry
                .put(
                    item("RACE", "ONE", json!({"writer": i})),
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
    assert_eq!((wins, conflicts), (1, 7));
}

pub async fn update_sets_attributes_only_when_conditions_hold(registry: Arc<dyn RegistryStore>) {
    let key = ItemKey::new("MODEL#m", "ALIAS#champion");
    let missing = registry
        .update(&key, attrs(json!({"version": 1})), Condition::Always)
        .await;
    assert!(
        matches!(missing, Err(RegistryError::ConditionFailed { .. })),
        "updates need an existing item"
    );

    registry
        .put(
            item(
                "MODEL#m",
                "ALIAS#champion",
                json!({"version": 1, "by": "ci"}),
            ),
            Condition::Always,
        )
        .await
        .expect("put");
    let updated = registry
        .update(
            &key,
            attrs(json!({"version": 2})),
            Condition::Equals {
                attr: "version".into(),
                value: json!(1),
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.attrs["version"], json!(2));
    assert_eq!(
        updated.attrs["by"],
        json!("ci"),
        "other attributes are kept"
    );

    let stale = registry
        .update(
            &key,
            attrs(json!({"version": 3})),
            Condition::Equals {
                attr: "version".into(),
                value: json!(1),
            },
        )
        .await;
    assert!(
        matches!(stale, Err(RegistryError::ConditionFailed { .. })),
        "{stale:?}"
    );
    let got = registry.get(&key).await.expect("get").expect("present");
    assert_eq!(got.attrs["version"], json!(2));
}

pub async fn transaction_applies_all_operations(registry: Arc<dyn RegistryStore>) {
    registry
        .put(item("T", "old", json!({"v": 1})), Condition::Always)
        .await
        .expect("seed");
    registry
        .put(item("T", "gone", json!({"v": 1})), Condition::Always)
        .await
        .expect("seed");
    registry
        .transact(vec![
            WriteOp::Put {
                item: item("T", "new", json!({"v": 1})),
                condition: Condition::NotExists,
            },
            WriteOp::Update {
                key: ItemKey::new("T", "old"),
                set: attrs(json!({"v": 2})),
                condition: Condition::Equals {
                    attr: "v".into(),
                    value: json!(1),
                },
            },
            WriteOp::Delete {
                key: ItemKey::new("T", "gone"),
                condition: Condition::Exists,
            },
            WriteOp::Check {
                key: ItemKey::new("T", "absent"),
                condition: Condition::NotExists,
            },
        ])
        .await
        .expect("transaction");
    let sks: Vec<String> = registry
        .query("T", "")
        .await
        .expect("query")
        .into_iter()
        .map(|i| i.key.sk)
        .collect();
    assert_eq!(sks, ["new", "old"]);
    let old = registry
        .get(&ItemKey::new("T", "old"))
        .await
        .expect("get")
        .expect("present");
    assert_eq!(old.attrs["v"], json!(2));
}

pub async fn failed_condition_cancels_the_whole_transaction(registry: Arc<dyn RegistryStore>) {
    registry
        .put(item("X", "a", json!({"v": 1})), Condition::Always)
        .await
        .expect("seed");
    let result = registry
        .transact(vec![
            WriteOp::Put {
                item: item("X", "b", json!({"v": 1})),
                condition: Condition::NotExists,
            },
            WriteOp::Update {
                key: ItemKey::new("X", "a"),
                set: attrs(json!({"v": 5})),
                condition: Condition::Equals {
                    attr: "v".into(),
                    value: json!(99),
                },
            },
            WriteOp::Check {
                key: ItemKey::new("X", "c"),
                condition: Condition::Exists,
            },
        ])
        .await;
    match result {
        Err(RegistryError::TransactionCancelled { failed }) => {
            assert_eq!(failed, vec![1, 2], "every failed condition is named")
        }
        other => panic!("expected a cancelled transaction, got {other:?}"),
    }
    assert!(
        registry
            .get(&ItemKey::new("X", "b"))
            .await
            .expect("get")
            .is_none(),
        "nothing was applied"
    );
    let a = registry
        .get(&ItemKey::new("X", "a"))
        .await
        .expect("get")
        .expect("present");
    assert_eq!(a.attrs["v"], json!(1));
}

pub async fn transaction_touching_one_item_twice_is_invalid(registry: Arc<dyn RegistryStore>) {
    let result = registry
        .transact(vec![
            WriteOp::Put {
                item: item("D", "a", json!({})),
                condition: Condition::Always,
            },
            WriteOp::Delete {
                key: ItemKey::new("D", "a"),
                condition: Condition::Always,
            },
        ])
        .await;
    assert!(
        matches!(result, Err(RegistryError::Invalid(_))),
        "{result:?}"
    );
}

pub async fn query_returns_one_partition_by_sort_key_prefix_in_order(
    registry: Arc<dyn RegistryStore>,
) {
    for (pk, sk) in [
        ("DATASET#f", "VERSION#b"),
        ("DATASET#f", "VERSION#a"),
        ("DATASET#f", "UPLOAD#x"),
        ("DATASET#g", "VERSION#c"),
    ] {
        registry
            .put(item(pk, sk, json!({"at": sk})), Condition::Always)
            .await
            .expect("put");
    }
    let versions: Vec<String> = registry
        .query("DATASET#f", "VERSION#")
        .await
        .expect("query")
        .into_iter()
        .map(|i| i.key.sk)
        .collect();
    assert_eq!(versions, ["VERSION#a", "VERSION#b"]);
    assert_eq!(
        registry.query("DATASET#f", "").await.expect("query").len(),
        3
    );
    assert!(registry
        .query("DATASET#none", "")
        .await
        .expect("query")
        .is_empty());
}

pub async fn query_pages_through_large_partitions(registry: Arc<dyn RegistryStore>) {
    // About 1.3 MB of items: more than one DynamoDB page (1 MB).
    let padding = "x".repeat(10_000);
    for i in 0..130 {
        registry
            .put(
                item("BIG", &format!("ITEM#{i:04}"), json!({"pad": padding})),
                Condition::Always,
            )
            .await
            .expect("put");
    }
    assert_eq!(
        registry.query("BIG", "ITEM#").await.expect("query").len(),
        130
    );
}

/// Expands to one test per contract case for an adapter. `$make` is an async expression giving a
/// fresh, empty `Arc<dyn RegistryStore>`.
#[macro_export]
macro_rules! registry_contract_tests {
    ($make:expr) => {
        $crate::registry_contract_tests!(@cases $make;
            put_then_get_round_trips_nested_values,
            put_if_not_exists_fails_the_second_time,
            exactly_one_concurrent_conditional_put_wins,
            update_sets_attributes_only_when_conditions_hold,
            transaction_applies_all_operations,
            failed_condition_cancels_the_whole_transaction,
            transaction_touching_one_item_twice_is_invalid,
            query_returns_one_partition_by_sort_key_prefix_in_order,
            query_pages_through_large_partitions,
        );
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::contract::registry::$case($make).await;
            }
        )+
    };
}
