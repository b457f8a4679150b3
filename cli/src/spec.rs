//! `mlops spec check|put <file>`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use mlops_shared::spec::{stored, DatasetSpec, LoadedSpec, SpecError};

use crate::Target;

#[derive(Subcommand)]
pub enum SpecCommand {
    /// Validate a spec file and explain every problem.
    Check { file: PathBuf },
    /// Validate a spec file and install it as specs/<dataset>.<ext> in the local home or the bucket.
    Put { file: PathBuf },
}

pub async fn run(command: SpecCommand, target: &Target) -> anyhow::Result<ExitCode> {
    match command {
        SpecCommand::Check { file } => {
            let Some((loaded, _, _)) = read(&file)? else {
                return Ok(ExitCode::FAILURE);
            };
            println!("{}: ok, {}", file.display(), summary(&loaded));
            Ok(ExitCode::SUCCESS)
        }
        SpecCommand::Put { file } => {
            let Some((loaded, text, extension)) = read(&file)? else {
                return Ok(ExitCode::FAILURE);
            };
            let backends = target.backends().await?;
            let key = stored::put(backends.store.as_ref(), &loaded, &text, extension).await?;
            println!(
                "installed {} at {}/{key}: {}",
                file.display(),
                backends.store.location(),
                summary(&loaded)
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads and checks a spec file; prints its problems and returns None when it is invalid.
pub fn read(file: &Path) -> anyhow::Result<Option<(LoadedSpec, String, &'static str)>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let extension = if file.extension().is_some_and(|e| e == "json") {
        "json"
    } else {
        "toml"
    };
    match DatasetSpec::parse(&text, extension) {
        Ok(loaded) => Ok(Some((loaded, text, extension))),
        Err(SpecError::Syntax { format, message }) => {
            eprintln!("{}: not valid {format}:\n{message}", file.display());
            Ok(None)
        }
        Err(SpecError::Invalid(problems)) => {
            eprintln!("{}: {} problem(s):", file.display(), problems.len());
            for problem in problems {
                eprintln!("  - {problem}");
            }
            Ok(None)
        }
    }
}

fn summary(loaded: &LoadedSpec) -> String {
    let spec = &loaded.spec;
    format!(
        "dataset {} v{} ({} columns, {} unique key(s), {} table rule(s))",
        spec.dataset.name,
        spec.dataset.version,
        spec.columns.len(),
        spec.table.unique_keys.len(),
        spec.table.rules.len()
    )
}
