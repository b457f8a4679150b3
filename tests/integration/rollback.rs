//! A champion that fails a check is withdrawn, on the embedded default and on moto alike: the
//! smoke test after every promotion (golden rows scored as a request must give training's
//! answers), and live quality (a `PerformanceDegraded` verdict, where the spec turns
//! `[monitoring] auto_rollback` on, once per version and never back to a version withdrawn
//! before). The monitor's verdict reaches the promote function's handler as EventBridge delivers
//! it. Too little evidence (no records, no outcomes, a few) withdraws nothing.

use chrono::Duration;
use mlops_local::EventLog;
use mlops_shared::clock;
use mlops_shared::ingest::Status;
use mlops_shared::model_registry::{self, Action, ModelStatus};
use mlops_shared::monitor::MonitorJob;
use mlops_shared::ports::Backends;
use mlops_shared::promotion::{smoke, Cause, Check, Command, Outcome, Promoter};
use mlops_shared::train::golden::{GoldenRows, GOLDEN_ROWS};
use mlops_tests::{
    aws_backends, dataset_name, ingest, ingestor, install_spec, local_backends, model_name,
    on_both_stores, quick_flights_spec, repo_file, train,
};
use serde_json::{json, Value};

use crate::drift::{serve_july, trained_on_first_quarter};
use crate::monitor::july_outcomes_csv;
use crate::registry::{
    champion, first_version, period_csv, request, routes, second_version, status, SPEC,
};

async fn promote(backends: &Backends, version: u64, force: bool, operation: &str) -> Outcome {
    Promoter::new(backends)
        .execute(
            &Command::Promote {
                model: routes(),
                version: Some(version),
                force,
            },
            &request(operation),
        )
        .await
        .expect("promotes")
}

async fn golden(backends: &Backends, version: u64) -> (mlops_shared::names::ObjectKey, GoldenRows) {
    let record = model_registry::get_version(backends.registry.as_ref(), &routes(), version)
        .await
        .expect("reads")
        .expect("exists");
    let key = record.golden_key.expect("training keeps golden rows");
    let bytes = backends.store.get(&key).await.expect("written").bytes;
    (key, serde_json::from_slice(&bytes).expect("golden rows"))
}

async fn last_entry(backends: &Backends) -> model_registry::AuditEntry {
    model_registry::history(backends.registry.as_ref(), &routes())
        .await
        .expect("reads")
        .pop()
        .expect("an entry")
}

async fn a_champion_answering_otherwise_than_trained_is_withdrawn(backends: Backends) {
    first_version(&backends).await;
    let first = promote(&backends, 1, false, "first").await;
    let test = first
        .smoke_test
        .as_ref()
        .expect("every promotion is smoke-tested");
    let (_, rows) = golden(&backends, 1).await;
    assert!(test.passed, "{test:?}");
    assert_eq!(test.rows, rows.records.len());
    assert!((1..=GOLDEN_ROWS).contains(&test.rows), "{}", test.rows);
    assert!(
        test.max_difference.is_some_and(|d| d <= smoke::TOLERANCE),
        "{test:?}"
    );
    assert!(
        first.message.contains("smoke test passed"),
        "{}",
        first.message
    );
    let record = &rows.records[0];
    let mut fields: Vec<&str> = record.keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(
        fields,
        ["region", "x1", "x2"],
        "the request form, no target"
    );

    // Version 2's golden answers no longer match what it serves (as when serving reads a
    // feature otherwise than training did).
    second_version(&backends).await;
    let (key, mut rows) = golden(&backends, 2).await;
    rows.probabilities[3][1] += 0.25;
    rows.probabilities[3][0] -= 0.25;
    backends
        .store
        .put(&key, serde_json::to_vec(&rows).expect("JSON"))
        .await
        .expect("written");
    let outcome = promote(&backends, 2, true, "second").await;
    assert_eq!(
        outcome.action,
        Some(Action::Withdraw),
        "{}",
        outcome.message
    );
    assert_eq!((outcome.version, outcome.champion), (2, Some(1)));
    let test = outcome.smoke_test.as_ref().expect("tested");
    assert!(!test.passed);
    assert!(
        test.max_difference.is_some_and(|d| (d - 0.25).abs() < 1e-9),
        "{test:?}"
    );
    assert!(
        outcome
            .message
            .contains("differ from training's by up to 2.500e-1")
            && outcome.message.contains("version 1 is the champion again"),
        "{}",
        outcome.message
    );
    assert_eq!(champion(&backends).await, Some(1));
    assert_eq!(status(&backends, 2).await, ModelStatus::Rejected);
    assert_eq!(status(&backends, 1).await, ModelStatus::Champion);
    let entry = last_entry(&backends).await;
    assert_eq!(
        (
            entry.action,
            entry.version,
            entry.from_version,
            entry.to_version
        ),
        (Action::Withdraw, 2, Some(2), Some(1))
    );
    assert_eq!(entry.actor, "smoke-test");
    assert!(entry.reason.contains("after test"), "{}", entry.reason);
    let gate = &entry.decision.as_ref().expect("the evidence").gates[0];
    assert_eq!((gate.name.as_str(), gate.passed), ("smoke_test", false));
    assert!(gate.detail.contains("differ"), "{}", gate.detail);

    // The same request again changes nothing more.
    let revision = entry.revision;
    let again = promote(&backends, 2, true, "second").await;
    assert!(!again.applied, "{}", again.message);
    assert_eq!(last_entry(&backends).await.revision, revision);
    assert_eq!(champion(&backends).await, Some(1));
}
on_both_stores!(a_champion_answering_otherwise_than_trained_is_withdrawn);

