use chrono::TimeZone;
use serde_json::json;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0)
        .single()
        .expect("time")
}

#[test]
fn a_schedule_checks_the_window_of_inference_records_up_to_now() {
    let request =
        parse_request(&json!({"model": "flights", "trigger": "schedule"}), now()).expect("valid");
    assert_eq!(request.model.as_str(), "flights");
    assert_eq!(request.trigger, "schedule");
    assert_eq!(request.version, None);
    assert_eq!(
        request.current,
        Current::Window {
            hours: None,
            until: now()
        }
    );
}

#[test]
fn an_on_demand_check_can_name_the_reference_the_window_or_a_data_version() {
    let window = parse_request(
        &json!({"model": "flights", "version": 3, "hours": 48}),
        now(),
    )
    .expect("valid");
    assert_eq!(
        (window.version, window.trigger.as_str()),
        (Some(3), "on-demand")
    );
    assert_eq!(
        window.current,
        Current::Window {
            hours: Some(48),
            until: now()
        }
    );
    let data = parse_request(
        &json!({"detail-type": "DataCheck", "detail": {"model": "flights", "current_version": "ab12"}}),
        now(),
    )
    .expect("valid");
    assert_eq!(data.current, Current::DataVersion("ab12".into()));
    assert_eq!(data.trigger, "event");
}

#[test]
fn a_bad_event_says_what_to_send() {
    for (event, problem) in [
        (json!({"dataset": "flights"}), "no model named"),
        (json!({"model": "../x"}), "model"),
        (json!({"model": "flights", "hours": 0}), "\"hours\""),
        (json!({"model": "flights", "version": "2"}), "\"version\""),
    ] {
        let error = parse_request(&event, now())
            .expect_err("refused")
            .to_string();
        assert!(
            error.contains(problem) && error.contains("{\"model\": \"<name>\"}"),
            "{error}"
        );
    }
}

#[test]
fn a_monitor_event_names_the_model_and_optionally_the_window() {
    let scheduled = json!({"job": "monitor", "model": "flights"});
    assert!(monitor::is_monitor_event(&scheduled));
    assert!(!monitor::is_monitor_event(&json!({"model": "flights"})));
    let request = monitor::parse_request(&scheduled).expect("valid");
    assert_eq!(
        (request.model.as_str(), request.hours),
        ("flights", monitor::DEFAULT_HOURS)
    );
    let wrapped = json!({"detail-type": "Scheduled Event", "detail": {"job": "monitor", "model": "flights", "hours": 6}});
    assert!(monitor::is_monitor_event(&wrapped));
    assert_eq!(monitor::parse_request(&wrapped).expect("valid").hours, 6);
    for (bad, says) in [
        (json!({"job": "monitor"}), "no model named"),
        (json!({"job": "monitor", "model": "Flights"}), "model name"),
        (
            json!({"job": "monitor", "model": "flights", "hours": 0}),
            "\"hours\"",
        ),
        (
            json!({"job": "monitor", "model": "flights", "hours": "24"}),
            "\"hours\"",
        ),
    ] {
        let err = monitor::parse_request(&bad).expect_err("refused");
        assert!(err.to_string().contains(says), "{bad}: {err}");
    }
}
