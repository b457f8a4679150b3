//! The operators' view of a recent window (`GET /models/{model}/monitor?window=1h`, `mlops
//! monitor --window 1h`): what was asked and answered, read from the inference records alone, with
//! each version's live quality where outcomes have arrived. Nothing is written or announced.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::inputs::{Cell, Inputs};
use super::{LiveReport, Scored, Verdict};
use crate::artifact::ModelArtifact;
use crate::names::ModelName;
use crate::predict::inference::InferenceRecord;
use crate::spec::Metric;

/// The longest window the view reads: a month of records. A longer one is read as this.
pub const MAX_WINDOW: Duration = Duration::days(31);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowView {
    pub model: ModelName,
    pub champion: Option<u64>,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Requests and records that were kept (all of them at an inference sample rate of 1).
    pub requests: u64,
    pub records: u64,
    pub records_by_version: BTreeMap<u64, u64>,
    /// Records per predicted label.
    pub class_mix: BTreeMap<String, u64>,
    /// Binary models: the positive class's scores in 10 bins from 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_histogram: Option<[u64; 10]>,
    /// The share of records answered with at least one warning.
    pub warning_rate: f64,
    pub features: Vec<FeatureWindow>,
    /// Per version: labelled predictions and the live primary metric where outcomes arrived.
    pub quality: Vec<VersionQuality>,
    /// Inference-record lines that could not be read.
    pub unreadable_records: u64,
}

/// One input feature over the window's records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureWindow {
    pub name: String,
    /// Numeric features: the mean of the values present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    pub null_share: f64,
    /// Numeric: outside the training range; categorical: a level training did not keep.
    pub out_of_range_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionQuality {
    pub version: u64,
    pub labelled: u64,
    pub metric: Metric,
    pub live: Option<f64>,
    pub test: Option<f64>,
    pub verdict: Verdict,
}

/// Reads a window as operators write it: `30m`, `1h`, `24h`, `7d`: a positive number of at most
/// 6 significant digits and a unit (the API document's pattern). Longer than [`MAX_WINDOW`]
/// reads as it.
pub fn parse_window(text: &str) -> Result<Duration, String> {
    let fail = || {
        format!("window {text:?} is not a duration: write minutes, hours or days as 30m, 1h or 7d")
    };
    let unit = text.chars().last().ok_or_else(fail)?;
    let digits = &text[..text.len() - unit.len_utf8()];
    let significant = digits.trim_start_matches('0');
    if !(1..=6).contains(&significant.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail());
    }
    let n: i64 = significant.parse().map_err(|_| fail())?;
    let window = match unit {
        'm' => Duration::try_minutes(n),
        'h' => Duration::try_hours(n),
        'd' => Duration::try_days(n),
        _ => None,
    }
    .ok_or_else(fail)?;
    if window <= Duration::zero() {
        return Err(fail());
    }
    Ok(window.min(MAX_WINDOW))
}

