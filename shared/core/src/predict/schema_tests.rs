use super::*;
use crate::artifact::InputField;
use crate::predict::{parse, predict, Limits};
use crate::sample_artifacts::{artifact, text_artifact};

/// The example record sent as a request: read without a problem and scored without a warning.
fn answers_its_example(model: &ModelArtifact, signature: &ModelSchema) {
    let body = json!({ "records": [signature.example] }).to_string();
    let frame = parse(body.as_bytes(), &model.request_fields(), &Limits::default())
        .unwrap_or_else(|e| panic!("the example is a valid request: {e:?}"));
    let predictions = predict(model, &frame, "req").expect("scores");
    assert!(
        predictions[0].warnings.is_empty(),
        "{:?}",
        predictions[0].warnings
    );
}

#[test]
fn the_signature_lists_each_field_with_what_training_saw() {
    let mut model = artifact();
    model.key = Some(InputField::new(
        "flight_id",
        ColumnType::String,
        false,
        Some(64),
    ));
    let signature = schema(&model);
    let names: Vec<&str> = signature.inputs.iter().map(|f| f.name.as_str()).collect();
    let fields: Vec<String> = model.request_fields().into_iter().map(|f| f.name).collect();
    assert_eq!(names, fields, "in the order of the features row form");
    assert_eq!(signature.inputs[0].training_range, Some([17.0, 4983.0]));
    assert_eq!(signature.inputs[0].levels, None);
    assert_eq!(
        signature.inputs[1].levels.as_deref(),
        Some(&["EWR".to_owned(), "JFK".to_owned()][..])
    );
    assert_eq!(signature.inputs[2].role, Role::Key);
    assert_eq!(signature.classes, ["0", "1"]);
    assert_eq!(signature.threshold, Some(0.42));
    assert_eq!(signature.example["distance"], json!(800.0));
    assert_eq!(signature.example["origin"], json!("EWR"));
    answers_its_example(&model, &signature);

    let record = &signature.record_schema;
    assert_eq!(
        record["properties"]["distance"]["type"],
        json!(["number", "null"])
    );
    assert_eq!(record["properties"]["flight_id"]["maxLength"], json!(64));
    assert_eq!(record["required"], json!(["flight_id"]));
}

#[test]
fn a_text_models_example_is_made_of_its_commonest_words() {
    let model = text_artifact();
    let signature = schema(&model);
    let title = signature
        .inputs
        .iter()
        .find(|f| f.name == "title")
        .expect("the text field");
    assert_eq!(title.kind, ColumnType::Text);
    let example = signature.example["title"].as_str().expect("a text");
    assert_eq!(example.split(' ').count(), 3, "{example}");
    assert!(signature.threshold.is_none() && signature.classes.len() == 3);
    answers_its_example(&model, &signature);
}

#[test]
fn a_booleans_own_words_are_in_its_signature_and_its_example_is_answered() {
    let mut model = artifact();
    model.inputs.push(InputField {
        boolean_words: crate::spec::BooleanWords::new(&["Active".into()], &["Inactive".into()]),
        ..InputField::new("member", ColumnType::Boolean, false, None)
    });
    let signature = schema(&model);
    let member = &signature.inputs[2];
    assert_eq!(
        (&member.true_values[..], &member.false_values[..]),
        (&["active".to_owned()][..], &["inactive".to_owned()][..])
    );
    assert_eq!(
        signature.record_schema["properties"]["member"]["type"],
        json!("boolean")
    );
    assert_eq!(signature.record_schema["required"], json!(["member"]));
    answers_its_example(&model, &signature);
    let body = json!({ "records": [{"distance": 800.0, "origin": "EWR", "member": "ACTIVE"}] });
    let frame = parse(
        body.to_string().as_bytes(),
        &model.request_fields(),
        &Limits::default(),
    )
    .expect("its own word is read");
    assert_eq!(
        frame.column("member").expect("read"),
        &crate::features::RawColumn::Boolean(vec![Some(true)])
    );
}

#[test]
fn the_openapi_dialect_writes_nullable_fields_and_levels_its_own_way() {
    let signature = schema(&artifact());
    let record = record_schema(&signature.inputs, Dialect::OpenApi30);
    let distance = &record["properties"]["distance"];
    assert_eq!(
        (&distance["type"], &distance["nullable"]),
        (&json!("number"), &json!(true))
    );
    assert_eq!(record["properties"]["origin"]["example"], json!("EWR"));
    assert!(record.get("$schema").is_none() && record.get("required").is_none());
    assert_eq!(
        signature.record_schema["$schema"],
        json!("https://json-schema.org/draft/2020-12/schema")
    );
}
