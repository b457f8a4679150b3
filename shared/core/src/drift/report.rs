//! The drift report: JSON for machines, one self-contained HTML page for people (inline SVG
//! histograms, a sortable table, no external assets).

use std::fmt::Write;

use chrono::{DateTime, Utc};
use minijinja::Environment;
use serde::{Deserialize, Serialize};

use super::compare::{Comparison, FeatureDrift, Thresholds};
use crate::names::{DatasetName, ModelName};

const TEMPLATE: &str = include_str!("../../templates/drift.html");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub model: ModelName,
    pub dataset: DatasetName,
    pub generated_at: DateTime<Utc>,
    /// What started the run (`schedule`, `cli`, …).
    pub trigger: String,
    /// `drift`, `no drift` or `insufficient data`.
    pub verdict: String,
    pub reference: ReferenceInfo,
    pub current: CurrentInfo,
    pub thresholds: Thresholds,
    #[serde(flatten)]
    pub comparison: Comparison,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceInfo {
    /// The model version whose features were compared.
    pub version: u64,
    /// Its training data, or the baseline file given instead, in words.
    pub description: String,
    pub rows: u64,
    pub trained_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentInfo {
    /// `inference`, `data_version` or `file`.
    pub source: String,
    /// The window, the data version or the file name, in words.
    pub description: String,
    pub rows: u64,
    /// Inference records that could not be read (skipped, and logged).
    #[serde(default)]
    pub unreadable_records: u64,
}

pub fn verdict(dataset_drift: Option<bool>) -> &'static str {
    match dataset_drift {
        Some(true) => "drift",
        Some(false) => "no drift",
        None => "insufficient data",
    }
}

#[derive(Serialize)]
struct Page<'a> {
    report: &'a DriftReport,
    features: Vec<Row<'a>>,
    prediction: Vec<Row<'a>>,
}

#[derive(Serialize)]
struct Row<'a> {
    feature: &'a FeatureDrift,
    svg: String,
}

pub fn render_html(report: &DriftReport) -> Result<String, minijinja::Error> {
    let page = Page {
        report,
        features: rows(&report.comparison.features),
        prediction: rows(&report.comparison.prediction),
    };
    let mut env = Environment::new();
    // The .html name turns on escaping: feature, level and file names come from the data.
    env.add_template("drift.html", TEMPLATE)?;
    env.get_template("drift.html")?
        .render(minijinja::value::Serde(&page))
}

/// Narrow enough that the features table fits a 1,280-pixel window beside its ten columns.
const WIDTH: f64 = 240.0;
const HEIGHT: f64 = 110.0;
const REFERENCE_COLOUR: &str = "#7a9cc6";
const CURRENT_COLOUR: &str = "#e8833a";
/// Current values outside the reference's range.
const OUTSIDE_COLOUR: &str = "#b03a2e";

fn rows(features: &[FeatureDrift]) -> Vec<Row<'_>> {
    features
        .iter()
        .map(|feature| Row {
            feature,
            svg: histogram_svg(feature),
        })
        .collect()
}

/// Reference and current shares side by side per bin; each bar's title gives the numbers. The
/// current values outside the reference's range stand beyond dashed lines, one bar on each side.
fn histogram_svg(feature: &FeatureDrift) -> String {
    let h = &feature.histogram;
    let top = h
        .reference
        .iter()
        .chain(&h.current)
        .chain(&h.below)
        .chain(&h.above)
        .copied()
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let (first, last) = (
        h.bins.first().and_then(|b| b.split('–').next()),
        h.bins.last().and_then(|b| b.rsplit('–').next()),
    );
    let below = h
        .below
        .map(|share| (share, format!("below {}", first.unwrap_or("the range"))));
    let above = h
        .above
        .map(|share| (share, format!("above {}", last.unwrap_or("the range"))));
    let slots = h.bins.len() + usize::from(below.is_some()) + usize::from(above.is_some());
    let slot = WIDTH / slots.max(1) as f64;
    let bar = (slot / 2.0 - 1.0).max(0.5);
    let height_of = |share: f64| (share / top * HEIGHT).max(if share > 0.0 { 1.0 } else { 0.0 });
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{}" viewBox="0 0 {WIDTH} {}" role="img" aria-label="{} histogram">"#,
        HEIGHT + 2.0,
        HEIGHT + 2.0,
        html_escape(&feature.name)
    );
    let outside = |svg: &mut String, at: usize, (share, what): &(f64, String)| {
        let x = at as f64 * slot;
        let height = height_of(*share);
        let separator = if at == 0 { x + slot } else { x };
        let _ = write!(
            svg,
            r##"<line x1="{separator:.1}" y1="0" x2="{separator:.1}" y2="{HEIGHT}" stroke="#999" stroke-dasharray="3 3"/><rect x="{:.1}" y="{:.1}" width="{bar:.1}" height="{height:.1}" fill="{OUTSIDE_COLOUR}"><title>current {}, outside the reference: {:.2}%</title></rect>"##,
            x + (slot - bar) / 2.0,
            HEIGHT - height,
            html_escape(what),
            share * 100.0
        );
    };
    if let Some(below) = &below {
        outside(&mut svg, 0, below);
    }
    let offset = usize::from(below.is_some());
    for (i, bin) in h.bins.iter().enumerate() {
        for (side, (shares, colour)) in [
            (&h.reference, REFERENCE_COLOUR),
            (&h.current, CURRENT_COLOUR),
        ]
        .into_iter()
        .enumerate()
        {
            let share = shares.get(i).copied().unwrap_or(0.0);
            let height = height_of(share);
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{bar:.1}" height="{height:.1}" fill="{colour}"><title>{} {}: {:.2}%</title></rect>"#,
                (offset + i) as f64 * slot + side as f64 * (bar + 1.0),
                HEIGHT - height,
                html_escape(bin),
                if side == 0 { "reference" } else { "current" },
                share * 100.0
            );
        }
    }
    if let Some(above) = &above {
        outside(&mut svg, slots - 1, above);
    }
    let _ = write!(
        svg,
        r##"<line x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}" stroke="#999"/></svg>"##
    );
    svg
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
