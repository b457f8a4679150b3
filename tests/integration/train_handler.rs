//! The train function's handler with the repo's event files, on moto: a schedule tick trains and
//! announces a candidate on EventBridge, repeats are no-ops, a drift event retrains, bad events
//! say what to send.

use mlops_shared::ingest::Ingestor;
use mlops_shared::names::DatasetName;
use mlops_shared::train::Trainer;
use mlops_tests::{aws_backends, flights_sample, flights_spec, install_spec, repo_file};
use serde_json::Value;
use train::{handle, HandlerError};

fn event(file: &str) -> Value {
    serde_json::from_slice(&repo_file(&format!("events/{file}"))).expect("event file is JSON")
}

#[tokio::test]
async fn a_scheduled_event_trains_registers_and_announces_a_candidate() {
    let aws = aws_backends().await;
    install_spec(&aws.backends, &flights_spec()).await;
    let ingestor = Ingestor::new(
        aws.backends.store.clone(),
        aws.backends.registry.clone(),
        1 << 30,
    );
    let flights = DatasetName::parse("flights").expect("valid");
    for month in ["01", "02", "03", "07"] {
        ingestor
            .upload_and_ingest(
                &flights,
                &format!("flights-2013-{month}.csv.gz"),
                flights_sample(month),
            )
            .await
            .expect("ingests");
    }
    let trainer = Trainer::new(&aws.backends);

    let first = handle(&trainer, event("train-schedule.json"))
        .await
        .expect("trains");
    assert_eq!(
        (first.status, first.version, first.trigger.as_str()),
        ("registered", 1, "schedule")
    );
    assert!(first.metrics.contains_key("roc_auc"));
    let events = aws.received_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail-type"], "ModelTrained");
    assert_eq!(events[0]["source"], "mlops");
    assert_eq!(events[0]["detail"]["model"], "flights");
    assert_eq!(events[0]["detail"]["version"], 1);
    assert_eq!(
        events[0]["detail"]["artifact_key"],
        first.artifact_key.as_str()
    );

    // The same input again, on demand or after drift: nothing new is trained.
    for (file, trigger) in [
        ("train-on-demand.json", "on-demand"),
        ("drift-detected.json", "drift"),
    ] {
        let again = handle(&trainer, event(file)).await.expect("reports");
        assert_eq!(
            (again.status, again.version, again.trigger.as_str()),
            ("already_trained", 1, trigger)
        );
    }
    // The candidate is still undecided, so it is announced again for promotion.
    assert_eq!(aws.received_events().await.len(), 2);
}

#[tokio::test]
async fn events_without_a_dataset_or_with_no_data_fail_clearly() {
    let aws = aws_backends().await;
    let trainer = Trainer::new(&aws.backends);
    let bad = handle(&trainer, serde_json::json!({"model": "flights"}))
        .await
        .expect_err("bad");
    assert!(matches!(bad, HandlerError::BadEvent(_)), "{bad}");
    install_spec(&aws.backends, &flights_spec()).await;
    let no_data = handle(&trainer, event("train-on-demand.json"))
        .await
        .expect_err("no data");
    assert!(matches!(no_data, HandlerError::Failed { .. }), "{no_data}");
    assert!(
        no_data.to_string().contains("no curated data for flights"),
        "{no_data}"
    );
    assert!(aws.received_events().await.is_empty());
}
