//! A shadow version, on the embedded default and on moto alike: pointed at by the `shadow`
//! alias, it scores the champion's sampled requests in the background (the answers stay the
//! champion's), its records sit beside the champion's under the same prediction ids, the monitor
//! judges both on the same outcomes, and a policy that requires live evidence holds a candidate
//! until it has enough of it.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Duration as TimeDelta;
use mlops_http::{self as http, serving::Serving};
use mlops_shared::clock;
use mlops_shared::ingest::Status;
use mlops_shared::model_registry::{Action, LIVE_EVIDENCE};
use mlops_shared::monitor::MonitorJob;
use mlops_shared::names::Alias;
use mlops_shared::ports::Backends;
use mlops_shared::predict::{Sampling, ServingSettings};
use mlops_shared::promotion::{Command, Promoter};
use mlops_tests::{
    dataset_name, ingestor, install_spec, model_name, on_both_stores, quick_flights_spec, train,
};
use serde_json::Value;

use crate::api::send;
use crate::drift::{july_body, trained_on_first_quarter};
use crate::monitor::july_outcomes_csv;
use crate::registry::request;

fn predict(body: Vec<u8>) -> Request<Body> {
    Request::post("/models/flights/predict")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request")
}

async fn execute(
    backends: &Backends,
    command: Command,
    operation: &str,
) -> mlops_shared::promotion::Outcome {
    Promoter::new(backends)
        .execute(&command, &request(operation))
        .await
        .expect("applies")
}

async fn a_shadow_scores_beside_the_champion_and_earns_its_promotion(backends: Backends) {
    trained_on_first_quarter(&backends).await;
    let spec =
        quick_flights_spec().replace("[promotion]", "[promotion]\nrequire_live_evidence = 1000");
    install_spec(&backends, &spec).await;
    assert_eq!(
        train(&backends, "flights")
            .await
            .expect("trains")
            .record
            .version,
        2
    );
    let flights = model_name("flights");

    // Without live evidence the candidate waits, it is not refused.
    let waiting = execute(
        &backends,
        Command::Decide {
            model: flights.clone(),
            version: 2,
        },
        "decide-2",
    )
    .await;
    assert_eq!(
        waiting.action,
        Some(Action::AwaitApproval),
        "{}",
        waiting.message
    );
    let gate = waiting
        .decision
        .as_ref()
        .and_then(|d| d.gates.iter().find(|g| g.name == LIVE_EVIDENCE))
        .expect("the live evidence gate");
    assert!(
        !gate.passed && gate.detail.contains("0 labelled predictions"),
        "{}",
        gate.detail
    );
    execute(
        &backends,
        Command::SetAlias {
            model: flights.clone(),
            alias: Alias::shadow(),
            version: 2,
        },
        "shadow-2",
    )
    .await;

    let settings = ServingSettings {
        cache_ttl: Duration::ZERO,
        sampling: Sampling::new(1.0, 100_000, Duration::from_secs(3600)).expect("valid"),
        ..ServingSettings::default()
    };
    let serving = Arc::new(Serving::new(
        backends.store.clone(),
        backends.registry.clone(),
        settings,
    ));
    let router = http::local_router(serving.clone(), None);
    let body = july_body(&backends).await;
    let one: Value = serde_json::from_slice(&body).expect("JSON");
    let one =
        serde_json::to_vec(&serde_json::json!({"records": [one["records"][0]]})).expect("JSON");

    // The shadow is looked up without waiting: the first requests find it loading.
    let started = clock::now();
    let mut warm = false;
    for _ in 0..200 {
        let (status, headers, _) = send(&router, predict(one.clone())).await;
        assert_eq!(
            (status, &headers["x-model-version"]),
            (StatusCode::OK, &"1".parse().expect("header"))
        );
        serving.inference().flush().await;
        if serving.inference().stats().shadowed > 0 {
            warm = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        warm,
        "the shadow is loaded in the background and scores the next requests"
    );
    let before = serving.inference().stats();
    let (status, _, answer) = send(&router, predict(body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["version"], 1, "the champion answers");
    serving.inference().flush().await;
    let after = serving.inference().stats();
    let predictions = answer["predictions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(after.shadowed - before.shadowed, predictions.len() as u64);
    assert_eq!((after.failed, after.shadow_failed), (0, 0));

    // Every flight's outcome arrives; both versions are judged on them.
    let later = (started + TimeDelta::hours(1)).to_rfc3339();
    let outcomes = july_outcomes_csv(&predictions, &later, false);
    let uploaded = ingestor(&backends)
        .upload_and_ingest(
            &dataset_name("flights"),
            "outcomes/july.csv",
            outcomes.into(),
        )
        .await
        .expect("ingests");
    assert_eq!(uploaded.status, Status::Accepted, "{uploaded:?}");
    let report = MonitorJob::new(&backends)
        .report(
            &flights,
            started - TimeDelta::minutes(1),
            started + TimeDelta::hours(2),
        )
        .await
        .expect("judges");
    let labelled: Vec<(u64, u64)> = report
        .versions
        .iter()
        .map(|v| (v.version, v.judgement.labelled))
        .collect();
    assert_eq!(labelled.len(), 2, "{labelled:?}");
    assert_eq!(
        labelled[0].1, labelled[1].1,
        "the same outcomes for both: {labelled:?}"
    );
    assert!(labelled[1].1 >= 1000, "{labelled:?}");
    // Every sampled request was shadowed, so the paired rows are each version's own.
    let paired = &report.shadows;
    assert_eq!(paired.len(), 1, "{paired:?}");
    assert_eq!((paired[0].shadow, paired[0].champion), (2, 1));
    assert_eq!(paired[0].judgement.labelled, labelled[1].1);
    assert_eq!(paired[0].judgement.live, report.versions[1].judgement.live);
    assert_eq!(paired[0].champion_live, report.versions[0].judgement.live);
    let page = mlops_shared::monitor::render_html(&report).expect("renders");
    assert!(
        page.contains("Shadow version 2 beside champion 1"),
        "the page shows the pair"
    );

    // With its evidence, the candidate is promoted by the same policy.
    let promoted = execute(
        &backends,
        Command::Promote {
            model: flights.clone(),
            version: Some(2),
            force: false,
        },
        "promote-2",
    )
    .await;
    assert_eq!(promoted.champion, Some(2), "{}", promoted.message);
    let gate = promoted
        .decision
        .as_ref()
        .and_then(|d| d.gates.iter().find(|g| g.name == LIVE_EVIDENCE))
        .expect("the live evidence gate");
    assert!(gate.passed, "{}", gate.detail);
    assert!(
        gate.detail.contains("as the shadow, champion 1"),
        "{}",
        gate.detail
    );
}
on_both_stores!(a_shadow_scores_beside_the_champion_and_earns_its_promotion);
