//! Ingestion of real and broken files, on the embedded default and on moto alike: every bad input is
//! quarantined with its reason, every upload is accounted for, every format reads the same.

use std::io::{Cursor, Write};

use mlops_shared::ingest::{catalog, IngestError, IngestOutcome, Ingestor, Status};
use mlops_shared::names::{DatasetName, ObjectKey};
use mlops_shared::ports::Backends;
use mlops_shared::spec::{stored, DatasetSpec};
use mlops_tests::{aws_backends, flights_sample, flights_spec, gunzip, local_backends};
use polars::prelude::*;
use serde_json::Value;

async fn install_spec(backends: &Backends) {
    mlops_tests::install_spec(backends, &flights_spec()).await;
}

/// The embedded default in a temporary folder, with the flights spec installed.
async fn local_ingestor() -> (Backends, Ingestor, tempfile::TempDir) {
    let (backends, dir) = local_backends();
    install_spec(&backends).await;
    let ingestor = Ingestor::new(backends.store.clone(), backends.registry.clone(), 1 << 30);
    (backends, ingestor, dir)
}

fn flights() -> DatasetName {
    DatasetName::parse("flights").expect("valid")
}

fn key(text: &str) -> ObjectKey {
    ObjectKey::parse(text).expect("valid key")
}

