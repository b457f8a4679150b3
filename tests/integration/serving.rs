//! Serving from the registry: the model cache resolves aliases and versions, checks artifacts,
//! and a promotion or rollback reaches requests within the cache's time to live, with no
//! redeploy; requests are read against the model's schema and answered with predictions.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mlops_shared::names::Alias;
use mlops_shared::ports::Backends;
use mlops_shared::predict::{self, Limits, ModelCache, Selector, ServeError};
use mlops_shared::promotion::{Command, Promoter};
use mlops_tests::{model_name, on_both_stores};

use crate::registry::{first_version, request, routes, second_version};

fn cache(backends: &Backends, ttl: Duration) -> ModelCache {
    ModelCache::new(backends.store.clone(), backends.registry.clone(), ttl)
}

async fn champion_version(cache: &ModelCache) -> u64 {
    cache
        .get(&routes(), &Selector::champion())
        .await
        .expect("serves the champion")
        .version
}

async fn a_promotion_reaches_serving_within_the_ttl(backends: Backends) {
    let promoter = Promoter::new(&backends);
    let missing = cache(&backends, Duration::ZERO)
        .get(&model_name("nosuch"), &Selector::champion())
        .await
        .expect_err("no such model");
    assert!(matches!(missing, ServeError::UnknownModel(_)), "{missing}");
    first_version(&backends).await;
    let none = cache(&backends, Duration::ZERO)
        .get(&routes(), &Selector::champion())
        .await
        .expect_err("no champion yet");
    assert!(matches!(none, ServeError::NoAlias { .. }), "{none}");
    promoter
        .execute(
            &Command::Decide {
                model: routes(),
                version: 1,
            },
            &request("event-1"),
        )
        .await
        .expect("first champion");

    let ttl = Duration::from_millis(300);
    let flowing = Arc::new(cache(&backends, ttl));
    let stale = cache(&backends, Duration::from_secs(3600));
    assert_eq!(champion_version(&flowing).await, 1);
    assert_eq!(champion_version(&stale).await, 1);

    // Requests keep flowing while version 2 is trained and promoted.
    second_version(&backends).await;
    let requests = {
        let flowing = flowing.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let until = Instant::now() + Duration::from_secs(3);
            while Instant::now() < until {
                let started = Instant::now();
                seen.push((started, champion_version(&flowing).await));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            seen
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let promoted = promoter
        .execute(
            &Command::Decide {
                model: routes(),
                version: 2,
            },
            &request("event-2"),
        )
        .await
        .expect("decides");
    assert_eq!(promoted.champion, Some(2), "{}", promoted.message);
    let promoted_at = Instant::now();
    let seen = requests.await.expect("requests ran");
    let versions: Vec<u64> = seen.iter().map(|(_, v)| *v).collect();
    assert!(
        versions.windows(2).all(|w| w[0] <= w[1]),
        "one switch: {versions:?}"
    );
    assert_eq!((versions.first(), versions.last()), (Some(&1), Some(&2)));
    // Every request that began a TTL (and a margin for the registry read) after the promotion
    // was answered by the new champion.
    let settled = promoted_at + ttl + Duration::from_millis(200);
    assert!(seen
        .iter()
        .filter(|(started, _)| *started > settled)
        .all(|(_, v)| *v == 2));
    // A cache whose TTL has not run out still serves what it resolved.
    assert_eq!(champion_version(&stale).await, 1);

    promoter
        .execute(&Command::Rollback { model: routes() }, &request("rollback"))
        .await
        .expect("rolls back");
    assert_eq!(champion_version(&cache(&backends, Duration::ZERO)).await, 1);

    // Pinned versions and other aliases.
    let fresh = cache(&backends, Duration::ZERO);
    let pinned = fresh
        .get(&routes(), &Selector::Version(2))
        .await
        .expect("version 2");
    assert_eq!(pinned.version, 2);
    let unknown = fresh
        .get(&routes(), &Selector::Version(9))
        .await
        .expect_err("no version 9");
    assert!(
        matches!(unknown, ServeError::UnknownVersion { .. }),
        "{unknown}"
    );
    let shadow = fresh
        .get(
            &routes(),
            &Selector::Alias(Alias::parse("shadow").expect("valid")),
        )
        .await
        .expect_err("no shadow alias");
    assert!(shadow.to_string().contains("has no shadow"), "{shadow}");

    // A request, read against the served model's schema and answered.
    let body = br#"{"records": [{"x1": 1.5, "x2": -0.5, "region": "north"}, {"x1": -1.0, "x2": 1.8, "region": "west"}]}"#;
    let rows = predict::parse(body, &pinned.artifact.inputs, &Limits::default()).expect("valid");
    let predictions = predict::predict(&pinned.artifact, &rows, "pinned").expect("predicts");
    assert_eq!(predictions.len(), 2);
    assert!(predictions
        .iter()
        .all(|p| p.score.is_some_and(|s| (0.0..=1.0).contains(&s))));
    assert!(
        predictions[1]
            .warnings
            .iter()
            .any(|w| w.contains("\"west\"")),
        "{predictions:?}"
    );
}

on_both_stores!(a_promotion_reaches_serving_within_the_ttl);
