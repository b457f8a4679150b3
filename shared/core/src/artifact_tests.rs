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
fn format_1_artifacts_still_load_without_a_key() {
    let mut keyed = artifact();
    keyed.key = Some(InputField {
        name: "flight_id".into(),
        kind: ColumnType::String,
        nullable: false,
    });
    let bytes = keyed.encode().expect("encodes");
    assert_eq!(ModelArtifact::decode(&bytes).expect("decodes"), keyed);

    let current = artifact().encode().expect("encodes");
    // What format 1 wrote: the same fields but the last, under its own number.
    let mut format_1 = current[..current.len() - 1].to_vec();
    format_1[8..10].copy_from_slice(&1u16.to_le_bytes());
    assert_eq!(
        ModelArtifact::decode(&format_1).expect("decodes"),
        artifact()
    );
}
