//! The registry from the command line: list models and versions, promote, reject, roll back,
//! move aliases, and read the audit trail. The same domain functions as the promote Lambda.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use clap::Args;
use mlops_http::model_openapi::model_openapi;
use mlops_shared::config::Env;
use mlops_shared::model_registry::Decision;
use mlops_shared::model_registry::{self, AuditEntry, ModelVersionRecord};
use mlops_shared::names::{Alias, ModelName};
use mlops_shared::predict::{self, ModelCache, ModelSchema, Selector, ServingSettings};
use mlops_shared::promotion::{describe, Command, Outcome, PromoteError, Promoter, Request};
use serde_json::json;

use crate::Target;

#[derive(Args)]
pub struct ModelsArgs {
    /// Show this model's versions (default: every model, one line each).
    model: Option<ModelName>,
    /// Print the model's signature instead: what a prediction request carries and what the
    /// model answers (the champion's, or --version's), as `GET /models/{model}/schema`.
    #[arg(long, requires = "model", group = "signature")]
    schema: bool,
    /// Print the model's own OpenAPI document instead (JSON), as
    /// `GET /models/{model}/openapi.json` on `mlops serve` started in this environment: its
    /// predict operation with each record's fields, for client generators.
    #[arg(long, requires = "model", group = "signature")]
    openapi: bool,
    /// With --schema or --openapi: this version instead of the champion.
    #[arg(long, requires = "signature")]
    version: Option<u64>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct PromoteArgs {
    #[arg(long)]
    model: ModelName,
    /// The version to promote (default: the newest candidate).
    #[arg(long)]
    version: Option<u64>,
    /// Promote even if a policy gate fails, or the version is rejected or archived (recorded as
    /// forced). The artifact check still applies.
    #[arg(long)]
    force: bool,
    /// Why, for the audit trail.
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RejectArgs {
    #[arg(long)]
    model: ModelName,
    #[arg(long)]
    version: u64,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RollbackArgs {
    #[arg(long)]
    model: ModelName,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct AliasArgs {
    #[arg(long)]
    model: ModelName,
    /// The alias, e.g. challenger or shadow (champion moves only by promote and rollback).
    #[arg(long)]
    name: Alias,
    /// Point the alias at this version.
    #[arg(long, required_unless_present = "remove", conflicts_with = "remove")]
    version: Option<u64>,
    /// Remove the alias.
    #[arg(long)]
    remove: bool,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct AnnotateArgs {
    #[arg(long)]
    model: ModelName,
    #[arg(long)]
    version: u64,
    /// Replace the version's description.
    #[arg(long)]
    description: Option<String>,
    /// Set a tag, as key=value (repeatable).
    #[arg(long = "tag", value_parser = parse_tag)]
    tags: Vec<(String, String)>,
    /// Remove a tag by key (repeatable).
    #[arg(long = "untag")]
    untag: Vec<String>,
    #[arg(long)]
    json: bool,
}

fn parse_tag(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{text:?} is not key=value"))
}

#[derive(Args)]
pub struct HistoryArgs {
    #[arg(long)]
    model: ModelName,
    /// Only say which version was champion at this time (RFC 3339, e.g. 2026-11-25T09:00:00Z).
    #[arg(long, value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    #[arg(long)]
    json: bool,
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e}: give a time like 2026-11-25T09:00:00Z"))
}

/// A CLI request: the user as actor, a fresh operation id (each command is a new intent).
fn request(reason: Option<String>) -> anyhow::Result<Request> {
    let user = user();
    let operation = format!(
        "cli-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    Ok(Request::new(&operation, &format!("cli:{user}"), reason)?)
}

/// Who runs the command, for the audit trails.
pub fn user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub async fn models(args: ModelsArgs, target: &Target) -> anyhow::Result<ExitCode> {
    let backends = target.backends().await?;
    let registry = backends.registry.as_ref();
    let Some(model) = args.model else {
        let summaries = model_registry::summaries(registry).await?;
        if args.json {
            println!("{}", serde_json::to_string(&summaries)?);
        } else if summaries.is_empty() {
            println!("no models yet: train one with mlops train --dataset <dataset>");
        } else {
            println!("{:<24} {:>7}  aliases", "model", "latest");
            for summary in &summaries {
                println!(
                    "{:<24} {:>7}  {}",
                    summary.model,
                    summary.latest_version,
                    aliases_text(&summary.aliases)
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    if args.schema || args.openapi {
        let selector = args
            .version
            .map_or_else(Selector::champion, Selector::Version);
        let loaded = ModelCache::new(
            backends.store.clone(),
            backends.registry.clone(),
            Duration::ZERO,
        )
        .get(&model, &selector)
        .await?;
        let signature = predict::schema(&loaded.artifact);
        if args.openapi {
            let limits = ServingSettings::from_env(&Env::process())?.limits;
            let explains = predict::explain::available(&loaded.artifact);
            let document = model_openapi(&signature, explains, &limits);
            println!("{}", serde_json::to_string_pretty(&document)?);
        } else if args.json {
            println!("{}", serde_json::to_string(&signature)?);
        } else {
            print_schema(&signature)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let view = model_registry::view(registry, &model)
        .await?
        .with_context(|| format!("model {model} is not in the registry"))?;
    if args.json {
        println!("{}", serde_json::to_string(&view)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{model}: aliases {}", aliases_text(&view.aliases));
    println!(
        "{:>7}  {:<9}  {:<20} {:>8} {:>8} {:>8}  {:<20}  decision",
        "version", "status", "learner", "roc_auc", "f1", "f1_macro", "trained"
    );
    for v in &view.versions {
        let names: Vec<&str> = view
            .aliases
            .iter()
            .filter(|(_, &to)| to == v.version)
            .map(|(name, _)| name.as_str())
            .collect();
        println!(
            "{:>7}  {:<9}  {:<20} {:>8} {:>8} {:>8}  {:<20}  {}{}",
            v.version,
            v.status,
            v.learner,
            metric(v, "roc_auc"),
            metric(v, "f1"),
            metric(v, "f1_macro"),
            v.trained_at,
            v.decision.as_ref().map(decision_text).unwrap_or_default(),
            if names.is_empty() {
                String::new()
            } else {
                format!("  [{}]", names.join(", "))
            }
        );
        print_annotations(v);
    }
    Ok(ExitCode::SUCCESS)
}

fn metric(v: &ModelVersionRecord, name: &str) -> String {
    v.metrics
        .get(name)
        .map_or_else(|| "-".to_owned(), |x| format!("{x:.4}"))
}

fn aliases_text(aliases: &BTreeMap<Alias, u64>) -> String {
    if aliases.is_empty() {
        return "(none)".to_owned();
    }
    aliases
        .iter()
        .map(|(name, version)| format!("{name}={version}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn decision_text(decision: &Decision) -> String {
    let failed: Vec<&str> = decision
        .failed_gates()
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    if failed.is_empty() {
        "passed".to_owned()
    } else {
        format!("failed: {}", failed.join(", "))
    }
}

pub async fn promote(args: PromoteArgs, target: &Target) -> anyhow::Result<ExitCode> {
    let command = Command::Promote {
        model: args.model,
        version: args.version,
        force: args.force,
    };
    execute(command, args.reason, args.json, target).await
}

pub async fn reject(args: RejectArgs, target: &Target) -> anyhow::Result<ExitCode> {
    let command = Command::Reject {
        model: args.model,
        version: args.version,
    };
    execute(command, args.reason, args.json, target).await
}

pub async fn rollback(args: RollbackArgs, target: &Target) -> anyhow::Result<ExitCode> {
    let command = Command::Rollback { model: args.model };
    execute(command, args.reason, args.json, target).await
}

pub async fn alias(args: AliasArgs, target: &Target) -> anyhow::Result<ExitCode> {
    let command = match args.version {
        Some(version) if !args.remove => Command::SetAlias {
            model: args.model,
            alias: args.name,
            version,
        },
        _ => Command::RemoveAlias {
            model: args.model,
            alias: args.name,
        },
    };
    execute(command, args.reason, args.json, target).await
}

async fn execute(
    command: Command,
    reason: Option<String>,
    json: bool,
    target: &Target,
) -> anyhow::Result<ExitCode> {
    let promoter = Promoter::new(&target.backends().await?);
    let outcome = promoter.execute(&command, &request(reason)?).await;
    report(outcome, json)
}

pub async fn annotate(args: AnnotateArgs, target: &Target) -> anyhow::Result<ExitCode> {
    let backends = target.backends().await?;
    let annotation = model_registry::Annotation {
        description: args.description,
        set_tags: args.tags.into_iter().collect(),
        remove_tags: args.untag,
    };
    let record = model_registry::annotate(
        backends.registry.as_ref(),
        &args.model,
        args.version,
        &annotation,
    )
    .await?;
    if args.json {
        println!(
            "{}",
            json!({"model": record.model, "version": record.version, "description": record.description, "tags": record.tags})
        );
    } else {
        println!("{} version {}", record.model, record.version);
        print_annotations(&record);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_annotations(record: &ModelVersionRecord) {
    if !record.description.is_empty() {
        println!("         {}", record.description);
    }
    if !record.tags.is_empty() {
        let tags: Vec<String> = record
            .tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        println!("         tags: {}", tags.join(" "));
    }
}

pub async fn history(args: HistoryArgs, target: &Target) -> anyhow::Result<ExitCode> {
    let backends = target.backends().await?;
    let registry = backends.registry.as_ref();
    if model_registry::get_model(registry, &args.model)
        .await?
        .is_none()
    {
        bail!("model {} is not in the registry", args.model);
    }
    let entries = model_registry::history(registry, &args.model).await?;
    if let Some(at) = &args.at {
        let champion = model_registry::champion_at(&entries, *at);
        if args.json {
            println!(
                "{}",
                json!({"model": args.model.as_str(), "at": at, "champion": champion})
            );
        } else {
            match champion {
                Some(version) => println!("{} champion at {at}: version {version}", args.model),
                None => println!("{} had no champion at {at}", args.model),
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        println!("{}", serde_json::to_string(&entries)?);
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        println!("{}: no transitions yet", args.model);
    }
    for entry in &entries {
        print_entry(entry);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_entry(entry: &AuditEntry) {
    println!(
        "{:>4}  {}  {:<14}  {}  by {}{}",
        entry.revision,
        entry.at,
        entry.action,
        describe(entry),
        entry.actor,
        if entry.reason.is_empty() {
            String::new()
        } else {
            format!(": {}", entry.reason)
        }
    );
}

/// Prints what a request did (or the gates that stopped it) and picks the exit code.
fn report(outcome: Result<Outcome, PromoteError>, json: bool) -> anyhow::Result<ExitCode> {
    match outcome {
        Ok(outcome) => {
            if json {
                println!("{}", serde_json::to_string(&outcome)?);
            } else {
                println!("{}", outcome.message);
                if let Some(decision) = &outcome.decision {
                    print_gates(decision);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(PromoteError::GatesFailed {
            model,
            version,
            decision,
        }) => {
            if json {
                println!(
                    "{}",
                    json!({"error": "gates_failed", "model": model.as_str(), "version": version, "decision": decision})
                );
            } else {
                eprintln!("{model} version {version} fails the promotion policy (use --force to promote anyway):");
                print_gates(&decision);
            }
            Ok(ExitCode::from(1))
        }
        // The domain speaks of the command; here the command is a flag.
        Err(e @ PromoteError::NotPromotable { .. }) => Err(anyhow::anyhow!("{e} (--force)")),
        Err(PromoteError::NoCandidate(model)) => Err(anyhow::anyhow!(
            "{model} has no candidate version to promote; name one with --version"
        )),
        Err(e) => Err(e.into()),
    }
}

pub fn print_gates(decision: &Decision) {
    for gate in &decision.gates {
        println!(
            "  {} {:<16} {}",
            if gate.passed { "pass" } else { "FAIL" },
            gate.name,
            gate.detail
        );
    }
}

/// A signature as a table of fields, then the classes and an example record.
fn print_schema(signature: &ModelSchema) -> anyhow::Result<()> {
    println!(
        "{} version {}: predicts {}",
        signature.model, signature.version, signature.target
    );
    println!(
        "{:<24} {:<12} {:<9} {}",
        "field", "type", "nullable", "seen in training"
    );
    for field in &signature.inputs {
        let seen = match (&field.levels, field.training_range) {
            (Some(levels), _) => {
                let shown: Vec<&str> = levels.iter().take(8).map(String::as_str).collect();
                let more = levels.len().saturating_sub(shown.len());
                let more = if more > 0 {
                    format!(" (+{more} more)")
                } else {
                    String::new()
                };
                format!("{}{more}", shown.join(", "))
            }
            (None, Some([low, high])) => format!("{low} to {high}"),
            (None, None) if !field.true_values.is_empty() || !field.false_values.is_empty() => {
                format!(
                    "also {} (true), {} (false)",
                    field.true_values.join(", "),
                    field.false_values.join(", ")
                )
            }
            (None, None) => String::new(),
        };
        let kind = serde_json::to_value(field.kind)?;
        let role = match field.role {
            predict::schema::Role::Key => " (names the prediction)",
            predict::schema::Role::Feature => "",
        };
        println!(
            "{:<24} {:<12} {:<9} {seen}{role}",
            field.name,
            kind.as_str().unwrap_or_default(),
            if field.nullable { "yes" } else { "no" },
        );
    }
    let threshold = signature
        .threshold
        .map(|t| format!(" (the second from a probability of {t:.4})"))
        .unwrap_or_default();
    println!("classes: {}{threshold}", signature.classes.join(", "));
    // The example's fields in the signature's order (a JSON object keeps no order of its own).
    let fields: Vec<String> = signature
        .inputs
        .iter()
        .filter_map(|field| {
            let value = signature.example.get(&field.name)?;
            Some(format!(
                "{}: {value}",
                serde_json::to_string(&field.name).ok()?
            ))
        })
        .collect();
    println!("example: {{{}}}", fields.join(", "));
    Ok(())
}
