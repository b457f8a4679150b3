//! `mlops demo` (the default story): the flights sample through the whole life cycle, from
//! broken uploads to a degraded champion withdrawn by itself.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::bail;
use chrono::Utc;
use mlops_http::{self as http, serving::Serving};
use mlops_shared::artifact::InputField;
use mlops_shared::features::RawColumn;
use mlops_shared::ingest::{catalog, Ingestor, Status};
use mlops_shared::monitor::{MonitorJob, MonitorOutcome};
use mlops_shared::names::{DatasetName, ModelName};
use mlops_shared::ports::Backends;
use mlops_shared::predict::{
    self, BatchFormat, Limits, ModelCache, PredictResponse, Sampling, Selector, ServingSettings,
};
use mlops_shared::spec::ColumnType;
use mlops_shared::spec::{stored, DatasetSpec};
use tower::ServiceExt;

use super::{
    check_drift, decide, gunzip, ingest, install, post_to_router, print_reports, root_of, train,
};

pub(super) const SPEC: &str = include_str!("../../../infra/datasets/flights.toml");
pub(super) const SAMPLE: [(&str, &[u8]); 4] = [
    (
        "flights-2013-01.csv.gz",
        include_bytes!("../../../infra/datasets/flights-sample/flights-2013-01.csv.gz"),
    ),
    (
        "flights-2013-02.csv.gz",
        include_bytes!("../../../infra/datasets/flights-sample/flights-2013-02.csv.gz"),
    ),
    (
        "flights-2013-03.csv.gz",
        include_bytes!("../../../infra/datasets/flights-sample/flights-2013-03.csv.gz"),
    ),
    (
        "flights-2013-07.csv.gz",
        include_bytes!("../../../infra/datasets/flights-sample/flights-2013-07.csv.gz"),
    ),
];

