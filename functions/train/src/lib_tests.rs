use super::*;
use serde_json::json;

#[test]
fn reads_the_dataset_from_direct_and_eventbridge_events() {
    let direct = parse_request(&json!({"dataset": "flights"})).expect("valid");
    assert_eq!(
        (direct.dataset.as_str(), direct.trigger.as_str()),
        ("flights", "on-demand")
    );
    let scheduled =
        parse_request(&json!({"dataset": "flights", "trigger": "schedule"})).expect("valid");
    assert_eq!(scheduled.trigger, "schedule");
    let drift = parse_request(&json!({
        "detail-type": "DriftDetected",
        "source": "mlops",
        "detail": {"model": "flights", "dataset": "flights"}
    }))
    .expect("valid");
    assert_eq!(
        (drift.dataset.as_str(), drift.trigger.as_str()),
        ("flights", "drift")
    );
}

#[test]
fn an_event_without_a_valid_dataset_says_what_to_send() {
    let missing = parse_request(&json!({"name": "flights"})).expect_err("no dataset");
    assert!(
        missing.to_string().contains("{\"dataset\": \"<name>\"}"),
        "{missing}"
    );
    let invalid = parse_request(&json!({"dataset": "../etc"})).expect_err("bad name");
    assert!(invalid.to_string().contains("dataset name"), "{invalid}");
}

#[test]
fn a_retrain_request_after_a_withdrawal_trains_with_its_trigger() {
    let request = parse_request(&event("retrain-requested.json")).expect("valid");
    assert_eq!(
        (request.dataset.as_str(), request.trigger.as_str()),
        ("flights", "performance")
    );
}

#[test]
fn the_container_task_is_started_with_its_dataset_and_trigger() {
    let args = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    assert!(
        task_request(&args(&[])).is_none(),
        "no arguments: the Lambda runtime"
    );
    let request = task_request(&args(&["--task", "flights", "drift"]))
        .expect("a task")
        .expect("valid");
    assert_eq!(
        (request.dataset.as_str(), request.trigger.as_str()),
        ("flights", "drift")
    );
    for bad in [
        &["--task"][..],
        &["--task", "flights"],
        &["--task", "../flights", "schedule"],
    ] {
        let refused = task_request(&args(bad))
            .expect("a task")
            .expect_err("refused");
        assert!(matches!(refused, HandlerError::BadEvent(_)), "{refused}");
    }
}

fn event(name: &str) -> Value {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_search_steps_read_their_events() {
    assert!(
        parse_step(&event("train-schedule.json")).is_none(),
        "not a step"
    );
    let plan = parse_step(&event("train-search-plan.json"))
        .expect("a step")
        .expect("valid");
    let Step::Plan(request) = plan else {
        panic!("a plan step: {plan:?}")
    };
    assert_eq!(
        (request.dataset.as_str(), request.trigger.as_str()),
        ("flights", "schedule")
    );
    let fit = parse_step(&event("train-search-fit.json"))
        .expect("a step")
        .expect("valid");
    let Step::Fit { plan, candidate } = fit else {
        panic!("a fit step: {fit:?}")
    };
    assert_eq!(plan.dataset.as_str(), "flights");
    assert_eq!(plan.data_versions, ["1c26203c97c1de8b"]);
    assert_eq!(candidate, 2);
    let finish = parse_step(&event("train-search-finish.json"))
        .expect("a step")
        .expect("valid");
    assert_eq!(finish, Step::Finish(plan));
}

#[test]
fn a_malformed_step_says_what_is_missing() {
    let refused = |event: Value| {
        parse_step(&event)
            .expect("a step")
            .expect_err("refused")
            .to_string()
    };
    let fit = event("train-search-fit.json");
    let mut no_candidate = fit.clone();
    no_candidate
        .as_object_mut()
        .expect("an object")
        .remove("candidate");
    assert!(refused(no_candidate).contains("\"candidate\""));
    let mut no_plan = fit.clone();
    no_plan.as_object_mut().expect("an object").remove("plan");
    assert!(refused(no_plan).contains("\"plan\""));
    let mut bad_plan = fit;
    bad_plan["plan"]["fingerprint"] = json!(7);
    assert!(refused(bad_plan).contains("plan: "));
    assert!(refused(json!({"step": "fly"})).contains("\"plan\", \"fit\" or \"finish\""));
}
