//! `mlops ingest --dataset D <files…>`: the ingest function's work, on files from disk.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use mlops_shared::ingest::{IngestOutcome, Ingestor, Status};
use mlops_shared::names::DatasetName;
use tokio::sync::Semaphore;

use crate::Target;

/// Files above this are quarantined unread, whatever the spec allows: the spec's limit is the one
/// that matters locally (uploads are read a batch at a time, from the disk).
const MAX_FILE_BYTES: u64 = u64::MAX;

#[derive(Args)]
pub struct IngestArgs {
    /// The dataset the files belong to; its spec must be installed (`mlops spec put`).
    #[arg(long)]
    dataset: DatasetName,
    /// Files ingested at once (default: one per core). Each file's columns are checked in parallel
    /// too, so 1 keeps memory lowest at little cost in speed.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: Option<u16>,
    /// Print one JSON object per file instead of a table.
    #[arg(long)]
    json: bool,
    /// CSV (optionally gzip-compressed), Parquet or JSON Lines files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub async fn run(args: IngestArgs, target: &Target) -> anyhow::Result<ExitCode> {
    let backends = target.backends().await?;
    let ingestor = Arc::new(Ingestor::new(
        backends.store,
        backends.registry,
        MAX_FILE_BYTES,
    ));
    // One file per core at a time (the Lambda scales the same way: one invocation per upload).
    // Files start in the order given as slots free up, whichever file finishes first, and results
    // are printed in that order.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let slots = Arc::new(Semaphore::new(args.jobs.map_or(cores, usize::from)));
    let tasks: Vec<_> = args
        .files
        .iter()
        .map(|file| {
            let (ingestor, dataset, file) =
                (Arc::clone(&ingestor), args.dataset.clone(), file.clone());
            let slots = Arc::clone(&slots);
            tokio::spawn(async move {
                let _slot = slots.acquire_owned().await?;
                ingest_file(&ingestor, &dataset, &file).await
            })
        })
        .collect();
    let mut quarantined = 0;
    for task in tasks {
        let outcome = task.await.context("an ingestion task failed")??;
        quarantined += usize::from(outcome.status == Status::Quarantined);
        print_outcome(&outcome, args.json)?;
    }
    if quarantined > 0 && !args.json {
        eprintln!("{quarantined} file(s) quarantined: see each report for every reason");
    }
    Ok(if quarantined > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub async fn ingest_file(
    ingestor: &Ingestor,
    dataset: &DatasetName,
    file: &PathBuf,
) -> anyhow::Result<IngestOutcome> {
    let metadata =
        std::fs::metadata(file).with_context(|| format!("reading {}", file.display()))?;
    anyhow::ensure!(metadata.is_file(), "{} is not a file", file.display());
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} has no usable file name", file.display()))?;
    ingestor
        .upload_file_and_ingest(dataset, name, file)
        .await
        .with_context(|| format!("ingesting {}", file.display()))
}

pub fn print_outcome(outcome: &IngestOutcome, json: bool) -> anyhow::Result<()> {
    if json {
        println!(
            "{}",
            serde_json::to_string(&serde_json::json!({
                "file": outcome.key.file_name(),
                "key": outcome.key,
                "status": outcome.status,
                "rows": outcome.rows,
                "rows_dropped": outcome.rows_dropped,
                "version": outcome.version,
                "report": outcome.report,
                "reasons": outcome.reasons,
            }))?
        );
        return Ok(());
    }
    let status = serde_json::to_value(outcome.status)?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let file = outcome.key.file_name();
    let version = outcome
        .version
        .as_deref()
        .map(|v| format!(" version {v}"))
        .unwrap_or_default();
    let dropped = if outcome.rows_dropped > 0 {
        format!(" ({} dropped)", outcome.rows_dropped)
    } else {
        String::new()
    };
    println!(
        "{status:<11} {file}: {} rows{dropped}{version} -> {}",
        outcome.rows, outcome.report
    );
    for reason in &outcome.reasons {
        println!("            - {reason}");
    }
    Ok(())
}
