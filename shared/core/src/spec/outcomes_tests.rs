use super::*;

const SPEC: &str = r#"
    [dataset]
    name = "trips"
    version = 1

    [[columns]]
    name = "distance"
    type = "float"

    [[columns]]
    name = "late"
    type = "integer"
    allowed = [0, 1]
    nullable = true

    [target]
    column = "late"
    kind = "binary"
    positive = 1

    [features]
    columns = ["distance"]
"#;

#[test]
fn outcomes_carry_the_prediction_id_the_observed_label_and_its_time() {
    let loaded = DatasetSpec::parse(SPEC, "toml").expect("valid");
    let outcomes = loaded.outcomes().expect("a target to observe");
    let contract = &outcomes.spec;
    let columns: Vec<_> = contract
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.kind, c.required, c.nullable))
        .collect();
    assert_eq!(
        columns,
        [
            (PREDICTION_ID, ColumnType::String, true, false),
            ("late", ColumnType::Integer, true, false),
            (OBSERVED_AT, ColumnType::Datetime, true, false),
        ]
    );
    assert_eq!(
        contract.columns[1].allowed, loaded.spec.columns[1].allowed,
        "labels outside the classes are bad rows"
    );
    assert!(contract.check().is_empty(), "{:?}", contract.check());
    assert_ne!(outcomes.sha256, loaded.sha256);
}

#[test]
fn the_serving_key_names_the_prediction_when_there_is_one() {
    let keyed = SPEC.replace(
        "[target]",
        "[[columns]]\nname = \"trip_id\"\ntype = \"string\"\nregex = \"^T\"\n\n[serving]\nkey = \"trip_id\"\n\n[target]",
    );
    let loaded = DatasetSpec::parse(&keyed, "toml").expect("valid");
    let contract = loaded.spec.outcome_contract().expect("a target");
    assert_eq!(contract.columns[0].name, "trip_id");
    assert_eq!(
        contract.columns[0].regex.as_deref(),
        Some("^T"),
        "the key's own checks apply"
    );
}

#[test]
fn a_dataset_without_a_target_has_no_outcomes() {
    let no_target = SPEC.split("[target]").next().expect("a head");
    let loaded = DatasetSpec::parse(no_target, "toml").expect("valid");
    assert!(loaded.outcomes().is_none());
}