fn live_quality(live: f64) -> Cause {
    Cause {
        check: Check::LiveQuality,
        detail: format!("roc_auc {live} live"),
        value: Some(live),
        threshold: Some(0.8),
    }
}

async fn withdraw(backends: &Backends, version: u64, operation: &str) -> Outcome {
    Promoter::new(backends)
        .execute(
            &Command::Withdraw {
                model: routes(),
                version,
                cause: live_quality(0.5),
            },
            &request(operation),
        )
        .await
        .expect("decides")
}

async fn automatic_rollback_is_once_per_version_and_never_back_to_a_withdrawn_one(
    backends: Backends,
) {
    first_version(&backends).await;
    promote(&backends, 1, false, "p1").await;
    second_version(&backends).await;
    promote(&backends, 2, true, "p2").await;
    assert_eq!(champion(&backends).await, Some(2));

    // Off unless the spec turns it on.
    let kept = withdraw(&backends, 2, "w1").await;
    assert!(
        !kept.applied && kept.message.contains("auto_rollback"),
        "{}",
        kept.message
    );
    assert_eq!(champion(&backends).await, Some(2));

    let spec = format!("{SPEC}\n[monitoring]\nauto_rollback = true\n");
    install_spec(&backends, &spec).await;
    let kept = withdraw(&backends, 1, "w2").await;
    assert!(
        !kept.applied && kept.message.contains("not the champion"),
        "{}",
        kept.message
    );
    let withdrawn = withdraw(&backends, 2, "w3").await;
    assert!(withdrawn.applied, "{}", withdrawn.message);
    assert_eq!(withdrawn.champion, Some(1));
    assert_eq!(status(&backends, 2).await, ModelStatus::Rejected);
    let gate = &last_entry(&backends)
        .await
        .decision
        .expect("evidence")
        .gates[0];
    assert_eq!(
        (gate.name.as_str(), gate.value, gate.threshold),
        ("live_quality", Some(0.5), Some(0.8))
    );

    // Forced back in, it is not withdrawn automatically a second time.
    promote(&backends, 2, true, "p2-again").await;
    let kept = withdraw(&backends, 2, "w4").await;
    assert!(
        !kept.applied && kept.message.contains("once already"),
        "{}",
        kept.message
    );
    assert_eq!(champion(&backends).await, Some(2));

    // Version 3 replaces it; degraded, it would return to version 2, withdrawn before: it stays.
    ingest(
        &backends,
        &spec,
        vec![("later.csv".into(), period_csv(101, 2400, true, 13))],
    )
    .await;
    assert_eq!(
        train(&backends, "routes")
            .await
            .expect("trains")
            .record
            .version,
        3
    );
    promote(&backends, 3, true, "p3").await;
    let kept = withdraw(&backends, 3, "w5").await;
    assert!(
        !kept.applied
            && kept
                .message
                .contains("version 2 before it was itself withdrawn"),
        "{}",
        kept.message
    );
    assert_eq!(champion(&backends).await, Some(3));
}
on_both_stores!(automatic_rollback_is_once_per_version_and_never_back_to_a_withdrawn_one);

