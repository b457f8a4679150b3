//! The OpenAPI document is kept true: every documented route is served, every route in the
//! template is documented and the other way round, and what the routes answer conforms to the
//! documented schemas (checked in the API tests with `conforms`).

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request};
use mlops_http::OPENAPI;
use serde_json::Value;

use crate::api::{send, served_locally};

pub(crate) fn document() -> Value {
    serde_json::from_str(OPENAPI).expect("the OpenAPI document is JSON")
}

/// (method, path) of every documented operation, e.g. ("POST", "/models/{model}/predict").
fn documented() -> BTreeSet<(String, String)> {
    let doc = document();
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

/// The HttpApi events of template.yaml, read as text: CloudFormation's tags (!Ref, !Sub) are not
/// plain YAML, and the events are simple `Path:` / `Method:` pairs.
fn in_template() -> BTreeSet<(String, String)> {
    let template = String::from_utf8(mlops_tests::repo_file("template.yaml")).expect("UTF-8");
    let mut routes = BTreeSet::new();
    let mut path: Option<String> = None;
    for line in template.lines().map(str::trim) {
        if let Some(p) = line.strip_prefix("Path: ") {
            path = Some(p.trim_matches(['"', '\'']).to_owned());
        } else if let Some(m) = line.strip_prefix("Method: ") {
            if let Some(p) = path.take() {
                routes.insert((m.trim_matches(['"', '\'']).to_uppercase(), p));
            }
        }
    }
    routes
}

#[test]
fn the_template_routes_exactly_the_documented_operations() {
    assert_eq!(in_template(), documented());
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let (router, _dir) = served_locally().await;
    for (method, path) in documented() {
        let uri = path.replace("{model}", "nosuch");
        let request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(&uri)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .expect("request");
        let (status, _, body) = send(&router, request).await;
        let code = body["error"]["code"].as_str().unwrap_or_default();
        assert!(
            code != "no_route" && code != "method_not_allowed",
            "{method} {uri}: {status} {body}"
        );
        let responses = &document()["paths"][&path][method.to_lowercase()]["responses"];
        assert!(
            responses.get(status.as_str()).is_some(),
            "{method} {uri} answered {status}, which is not documented: {body}"
        );
    }
}

/// Whether `value` conforms to `schema` (type, required, properties, items, enum, nullable,
/// oneOf, anyOf, additionalProperties, $ref into the document): the subset the document uses.
pub(crate) fn conforms(schema: &Value, value: &Value) -> Result<(), String> {
    conforms_in(&document(), schema, value)
}

/// As [`conforms`], with `$ref`s into `doc` (a model's own document).
pub(crate) fn conforms_in(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    check(doc, schema, value, "$")
}

fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let target = reference
            .trim_start_matches("#/")
            .split('/')
            .fold(doc, |node, part| &node[part]);
        if target.is_null() {
            return Err(format!("{at}: dangling $ref {reference}"));
        }
        return check(doc, target, value, at);
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let matching = options
            .iter()
            .filter(|option| check(doc, option, value, at).is_ok())
            .count();
        return if matching == 1 {
            Ok(())
        } else {
            Err(format!("{at}: matches {matching} of the oneOf options"))
        };
    }
    if value.is_null() && schema["nullable"] == Value::Bool(true) {
        return Ok(());
    }
    if let Some(options) = schema["anyOf"].as_array() {
        return if options.iter().any(|o| check(doc, o, value, at).is_ok()) {
            Ok(())
        } else {
            Err(format!("{at}: matches none of the anyOf options"))
        };
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            return Err(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    let kind_ok = match schema["type"].as_str() {
        None => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_u64() || value.is_i64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some(other) => return Err(format!("{at}: unknown type {other} in the document")),
    };
    if !kind_ok {
        return Err(format!("{at}: expected {}, got {value}", schema["type"]));
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                return Err(format!("{at}: required property {name} is missing"));
            }
        }
        for (name, field) in object {
            let path = format!("{at}.{name}");
            match (&schema["properties"][name], &schema["additionalProperties"]) {
                (Value::Null, Value::Bool(false)) => {
                    return Err(format!("{path}: not a documented property"))
                }
                (Value::Null, Value::Object(_)) => {
                    check(doc, &schema["additionalProperties"], field, &path)?
                }
                (Value::Null, _) => {}
                (property, _) => check(doc, property, field, &path)?,
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, item) in values.iter().enumerate() {
            check(doc, items, item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

#[test]
fn the_schema_check_catches_what_it_should() {
    let doc = document();
    let response = &doc["components"]["schemas"]["PredictResponse"];
    let good = serde_json::json!({"model": "m", "version": 1, "predictions": [{"prediction_id": "r-0", "label": "1", "score": 0.5}]});
    assert_eq!(conforms(response, &good), Ok(()));
    let missing = serde_json::json!({"model": "m", "predictions": []});
    assert!(conforms(response, &missing).is_err());
    let wrong = serde_json::json!({"model": "m", "version": "1", "predictions": []});
    assert!(conforms(response, &wrong).is_err());
    let nested = serde_json::json!({"model": "m", "version": 1, "predictions": [{"score": 0.5}]});
    assert!(conforms(response, &nested).is_err());
    let admin = &doc["components"]["schemas"]["AdminRequest"];
    assert!(conforms(admin, &serde_json::json!({"versoin": 2})).is_err());
}

#[test]
fn the_documented_top_k_bound_is_the_one_the_code_checks() {
    let doc = document();
    let predict = &doc["paths"]["/models/{model}/predict"]["post"];
    let query = predict["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "top_k")
        .expect("the top_k query parameter");
    let bound = mlops_shared::predict::MAX_TOP_K as u64;
    assert_eq!(query["schema"]["maximum"].as_u64(), Some(bound));
    for form in doc["components"]["schemas"]["PredictRequest"]["oneOf"]
        .as_array()
        .expect("the body's forms")
    {
        assert_eq!(
            form["properties"]["top_k"]["maximum"].as_u64(),
            Some(bound),
            "{form}"
        );
    }
}
