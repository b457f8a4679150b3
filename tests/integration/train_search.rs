//! A wide search as AWS runs it: the train function (the built binary under cargo-lambda's
//! emulator) hands it to the state machine with a `TrainingSearchRequested` event, and moto's
//! Amazon States Language interpreter runs `infra/statemachine/train-search.asl.json` (the
//! template's definition): plan, a Map state with one invocation of the function per candidate,
//! finish. moto forwards the tasks' Lambda invocations to the emulator (infra/moto_server.py).
//! The registered version is the one `mlops train` makes in one process of the same data, and
//! the machine run again registers nothing new.

use std::time::{Duration, Instant};

use mlops_shared::model_registry;
use mlops_tests::{
    aws_backends, flights_sample, ingest, json_object, local_backends, model_name, repo_file,
    wide_search_flights_spec, AwsBackends,
};
use serde_json::{json, Value};

use crate::lifecycle::{event, post_with, published, Lambdas};

/// Step Functions' JSON API on moto (what the AWS SDK sends; moto routes it by the signing scope).
struct StepFunctions {
    port: u16,
}

impl StepFunctions {
    fn on_moto() -> StepFunctions {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("moto's address");
        let port = endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse().ok())
            .expect("moto's port");
        StepFunctions { port }
    }

    /// Has moto's Lambda Invoke answered by the functions under this emulator.
    fn route_lambda_to(&self, lambdas: &Lambdas) {
        let url = format!("http://127.0.0.1:{}", lambdas.port);
        let (status, body) = post_with(self.port, "/_mlops/lambda-emulator", &[], &url);
        assert_eq!(
            status, 204,
            "moto_server.py takes the emulator's address: {body}"
        );
    }

    fn call(&self, action: &str, request: Value) -> Value {
        let target = format!("AWSStepFunctions.{action}");
        let (status, body) = post_with(
            self.port,
            "/",
            &[
                ("X-Amz-Target", &target),
                ("Content-Type", "application/x-amz-json-1.0"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=test/20261208/us-east-1/states/aws4_request, SignedHeaders=host, Signature=0",
                ),
            ],
            &request.to_string(),
        );
        assert_eq!(status, 200, "{action}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{action} answered {body}: {e}"))
    }

    /// The template's state machine, its train function being the emulator's.
    fn create(&self, name: &str) -> String {
        let definition = String::from_utf8(repo_file("infra/statemachine/train-search.asl.json"))
            .expect("UTF-8")
            .replace(
                "${TrainFunctionArn}",
                "arn:aws:lambda:us-east-1:123456789012:function:train",
            );
        let created = self.call(
            "CreateStateMachine",
            json!({
                "name": name,
                "definition": definition,
                "roleArn": "arn:aws:iam::123456789012:role/train-search",
            }),
        );
        created["stateMachineArn"]
            .as_str()
            .expect("an ARN")
            .to_owned()
    }

    /// Runs one execution to its end: its description (status, output or error) and the names
    /// of the task states it entered, in order.
    async fn run(&self, machine: &str, input: &Value) -> (Value, Vec<String>) {
        let started = self.call(
            "StartExecution",
            json!({
                "stateMachineArn": machine,
                "name": mlops_tests::unique_name("execution"),
                "input": input.to_string(),
            }),
        );
        let execution = started["executionArn"].as_str().expect("an ARN").to_owned();
        let begun = Instant::now();
        let described = loop {
            let described = self.call(
                "DescribeExecution",
                json!({"executionArn": execution.as_str()}),
            );
            if described["status"] != "RUNNING" {
                break described;
            }
            assert!(
                begun.elapsed() < Duration::from_secs(600),
                "the execution still runs after 10 minutes"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let history = self.call(
            "GetExecutionHistory",
            json!({"executionArn": execution.as_str(), "maxResults": 1000}),
        );
        let entered = history["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["type"] == "TaskStateEntered")
            .map(|e| {
                e["stateEnteredEventDetails"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        (described, entered)
    }

    /// Runs one execution that must succeed: its output and the task states it entered.
    async fn succeed(&self, machine: &str, input: &Value) -> (Value, Vec<String>) {
        let (described, entered) = self.run(machine, input).await;
        assert_eq!(
            described["status"], "SUCCEEDED",
            "{described} after {entered:?}"
        );
        let output = described["output"]
            .as_str()
            .map(|o| serde_json::from_str(o).expect("JSON output"))
            .unwrap_or(Value::Null);
        (output, entered)
    }
}

async fn registered_versions(aws: &AwsBackends) -> Vec<u64> {
    model_registry::versions(aws.backends.registry.as_ref(), &model_name("flights"))
        .await
        .expect("lists")
        .iter()
        .map(|v| v.version)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wide_search_runs_as_the_state_machine_and_registers_what_one_process_would() {
    let spec = wide_search_flights_spec(4);
    let months = || {
        ["01", "02"]
            .map(|m| (format!("flights-2013-{m}.csv.gz"), flights_sample(m)))
            .to_vec()
    };
    let aws = aws_backends().await;
    ingest(&aws.backends, &spec, months()).await;
    let lambdas = Lambdas::start(&aws);
    let sfn = StepFunctions::on_moto();
    sfn.route_lambda_to(&lambdas);
    let machine = sfn.create(&mlops_tests::unique_name("train-search"));

    // The function hands the six-candidate search to the state machine.
    let answer = lambdas.invoke("train", &event("train-schedule.json")).await;
    assert_eq!(
        (answer["status"].as_str(), answer["candidates"].as_u64()),
        (Some("search_requested"), Some(6)),
        "{answer}"
    );
    let requested = published(&aws, "TrainingSearchRequested").await;
    assert!(
        registered_versions(&aws).await.is_empty(),
        "the function trained nothing itself"
    );

    // The rule starts the machine with the event's detail (InputPath $.detail).
    let (output, entered) = sfn.succeed(&machine, &requested["detail"]).await;
    assert_eq!(
        (output["status"].as_str(), output["version"].as_u64()),
        (Some("registered"), Some(1)),
        "{output}"
    );
    let fits = entered.iter().filter(|s| *s == "Fit").count();
    assert_eq!(
        (
            entered.first().map(String::as_str),
            fits,
            entered.last().map(String::as_str)
        ),
        (Some("Plan"), 6, Some("Finish")),
        "{entered:?}"
    );
    assert_eq!(registered_versions(&aws).await, [1]);
    let model_trained = published(&aws, "ModelTrained").await;
    assert_eq!(model_trained["detail"]["version"], 1);
    let kept = aws.backends.store.list("searches/").await.expect("lists");
    assert!(
        kept.is_empty(),
        "the finished search removed its candidates: {kept:?}"
    );

    // One process on the embedded default, the same data and spec: the same search and model.
    let (local, _dir) = local_backends();
    ingest(&local, &spec, months()).await;
    let in_process = mlops_tests::train(&local, "flights").await.expect("trains");
    let fanned: Value = json_object(&aws.backends, "models/flights/1/metrics.json").await;
    let one: Value = json_object(&local, "models/flights/1/metrics.json").await;
    let scores = |metrics: &Value| -> Vec<(String, Value)> {
        metrics["candidates"]
            .as_array()
            .expect("candidates")
            .iter()
            .map(|c| {
                (
                    c["description"].as_str().unwrap_or("").to_owned(),
                    c["validation_score"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(scores(&fanned), scores(&one));
    assert_eq!(scores(&fanned).len(), 6);
    for part in ["chosen", "test", "validation", "threshold", "slices"] {
        assert_eq!(fanned[part], one[part], "{part}");
    }
    assert_eq!(output["metrics"], json!(in_process.record.metrics));

    // The machine run again with the same input plans, finds version 1, and stops there.
    let (again, entered) = sfn.succeed(&machine, &requested["detail"]).await;
    assert_eq!(
        (again["status"].as_str(), again["version"].as_u64()),
        (Some("already_trained"), Some(1)),
        "{again}"
    );
    assert_eq!(entered, ["Plan"]);
    assert_eq!(registered_versions(&aws).await, [1]);

    // A step that fails for good fails the execution with the function's error, not retried.
    let (failed, entered) = sfn
        .run(
            &machine,
            &json!({"dataset": "unknown", "trigger": "schedule"}),
        )
        .await;
    assert_eq!(
        (failed["status"].as_str(), failed["error"].as_str()),
        (Some("FAILED"), Some("Failed")),
        "{failed}"
    );
    assert!(
        failed["cause"]
            .as_str()
            .unwrap_or("")
            .contains("training unknown failed"),
        "{failed}"
    );
    assert_eq!(entered, ["Plan"]);
}
