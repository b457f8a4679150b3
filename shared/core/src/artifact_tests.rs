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