/// Version 2 of flights made champion with `auto_rollback` on, July scored by it, and every
/// outcome the other way round: the monitor finds it degraded, and its `PerformanceDegraded`
/// event, delivered to the promote function twice, withdraws it once.
async fn a_degraded_champion_is_rolled_back_by_itself(backends: &Backends) {
    trained_on_first_quarter(backends).await;
    let spec = quick_flights_spec().replace(
        "[promotion]",
        "[monitoring]\nauto_rollback = true\n\n[promotion]",
    );
    install_spec(backends, &spec).await;
    assert_eq!(
        train(backends, "flights")
            .await
            .expect("trains")
            .record
            .version,
        2
    );
    let flights = model_name("flights");
    let promoter = Promoter::new(backends);
    let promoted = promoter
        .execute(
            &Command::Promote {
                model: flights.clone(),
                version: Some(2),
                force: true,
            },
            &request("v2"),
        )
        .await
        .expect("promotes");
    assert_eq!(promoted.champion, Some(2), "{}", promoted.message);

    let started = clock::now();
    let predictions = serve_july(backends).await;
    let later = (started + Duration::hours(1)).to_rfc3339();
    let csv = july_outcomes_csv(&predictions, &later, true);
    let uploaded = ingestor(backends)
        .upload_and_ingest(&dataset_name("flights"), "outcomes/july.csv", csv.into())
        .await
        .expect("ingests");
    assert_eq!(uploaded.status, Status::Accepted, "{uploaded:?}");
    let monitored = MonitorJob::new(backends)
        .run(
            &flights,
            started - Duration::minutes(1),
            started + Duration::hours(2),
        )
        .await
        .expect("monitors");
    assert_eq!(monitored.degraded, [2]);
    let events = monitored.degradations();
    assert_eq!(events.len(), 1);

    let mut delivered: Value =
        serde_json::from_slice(&repo_file("events/performance-degraded.json")).expect("JSON");
    delivered["detail"] = events[0].detail.clone();
    let withdrawn = promote::handle(&promoter, delivered.clone(), "req-1")
        .await
        .expect("withdraws");
    assert!(withdrawn.applied, "{}", withdrawn.message);
    assert_eq!(
        (withdrawn.action, withdrawn.version, withdrawn.champion),
        (Some(Action::Withdraw), 2, Some(1))
    );
    let again = promote::handle(&promoter, delivered, "req-2")
        .await
        .expect("answers");
    assert!(!again.applied, "{}", again.message);
    let history = model_registry::history(backends.registry.as_ref(), &flights)
        .await
        .expect("reads");
    let entry = history.last().expect("an entry");
    assert_eq!(
        (entry.action, entry.to_version),
        (Action::Withdraw, Some(1))
    );
    assert!(
        entry.actor.contains("PerformanceDegraded"),
        "{}",
        entry.actor
    );
    let gate = &entry.decision.as_ref().expect("evidence").gates[0];
    let judged = &monitored
        .report
        .versions
        .iter()
        .find(|v| v.version == 2)
        .expect("v2")
        .judgement;
    assert_eq!(
        (gate.name.as_str(), gate.value),
        ("live_quality", judged.live)
    );
    assert!(
        gate.detail.contains("labelled predictions"),
        "{}",
        gate.detail
    );
}

