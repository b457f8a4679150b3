//! The monitor job: July scored through the API (every record sampled), its real outcomes
//! uploaded later, and the live metrics of the champion computed from the two.

use chrono::Duration;
use drift::dispatch;
use mlops_local::EventLog;
use mlops_shared::clock;
use mlops_shared::drift::DriftJob;
use mlops_shared::evaluate::evaluate;
use mlops_shared::ingest::Status;
use mlops_shared::monitor::{JoinCounts, MonitorJob, Verdict};
use mlops_shared::ports::Backends;
use mlops_shared::promotion::{Command, Promoter, Request as PromoteRequest};
use mlops_tests::{
    aws_backends, dataset_name, flights_sample, gunzip, ingest, ingestor, install_spec,
    local_backends, model_name, quick_flights_spec, repo_file, train,
};
use std::sync::Arc;

use axum::http::StatusCode;
use mlops_http::admin::Admin;
use polars::prelude::*;
use serde_json::{json, Value};

use crate::api::send;
use crate::openapi::{conforms, document};

use crate::drift::{serve, serve_july, trained_on_first_quarter};
use crate::train::{plants_spec_with_target, plants_with_rare_virginica};

/// July's `late` column: the outcome of each flight, null for cancelled ones.
fn july_outcomes() -> Vec<Option<i64>> {
    let csv = gunzip(&flights_sample("07"));
    let frame = CsvReader::new(std::io::Cursor::new(csv.into_bytes()))
        .finish()
        .expect("the sample reads");
    frame
        .column("late")
        .and_then(|c| c.cast(&DataType::Int64))
        .expect("late")
        .i64()
        .expect("integers")
        .iter()
        .collect()
}

/// Outcomes for the answered July `predictions` (in the sample's order), observed at
/// `observed_at`: each flight's lateness, or its opposite when `flipped`. Cancelled flights
/// have none.
pub(crate) fn july_outcomes_csv(predictions: &[Value], observed_at: &str, flipped: bool) -> String {
    let mut csv = String::from("prediction_id,late,observed_at\n");
    for (prediction, late) in predictions.iter().zip(july_outcomes()) {
        if let (Some(late), Some(id)) = (late, prediction["prediction_id"].as_str()) {
            let late = if flipped { 1 - late } else { late };
            csv.push_str(&format!("{id},{late},{observed_at}\n"));
        }
    }
    csv
}

