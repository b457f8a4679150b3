//! The promotion policy: gates a candidate must pass to replace the champion, each recorded with
//! its value and threshold so the decision can be explained later.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::compare::{Comparison, Scored};
use crate::evaluate::{higher_is_better, Evaluation};
use crate::model_registry::{Decision, Gate, APPROVAL, LIVE_EVIDENCE};
use crate::spec::{DatasetSpec, Metric, PromotionSection, TargetKind};

/// Slices (and classes) with fewer test rows than this are too noisy to gate on; they are listed
/// as skipped.
pub const MIN_SLICE_ROWS: usize = 30;

/// The spec's `[promotion]` section, or the defaults for a spec without one.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub primary: Metric,
    pub min_primary: Option<f64>,
    pub min_improvement: f64,
    pub slices: Vec<String>,
    pub max_slice_regression: f64,
    pub require_approval: bool,
    /// Labelled predictions a candidate must have scored as the shadow.
    pub require_live_evidence: Option<u64>,
}

impl Policy {
    pub fn of(spec: &DatasetSpec) -> Policy {
        let multiclass = spec
            .target
            .as_ref()
            .is_some_and(|t| t.kind == TargetKind::Multiclass);
        match &spec.promotion {
            Some(PromotionSection {
                primary_metric,
                min_primary,
                min_improvement,
                slices,
                max_slice_regression,
                require_approval,
                require_live_evidence,
            }) => Policy {
                primary: *primary_metric,
                min_primary: *min_primary,
                min_improvement: *min_improvement,
                slices: slices.clone(),
                max_slice_regression: *max_slice_regression,
                require_approval: *require_approval,
                require_live_evidence: *require_live_evidence,
            },
            None => Policy {
                primary: if multiclass {
                    Metric::F1Macro
                } else {
                    Metric::RocAuc
                },
                min_primary: None,
                min_improvement: 0.0,
                slices: Vec::new(),
                max_slice_regression: 0.02,
                require_approval: false,
                require_live_evidence: None,
            },
        }
    }
}

/// Whether a person approved this promotion.
#[derive(Debug, Clone, PartialEq)]
pub enum Approval {
    Given { by: String },
    Pending,
}

/// Everything the gates look at.
pub struct Evidence<'a> {
    pub candidate: u64,
    pub champion: Option<u64>,
    pub comparison: &'a Comparison,
    /// How many data versions were checked, or what is wrong with them.
    pub data_validation: Result<usize, String>,
    pub approval: Approval,
    /// How candidate and champion did live, when the policy asks for live evidence.
    pub live: Option<LiveEvidence>,
    pub decided_at: DateTime<Utc>,
}

/// The candidate's live record as the shadow, beside the champion's, from the monitor's report
/// of the last weeks.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvidence {
    /// The candidate's labelled predictions, its live primary metric and the metric's interval.
    pub labelled: u64,
    pub live: Option<f64>,
    pub interval: Option<(f64, f64)>,
    /// The champion's live primary metric over the same window.
    pub champion_live: Option<f64>,
}

