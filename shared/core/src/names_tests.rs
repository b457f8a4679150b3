use super::*;

#[test]
fn dataset_names_are_lowercase_identifiers() {
    assert!(DatasetName::parse("flights").is_ok());
    assert!(DatasetName::parse("flights_2013-v2").is_ok());
    for bad in [
        "",
        "Flights",
        "1flights",
        "fl/ights",
        "fl ights",
        &"a".repeat(65),
    ] {
        assert!(
            DatasetName::parse(bad).is_err(),
            "{bad:?} should be rejected"
        );
    }
}

#[test]
fn object_keys_cannot_escape_the_store() {
    assert!(ObjectKey::parse("raw/flights/jan.csv").is_ok());
    for bad in [
        "", "/abs", "raw//x", "raw/../x", "raw/./x", "raw/x/", "a\\b",
    ] {
        assert!(ObjectKey::parse(bad).is_err(), "{bad:?} should be rejected");
    }
}

#[test]
fn key_file_name() {
    let key = ObjectKey::parse("quarantine/flights/jan.csv").unwrap();
    assert_eq!(key.file_name(), "jan.csv");
}

#[test]
fn each_kind_of_name_says_which_it_is_when_refused() {
    let said = |e: NameError| e.to_string();
    assert!(said(ModelName::parse("../x").unwrap_err()).starts_with("model name \"../x\""));
    assert!(said(Alias::parse("Best!").unwrap_err()).starts_with("alias name \"Best!\""));
    assert!(said("Flights".parse::<DatasetName>().unwrap_err()).starts_with("dataset name"));
}

#[test]
fn a_model_is_named_after_its_dataset() {
    let dataset = DatasetName::parse("flights").unwrap();
    assert_eq!(ModelName::of_dataset(&dataset), "flights");
}
