//! A model's own OpenAPI document (`GET /models/{model}/openapi.json`,
//! `mlops models M --openapi`): the deployment document's predict operation for this model
//! alone, its records described field by field from the model's signature and its labels listed,
//! so that a client generated from it checks a request before sending it.

use serde_json::{json, Value};

use mlops_shared::predict::{self, Dialect, Limits, ModelSchema, UnknownFields};

use crate::openapi_document;

const PREDICT: &str = "/models/{model}/predict";

/// The document for the version `signature` describes. `explains` is false for a version trained
/// before explanations (the `explain` option is then left out); `limits` are the deployment's.
pub fn model_openapi(signature: &ModelSchema, explains: bool, limits: &Limits) -> Value {
    let deployment = openapi_document();
    let mut operation = deployment["paths"][PREDICT]["post"].clone();
    if let Some(parameters) = operation["parameters"].as_array_mut() {
        // The model is in the path, and the version is the one described: a client may pin it.
        parameters.retain(|p| {
            p["name"] != "model" && p["name"] != "alias" && (explains || p["name"] != "explain")
        });
        for parameter in parameters.iter_mut().filter(|p| p["name"] == "version") {
            parameter["schema"] = json!({ "type": "integer", "enum": [signature.version] });
            parameter["description"] = json!(
                "The version this document describes; without it the champion answers, which \
                 may since have become another version."
            );
        }
    }
    operation["description"] = json!(format!(
        "Scores records with {model}'s champion, or with version {version}, the one this \
         document describes, when the query names it.",
        model = signature.model,
        version = signature.version,
    ));

    let mut schemas = deployment["components"]["schemas"].clone();
    schemas["PredictRequest"] = request(signature, &schemas["PredictRequest"], explains, limits);
    schemas["Prediction"]["properties"]["label"]["enum"] = json!(signature.classes);
    let mut paths = serde_json::Map::new();
    paths.insert(
        PREDICT.replace("{model}", signature.model.as_str()),
        json!({ "post": operation }),
    );
    let mut document = json!({
        "openapi": deployment["openapi"],
        "info": {
            "title": format!("{} prediction API", signature.model),
            "version": signature.version.to_string(),
            "description": format!(
                "Predictions of {model} (version {version}, target `{target}`). Generated from \
                 the model's signature; the whole API is described at /openapi.json.",
                model = signature.model,
                version = signature.version,
                target = signature.target,
            ),
        },
        "servers": deployment["servers"],
        "paths": paths,
        "components": {
            "securitySchemes": deployment["components"]["securitySchemes"],
            "responses": deployment["components"]["responses"],
            "schemas": schemas,
        },
    });
    keep_referenced_schemas(&mut document);
    document
}

/// The body as this model takes it: the `records` form, each record the model's own schema.
/// (The `features` rows form cannot say a row's types position by position in OpenAPI 3.0; the
/// deployment's document describes it.)
fn request(signature: &ModelSchema, general: &Value, explains: bool, limits: &Limits) -> Value {
    let mut record = predict::record_schema(&signature.inputs, Dialect::OpenApi30);
    record["additionalProperties"] = json!(limits.unknown_fields == UnknownFields::Ignore);
    record["example"] = json!(signature.example);
    let options = &general["oneOf"][0]["properties"];
    let mut properties = json!({
        "records": {
            "type": "array",
            "maxItems": limits.max_records,
            "items": record,
        },
        "top_k": options["top_k"],
    });
    if explains {
        properties["explain"] = options["explain"].clone();
    }
    json!({
        "description": "Records by field name, each as the model's signature describes it \
                        (GET /models/{model}/schema).",
        "type": "object",
        "required": ["records"],
        "properties": properties,
    })
}

/// Drops the component schemas the document's operation does not reach.
fn keep_referenced_schemas(document: &mut Value) {
    let mut kept = std::collections::BTreeSet::new();
    let mut pending = vec![
        document["paths"].clone(),
        document["components"]["responses"].clone(),
    ];
    while let Some(node) = pending.pop() {
        match node {
            Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    if kept.insert(name.to_owned()) {
                        pending.push(document["components"]["schemas"][name].clone());
                    }
                }
                pending.extend(map.into_iter().map(|(_, value)| value));
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    if let Some(schemas) = document["components"]["schemas"].as_object_mut() {
        schemas.retain(|name, _| kept.contains(name));
    }
}
