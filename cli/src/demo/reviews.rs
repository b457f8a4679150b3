//! `mlops demo --dataset reviews`: free text as a feature. Reviews become TF-IDF words and word
//! pairs, a logistic regression learns which earned five stars, and the API says why it decided.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use mlops_shared::ingest::{Ingestor, Status};
use mlops_shared::names::{DatasetName, ModelName};
use mlops_shared::ports::Backends;
use mlops_shared::predict::{explain, ModelCache, Selector};

use super::{check_drift, decide, gunzip, ingest, install, post_to_router, print_reports, train};

const SPEC: &str = include_str!("../../../infra/datasets/reviews.toml");
const TRAIN: &[u8] = include_bytes!("../../../infra/datasets/reviews-sample/reviews-train.csv.gz");
const LATER: &[u8] = include_bytes!("../../../infra/datasets/reviews-sample/reviews-new.csv.gz");

/// Two reviews written for the demo, one of each kind.
const REQUEST: &str = r#"{"records": [
  {"review": "The best coffee I have ever had: smooth, rich and never bitter. I buy it every month and my whole family loves it."},
  {"review": "Stale and tasteless. The bag arrived torn, the chips were broken, and it was not worth the price. I would not buy it again."}
]}"#;

pub async fn run(dir: &Path, backends: &Backends) -> anyhow::Result<ExitCode> {
    let ingestor = Ingestor::new(backends.store.clone(), backends.registry.clone(), u64::MAX);
    let dataset = DatasetName::parse("reviews")?;
    let model = ModelName::of_dataset(&dataset);

    println!("== 1. Install the reviews contract: a review's free text, and whether it earned five stars");
    install(backends, SPEC).await?;

    println!("== 2. Ingest 1,500 reviews");
    let mut outcomes =
        vec![ingest(&ingestor, &dataset, "reviews-train.csv.gz", TRAIN.to_vec()).await?];

    println!("\n== 3. A broken upload: one review in ten rated \"5 stars\", which the contract does not allow");
    outcomes.push(
        ingest(
            &ingestor,
            &dataset,
            "reviews-rated-in-stars.csv",
            rated_in_stars(&gunzip(TRAIN)?, 10),
        )
        .await?,
    );

    println!("\n== 4. Train: TF-IDF of words and word pairs, fitted on the training part, and a logistic regression");
    let trained = train(backends, dir, &dataset, "demo", "training on the reviews").await?;
    let loaded = ModelCache::new(
        backends.store.clone(),
        backends.registry.clone(),
        Duration::ZERO,
    )
    .get(&model, &Selector::Version(trained.record.version))
    .await?;
    println!("  the words that weigh most for each class (the model card lists ten):");
    for class in explain::informative_terms(&loaded.artifact, 8) {
        let terms: Vec<&str> = class.terms.iter().map(|(term, _)| term.as_str()).collect();
        println!("    {:<6} {}", class.class, terms.join(", "));
    }

    println!(
        "\n== 5. Promote: the policy's gates decide whether version {} becomes the champion",
        trained.record.version
    );
    let promoted = decide(
        backends,
        &dataset,
        trained.record.version,
        "the demo's first model",
    )
    .await?;

    println!("\n== 6. Serve: two new reviews, each with its classes ranked and the words that decided it");
    let path = "/models/reviews/predict?top_k=2&explain=true";
    let (status, answer) = post_to_router(backends, path, REQUEST).await?;
    // A binary model's contributions push towards its positive class, its second.
    let positive = loaded.artifact.classes.last().map_or("", String::as_str);
    println!(
        "POST {path} -> {status}, model {} version {}",
        answer.model, answer.version
    );
    for (i, p) in answer.predictions.iter().enumerate() {
        let score = p
            .score
            .map(|s| format!(" (score {s:.3})"))
            .unwrap_or_default();
        println!("  review {i}: {}{score}", p.label);
        let words: Vec<String> = p
            .explanation
            .iter()
            .flat_map(|e| &e.contributions)
            .flat_map(|c| &c.terms)
            .map(|t| format!("{} {:+.2}", t.term, t.contribution))
            .take(5)
            .collect();
        println!(
            "    its weightiest words, in log-odds towards {positive}: {}",
            words.join(", ")
        );
    }

    println!("\n== 7. 500 later reviews arrive and are checked for drift against the champion's training data");
    let later = ingest(&ingestor, &dataset, "reviews-new.csv.gz", LATER.to_vec()).await?;
    let drift = check_drift(backends, dir, &dataset, &later).await?;
    outcomes.push(later);

    let count = |status| outcomes.iter().filter(|o| o.status == status).count();
    println!("\n== Summary");
    println!(
        "{} uploads: {} accepted, {} quarantined",
        outcomes.len(),
        count(Status::Accepted),
        count(Status::Quarantined)
    );
    print_reports(dir, &outcomes, &trained.record.card_key, drift.as_ref());
    match promoted.champion {
        Some(version) => println!(
            "champion:      reviews version {version} (mlops predict --model reviews --home {} --explain FILE)",
            dir.display()
        ),
        None => println!("champion:      none yet"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The sample with every `every`-th review rated "5 stars" instead of "great": each row of the
/// sample is one line ending in its rating.
fn rated_in_stars(csv: &str, every: usize) -> Vec<u8> {
    let mut out = String::with_capacity(csv.len());
    for (i, line) in csv.lines().enumerate() {
        match line
            .strip_suffix(",great")
            .filter(|_| i > 0 && i % every == 0)
        {
            Some(review) => {
                out.push_str(review);
                out.push_str(",5 stars");
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out.into_bytes()
}
