//! The whole life cycle as AWS runs it: the five built function binaries, each polling cargo-lambda's
//! Lambda Runtime API emulator, on moto, driven with the `events/` files. Upload months 1–3 →
//! ingest → train → the `ModelTrained` event train published → promote → predict over the API
//! route → SIGTERM to the predict function, which writes its buffered inference records → upload
//! July → ingest → drift → the `DriftDetected` event drift published → retrain. Then the loop
//! closes: a leaky version forced in (its smoke test passes) scores July over the API, the
//! flights' outcomes are uploaded and ingested, the drift function's monitor schedule finds it
//! degraded, and its `PerformanceDegraded` event has the promote function withdraw it.
//! After each step the test reads S3 and the registry, not only what the function answered.
//!
//! Needs the binaries (`cargo build --workspace --bins`) and cargo-lambda (`.venv-aws/bin`, or on
//! the PATH); infra/test.sh provides both.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mlops_shared::ingest::catalog;
use mlops_shared::model_registry;
use mlops_shared::predict::InferenceRecord;
use mlops_tests::{
    aws_backends, dataset_name, flights_sample, install_spec, key, model_name, quick_flights_spec,
    repo_file, repo_root, AwsBackends,
};

use crate::drift::july_body;
use crate::monitor::july_outcomes_csv;
use serde_json::{json, Value};

const FUNCTIONS: [&str; 5] = ["ingest", "train", "promote", "predict", "drift"];

/// The emulator and one process per function, stopped on drop; their logs go to files, printed
/// when the test fails.
pub(crate) struct Lambdas {
    /// Where cargo-lambda's emulator listens.
    pub(crate) port: u16,
    processes: Vec<Child>,
    logs: tempfile::TempDir,
    /// Where the functions find their bucket, table, bus and endpoints.
    env: Vec<(&'static str, String)>,
}

impl Lambdas {
    pub(crate) fn start(aws: &AwsBackends) -> Lambdas {
        let logs = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let moto = std::env::var("AWS_ENDPOINT_URL").expect("moto's address");
        let emulator = Command::new(cargo_lambda())
            .args(["lambda", "watch", "--only-lambda-apis", "--timeout", "300"])
            .args(["-A", "127.0.0.1", "-P", &port.to_string()])
            .current_dir(repo_root())
            .stdout(log_file(logs.path(), "emulator"))
            .stderr(log_file(logs.path(), "emulator.err"))
            .spawn()
            .expect("start cargo-lambda's emulator");
        let mut lambdas = Lambdas {
            port,
            processes: vec![emulator],
            logs,
            env: vec![
                ("BUCKET", aws.bucket.clone()),
                ("REGISTRY_TABLE", aws.table.clone()),
                ("EVENT_BUS", aws.bus.clone()),
                // Blank, as the template declares it on AWS (the SDK alone panics on a blank
                // endpoint); each service's own variable points at moto.
                ("AWS_ENDPOINT_URL", String::new()),
                ("AWS_ENDPOINT_URL_S3", moto.clone()),
                ("AWS_ENDPOINT_URL_DYNAMODB", moto.clone()),
                ("AWS_ENDPOINT_URL_EVENTBRIDGE", moto),
            ],
        };
        lambdas.wait_for_emulator();
        for function in FUNCTIONS {
            let process = lambdas.spawn(function, "");
            lambdas.processes.push(process);
        }
        lambdas
    }

    /// One function's process, polling the emulator; `run` tells its logs from earlier ones.
    fn spawn(&self, function: &str, run: &str) -> Child {
        Command::new(binary(function))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt/{function}", self.port),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("INFERENCE_SAMPLE_RATE", "1")
            .env("MODEL_CACHE_TTL_SECONDS", "0")
            .env("RUST_LOG", "info")
            .stdout(log_file(self.logs.path(), &format!("{function}{run}")))
            .stderr(log_file(self.logs.path(), &format!("{function}{run}.err")))
            .spawn()
            .unwrap_or_else(|e| panic!("start the {function} binary: {e}"))
    }

    /// A new container for a function that was stopped, as Lambda starts one for the next event.
    fn restart(&mut self, function: &str) {
        let index = 1 + FUNCTIONS
            .iter()
            .position(|f| *f == function)
            .expect("a function of the test");
        self.processes[index] = self.spawn(function, ".2");
    }

