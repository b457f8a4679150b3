//! `mlops demo`: the first thing a new user runs. It needs nothing but this binary: the samples
//! and their specs are built in, and everything is written to a fresh local folder. Each story
//! is its own module; what they share (installing a spec, an upload, a promotion decision, a
//! request through the API's router) is here.

mod flights;
mod reviews;
mod scale;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::Utc;
use clap::{Args, ValueEnum};
use mlops_http::{self as http, serving::Serving};
use mlops_shared::drift::{Current, DriftJob, DriftOutcome, DriftRequest, Reference};
use mlops_shared::ingest::{IngestOutcome, Ingestor, Status};
use mlops_shared::names::{DatasetName, ModelName, ObjectKey};
use mlops_shared::ports::Backends;
use mlops_shared::predict::{PredictResponse, ServingSettings};
use mlops_shared::promotion::{self, Command, Promoter, Request};
use mlops_shared::spec::{stored, DatasetSpec};
use mlops_shared::train::{TrainOutcome, Trainer};
use tower::ServiceExt;

use crate::ingest::print_outcome;
use crate::registry::print_gates;
use crate::train::{print_human, Bars};

/// Marks a folder as the demo's own, so a rerun may wipe it and nothing else.
const MARKER: &str = ".mlops-demo";

#[derive(Args)]
pub struct DemoArgs {
    /// Folder for the demo's objects and registry; wiped and recreated on every run.
    #[arg(long, default_value = ".mlops-demo")]
    dir: PathBuf,
    /// Which story to run.
    #[arg(long, value_enum, default_value_t = Story::Flights)]
    dataset: Story,
    /// With `--dataset scale`: how many rows to generate (at least 1,000, so that every class
    /// reaches every part of the split).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1000..))]
    rows: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum Story {
    /// NYC flights: numbers and categories through the whole life cycle, broken uploads to a
    /// degraded champion withdrawn by itself.
    Flights,
    /// Amazon fine-food reviews: free text to a five-star verdict, with the words behind it.
    Reviews,
    /// A large training set generated from the flights sample (`--rows`, default a million):
    /// ingested and trained, with each step's time and the peak memory.
    Scale,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    fresh_folder(&args.dir)?;
    let backends = mlops_local::backends(&args.dir)?;
    match args.dataset {
        Story::Flights => flights::run(&args.dir, &backends).await,
        Story::Reviews => reviews::run(&args.dir, &backends).await,
        Story::Scale => scale::run(&args.dir, &backends, usize::try_from(args.rows)?).await,
    }
}

/// Installs a built-in spec, as `mlops spec put` does.
async fn install(backends: &Backends, spec: &str) -> anyhow::Result<()> {
    let loaded = DatasetSpec::parse(spec, "toml").context("the built-in spec")?;
    let key = stored::put(backends.store.as_ref(), &loaded, spec, "toml").await?;
    println!(
        "installed {key} ({} columns, {} rules)\n",
        loaded.spec.columns.len(),
        loaded.spec.table.rules.len()
    );
    Ok(())
}

/// Trains on every accepted version, as the train function does for `trigger`, and prints
/// what was registered; `what` says what the training was, should it fail.
async fn train(
    backends: &Backends,
    dir: &Path,
    dataset: &DatasetName,
    trigger: &str,
    what: &str,
) -> anyhow::Result<TrainOutcome> {
    let trained = Trainer::new(backends)
        .train(dataset, trigger, &Bars::new(true))
        .await
        .context(what.to_owned())?;
    print_human(&trained, |key| root_of(dir, key));
    Ok(trained)
}

/// Lets the promotion policy decide on a trained version, as the `ModelTrained` rule does in AWS,
/// and prints the decision with its gates.
async fn decide(
    backends: &Backends,
    dataset: &DatasetName,
    version: u64,
    note: &str,
) -> anyhow::Result<promotion::Outcome> {
    let request = Request::new(&format!("demo-{version}"), "demo", Some(note.into()))?;
    let command = Command::Decide {
        model: ModelName::of_dataset(dataset),
        version,
    };
    let decided = Promoter::new(backends)
        .execute(&command, &request)
        .await
        .with_context(|| format!("deciding on version {version}"))?;
    println!("{}", decided.message);
    if let Some(decision) = &decided.decision {
        print_gates(decision);
    }
    Ok(decided)
}

/// Sends a request body to the router `mlops serve` runs (`path` with its query); the sampled
/// inference records are written before it returns. Anything but a success is an error.
async fn post_to_router(
    backends: &Backends,
    path: &str,
    body: &str,
) -> anyhow::Result<(axum::http::StatusCode, PredictResponse)> {
    let serving = Arc::new(Serving::new(
        backends.store.clone(),
        backends.registry.clone(),
        ServingSettings::default(),
    ));
    let router = http::local_router(serving.clone(), None);
    let request = axum::http::Request::post(path)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_owned()))?;
    let response = router.oneshot(request).await?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    serving.inference().flush().await;
    if !status.is_success() {
        bail!(
            "the API answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok((status, serde_json::from_slice(&body)?))
}

/// Checks the data version an upload made for drift against the champion's training data, as
/// the drift function does on demand, and prints the verdict; nothing when no version was made.
async fn check_drift(
    backends: &Backends,
    dir: &Path,
    dataset: &DatasetName,
    upload: &IngestOutcome,
) -> anyhow::Result<Option<DriftOutcome>> {
    let Some(version) = &upload.version else {
        return Ok(None);
    };
    let request = DriftRequest {
        model: ModelName::of_dataset(dataset),
        version: None,
        reference: Reference::Training,
        current: Current::DataVersion(version.clone()),
        trigger: "demo".into(),
    };
    let drift = DriftJob::new(backends)
        .run(&request, Utc::now())
        .await
        .with_context(|| format!("checking {} for drift", upload.key))?;
    crate::drift::print_human(&drift, |key| root_of(dir, key));
    Ok(Some(drift))
}

/// The summary's lines naming the files a user opens next: a quarantine report, the model card,
/// the drift report.
fn print_reports(
    dir: &Path,
    outcomes: &[IngestOutcome],
    card: &ObjectKey,
    drift: Option<&DriftOutcome>,
) {
    let root = dir.join("objects");
    if let Some(report) = outcomes.iter().find(|o| o.status == Status::Quarantined) {
        println!(
            "a report:      {}",
            root.join(report.report.as_str()).display()
        );
    }
    println!("model card:    {}", root.join(card.as_str()).display());
    if let Some(drift) = drift {
        println!(
            "drift report:  {} ({})",
            root.join(drift.html_key.as_str()).display(),
            drift.report.verdict
        );
    }
}

/// Where an object of the demo's store is on disk.
fn root_of(dir: &Path, key: &ObjectKey) -> String {
    dir.join("objects").join(key.as_str()).display().to_string()
}

async fn ingest(
    ingestor: &Ingestor,
    dataset: &DatasetName,
    name: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<IngestOutcome> {
    let outcome = ingestor
        .upload_and_ingest(dataset, name, bytes)
        .await
        .with_context(|| format!("ingesting {name}"))?;
    print_outcome(&outcome, false)?;
    Ok(outcome)
}

fn fresh_folder(dir: &PathBuf) -> anyhow::Result<()> {
    if dir.exists() {
        let is_empty = std::fs::read_dir(dir)?.next().is_none();
        if !is_empty && !dir.join(MARKER).exists() {
            bail!(
                "{} exists and is not a demo folder; choose another with --dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(MARKER),
        "created by `mlops demo`; deleted and recreated by every run\n",
    )?;
    Ok(())
}

/// A built-in gzipped sample as text.
fn gunzip(bytes: &[u8]) -> anyhow::Result<String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .context("the built-in sample")?;
    Ok(text)
}
