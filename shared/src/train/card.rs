//! The model card: one self-contained HTML page (inline CSS and SVG, no scripts) saying what the
//! model is for, what data made it, how good it is overall and per slice, and where it came from.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};

use minijinja::Environment;
use serde::Serialize;

use super::{CandidateResult, MetricsReport};
use crate::artifact::ModelArtifact;
use crate::evaluate::Threshold;
use crate::names::{DatasetName, ModelName};
use crate::spec::{DatasetSpec, Metric};
use crate::training_data::{DataVersionRef, Lineage, RowCounts, TargetShaping, TimeRange};

const TEMPLATE: &str = include_str!("../../templates/card.html");
/// Enough points to draw a smooth ROC curve; more only makes the page heavier.
const ROC_POINTS: usize = 400;
/// Terms listed per class for a linear model's text features.
const INFORMATIVE_TERMS: usize = 10;

/// Everything the template shows.
#[derive(Serialize)]
struct Page<'a> {
    model: &'a ModelName,
    version: u64,
    dataset: &'a DatasetName,
    description: &'a str,
    target: &'a str,
    task: String,
    classes: &'a [String],
    threshold: Option<&'a Threshold>,
    learner: &'a str,
    trained_at: DateTime<Utc>,
    headline: Vec<Headline>,
    confusion: &'a [Vec<u64>],
    roc_svg: Option<String>,
    calibration_svg: Option<String>,
    slices: Vec<SliceRow>,
    primary_metric: Metric,
    candidates: &'a [CandidateResult],
    chosen: usize,
    rows: &'a RowCounts,
    shaping: &'a TargetShaping,
    time_ranges: Option<&'a BTreeMap<String, Option<TimeRange>>>,
    parts: Vec<Part>,
    data_versions: &'a [DataVersionRef],
    retired_versions: &'a [String],
    features: Vec<String>,
    /// Per true class, a histogram of its test rows' scores.
    score_histograms: Vec<ScoreRow>,
    /// Each input feature's mean absolute contribution, largest first, with its bar's length.
    importance: Vec<ImportanceRow>,
    importance_rows: usize,
    /// Per class and text feature, the terms that speak most for it (linear models).
    informative_terms: Vec<crate::predict::explain::ClassTerms>,
    fingerprint: &'a str,
    spec_version: u32,
    spec_sha256: &'a str,
    code_version: &'a str,
    seed: u64,
    training_seconds: f64,
}

#[derive(Serialize)]
struct ScoreRow {
    class: String,
    rows: usize,
    svg: String,
}

#[derive(Serialize)]
struct ImportanceRow {
    feature: String,
    value: f64,
    /// Percent of the largest.
    bar: f64,
}

#[derive(Serialize)]
struct Headline {
    name: String,
    value: f64,
}

#[derive(Serialize)]
struct SliceRow {
    column: String,
    value: String,
    rows: usize,
    roc_auc: Option<f64>,
    f1: Option<f64>,
    f1_macro: f64,
    accuracy: f64,
}

#[derive(Serialize)]
struct Part {
    name: &'static str,
    rows: usize,
    from: String,
    to: String,
}