    fn wait_for_emulator(&self) {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "cargo-lambda's emulator did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Invokes a function through the emulator's Invoke API, as Lambda's invoke would; its answer.
    pub(crate) async fn invoke(&self, function: &str, event: &Value) -> Value {
        let (port, body) = (self.port, event.to_string());
        let path = format!("/2015-03-31/functions/{function}/invocations");
        let (status, answer) = tokio::task::spawn_blocking(move || post(port, &path, &body))
            .await
            .expect("invoke");
        let answer: Value = serde_json::from_str(&answer).unwrap_or_else(|e| {
            panic!("{function} answered {status} with no JSON ({e}): {answer}")
        });
        assert!(
            status == 200 && answer.get("errorType").is_none(),
            "{function} failed ({status}): {answer}"
        );
        answer
    }

    /// Stops one function's process as Lambda stops a container (SIGTERM) and waits for it to exit.
    fn terminate(&mut self, function: &str) {
        let index = 1 + FUNCTIONS
            .iter()
            .position(|f| *f == function)
            .expect("a function of the test");
        let process = &mut self.processes[index];
        let status = Command::new("kill")
            .args(["-TERM", &process.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {function}");
        let exit = process.wait().expect("wait for the process");
        assert!(
            exit.success(),
            "{function} exited cleanly after SIGTERM: {exit}"
        );
    }
}

impl Drop for Lambdas {
    fn drop(&mut self) {
        for process in &mut self.processes {
            let _ = process.kill();
            let _ = process.wait();
        }
        if std::thread::panicking() {
            for entry in std::fs::read_dir(self.logs.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                eprintln!("--- {}\n{text}", entry.file_name().to_string_lossy());
            }
        }
    }
}

fn cargo_lambda() -> PathBuf {
    let venv = repo_root().join(".venv-aws/bin/cargo-lambda");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("cargo-lambda")
    }
}

fn binary(function: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let path = target.join("debug").join(function);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace --bins` (infra/test.sh does)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn log_file(dir: &Path, name: &str) -> Stdio {
    std::fs::File::create(dir.join(format!("{name}.log")))
        .expect("log file")
        .into()
}

/// One HTTP/1.1 POST on loopback: the status and the body.
fn post(port: u16, path: &str, body: &str) -> (u16, String) {
    post_with(port, path, &[("Content-Type", "application/json")], body)
}

/// One HTTP/1.1 POST on loopback with these headers: the status and the body.
pub(crate) fn post_with(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("receive");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

pub(crate) fn event(file: &str) -> Value {
    serde_json::from_slice(&repo_file(&format!("events/{file}"))).expect("event file is JSON")
}

/// The repo's S3 put event, for an object of the test's bucket.
fn s3_put(bucket: &str, key: &str, size: usize) -> Value {
    let mut event = event("s3-put-flights.json");
    let s3 = &mut event["Records"][0]["s3"];
    s3["bucket"]["name"] = json!(bucket);
    s3["bucket"]["arn"] = json!(format!("arn:aws:s3:::{bucket}"));
    s3["object"]["key"] = json!(key);
    s3["object"]["size"] = json!(size);
    event
}

/// Uploads a month of the bundled sample under raw/ and hands its S3 event to the ingest function.
async fn upload_and_ingest(aws: &AwsBackends, lambdas: &Lambdas, month: &str) -> String {
    let raw = format!("raw/flights/flights-2013-{month}.csv.gz");
    let bytes = flights_sample(month);
    let size = bytes.len();
    aws.backends
        .store
        .put(&key(&raw), bytes)
        .await
        .expect("upload");
    let answer = lambdas
        .invoke("ingest", &s3_put(&aws.bucket, &raw, size))
        .await;
    let result = &answer["results"][0];
    assert_eq!(result["status"], "accepted", "{answer}");
    let version = result["version"]
        .as_str()
        .expect("a data version")
        .to_owned();
    let manifest = format!("curated/flights/{version}/manifest.json");
    assert!(
        aws.backends.store.get(&key(&manifest)).await.is_ok(),
        "{manifest} is in S3"
    );
    version
}

/// The one event of this type published since the last look, as EventBridge delivered it.
pub(crate) async fn published(aws: &AwsBackends, detail_type: &str) -> Value {
    let events = aws.received_events().await;
    let found: Vec<&Value> = events
        .iter()
        .filter(|e| e["detail-type"] == detail_type)
        .collect();
    assert_eq!(found.len(), 1, "one {detail_type} in {events:?}");
    found[0].clone()
}

async fn object_exists(aws: &AwsBackends, key_text: &str) -> bool {
    aws.backends.store.get(&key(key_text)).await.is_ok()
}

/// Every inference record written for the flights model, in key order.
async fn inference_records(aws: &AwsBackends) -> Vec<InferenceRecord> {
    let store = aws.backends.store.as_ref();
    let mut records = Vec::new();
    for object in store.list("inference/flights/").await.expect("lists") {
        let text = mlops_tests::gunzip(&store.get(&object.key).await.expect("reads").bytes);
        for line in text.lines().filter(|line| !line.is_empty()) {
            records.push(serde_json::from_str(line).expect("an inference record"));
        }
    }
    records
}

#[tokio::test(flavor = "multi_thread")]
async fn the_life_cycle_runs_under_the_lambda_runtime_api() {
    let aws = aws_backends().await;
    install_spec(&aws.backends, &quick_flights_spec()).await;
    let mut lambdas = Lambdas::start(&aws);
    let flights = dataset_name("flights");

    // Ingest: three months become three curated data versions in the registry.
    for month in ["01", "02", "03"] {
        upload_and_ingest(&aws, &lambdas, month).await;
    }
    let versions = catalog::versions(aws.backends.registry.as_ref(), &flights)
        .await
        .expect("lists");
    assert_eq!(versions.len(), 3);

    // Train: version 1 registered with its artifact, announced on the bus.
    let trained = lambdas
        .invoke("train", &event("train-on-demand.json"))
        .await;
    assert_eq!(
        (trained["status"].as_str(), trained["version"].as_u64()),
        (Some("registered"), Some(1))
    );
    assert!(object_exists(&aws, "models/flights/1/model.bin").await);
    assert!(object_exists(&aws, "models/flights/1/reference.json").await);
    let model_trained = published(&aws, "ModelTrained").await;
    assert_eq!(model_trained["detail"]["version"], 1);

    // Promote, from the event train published: version 1 becomes the champion.
    let decided = lambdas.invoke("promote", &model_trained).await;
    assert_eq!(decided["champion"], 1, "{decided}");
    let model = model_registry::get_model(aws.backends.registry.as_ref(), &model_name("flights"))
        .await
        .expect("reads")
        .expect("registered");
    assert_eq!(model.champion(), Some(1));

    // Predict over the API route: the champion answers both records.
    let answer = lambdas.invoke("predict", &event("api-predict.json")).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let body: Value =
        serde_json::from_str(answer["body"].as_str().expect("a body")).expect("JSON body");
    assert_eq!(body["version"], 1);
    assert_eq!(body["predictions"].as_array().map(Vec::len), Some(2));

    // Lambda stops an idle container with SIGTERM: the two sampled records, too few and too new
    // for a batch write, are written before the process exits rather than lost with it.
    assert!(
        inference_records(&aws).await.is_empty(),
        "no batch was due yet"
    );
    lambdas.terminate("predict");
    let written = inference_records(&aws).await;
    assert_eq!(written.len(), 2, "{written:?}");
    assert_eq!(written[0].version, 1);
    assert_eq!(written[1].features["dest"], "BOS");

    // A summer month arrives and is checked for drift before it is ever served.
    let july = upload_and_ingest(&aws, &lambdas, "07").await;
    let mut check = event("drift-on-demand.json");
    check["current_version"] = json!(july);
    let drift = lambdas.invoke("drift", &check).await;
    assert_eq!(drift["verdict"], "drift", "{drift}");
    let report = drift["report_key"].as_str().expect("a report key");
    assert!(object_exists(&aws, report).await, "{report} is in S3");
    let detected = published(&aws, "DriftDetected").await;
    assert_eq!(detected["detail"]["retrain"], true);

    // Retrain, from the event drift published: version 2, on all four months.
    let retrained = lambdas.invoke("train", &detected).await;
    assert_eq!(retrained["version"], 2, "{retrained}");
    assert!(object_exists(&aws, "models/flights/2/model.bin").await);
    let version =
        model_registry::get_version(aws.backends.registry.as_ref(), &model_name("flights"), 2)
            .await
            .expect("reads")
            .expect("version 2 registered");
    assert_eq!(version.trigger, "drift");
    assert_eq!(
        published(&aws, "ModelTrained").await["detail"]["version"],
        2
    );

    the_loop_closes(&aws, &mut lambdas).await;
}

/// A spec edit lets in the departure delay, which callers cannot know before take-off, and
/// turns auto_rollback on; the version trained with it is forced in, scores July without the
/// delay, and is found degraded once the flights' outcomes arrive, then withdrawn.
async fn the_loop_closes(aws: &AwsBackends, lambdas: &mut Lambdas) {
    let honest = quick_flights_spec();
    let leaky = honest
        .replacen(
            "\"pressure\", \"visib\",",
            "\"pressure\", \"visib\", \"dep_delay\",",
            1,
        )
        .replacen(
            "leakage = [\"dep_time\", \"dep_delay\",",
            "leakage = [\"dep_time\",",
            1,
        )
        .replacen(
            "[promotion]",
            "[monitoring]\nauto_rollback = true\n\n[promotion]",
            1,
        );
    assert!(leaky.contains("\"visib\", \"dep_delay\"") && leaky.contains("auto_rollback"));
    install_spec(&aws.backends, &leaky).await;
    let trained = lambdas
        .invoke("train", &event("train-on-demand.json"))
        .await;
    assert_eq!(trained["version"], 3, "{trained}");
    let forced = lambdas
        .invoke(
            "promote",
            &json!({"action": "promote", "model": "flights", "version": 3, "force": true,
                    "reason": "the delay helps", "operation_id": "force-3"}),
        )
        .await;
    assert_eq!(forced["champion"], 3, "{forced}");
    assert_eq!(forced["smoke_test"]["passed"], true, "{forced}");
    aws.received_events().await;

    // July over the API route, as callers send it: what they know before take-off.
    let flights = model_name("flights");
    let body = july_body(&aws.backends).await;
    let mut request = event("api-predict.json");
    request["body"] = json!(String::from_utf8(body).expect("UTF-8"));
    request["requestContext"]["requestId"] = json!("july-lifecycle");
    lambdas.restart("predict");
    let answer = lambdas.invoke("predict", &request).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let body: Value =
        serde_json::from_str(answer["body"].as_str().expect("a body")).expect("JSON body");
    assert_eq!(body["version"], 3);
    let predictions = body["predictions"].as_array().cloned().unwrap_or_default();
    lambdas.terminate("predict");

    // The flights' lateness arrives as an outcomes upload, ingested like any other.
    let observed_at = (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339();
    let outcomes = july_outcomes_csv(&predictions, &observed_at, false);
    let raw = "raw/flights/outcomes/july.csv";
    let size = outcomes.len();
    aws.backends
        .store
        .put(&key(raw), outcomes.into_bytes())
        .await
        .expect("upload");
    let ingested = lambdas
        .invoke("ingest", &s3_put(&aws.bucket, raw, size))
        .await;
    assert_eq!(ingested["results"][0]["status"], "accepted", "{ingested}");

    // The drift function's monitor schedule judges the champion, and announces it degraded.
    let monitored = lambdas
        .invoke("drift", &event("monitor-schedule.json"))
        .await;
    // Version 1's two earlier predictions have no outcome: too few to judge.
    assert_eq!(
        monitored["verdicts"],
        json!([[1, "insufficient_data"], [3, "degraded"]]),
        "{monitored}"
    );
    let degraded = published(aws, "PerformanceDegraded").await;
    assert_eq!(degraded["detail"]["champion"], true);

    // EventBridge hands it to the promote function: version 3 is withdrawn, version 1 serves.
    let withdrawn = lambdas.invoke("promote", &degraded).await;
    assert_eq!(
        (&withdrawn["action"], &withdrawn["champion"]),
        (&json!("withdraw"), &json!(1)),
        "{withdrawn}"
    );
    let history = model_registry::history(aws.backends.registry.as_ref(), &flights)
        .await
        .expect("reads");
    let last = history.last().expect("an entry");
    assert_eq!((last.version, last.to_version), (3, Some(1)));
    assert!(last.actor.contains("PerformanceDegraded"), "{}", last.actor);
    let gate = &last.decision.as_ref().expect("the evidence").gates[0];
    assert_eq!(gate.name, "live_quality");
    let announced: Vec<Value> = aws
        .received_events()
        .await
        .into_iter()
        .map(|e| e["detail-type"].clone())
        .collect();
    assert_eq!(
        announced,
        [json!("ModelRolledBack"), json!("RetrainRequested")]
    );
}