pub async fn run(dir: &Path, backends: &Backends) -> anyhow::Result<ExitCode> {
    let ingestor = Ingestor::new(backends.store.clone(), backends.registry.clone(), u64::MAX);
    let dataset = DatasetName::parse("flights")?;

    println!("== 1. Install the flights contract");
    install(backends, SPEC).await?;

    println!("== 2. Ingest two months of flights (3,000 sampled rows each)");
    let mut outcomes = Vec::new();
    for (name, bytes) in &SAMPLE[..2] {
        outcomes.push(ingest(&ingestor, &dataset, name, bytes.to_vec()).await?);
    }

    println!("\n== 3. The same January file uploaded again under another name: one data version");
    outcomes.push(
        ingest(
            &ingestor,
            &dataset,
            "flights-2013-01-copy.csv.gz",
            SAMPLE[0].1.to_vec(),
        )
        .await?,
    );

    println!(
        "\n== 4. Broken uploads: quarantined with a report, or accepted without their bad rows"
    );
    let january = gunzip(SAMPLE[0].1)?;
    outcomes.push(
        ingest(
            &ingestor,
            &dataset,
            "flights-2013-01-semicolons.csv",
            january.replace(',', ";").into_bytes(),
        )
        .await?,
    );
    outcomes.push(
        ingest(
            &ingestor,
            &dataset,
            "flights-2013-02-many-bad-rows.csv",
            corrupt(&gunzip(SAMPLE[1].1)?, 20),
        )
        .await?,
    );
    outcomes.push(
        ingest(
            &ingestor,
            &dataset,
            "flights-2013-03-few-bad-rows.csv",
            corrupt(&gunzip(SAMPLE[2].1)?, 1000),
        )
        .await?,
    );

    println!("\n== 5. Train: logistic regression and gradient-boosted trees, the best on validation kept");
    let trained = train(
        backends,
        dir,
        &dataset,
        "demo",
        "training on the curated sample",
    )
    .await?;

    println!(
        "\n== 6. Promote: the policy's gates decide whether version {} becomes the champion",
        trained.record.version
    );
    decide(
        backends,
        &dataset,
        trained.record.version,
        "the demo's first model",
    )
    .await?;

    println!("\n== 7. Serve: the champion answers through the API's router (as under `mlops serve` and API Gateway)");
    let served = describe_answer(backends).await?;
    println!("POST /models/flights/predict ({PREDICT_BODY_FILE}) -> {served}");

    println!("\n== 8. Summer arrives: July is ingested and checked for drift against the champion's training data");
    let july = ingest(&ingestor, &dataset, SAMPLE[3].0, SAMPLE[3].1.to_vec()).await?;
    let drift = check_drift(backends, dir, &dataset, &july).await?;
    outcomes.push(july);

    // Drift found: retrain, as the template routes DriftDetected to the train function.
    if drift.as_ref().is_some_and(|d| d.announced) {
        println!("\n== 9. DriftDetected: retrain on every accepted version, July included; the policy decides again");
        let retrained = train(backends, dir, &dataset, "drift", "retraining after drift").await?;
        decide(
            &backends,
            &dataset,
            retrained.record.version,
            "retrained after drift",
        )
        .await?;
    }

    println!("\n== 10. July's flights land: the champion scores them through the API, their lateness arrives as outcomes, and its live quality is judged");
    let fields = champion_fields(backends, &dataset).await?;
    let live = close_the_loop(backends, &ingestor, &dataset, &fields, "july-1").await?;
    crate::monitor::print_human(&live.report);
    println!("  report     {}", root_of(dir, &live.html_key));

    println!("\n== 11. A spec edit lets the departure delay in (known only after take-off) and turns auto_rollback on: the test part loves it, the policy promotes it");
    let leaky = leaky_spec(SPEC)?;
    let loaded = DatasetSpec::parse(&leaky, "toml")?;
    stored::put(backends.store.as_ref(), &loaded, &leaky, "toml").await?;
    let leaky = train(
        backends,
        dir,
        &dataset,
        "demo",
        "training with the leaky feature",
    )
    .await?;
    let promoted = decide(backends, &dataset, leaky.record.version, "a new feature").await?;
    let mut champion = promoted.champion;
    if promoted.champion == Some(leaky.record.version) {
        println!("\n== 12. Callers cannot send a delay that has not happened: July scored again without it; the monitor finds the champion degraded and it is withdrawn by itself");
        let live = close_the_loop(backends, &ingestor, &dataset, &fields, "july-2").await?;
        crate::monitor::print_human(&live.report);
        for withdrawal in crate::monitor::react(backends, &live).await? {
            println!("  rollback   {}", withdrawal.message);
            champion = withdrawal.champion;
        }
        println!("  report     {}", root_of(dir, &live.html_key));
    }

    let versions = catalog::versions(backends.registry.as_ref(), &dataset).await?;
    let count = |status| outcomes.iter().filter(|o| o.status == status).count();
    println!("\n== Summary");
    println!(
        "{} uploads: {} accepted, {} duplicate, {} quarantined; {} data versions in the registry",
        outcomes.len(),
        count(Status::Accepted),
        count(Status::Duplicate),
        count(Status::Quarantined),
        versions.len()
    );
    let root = dir.join("objects");
    println!("curated data:  {}", root.join("curated/flights").display());
    println!(
        "quarantine:    {}",
        root.join("quarantine/flights").display()
    );
    print_reports(dir, &outcomes, &trained.record.card_key, drift.as_ref());
    match champion {
        Some(version) => println!(
            "champion:      flights version {version} (mlops models flights --home {})",
            dir.display()
        ),
        None => println!("champion:      none yet"),
    }
    Ok(ExitCode::SUCCESS)
}

const PREDICT_BODY_FILE: &str = "events/predict-body.json";
const PREDICT_BODY: &str = include_str!("../../../events/predict-body.json");

