//! Drift end to end on the bundled flights sample, the reference being the model trained on
//! months 1–3: month 2 is no data set drift, July is drift led by the weather features; a file and
//! its curated version give the same verdicts; the reports are written; and the drift function's
//! handler, with its event files on moto, checks the inference records the API sampled and
//! announces `DriftDetected` on EventBridge.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use drift::{handle, HandlerError};
use mlops_http::{self as http, serving::Serving};
use mlops_shared::drift::{Current, DriftJob, DriftOutcome, DriftReport, DriftRequest, Reference};
use mlops_shared::ingest::catalog;
use mlops_shared::ports::Backends;
use mlops_shared::predict::{self, BatchFormat, Sampling, ServingSettings};
use mlops_shared::promotion::{Command, Promoter, Request as PromoteRequest};
use mlops_tests::{
    aws_backends, dataset_name, flights_sample, gunzip, ingest, json_object, key, model_name,
    on_both_stores, quick_flights_spec, repo_file, train, DataFile,
};
use serde_json::Value;

use crate::api::send;

/// Months 1–3 ingested and version 1 trained on them, as champion.
pub(crate) async fn trained_on_first_quarter(backends: &Backends) {
    let files = ["01", "02", "03"]
        .iter()
        .map(|m| (format!("flights-2013-{m}.csv.gz"), flights_sample(m)))
        .collect();
    ingest(backends, &quick_flights_spec(), files).await;
    let version = train(backends, "flights")
        .await
        .expect("trains")
        .record
        .version;
    assert_eq!(version, 1);
    let request = PromoteRequest::new("first", "test", None).expect("valid");
    Promoter::new(backends)
        .execute(
            &Command::Decide {
                model: model_name("flights"),
                version: 1,
            },
            &request,
        )
        .await
        .expect("first champion");
}

async fn check(backends: &Backends, current: Current) -> DriftOutcome {
    let request = DriftRequest {
        model: model_name("flights"),
        version: None,
        reference: Reference::Training,
        current,
        trigger: "test".into(),
    };
    DriftJob::new(backends)
        .run(&request, Utc::now())
        .await
        .expect("checks")
}

fn month_file(month: &str) -> DataFile {
    DataFile::new(
        &format!("flights-2013-{month}.csv.gz"),
        &flights_sample(month),
    )
}

fn file(data: &DataFile) -> Current {
    Current::File {
        name: data.name.clone(),
        path: data.path.clone(),
    }
}

fn drifted(report: &DriftReport) -> Vec<&str> {
    report
        .comparison
        .features
        .iter()
        .filter(|f| f.drifted)
        .map(|f| f.name.as_str())
        .collect()
}

const WEATHER: [&str; 5] = ["temp", "dewp", "humid", "pressure", "wind_gust"];

async fn february_is_no_drift_and_july_is_weather_drift(backends: Backends) {
    trained_on_first_quarter(&backends).await;

    let february = check(&backends, file(&month_file("02"))).await;
    let report = &february.report;
    assert_eq!(
        (report.comparison.dataset_drift, report.verdict.as_str()),
        (Some(false), "no drift"),
        "{:?}",
        drifted(report)
    );
    assert!(report.comparison.share_drifted < 0.5);
    assert!(!february.announced);
    assert_eq!((report.reference.version, report.current.rows), (1, 3000));

    let july = check(&backends, file(&month_file("07"))).await;
    let report = &july.report;
    assert_eq!(
        (report.comparison.dataset_drift, report.verdict.as_str()),
        (Some(true), "drift")
    );
    let moved = drifted(report);
    for feature in WEATHER {
        assert!(moved.contains(&feature), "{feature} not in {moved:?}");
    }
    // Where flights go from and who flies them barely changes with the season.
    for feature in ["origin", "carrier"] {
        assert!(!moved.contains(&feature), "{feature} in {moved:?}");
    }
    assert!(july.announced);
    // The model's outputs are compared too, with its training predictions.
    let prediction: Vec<&str> = report
        .comparison
        .prediction
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(prediction, ["score", "label"]);

    // The reports are in the store: the JSON reads back as the report, the HTML stands alone.
    assert!(july.json_key.as_str().starts_with("reports/drift/flights/"));
    let stored: DriftReport =
        serde_json::from_value(json_object(&backends, july.json_key.as_str()).await)
            .expect("a report");
    assert_eq!(
        (stored.verdict.as_str(), drifted(&stored)),
        (report.verdict.as_str(), moved.clone())
    );
    let html = backends
        .store
        .get(&july.html_key)
        .await
        .expect("html")
        .bytes;
    let html = String::from_utf8(html).expect("UTF-8");
    assert!(html.contains("<svg") && html.contains(">drift</span>"));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));

    // The curated version of the same file: the same profile, the same verdicts.
    ingest(
        &backends,
        &quick_flights_spec(),
        vec![("flights-2013-07.csv.gz".into(), flights_sample("07"))],
    )
    .await;
    let versions = catalog::versions(backends.registry.as_ref(), &dataset_name("flights"))
        .await
        .expect("lists");
    let newest = versions
        .iter()
        .max_by(|a, b| a.ingested_at.cmp(&b.ingested_at))
        .expect("a version");
    let prefix: String = newest.version.chars().take(10).collect();
    let curated = check(&backends, Current::DataVersion(prefix)).await;
    assert_eq!(drifted(&curated.report), moved);
    assert_eq!(
        curated.report.comparison.share_drifted,
        report.comparison.share_drifted
    );
    assert_eq!(curated.report.current.source, "data_version");
    assert_ne!(curated.json_key, july.json_key);

    // That version's Parquet handed in as a file: typed and read the same way, the same verdicts.
    let parquet = backends
        .store
        .get(&key(&format!(
            "curated/flights/{}/data.parquet",
            newest.version
        )))
        .await
        .expect("the curated data")
        .bytes;
    let as_file = check(&backends, file(&DataFile::new("july.parquet", &parquet))).await;
    assert_eq!(drifted(&as_file.report), moved);
    assert_eq!(as_file.report.current.rows, 3000);
}
on_both_stores!(february_is_no_drift_and_july_is_weather_drift);

