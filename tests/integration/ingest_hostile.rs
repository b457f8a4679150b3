//! Hostile and careless uploads: each gets a clear verdict and a report, on the embedded default
//! and on moto alike, and nothing uploaded is lost or has its evidence overwritten.

use mlops_shared::ingest::{IngestOutcome, Ingestor, Status};
use mlops_shared::names::DatasetName;
use mlops_shared::ports::Backends;
use mlops_tests::{aws_backends, flights_sample, flights_spec, gunzip, key, local_backends};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn flights() -> DatasetName {
    DatasetName::parse("flights").expect("valid")
}

async fn ingestor(backends: &Backends, max_bytes: u64) -> Ingestor {
    mlops_tests::install_spec(backends, &flights_spec()).await;
    Ingestor::new(backends.store.clone(), backends.registry.clone(), max_bytes)
}

async fn json(backends: &Backends, key_text: &str) -> Value {
    let object = backends.store.get(&key(key_text)).await.expect(key_text);
    serde_json::from_slice(&object.bytes).expect("JSON")
}

fn rules(document: &Value, list: &str) -> Vec<String> {
    document[list]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|f| f["rule"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn january() -> String {
    gunzip(&flights_sample("01"))
}

/// The data lines of `csv` with `change` applied to the n-th (0-based) for n in `rows`.
fn changing_rows(csv: &str, rows: &[usize], change: impl Fn(&str) -> String) -> String {
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    for &row in rows {
        lines[row + 1] = change(&lines[row + 1]);
    }
    lines.join("\n") + "\n"
}

/// The quarantined copy of an upload: beside its report, in the folder named by its upload id,
/// at the upload's path below `raw/flights/`.
fn quarantined_copy(outcome: &IngestOutcome) -> String {
    let folder = outcome
        .report
        .strip_suffix(".report.json")
        .expect("a quarantine report");
    let relative = outcome
        .key
        .strip_prefix("raw/flights/")
        .expect("an upload of flights");
    format!("{folder}/{relative}")
}

async fn careless_files_get_the_verdict_a_person_expects(backends: Backends) {
    let ingestor = ingestor(&backends, 1 << 30).await;
    let csv = january();

    // Blank lines (two trailing, three in the middle) are skipped and counted.
    let middle = csv.find("\n2013,1,1,6").expect("a row") + 1;
    let blank = format!("{}\n\n\n{}\n\n", &csv[..middle], &csv[middle..]);
    let outcome = ingestor
        .upload_and_ingest(&flights(), "blank-lines.csv", blank.into_bytes())
        .await
        .expect("ingested");
    assert_eq!(
        (outcome.status, outcome.rows, outcome.rows_dropped),
        (Status::Accepted, 3000, 0),
        "{outcome:?}"
    );
    let manifest = json(&backends, &outcome.report).await;
    assert_eq!(rules(&manifest["validation"], "warnings"), ["blank_lines"]);
    assert_eq!(
        manifest["validation"]["warnings"][0]["message"],
        "5 blank line(s) skipped"
    );

    // Rows missing their last fields are unreadable rows, dropped by the policy with their number.
    let short = changing_rows(&csv, &[9, 99], |line| {
        line.rsplitn(3, ',').nth(2).unwrap_or_default().to_owned()
    });
    let outcome = ingestor
        .upload_and_ingest(&flights(), "short-rows.csv", short.into_bytes())
        .await
        .expect("ingested");
    assert_eq!(
        (outcome.status, outcome.rows, outcome.rows_dropped),
        (Status::Accepted, 2998, 2),
        "{outcome:?}"
    );
    let manifest = json(&backends, &outcome.report).await;
    let failure = &manifest["validation"]["failures"][0];
    assert_eq!(failure["rule"], "unreadable");
    assert_eq!(
        failure["examples"],
        serde_json::json!([{"row": 10, "value": "27 field(s)"}, {"row": 100, "value": "27 field(s)"}])
    );

    // NaN is a missing value: never "above the maximum".
    let nan = changing_rows(&csv, &[4], |line| {
        let mut fields: Vec<&str> = line.split(',').collect();
        fields[19] = "NaN"; // temp
        fields.join(",")
    });
    let outcome = ingestor
        .upload_and_ingest(&flights(), "nan-temp.csv", nan.into_bytes())
        .await
        .expect("ingested");
    assert_eq!(outcome.status, Status::Accepted, "{outcome:?}");
    assert_eq!(outcome.rows_dropped, 0, "{outcome:?}");

    // A value of 1 MiB, the default limit, is read; its report quotes it cut to a few hundred
    // characters.
    let huge = "Q".repeat(1 << 20);
    let big_cell = changing_rows(&csv, &[0], |line| {
        line.replacen(",UA,", &format!(",{huge},"), 1)
    });
    let outcome = ingestor
        .upload_and_ingest(&flights(), "big-cell.csv", big_cell.into_bytes())
        .await
        .expect("ingested");
    let manifest = json(&backends, &outcome.report).await;
    let text = manifest.to_string();
    assert!(text.len() < 200_000, "the manifest is {} bytes", text.len());
    let example = manifest["validation"]["failures"][0]["examples"][0]["value"]
        .as_str()
        .expect("an example");
    assert!(
        example.len() < 300 && example.ends_with("[cut: 1048576 characters in all]"),
        "{example}"
    );

    // Files a reader cannot take row by row are quarantined with the reason named.
    let deep = format!(
        "{{\"year\": {}{}}}\n",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let header = csv.lines().next().unwrap_or_default();
    for (name, bytes, rule, says) in [
        (
            "cr-only.csv",
            csv.replace('\n', "\r").into_bytes(),
            "line_endings",
            "carriage return",
        ),
        (
            "repeated-header.csv",
            csv.replacen(",minute,", ",hour,", 1).into_bytes(),
            "repeated_column",
            "\"hour\" twice",
        ),
        (
            "wide-row.csv",
            format!("{header}\n{}\n", vec!["1"; 10_000].join(",")).into_bytes(),
            "unreadable",
            "row 1 has 10000",
        ),
        (
            "over-a-mebibyte.csv",
            changing_rows(&csv, &[0], |line| {
                line.replacen(",UA,", &format!(",{huge}Q,"), 1)
            })
            .into_bytes(),
            "value_too_large",
            "row 1, column \"carrier\", holds a value of 1048577 bytes",
        ),
        (
            "deep.jsonl",
            format!("{{\"year\": 2013}}\n{deep}").into_bytes(),
            "nesting",
            "line 2",
        ),
        (
            "broken.jsonl",
            b"{\"year\": 2013}\n{\"year\": 2013,}\n".to_vec(),
            "unreadable",
            "line 2",
        ),
    ] {
        let outcome = ingestor
            .upload_and_ingest(&flights(), name, bytes.clone())
            .await
            .expect("ingested");
        assert_eq!(outcome.status, Status::Quarantined, "{name}: {outcome:?}");
        let report = json(&backends, &outcome.report).await;
        assert_eq!(rules(&report, "failures"), [rule], "{name}");
        let message = report["failures"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains(says), "{name}: {message}");
        let copy = backends
            .store
            .get(&key(&quarantined_copy(&outcome)))
            .await
            .expect("the quarantined copy");
        assert_eq!(copy.bytes, bytes, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn careless_files_get_the_verdict_a_person_expects_locally() {
    let (backends, _dir) = local_backends();
    careless_files_get_the_verdict_a_person_expects(backends).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn careless_files_get_the_verdict_a_person_expects_on_s3_and_dynamodb() {
    careless_files_get_the_verdict_a_person_expects(aws_backends().await.backends).await;
}

async fn decompression_stops_at_the_content_limit(backends: Backends) {
    // 2 MB of rows behind a gzip of a few KB, against a 1 MB limit on content.
    let csv = january();
    let header = csv.lines().next().unwrap_or_default();
    let row = csv.lines().nth(1).unwrap_or_default();
    let mut content = format!("{header}\n");
    while content.len() < 2 << 20 {
        content.push_str(row);
        content.push('\n');
    }
    let bomb = gzip(content.as_bytes());
    assert!(bomb.len() < 1 << 20);
    let ingestor = ingestor(&backends, 1 << 20).await;
    let outcome = ingestor
        .upload_and_ingest(&flights(), "bomb.csv.gz", bomb.clone())
        .await
        .expect("ingested");
    assert_eq!(outcome.status, Status::Quarantined, "{outcome:?}");
    let report = json(&backends, &outcome.report).await;
    assert_eq!(rules(&report, "failures"), ["decompressed_too_large"]);
    let copy = backends
        .store
        .get(&key(&quarantined_copy(&outcome)))
        .await
        .expect("the quarantined copy");
    assert_eq!(copy.bytes, bomb);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decompression_stops_at_the_content_limit_locally() {
    let (backends, _dir) = local_backends();
    decompression_stops_at_the_content_limit(backends).await;
}

async fn no_upload_replaces_another_uploads_evidence(backends: Backends) {
    let ingestor = ingestor(&backends, 1 << 30).await;
    let good = january().into_bytes();
    let bad = gunzip(&flights_sample("02"))
        .replace(",UA,", ",XX,")
        .into_bytes();

    // `a/jan.csv` (good), then `b/jan.csv` (bad): the same file name.
    let accepted = ingestor
        .upload_and_ingest(&flights(), "jan.csv", good.clone())
        .await
        .expect("ingested");
    assert_eq!(accepted.status, Status::Accepted, "{accepted:?}");
    let quarantined = ingestor
        .upload_and_ingest(&flights(), "jan.csv", bad.clone())
        .await
        .expect("ingested");
    assert_eq!(quarantined.status, Status::Quarantined, "{quarantined:?}");
    assert_ne!(
        quarantined.key, accepted.key,
        "the second upload got a key of its own"
    );
    assert!(
        quarantined
            .key
            .ends_with(&format!("{}/jan.csv", &sha256(&bad)[..16])),
        "{}",
        quarantined.key
    );

    // The accepted version's manifest points at an upload that still holds its bytes.
    let manifest = json(&backends, &accepted.report).await;
    let source = manifest["source"]["key"].as_str().expect("source key");
    let raw = backends.store.get(&key(source)).await.expect("the upload");
    assert_eq!(
        manifest["source"]["sha256"].as_str(),
        Some(sha256(&raw.bytes).as_str())
    );
    assert_eq!(raw.bytes, good);

    // The same file again is the same upload: seen before, nothing new stored.
    let again = ingestor
        .upload_and_ingest(&flights(), "jan.csv", good.clone())
        .await
        .expect("ingested");
    assert_eq!(
        (again.status, &again.key),
        (Status::Duplicate, &accepted.key)
    );

    // A bad upload of the same name as an earlier bad one keeps both copies and both reports.
    let worse = crlf(&bad);
    let second = ingestor
        .upload_and_ingest(&flights(), "jan.csv", worse.clone())
        .await
        .expect("ingested");
    assert_eq!(second.status, Status::Quarantined);
    assert_ne!(second.report, quarantined.report);
    for (outcome, bytes) in [(&quarantined, &bad), (&second, &worse)] {
        let copy = backends
            .store
            .get(&key(&quarantined_copy(outcome)))
            .await
            .expect("copy");
        assert_eq!(&copy.bytes, bytes);
        assert_eq!(
            json(&backends, &outcome.report).await["verdict"],
            "quarantined"
        );
    }

    // An upload named like a report cannot reach one.
    let victim = ingestor
        .upload_and_ingest(&flights(), "victim.csv", b"year\n1\n".to_vec())
        .await
        .expect("ingested");
    let before = json(&backends, &victim.report).await;
    let attacker = ingestor
        .upload_and_ingest(
            &flights(),
            "victim.csv.report.json",
            br#"{"verdict": "accepted"}"#.to_vec(),
        )
        .await
        .expect("ingested");
    assert_ne!(attacker.report, victim.report);
    assert_eq!(json(&backends, &victim.report).await, before);
}

/// The same rows with CRLF line ends: other bytes, the same problems.
fn crlf(bytes: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(bytes)
        .replace('\n', "\r\n")
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_upload_replaces_another_uploads_evidence_locally() {
    let (backends, _dir) = local_backends();
    no_upload_replaces_another_uploads_evidence(backends).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_upload_replaces_another_uploads_evidence_on_s3_and_dynamodb() {
    no_upload_replaces_another_uploads_evidence(aws_backends().await.backends).await;
}
