//! `mlops`: the pipeline on a laptop. Objects and registry live in a local folder (the embedded
//! default, `./.mlops`), or in S3 and DynamoDB when given `--bucket` and `--table`.

mod data;
mod demo;
mod drift;
mod ingest;
mod monitor;
mod registry;
mod serving;
mod spec;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use mlops_shared::ports::Backends;

#[derive(Parser)]
#[command(
    name = "mlops",
    version,
    about = "Serverless MLOps pipeline: local runner and admin tool"
)]
struct Cli {
    #[command(flatten)]
    target: Target,
    #[command(subcommand)]
    command: Command,
}

/// Where objects and the registry live.
#[derive(Args, Clone)]
struct Target {
    /// Local home of the embedded default: objects in <home>/objects, registry in <home>/registry.sqlite.
    #[arg(long, global = true, env = "MLOPS_HOME", default_value = ".mlops")]
    home: PathBuf,
    /// Use this S3 bucket instead of the local home (honours AWS_ENDPOINT_URL and the usual AWS settings).
    #[arg(long, global = true, env = "MLOPS_BUCKET", requires = "table")]
    bucket: Option<String>,
    /// The DynamoDB registry table that goes with --bucket.
    #[arg(long, global = true, env = "MLOPS_TABLE", requires = "bucket")]
    table: Option<String>,
    /// The EventBridge bus that receives ModelTrained events with --bucket (locally they are
    /// appended to <home>/events.jsonl).
    #[arg(
        long,
        global = true,
        env = "MLOPS_EVENT_BUS",
        default_value = "default"
    )]
    event_bus: String,
}

impl Target {
    async fn backends(&self) -> anyhow::Result<Backends> {
        match (&self.bucket, &self.table) {
            (Some(bucket), Some(table)) => {
                Ok(mlops_aws::backends(bucket, table, &self.event_bus).await)
            }
            _ => mlops_local::backends(&self.home).with_context(|| {
                format!(
                    "opening the local home {} (choose another with --home)",
                    self.home.display()
                )
            }),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Check or install dataset specs (contracts).
    #[command(subcommand)]
    Spec(spec::SpecCommand),
    /// Validate files against their dataset's spec and curate or quarantine each one.
    Ingest(ingest::IngestArgs),
    /// A dataset's curated versions: list, show, retire from training, restore.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Train candidate models on the curated data and register the best as a candidate.
    Train(train::TrainArgs),
    /// List models, or one model's versions with statuses, aliases and key metrics.
    Models(registry::ModelsArgs),
    /// Promote a version to champion (default: the newest candidate) after the policy's gates.
    Promote(registry::PromoteArgs),
    /// Reject a candidate.
    Reject(registry::RejectArgs),
    /// Return the champion to the one it replaced.
    Rollback(registry::RollbackArgs),
    /// Point a named alias (challenger, shadow, …) at a version, or remove it.
    Alias(registry::AliasArgs),
    /// Set a version's description and tags.
    Annotate(registry::AnnotateArgs),
    /// The audit trail of a model, or its champion at a given time.
    History(registry::HistoryArgs),
    /// Serve the HTTP API (predict, registry view, health, OpenAPI, admin) on a local socket.
    Serve(serving::ServeArgs),
    /// Score a file (request body, JSON Lines or CSV) with a model, as the API would.
    Predict(serving::PredictArgs),
    /// Compare current data (inference records, a data version or a file) with a model's
    /// training reference, and write the JSON and HTML drift reports.
    Drift(drift::DriftArgs),
    /// A model's live quality: its recent predictions joined with the outcomes known now.
    Monitor(monitor::MonitorArgs),
    /// Run the pipeline end to end on the bundled flights sample, in a fresh local home.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    mlops_shared::process::end_quietly_on_closed_pipe();
    let runtime = match mlops_shared::process::start_runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(run())
}

async fn run() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // Errors are logged by default: a model that cannot be loaded says why.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Spec(command) => spec::run(command, &cli.target).await,
        Command::Ingest(args) => ingest::run(args, &cli.target).await,
        Command::Data(command) => data::run(command, &cli.target).await,
        Command::Train(args) => train::run(args, &cli.target).await,
        Command::Models(args) => registry::models(args, &cli.target).await,
        Command::Promote(args) => registry::promote(args, &cli.target).await,
        Command::Reject(args) => registry::reject(args, &cli.target).await,
        Command::Rollback(args) => registry::rollback(args, &cli.target).await,
        Command::Alias(args) => registry::alias(args, &cli.target).await,
        Command::Annotate(args) => registry::annotate(args, &cli.target).await,
        Command::History(args) => registry::history(args, &cli.target).await,
        Command::Serve(args) => serving::serve(args, &cli.target).await,
        Command::Predict(args) => serving::predict(args, &cli.target).await,
        Command::Drift(args) => drift::run(args, &cli.target).await,
        Command::Monitor(args) => monitor::run(args, &cli.target).await,
        Command::Demo(args) => demo::run(args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