pub fn decide(policy: &Policy, evidence: Evidence) -> Decision {
    let metric = policy.primary;
    let name = metric.as_str();
    let comparison = evidence.comparison;
    let candidate_score = comparison.candidate.overall.get(metric);
    let mut gates = Vec::new();

    gates.push(match (candidate_score, policy.min_primary) {
        (None, _) => Gate {
            name: "primary_metric".into(),
            passed: false,
            value: None,
            threshold: policy.min_primary,
            detail: format!("{name} cannot be computed on the test part"),
        },
        (Some(score), Some(min)) => {
            let passed = if higher_is_better(metric) {
                score >= min
            } else {
                score <= min
            };
            Gate {
                name: "primary_metric".into(),
                passed,
                value: Some(score),
                threshold: Some(min),
                detail: format!(
                    "{name} {score:.4} must be {} {min}",
                    if higher_is_better(metric) {
                        "at least"
                    } else {
                        "at most"
                    }
                ),
            }
        }
        (Some(score), None) => Gate {
            name: "primary_metric".into(),
            passed: true,
            value: Some(score),
            threshold: None,
            detail: format!("{name} {score:.4} (no minimum set)"),
        },
    });

    gates.push(match &evidence.data_validation {
        Ok(versions) => Gate {
            name: "data_validation".into(),
            passed: true,
            value: Some(*versions as f64),
            threshold: None,
            detail: format!("{versions} curated data version(s), each accepted by the contract"),
        },
        Err(problem) => Gate {
            name: "data_validation".into(),
            passed: false,
            value: None,
            threshold: None,
            detail: problem.clone(),
        },
    });

    let mut champion_score = None;
    if let Some(champion) = evidence.champion {
        match &comparison.champion {
            Some(Ok(scored)) => {
                champion_score = scored.overall.get(metric);
                gates.push(improvement_gate(policy, candidate_score, champion_score));
                for column in &policy.slices {
                    gates.push(slice_gate(policy, column, &comparison.candidate, scored));
                }
                if comparison.candidate.overall.per_class.len() > 2 {
                    gates.push(class_gate(
                        policy,
                        &comparison.candidate.overall,
                        &scored.overall,
                    ));
                }
            }
            unscored => gates.push(Gate {
                name: "improvement".into(),
                passed: false,
                value: None,
                threshold: Some(policy.min_improvement),
                detail: format!(
                    "champion {champion} could not be scored on the candidate's test part: {}",
                    match unscored {
                        Some(Err(problem)) => problem.as_str(),
                        _ => "it was not loaded",
                    }
                ),
            }),
        }
    }

    if let (Some(needed), Some(champion)) = (policy.require_live_evidence, evidence.champion) {
        gates.push(live_evidence_gate(
            metric,
            needed,
            champion,
            evidence.live.as_ref(),
        ));
    }

    if policy.require_approval {
        gates.push(match &evidence.approval {
            Approval::Given { by } => Gate {
                name: APPROVAL.into(),
                passed: true,
                value: None,
                threshold: None,
                detail: format!("approved by {by}"),
            },
            Approval::Pending => Gate {
                name: APPROVAL.into(),
                passed: false,
                value: None,
                threshold: None,
                detail: "the spec requires a person's approval: promote this version by hand"
                    .into(),
            },
        });
    }

    Decision {
        passed: gates.iter().all(|g| g.passed),
        primary_metric: metric,
        candidate: evidence.candidate,
        candidate_score,
        champion: evidence.champion,
        champion_score,
        test_rows: comparison.rows,
        gates,
        decided_at: evidence.decided_at,
    }
}

/// Enough labelled predictions as the shadow, and live no worse than the champion: the
/// champion's live value lies inside, or on the worse side of, the candidate's interval.
fn live_evidence_gate(
    metric: Metric,
    needed: u64,
    champion: u64,
    live: Option<&LiveEvidence>,
) -> Gate {
    let name = metric.as_str();
    let gate = |passed: bool, value: Option<f64>, threshold: Option<f64>, detail: String| Gate {
        name: LIVE_EVIDENCE.into(),
        passed,
        value,
        threshold,
        detail,
    };
    let labelled = live.map_or(0, |l| l.labelled);
    if labelled < needed {
        return gate(
            false,
            Some(labelled as f64),
            Some(needed as f64),
            format!(
                "{labelled} labelled predictions as the shadow; at least {needed} are needed (point the shadow alias at this version)"
            ),
        );
    }
    let Some(evidence) = live else {
        return gate(false, None, None, "no live evidence".into());
    };
    match (evidence.live, evidence.champion_live) {
        (Some(ours), Some(theirs)) => {
            let (low, high) = evidence.interval.unwrap_or((ours, ours));
            let worse = if higher_is_better(metric) {
                theirs > high
            } else {
                theirs < low
            };
            gate(
                !worse,
                Some(ours),
                Some(theirs),
                format!(
                    "live {name} {ours:.4} [{low:.4}, {high:.4}] on {labelled} labelled predictions as the shadow, champion {champion} {theirs:.4}{}",
                    if worse { ": worse beyond the interval" } else { "" }
                ),
            )
        }
        _ => gate(
            false,
            evidence.live,
            evidence.champion_live,
            format!("live {name} is undefined for the candidate or champion {champion}"),
        ),
    }
}

