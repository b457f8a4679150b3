use super::*;
use crate::sample_artifacts::artifact;

#[test]
fn an_artifact_decodes_to_exactly_what_was_encoded() {
    let original = artifact();
    let bytes = original.encode().expect("encodes");
    assert!(bytes.starts_with(b"MLOPSMDL"));
    assert_eq!(ModelArtifact::decode(&bytes).expect("decodes"), original);
}

#[test]
fn foreign_newer_and_truncated_files_are_refused_clearly() {
    let bytes = artifact().encode().expect("encodes");
    assert!(matches!(
        ModelArtifact::decode(b"PK\x03\x04 a zip file"),
        Err(ArtifactError::NotAnArtifact)
    ));
    let mut newer = bytes.clone();
    newer[8] = 0xff;
    assert!(matches!(
        ModelArtifact::decode(&newer),
        Err(ArtifactError::UnsupportedFormat { found }) if found > ARTIFACT_FORMAT
    ));
    assert!(matches!(
        ModelArtifact::decode(&bytes[..bytes.len() / 2]),
        Err(ArtifactError::Corrupt(_))
    ));
}

#[test]
fn a_key_round_trips_and_format_1_artifacts_still_load_without_one() {
    let mut keyed = artifact();
    keyed.key = Some(InputField::new(
        "flight_id",
        ColumnType::String,
        false,
        Some(32),
    ));
    let bytes = keyed.encode().expect("encodes");
    assert_eq!(ModelArtifact::decode(&bytes).expect("decodes"), keyed);

    let format_2 = include_bytes!("../tests/fixtures/flights-format-2.bin");
    // What format 1 wrote: format 2's fields but the last (the key, here none: one zero byte).
    assert_eq!(format_2.last(), Some(&0));
    let mut format_1 = format_2[..format_2.len() - 1].to_vec();
    format_1[8..10].copy_from_slice(&1u16.to_le_bytes());
    assert_eq!(
        ModelArtifact::decode(&format_1).expect("decodes"),
        ModelArtifact::decode(format_2).expect("decodes")
    );
}

#[test]
fn format_2_artifacts_written_by_the_previous_release_still_load_and_score_the_same() {
    // The demo's first flights model as the previous release wrote it, with eight of its golden
    // rows and the probabilities training gave them.
    let bytes = include_bytes!("../tests/fixtures/flights-format-2.bin");
    assert_eq!(&bytes[8..10], &2u16.to_le_bytes());
    let model = ModelArtifact::decode(bytes).expect("decodes");
    assert_eq!((model.model.as_str(), model.version), ("flights", 1));
    assert!(model.pipeline.text.is_empty());
    assert!(model.inputs.iter().all(|f| f.max_length.is_none()));

    scores_its_golden_rows_and_rewrites_as_the_current_format(
        &model,
        include_str!("../tests/fixtures/flights-format-2.golden.json"),
    );
}

#[test]
fn format_3_artifacts_still_load_score_the_same_and_ask_for_retraining_to_explain() {
    // The demo's first flights model (gradient boosting) as the release before explanations
    // wrote it, with eight of its golden rows and the probabilities training gave them.
    let bytes = include_bytes!("../tests/fixtures/flights-format-3.bin");
    assert_eq!(&bytes[8..10], &3u16.to_le_bytes());
    let model = ModelArtifact::decode(bytes).expect("decodes");
    scores_its_golden_rows_and_rewrites_as_the_current_format(
        &model,
        include_str!("../tests/fixtures/flights-format-3.golden.json"),
    );
    assert!(
        !model.learner.explains(),
        "its trees have no row counts to weigh by"
    );
    let explain = crate::predict::PredictOptions {
        top_k: None,
        explain: true,
    };
    assert!(explain.check(&model).is_err());
}

#[test]
fn format_4_artifacts_still_load_score_the_same_and_explain() {
    // The demo's first flights model as the release before declared boolean words wrote it.
    let bytes = include_bytes!("../tests/fixtures/flights-format-4.bin");
    assert_eq!(&bytes[8..10], &4u16.to_le_bytes());
    let model = ModelArtifact::decode(bytes).expect("decodes");
    assert!(model
        .request_fields()
        .iter()
        .all(|f| f.boolean_words == crate::spec::BooleanWords::default()));
    scores_its_golden_rows_and_rewrites_as_the_current_format(
        &model,
        include_str!("../tests/fixtures/flights-format-4.golden.json"),
    );
    assert!(model.learner.explains(), "its trees keep their row counts");
}

/// `model` gives its eight golden rows (`{"records", "probabilities"}`) the probabilities
/// training gave them, and written again it is the current format and reads back the same.
fn scores_its_golden_rows_and_rewrites_as_the_current_format(model: &ModelArtifact, golden: &str) {
    let golden: serde_json::Value = serde_json::from_str(golden).expect("golden JSON");
    let body = serde_json::json!({ "records": golden["records"] }).to_string();
    let frame = crate::predict::request::parse(
        body.as_bytes(),
        &model.request_fields(),
        &crate::predict::request::Limits::default(),
    )
    .expect("the golden rows read");
    let probabilities = model.predict(&frame).expect("scores");
    let expected: Vec<Vec<f64>> =
        serde_json::from_value(golden["probabilities"].clone()).expect("numbers");
    assert_eq!(expected.len(), 8);
    for (row, want) in expected.iter().enumerate() {
        let found = &probabilities[row * 2..row * 2 + 2];
        assert!(
            found.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-9),
            "row {row}: {found:?} vs {want:?}"
        );
    }
    let rewritten = model.encode().expect("encodes");
    assert_eq!(&rewritten[8..10], &ARTIFACT_FORMAT.to_le_bytes());
    assert_eq!(&ModelArtifact::decode(&rewritten).expect("decodes"), model);
}
