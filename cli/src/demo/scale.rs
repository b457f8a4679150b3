//! `mlops demo --dataset scale [--rows N]`: a large training set on this machine. The flights
//! sample is resampled to N rows (each month to its share), ingested as monthly files and trained
//! with the bundled spec's candidates; each step's time and the process's peak memory show that
//! training holds a column at a time, not the table.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use mlops_shared::ingest::{Ingestor, Status};
use mlops_shared::names::DatasetName;
use mlops_shared::ports::Backends;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::flights::{SAMPLE, SPEC};
use super::{gunzip, install, train};

pub async fn run(dir: &Path, backends: &Backends, rows: usize) -> anyhow::Result<ExitCode> {
    let ingestor = Ingestor::new(backends.store.clone(), backends.registry.clone(), u64::MAX);
    let dataset = DatasetName::parse("flights")?;

    println!("== 1. Install the flights contract, without its unique-key rule (resampled rows repeat keys)");
    install(backends, &without_unique_keys(SPEC)).await?;

    println!("== 2. Generate {rows} rows: the bundled sample resampled, each month to its share");
    let started = Instant::now();
    let folder = dir.join("generated");
    std::fs::create_dir_all(&folder)?;
    let files = generate(&folder, rows)?;
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    println!(
        "  {} files, {:.0} MB of CSV, in {:.1} s",
        files.len(),
        megabytes(bytes),
        started.elapsed().as_secs_f64()
    );

    println!("\n== 3. Ingest them: every rule checked, each file curated as Parquet");
    let started = Instant::now();
    for file in &files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .context("a generated file's name")?;
        let outcome = ingestor
            .upload_file_and_ingest(&dataset, name, file)
            .await
            .with_context(|| format!("ingesting {name}"))?;
        anyhow::ensure!(
            outcome.status == Status::Accepted,
            "{name} was not accepted: {}",
            outcome.reasons.join("; ")
        );
        println!("  {name}: {} rows accepted", outcome.rows);
    }
    let ingest_seconds = started.elapsed().as_secs_f64();
    println!(
        "  ingested in {ingest_seconds:.1} s; peak memory so far {}",
        peak_memory()
    );

    println!("\n== 4. Train: read a column at a time, binned for the trees as it is read");
    let started = Instant::now();
    let trained = train(backends, dir, &dataset, "demo", "training at scale").await?;
    let train_seconds = started.elapsed().as_secs_f64();

    println!("\n== Summary");
    println!(
        "{rows} rows: ingested in {ingest_seconds:.1} s, trained in {train_seconds:.1} s \
         ({:.1} s per million rows), ROC AUC {:.4} on the test part",
        train_seconds / rows as f64 * 1e6,
        trained
            .record
            .metrics
            .get("roc_auc")
            .copied()
            .unwrap_or(f64::NAN),
    );
    println!(
        "the process's peak memory: {} (bench/train_scale.sh, a release build: 20 million rows in 2.4 GB)",
        peak_memory()
    );
    Ok(ExitCode::SUCCESS)
}

/// The spec without its `unique_keys` line.
fn without_unique_keys(spec: &str) -> String {
    spec.lines()
        .filter(|line| !line.starts_with("unique_keys = "))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Writes the sample's months resampled (with replacement, seeded) to `rows` rows in all, one
/// CSV per month; each month keeps its share, so the time split keeps its shape.
fn generate(folder: &Path, rows: usize) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let months = SAMPLE
        .iter()
        .map(|(name, gz)| Ok((name.trim_end_matches(".gz"), gunzip(gz)?)))
        .collect::<anyhow::Result<Vec<(&str, String)>>>()?;
    let total: usize = months
        .iter()
        .map(|(_, text)| text.lines().count() - 1)
        .sum();
    let mut rng = ChaCha8Rng::seed_from_u64(2013);
    let mut files = Vec::new();
    for (name, text) in &months {
        let mut lines = text.lines();
        let header = lines.next().context("the sample has a header")?;
        let records: Vec<&str> = lines.collect();
        let share = rows * records.len() / total;
        let mut out = String::with_capacity(share * (header.len() + 2));
        out.push_str(header);
        out.push('\n');
        for _ in 0..share {
            out.push_str(records[rng.random_range(0..records.len())]);
            out.push('\n');
        }
        let path = folder.join(name);
        std::fs::write(&path, out).with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
    }
    Ok(files)
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// The process's peak resident memory (Linux's VmHWM), or "not known" elsewhere.
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.0} MB", kb * 1024.0 / 1e6))
        })
        .unwrap_or_else(|| "not known here".to_owned())
}