/// What the rollback announced: (detail-type, the event's version or withdrawn version).
fn announced(events: impl IntoIterator<Item = (String, Value)>) -> Vec<(String, Value)> {
    events
        .into_iter()
        .filter(|(kind, _)| kind == "ModelRolledBack" || kind == "RetrainRequested")
        .map(|(kind, detail)| {
            let detail = json!({
                "cause": detail["cause"],
                "withdrawn": detail.get("previous").or(detail.get("withdrawn")),
                "dataset": detail["dataset"],
            });
            (kind, detail)
        })
        .collect()
}

fn expected_announcements() -> Vec<(String, Value)> {
    vec![
        (
            "ModelRolledBack".into(),
            json!({"cause": "live_quality", "withdrawn": 2, "dataset": null}),
        ),
        (
            "RetrainRequested".into(),
            json!({"cause": null, "withdrawn": 2, "dataset": "flights"}),
        ),
    ]
}

#[tokio::test]
async fn a_degraded_champion_is_rolled_back_by_itself_on_the_embedded_default() {
    let (backends, dir) = local_backends();
    a_degraded_champion_is_rolled_back_by_itself(&backends).await;
    let events = EventLog::new(dir.path().join("events.jsonl"))
        .read()
        .expect("events");
    assert_eq!(
        announced(events.into_iter().map(|e| (e.detail_type, e.detail))),
        expected_announcements()
    );
}

#[tokio::test]
async fn a_degraded_champion_is_rolled_back_by_itself_on_dynamodb() {
    let aws = aws_backends().await;
    a_degraded_champion_is_rolled_back_by_itself(&aws.backends).await;
    let events = aws.received_events().await.into_iter().map(|e| {
        (
            e["detail-type"].as_str().unwrap_or_default().to_owned(),
            e["detail"].clone(),
        )
    });
    assert_eq!(announced(events), expected_announcements());
}

/// Too little evidence never withdraws anything: a model with no inference records, then one
/// with a few predictions and no outcomes, then a few outcomes, all judged `insufficient_data`,
/// with auto_rollback on.
async fn too_little_evidence_rolls_nothing_back(backends: Backends) {
    trained_on_first_quarter(&backends).await;
    let spec = quick_flights_spec().replace(
        "[promotion]",
        "[monitoring]\nauto_rollback = true\n\n[promotion]",
    );
    install_spec(&backends, &spec).await;
    let flights = model_name("flights");
    let job = MonitorJob::new(&backends);
    let now = clock::now();

    let empty = job
        .run(&flights, now - Duration::hours(1), now)
        .await
        .expect("a report of nothing");
    assert_eq!(
        (empty.report.counts.predictions, empty.report.versions.len()),
        (0, 0)
    );
    assert!(empty.degraded.is_empty() && empty.degradations().is_empty());
    let view = job
        .window(&flights, now - Duration::hours(1), now)
        .await
        .expect("an empty view");
    assert_eq!(
        (view.requests, view.records, view.warning_rate),
        (0, 0, 0.0)
    );

    let started = clock::now();
    let predictions = serve_july(&backends).await;
    let later = (started + Duration::hours(1)).to_rfc3339();
    // A few outcomes, every one of them the other way round: the little there is looks bad.
    let csv = july_outcomes_csv(&predictions[..50], &later, true);
    let window = (started - Duration::minutes(1), started + Duration::hours(2));
    let unlabelled = job.run(&flights, window.0, window.1).await.expect("judges");
    assert_eq!(unlabelled.report.counts.labelled, 0);
    ingestor(&backends)
        .upload_and_ingest(&dataset_name("flights"), "outcomes/few.csv", csv.into())
        .await
        .expect("ingests");
    let few = job.run(&flights, window.0, window.1).await.expect("judges");
    let judged = &few.report.versions[0].judgement;
    assert_eq!(
        judged.verdict,
        mlops_shared::monitor::Verdict::InsufficientData,
        "{judged:?}"
    );
    assert!(judged.labelled > 0 && judged.labelled < 200, "{judged:?}");
    assert!(few.degraded.is_empty());
    assert_eq!(
        model_registry::get_model(backends.registry.as_ref(), &flights)
            .await
            .expect("reads")
            .expect("exists")
            .champion(),
        Some(1),
        "nothing withdrawn"
    );
}
on_both_stores!(too_little_evidence_rolls_nothing_back);
