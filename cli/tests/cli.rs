//! The `mlops` binary as a user runs it: exit codes, messages and output formats.

use std::path::Path;
use std::process::{Command, Output};

fn mlops(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlops"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("MLOPS_BUCKET")
        .env_remove("MLOPS_TABLE")
        .output()
        .expect("run mlops")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A refusal: exit status 2 and a message that says what is wrong.
fn assert_refused(home: &Path, args: &[&str], expected: &str) {
    let out = mlops(home, args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert!(
        text(&out.stderr).contains(expected),
        "{args:?}: {}",
        text(&out.stderr)
    );
}

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../infra/datasets/flights.toml"
);
const JANUARY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../infra/datasets/flights-sample/flights-2013-01.csv.gz"
);

#[test]
fn spec_check_accepts_the_bundled_spec() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = mlops(home.path(), &["spec", "check", SPEC]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("ok, dataset flights v1 (29 columns"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn spec_check_explains_every_problem_and_fails() {
    let home = tempfile::tempdir().expect("temp dir");
    let bad = home.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[dataset]\nname = \"t\"\nversion = 1\n[[columns]]\nname = \"a\"\ntype = \"string\"\nmin = 1\n[features]\ncolumns = [\"b\"]\n",
    )
    .expect("write");
    let out = mlops(
        home.path(),
        &["spec", "check", bad.to_str().expect("utf-8 path")],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
    assert!(
        stderr.contains("columns[0] (a).min: min/max apply to integer and float columns"),
        "{stderr}"
    );
    assert!(
        stderr.contains("features.columns: unknown column \"b\""),
        "{stderr}"
    );

    std::fs::write(&bad, "[dataset\nname = ").expect("write");
    let out = mlops(
        home.path(),
        &["spec", "check", bad.to_str().expect("utf-8 path")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not valid TOML"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn ingest_prints_json_per_file_and_fails_when_any_is_quarantined() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = mlops(home.path(), &["spec", "put", SPEC]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("installed"),
        "{}",
        text(&out.stdout)
    );

    let broken = home.path().join("semicolons.csv");
    std::fs::write(&broken, "year;month\n2013;1\n").expect("write");
    let out = mlops(
        home.path(),
        &[
            "ingest",
            "--dataset",
            "flights",
            "--json",
            JANUARY,
            broken.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a quarantined file fails the command"
    );
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["file"], "flights-2013-01.csv.gz");
    assert_eq!(lines[0]["status"], "accepted");
    assert_eq!(lines[0]["rows"], 3000);
    assert!(lines[0]["version"].is_string());
    let manifest = home
        .path()
        .join("objects")
        .join(lines[0]["report"].as_str().expect("report key"));
    assert!(manifest.exists(), "the manifest is where the output says");
    assert_eq!(lines[1]["status"], "quarantined");
    assert!(lines[1]["version"].is_null());
    assert!(home
        .path()
        .join("objects")
        .join(lines[1]["report"].as_str().expect("report key"))
        .exists());

    let again = mlops(
        home.path(),
        &["ingest", "--dataset", "flights", "--json", JANUARY],
    );
    assert!(again.status.success());
    assert!(
        text(&again.stdout).contains(r#""status":"duplicate""#),
        "{}",
        text(&again.stdout)
    );
}

#[test]
fn bad_arguments_say_what_to_fix() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = mlops(home.path(), &["ingest", "--dataset", "Flights", JANUARY]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("dataset name \"Flights\" is invalid"),
        "{}",
        text(&out.stderr)
    );
    let out = mlops(
        home.path(),
        &["ingest", "--dataset", "flights", "/no/such/file.csv"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("reading /no/such/file.csv"),
        "{}",
        text(&out.stderr)
    );
    let folder = home.path().display().to_string();
    let out = mlops(home.path(), &["ingest", "--dataset", "flights", &folder]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(&format!("{folder} is not a file")),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn demo_runs_twice_from_a_clean_folder() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("demo");
    for _ in 0..2 {
        let out = mlops(
            home.path(),
            &["demo", "--dir", dir.to_str().expect("utf-8")],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains("7 uploads: 4 accepted, 1 duplicate, 2 quarantined; 4 data versions"),
            "{stdout}"
        );
        // The champion answers through the router, drift is found in July, and a retrained
        // version goes before the policy.
        assert!(
            stdout.contains("-> 200 OK, model flights version 1"),
            "{stdout}"
        );
        assert!(stdout.contains("announced  DriftDetected"), "{stdout}");
        assert!(
            stdout.contains("registered flights version 2 as a candidate"),
            "{stdout}"
        );
        assert!(dir.join("objects/models/flights/2/model.bin").exists());
    }
    let foreign = home.path().join("mine");
    std::fs::create_dir_all(&foreign).expect("mkdir");
    std::fs::write(foreign.join("notes.txt"), "keep me").expect("write");
    let out = mlops(
        home.path(),
        &["demo", "--dir", foreign.to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        foreign.join("notes.txt").exists(),
        "the demo never wipes a folder it did not make"
    );
}

#[test]
fn the_scale_demo_generates_ingests_and_trains_the_rows_asked_for() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("demo");
    let out = mlops(
        home.path(),
        &[
            "demo",
            "--dataset",
            "scale",
            "--rows",
            "40000",
            "--dir",
            dir.to_str().expect("utf-8"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // The four months keep their shares of the sample (3,000 rows each).
    for month in ["01", "02", "03", "07"] {
        let line = format!("flights-2013-{month}.csv: 10000 rows accepted");
        assert!(stdout.contains(&line), "{line}: {stdout}");
    }
    assert!(
        stdout.contains("registered flights version 1 as a candidate"),
        "{stdout}"
    );
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("40000 rows: ingested in"))
        .unwrap_or_else(|| panic!("no summary: {stdout}"));
    assert!(summary.contains("ROC AUC 0."), "{summary}");
    assert!(stdout.contains("the process's peak memory: "), "{stdout}");
}

#[test]
fn the_reviews_demo_learns_from_text_and_says_which_words_decided() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join("demo");
    let out = mlops(
        home.path(),
        &[
            "demo",
            "--dataset",
            "reviews",
            "--dir",
            dir.to_str().expect("utf-8"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("3 uploads: 2 accepted, 1 quarantined"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"score\" outside the allowed values [great, other]: 98 row(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("version 1 is the first champion"),
        "{stdout}"
    );
    // The hand-written reviews land on their sides, each with the words that pushed it there.
    let answers: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("  review 0:") || line.starts_with("  review 1:"))
        .collect();
    assert_eq!(answers.len(), 2, "{stdout}");
    assert!(answers[0].contains(": great (score"), "{stdout}");
    assert!(answers[1].contains(": other (score"), "{stdout}");
    assert!(
        stdout.contains("log-odds towards great: not -"),
        "the second review's weightiest word: {stdout}"
    );
    // Later reviews of the same kind do not drift, in their words or in the model's scores.
    assert!(stdout.contains("drift report:"), "{stdout}");
    assert!(stdout.contains("(no drift)"), "{stdout}");
    assert!(dir.join("objects/models/reviews/1/card.html").exists());

    // The champion's signature: its one text field, its classes and an example to send.
    let out = mlops(dir.as_path(), &["models", "reviews", "--schema"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("reviews version 1: predicts score"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with("review ") && line.contains("text")),
        "{stdout}"
    );
    assert!(
        stdout.contains("classes: other, great (the second from a probability of"),
        "{stdout}"
    );
    assert!(stdout.contains("example: {\"review\": \""), "{stdout}");
}

#[test]
fn train_json_reports_the_model_its_metrics_and_artifact_then_a_no_op() {
    let home = tempfile::tempdir().expect("temp dir");
    let sample = |month: &str| {
        format!(
            "{}/../infra/datasets/flights-sample/flights-2013-{month}.csv.gz",
            env!("CARGO_MANIFEST_DIR")
        )
    };
    assert!(mlops(home.path(), &["spec", "put", SPEC]).status.success());
    let files: Vec<String> = ["01", "02", "03", "07"].iter().map(|m| sample(m)).collect();
    let mut args = vec!["ingest", "--dataset", "flights"];
    args.extend(files.iter().map(String::as_str));
    assert!(mlops(home.path(), &args).status.success());

    let out = mlops(home.path(), &["train", "--dataset", "flights", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        out.stderr.is_empty(),
        "no progress bars under --json: {}",
        text(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["model"], "flights");
    assert_eq!(report["version"], 1);
    assert_eq!(report["status"], "registered");
    assert!(report["metrics"]["roc_auc"]
        .as_f64()
        .is_some_and(|auc| auc > 0.6));
    assert!(report["metrics"]["f1"].as_f64().is_some());
    let artifact = report["artifact"].as_str().expect("artifact path");
    assert!(Path::new(artifact).is_file(), "{artifact}");

    let again = mlops(home.path(), &["train", "--dataset", "flights", "--json"]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(
        (again["status"].as_str(), again["version"].as_u64()),
        (Some("already_trained"), Some(1))
    );
}

#[test]
fn train_without_data_says_what_to_do() {
    let home = tempfile::tempdir().expect("temp dir");
    assert!(mlops(home.path(), &["spec", "put", SPEC]).status.success());
    let out = mlops(home.path(), &["train", "--dataset", "flights"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("no curated data for flights: ingest a file under raw/flights/ first"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn registry_commands_list_promote_annotate_and_explain_refusals() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = demo_home(tmp.path());

    let listed = text(&mlops(&home, &["models"]).stdout);
    assert!(
        listed.contains("flights") && listed.contains("champion=1"),
        "{listed}"
    );
    let out = mlops(&home, &["models", "flights", "--json"]);
    let model: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(model["versions"][0]["status"], "champion");
    assert_eq!(model["aliases"]["champion"], 1);

    // Refusals: exit status 2 and a message that says what is wrong.
    for (args, expected) in [
        (
            vec!["promote", "--model", "flights"],
            "no candidate version to promote",
        ),
        (
            vec!["rollback", "--model", "flights"],
            "no previous champion",
        ),
        (vec!["history", "--model", "nosuch"], "not in the registry"),
        (
            vec!["reject", "--model", "flights", "--version", "1"],
            "only a candidate can be rejected",
        ),
        (
            vec![
                "annotate",
                "--model",
                "flights",
                "--version",
                "1",
                "--tag",
                "team",
            ],
            "is not key=value",
        ),
        (
            vec![
                "alias",
                "--model",
                "flights",
                "--name",
                "Best!",
                "--version",
                "1",
            ],
            "alias name \"Best!\" is invalid",
        ),
    ] {
        assert_refused(&home, &args, expected);
    }
    let same = mlops(&home, &["promote", "--model", "flights", "--version", "1"]);
    assert!(same.status.success());
    assert!(text(&same.stdout).contains("already the champion"));

    let out = mlops(
        &home,
        &[
            "annotate",
            "--model",
            "flights",
            "--version",
            "1",
            "--description",
            "the first",
            "--tag",
            "team=ops",
            "--json",
        ],
    );
    let annotated: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        (
            annotated["tags"]["team"].as_str(),
            annotated["description"].as_str()
        ),
        (Some("ops"), Some("the first"))
    );
    assert!(mlops(
        &home,
        &[
            "alias",
            "--model",
            "flights",
            "--name",
            "challenger",
            "--version",
            "1"
        ]
    )
    .status
    .success());
    let versions = text(&mlops(&home, &["models", "flights"]).stdout);
    assert!(
        versions.contains("[challenger, champion]") && versions.contains("tags: team=ops"),
        "{versions}"
    );

    let out = mlops(&home, &["history", "--model", "flights", "--json"]);
    let history: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let actions: Vec<&str> = history
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    // The demo's first champion, its retrained version refused by the policy, the leaky version
    // promoted and then withdrawn for its live quality, then the alias here.
    assert_eq!(
        actions,
        ["promote", "refuse", "promote", "withdraw", "set_alias"]
    );
}

/// A fresh demo home: the bundled sample ingested, trained and promoted, so flights has a champion.
fn demo_home(tmp: &Path) -> std::path::PathBuf {
    let home = tmp.join("demo");
    let demo = mlops(tmp, &["demo", "--dir", home.to_str().expect("utf-8")]);
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    assert!(text(&demo.stdout).contains("version 1 is the first champion"));
    home
}

const PREDICT_BODY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/predict-body.json");

#[test]
fn predict_scores_a_request_body_json_lines_and_csv_alike() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = demo_home(tmp.path());
    let body: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(PREDICT_BODY).expect("read")).expect("JSON");
    let records = body["records"].as_array().expect("records");

    let lines = tmp.path().join("records.jsonl");
    let jsonl: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    std::fs::write(&lines, jsonl.join("\n")).expect("write");
    let csv = tmp.path().join("records.csv");
    let columns: Vec<&String> = records[0].as_object().expect("object").keys().collect();
    let mut table = columns
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",");
    for record in records {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match &record[c.as_str()] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        table.push('\n');
        table.push_str(&cells.join(","));
    }
    std::fs::write(&csv, table).expect("write");

    // Each file's predictions are named after it; the rest of the answer is the same.
    let score = |file: &Path| -> serde_json::Value {
        let out = mlops(
            &home,
            &[
                "predict",
                "--model",
                "flights",
                "--json",
                file.to_str().expect("utf-8"),
            ],
        );
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            text(&out.stderr)
        );
        let mut response: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("one JSON response");
        let stem = file.file_stem().and_then(|s| s.to_str()).expect("a name");
        for (i, p) in response["predictions"]
            .as_array_mut()
            .expect("predictions")
            .iter_mut()
            .enumerate()
        {
            let id = p.as_object_mut().and_then(|p| p.remove("prediction_id"));
            assert_eq!(id, Some(format!("{stem}-{i}").into()), "{}", file.display());
        }
        response
    };
    let from_body = score(Path::new(PREDICT_BODY));
    assert_eq!(
        (from_body["model"].as_str(), from_body["version"].as_u64()),
        (Some("flights"), Some(1))
    );
    let predictions = from_body["predictions"].as_array().expect("predictions");
    assert_eq!(predictions.len(), 2);
    assert!(predictions.iter().all(|p| p["score"]
        .as_f64()
        .is_some_and(|s| (0.0..=1.0).contains(&s))));
    assert_eq!(
        score(&lines),
        from_body,
        "JSON Lines scores as the request body does"
    );
    assert_eq!(
        score(&csv),
        from_body,
        "CSV scores as the request body does"
    );

    let table = mlops(
        &home,
        &[
            "predict",
            "--model",
            "flights",
            csv.to_str().expect("utf-8"),
        ],
    );
    let shown = text(&table.stdout);
    assert!(shown.starts_with("flights version 1\n"), "{shown}");
    assert_eq!(shown.lines().count(), 2 + records.len(), "{shown}");
}

#[test]
fn predict_lists_every_bad_cell_and_names_what_to_fix() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = demo_home(tmp.path());
    let csv = tmp.path().join("bad.csv");
    std::fs::write(
        &csv,
        "month,sched_dep_time,carrier,origin,temp\nseven,1530,UA,EWR,84.2\n7,1530,UA,EWR,warm\n",
    )
    .expect("write");
    let out = mlops(
        &home,
        &[
            "predict",
            "--model",
            "flights",
            csv.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("record 0") && stderr.contains("month"),
        "{stderr}"
    );
    assert!(
        stderr.contains("record 1") && stderr.contains("temp"),
        "{stderr}"
    );

    for (args, expected) in [
        (
            vec!["predict", "--model", "flights", "data.parquet"],
            "name a .json",
        ),
        (
            vec!["predict", "--model", "nosuch", PREDICT_BODY],
            "not in the registry",
        ),
        (
            vec![
                "predict",
                "--model",
                "flights",
                "--version",
                "9",
                PREDICT_BODY,
            ],
            "version 9",
        ),
    ] {
        assert_refused(&home, &args, expected);
    }
}

/// One HTTP/1.1 exchange on a fresh connection; the whole response as text.
fn http(addr: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("receive");
    response
}

#[test]
fn serve_answers_the_api_on_a_socket_and_stops_on_ctrl_c() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = demo_home(tmp.path());
    // The demo served a request of its own.
    let before = inference_records(&home);
    let mut server = Command::new(env!("CARGO_BIN_EXE_mlops"))
        .arg("--home")
        .arg(&home)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("INFERENCE_SAMPLE_RATE", "1")
        .env_remove("MLOPS_BUCKET")
        .env_remove("MLOPS_TABLE")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start mlops serve");
    let mut stdout = BufReader::new(server.stdout.take().expect("stdout"));
    let mut banner = String::new();
    stdout.read_line(&mut banner).expect("banner");
    let addr = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the banner names the address")
        .to_owned();

    let body = std::fs::read_to_string(PREDICT_BODY).expect("read");
    let answer = http(
        &addr,
        &format!(
            "POST /models/flights/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_lowercase().contains("x-model-version: 1"),
        "{answer}"
    );
    let missing = http(
        &addr,
        "GET /models/nosuch HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        missing.starts_with("HTTP/1.1 404") && missing.contains("\"unknown_model\""),
        "{missing}"
    );

    let stopped = Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(stopped.success());
    let status = server.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    for line in stdout.lines() {
        rest.push_str(&line.expect("line"));
        rest.push('\n');
    }
    assert!(
        rest.contains("inference records written: 2 (failed: 0)"),
        "{rest}"
    );
    assert_eq!(inference_records(&home), before + 2);
}

/// `mlops serve` with `args` on a free port of `home`; the server and its address.
fn start_serve(home: &Path, args: &[&str]) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut server = Command::new(env!("CARGO_BIN_EXE_mlops"))
        .arg("--home")
        .arg(home)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .env_remove("MLOPS_BUCKET")
        .env_remove("MLOPS_TABLE")
        .env_remove("MLOPS_ADMIN_TOKEN")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start mlops serve");
    let mut stdout = BufReader::new(server.stdout.take().expect("stdout"));
    let mut banner = String::new();
    stdout.read_line(&mut banner).expect("banner");
    // The rest is read as it comes, so the server never writes to a closed pipe.
    std::thread::spawn(move || stdout.lines().for_each(drop));
    let addr = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the banner names the address")
        .to_owned();
    (server, addr)
}

/// A POST of a promotion to `addr` with the given extra header lines; the response's status line.
fn promote_status(addr: &str, headers: &str) -> String {
    let body = r#"{"version": 1}"#;
    let answer = http(
        addr,
        &format!(
            "POST /models/flights/promote HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn serve_keeps_the_admin_routes_off_unless_asked_and_behind_json_and_a_token() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = demo_home(tmp.path());
    let json = "Content-Type: application/json\r\n";

    let (mut server, addr) = start_serve(&home, &[]);
    assert!(promote_status(&addr, json).starts_with("HTTP/1.1 404"));
    server.kill().expect("stop");
    server.wait().expect("wait");

    let (mut server, addr) = start_serve(&home, &["--admin"]);
    // What a web page's form or fetch without a preflight can send.
    for simple in [
        "",
        "Content-Type: text/plain\r\n",
        "Content-Type: application/x-www-form-urlencoded\r\n",
    ] {
        assert!(
            promote_status(&addr, simple).starts_with("HTTP/1.1 415"),
            "{simple:?}"
        );
    }
    assert!(promote_status(&addr, json).starts_with("HTTP/1.1 200"));
    server.kill().expect("stop");
    server.wait().expect("wait");

    let (mut server, addr) = start_serve(&home, &["--admin-token", "s3cret"]);
    assert!(promote_status(&addr, json).starts_with("HTTP/1.1 401"));
    let wrong = format!("{json}Authorization: Bearer s3cre\r\n");
    assert!(promote_status(&addr, &wrong).starts_with("HTTP/1.1 401"));
    let right = format!("{json}Authorization: Bearer s3cret\r\n");
    assert!(promote_status(&addr, &right).starts_with("HTTP/1.1 200"));
    server.kill().expect("stop");
    server.wait().expect("wait");
}

/// The inference records in a home, counted line by line across its day folders.
fn inference_records(home: &Path) -> usize {
    let Ok(days) = std::fs::read_dir(home.join("objects/inference/flights")) else {
        return 0;
    };
    let mut written = 0;
    for day in days {
        let day = day.expect("entry").path();
        assert!(day
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("dt=")));
        for batch in std::fs::read_dir(&day).expect("day folder") {
            let compressed = std::fs::read(batch.expect("entry").path()).expect("read");
            let mut batch = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::GzDecoder::new(&compressed[..]),
                &mut batch,
            )
            .expect("gzip JSON Lines");
            written += batch.lines().count();
        }
    }
    written
}

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../infra/datasets/flights-sample"
);

#[test]
fn drift_compares_a_file_with_the_champions_training_data() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = demo_home(tmp.path());
    let check = |month: &str| -> serde_json::Value {
        let file = format!("{SAMPLE}/flights-2013-{month}.csv.gz");
        let out = mlops(
            &home,
            &[
                "drift",
                "--model",
                "flights",
                "--current-file",
                &file,
                "--json",
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("one JSON object")
    };
    let february = check("02");
    assert_eq!(
        (february["dataset_drift"].clone(), february["rows"].clone()),
        (serde_json::json!(false), serde_json::json!(3000)),
        "{february}"
    );
    let july = check("07");
    assert_eq!(july["dataset_drift"], true, "{july}");
    assert!(july["share_drifted"].as_f64().expect("share") >= 0.5);
    let features = july["features"].as_array().expect("features");
    let temp = features.iter().find(|f| f["name"] == "temp").expect("temp");
    assert_eq!(
        (temp["test"].clone(), temp["drifted"].clone()),
        ("wasserstein".into(), true.into())
    );
    assert!(temp["score"].as_f64().expect("score") > 0.1);
    for report in ["report", "html"] {
        let path = july[report].as_str().expect("a path");
        assert!(Path::new(path).is_file(), "{path}");
    }
    assert_ne!(july["html"], february["html"]);

    // Against a baseline file instead of the training data: a file against itself moves nothing.
    let july_file = format!("{SAMPLE}/flights-2013-07.csv.gz");
    let out = mlops(
        &home,
        &[
            "drift",
            "--model",
            "flights",
            "--reference-file",
            &july_file,
            "--current-file",
            &july_file,
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let same: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        (
            same["dataset_drift"].clone(),
            same["drifted_features"].clone()
        ),
        (serde_json::json!(false), serde_json::json!(0)),
        "{same}"
    );

    // A file that is not there, a model that is not there, two current sides at once.
    assert_refused(
        &home,
        &[
            "drift",
            "--model",
            "flights",
            "--current-file",
            "missing.csv",
        ],
        "cannot read the current file missing.csv",
    );
    assert_refused(
        &home,
        &["drift", "--model", "boats", "--current-version", "ab"],
        "model boats is not in the registry",
    );
    let both = mlops(
        &home,
        &[
            "drift",
            "--model",
            "flights",
            "--hours",
            "3",
            "--current-version",
            "ab",
        ],
    );
    assert!(!both.status.success() && text(&both.stderr).contains("cannot be used with"));
}

/// Piped into a reader that stops early (`| head`), a command ends quietly instead of panicking
/// on its next write.
#[test]
fn a_closed_output_pipe_ends_the_command_without_a_panic() {
    let home = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlops"))
        .arg("--home")
        .arg(home.path())
        .args(["spec", "check", SPEC])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run mlops");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("waits");
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101), "{stderr}");
}