async fn report(backends: &Backends, outcome: &IngestOutcome) -> Value {
    let object = backends
        .store
        .get(&key(&outcome.report))
        .await
        .expect("report exists");
    serde_json::from_slice(&object.bytes).expect("report is JSON")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// Replaces column `column` of every `every`-th data row of a CSV text.
fn with_values(csv: &str, column: &str, value: &str, every: usize) -> String {
    let mut lines = csv.lines();
    let header = lines.next().unwrap_or_default();
    let index = header
        .split(',')
        .position(|c| c == column)
        .expect("column exists");
    let mut out = vec![header.to_owned()];
    for (i, line) in lines.enumerate() {
        let mut fields: Vec<&str> = line.split(',').collect();
        if (i + 1) % every == 0 {
            fields[index] = value;
        }
        out.push(fields.join(","));
    }
    out.join("\n") + "\n"
}

fn without_column(csv: &str, column: &str) -> String {
    let header = csv.lines().next().unwrap_or_default();
    let index = header
        .split(',')
        .position(|c| c == column)
        .expect("column exists");
    csv.lines()
        .map(|line| {
            line.split(',')
                .enumerate()
                .filter(|(i, _)| *i != index)
                .map(|(_, f)| f)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Every bad input the ingest function must survive, each with the rule its report must name.
fn broken_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let january = gunzip(&flights_sample("01"));
    let gz = flights_sample("01");
    let header = january.lines().next().unwrap_or_default().to_owned();
    let mut not_utf8 = january.clone().into_bytes();
    let at = not_utf8.len() / 2;
    not_utf8.splice(at..at, [0xC3, 0x28, 0xFF]);
    let first_rows: Vec<&str> = january.lines().skip(1).take(5).collect();
    let duplicated = format!("{january}{}\n", first_rows.join("\n"));
    let extra = january
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 {
                format!("{line},gate")
            } else {
                format!("{line},B{i}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    vec![
        ("empty.csv", vec![], "empty_file"),
        (
            "header-only.csv",
            format!("{header}\n").into_bytes(),
            "no_data_rows",
        ),
        (
            "semicolons.csv",
            january.replace(',', ";").into_bytes(),
            "delimiter",
        ),
        ("latin1.csv", not_utf8, "encoding"),
        (
            "truncated.csv.gz",
            gz[..gz.len() / 2].to_vec(),
            "corrupt_compression",
        ),
        (
            "no-carrier.csv",
            without_column(&january, "carrier").into_bytes(),
            "required_column",
        ),
        (
            "text-in-distance.csv",
            with_values(&january, "distance", "far", 10).into_bytes(),
            "type",
        ),
        (
            "month-13.csv",
            with_values(&january, "month", "13", 10).into_bytes(),
            "max",
        ),
        (
            "origin-bos.csv",
            with_values(&january, "origin", "BOS", 10).into_bytes(),
            "allowed_values",
        ),
        ("duplicate-keys.csv", duplicated.into_bytes(), "unique_key"),
        ("extra-column.csv", extra.into_bytes(), "extra_column"),
        (
            "too-many-fields.csv",
            format!("{january}{}\n", vec!["1"; 40].join(",")).into_bytes(),
            "unreadable",
        ),
    ]
}

async fn quarantines_every_broken_file_with_its_reason(backends: Backends) {
    install_spec(&backends).await;
    let ingestor = Ingestor::new(backends.store.clone(), backends.registry.clone(), 1 << 30);
    let files = broken_files();
    for (name, bytes, rule) in &files {
        let outcome = ingestor
            .upload_and_ingest(&flights(), name, bytes.clone())
            .await
            .expect("ingested");
        assert_eq!(outcome.status, Status::Quarantined, "{name}: {outcome:?}");
        let report = report(&backends, &outcome).await;
        let rules: Vec<&str> = report["failures"]
            .as_array()
            .expect("failures")
            .iter()
            .filter_map(|f| f["rule"].as_str())
            .collect();
        assert!(
            rules.contains(rule),
            "{name}: expected {rule}, report says {rules:?}"
        );
        assert_eq!(report["verdict"], "quarantined");
        let folder = outcome
            .report
            .strip_suffix(".report.json")
            .expect("a quarantine report");
        let copy = backends
            .store
            .get(&key(&format!("{folder}/{name}")))
            .await
            .expect("quarantined copy");
        assert_eq!(
            &copy.bytes, bytes,
            "{name}: the quarantined copy is the upload, byte for byte"
        );
    }

    // Row-level failures come with the rows and raw values that broke the rule.
    let outcome = ingestor
        .upload_and_ingest(&flights(), "text-in-distance.csv", files[6].1.clone())
        .await
        .expect("again");
    assert_eq!(
        outcome.status,
        Status::Quarantined,
        "a repeat keeps its verdict"
    );
    let report = report(&backends, &outcome).await;
    let type_failure = report["failures"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "type"))
        .expect("type failure");
    assert_eq!(type_failure["columns"][0], "distance");
    assert_eq!(type_failure["count"], 300);
    assert_eq!(
        type_failure["examples"][0],
        serde_json::json!({"row": 10, "value": "far"})
    );

    // An unknown dataset and an oversized file are quarantined too, without being read.
    let other = DatasetName::parse("weather").expect("valid");
    let unknown = ingestor
        .upload_and_ingest(&other, "obs.csv", b"a\n1\n".to_vec())
        .await
        .expect("ingested");
    assert_eq!(unknown.status, Status::Quarantined);
    let small = Ingestor::new(backends.store.clone(), backends.registry.clone(), 1_000);
    let big = small
        .upload_and_ingest(&flights(), "big.csv.gz", flights_sample("02"))
        .await
        .expect("ingested");
    assert_eq!(report_rules(&backends, &big).await, ["file_too_large"]);

    // A key outside raw/ is refused before anything is read or written.
    let outside = ingestor.ingest(&key("inbox/flights/x.csv")).await;
    assert!(
        matches!(outside, Err(IngestError::NotAnUpload { .. })),
        "{outside:?}"
    );

    // Every upload is accounted for: a record, a quarantined copy and a report for each.
    let uploads = backends.store.list("raw/").await.expect("list raw");
    assert_eq!(uploads.len(), files.len() + 2);
    let mut recorded = catalog::uploads(backends.registry.as_ref(), &flights())
        .await
        .expect("uploads");
    recorded.extend(
        catalog::uploads(backends.registry.as_ref(), &other)
            .await
            .expect("uploads"),
    );
    for upload in &uploads {
        let record = recorded
            .iter()
            .find(|r| r.source_key == upload.key.as_str())
            .expect("an upload record");
        assert_eq!(
            record.status,
            catalog::UploadStatus::Quarantined,
            "{}",
            upload.key
        );
        backends
            .store
            .head(&key(&record.report_key))
            .await
            .expect("its report exists");
    }
    assert!(catalog::versions(backends.registry.as_ref(), &flights())
        .await
        .expect("versions")
        .is_empty());
}

async fn report_rules(backends: &Backends, outcome: &IngestOutcome) -> Vec<String> {
    let report = report(backends, outcome).await;
    report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter_map(|f| f["rule"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_files_are_quarantined_with_their_reason_locally() {
    let (backends, _dir) = local_backends();
    quarantines_every_broken_file_with_its_reason(backends).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_files_are_quarantined_with_their_reason_on_s3_and_dynamodb() {
    let backends = aws_backends().await.backends;
    quarantines_every_broken_file_with_its_reason(backends).await;
}

/// The January sample as Parquet (typed columns) and as JSON Lines.
fn other_formats(csv: &str) -> (Vec<u8>, Vec<u8>) {
    let mut frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(10_000))
        .into_reader_with_file_handle(Cursor::new(csv.as_bytes()))
        .finish()
        .expect("read sample");
    let mut parquet = Vec::new();
    ParquetWriter::new(&mut parquet)
        .finish(&mut frame)
        .expect("write parquet");
    let mut jsonl = Vec::new();
    JsonWriter::new(&mut jsonl)
        .with_json_format(JsonFormat::JsonLines)
        .finish(&mut frame)
        .expect("write jsonl");
    (parquet, jsonl)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_gzip_parquet_and_json_lines_read_alike() {
    let (backends, ingestor, _dir) = local_ingestor().await;
    let csv = gunzip(&flights_sample("01"));
    let (parquet, jsonl) = other_formats(&csv);
    let inputs = [
        ("jan.csv", csv.clone().into_bytes()),
        ("jan.csv.gz", gzip(csv.as_bytes())),
        ("jan.parquet", parquet),
        ("jan.jsonl", jsonl),
    ];
    let mut profiles = Vec::new();
    for (name, bytes) in inputs {
        let outcome = ingestor
            .upload_and_ingest(&flights(), name, bytes)
            .await
            .expect("ingested");
        assert_eq!(outcome.status, Status::Accepted, "{name}: {outcome:?}");
        assert_eq!(outcome.rows, 3000, "{name}");
        let manifest = backends
            .store
            .get(&key(&outcome.report))
            .await
            .expect("manifest");
        let manifest: Value = serde_json::from_slice(&manifest.bytes).expect("JSON");
        profiles.push((name, manifest["profile"].clone()));
    }
    for (name, profile) in &profiles[1..] {
        assert_eq!(profile, &profiles[0].1, "{name} profiles like the CSV");
    }
}

/// The upload positions (`_row`) of a version's dropped rows.
async fn dropped_at(backends: &Backends, version: &str) -> Vec<Option<u64>> {
    let dropped = backends
        .store
        .get(&key(&format!(
            "curated/flights/{version}/dropped_rows.parquet"
        )))
        .await
        .expect("dropped rows kept");
    let dropped = ParquetReader::new(Cursor::new(dropped.bytes))
        .finish()
        .expect("parquet");
    dropped
        .column("_row")
        .expect("_row")
        .u64()
        .expect("u64")
        .iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_invalid_rows_are_dropped_and_kept_beside_the_version() {
    let (backends, ingestor, _dir) = local_ingestor().await;
    let csv = with_values(&gunzip(&flights_sample("03")), "origin", "BOS", 1000);
    let outcome = ingestor
        .upload_and_ingest(&flights(), "march.csv", csv.into_bytes())
        .await
        .expect("ingested");
    assert_eq!(outcome.status, Status::Accepted, "{outcome:?}");
    assert_eq!((outcome.rows, outcome.rows_dropped), (2997, 3));
    let version = outcome.version.clone().expect("version");
    assert_eq!(
        dropped_at(&backends, &version).await,
        [1000, 2000, 3000].map(Some)
    );
    let manifest = backends
        .store
        .get(&key(&outcome.report))
        .await
        .expect("manifest");
    let manifest: Value = serde_json::from_slice(&manifest.bytes).expect("JSON");
    assert_eq!(manifest["validation"]["rows_dropped"], 3);
    assert_eq!(
        manifest["validation"]["failures"][0]["rule"],
        "allowed_values"
    );
    assert_eq!(manifest["rows"], 2997);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantined_upload_is_judged_afresh_after_the_spec_changes() {
    let (backends, ingestor, _dir) = local_ingestor().await;
    let csv = with_values(&gunzip(&flights_sample("01")), "origin", "BOS", 10);
    let first = ingestor
        .upload_and_ingest(&flights(), "jan.csv", csv.into_bytes())
        .await
        .expect("ingested");
    assert_eq!(first.status, Status::Quarantined);

    // The owner decides Boston flights belong in the data set, and re-drives the same upload.
    let widened = flights_spec()
        .replace("version = 1", "version = 2")
        .replace(
            r#"allowed = ["EWR", "JFK", "LGA"]"#,
            r#"allowed = ["BOS", "EWR", "JFK", "LGA"]"#,
        );
    let loaded = DatasetSpec::parse(&widened, "toml").expect("valid");
    stored::put(backends.store.as_ref(), &loaded, &widened, "toml")
        .await
        .expect("install");
    let again = ingestor
        .ingest(&key("raw/flights/jan.csv"))
        .await
        .expect("ingested");
    assert_eq!(again.status, Status::Accepted, "{again:?}");
    assert_eq!(again.rows, 3000);
    let uploads = catalog::uploads(backends.registry.as_ref(), &flights())
        .await
        .expect("uploads");
    assert_eq!(uploads.len(), 2, "both judgements are on record");
}

/// The four monthly samples five times over (each copy under its own year, so that the key
/// holds): 60,000 rows, about 9.3 MB of CSV, more than one block of text or slice of Parquet.
fn five_years() -> String {
    let months: Vec<String> = ["01", "02", "03", "07"]
        .map(|m| gunzip(&flights_sample(m)))
        .to_vec();
    let header = months[0].lines().next().expect("header").to_owned();
    let mut csv = header + "\n";
    for year in ["2009", "2010", "2011", "2012", "2013"] {
        for month in &months {
            for line in month.lines().skip(1) {
                csv.push_str(year);
                csv.push_str(&line[4..]);
                csv.push('\n');
            }
        }
    }
    csv
}

/// A file of many batches is judged as a whole and stored as one version: rows dropped in every
/// part of it keep their place in the upload, and a key repeated far apart is found.
async fn large_files_are_read_in_batches_and_judged_whole(backends: Backends) {
    install_spec(&backends).await;
    let ingestor = Ingestor::new(backends.store.clone(), backends.registry.clone(), 1 << 30);
    let csv = five_years();
    assert!(
        csv.len() > mlops_shared::ingest::blocks::BLOCK_BYTES,
        "more than one block"
    );
    let rows = csv.lines().count() - 1;
    let dropped = with_values(&csv, "origin", "BOS", 10_000);
    let outcome = ingestor
        .upload_and_ingest(&flights(), "years.csv", dropped.into_bytes())
        .await
        .expect("ingested");
    assert_eq!(outcome.status, Status::Accepted, "{outcome:?}");
    assert_eq!((outcome.rows, outcome.rows_dropped), (rows as u64 - 6, 6));
    let version = outcome.version.clone().expect("version");
    assert_eq!(
        dropped_at(&backends, &version).await,
        [10_000, 20_000, 30_000, 40_000, 50_000, 60_000].map(Some)
    );
    let manifest = report(&backends, &outcome).await;
    assert_eq!(manifest["rows"], rows as u64 - 6);
    let data = backends
        .store
        .get(&key(&format!("curated/flights/{version}/data.parquet")))
        .await
        .expect("data");
    let data = ParquetReader::new(Cursor::new(data.bytes))
        .finish()
        .expect("parquet");
    assert_eq!(data.height(), rows - 6);

    // The same rows as Parquet (typed, read a slice at a time) profile as the CSV's do.
    let (parquet, _) = other_formats(&csv);
    let as_parquet = ingestor
        .upload_and_ingest(&flights(), "years.parquet", parquet)
        .await
        .expect("ingested");
    assert_eq!(
        (as_parquet.status, as_parquet.rows),
        (Status::Accepted, rows as u64)
    );
    let whole = ingestor
        .upload_and_ingest(&flights(), "years-clean.csv", csv.clone().into_bytes())
        .await
        .expect("ingested");
    assert_eq!(
        report(&backends, &as_parquet).await["profile"],
        report(&backends, &whole).await["profile"]
    );

    // A row of the first block repeated at the end: the key is not unique, in rows 7 and the last.
    let seventh = csv.lines().nth(7).expect("row 7").to_owned();
    let repeated = format!("{csv}{seventh}\n");
    let outcome = ingestor
        .upload_and_ingest(&flights(), "repeated.csv", repeated.into_bytes())
        .await
        .expect("ingested");
    assert_eq!(outcome.status, Status::Quarantined);
    let report = report(&backends, &outcome).await;
    let failure = &report["failures"][0];
    assert_eq!(
        (failure["rule"].as_str(), failure["count"].as_u64()),
        (Some("unique_key"), Some(2))
    );
    let examples: Vec<u64> = failure["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .filter_map(|e| e["row"].as_u64())
        .collect();
    assert_eq!(examples, [7, rows as u64 + 1]);
    assert!(
        failure["examples"][0]["value"]
            .as_str()
            .expect("value")
            .starts_with("year=2009, month=1,"),
        "{failure}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_are_read_in_batches_locally() {
    let (backends, _dir) = local_backends();
    large_files_are_read_in_batches_and_judged_whole(backends).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_are_read_in_batches_on_s3_and_dynamodb() {
    let backends = aws_backends().await.backends;
    large_files_are_read_in_batches_and_judged_whole(backends).await;
}
