//! `mlops train --dataset D`: the train function's work, on the local home or on S3/DynamoDB.

use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mlops_shared::names::{DatasetName, ObjectKey};
use mlops_shared::train::{Progress, TrainOutcome, Trainer};
use serde_json::json;

use crate::Target;

#[derive(Args)]
pub struct TrainArgs {
    /// The dataset to train on; its spec names the target, features, split and candidates.
    #[arg(long)]
    dataset: DatasetName,
    /// Train on these curated versions only (comma-separated ids, as `mlops data list` shows
    /// them) instead of the spec's `[training] data_versions` or every version.
    #[arg(long, value_delimiter = ',')]
    data_versions: Vec<String>,
    /// Print the result as one JSON object (no progress bars).
    #[arg(long)]
    json: bool,
}

pub async fn run(args: TrainArgs, target: &Target) -> anyhow::Result<ExitCode> {
    let backends = target.backends().await?;
    let trainer = Trainer::new(&backends).pinned(args.data_versions);
    let progress = Bars::new(!args.json);
    let outcome = trainer.train(&args.dataset, "cli", &progress).await?;
    let uri = |key: &ObjectKey| backends.store.uri(key);
    if args.json {
        println!("{}", serde_json::to_string(&summary(&outcome, uri))?);
    } else {
        print_human(&outcome, uri);
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(outcome: &TrainOutcome, uri: impl Fn(&ObjectKey) -> String) -> serde_json::Value {
    let r = &outcome.record;
    json!({
        "model": r.model,
        "version": r.version,
        "status": if outcome.created { "registered" } else { "already_trained" },
        "learner": r.learner,
        "metrics": r.metrics,
        "artifact": r.artifact_uri,
        "artifact_sha256": r.artifact_sha256,
        "artifact_bytes": r.artifact_bytes,
        "card": uri(&r.card_key),
        "metrics_file": uri(&r.metrics_key),
        "lineage": uri(&r.lineage_key),
        "reference": uri(&r.reference_key),
        "fingerprint": r.fingerprint,
        "data_versions": r.data_versions,
    })
}

pub fn print_human(outcome: &TrainOutcome, uri: impl Fn(&ObjectKey) -> String) {
    let r = &outcome.record;
    if outcome.created {
        println!(
            "registered {} version {} as a candidate",
            r.model, r.version
        );
    } else {
        println!(
            "already trained: the same data, spec and code made {} version {} (fingerprint {})",
            r.model, r.version, r.fingerprint
        );
    }
    println!("  learner    {}", r.learner);
    let metrics: Vec<String> = r
        .metrics
        .iter()
        .map(|(name, value)| format!("{name} {value:.4}"))
        .collect();
    println!("  test       {}", metrics.join("  "));
    println!(
        "  artifact   {} ({:.1} KB, sha256 {})",
        r.artifact_uri,
        r.artifact_bytes as f64 / 1024.0,
        &r.artifact_sha256[..16]
    );
    println!("  card       {}", uri(&r.card_key));
    println!("  metrics    {}", uri(&r.metrics_key));
    println!("  lineage    {}", uri(&r.lineage_key));
}

/// Progress bars on stderr when it is a terminal; nothing otherwise.
pub struct Bars {
    bar: Mutex<Option<ProgressBar>>,
    visible: bool,
}

impl Bars {
    pub fn new(visible: bool) -> Self {
        Self {
            bar: Mutex::new(None),
            visible,
        }
    }
}

impl Progress for Bars {
    fn begin(&self, step: &str, total: u64) {
        let bar = if !self.visible {
            ProgressBar::hidden()
        } else if total > 0 {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{prefix:.bold} [{bar:30}] {pos}/{len} {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        } else {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix:.bold} {elapsed}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        };
        bar.set_prefix(step.to_owned());
        if let Ok(mut current) = self.bar.lock() {
            *current = Some(bar);
        }
    }

    fn advance(&self, detail: &str) {
        if let Ok(current) = self.bar.lock() {
            if let Some(bar) = current.as_ref() {
                bar.set_message(detail.to_owned());
                bar.inc(1);
            }
        }
    }

    fn end(&self) {
        if let Ok(mut current) = self.bar.lock() {
            if let Some(bar) = current.take() {
                bar.finish_and_clear();
            }
        }
    }
}