async fn unknown_inputs_are_refused_with_what_to_fix(backends: Backends) {
    let job = DriftJob::new(&backends);
    let request = |current| DriftRequest {
        model: model_name("flights"),
        version: None,
        reference: Reference::Training,
        current,
        trigger: "test".into(),
    };
    let february = month_file("02");
    let no_model = job.run(&request(file(&february)), Utc::now()).await;
    assert!(
        no_model
            .as_ref()
            .is_err_and(|e| e.to_string().contains("not in the registry")),
        "{no_model:?}"
    );
    trained_on_first_quarter(&backends).await;
    let unknown = job
        .run(&request(Current::DataVersion("zzz".into())), Utc::now())
        .await
        .expect_err("no such version")
        .to_string();
    assert!(unknown.contains("no data version zzz"), "{unknown}");
    let not_a_table = job
        .run(
            &request(file(&DataFile::new("notes.csv", b"just,some\ntext,here\n"))),
            Utc::now(),
        )
        .await
        .expect_err("no model inputs")
        .to_string();
    assert!(
        not_a_table.contains("notes.csv") && not_a_table.contains("column"),
        "{not_a_table}"
    );
    let old_version = job
        .run(
            &DriftRequest {
                version: Some(7),
                ..request(file(&february))
            },
            Utc::now(),
        )
        .await
        .expect_err("no version 7")
        .to_string();
    assert!(old_version.contains("no version 7"), "{old_version}");
}
on_both_stores!(unknown_inputs_are_refused_with_what_to_fix);

fn event(file: &str) -> Value {
    serde_json::from_slice(&repo_file(&format!("events/{file}"))).expect("event file is JSON")
}

/// Scores July through the API with every record sampled, and writes the records out; the
/// predictions answered.
/// July's sample as a request body, each record with what flights version 1 reads: what callers
/// know before a flight leaves.
pub(crate) async fn july_body(backends: &Backends) -> Vec<u8> {
    let fields = mlops_shared::predict::cache::load(
        backends.store.as_ref(),
        backends.registry.as_ref(),
        &model_name("flights"),
        1,
    )
    .await
    .expect("version 1 loads")
    .1
    .request_fields();
    let csv = gunzip(&flights_sample("07")).into_bytes();
    predict::request_body(csv, BatchFormat::Csv, &fields).expect("a body")
}

pub(crate) async fn serve_july(backends: &Backends) -> Vec<Value> {
    let body = july_body(backends).await;
    serve(backends, "flights", body).await
}

