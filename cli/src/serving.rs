//! `mlops serve`: the whole HTTP API (the predict function's routes and the admin routes) on a
//! local socket. `mlops predict`: the same answer for a file, from the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use mlops_http::{self as http, serving::Serving};
use mlops_shared::config::Env;
use mlops_shared::names::{Alias, ModelName};
use mlops_shared::predict::{
    self, BatchFormat, ModelCache, PredictResponse, Selector, ServingSettings,
};

use crate::Target;

#[derive(Args)]
pub struct ServeArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Also serve the admin routes (promote, reject, rollback). They then take only requests
    /// with `content-type: application/json`, so no web page can post to them.
    #[arg(long)]
    admin: bool,
    /// Serve the admin routes to requests carrying this bearer token only
    /// (`authorization: Bearer <token>`), for a machine others use too.
    #[arg(long, env = "MLOPS_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
}

pub async fn serve(args: ServeArgs, target: &Target) -> anyhow::Result<ExitCode> {
    let backends = target.backends().await?;
    let settings = ServingSettings::from_env(&Env::process())?;
    let serving = Arc::new(Serving::new(
        backends.store.clone(),
        backends.registry.clone(),
        settings,
    ));
    let admin = (args.admin || args.admin_token.is_some()).then(|| http::LocalAdmin {
        admin: Arc::new(http::admin::Admin::new(&backends)),
        token: args.admin_token.clone(),
    });
    let router = http::local_router(serving.clone(), admin);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (choose another with --addr)",
                args.addr
            )
        })?;
    // The bound address, not the requested one: `--addr 127.0.0.1:0` picks a free port.
    let addr = listener.local_addr()?;
    println!(
        "serving the mlops API on http://{addr} (models from {}); Ctrl-C stops",
        backends.store.location()
    );
    println!("  curl http://{addr}/models");
    println!(
        "  curl -X POST http://{addr}/models/flights/predict -H 'content-type: application/json' -d @events/predict-body.json"
    );
    match (args.admin, &args.admin_token) {
        (_, Some(_)) => println!("  admin routes on, for requests with the bearer token"),
        (true, None) => println!("  admin routes on, for anyone who can reach this address (--admin-token to require a token)"),
        (false, None) => println!("  admin routes off (--admin serves promote, reject, rollback)"),
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(stop_requested())
        .await?;
    serving.inference().flush().await;
    let stats = serving.inference().stats();
    println!(
        "stopped; inference records written: {} (failed: {})",
        stats.written, stats.failed
    );
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM from a process manager: either stops the server after in-flight requests.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[derive(Args)]
pub struct PredictArgs {
    #[arg(long)]
    model: ModelName,
    /// Score with this alias instead of the champion.
    #[arg(long, conflicts_with = "version")]
    alias: Option<Alias>,
    /// Score with this version.
    #[arg(long)]
    version: Option<u64>,
    /// Print the API's JSON response instead of a table.
    #[arg(long)]
    json: bool,
    /// Also answer each record's K most probable classes.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    top_k: Option<u64>,
    /// Also answer each decision's margin split over the input features.
    #[arg(long)]
    explain: bool,
    /// A request body (.json), JSON Lines (.jsonl, .ndjson) or CSV with a header (.csv), each may be gzipped (.csv.gz).
    file: PathBuf,
}

pub async fn predict(args: PredictArgs, target: &Target) -> anyhow::Result<ExitCode> {
    let format = BatchFormat::of(&args.file)?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let backends = target.backends().await?;
    let cache = ModelCache::new(backends.store, backends.registry, Duration::ZERO);
    let selector = match (args.alias, args.version) {
        (Some(alias), _) => Selector::Alias(alias),
        (None, Some(version)) => Selector::Version(version),
        (None, None) => Selector::champion(),
    };
    let loaded = cache.get(&args.model, &selector).await?;
    let artifact = &loaded.artifact;
    let body = predict::request_body(bytes, format, &loaded.fields)?;
    let limits = predict::Limits {
        max_records: usize::MAX,
        ..predict::Limits::default()
    };
    let frame = match predict::parse(&body, &loaded.fields, &limits) {
        Ok(frame) => frame,
        Err(predict::RequestError::Invalid { total, problems }) => {
            eprintln!("error: {total} problem(s) in {}:", args.file.display());
            for p in &problems {
                let record = p.record.map(|r| format!("record {r}")).unwrap_or_default();
                let field = p.field.as_deref().unwrap_or_default();
                eprintln!("  {record:>12} {field:<16} {}", p.problem);
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(other) => return Err(other.into()),
    };
    let options = predict::PredictOptions {
        top_k: args.top_k.map(|k| usize::try_from(k).unwrap_or(usize::MAX)),
        explain: args.explain,
    };
    if let Err(problem) = options.check(artifact) {
        anyhow::bail!(problem);
    }
    let response = PredictResponse {
        model: artifact.model.clone(),
        version: loaded.version,
        // Without a key, each prediction is named after the file and the record's position.
        predictions: predict::predict_with(artifact, &frame, &request_name(&args.file), options)?,
    };
    if args.json {
        println!("{}", serde_json::to_string(&response)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} version {}", response.model, response.version);
    println!("{:>7}  {:<8} {:>7}  warnings", "record", "label", "score");
    for (i, p) in response.predictions.iter().enumerate() {
        let score = p.score.or_else(|| {
            p.probabilities
                .as_ref()
                .and_then(|all| all.get(&*p.label).copied())
        });
        println!(
            "{i:>7}  {:<8} {:>7}  {}",
            p.label,
            score.map_or_else(|| "-".into(), |s| format!("{s:.4}")),
            p.warnings.join("; ")
        );
        if let Some(top) = &p.top_k {
            let ranked: Vec<String> = top
                .iter()
                .map(|c| format!("{} {:.4}", c.class, c.probability))
                .collect();
            println!("{:>9}top {}: {}", "", top.len(), ranked.join(", "));
        }
        if let Some(explanation) = &p.explanation {
            println!(
                "{:>9}{:+.4}  base value of the margin for {}",
                "", explanation.base_value, explanation.class
            );
            for c in explanation
                .contributions
                .iter()
                .filter(|c| c.contribution != 0.0)
            {
                println!("{:>9}{:+.4}  {}", "", c.contribution, c.feature);
                for t in &c.terms {
                    println!("{:>18}{:+.4}  {:?}", "", t.contribution, t.term);
                }
            }
            println!(
                "{:>9}{:+.4}  margin (base value + contributions)",
                "", explanation.raw_score
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The file's name without its extension: the request id a file's predictions are named after.
fn request_name(file: &std::path::Path) -> String {
    file.file_stem().map_or_else(
        || "file".to_owned(),
        |stem| stem.to_string_lossy().into_owned(),
    )
}
