use super::*;

#[test]
fn decodes_form_encoded_keys() {
    assert_eq!(
        decode_key("raw/flights/jan+2013%281%29.csv").unwrap(),
        "raw/flights/jan 2013(1).csv"
    );
    assert_eq!(
        decode_key("raw/flights/a%2Bb.csv").unwrap(),
        "raw/flights/a+b.csv"
    );
    assert!(decode_key("raw/flights/%ff%fe.csv").is_err());
}

#[test]
fn config_names_what_is_missing_or_wrong() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let err = Config::from_env(&Env(env(&[("BUCKET", "b")]))).unwrap_err();
    assert!(err.to_string().contains("REGISTRY_TABLE"), "{err}");
    let err = Config::from_env(&Env(env(&[
        ("BUCKET", "b"),
        ("REGISTRY_TABLE", "t"),
        ("MAX_FILE_BYTES", "lots"),
    ])))
    .unwrap_err();
    assert!(err.to_string().contains("MAX_FILE_BYTES"), "{err}");
    let ok = Config::from_env(&Env(env(&[("BUCKET", "b"), ("REGISTRY_TABLE", "t")]))).unwrap();
    assert_eq!(ok.max_file_bytes, DEFAULT_MAX_FILE_BYTES);
}