pub fn render(
    spec: &DatasetSpec,
    artifact: &ModelArtifact,
    metrics: &MetricsReport,
    lineage: &Lineage,
    roc: Option<&[(f64, f64)]>,
) -> Result<String, minijinja::Error> {
    let headline: Vec<_> = metrics
        .summary()
        .into_iter()
        .filter(|(name, _)| name != "threshold")
        .map(|(name, value)| Headline { name, value })
        .collect();
    let slices: Vec<SliceRow> = metrics
        .slices
        .iter()
        .flat_map(|(column, values)| {
            values.iter().map(move |(value, e)| SliceRow {
                column: column.clone(),
                value: value.clone(),
                rows: e.rows,
                roc_auc: e.roc_auc,
                f1: e.f1,
                f1_macro: e.f1_macro,
                accuracy: e.accuracy,
            })
        })
        .collect();
    let range = |name: &str| {
        lineage
            .time_ranges
            .as_ref()
            .and_then(|r| r.get(name).cloned().flatten())
            .map_or((String::new(), String::new()), |r| (r.from, r.to))
    };
    let parts: Vec<Part> = [
        ("train", lineage.rows.train),
        ("validation", lineage.rows.validation),
        ("test", lineage.rows.test),
    ]
    .into_iter()
    .map(|(name, rows)| {
        let (from, to) = range(name);
        Part {
            name,
            rows,
            from,
            to,
        }
    })
    .collect();
    let importance: Vec<ImportanceRow> = metrics
        .importance
        .iter()
        .flat_map(|i| {
            let largest = i.features.first().map_or(0.0, |f| f.mean_abs_contribution);
            i.features.iter().map(move |f| ImportanceRow {
                feature: f.feature.clone(),
                value: f.mean_abs_contribution,
                bar: if largest > 0.0 {
                    100.0 * f.mean_abs_contribution / largest
                } else {
                    0.0
                },
            })
        })
        .collect();
    let page = Page {
        model: &artifact.model,
        version: artifact.version,
        dataset: &artifact.dataset,
        description: &spec.dataset.description,
        target: &artifact.target,
        task: format!("{:?}", artifact.task).to_lowercase(),
        classes: &artifact.classes,
        threshold: metrics.threshold.as_ref(),
        learner: &lineage.learner,
        trained_at: lineage.trained_at,
        headline,
        confusion: &metrics.test.confusion_matrix,
        roc_svg: roc.map(roc_svg),
        calibration_svg: (!metrics.calibration.is_empty())
            .then(|| calibration_svg(&metrics.calibration)),
        slices,
        primary_metric: metrics.primary_metric,
        candidates: &metrics.candidates,
        chosen: metrics.chosen,
        rows: &lineage.rows,
        shaping: &lineage.target,
        time_ranges: lineage.time_ranges.as_ref(),
        parts,
        data_versions: &lineage.data_versions,
        retired_versions: &lineage.retired_versions,
        features: feature_list(artifact),
        score_histograms: metrics
            .score_histograms
            .iter()
            .map(|h| ScoreRow {
                class: h.class.clone(),
                rows: h.rows,
                svg: scores_svg(h),
            })
            .collect(),
        importance,
        importance_rows: metrics.importance.as_ref().map_or(0, |i| i.rows),
        informative_terms: crate::predict::explain::informative_terms(artifact, INFORMATIVE_TERMS),
        fingerprint: &lineage.fingerprint,
        spec_version: lineage.spec_version,
        spec_sha256: &lineage.spec_sha256,
        code_version: &lineage.code_version,
        seed: lineage.seed,
        training_seconds: lineage.training_seconds,
    };
    let mut env = Environment::new();
    env.add_template("card.html", TEMPLATE)?;
    env.get_template("card.html")?
        .render(minijinja::value::Serde(&page))
}

/// The ROC curve as an inline SVG line chart with the chance diagonal.
/// The side and margin of the card's square plots, in pixels.
const PLOT_SIZE: f64 = 300.0;
const PLOT_PAD: f64 = 40.0;

/// Where (x, y) of the unit square lands in a square plot.
fn plot_at(x: f64, y: f64) -> (f64, f64) {
    (PLOT_PAD + x * PLOT_SIZE, PLOT_PAD + (1.0 - y) * PLOT_SIZE)
}

