//! What the fuzz targets (`fuzz/`) run, and what the test suite replays over their committed
//! corpora: each parser, fed arbitrary bytes, answers or refuses, never panics, and keeps its
//! invariants. A failed invariant panics, which is what a fuzzer reports.

use crate::artifact::InputField;
use crate::ingest::decode::{self, numeric_schema};
use crate::ingest::{profile, validate};
use crate::predict::request::{read_general, Limits};
use crate::spec::{ColumnType, DatasetSpec};

/// A prediction request body against a model taking one input of each type. The usual-body
/// reader, whenever it reads a body, must read exactly what the general reader reads.
pub fn predict_request(body: &[u8]) {
    let inputs = model_inputs();
    let limits = Limits {
        max_records: 50,
        ..Limits::default()
    };
    let general = read_general(body, &inputs, &limits, 0);
    if let Some(fast) = crate::predict::canonical::read(body, &inputs, limits.max_records, 0) {
        assert_eq!(Ok(fast), general, "the two readers disagree");
    }
}

fn model_inputs() -> Vec<InputField> {
    let field = |name: &str, kind, nullable| InputField::new(name, kind, nullable, None);
    vec![
        field("distance", ColumnType::Integer, false),
        field("temp", ColumnType::Float, true),
        field("carrier", ColumnType::Categorical, false),
        field("time_hour", ColumnType::Datetime, false),
        field("holiday", ColumnType::Boolean, true),
        field("tailnum", ColumnType::String, true),
    ]
}

/// The contract uploads are checked against: a column of each type, a key and a rule.
const UPLOAD_SPEC: &str = r#"
[dataset]
name = "fuzz"
version = 1
[source]
max_file_bytes = 1048576
# Low enough that the fuzzer's inputs reach the limit, high enough to leave most values alone.
max_value_bytes = 256
[policy]
extra_columns = "drop"
invalid_rows = "drop"
max_invalid_row_fraction = 0.5
[[columns]]
name = "id"
type = "integer"
min = 0
[[columns]]
name = "x"
type = "float"
nullable = true
max = 100
[[columns]]
name = "c"
type = "categorical"
allowed = ["a", "b"]
[[columns]]
name = "t"
type = "datetime"
nullable = true
[[columns]]
name = "s"
type = "string"
nullable = true
regex = "^[a-z]*$"
[[columns]]
name = "f"
type = "boolean"
nullable = true
[table]
unique_keys = [["id"]]
rules = [{ name = "x_below_id", check = "x <= id", mostly = 0.9 }]
"#;

/// An upload: its first byte picks the name it arrives under (CSV, JSON Lines, Parquet, or by
/// content), the rest is the file. Decoding refuses it with a reason or gives a frame that
/// validation and profiling judge without an internal error.
pub fn ingest_upload(data: &[u8]) {
    let Some((pick, bytes)) = data.split_first() else {
        return;
    };
    let name = ["up.csv", "up.jsonl", "up.parquet", "up.bin"][usize::from(*pick) % 4];
    let spec = match DatasetSpec::parse(UPLOAD_SPEC, "toml") {
        Ok(loaded) => loaded.spec,
        Err(e) => panic!("the fuzz contract is valid: {e}"),
    };
    let Ok((frame, decoded)) = decode::decode(
        bytes,
        name,
        &spec.source,
        &numeric_schema(&spec),
        spec.source.max_file_bytes,
    ) else {
        return;
    };
    let typed = match validate::check_frame(&frame, &decoded, &spec, &std::env::temp_dir()) {
        Ok((typed, _)) => typed,
        Err(e) => panic!("validation failed inside instead of judging the file: {e}"),
    };
    if let Err(e) = profile::profile(&typed, &spec) {
        panic!("profiling failed inside: {e}");
    }
}

/// A dataset contract in TOML or JSON (the first byte picks): parsed and checked, or refused.
pub fn spec_text(data: &[u8]) {
    let Some((pick, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let _ = DatasetSpec::parse(text, if pick % 2 == 0 { "toml" } else { "json" });
}
