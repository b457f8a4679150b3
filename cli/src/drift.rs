//! `mlops drift --model M`: the drift function's check, on the local home or on S3/DynamoDB,
//! against the inference records of a window, a curated data version or a file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use clap::Args;
use mlops_shared::drift::{Current, DriftJob, DriftOutcome, DriftRequest, FeatureDrift, Reference};
use mlops_shared::names::{ModelName, ObjectKey};
use serde_json::json;

use crate::Target;

#[derive(Args)]
pub struct DriftArgs {
    /// The model whose training reference the current data is compared with.
    #[arg(long)]
    model: ModelName,
    /// Use this version (its features and training reference; default: the champion).
    #[arg(long)]
    version: Option<u64>,
    /// Compare with a baseline file of the dataset's columns instead of the training data.
    #[arg(long)]
    reference_file: Option<PathBuf>,
    /// Current data from a file of the dataset's columns: CSV (optionally .gz), Parquet or JSON Lines.
    #[arg(long, conflicts_with = "current_version")]
    current_file: Option<PathBuf>,
    /// Current data from a curated data version (its id or a unique prefix).
    #[arg(long)]
    current_version: Option<String>,
    /// Current data from the inference records of the last HOURS hours (the default, with the
    /// spec's `drift.window_hours`).
    #[arg(long, conflicts_with_all = ["current_file", "current_version"])]
    hours: Option<u32>,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: DriftArgs, target: &Target) -> anyhow::Result<ExitCode> {
    // Said before any store is opened: the files are read later, a block at a time.
    for (side, path) in [
        ("current", &args.current_file),
        ("reference", &args.reference_file),
    ] {
        if let Some(path) = path {
            std::fs::File::open(path)
                .with_context(|| format!("cannot read the {side} file {}", path.display()))?;
        }
    }
    let current = match (&args.current_file, &args.current_version) {
        (Some(path), _) => Current::File {
            name: path.display().to_string(),
            path: path.clone(),
        },
        (None, Some(version)) => Current::DataVersion(version.clone()),
        (None, None) => Current::Window {
            hours: args.hours,
            until: Utc::now(),
        },
    };
    let reference = match &args.reference_file {
        Some(path) => Reference::File {
            name: path.display().to_string(),
            path: path.clone(),
        },
        None => Reference::Training,
    };
    let backends = target.backends().await?;
    let request = DriftRequest {
        model: args.model.clone(),
        version: args.version,
        reference,
        current,
        trigger: "cli".into(),
    };
    let outcome = DriftJob::new(&backends).run(&request, Utc::now()).await?;
    let uri = |key: &ObjectKey| backends.store.uri(key);
    if args.json {
        println!("{}", serde_json::to_string(&summary(&outcome, uri))?);
    } else {
        print_human(&outcome, uri);
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(outcome: &DriftOutcome, uri: impl Fn(&ObjectKey) -> String) -> serde_json::Value {
    let r = &outcome.report;
    let features = |list: &[FeatureDrift]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|f| {
                json!({
                    "name": f.name,
                    "test": f.test,
                    "score": f.score,
                    "threshold": f.threshold,
                    "drifted": f.drifted,
                    "psi": f.psi,
                })
            })
            .collect()
    };
    json!({
        "model": r.model,
        "version": r.reference.version,
        "current": r.current.description,
        "verdict": r.verdict,
        "dataset_drift": r.comparison.dataset_drift,
        "share_drifted": r.comparison.share_drifted,
        "drifted_features": r.comparison.drifted_features,
        "rows": r.current.rows,
        "features": features(&r.comparison.features),
        "prediction": features(&r.comparison.prediction),
        "report": uri(&outcome.json_key),
        "html": uri(&outcome.html_key),
        "announced": outcome.announced,
    })
}

pub fn print_human(outcome: &DriftOutcome, uri: impl Fn(&ObjectKey) -> String) {
    let r = &outcome.report;
    let c = &r.comparison;
    println!(
        "{}: {} of {} features drifted ({:.0}%; data set drift at {:.0}% with at least {} rows)",
        r.verdict.to_uppercase(),
        c.drifted_features,
        c.features.len(),
        c.share_drifted * 100.0,
        r.thresholds.drift_share * 100.0,
        r.thresholds.min_rows
    );
    println!(
        "  reference  {} of {} ({} rows)",
        r.reference.description, r.model, r.reference.rows
    );
    println!(
        "  current    {} ({} rows)",
        r.current.description, r.current.rows
    );
    let mut rows: Vec<&FeatureDrift> = c.features.iter().chain(&c.prediction).collect();
    // Drifted first, then the rest, each in the report's order.
    rows.sort_by_key(|f| !f.drifted);
    println!(
        "  {:<24} {:<20} {:>10} {:>9}  drift",
        "feature", "test", "score", "psi"
    );
    for f in rows {
        let prediction = c.prediction.iter().any(|p| std::ptr::eq(p, f));
        println!(
            "  {:<24} {:<20} {:>10} {:>9}  {}",
            if prediction {
                format!("(prediction) {}", f.name)
            } else {
                f.name.clone()
            },
            f.test.map_or("–", |t| t.as_str()),
            f.score.map_or("–".to_owned(), |s| format!("{s:.4}")),
            f.psi.map_or("–".to_owned(), |s| format!("{s:.3}")),
            if f.drifted { "yes" } else { "no" }
        );
    }
    println!("  report     {}", uri(&outcome.html_key));
    println!("             {}", uri(&outcome.json_key));
    if outcome.announced {
        println!("  announced  DriftDetected");
    }
}
