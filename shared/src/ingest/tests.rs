use super::*;

#[test]
fn upload_keys_name_their_dataset() {
    let key = ObjectKey::parse("raw/flights/2013/jan.csv").unwrap();
    let raw = RawKey::parse(&key).unwrap();
    assert_eq!(raw.dataset.as_str(), "flights");
    assert_eq!(raw.relative, "2013/jan.csv");
    assert_eq!(
        raw.quarantine_key("0123456789abcdef").as_str(),
        "quarantine/flights/0123456789abcdef/2013/jan.csv"
    );
    assert_eq!(
        raw.quarantine_report_key("0123456789abcdef").as_str(),
        "quarantine/flights/0123456789abcdef.report.json"
    );
    for outside in [
        "curated/flights/x.csv",
        "raw/flights.csv",
        "raw/Flights/x.csv",
        "specs/flights.toml",
    ] {
        let key = ObjectKey::parse(outside).unwrap();
        assert!(
            matches!(RawKey::parse(&key), Err(IngestError::NotAnUpload { .. })),
            "{outside}"
        );
    }
}
