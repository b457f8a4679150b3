//! The HTTP API end to end: every route answers its API Gateway event file from `events/` (read
//! by lambda_http, as in Lambda), on the embedded default and on moto; errors have their status and
//! JSON shape; the same router answers on a real socket; inference records reach the store.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use mlops_http::{self as http, serving::Serving};
use mlops_shared::model_registry;
use mlops_shared::ports::Backends;
use mlops_shared::predict::{Limits, Sampling, ServingSettings, UnknownFields};
use mlops_shared::promotion::{Command, Promoter};
use mlops_tests::{
    dataset_name, flights_sample, flights_spec, ingest, install_spec, model_name, on_both_stores,
    quick_flights_spec, repo_file, train,
};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::openapi::{conforms, conforms_in, document};

/// Sends one request through the router: status, headers and the JSON body.
pub(crate) async fn send<B>(router: &Router, request: Request<B>) -> (StatusCode, HeaderMap, Value)
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let response = router
        .clone()
        .oneshot(request.map(Body::new))
        .await
        .expect("the router never fails");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (parts.status, parts.headers, json)
}

/// An event file from `events/`, as lambda_http hands it to the router in Lambda.
async fn send_event(router: &Router, file: &str) -> (StatusCode, HeaderMap, Value) {
    let text = String::from_utf8(repo_file(&format!("events/{file}"))).expect("UTF-8");
    let request = lambda_http::request::from_str(&text).expect("an API Gateway event");
    send(router, request).await
}

fn settings() -> ServingSettings {
    ServingSettings {
        // Every request sees the registry as it is now, so the tests need not wait.
        cache_ttl: Duration::ZERO,
        sampling: Sampling::new(1.0, 1000, Duration::from_secs(3600)).expect("valid"),
        ..ServingSettings::default()
    }
}

/// Both APIs over `backends`, wrapped as in Lambda; the serving state, to flush its records.
fn api(backends: &Backends, settings: ServingSettings) -> (Router, Arc<Serving>) {
    let serving = Arc::new(Serving::new(
        backends.store.clone(),
        backends.registry.clone(),
        settings,
    ));
    let admin = http::LocalAdmin {
        admin: Arc::new(http::admin::Admin::new(backends)),
        token: None,
    };
    let router = http::local_router(serving.clone(), Some(admin));
    (http::lambda::with_lambda_context(router), serving)
}

/// Both APIs over an empty embedded default.
pub(crate) async fn served_locally() -> (Router, tempfile::TempDir) {
    let (backends, dir) = mlops_tests::local_backends();
    (api(&backends, settings()).0, dir)
}

/// Version 1 (January) as champion and version 2 (January to March) as candidate.
async fn flights_models(backends: &Backends) {
    let spec = quick_flights_spec();
    ingest(
        backends,
        &spec,
        vec![("01.csv.gz".into(), flights_sample("01"))],
    )
    .await;
    assert_eq!(
        train(backends, "flights")
            .await
            .expect("trains")
            .record
            .version,
        1
    );
    let request = mlops_shared::promotion::Request::new("first", "test", None).expect("valid");
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
    ingest(
        backends,
        &spec,
        vec![
            ("02.csv.gz".into(), flights_sample("02")),
            ("03.csv.gz".into(), flights_sample("03")),
        ],
    )
    .await;
    assert_eq!(
        train(backends, "flights")
            .await
            .expect("trains")
            .record
            .version,
        2
    );
}

fn schema(name: &str) -> Value {
    document()["components"]["schemas"][name].clone()
}