/// Scores a request body with the model's champion over the serving route, every record kept
/// as an inference record; the predictions.
pub(crate) async fn serve(backends: &Backends, model: &str, body: Vec<u8>) -> Vec<Value> {
    let settings = ServingSettings {
        cache_ttl: Duration::ZERO,
        sampling: Sampling::new(1.0, 1000, Duration::from_secs(3600)).expect("valid"),
        ..ServingSettings::default()
    };
    let serving = Arc::new(Serving::new(
        backends.store.clone(),
        backends.registry.clone(),
        settings,
    ));
    let router = http::local_router(serving.clone(), None);
    let request = Request::post(format!("/models/{model}/predict"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    let (status, _, response) = send(&router, request).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    serving.inference().flush().await;
    response["predictions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn the_drift_function_checks_sampled_inference_records_and_announces_drift() {
    let aws = aws_backends().await;
    let backends = &aws.backends;
    trained_on_first_quarter(backends).await;
    let job = DriftJob::new(backends);
    aws.received_events().await; // ModelTrained and the like are not this test's subject.

    // Nothing served yet: too few rows to call it either way, and nothing announced.
    let quiet = handle(&job, event("drift-on-demand.json"), Utc::now())
        .await
        .expect("checks");
    assert_eq!(
        (quiet.verdict.as_str(), quiet.dataset_drift, quiet.rows),
        ("insufficient data", None, 0)
    );
    assert!(!quiet.announced);

    let served = serve_july(backends).await.len();
    assert_eq!(served, 3000);
    let response = handle(&job, event("drift-schedule.json"), Utc::now())
        .await
        .expect("checks");
    assert_eq!(
        (
            response.verdict.as_str(),
            response.dataset_drift,
            response.rows
        ),
        ("drift", Some(true), 3000)
    );
    for feature in WEATHER {
        assert!(
            response.drifted_features.iter().any(|f| f == feature),
            "{feature}"
        );
    }
    let report = json_object(backends, &response.report_key).await;
    assert_eq!(report["trigger"], "schedule");
    assert_eq!(report["current"]["source"], "inference");
    // Every record was made by the reference version: its predictions are compared too.
    assert_eq!(
        report["prediction"].as_array().map(Vec::len),
        Some(2),
        "{}",
        report["prediction"]
    );

    let events = aws.received_events().await;
    let announced: Vec<&Value> = events
        .iter()
        .filter(|e| e["detail-type"] == "DriftDetected")
        .collect();
    assert_eq!(announced.len(), 1, "{events:?}");
    let detail = &announced[0]["detail"];
    assert_eq!(detail["report_key"], response.report_key.as_str());
    assert_eq!(
        (detail["model"].clone(), detail["retrain"].clone()),
        ("flights".into(), true.into())
    );

    let bad = handle(&job, serde_json::json!({"dataset": "flights"}), Utc::now())
        .await
        .expect_err("no model");
    assert!(matches!(bad, HandlerError::BadEvent(_)), "{bad}");
}

/// The records `serve_july` sampled today, as JSON lines made at noon on `day` instead.
async fn records_of_day(backends: &Backends, today: &[String], day: chrono::NaiveDate) {
    let noon = day.and_hms_opt(12, 0, 0).expect("noon").and_utc();
    let mut lines = String::new();
    for line in today {
        let mut record: Value = serde_json::from_str(line).expect("a record");
        record["at"] = Value::String(noon.to_rfc3339());
        lines.push_str(&record.to_string());
        lines.push('\n');
    }
    let object = key(&format!("inference/flights/dt={day}/history.jsonl"));
    backends
        .store
        .put(&object, lines.into_bytes())
        .await
        .expect("writes");
}

/// A week's window reads its settled whole days from daily profiles, built from the records the
/// first time and stored beside them: the verdict is the one the records give, a day's records
/// gone later still count through its profile, and a damaged profile is built again.
async fn a_weeks_window_reads_settled_days_from_their_daily_profiles(backends: Backends) {
    trained_on_first_quarter(&backends).await;
    assert_eq!(serve_july(&backends).await.len(), 3000);
    let now = Utc::now();
    let today = now.date_naive();
    let mut served = Vec::new();
    for object in backends
        .store
        .list(&format!("inference/flights/dt={today}/"))
        .await
        .expect("lists")
    {
        let bytes = backends.store.get(&object.key).await.expect("reads").bytes;
        served.extend(gunzip(&bytes).lines().map(str::to_owned));
    }
    assert_eq!(served.len(), 3000);
    // Two to five days back have settled; yesterday has not.
    for back in 1..=5 {
        records_of_day(&backends, &served, today - chrono::Days::new(back)).await;
    }
    let week = || Current::Window {
        hours: Some(7 * 24),
        until: now,
    };
    let first = check(&backends, week()).await;
    assert_eq!(first.report.current.rows, 6 * 3000);
    let profiles = backends
        .store
        .list("inference/flights/profiles/1/")
        .await
        .expect("lists");
    let days: Vec<String> = (2..=6)
        .rev()
        .map(|back| {
            format!(
                "inference/flights/profiles/1/dt={}.json",
                today - chrono::Days::new(back)
            )
        })
        .collect();
    assert_eq!(
        profiles
            .iter()
            .map(|p| p.key.to_string())
            .collect::<Vec<_>>(),
        days,
        "the whole settled days of the window, the one without records too"
    );

    // A settled day's records gone: its profile still counts them. Yesterday's gone: not counted.
    for back in [3, 1] {
        let day = today - chrono::Days::new(back);
        for object in backends
            .store
            .list(&format!("inference/flights/dt={day}/"))
            .await
            .expect("lists")
        {
            backends.store.delete(&object.key).await.expect("deletes");
        }
    }
    let second = check(&backends, week()).await;
    assert_eq!(second.report.current.rows, 5 * 3000);
    assert_eq!(
        drifted(&second.report),
        drifted(&first.report),
        "the same days, the same verdict"
    );

    // A damaged profile is built again from its day's records.
    let fourth = key(&days[2]);
    backends
        .store
        .put(&fourth, b"{\"rows\": ".to_vec())
        .await
        .expect("writes");
    let third = check(&backends, week()).await;
    assert_eq!(third.report.current.rows, 5 * 3000);
    let rebuilt: Value = json_object(&backends, &fourth).await;
    assert_eq!(rebuilt["rows"], 3000);
}
on_both_stores!(a_weeks_window_reads_settled_days_from_their_daily_profiles);