pub(super) fn view(
    report: &LiveReport,
    records: &[InferenceRecord],
    versions: &BTreeMap<u64, Scored>,
    inputs: &Inputs,
) -> WindowView {
    let mut records_by_version = BTreeMap::new();
    let mut class_mix = BTreeMap::new();
    let mut requests = BTreeSet::new();
    let mut warned = 0u64;
    let mut histogram = [0u64; 10];
    let binary = versions.values().all(|v| v.artifact.classes.len() == 2);
    for record in records {
        *records_by_version.entry(record.version).or_insert(0) += 1;
        *class_mix
            .entry(record.output.label.to_string())
            .or_insert(0) += 1;
        requests.insert(record.request_id.as_str());
        warned += u64::from(!record.output.warnings.is_empty());
        if let Some(score) = record.output.score {
            histogram[((score * 10.0) as usize).min(9)] += 1;
        }
    }
    let share = |n: u64| {
        if records.is_empty() {
            0.0
        } else {
            n as f64 / records.len() as f64
        }
    };
    let artifacts: BTreeMap<u64, &ModelArtifact> =
        versions.iter().map(|(v, s)| (*v, &s.artifact)).collect();
    WindowView {
        model: report.model.clone(),
        champion: report.champion,
        from: report.from,
        until: report.until,
        requests: requests.len() as u64,
        records: records.len() as u64,
        records_by_version,
        class_mix,
        score_histogram: (binary && !records.is_empty()).then_some(histogram),
        warning_rate: share(warned),
        features: features(records, inputs, &artifacts)
            .into_iter()
            .map(|(name, f)| FeatureWindow {
                name,
                mean: (f.numeric > 0).then(|| f.sum / f.numeric as f64),
                null_share: share(f.nulls),
                out_of_range_share: share(f.out_of_range),
            })
            .collect(),
        quality: report
            .versions
            .iter()
            .map(|v| VersionQuality {
                version: v.version,
                labelled: v.judgement.labelled,
                metric: v.judgement.metric,
                live: v.judgement.live,
                test: v.judgement.test,
                verdict: v.judgement.verdict,
            })
            .collect(),
        unreadable_records: report.unreadable_records,
    }
}

#[derive(Default)]
struct Tally {
    numeric: u64,
    sum: f64,
    nulls: u64,
    out_of_range: u64,
}

/// Per input feature, in the order the first version's model reads them.
fn features(
    records: &[InferenceRecord],
    inputs: &Inputs,
    artifacts: &BTreeMap<u64, &ModelArtifact>,
) -> Vec<(String, Tally)> {
    let mut names: Vec<String> = Vec::new();
    for artifact in artifacts.values() {
        for field in &artifact.inputs {
            if !names.contains(&field.name) {
                names.push(field.name.clone());
            }
        }
    }
    let mut tallies: Vec<(String, Tally)> =
        names.into_iter().map(|n| (n, Tally::default())).collect();
    for (row, record) in records.iter().enumerate() {
        let Some(artifact) = artifacts.get(&record.version) else {
            continue;
        };
        for (name, tally) in &mut tallies {
            match inputs.cell(name, row) {
                Cell::Null => tally.nulls += 1,
                Cell::Number(n) => {
                    let x = n.as_f64().unwrap_or(f64::NAN);
                    tally.numeric += 1;
                    tally.sum += x;
                    let range = artifact.pipeline.numeric.iter().find(|e| e.column == *name);
                    if range.is_some_and(|e| !(e.min..=e.max).contains(&x)) {
                        tally.out_of_range += 1;
                    }
                }
                Cell::Text(id) => {
                    let level = inputs.text(*id);
                    let encoder = artifact
                        .pipeline
                        .categorical
                        .iter()
                        .find(|e| e.column == *name && e.name() == *name);
                    if encoder.is_some_and(|e| !e.levels().iter().any(|l| l == level)) {
                        tally.out_of_range += 1;
                    }
                }
                Cell::Bool(_) => {}
            }
        }
    }
    tallies
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_minutes_hours_or_days_up_to_a_month() {
        assert_eq!(parse_window("30m"), Ok(Duration::minutes(30)));
        assert_eq!(parse_window("1h"), Ok(Duration::hours(1)));
        assert_eq!(parse_window("7d"), Ok(Duration::days(7)));
        assert_eq!(parse_window("31d"), Ok(MAX_WINDOW));
        assert_eq!(
            parse_window("999999d"),
            Ok(MAX_WINDOW),
            "read as the longest"
        );
        assert_eq!(parse_window("0002h"), Ok(Duration::hours(2)));
        for bad in [
            "+1h", "", "h", "0h", "000m", "-1h", "1.5h", "1w", "1 h", "1é", "1000000d",
        ] {
            let error = parse_window(bad).expect_err(bad);
            assert!(error.contains("30m, 1h or 7d"), "{bad}: {error}");
        }
    }
}