async fn live_metrics_join_the_predictions_with_their_late_outcomes(backends: Backends) {
    trained_on_first_quarter(&backends).await;
    // The business prices mistakes: a missed late flight costs four times a false alarm.
    let priced = quick_flights_spec().replace(
        "threshold = \"max_f1\"",
        "threshold = \"max_f1\"\ncost_fp = 1.0\ncost_fn = 4.0",
    );
    assert_ne!(priced, quick_flights_spec());
    install_spec(&backends, &priced).await;
    let started = clock::now();
    let predictions = serve_july(&backends).await;
    let truth = july_outcomes();
    assert_eq!(predictions.len(), truth.len());

    // The outcomes arrive an hour later; one names a flight nobody predicted, one is dated
    // before its prediction.
    let later = (started + Duration::hours(1)).to_rfc3339();
    let mut csv = String::from("prediction_id,late,observed_at\n");
    let (mut scores, mut labels) = (Vec::new(), Vec::new());
    let mut mistakes_cost = 0.0;
    for (i, (prediction, late)) in predictions.iter().zip(&truth).enumerate() {
        let (Some(late), Some(id)) = (late, prediction["prediction_id"].as_str()) else {
            continue;
        };
        if i == 0 {
            csv.push_str(&format!("{id},{late},2000-01-01T00:00:00Z\n"));
            continue;
        }
        csv.push_str(&format!("{id},{late},{later}\n"));
        let score = prediction["score"].as_f64().expect("a binary score");
        scores.extend([1.0 - score, score]);
        labels.push(*late as u32);
        match (prediction["label"].as_str(), late) {
            (Some("1"), 0) => mistakes_cost += 1.0,
            (Some("0"), 1) => mistakes_cost += 4.0,
            _ => {}
        }
    }
    csv.push_str(&format!("nobody-0,1,{later}\n"));
    let outcome = ingestor(&backends)
        .upload_and_ingest(&dataset_name("flights"), "outcomes/july.csv", csv.into())
        .await
        .expect("ingests");
    assert_eq!(outcome.status, Status::Accepted, "{outcome:?}");

    let report = MonitorJob::new(&backends)
        .run(
            &model_name("flights"),
            started - Duration::minutes(1),
            started + Duration::hours(2),
        )
        .await
        .expect("monitors")
        .report;
    assert_eq!(
        report.counts,
        JoinCounts {
            predictions: predictions.len() as u64,
            outcomes: labels.len() as u64 + 2,
            labelled: labels.len() as u64,
            unknown_ids: 1,
            before_prediction: 1,
            ..JoinCounts::default()
        }
    );
    assert_eq!(report.versions.len(), 1);
    let champion = &report.versions[0];
    assert_eq!(
        (champion.version, champion.predictions),
        (1, predictions.len() as u64)
    );
    let classes = ["0".to_owned(), "1".to_owned()];
    let threshold = predictions_threshold(&backends).await;
    assert_eq!(
        champion.live.as_ref(),
        Some(&evaluate(&scores, &labels, &classes, threshold)),
        "the live metrics are those of the scores the API answered, against the outcomes"
    );
    assert!(champion.test.contains_key("roc_auc"), "{:?}", champion.test);
    let judged = &champion.judgement;
    assert_eq!(
        (judged.labelled, judged.live, judged.test),
        (
            labels.len() as u64,
            champion.live.as_ref().and_then(|l| l.roc_auc),
            champion.test.get("roc_auc").copied()
        ),
        "judged on roc_auc, the spec's primary metric"
    );
    assert_ne!(judged.verdict, Verdict::InsufficientData, "{judged:?}");
    let by_carrier = &champion.slices["carrier"];
    assert_eq!(
        by_carrier.values().map(|e| e.rows).sum::<usize>(),
        labels.len(),
        "every labelled row in one carrier's slice: {:?}",
        by_carrier.keys()
    );
    assert!(by_carrier.contains_key("UA"), "{:?}", by_carrier.keys());
    let cost = champion.cost.as_ref().expect("the spec prices mistakes");
    assert!(
        (cost.live_per_row - mistakes_cost / labels.len() as f64).abs() < 1e-12,
        "{cost:?}"
    );
    assert!(
        cost.test_per_row.is_some() && cost.difference.is_some(),
        "{cost:?}"
    );
    let shape = champion.scores.as_ref().expect("a binary model's scores");
    assert_eq!(
        shape.histogram.iter().sum::<u64>(),
        predictions.len() as u64
    );
    assert_eq!(
        shape.calibration.iter().map(|b| b.rows).sum::<u64>(),
        labels.len() as u64
    );
    let band = shape.band.as_ref().expect("the test part's band");
    assert!(
        band.low < band.test_rate && band.test_rate < band.high,
        "{band:?}"
    );
    assert_eq!(
        band.outside,
        shape.positive_rate < band.low || shape.positive_rate > band.high
    );
    let answered_positive =
        predictions.iter().filter(|p| p["label"] == "1").count() as f64 / predictions.len() as f64;
    assert!(
        (shape.positive_rate - answered_positive).abs() < 1e-12,
        "the share the API answered positive: {shape:?}"
    );

    // Corrections arrive: every outcome was the other way round. The latest observation counts,
    // and a model that ranks flights backwards is found degraded.
    let corrected = (started + Duration::hours(2)).to_rfc3339();
    let mut csv = String::from("prediction_id,late,observed_at\n");
    for (prediction, late) in predictions.iter().zip(&truth).skip(1) {
        if let (Some(late), Some(id)) = (late, prediction["prediction_id"].as_str()) {
            csv.push_str(&format!("{id},{},{corrected}\n", 1 - late));
        }
    }
    ingestor(&backends)
        .upload_and_ingest(
            &dataset_name("flights"),
            "outcomes/corrections.csv",
            csv.into(),
        )
        .await
        .expect("ingests");
    let outcome = MonitorJob::new(&backends)
        .run(
            &model_name("flights"),
            started - Duration::minutes(1),
            started + Duration::hours(3),
        )
        .await
        .expect("monitors");
    let report = &outcome.report;
    assert_eq!(report.counts.changed, labels.len() as u64);
    let judged = &report.versions[0].judgement;
    assert_eq!(judged.verdict, Verdict::Degraded, "{judged:?}");
    assert_eq!(outcome.degraded, [1]);
    let written: serde_json::Value = serde_json::from_slice(
        &backends
            .store
            .get(&outcome.json_key)
            .await
            .expect("written")
            .bytes,
    )
    .expect("JSON");
    assert_eq!(written["versions"][0]["judgement"]["verdict"], "degraded");
    let page = String::from_utf8(
        backends
            .store
            .get(&outcome.html_key)
            .await
            .expect("written")
            .bytes,
    )
    .expect("UTF-8");
    for shown in [
        "Live quality: flights",
        "Version 1 <span class=\"verdict degraded\">degraded</span>",
        "carrier: roc_auc per value",
        "observed positive rate",
    ] {
        assert!(page.contains(shown), "the page shows {shown:?}");
    }
    assert_eq!(written["champion"], 1);
    assert!(
        judged.live.is_some_and(|live| live < 0.5),
        "ranks backwards: {judged:?}"
    );
    the_window_view_shows_what_was_asked_and_answered(&backends, predictions.len()).await;
}

