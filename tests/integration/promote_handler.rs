//! The promote function's handler with the repo's event files, on moto: the train function's
//! `ModelTrained` event makes the first champion, a redelivery is a no-op, and manual requests
//! that cannot apply are refused with the reason.

use mlops_shared::model_registry;
use mlops_shared::promotion::Promoter;
use mlops_shared::train::Trainer;
use mlops_tests::{aws_backends, flights_sample, flights_spec, ingest, model_name, repo_file};
use promote::{handle, HandlerError};
use serde_json::Value;

fn event(file: &str) -> Value {
    serde_json::from_slice(&repo_file(&format!("events/{file}"))).expect("event file is JSON")
}

#[tokio::test]
async fn model_trained_makes_the_first_champion_once() {
    let aws = aws_backends().await;
    let files = ["01", "02", "03", "07"]
        .iter()
        .map(|m| (format!("flights-2013-{m}.csv.gz"), flights_sample(m)))
        .collect();
    ingest(&aws.backends, &flights_spec(), files).await;
    train::handle(&Trainer::new(&aws.backends), event("train-schedule.json"))
        .await
        .expect("trains version 1");
    let promoter = Promoter::new(&aws.backends);

    let decided = handle(&promoter, event("model-trained.json"), "req-1")
        .await
        .expect("decides");
    assert!(decided.applied, "{}", decided.message);
    assert_eq!((decided.version, decided.champion), (1, Some(1)));
    let flights = model_name("flights");
    let state = model_registry::get_model(aws.backends.registry.as_ref(), &flights)
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(state.champion(), Some(1));

    // EventBridge delivers at least once: the same event again changes nothing.
    let again = handle(&promoter, event("model-trained.json"), "req-2")
        .await
        .expect("replay");
    assert!(!again.applied);
    let history = model_registry::history(aws.backends.registry.as_ref(), &flights)
        .await
        .expect("reads");
    assert_eq!(history.len(), 1);
    let kinds: Vec<String> = aws
        .received_events()
        .await
        .iter()
        .filter_map(|e| e["detail-type"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(kinds, ["ModelTrained", "ModelPromoted"]);

    // Manual requests that cannot apply: no previous champion, no version 2.
    let rollback = handle(&promoter, event("rollback.json"), "req-3")
        .await
        .expect_err("nothing to roll back to");
    assert!(
        matches!(rollback, HandlerError::Refused(_))
            && rollback.to_string().contains("no previous champion"),
        "{rollback}"
    );
    let promote = handle(&promoter, event("promote-manual.json"), "req-4")
        .await
        .expect_err("no version 2");
    assert!(
        promote.to_string().contains("has no version 2"),
        "{promote}"
    );
    assert_eq!(
        model_registry::history(aws.backends.registry.as_ref(), &flights)
            .await
            .expect("reads")
            .len(),
        1
    );
}

#[tokio::test]
async fn a_data_version_is_retired_and_restored_by_direct_invoke_once_each() {
    use mlops_shared::ingest::retirement;
    use promote::{handle_event, Answer};

    let aws = aws_backends().await;
    let files = ["01", "02"]
        .iter()
        .map(|m| (format!("flights-2013-{m}.csv.gz"), flights_sample(m)))
        .collect();
    ingest(&aws.backends, &flights_spec(), files).await;
    let promoter = Promoter::new(&aws.backends);
    let registry = aws.backends.registry.as_ref();
    let flights = mlops_tests::dataset_name("flights");
    let change = |answer: Answer| match answer {
        Answer::Data(change) => change,
        Answer::Decided(outcome) => panic!("a promotion outcome: {outcome:?}"),
    };

    // The event names the January sample's version.
    let retired = change(
        handle_event(&promoter, registry, event("retire-data.json"), "req-1")
            .await
            .expect("retires"),
    );
    assert!(retired.applied, "{}", retired.message);
    assert_eq!(retired.actor, "direct-invoke:alice@example.com");
    let marked = retirement::retirements(registry, &flights)
        .await
        .expect("reads");
    let marker = marked.get(&retired.version).expect("retired");
    assert!(marker.reason.contains("DATA-118"));

    // Lambda retries an invocation that timed out: the second finds it done.
    let again = change(
        handle_event(&promoter, registry, event("retire-data.json"), "req-1")
            .await
            .expect("answers"),
    );
    assert!(!again.applied && again.message.contains("already retired"));

    let restored = change(
        handle_event(&promoter, registry, event("restore-data.json"), "req-2")
            .await
            .expect("restores"),
    );
    assert!(restored.applied, "{}", restored.message);
    assert!(retirement::retirements(registry, &flights)
        .await
        .expect("reads")
        .is_empty());
    let trail = retirement::audit(registry, &flights).await.expect("reads");
    assert_eq!(trail.len(), 2, "both changes in the audit trail");

    // Requests that cannot apply say why.
    let mut unknown = event("retire-data.json");
    unknown["version"] = "0000000000000000".into();
    let refused = handle_event(&promoter, registry, unknown, "req-3").await;
    assert!(
        matches!(&refused, Err(HandlerError::Data(e)) if e.to_string().contains("has no data version")),
        "{refused:?}"
    );
    let mut unexplained = event("retire-data.json");
    unexplained["reason"] = " ".into();
    let refused = handle_event(&promoter, registry, unexplained, "req-4").await;
    assert!(
        matches!(&refused, Err(HandlerError::Data(e)) if e.to_string().contains("say why")),
        "{refused:?}"
    );
    let mut no_reason = event("retire-data.json");
    no_reason
        .as_object_mut()
        .expect("an object")
        .remove("reason");
    let refused = handle_event(&promoter, registry, no_reason, "req-5").await;
    assert!(
        matches!(&refused, Err(HandlerError::BadEvent(m)) if m.contains("reason")),
        "{refused:?}"
    );
}
