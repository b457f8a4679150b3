//! A many-class text model end to end, on the embedded default and on moto alike: the bundled
//! pantry reviews (27 categories, free text only) are ingested, trained on as TF-IDF rows, held by
//! the macro-F1 gate until a model passes it, served with the most probable classes and an
//! explanation, refused field by field when a text is too long or blank, and watched for drift
//! in its words.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use mlops_http::{self as http, serving::Serving};
use mlops_shared::drift::{Current, DriftJob, DriftReport, DriftRequest, Reference};
use mlops_shared::model_registry::Action;
use mlops_shared::ports::Backends;
use mlops_shared::predict::ServingSettings;
use mlops_shared::promotion::{Command, Outcome, Promoter, Request as PromoteRequest};
use mlops_tests::{
    gunzip, ingest, install_spec, model_name, on_both_stores, repo_file, train, DataFile,
};
use serde_json::{json, Value};

use crate::api::send;

fn pantry_spec() -> String {
    String::from_utf8(repo_file("infra/datasets/pantry.toml")).expect("UTF-8")
}

fn pantry_sample() -> Vec<u8> {
    repo_file("infra/datasets/pantry-sample/pantry.csv.gz")
}

async fn decide(backends: &Backends, version: u64) -> Outcome {
    let request = PromoteRequest::new(&format!("decide-{version}"), "test", None).expect("valid");
    Promoter::new(backends)
        .execute(
            &Command::Decide {
                model: model_name("pantry"),
                version,
            },
            &request,
        )
        .await
        .expect("decides")
}

