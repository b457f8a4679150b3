//! `mlops monitor`: a model's recent window as operators see it (requests, class mix, warnings,
//! features against their training ranges) and its live quality: the window's predictions joined
//! with the outcomes known now, each version's live metrics beside its test metrics and a verdict;
//! the report is written, and a degraded version announced. A degraded champion is then withdrawn
//! where the spec turns `[monitoring] auto_rollback` on, as the template's rule has the promote
//! function do it in AWS.

use std::process::ExitCode;

use clap::Args;
use mlops_shared::clock;
use mlops_shared::monitor::{parse_window, LiveReport, MonitorJob, MonitorOutcome, WindowView};
use mlops_shared::names::ModelName;
use mlops_shared::ports::Backends;
use mlops_shared::promotion::{self, Cause, Command, Promoter, Request};

use crate::Target;

#[derive(Args)]
pub struct MonitorArgs {
    #[arg(long)]
    model: ModelName,
    /// Predictions made in the last WINDOW: minutes, hours or days (30m, 24h, 7d; at most 31d are read).
    #[arg(long, default_value = "24h", value_parser = parse_window)]
    window: chrono::Duration,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: MonitorArgs, target: &Target) -> anyhow::Result<ExitCode> {
    let backends = target.backends().await?;
    let until = clock::now();
    let from = until - args.window;
    let job = MonitorJob::new(&backends);
    let (outcome, view) = job.run_with_view(&args.model, from, until).await?;
    let withdrawals = react(&backends, &outcome).await?;
    if args.json {
        let mut json = serde_json::to_value(&outcome)?;
        json["window"] = serde_json::to_value(&view)?;
        json["withdrawals"] = serde_json::to_value(&withdrawals)?;
        println!("{json}");
        return Ok(ExitCode::SUCCESS);
    }
    print_window(&view);
    print_human(&outcome.report);
    println!("  report     {}", backends.store.uri(&outcome.html_key));
    println!("             {}", backends.store.uri(&outcome.json_key));
    if !outcome.degraded.is_empty() {
        println!(
            "  announced  PerformanceDegraded for version(s) {:?}",
            outcome.degraded
        );
    }
    for withdrawal in &withdrawals {
        println!("  rollback   {}", withdrawal.message);
    }
    Ok(ExitCode::SUCCESS)
}

/// Each degraded champion, withdrawn if its spec says so: what the `PerformanceDegraded` rule
/// does in AWS, from the same event.
pub async fn react(
    backends: &Backends,
    outcome: &MonitorOutcome,
) -> anyhow::Result<Vec<promotion::Outcome>> {
    let mut withdrawals = Vec::new();
    for event in outcome.degradations() {
        let detail = &event.detail;
        if detail["champion"] != true {
            continue;
        }
        let version = detail["version"].as_u64().unwrap_or_default();
        let request = Request::new(
            &format!(
                "monitor-{}-v{version}",
                outcome.json_key.as_str().replace('/', "-")
            ),
            "monitor",
            Some("live quality degraded".into()),
        )?;
        let command = Command::Withdraw {
            model: outcome.report.model.clone(),
            version,
            cause: Cause::of_degradation(detail),
        };
        withdrawals.push(Promoter::new(backends).execute(&command, &request).await?);
    }
    Ok(withdrawals)
}

/// What was asked and answered in the window.
fn print_window(view: &WindowView) {
    println!(
        "{}: {} requests, {} records kept from {} to {} (by version {:?})",
        view.model,
        view.requests,
        view.records,
        view.from.format("%Y-%m-%d %H:%M UTC"),
        view.until.format("%Y-%m-%d %H:%M UTC"),
        view.records_by_version
    );
    println!(
        "answered: {:?}; {:.1}% with warnings",
        view.class_mix,
        view.warning_rate * 100.0
    );
    if let Some(histogram) = &view.score_histogram {
        println!("scores (10 bins from 0 to 1): {histogram:?}");
    }
    println!("  feature              mean      null  out of range");
    for f in &view.features {
        let mean = f.mean.map_or("-".to_owned(), |m| format!("{m:.3}"));
        println!(
            "  {:<16} {mean:>10} {:>8.1}% {:>12.1}%",
            f.name,
            f.null_share * 100.0,
            f.out_of_range_share * 100.0
        );
    }
}

pub fn print_human(report: &LiveReport) {
    let c = &report.counts;
    println!(
        "{}: {} predictions from {} to {}, {} with an outcome",
        report.model,
        c.predictions,
        report.from.format("%Y-%m-%d %H:%M UTC"),
        report.until.format("%Y-%m-%d %H:%M UTC"),
        c.labelled
    );
    println!(
        "outcomes: {} read, {} repeated, {} changed, {} for unknown ids, {} before their prediction, {} with unknown labels",
        c.outcomes, c.repeated, c.changed, c.unknown_ids, c.before_prediction, c.unknown_labels
    );
    for v in &report.versions {
        let live = v.live.as_ref();
        let metric = |name: &str, live: Option<f64>| {
            let test = v
                .test
                .get(name)
                .map_or("-".to_owned(), |x| format!("{x:.4}"));
            let live = live.map_or("-".to_owned(), |x| format!("{x:.4}"));
            format!("{name} {live} (test {test})")
        };
        println!(
            "  version {}: {} predictions, {} labelled; {}  {}  {}",
            v.version,
            v.predictions,
            live.map_or(0, |l| l.rows),
            metric("roc_auc", live.and_then(|l| l.roc_auc)),
            metric("f1", live.and_then(|l| l.f1)),
            metric("log_loss", live.map(|l| l.log_loss)),
        );
        if let Some(shape) = &v.scores {
            let calibration: Vec<String> = shape
                .calibration
                .iter()
                .filter_map(|b| Some(format!("{:.2}→{:.2}", b.mean_score?, b.observed_rate?)))
                .collect();
            let band = shape.band.as_ref().map_or(String::new(), |b| {
                format!(
                    " ({} the band [{:.4}, {:.4}] around the test part's {:.4})",
                    if b.outside { "OUTSIDE" } else { "inside" },
                    b.low,
                    b.high,
                    b.test_rate
                )
            });
            println!(
                "    positive rate {:.4}{band}; score histogram {:?}; calibration (mean score → observed rate) {}",
                shape.positive_rate,
                shape.histogram,
                calibration.join(" ")
            );
        }
        if let Some(cost) = &v.cost {
            let test = cost
                .test_per_row
                .map_or("-".to_owned(), |t| format!("{t:.4}"));
            println!(
                "    cost per prediction {:.4} (test {test})",
                cost.live_per_row
            );
        }
        let judged = &v.judgement;
        let interval = judged.interval.map_or(String::new(), |(low, high)| {
            format!(" [{low:.4}, {high:.4}]")
        });
        println!(
            "    verdict {} on {}{interval}{}",
            judged.verdict.as_str(),
            judged.metric,
            judged
                .reasons
                .iter()
                .map(|r| format!("; {r}"))
                .collect::<String>()
        );
    }
    for c in &report.shadows {
        let figure = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{x:.4}"));
        println!(
            "  shadow version {} beside champion {} on the same {} labelled predictions: {} {} against {}; verdict {}",
            c.shadow,
            c.champion,
            c.judgement.labelled,
            c.judgement.metric,
            figure(c.judgement.live),
            figure(c.champion_live),
            c.judgement.verdict.as_str()
        );
    }
}