/// Every `$ref` in `doc` that names nothing.
fn dangling_refs(doc: &Value) -> Vec<String> {
    let mut dangling = Vec::new();
    let mut pending = vec![doc];
    while let Some(node) = pending.pop() {
        match node {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                    let target = reference
                        .trim_start_matches("#/")
                        .split('/')
                        .fold(doc, |node, part| &node[part]);
                    if target.is_null() {
                        dangling.push(reference.to_owned());
                    }
                }
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    dangling
}

/// The champion's own OpenAPI document describes its records field by field: its example
/// conforms, a record with a wrong type or without a required field does not, and the answer to
/// the example conforms to the document's response with the model's labels.
async fn model_document_describes_the_signature(router: &Router, signature: &Value) {
    let (status, _, doc) = send_event(router, "api-model-openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["openapi"], document()["openapi"]);
    let paths: Vec<&String> = doc["paths"].as_object().expect("paths").keys().collect();
    assert_eq!(paths, ["/models/flights/predict"]);
    assert_eq!(dangling_refs(&doc), Vec::<String>::new());
    assert!(
        doc["components"]["schemas"].get("AdminRequest").is_none(),
        "only what predict needs"
    );
    let operation = &doc["paths"]["/models/flights/predict"]["post"];
    let parameters: Vec<&Value> = operation["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| &p["name"])
        .collect();
    assert_eq!(parameters, ["version", "top_k", "explain"]);
    assert_eq!(operation["parameters"][0]["schema"]["enum"], json!([1]));

    let request = &doc["components"]["schemas"]["PredictRequest"];
    let record = &request["properties"]["records"]["items"];
    let fields: Vec<&String> = record["properties"]
        .as_object()
        .expect("the record's fields")
        .keys()
        .collect();
    let mut inputs: Vec<&str> = signature["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    inputs.sort_unstable();
    assert_eq!(fields, inputs);
    let example = &signature["example"];
    assert_eq!(&record["example"], example);
    let body = json!({ "records": [example] });
    assert_eq!(conforms_in(&doc, request, &body), Ok(()));
    let mut wrong = example.clone();
    wrong["distance"] = json!("far");
    assert!(conforms_in(&doc, request, &json!({ "records": [wrong] })).is_err());
    let required = record["required"].as_array().expect("required fields");
    let first = required[0].as_str().expect("a name");
    let mut missing = example.clone();
    missing.as_object_mut().expect("a record").remove(first);
    assert!(conforms_in(&doc, request, &json!({ "records": [missing] })).is_err());

    let (status, _, answer) = send(
        router,
        post("/models/flights/predict?version=1", body.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let response = &operation["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(conforms_in(&doc, response, &answer), Ok(()));
    let mut relabelled = answer.clone();
    relabelled["predictions"][0]["label"] = json!("maybe");
    assert!(conforms_in(&doc, response, &relabelled).is_err());
}

async fn every_route_answers_its_event_file(backends: Backends) {
    flights_models(&backends).await;
    let (router, serving) = api(&backends, settings());

    let (status, headers, body) = send_event(&router, "api-predict.json").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-model-version"], "1");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(conforms(&schema("PredictResponse"), &body), Ok(()));
    let predictions = body["predictions"].as_array().expect("predictions");
    assert_eq!(predictions.len(), 2);
    for p in predictions {
        let score = p["score"].as_f64().expect("a binary score");
        assert!((0.0..=1.0).contains(&score), "{p}");
        assert!(p["label"] == "0" || p["label"] == "1", "{p}");
    }
    assert_ne!(predictions[0]["score"], predictions[1]["score"]);
    // Without a key, predictions are named after the request (the Lambda invocation's id, or
    // here, without one, the server's own count) and their position in it.
    assert_eq!(
        [
            &predictions[0]["prediction_id"],
            &predictions[1]["prediction_id"]
        ],
        ["local-0-0", "local-0-1"]
    );

    let (status, headers, body) = send_event(&router, "api-predict-version.json").await;
    assert_eq!(
        (status, &headers["x-model-version"]),
        (StatusCode::OK, &"1".parse().expect("header"))
    );
    assert_eq!(body["version"], 1);

    let (status, _, body) = send_event(&router, "api-predict-invalid.json").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(conforms(&schema("Error"), &body), Ok(()));
    assert_eq!(body["error"]["code"], "invalid_request");
    assert_eq!(
        body["error"]["details"],
        json!([
            {"record": 0, "field": "distance", "problem": "expected an integer, got a string"},
            {"record": 0, "field": "carrier", "problem": "null is not allowed: the model needs a value"},
            {"record": 1, "field": "origin", "problem": "missing required feature"},
        ])
    );

    let (status, _, body) = send_event(&router, "api-models.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(conforms(&schema("ModelList"), &body), Ok(()));
    assert_eq!(
        body["models"],
        json!([{"model": "flights", "latest_version": 2, "aliases": {"champion": 1}}])
    );

    let (status, _, body) = send_event(&router, "api-model.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(conforms(&schema("ModelView"), &body), Ok(()));
    let statuses: Vec<&Value> = body["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| &v["status"])
        .collect();
    assert_eq!(statuses, [&json!("champion"), &json!("candidate")]);

    // The champion's signature; its example, sent back, is answered without a warning.
    let (status, _, signature) = send_event(&router, "api-model-schema.json").await;
    assert_eq!(status, StatusCode::OK, "{signature}");
    assert_eq!(conforms(&schema("ModelSchema"), &signature), Ok(()));
    assert_eq!(signature["version"], 1);
    let inputs = signature["inputs"].as_array().expect("inputs");
    let carrier = inputs
        .iter()
        .find(|f| f["name"] == "carrier")
        .expect("the carrier field");
    assert_eq!(carrier["type"], "categorical");
    assert!(
        carrier["levels"].as_array().is_some_and(|l| l.len() > 3),
        "{carrier}"
    );
    let distance = inputs
        .iter()
        .find(|f| f["name"] == "distance")
        .expect("the distance field");
    assert!(distance["training_range"][0].as_f64() < distance["training_range"][1].as_f64());
    let names: Vec<&Value> = inputs.iter().map(|f| &f["name"]).collect();
    let example = &signature["example"];
    assert_eq!(
        example.as_object().map(|e| e.len()),
        Some(names.len()),
        "every field in the example"
    );
    let (status, _, body) = send(
        &router,
        post(
            "/models/flights/predict",
            json!({ "records": [example] }).to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["predictions"][0]["warnings"].is_null(),
        "no warnings: {body}"
    );
    model_document_describes_the_signature(&router, &signature).await;
    let (status, _, body) = send(&router, get("/models/flights/schema?version=2")).await;
    assert_eq!((status, &body["version"]), (StatusCode::OK, &json!(2)));
    let (status, _, body) = send(&router, get("/models/flights/schema?top_k=2")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, body) = send(&router, get("/models/nothing/schema")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (status, _, body) = send_event(&router, "api-health.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(conforms(&schema("Health"), &body), Ok(()));
    assert_eq!(body["status"], "ok");
    let loaded: Vec<u64> = body["models"]
        .as_array()
        .expect("models")
        .iter()
        .filter_map(|l| l["version"].as_u64())
        .collect();
    assert!(loaded.contains(&1), "{body}");

    // A local socket serves the document of its own deployment: the admin routes without IAM.
    let (status, _, body) = send_event(&router, "api-openapi.json").await;
    let local: Value = serde_json::from_str(&http::local_openapi(Some(false))).expect("JSON");
    assert_eq!((status, &body), (StatusCode::OK, &local));
    assert_eq!(
        body["paths"]["/models/{model}/promote"]["post"]["security"],
        json!([])
    );
    assert_eq!(
        body["paths"]["/models/{model}/predict"],
        document()["paths"]["/models/{model}/predict"]
    );

    // Admin: the policy refuses version 2 (a carrier slice regresses); the event forces it, and
    // serving follows at once (TTL 0). A retry of the event is a no-op.
    let (status, _, body) = send(
        &router,
        post("/models/flights/promote", r#"{"version": 2}"#),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("gates_failed")),
        "{body}"
    );
    assert_eq!(
        body["error"]["details"][0]["field"], "slice:carrier",
        "{body}"
    );
    let (status, _, body) = send_event(&router, "api-promote.json").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(conforms(&schema("Outcome"), &body), Ok(()));
    assert_eq!(
        (body["applied"].clone(), body["champion"].clone()),
        (json!(true), json!(2))
    );
    let (_, _, again) = send_event(&router, "api-promote.json").await;
    assert_eq!(again["applied"], false, "{again}");
    let (_, headers, _) = send_event(&router, "api-predict.json").await;
    assert_eq!(headers["x-model-version"], "2");
    let trail = model_registry::history(backends.registry.as_ref(), &model_name("flights"))
        .await
        .expect("reads");
    let last = trail.last().expect("an entry");
    assert_eq!(
        (last.actor.as_str(), last.reason.as_str()),
        (
            "iam:arn:aws:sts::123456789012:assumed-role/mlops-admin/alice",
            "reviewed in #42: the 9E slice has 68 test rows"
        )
    );

    let (status, _, body) = send_event(&router, "api-rollback.json").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["champion"], 1);
    // Version 2 is archived now, not a candidate: the reject event is refused with a reason.
    let (status, _, body) = send_event(&router, "api-reject.json").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "not_allowed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("archived"),
        "{body}"
    );

    // Every scored record was sampled (rate 1) and reaches the store with its version.
    serving.inference().flush().await;
    let stats = serving.inference().stats();
    assert_eq!((stats.sampled, stats.written, stats.failed), (7, 7, 0));
    let objects = backends
        .store
        .list("inference/flights/")
        .await
        .expect("lists");
    let mut versions = Vec::new();
    for object in objects {
        let bytes = backends.store.get(&object.key).await.expect("reads").bytes;
        for line in mlops_tests::gunzip(&bytes).lines() {
            let record: Value = serde_json::from_str(line).expect("JSON line");
            assert!(record["features"]["dest"].is_string(), "{record}");
            versions.push(record["version"].as_u64().expect("version"));
        }
    }
    versions.sort_unstable();
    assert_eq!(versions, [1, 1, 1, 1, 1, 2, 2]);
}
on_both_stores!(every_route_answers_its_event_file);

/// Outcomes reported over the admin API are ingested as an upload of the model's dataset at once:
/// bad rows dropped and reported, the same body twice one version, a body with nothing usable
/// refused with what is wrong.
async fn outcomes_are_reported_through_the_admin_api(backends: Backends) {
    install_spec(&backends, &flights_spec()).await;
    let registry = backends.registry.as_ref();
    model_registry::allocate_version(
        registry,
        &model_name("flights"),
        &dataset_name("flights"),
        mlops_shared::clock::now(),
    )
    .await
    .expect("a registered model");
    let (router, _) = api(&backends, settings());
    let body = json!({"outcomes": [
        {"prediction_id": "r-0", "late": 1, "observed_at": "2013-07-01T12:00:00Z"},
        {"prediction_id": "r-1", "late": 3, "observed_at": "2013-07-01T12:01:00Z"},
    ]})
    .to_string();
    let (status, _, first) = send(&router, post("/models/flights/outcomes", body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(conforms(&schema("IngestOutcome"), &first), Ok(()));
    assert_eq!(
        (&first["status"], &first["rows"], &first["rows_dropped"]),
        (&json!("accepted"), &json!(1), &json!(1)),
        "{first}"
    );
    assert!(
        first["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("late")),
        "the dropped row's reason: {first}"
    );
    let (_, _, again) = send(&router, post("/models/flights/outcomes", body)).await;
    assert_eq!(
        (&again["status"], &again["version"]),
        (&json!("duplicate"), &first["version"]),
        "the same outcomes twice are one version"
    );
    let versions =
        mlops_shared::ingest::catalog::outcome_versions(registry, &dataset_name("flights"))
            .await
            .expect("reads");
    assert_eq!(versions.len(), 1);

    for (uri, body, status, code) in [
        (
            "/models/flights/outcomes",
            json!({"outcomes": [{"prediction_id": "r-2", "late": 1}]}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_outcomes",
        ),
        (
            "/models/flights/outcomes",
            json!({"outcomes": []}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_outcomes",
        ),
        (
            "/models/flights/outcomes",
            json!({"outcomes": vec![json!({}); 10_001]}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_outcomes",
        ),
        (
            "/models/flights/outcomes",
            json!({"outcome": []}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "/models/flights/outcomes",
            "{not json".to_owned(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "/models/nosuch/outcomes",
            json!({"outcomes": [{"prediction_id": "r-0"}]}).to_string(),
            StatusCode::NOT_FOUND,
            "unknown_model",
        ),
    ] {
        assert_eq!(
            error_of(&router, post(uri, body.clone())).await,
            (status, code.to_owned()),
            "{uri} {body}"
        );
    }
}

on_both_stores!(outcomes_are_reported_through_the_admin_api);

fn post(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(body.into())
        .expect("request")
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

async fn error_of(router: &Router, request: Request<Body>) -> (StatusCode, String) {
    let (status, _, body) = send(router, request).await;
    assert_eq!(conforms(&schema("Error"), &body), Ok(()), "{body}");
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn every_failure_has_its_status_and_code_and_leaks_nothing() {
    let (backends, _dir) = mlops_tests::local_backends();
    let limited = ServingSettings {
        limits: Limits {
            max_records: 3,
            unknown_fields: UnknownFields::Reject,
        },
        ..settings()
    };
    let (router, _) = api(&backends, limited);
    let one = r#"{"records": [{"x1": 1.0, "x2": 2.0, "region": "north"}]}"#;
    assert_eq!(
        error_of(&router, post("/models/routes/predict", one)).await,
        (StatusCode::NOT_FOUND, "unknown_model".into())
    );
    crate::registry::first_version(&backends).await;
    assert_eq!(
        error_of(&router, post("/models/routes/predict", one)).await,
        (StatusCode::NOT_FOUND, "no_alias".into()),
        "trained, never promoted"
    );
    let uri = "/models/routes/predict?version=1";
    let (status, _, body) = send(&router, post(uri, one)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (request, expected) in [
        (
            post("/models/routes/predict?version=9", one),
            (StatusCode::NOT_FOUND, "unknown_version"),
        ),
        (
            post("/models/routes/predict?alias=challenger", one),
            (StatusCode::NOT_FOUND, "no_alias"),
        ),
        (
            post("/models/routes/predict?version=one", one),
            (StatusCode::BAD_REQUEST, "bad_request"),
        ),
        (
            post("/models/routes/predict?version=1&alias=x", one),
            (StatusCode::BAD_REQUEST, "bad_request"),
        ),
        (
            post("/models/routes/predict?colour=red", one),
            (StatusCode::BAD_REQUEST, "bad_request"),
        ),
        (
            post("/models/Not%20A%20Model/predict", one),
            (StatusCode::BAD_REQUEST, "bad_request"),
        ),
        (
            post(uri, "{\"records\": [}"),
            (StatusCode::BAD_REQUEST, "malformed_json"),
        ),
        (
            post(uri, r#"{"records": [{}, {}, {}, {}]}"#),
            (StatusCode::PAYLOAD_TOO_LARGE, "too_many_records"),
        ),
        (
            post(uri, vec![b' '; http::MAX_BODY_BYTES + 1]),
            (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        ),
        (
            post(
                uri,
                r#"{"records": [{"x1": 1, "x2": 2, "region": "n", "x3": 0}]}"#,
            ),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        ),
        (get("/nowhere"), (StatusCode::NOT_FOUND, "no_route")),
        (
            get("/models/routes/predict"),
            (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        ),
        (
            post("/models/routes/promote", r#"{"versoin": 1}"#),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        ),
        (
            post(
                "/models/routes/promote",
                r#"{"version": 1, "operation_id": "no spaces"}"#,
            ),
            (StatusCode::BAD_REQUEST, "bad_request"),
        ),
        (
            post("/models/routes/rollback", r#"{"version": 1}"#),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        ),
        (
            // A web page's cross-origin "simple" request cannot set the JSON content type.
            Request::post("/models/routes/promote")
                .header("content-type", "text/plain")
                .body(Body::from(r#"{"version": 1, "force": true}"#))
                .expect("request"),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ),
        (
            Request::post("/models/routes/rollback")
                .body(Body::empty())
                .expect("request"),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ),
        (
            post(uri, format!(r#"{{"records": {}}}"#, "[".repeat(20_000))),
            (StatusCode::BAD_REQUEST, "too_deep"),
        ),
        (
            post("/models/routes/rollback", ""),
            (StatusCode::CONFLICT, "not_allowed"),
        ),
    ] {
        assert_eq!(
            error_of(&router, request).await,
            (expected.0, expected.1.to_owned())
        );
    }

    // A corrupted artifact, met by a new process (a loaded model stays loaded): 503, and the
    // caller learns nothing about checksums or keys.
    let record = model_registry::get_version(backends.registry.as_ref(), &model_name("routes"), 1)
        .await
        .expect("reads")
        .expect("exists");
    let artifact = mlops_tests::key(&record.artifact_key);
    let mut original = backends.store.get(&artifact).await.expect("reads").bytes;
    backends
        .store
        .put(&artifact, b"garbage".to_vec())
        .await
        .expect("overwrites");
    let (router, _) = api(&backends, settings());
    let (status, _, body) = send(&router, post(uri, one)).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::SERVICE_UNAVAILABLE, json!("model_unavailable"))
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        !message.contains("SHA") && !message.contains(record.artifact_key.as_str()),
        "{message}"
    );
    // Health says so: degraded, the version that cannot be loaded, since when.
    let (status, _, body) = send(&router, get("/health")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(conforms(&schema("Health"), &body), Ok(()), "{body}");
    assert_eq!(body["status"], "degraded");
    let model = &body["models"][0];
    assert_eq!(
        (&model["selector"]["version"], &model["state"]),
        (&json!(1), &json!("unavailable"))
    );
    assert!(model["unavailable_since"].is_string(), "{body}");

    // Once the artifact is right again, the next request loads it and health is ok.
    backends
        .store
        .put(&artifact, std::mem::take(&mut original))
        .await
        .expect("restores");
    let (status, _, _) = send(&router, post(uri, one)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = send(&router, get("/health")).await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("ok")));
}

#[tokio::test]
async fn the_same_router_answers_on_a_real_socket() {
    let (backends, _dir) = mlops_tests::local_backends();
    crate::registry::first_version(&backends).await;
    let (router, _) = api(&backends, settings());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });

    let body = r#"{"features": [[1.0, 2.0, "north"], [-1.0, 0.5, "south"]]}"#;
    let request = format!(
        "POST /models/routes/predict?version=1 HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = raw_exchange(addr, &request).await;
    let (head, json) = response.split_once("\r\n\r\n").expect("head and body");
    assert!(head.starts_with("HTTP/1.1 200"), "{response}");
    assert!(head.to_lowercase().contains("x-model-version: 1"), "{head}");
    let json: Value = serde_json::from_str(json).expect("JSON");
    assert_eq!(conforms(&schema("PredictResponse"), &json), Ok(()));
    assert_eq!(json["predictions"].as_array().map(Vec::len), Some(2));

    let response = raw_exchange(
        addr,
        &format!("GET /health HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""version":1"#), "{response}");
}

async fn raw_exchange(addr: std::net::SocketAddr, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("reads");
    response
}