fn predict(query: &str, body: Value) -> Request<Body> {
    Request::post(format!("/models/pantry/predict{query}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

async fn drift_of(backends: &Backends, name: &str, csv: String) -> DriftReport {
    let data = DataFile::new(name, csv.as_bytes());
    let request = DriftRequest {
        model: model_name("pantry"),
        version: None,
        reference: Reference::Training,
        current: Current::File {
            name: data.name.clone(),
            path: data.path.clone(),
        },
        trigger: "test".into(),
    };
    DriftJob::new(backends)
        .run(&request, Utc::now())
        .await
        .expect("compares")
        .report
}

async fn a_many_class_text_model_is_trained_gated_served_and_watched(backends: Backends) {
    // A macro-F1 bar the data cannot reach holds the first model back.
    let strict = pantry_spec().replace("min_primary = 0.70", "min_primary = 0.99");
    ingest(
        &backends,
        &strict,
        vec![("pantry.csv.gz".into(), pantry_sample())],
    )
    .await;
    let first = train(&backends, "pantry").await.expect("trains");
    assert_eq!(first.record.version, 1);
    let refused = decide(&backends, 1).await;
    assert_eq!(refused.action, Some(Action::Refuse), "{}", refused.message);
    let gate = refused
        .decision
        .as_ref()
        .and_then(|d| d.gates.iter().find(|g| g.name == "primary_metric"))
        .expect("the primary metric gate");
    assert!(!gate.passed && gate.detail.contains("f1_macro"), "{gate:?}");

    // The shipped bar, 0.70, is passed.
    install_spec(&backends, &pantry_spec()).await;
    let second = train(&backends, "pantry").await.expect("trains");
    assert_eq!(second.record.version, 2);
    let promoted = decide(&backends, 2).await;
    assert_eq!(promoted.champion, Some(2), "{}", promoted.message);
    let f1_macro = promoted
        .decision
        .as_ref()
        .and_then(|d| d.candidate_score)
        .expect("scored");
    assert!(f1_macro >= 0.70, "{f1_macro}");

    let settings = ServingSettings {
        cache_ttl: Duration::ZERO,
        ..ServingSettings::default()
    };
    let serving = Arc::new(Serving::new(
        backends.store.clone(),
        backends.registry.clone(),
        settings,
    ));
    let router = http::local_router(serving, None);
    let records = json!([
        {"review": "This green tea has a lovely aroma; I drink a cup of tea every morning."},
        {"review": "My dog loves these treats, and the puppy chews them for hours."},
    ]);
    let (status, _, answer) = send(
        &router,
        predict("?top_k=5", json!({ "records": records, "explain": true })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let predictions = answer["predictions"].as_array().expect("predictions");
    for (prediction, expected) in predictions.iter().zip(["tea", "dog food"]) {
        assert_eq!(prediction["label"], expected, "{prediction}");
        let probabilities = prediction["probabilities"]
            .as_object()
            .expect("every class");
        assert_eq!(probabilities.len(), 27);
        let top = prediction["top_k"].as_array().expect("asked for");
        assert_eq!(top.len(), 5);
        assert_eq!(top[0]["class"], expected);
        let shares: Vec<f64> = top
            .iter()
            .filter_map(|c| c["probability"].as_f64())
            .collect();
        assert!(shares.windows(2).all(|w| w[0] >= w[1]), "{shares:?}");
        assert_eq!(Some(shares[0]), probabilities[expected].as_f64());
        let explanation = &prediction["explanation"];
        assert_eq!(explanation["class"], expected, "the decided class's margin");
        let contributions = explanation["contributions"].as_array().expect("asked for");
        assert_eq!(contributions.len(), 1, "one input feature: {explanation}");
        let review = &contributions[0];
        assert_eq!(review["feature"], "review");
        let terms = review["terms"].as_array().expect("the text's terms");
        assert!(!terms.is_empty() && terms.len() <= 10);
        let sum = |v: &serde_json::Value| v["contribution"].as_f64().expect("a number");
        let margin = sum(review) + explanation["base_value"].as_f64().expect("a number");
        assert!((margin - explanation["raw_score"].as_f64().expect("a number")).abs() < 1e-9);
    }
    let terms = |i: usize| -> Vec<&str> {
        predictions[i]["explanation"]["contributions"][0]["terms"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["term"].as_str())
            .collect()
    };
    assert!(terms(0).contains(&"tea"), "{:?}", terms(0));
    assert!(terms(1).contains(&"dog"), "{:?}", terms(1));

    let too_long = "tea ".repeat(6_000);
    let (status, _, refused) = send(
        &router,
        predict(
            "",
            json!({"records": [{"review": too_long}, {"review": "  "}]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let details = refused["error"]["details"].as_array().expect("details");
    let problem = |record: u64| {
        details
            .iter()
            .find(|d| d["record"] == record)
            .and_then(|d| Some((d["field"].as_str()?, d["problem"].as_str()?)))
    };
    assert_eq!(
        problem(0),
        Some((
            "review",
            "longer than the 20000 characters this field takes"
        ))
    );
    assert!(problem(1).is_some_and(|(field, text)| field == "review" && text.contains("blank")));

    // The training data again is no drift; reviews of dog food alone are, in their words.
    let all = gunzip(&pantry_sample());
    let same = drift_of(&backends, "pantry.csv", all.clone()).await;
    let words = same
        .comparison
        .features
        .iter()
        .find(|f| f.name == "review")
        .expect("the words");
    assert!(!words.drifted, "{words:?}");
    assert!(same
        .comparison
        .features
        .iter()
        .any(|f| f.name == "review (words)"));
    let mut lines = all.lines();
    let header = lines.next().expect("a header");
    let dogs: Vec<&str> = lines.filter(|l| l.ends_with(",dog food")).collect();
    let dogs = format!("{header}\n{}\n", dogs.join("\n"));
    let changed = drift_of(&backends, "dogs.csv", dogs).await;
    let words = changed
        .comparison
        .features
        .iter()
        .find(|f| f.name == "review")
        .expect("the words");
    assert!(words.drifted, "{words:?}");
    assert!(
        words.out_of_range > 0.0,
        "some words were never seen in training"
    );
}

on_both_stores!(a_many_class_text_model_is_trained_gated_served_and_watched);
