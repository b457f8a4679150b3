use super::*;
use serde_json::json;

fn event(file: &str) -> Value {
    let path = format!("{}/../../events/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn a_model_trained_event_asks_for_a_decision_keyed_by_its_event_id() {
    let (command, request) = parse(&event("model-trained.json"), "req-1").expect("valid");
    assert_eq!(
        command,
        Command::Decide {
            model: ModelName::parse("flights").expect("valid"),
            version: 1
        }
    );
    // EventBridge may deliver the same event twice: both carry one id, so one operation.
    let id = event("model-trained.json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(request.operation, format!("event:{id}"));
    assert!(request.actor.contains("ModelTrained"), "{}", request.actor);
}

#[test]
fn a_degraded_champion_event_asks_to_withdraw_it_for_live_quality() {
    let (command, request) = parse(&event("performance-degraded.json"), "req-1").expect("valid");
    let Command::Withdraw {
        model,
        version,
        cause,
    } = command
    else {
        panic!("not a withdrawal: {command:?}");
    };
    assert_eq!((model.as_str(), version), ("flights", 2));
    assert_eq!(cause.check, mlops_shared::promotion::Check::LiveQuality);
    assert_eq!((cause.value, cause.threshold), (Some(0.5412), Some(0.6526)));
    assert!(
        cause.detail.starts_with(
            "roc_auc 0.5412 live on 2883 labelled predictions against 0.6526 on the test part: live roc_auc"
        ),
        "{}",
        cause.detail
    );
    let id = event("performance-degraded.json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(request.operation, format!("event:{id}"));
    assert!(
        request.actor.contains("PerformanceDegraded"),
        "{}",
        request.actor
    );
}

#[test]
fn manual_requests_from_the_sample_events_parse() {
    let (command, request) = parse(&event("promote-manual.json"), "req-2").expect("valid");
    assert_eq!(
        command,
        Command::Promote {
            model: ModelName::parse("flights").expect("valid"),
            version: Some(2),
            force: true
        }
    );
    assert_eq!(request.actor, "direct-invoke:alice@example.com");
    assert!(request.reason.is_some());
    let (command, request) = parse(&event("rollback.json"), "req-3").expect("valid");
    assert_eq!(
        command,
        Command::Rollback {
            model: ModelName::parse("flights").expect("valid")
        }
    );
    // Without an operation id, the Lambda request id (stable across retries) is the key.
    assert_eq!(request.operation, "req-3");
}

#[test]
fn bad_requests_say_what_is_wrong() {
    let cases = [
        (
            json!({"action": "demote", "model": "flights"}),
            "unknown variant `demote`",
        ),
        (
            json!({"action": "reject", "model": "flights"}),
            "reject needs \"version\"",
        ),
        (
            json!({"action": "set_alias", "model": "flights", "version": 1, "alias": "Shadow Model"}),
            "alias name \"Shadow Model\" is invalid",
        ),
        (
            json!({"action": "rollback", "model": "../x"}),
            "model name \"../x\" is invalid",
        ),
        (
            json!({"action": "rollback", "model": "flights", "force": "yes"}),
            "invalid type",
        ),
        (
            json!({"action": "rollback", "model": "flights", "extra": 1}),
            "unknown field `extra`",
        ),
        (
            json!({"detail-type": "ModelTrained", "id": "e1", "detail": {"model": "flights"}}),
            "numeric \"version\"",
        ),
        (
            json!({"detail-type": "DriftDetected", "id": "e1", "detail": {}}),
            "handles ModelTrained and PerformanceDegraded events, not \"DriftDetected\"",
        ),
        (
            json!({"action": "rollback", "model": "flights", "operation_id": "a b"}),
            "operation id",
        ),
    ];
    for (event, expected) in cases {
        let err = parse(&event, "req").expect_err("invalid");
        assert!(
            matches!(err, HandlerError::BadEvent(_)) && err.to_string().contains(expected),
            "{event}: {err}"
        );
    }
}
