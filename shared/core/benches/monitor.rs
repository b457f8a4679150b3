//! Benchmark: the monitor's join and live metrics on N predictions × N outcomes in memory (the
//! work `MonitorJob` does once the records are read): outcomes joined to predictions by id (in
//! another order, each observed after its prediction), then the test part's metrics, the verdict
//! with its 200-resample bootstrap interval, the score histogram and calibration.
//!
//! Usage: cargo bench --profile bench-fast -p mlops-core --bench monitor -- <rows> [<folder>]
//! With a folder, the same data is written there as predictions.csv and outcomes.csv for the
//! peer (bench/monitor_peer.py). Prints the time and the process's peak memory.

use std::io::Write;
use std::time::Instant;

use mlops_core::evaluate::evaluate;
use mlops_core::monitor::verdict::Labelled as Rows;
use mlops_core::monitor::{join, judge, shape, Observed, Predicted, Rules};
use mlops_core::spec::Metric;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rows: usize = args.first().map_or(Ok(1_000_000), |n| n.parse())?;
    let folder = args.get(1);

    // Scores that rank the outcomes moderately well, as a real model's do.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let ids: Vec<String> = (0..rows)
        .map(|i| format!("req-{}-{}", i / 100, i % 100))
        .collect();
    let start = 1_780_000_000_000i64;
    let at: Vec<i64> = (0..rows as i64).map(|i| start + i).collect();
    let mut scores = Vec::with_capacity(rows);
    let mut truth = Vec::with_capacity(rows);
    for _ in 0..rows {
        let signal: f64 = rng.random::<f64>() * 4.0 - 2.0;
        let score = 1.0 / (1.0 + (-signal).exp());
        scores.push(score);
        truth.push(u8::from(rng.random::<f64>() < score));
    }
    let mut order: Vec<usize> = (0..rows).collect();
    order.shuffle(&mut rng);
    let observed_at = start + 86_400_000;
    if let Some(folder) = folder {
        let mut predictions =
            std::io::BufWriter::new(std::fs::File::create(format!("{folder}/predictions.csv"))?);
        writeln!(predictions, "prediction_id,score,at")?;
        for i in 0..rows {
            writeln!(predictions, "{},{},{}", ids[i], scores[i], at[i])?;
        }
        let mut outcomes =
            std::io::BufWriter::new(std::fs::File::create(format!("{folder}/outcomes.csv"))?);
        writeln!(outcomes, "prediction_id,late,observed_at")?;
        for &i in &order {
            writeln!(outcomes, "{},{},{observed_at}", ids[i], truth[i])?;
        }
    }
    let labels = ["0", "1"];
    let classes = ["0".to_owned(), "1".to_owned()];

    let started = Instant::now();
    let predicted: Vec<Predicted> = (0..rows)
        .map(|i| Predicted {
            id: &ids[i],
            version: 1,
            at: at[i],
        })
        .collect();
    let observed: Vec<Observed> = order
        .iter()
        .map(|&i| Observed {
            id: &ids[i],
            label: labels[truth[i] as usize],
            observed_at,
        })
        .collect();
    let (labelled, counts) = join(&predicted, &observed, |_, label| {
        labels.iter().position(|l| *l == label).map(|c| c as u32)
    });
    let joined = started.elapsed();
    let mut probabilities = Vec::with_capacity(2 * labelled.len());
    let mut y = Vec::with_capacity(labelled.len());
    let mut pairs = Vec::with_capacity(labelled.len());
    for l in &labelled {
        let score = scores[l.prediction];
        probabilities.extend([1.0 - score, score]);
        y.push(l.class);
        pairs.push((score, l.class == 1));
    }
    let live = evaluate(&probabilities, &y, &classes, Some(0.5));
    let rules = Rules {
        metric: Metric::RocAuc,
        min_primary: Some(0.6),
        max_live_regression: 0.05,
        min_labelled_rows: 200,
    };
    let rows_of = Rows {
        probabilities: &probabilities,
        y: &y,
        classes: &classes,
        threshold: Some(0.5),
    };
    let judgement = judge(&rules, Some(0.80), live.get(rules.metric), &rows_of, 1);
    let shape = shape(&scores, 0.5, &pairs);
    let elapsed = started.elapsed();

    println!(
        "mlops: {rows} predictions × {} outcomes: {} labelled; roc_auc {:.4} [{:.4}, {:.4}], f1 {:.4}, positive rate {:.4}",
        counts.outcomes,
        counts.labelled,
        live.roc_auc.unwrap_or(f64::NAN),
        judgement.interval.map_or(f64::NAN, |i| i.0),
        judgement.interval.map_or(f64::NAN, |i| i.1),
        live.f1.unwrap_or(f64::NAN),
        shape.positive_rate
    );
    println!(
        "mlops: join {:.2} s, join and live metrics {:.2} s; peak memory {:.0} MB (data included)",
        joined.as_secs_f64(),
        elapsed.as_secs_f64(),
        peak_mb()
    );
    Ok(())
}

/// The process's peak resident memory (VmHWM), in MB.
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
