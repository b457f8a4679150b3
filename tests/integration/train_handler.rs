//! The train function's handler with the repo's event files, on moto: a schedule tick trains and
//! announces a candidate on EventBridge, repeats are no-ops, a drift event retrains, bad events
//! say what to send; a training the spec places in the container task is handed to it, and the
//! task's entry point trains it.

use mlops_shared::ingest::Ingestor;
use mlops_shared::names::DatasetName;
use mlops_shared::train::Trainer;
use mlops_tests::{
    aws_backends, flights_sample, flights_spec, install_spec, quick_flights_spec, repo_file,
    AwsBackends,
};
use serde_json::Value;
use train::{handle, run_task, Answer, HandlerError, Response, TrainRequest};

fn event(file: &str) -> Value {
    serde_json::from_slice(&repo_file(&format!("events/{file}"))).expect("event file is JSON")
}

fn trained(answer: Answer) -> Response {
    match answer {
        Answer::Trained(response) => response,
        Answer::HandedOff(handed) => panic!("handed to the container task: {handed:?}"),
    }
}

/// Backends on moto holding `spec` and four months of the flights sample.
async fn with_flights(spec: &str) -> AwsBackends {
    let aws = aws_backends().await;
    install_spec(&aws.backends, spec).await;
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
    aws
}

#[tokio::test]
async fn a_scheduled_event_trains_registers_and_announces_a_candidate() {
    let aws = with_flights(&flights_spec()).await;
    let trainer = Trainer::new(&aws.backends);

    let first = trained(
        handle(&trainer, event("train-schedule.json"))
            .await
            .expect("trains"),
    );
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
        let again = trained(handle(&trainer, event(file)).await.expect("reports"));
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

/// The quick flights spec with these `[training]` settings added.
fn placed(settings: &str) -> String {
    quick_flights_spec().replace("[training]\n", &format!("[training]\n{settings}\n"))
}

#[tokio::test]
async fn a_training_past_the_functions_rows_is_handed_to_the_container_task_which_trains_it() {
    let aws = with_flights(&placed("lambda_max_rows = 1000")).await;
    let trainer = Trainer::new(&aws.backends);

    let answer = handle(&trainer, event("train-schedule.json"))
        .await
        .expect("hands off");
    let Answer::HandedOff(handed) = answer else {
        panic!("trained in the function: {answer:?}");
    };
    assert_eq!(
        (
            handed.status,
            handed.dataset.as_str(),
            handed.trigger.as_str()
        ),
        ("container_task_requested", "flights", "schedule")
    );
    assert!(handed.rows > 1000, "{handed:?}");
    let events = aws.received_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail-type"], "TrainingTaskRequested");
    assert_eq!(
        events[0]["detail"],
        serde_json::json!({"dataset": "flights", "trigger": "schedule", "rows": handed.rows})
    );
    let flights = mlops_shared::names::ModelName::parse("flights").expect("valid");
    assert!(
        mlops_shared::model_registry::versions(aws.backends.registry.as_ref(), &flights)
            .await
            .expect("lists")
            .is_empty(),
        "the function trained nothing"
    );

    // The task the event starts trains, whatever the size, and announces the candidate.
    let request = TrainRequest {
        dataset: handed.dataset,
        trigger: handed.trigger,
    };
    let response = run_task(&trainer, request).await.expect("trains");
    assert_eq!((response.status, response.version), ("registered", 1));
    let events = aws.received_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail-type"], "ModelTrained");
}

#[tokio::test]
async fn compute_says_where_training_runs_whatever_the_rows() {
    let lambda = with_flights(&placed("compute = \"lambda\"\nlambda_max_rows = 1000")).await;
    let answer = handle(
        &Trainer::new(&lambda.backends),
        event("train-on-demand.json"),
    )
    .await
    .expect("trains");
    assert_eq!(trained(answer).status, "registered");

    let container = with_flights(&placed("compute = \"container\"")).await;
    let answer = handle(
        &Trainer::new(&container.backends),
        event("train-on-demand.json"),
    )
    .await
    .expect("hands off");
    assert!(matches!(answer, Answer::HandedOff(_)), "{answer:?}");
}
