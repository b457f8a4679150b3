//! The train function's handler with the repo's event files, on moto: a schedule tick trains and
//! announces a candidate on EventBridge, repeats are no-ops, a drift event retrains, bad events
//! say what to send; a training the spec places in the container task is handed to it, and the
//! task's entry point trains it. The search's steps, as the state machine invokes them, run from
//! their event files and may each run again.

use mlops_shared::ingest::Ingestor;
use mlops_shared::names::DatasetName;
use mlops_shared::train::Trainer;
use mlops_tests::{
    aws_backends, flights_sample, flights_spec, ingest, install_spec, quick_flights_spec,
    repo_file, wide_search_flights_spec, AwsBackends,
};
use serde_json::Value;
use train::{handle, run_task, Answer, HandlerError, Response, TrainRequest};

fn event(file: &str) -> Value {
    serde_json::from_slice(&repo_file(&format!("events/{file}"))).expect("event file is JSON")
}

fn trained(answer: Answer) -> Response {
    match answer {
        Answer::Trained(response) => response,
        other => panic!("not trained: {other:?}"),
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

/// What fanned-out searches keep between their steps.
async fn kept_candidates(aws: &AwsBackends) -> Vec<mlops_shared::ports::ObjectInfo> {
    aws.backends.store.list("searches/").await.expect("lists")
}

/// The answer as Lambda returns it.
fn json_of(answer: &Answer) -> Value {
    serde_json::to_value(answer).expect("answers are JSON")
}

#[tokio::test]
async fn the_search_steps_run_from_their_event_files_and_each_may_run_again() {
    let aws = aws_backends().await;
    ingest(
        &aws.backends,
        &flights_spec(),
        vec![("flights-2013-01.csv.gz".into(), flights_sample("01"))],
    )
    .await;
    let trainer = Trainer::new(&aws.backends);

    // The plan of the bundled spec and January sample is the one the fit and finish events carry.
    let planned = json_of(
        &handle(&trainer, event("train-search-plan.json"))
            .await
            .expect("plans"),
    );
    let fit_event = event("train-search-fit.json");
    assert_eq!(planned["status"], "planned", "{planned}");
    for field in [
        "dataset",
        "trigger",
        "fingerprint",
        "data_versions",
        "retired_versions",
    ] {
        assert_eq!(planned["plan"][field], fit_event["plan"][field], "{field}");
    }
    assert_eq!(planned["candidates"], serde_json::json!([0, 1, 2, 3, 4, 5]));

    // Each candidate once; the event's own candidate twice: the second run reuses the first.
    let mut scores = Vec::new();
    for candidate in 0..6 {
        let mut step = fit_event.clone();
        step["candidate"] = candidate.into();
        let fitted = json_of(&handle(&trainer, step).await.expect("fits"));
        assert_eq!(
            (fitted["status"].as_str(), fitted["candidate"].as_u64()),
            (Some("fitted"), Some(candidate)),
            "{fitted}"
        );
        scores.push(fitted["validation_score"].clone());
    }
    let again = json_of(&handle(&trainer, fit_event).await.expect("reuses"));
    assert_eq!(
        (again["status"].as_str(), &again["validation_score"]),
        (Some("kept_before"), &scores[2])
    );
    let kept = aws
        .backends
        .store
        .list("searches/flights/")
        .await
        .expect("lists");
    assert_eq!(kept.len(), 6, "{kept:?}");

    // Finish registers the best candidate once, and removes what the search kept.
    let finished = trained(
        handle(&trainer, event("train-search-finish.json"))
            .await
            .expect("registers"),
    );
    assert_eq!((finished.status, finished.version), ("registered", 1));
    let metrics = mlops_tests::json_object(&aws.backends, "models/flights/1/metrics.json").await;
    let candidates = metrics["candidates"].as_array().expect("candidates");
    let recorded: Vec<&Value> = candidates.iter().map(|c| &c["validation_score"]).collect();
    assert_eq!(recorded, scores.iter().collect::<Vec<_>>());
    assert!(kept_candidates(&aws).await.is_empty());
    let lineage = mlops_tests::json_object(&aws.backends, "models/flights/1/lineage.json").await;
    assert_eq!(lineage["fingerprint"], planned["plan"]["fingerprint"]);
    let events = aws.received_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail-type"], "ModelTrained");

    // Finish and plan again: the version stands, nothing is trained.
    let repeated = trained(
        handle(&trainer, event("train-search-finish.json"))
            .await
            .expect("reports"),
    );
    assert_eq!((repeated.status, repeated.version), ("already_trained", 1));
    let replanned = trained(
        handle(&trainer, event("train-search-plan.json"))
            .await
            .expect("reports"),
    );
    assert_eq!(
        (replanned.status, replanned.version),
        ("already_trained", 1)
    );
}

#[tokio::test]
async fn a_search_step_refuses_a_missing_candidate_and_a_plan_its_input_no_longer_matches() {
    let spec = wide_search_flights_spec(4);
    let aws = with_flights(&spec).await;
    let trainer = Trainer::new(&aws.backends);
    let planned = json_of(
        &handle(&trainer, event("train-search-plan.json"))
            .await
            .expect("plans"),
    );
    let plan = planned["plan"].clone();

    let unfinished = handle(
        &trainer,
        serde_json::json!({"step": "finish", "plan": plan}),
    )
    .await
    .expect_err("no candidate kept");
    assert!(
        matches!(unfinished, HandlerError::Failed { .. }),
        "{unfinished}"
    );
    assert!(
        unfinished
            .to_string()
            .contains("candidate 0 of the search was not kept"),
        "{unfinished}"
    );
    let beyond = handle(
        &trainer,
        serde_json::json!({"step": "fit", "plan": plan, "candidate": 6}),
    )
    .await
    .expect_err("no such candidate");
    assert!(
        beyond.to_string().contains("there is no candidate 6"),
        "{beyond}"
    );

    // Another seed is another model: a step of the old plan refuses rather than mix the two.
    install_spec(
        &aws.backends,
        &spec.replace("seed = 42\n\n[[training", "seed = 7\n\n[[training"),
    )
    .await;
    let outdated = handle(
        &trainer,
        serde_json::json!({"step": "fit", "plan": plan, "candidate": 0}),
    )
    .await
    .expect_err("outdated");
    assert!(
        outdated
            .to_string()
            .contains("changed since this search was planned"),
        "{outdated}"
    );
    assert!(kept_candidates(&aws).await.is_empty());
}

#[tokio::test]
async fn a_search_fans_out_from_the_specs_candidates_and_never_with_zero() {
    let wide = with_flights(&wide_search_flights_spec(6)).await;
    let answer = handle(&Trainer::new(&wide.backends), event("train-schedule.json"))
        .await
        .expect("hands off");
    let Answer::SearchRequested(requested) = answer else {
        panic!("not fanned out: {answer:?}");
    };
    assert_eq!(
        (requested.status, requested.candidates),
        ("search_requested", 6)
    );
    let events = wide.received_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail-type"], "TrainingSearchRequested");
    let expected = event("training-search-requested.json");
    assert_eq!(
        events[0]["detail"]
            .as_object()
            .map(|d| d.keys().collect::<Vec<_>>()),
        expected["detail"]
            .as_object()
            .map(|d| d.keys().collect::<Vec<_>>()),
        "the event file has the fields the function publishes"
    );

    for fan_out in [0, 7] {
        let narrow = with_flights(&wide_search_flights_spec(fan_out)).await;
        let answer = handle(
            &Trainer::new(&narrow.backends),
            event("train-schedule.json"),
        )
        .await
        .expect("trains");
        assert_eq!(
            trained(answer).status,
            "registered",
            "fan_out_candidates = {fan_out}"
        );
    }
}