/// `GET /models/flights/monitor`: July's one request of every flight, its answers, the features
/// that left their training range (July is warmer than the first quarter), and the verdict.
async fn the_window_view_shows_what_was_asked_and_answered(backends: &Backends, records: usize) {
    let router = mlops_http::admin::router(Arc::new(Admin::new(backends)));
    let (status, _, view) = send(&router, get("/models/flights/monitor?window=2h")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        conforms(&document()["components"]["schemas"]["WindowView"], &view),
        Ok(())
    );
    assert_eq!(
        (view["requests"].clone(), view["records"].clone()),
        (json!(1), json!(records))
    );
    let answered: u64 = view["class_mix"]
        .as_object()
        .expect("labels")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(answered, records as u64);
    let feature = |name: &str| {
        view["features"]
            .as_array()
            .and_then(|all| all.iter().find(|f| f["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {view}"))
    };
    let temp = feature("temp");
    assert!(
        temp["out_of_range_share"].as_f64().is_some_and(|s| s > 0.3),
        "{temp}"
    );
    assert!(
        temp["mean"].as_f64().is_some_and(|m| m > 60.0),
        "July is warm: {temp}"
    );
    assert_eq!(
        feature("month")["out_of_range_share"],
        1.0,
        "month 7 was never seen"
    );
    assert!(
        view["warning_rate"].as_f64().is_some_and(|w| w > 0.99),
        "{view}"
    );
    assert_eq!(view["quality"][0]["verdict"], "degraded");
    assert_eq!(
        view["score_histogram"]
            .as_array()
            .map(|h| h.iter().filter_map(Value::as_u64).sum::<u64>()),
        Some(records as u64)
    );

    for (uri, status, code) in [
        (
            "/models/flights/monitor?window=1w",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/models/flights/monitor?window=0h",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        ("/models/flights/monitor?size=3", StatusCode::OK, ""),
        (
            "/models/nosuch/monitor",
            StatusCode::NOT_FOUND,
            "unknown_model",
        ),
        (
            "/models/Bad%20Name/monitor",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ] {
        let (got, _, body) = send(&router, get(uri)).await;
        assert_eq!(got, status, "{uri}: {body}");
        if !code.is_empty() {
            assert_eq!(body["error"]["code"], code, "{uri}: {body}");
        }
    }
    let (_, _, refused) = send(&router, get("/models/flights/monitor?window=1w")).await;
    assert_eq!(
        refused["error"]["details"][0]["field"], "window",
        "{refused}"
    );
}

fn get(uri: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::get(uri)
        .body(axum::body::Body::empty())
        .expect("request")
}

#[tokio::test]
async fn live_metrics_join_the_predictions_with_their_late_outcomes_on_the_embedded_default() {
    let (backends, dir) = local_backends();
    live_metrics_join_the_predictions_with_their_late_outcomes(backends).await;
    let events = EventLog::new(dir.path().join("events.jsonl"))
        .read()
        .expect("events");
    let degraded: Vec<_> = events
        .iter()
        .filter(|e| e.detail_type == "PerformanceDegraded")
        .map(|e| (e.detail["version"].clone(), e.detail["champion"].clone()))
        .collect();
    assert_eq!(
        degraded,
        [(json!(1), json!(true))],
        "announced once, when found"
    );
}

#[tokio::test]
async fn live_metrics_join_the_predictions_with_their_late_outcomes_on_dynamodb() {
    let aws = aws_backends().await;
    live_metrics_join_the_predictions_with_their_late_outcomes(aws.backends.clone()).await;

    // The drift function's monitor schedule, with the event the template sends.
    let event = serde_json::from_slice(&repo_file("events/monitor-schedule.json")).expect("JSON");
    let answer = dispatch(
        &DriftJob::new(&aws.backends),
        &MonitorJob::new(&aws.backends),
        event,
        clock::now() + Duration::hours(3),
    )
    .await
    .expect("checks");
    assert_eq!(answer["model"], "flights");
    assert_eq!(answer["verdicts"], json!([[1, "degraded"]]), "{answer}");
    assert!(
        answer["report_key"]
            .as_str()
            .is_some_and(|k| k.starts_with("reports/monitor/flights/")),
        "{answer}"
    );
    let degraded: Vec<_> = aws
        .received_events()
        .await
        .into_iter()
        .filter(|e| e["detail-type"] == "PerformanceDegraded")
        .map(|e| {
            (
                e["detail"]["version"].clone(),
                e["detail"]["metric"].clone(),
            )
        })
        .collect();
    assert_eq!(
        degraded,
        [(json!(1), json!("roc_auc")), (json!(1), json!("roc_auc"))],
        "announced by the job, then by the scheduled run"
    );
}

/// The champion's decision threshold, as the artifact holds it.
async fn predictions_threshold(backends: &Backends) -> Option<f64> {
    let record = mlops_shared::model_registry::get_version(
        backends.registry.as_ref(),
        &model_name("flights"),
        1,
    )
    .await
    .expect("reads")
    .expect("version 1");
    mlops_shared::model_registry::load_verified(backends.store.as_ref(), &record)
        .await
        .expect("loads")
        .threshold
}

/// A model that learned its rare class as another is judged so live: an outcome of the rare
/// class counts as the class it was merged into, not as a label the model does not know.
#[tokio::test]
async fn an_outcome_of_a_merged_rare_class_is_judged_as_the_class_it_was_learned_as() {
    let (backends, _dir) = local_backends();
    let spec = plants_spec_with_target("rare_classes = { merge_into = \"versicolor\" }");
    mlops_tests::ingest(&backends, &spec, plants_with_rare_virginica(0)).await;
    let trained = mlops_tests::train(&backends, "plants")
        .await
        .expect("trains");
    assert_eq!(trained.record.version, 1);
    let request = PromoteRequest::new("first", "test", None).expect("valid");
    Promoter::new(&backends)
        .execute(
            &Command::Decide {
                model: model_name("plants"),
                version: 1,
            },
            &request,
        )
        .await
        .expect("the first champion");

    let started = clock::now();
    let body = json!({"records": (0..30)
        .map(|i| json!({"length": i % 10, "width": i % 7, "colour": "red"}))
        .collect::<Vec<_>>()});
    let predictions = serve(&backends, "plants", body.to_string().into_bytes()).await;
    assert_eq!(predictions.len(), 30);
    // A third of the plants turn out to be virginica, the rare class.
    let later = (started + Duration::minutes(5)).to_rfc3339();
    let mut csv = String::from("prediction_id,species,observed_at\n");
    for (i, prediction) in predictions.iter().enumerate() {
        let species = ["virginica", "setosa", "versicolor"][i % 3];
        let id = prediction["prediction_id"].as_str().expect("an id");
        csv.push_str(&format!("{id},{species},{later}\n"));
    }
    let outcome = ingestor(&backends)
        .upload_and_ingest(&dataset_name("plants"), "outcomes/plants.csv", csv.into())
        .await
        .expect("ingests");
    assert_eq!(outcome.status, Status::Accepted, "{outcome:?}");

    let report = MonitorJob::new(&backends)
        .report(
            &model_name("plants"),
            started - Duration::minutes(1),
            started + Duration::hours(1),
        )
        .await
        .expect("monitors");
    assert_eq!(
        (report.counts.labelled, report.counts.unknown_labels),
        (30, 0),
        "{:?}",
        report.counts
    );
    let champion = &report.versions[0];
    let versicolor = champion.live.as_ref().map(|live| {
        live.per_class
            .iter()
            .find(|c| c.class == "versicolor")
            .map(|c| c.support)
    });
    assert_eq!(
        versicolor,
        Some(Some(20)),
        "virginica's ten and versicolor's ten"
    );
}
