//! `mlops data`: a dataset's curated versions, listed and shown, retired from training (with who,
//! when and why; the data stays) and restored.

use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Subcommand};
use mlops_shared::ingest::catalog;
use mlops_shared::ingest::retirement::{self, DataAction, Retirement};
use mlops_shared::names::DatasetName;
use serde_json::json;

use crate::Target;

#[derive(Subcommand)]
pub enum DataCommand {
    /// Every curated version of a dataset, retired ones marked.
    List(DatasetArgs),
    /// One version: its rows, source, content hash, and its retirements and restorations.
    Show(VersionArgs),
    /// Take a version out of training (its data stays; `restore` puts it back).
    Retire(ChangeArgs),
    /// Put a retired version back into training.
    Restore(ChangeArgs),
}

#[derive(Args)]
pub struct DatasetArgs {
    #[arg(long)]
    dataset: DatasetName,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct VersionArgs {
    #[arg(long)]
    dataset: DatasetName,
    /// The version id, as `mlops data list` shows it.
    version: String,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ChangeArgs {
    #[arg(long)]
    dataset: DatasetName,
    /// The version id, as `mlops data list` shows it.
    version: String,
    /// Why, for the audit trail.
    #[arg(long)]
    reason: String,
}

impl ChangeArgs {
    /// The change signed by whoever runs the command, now, with the reason given.
    fn signed(&self) -> anyhow::Result<Retirement> {
        let actor = format!("cli:{}", crate::registry::user());
        Ok(Retirement::new(&actor, Utc::now(), &self.reason)?)
    }
}

pub async fn run(command: DataCommand, target: &Target) -> anyhow::Result<ExitCode> {
    let backends = target.backends().await?;
    let registry = backends.registry.as_ref();
    match command {
        DataCommand::List(args) => {
            let versions = catalog::versions(registry, &args.dataset).await?;
            let retired = retirement::retirements(registry, &args.dataset).await?;
            if args.json {
                let rows: Vec<_> = versions
                    .iter()
                    .map(|v| json!({"version": v.version, "rows": v.rows, "ingested_at": v.ingested_at, "source": v.source_key, "retired": retired.get(&v.version)}))
                    .collect();
                println!("{}", serde_json::to_string(&rows)?);
            } else if versions.is_empty() {
                println!(
                    "{} has no curated versions yet: mlops ingest --dataset {} <files>",
                    args.dataset, args.dataset
                );
            } else {
                println!(
                    "{:<18} {:>9}  {:<24} {:<10} source",
                    "version", "rows", "ingested", "status"
                );
                for v in &versions {
                    let status = if retired.contains_key(&v.version) {
                        "retired"
                    } else {
                        "in use"
                    };
                    println!(
                        "{:<18} {:>9}  {:<24} {:<10} {}",
                        v.version,
                        v.rows,
                        v.ingested_at.format("%Y-%m-%d %H:%M:%S UTC"),
                        status,
                        v.source_key
                    );
                }
            }
        }
        DataCommand::Show(args) => {
            let version = catalog::versions(registry, &args.dataset)
                .await?
                .into_iter()
                .find(|v| v.version == args.version)
                .with_context(|| {
                    format!("{} has no data version {}", args.dataset, args.version)
                })?;
            let retired = retirement::retirements(registry, &args.dataset).await?;
            let history: Vec<_> = retirement::audit(registry, &args.dataset)
                .await?
                .into_iter()
                .filter(|e| e.version == args.version)
                .collect();
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string(
                        &json!({"version": version, "retired": retired.get(&args.version), "history": history})
                    )?
                );
            } else {
                println!(
                    "{} version {}: {} rows, ingested {}",
                    args.dataset,
                    version.version,
                    version.rows,
                    version.ingested_at.format("%Y-%m-%d %H:%M:%S UTC")
                );
                println!(
                    "  source    {} (sha256 {})",
                    version.source_key, version.source_sha256
                );
                println!(
                    "  data      {} (sha256 {})",
                    version.data_key, version.data_sha256
                );
                println!("  manifest  {}", version.manifest_key);
                match retired.get(&args.version) {
                    Some(r) => println!(
                        "  status    retired by {} on {}: {}",
                        r.actor,
                        r.at.format("%Y-%m-%d %H:%M UTC"),
                        r.reason
                    ),
                    None => println!("  status    in use for training"),
                }
                for entry in &history {
                    let action = match entry.action {
                        DataAction::Retire => "retired",
                        DataAction::Restore => "restored",
                    };
                    println!(
                        "  {}  {action} by {}: {}",
                        entry.at.format("%Y-%m-%d %H:%M:%S UTC"),
                        entry.actor,
                        entry.reason
                    );
                }
            }
        }
        DataCommand::Retire(args) => {
            retirement::retire(registry, &args.dataset, &args.version, &args.signed()?).await?;
            println!(
                "retired {} version {}: training leaves it out from now on (mlops data restore to undo)",
                args.dataset, args.version
            );
        }
        DataCommand::Restore(args) => {
            retirement::restore(registry, &args.dataset, &args.version, &args.signed()?).await?;
            println!(
                "restored {} version {}: training takes it again",
                args.dataset, args.version
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