/// How much better `candidate` is than `champion` (positive: better), whichever way the metric
/// points.
fn gain(metric: Metric, candidate: f64, champion: f64) -> f64 {
    if higher_is_better(metric) {
        candidate - champion
    } else {
        champion - candidate
    }
}

fn improvement_gate(policy: &Policy, candidate: Option<f64>, champion: Option<f64>) -> Gate {
    let name = policy.primary.as_str();
    match (candidate, champion) {
        (Some(candidate), Some(champion)) => {
            let gain = gain(policy.primary, candidate, champion);
            Gate {
                name: "improvement".into(),
                passed: gain >= policy.min_improvement,
                value: Some(gain),
                threshold: Some(policy.min_improvement),
                detail: format!(
                    "{name} {candidate:.4} vs champion {champion:.4} on the same test rows: {gain:+.4}, at least {:+} needed",
                    policy.min_improvement
                ),
            }
        }
        _ => Gate {
            name: "improvement".into(),
            passed: false,
            value: None,
            threshold: Some(policy.min_improvement),
            detail: format!(
                "{name} is undefined on the test part for the candidate or the champion"
            ),
        },
    }
}

/// The worst regression of any slice value with enough rows, against the tolerance.
fn slice_gate(policy: &Policy, column: &str, candidate: &Scored, champion: &Scored) -> Gate {
    let metric = policy.primary;
    let empty = BTreeMap::new();
    let ours = candidate.slices.get(column).unwrap_or(&empty);
    let theirs = champion.slices.get(column).unwrap_or(&empty);
    let mut worst: Option<(String, f64, f64, f64, usize)> = None;
    let (mut compared, mut skipped) = (0, 0);
    for (value, evaluation) in ours {
        let pair = theirs
            .get(value)
            .filter(|_| evaluation.rows >= MIN_SLICE_ROWS)
            .and_then(|other| Some((evaluation.get(metric)?, other.get(metric)?)));
        let Some((a, b)) = pair else {
            skipped += 1;
            continue;
        };
        compared += 1;
        let regression = -gain(metric, a, b);
        if worst.as_ref().is_none_or(|w| regression > w.3) {
            worst = Some((value.clone(), a, b, regression, evaluation.rows));
        }
    }
    let name = metric.as_str();
    let tolerance = policy.max_slice_regression;
    match worst {
        Some((value, a, b, regression, rows)) => Gate {
            name: format!("slice:{column}"),
            passed: regression <= tolerance,
            value: Some(regression),
            threshold: Some(tolerance),
            detail: format!(
                "worst {column}={value}: {name} {a:.4} vs champion {b:.4} ({rows} rows), regression at most {tolerance}; {compared} slice(s) compared, {skipped} skipped (under {MIN_SLICE_ROWS} rows or {name} undefined)"
            ),
        },
        None => Gate {
            name: format!("slice:{column}"),
            passed: true,
            value: None,
            threshold: Some(tolerance),
            detail: format!(
                "no slice of {column} has {MIN_SLICE_ROWS} rows with {name} defined for both"
            ),
        },
    }
}

/// For a multiclass model: no class's F1 worse than the champion's by more than the tolerance.
fn class_gate(policy: &Policy, candidate: &Evaluation, champion: &Evaluation) -> Gate {
    let tolerance = policy.max_slice_regression;
    let worst = candidate
        .per_class
        .iter()
        .filter(|c| c.support as usize >= MIN_SLICE_ROWS)
        .filter_map(|c| {
            let other = champion.per_class.iter().find(|o| o.class == c.class)?;
            Some((c.class.clone(), c.f1, other.f1, other.f1 - c.f1))
        })
        .max_by(|a, b| a.3.total_cmp(&b.3));
    match worst {
        Some((class, a, b, regression)) => Gate {
            name: "classes".into(),
            passed: regression <= tolerance,
            value: Some(regression),
            threshold: Some(tolerance),
            detail: format!(
                "worst class {class}: f1 {a:.4} vs champion {b:.4}, regression at most {tolerance}"
            ),
        },
        None => Gate {
            name: "classes".into(),
            passed: true,
            value: None,
            threshold: Some(tolerance),
            detail: format!("no class has {MIN_SLICE_ROWS} test rows"),
        },
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
