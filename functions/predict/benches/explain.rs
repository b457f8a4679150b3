//! Benchmark: explanations of a champion. One record scored with and without its explanation
//! (the scoring call alone, then the whole route with `?explain=true`), each call timed alone;
//! then the global importance training computes, over the rows of a batch.
//!
//! Usage: cargo bench --profile bench-fast -p predict --bench explain -- <home> <model> <one.json> <batch.json>
//! where <home> is a local mlops home with a champion for <model> (bench/explain.sh makes one).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use mlops_http::{self as http, serving};
use mlops_shared::learn::{Model, Node, Tree};
use mlops_shared::names::ModelName;
use mlops_shared::predict::{self, explain, ModelCache, PredictOptions, Selector};
use tower::ServiceExt;

const WARMUP: usize = 1_000;
const RUNS: usize = 20_000;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [home, model, one, batch] = args.as_slice() else {
        return Err("arguments: <home> <model> <one.json> <batch.json>".into());
    };
    let runtime = mlops_shared::process::start_light_runtime()?;
    runtime.block_on(run(
        PathBuf::from(home),
        ModelName::parse(model)?,
        std::fs::read(one)?,
        std::fs::read(batch)?,
    ))
}

async fn run(home: PathBuf, model: ModelName, one: Vec<u8>, batch: Vec<u8>) -> Result<(), Error> {
    let backends = mlops_local::backends(&home)?;
    let cache = ModelCache::new(
        backends.store.clone(),
        backends.registry.clone(),
        Duration::from_secs(60),
    );
    let loaded = cache.get(&model, &Selector::champion()).await?;
    let artifact = &loaded.artifact;
    println!(
        "model {model} version {} ({}), {} inputs, {} encoded features{}",
        loaded.version,
        artifact.params.learner(),
        artifact.inputs.len(),
        artifact.pipeline.feature_names().len(),
        match &artifact.learner {
            Model::GradientBoosting(m) => shape(&m.trees),
            Model::LogisticRegression(_) => String::new(),
        }
    );

    let limits = predict::Limits::default();
    let frame = predict::parse(&one, &artifact.inputs, &limits)?;
    let plain = PredictOptions::default();
    let explained = PredictOptions {
        explain: true,
        ..plain
    };
    for (name, options) in [
        ("one record scored", plain),
        ("one record scored and explained", explained),
    ] {
        let times = timed(|| {
            predict::predict_with(artifact, &frame, "bench", options)
                .map(|_| ())
                .map_err(Error::from)
        })?;
        println!("{name:<46} {}", percentiles(times));
    }

    let serving = Arc::new(serving::Serving::new(
        backends.store.clone(),
        backends.registry.clone(),
        predict::ServingSettings::from_env(&mlops_shared::config::Env::process())?,
    ));
    let router = http::finish(serving::router(serving.clone()));
    for (name, path) in [
        (
            "one record through the route",
            format!("/models/{model}/predict"),
        ),
        (
            "one record through the route, ?explain=true",
            format!("/models/{model}/predict?explain=true"),
        ),
    ] {
        let mut times = Vec::with_capacity(RUNS);
        for run in 0..WARMUP + RUNS {
            let request = Request::post(&path)
                .header("content-type", "application/json")
                .body(Body::from(one.clone()))?;
            let started = Instant::now();
            let response = router.clone().oneshot(request).await?;
            let status = response.status();
            let bytes = response.into_body().collect().await?.to_bytes();
            let elapsed = started.elapsed();
            if !status.is_success() {
                return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)).into());
            }
            if run >= WARMUP {
                times.push(elapsed);
            }
            // Inference records are written between invocations, untimed, as in a Lambda.
            tokio::task::yield_now().await;
        }
        println!("{name:<46} {}", percentiles(times));
    }
    serving.inference().flush().await;

    let frame = predict::parse(
        &batch,
        &artifact.inputs,
        &predict::Limits {
            max_records: usize::MAX,
            ..limits
        },
    )?;
    let encoded = artifact.pipeline.transform(&frame)?;
    let started = Instant::now();
    let importance = explain::importance(
        &artifact.pipeline,
        &artifact.learner,
        artifact.classes.len(),
        &encoded,
    )
    .ok_or("the model cannot explain")?;
    let took = started.elapsed();
    let top: Vec<String> = importance
        .features
        .iter()
        .take(5)
        .map(|f| format!("{} {:.3}", f.feature, f.mean_abs_contribution))
        .collect();
    println!(
        "global importance over {} rows: {:.0} ms on {} cores ({:.1} µs a row); top: {}",
        importance.rows,
        took.as_secs_f64() * 1e3,
        std::thread::available_parallelism().map_or(1, usize::from),
        took.as_secs_f64() * 1e6 / importance.rows as f64,
        top.join(", ")
    );
    Ok(())
}

/// Each call timed alone, after a warm-up.
fn timed(mut f: impl FnMut() -> Result<(), Error>) -> Result<Vec<Duration>, Error> {
    for _ in 0..WARMUP {
        f()?;
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        f()?;
        times.push(started.elapsed());
    }
    Ok(times)
}

fn percentiles(mut times: Vec<Duration>) -> String {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    format!(
        "p50 {:7.1} µs  p90 {:7.1} µs  p99 {:7.1} µs",
        at(0.5),
        at(0.9),
        at(0.99)
    )
}

/// The trees' count, mean leaves and deepest leaf: what an explanation's cost grows with.
fn shape(trees: &[Tree]) -> String {
    fn depth(tree: &Tree, node: usize) -> usize {
        match &tree.nodes[node] {
            Node::Leaf { .. } => 0,
            Node::Numeric { left, right, .. } | Node::Categorical { left, right, .. } => {
                1 + depth(tree, *left as usize).max(depth(tree, *right as usize))
            }
        }
    }
    let leaves: usize = trees
        .iter()
        .map(|t| {
            t.nodes
                .iter()
                .filter(|n| matches!(n, Node::Leaf { .. }))
                .count()
        })
        .sum();
    let deepest = trees.iter().map(|t| depth(t, 0)).max().unwrap_or(0);
    format!(
        "; {} trees, {:.1} leaves a tree, depth up to {deepest}",
        trees.len(),
        leaves as f64 / trees.len().max(1) as f64
    )
}
