//! Benchmark: the predict function's router with no network in between, as a warm Lambda
//! container runs it: one-record requests (latency percentiles, each request timed alone) and
//! large batches (records per second), each split into its parts (JSON to a validated frame, the
//! model, the whole route with the response body).
//!
//! Usage: cargo bench --profile bench-fast -p predict --bench handler -- <home> <model> <one.json> <batch.json>...
//! where <home> is a local mlops home with a champion for <model> (bench/predict.sh makes one).
//! The serving settings come from the environment, as in the predict function.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use mlops_http::{self as http, serving};
use mlops_shared::names::ModelName;
use mlops_shared::predict::{self, ModelCache, Selector, ServingSettings};
use tower::ServiceExt;

const ONE_RECORD_WARMUP: usize = 2_000;
const ONE_RECORD_RUNS: usize = 50_000;
const BATCH_RUNS: usize = 30;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [home, model, one, batches @ ..] = args.as_slice() else {
        return Err("arguments: <home> <model> <one.json> <batch.json>...".into());
    };
    let home = PathBuf::from(home);
    let model = ModelName::parse(model)?;
    let one = std::fs::read(one)?;
    let batches = batches
        .iter()
        .map(|path| Ok((path.clone(), std::fs::read(path)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    // The Lambda binary's runtime: one thread, and its allocator settings.
    let runtime = mlops_shared::process::start_light_runtime()?;
    runtime.block_on(run(home, model, one, batches))
}

async fn run(
    home: PathBuf,
    model: ModelName,
    one: Vec<u8>,
    batches: Vec<(String, Vec<u8>)>,
) -> Result<(), Error> {
    let backends = mlops_local::backends(&home)?;
    let cache = ModelCache::new(
        backends.store.clone(),
        backends.registry.clone(),
        Duration::from_secs(60),
    );
    let loaded = cache.get(&model, &Selector::champion()).await?;
    let artifact = &loaded.artifact;
    println!(
        "model {model} version {} ({}), {} inputs",
        loaded.version,
        artifact.params.learner(),
        artifact.inputs.len()
    );

    // As the predict function reads it (INFERENCE_SAMPLE_RATE, SHADOW_SHARE, …).
    let settings = ServingSettings::from_env(&mlops_shared::config::Env::process())?;
    let serving = Arc::new(serving::Serving::new(
        backends.store,
        backends.registry,
        settings.clone(),
    ));
    let router = http::finish(serving::router(serving.clone()));
    let path = format!("/models/{model}/predict");
    let call = |body: Vec<u8>| {
        let router = router.clone();
        let request = Request::post(&path)
            .header("content-type", "application/json")
            .body(Body::from(body));
        async move {
            let response = router.oneshot(request?).await?;
            let status = response.status();
            let bytes = response.into_body().collect().await?.to_bytes();
            if !status.is_success() {
                return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)).into());
            }
            Ok::<usize, Error>(bytes.len())
        }
    };

    // Warm: the model cache, and a shadow version, which loads in the background.
    for _ in 0..ONE_RECORD_WARMUP {
        call(one.clone()).await?;
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..ONE_RECORD_WARMUP {
        call(one.clone()).await?;
        tokio::task::yield_now().await;
    }
    serving.inference().flush().await;
    let warm = serving.inference().stats();
    let mut times = Vec::with_capacity(ONE_RECORD_RUNS);
    let all_started = Instant::now();
    for _ in 0..ONE_RECORD_RUNS {
        let body = one.clone();
        let started = Instant::now();
        call(body).await?;
        times.push(started.elapsed());
        // Between invocations a Lambda's runtime waits for the next event, and its background
        // tasks (inference-record writes, a shadow's scoring) run then: here too, untimed.
        tokio::task::yield_now().await;
    }
    serving.inference().flush().await;
    let all = all_started.elapsed();
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "one record through the route ({ONE_RECORD_RUNS} requests): p50 {:.1} µs  p90 {:.1} µs  p99 {:.1} µs  p99.9 {:.1} µs  max {:.1} µs",
        micros(at(0.5)),
        micros(at(0.9)),
        micros(at(0.99)),
        micros(at(0.999)),
        micros(at(1.0)),
    );
    let kept = serving.inference().stats();
    println!(
        "inference records: {} sampled, {} written, {} of them scored by a shadow; {:.1} µs a request with the background work",
        kept.sampled - warm.sampled,
        kept.written - warm.written,
        kept.shadowed - warm.shadowed,
        micros(all) / ONE_RECORD_RUNS as f64
    );

    // Each batch by name ({"records": [...]}) and as feature rows in the model's input order.
    let mut bodies = Vec::new();
    for (name, records) in batches {
        let features = feature_rows(&records, artifact)?;
        bodies.push((name.clone(), records));
        bodies.push((format!("{name} as feature rows"), features));
    }
    for (name, batch) in &bodies {
        // The parts are timed with no inference records being written meanwhile.
        serving.inference().flush().await;
        let frame = predict::parse(batch, &artifact.inputs, &settings.limits)?;
        let records = frame.rows();
        let parse = median_of(BATCH_RUNS, || {
            predict::parse(batch, &artifact.inputs, &settings.limits).map(|_| ())
        })?;
        let score = median_of(BATCH_RUNS, || {
            predict::predict(artifact, &frame, "bench").map(|_| ())
        })?;
        let warned = predict::predict(artifact, &frame, "bench")?
            .iter()
            .filter(|p| !p.warnings.is_empty())
            .count();
        let mut route = Vec::with_capacity(BATCH_RUNS);
        let mut response_bytes = 0;
        for _ in 0..BATCH_RUNS {
            let body = batch.clone();
            let started = Instant::now();
            response_bytes = call(body).await?;
            route.push(started.elapsed());
        }
        route.sort_unstable();
        let route = route[BATCH_RUNS / 2];
        let rate = |d: Duration| records as f64 / d.as_secs_f64() / 1e6;
        println!(
            "{name}: {records} records ({:.1} MB in, {:.1} MB out, {warned} with warnings), median of {BATCH_RUNS}:",
            batch.len() as f64 / 1e6,
            response_bytes as f64 / 1e6
        );
        println!(
            "  JSON to validated frame  {:7.2} ms  {:6.2} M records/s",
            millis(parse),
            rate(parse)
        );
        println!(
            "  model scores + warnings  {:7.2} ms  {:6.2} M records/s",
            millis(score),
            rate(score)
        );
        println!(
            "  whole route              {:7.2} ms  {:6.2} M records/s",
            millis(route),
            rate(route)
        );
    }

    serving.inference().flush().await;
    let stats = serving.inference().stats();
    println!(
        "inference records sampled at {}: {} written, {} failed",
        settings.sampling.rate, stats.written, stats.failed
    );
    Ok(())
}

/// `{"records": [{name: value}]}` as `{"features": [[value, …]]}` in the model's input order.
fn feature_rows(
    records: &[u8],
    artifact: &mlops_shared::artifact::ModelArtifact,
) -> Result<Vec<u8>, Error> {
    let body: serde_json::Value = serde_json::from_slice(records)?;
    let rows: Vec<serde_json::Value> = body["records"]
        .as_array()
        .ok_or("a {\"records\": [...]} body")?
        .iter()
        .map(|record| {
            artifact
                .inputs
                .iter()
                .map(|field| record[&field.name].clone())
                .collect()
        })
        .collect();
    Ok(serde_json::to_vec(
        &serde_json::json!({ "features": rows }),
    )?)
}

fn median_of<E: Into<Error>>(
    runs: usize,
    mut f: impl FnMut() -> Result<(), E>,
) -> Result<Duration, Error> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f().map_err(Into::into)?;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    Ok(times[runs / 2])
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