/// Scores July's sample through the router with every record kept (each record with what
/// `fields` name, as callers send them; `request` names the request), reports each flight's
/// lateness as an outcome of its prediction, and runs the monitor job over the predictions.
async fn close_the_loop(
    backends: &Backends,
    ingestor: &Ingestor,
    dataset: &DatasetName,
    fields: &[InputField],
    request: &str,
) -> anyhow::Result<MonitorOutcome> {
    let model = ModelName::of_dataset(dataset);
    let started = Utc::now();
    let settings = ServingSettings {
        sampling: Sampling::new(1.0, 10_000, std::time::Duration::from_secs(60))
            .map_err(anyhow::Error::msg)?,
        ..ServingSettings::default()
    };
    let serving = Arc::new(Serving::new(
        backends.store.clone(),
        backends.registry.clone(),
        settings,
    ));
    let mut csv = String::new();
    flate2::read::GzDecoder::new(SAMPLE[3].1).read_to_string(&mut csv)?;
    let body = predict::request_body(csv.clone().into_bytes(), BatchFormat::Csv, fields)?;
    let mut post = axum::http::Request::post("/models/flights/predict")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))?;
    post.extensions_mut()
        .insert(http::RequestId(request.to_owned()));
    let response = http::local_router(serving.clone(), None)
        .oneshot(post)
        .await?;
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    serving.inference().flush().await;
    let answer: PredictResponse = serde_json::from_slice(&body)?;

    // The flights' lateness, read with the same reader as the request.
    let late = [InputField::new("late", ColumnType::Integer, true, None)];
    let truth = predict::request_body(csv.into_bytes(), BatchFormat::Csv, &late)?;
    let limits = Limits {
        max_records: usize::MAX,
        ..Limits::default()
    };
    let truth = predict::parse(&truth, &late, &limits)?;
    let RawColumn::Numeric(truth) = truth.column("late")? else {
        bail!("the sample's late column is not numeric");
    };
    let observed_at = (Utc::now() + chrono::Duration::minutes(1)).to_rfc3339();
    let mut outcomes = String::from("prediction_id,late,observed_at\n");
    for (prediction, late) in answer.predictions.iter().zip(truth) {
        if let Some(late) = late {
            outcomes.push_str(&format!(
                "{},{late},{observed_at}\n",
                prediction.prediction_id
            ));
        }
    }
    let reported = ingest(
        ingestor,
        dataset,
        &format!("outcomes/{request}.csv"),
        outcomes.into_bytes(),
    )
    .await?;
    if reported.status == Status::Quarantined {
        bail!("the outcomes were refused: {:?}", reported.reasons);
    }
    Ok(MonitorJob::new(backends)
        .run(&model, started, Utc::now() + chrono::Duration::hours(1))
        .await?)
}

/// What callers send: the champion's inputs.
async fn champion_fields(
    backends: &Backends,
    dataset: &DatasetName,
) -> anyhow::Result<Vec<InputField>> {
    let champion = ModelCache::new(
        backends.store.clone(),
        backends.registry.clone(),
        std::time::Duration::ZERO,
    )
    .get(&ModelName::of_dataset(dataset), &Selector::champion())
    .await?;
    Ok(champion.fields.clone())
}

/// A spec edit that lets the departure delay in as a feature (it is known only after the flight
/// leaves) and turns automatic rollback on: what a well-meant change that leaks looks like.
fn leaky_spec(spec: &str) -> anyhow::Result<String> {
    let leaky = spec
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
    if !leaky.contains("\"visib\", \"dep_delay\"") || !leaky.contains("auto_rollback") {
        bail!("the demo's spec no longer has the shape the leaky edit expects");
    }
    Ok(leaky)
}

/// Sends the sample request body to the router `mlops serve` runs; describes the answer in a line
/// per record.
async fn describe_answer(backends: &Backends) -> anyhow::Result<String> {
    let (status, answer) =
        post_to_router(backends, "/models/flights/predict", PREDICT_BODY).await?;
    let mut out = format!(
        "{status}, model {} version {}",
        answer.model, answer.version
    );
    for (i, p) in answer.predictions.iter().enumerate() {
        let score = p
            .score
            .map(|s| format!(" (score {s:.3})"))
            .unwrap_or_default();
        out.push_str(&format!("\n  record {i}: {}{score}", p.label));
        if let Some(first) = p.warnings.first() {
            let more = p.warnings.len() - 1;
            let more = if more > 0 {
                format!(" (+{more} more)")
            } else {
                String::new()
            };
            out.push_str(&format!("; warning: {first}{more}"));
        }
    }
    Ok(out)
}

/// Breaks every `every`-th data row: an unknown carrier and a month that does not exist.
fn corrupt(csv: &str, every: usize) -> Vec<u8> {
    let mut out = String::with_capacity(csv.len());
    for (i, line) in csv.lines().enumerate() {
        if i > 0 && i % every == 0 {
            let mut fields: Vec<&str> = line.split(',').collect();
            fields[1] = "13";
            fields[9] = "ZZ";
            out.push_str(&fields.join(","));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out.into_bytes()
}