/// A plot of the unit square: its frame, the diagonal, a line through `points` (placed by
/// [`plot_at`]) in `colour`, any `marks`, the axis labels and the title.
fn square_plot(
    title: &str,
    (x_label, y_label): (&str, &str),
    colour: &str,
    points: &[(f64, f64)],
    marks: &str,
) -> String {
    let points: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let full = PLOT_SIZE + 2.0 * PLOT_PAD;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{full}" height="{full}" viewBox="0 0 {full} {full}" role="img" aria-label="{title}">
<rect x="{pad}" y="{pad}" width="{size}" height="{size}" fill="none" stroke="#999"/>
<line x1="{pad}" y1="{bottom}" x2="{right}" y2="{pad}" stroke="#bbb" stroke-dasharray="4 4"/>
<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>{marks}
<text x="{mid}" y="{label_y}" text-anchor="middle" font-size="12">{x_label}</text>
<text x="12" y="{mid}" text-anchor="middle" font-size="12" transform="rotate(-90 12 {mid})">{y_label}</text>
<text x="{mid}" y="24" text-anchor="middle" font-size="13">{title}</text>
</svg>"##,
        pad = PLOT_PAD,
        size = PLOT_SIZE,
        bottom = PLOT_PAD + PLOT_SIZE,
        right = PLOT_PAD + PLOT_SIZE,
        mid = PLOT_PAD + PLOT_SIZE / 2.0,
        label_y = full - 10.0,
        points = points.join(" "),
    )
}

/// Predicted against observed per bin of the test part's scores, the diagonal being perfect
/// calibration; each point's title gives its bin and rows.
fn calibration_svg(bins: &[crate::evaluate::CalibrationBin]) -> String {
    let mut points = Vec::new();
    let mut marks = String::new();
    for bin in bins {
        if let (Some(predicted), Some(observed)) = (bin.mean_predicted, bin.observed) {
            let (x, y) = plot_at(predicted, observed);
            points.push((x, y));
            let _ = write!(
                marks,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="#e8833a"><title>scores {:.1}–{:.1}: {} rows, mean {:.3}, observed {:.3}</title></circle>"##,
                bin.from, bin.to, bin.rows, predicted, observed
            );
        }
    }
    square_plot(
        "Calibration (test, 10 bins)",
        ("mean predicted probability", "observed share positive"),
        "#e8833a",
        &points,
        &marks,
    )
}

/// The encoded features, the texts marked as such.
fn feature_list(artifact: &ModelArtifact) -> Vec<String> {
    let mut names = artifact.pipeline.feature_names();
    let first_text = names.len() - artifact.pipeline.text.len();
    for name in &mut names[first_text..] {
        name.push_str(" (text)");
    }
    names
}

/// One class's score histogram: a bar per bin, as tall as its share of the class's rows.
fn scores_svg(h: &crate::evaluate::ClassScores) -> String {
    const WIDTH: f64 = 300.0;
    const HEIGHT: f64 = 48.0;
    let bins = h.counts.len().max(1);
    let slot = WIDTH / bins as f64;
    let largest = h.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{}" viewBox="0 0 {WIDTH} {}" role="img" aria-label="scores of class {}">"#,
        HEIGHT + 1.0,
        HEIGHT + 1.0,
        minijinja::HtmlEscape(&h.class)
    );
    for (i, &count) in h.counts.iter().enumerate() {
        let height = count as f64 / largest * HEIGHT;
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{height:.1}" fill="#1f6feb"><title>{:.2}–{:.2}: {count} rows</title></rect>"##,
            i as f64 * slot + 0.5,
            HEIGHT - height,
            slot - 1.0,
            i as f64 / bins as f64,
            (i + 1) as f64 / bins as f64,
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}" stroke="#999"/></svg>"##
    );
    svg
}

fn roc_svg(curve: &[(f64, f64)]) -> String {
    let step = curve.len().div_ceil(ROC_POINTS).max(1);
    let points: Vec<(f64, f64)> = curve
        .iter()
        .step_by(step)
        .chain(curve.last())
        .map(|&(x, y)| plot_at(x, y))
        .collect();
    square_plot(
        "ROC curve (test)",
        ("false positive rate", "true positive rate"),
        "#1f6feb",
        &points,
        "",
    )
}
