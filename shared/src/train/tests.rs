use super::*;
use crate::ingest::catalog::DataVersionRecord;

fn version(id: &str, sha256: &str) -> DataVersionRecord {
    DataVersionRecord {
        dataset: DatasetName::parse("flights").unwrap(),
        version: id.into(),
        rows: 10,
        data_key: ObjectKey::parse(&format!("curated/flights/{id}/data.parquet")).unwrap(),
        data_sha256: sha256.into(),
        manifest_key: ObjectKey::parse(&format!("curated/flights/{id}/manifest.json")).unwrap(),
        source_key: ObjectKey::parse("raw/flights/jan.csv").unwrap(),
        source_sha256: "source".into(),
        spec_version: 1,
        ingested_at: "2026-12-06T00:00:00Z".parse().unwrap(),
    }
}

#[test]
fn the_fingerprint_names_training_code_not_the_build() {
    // A build that changes no training code (a README commit) must find the version it trained
    // before: the build's commit (CODE_VERSION) is not part of the fingerprint.
    let versions = [version("a1", "data-a1"), version("b2", "data-b2")];
    let expected = hex::encode(
        &Sha256::digest(format!(
            "data:a1:data-a1\ndata:b2:data-b2\nspec:spec-sha\ncode:{MODEL_CODE_VERSION}\nseed:42\n"
        ))[..16],
    );
    assert_eq!(fingerprint(&versions, "spec-sha", 42), expected);
}

#[test]
fn the_fingerprint_follows_data_spec_and_seed_only() {
    let base = fingerprint(&[version("a1", "data-a1")], "spec", 42);
    let mut moved = version("a1", "data-a1");
    moved.ingested_at = "2027-01-01T00:00:00Z".parse().unwrap();
    moved.source_key = ObjectKey::parse("raw/flights/elsewhere.csv").unwrap();
    assert_eq!(fingerprint(&[moved], "spec", 42), base);
    for other in [
        fingerprint(&[version("a1", "other-content")], "spec", 42),
        fingerprint(&[version("a1", "data-a1")], "other-spec", 42),
        fingerprint(&[version("a1", "data-a1")], "spec", 7),
    ] {
        assert_ne!(other, base);
    }
}
