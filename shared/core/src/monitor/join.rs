//! Joins the predictions of a window with the outcomes known by now. An outcome names its
//! prediction by id; the same id may have been predicted more than once (the champion and a
//! shadow score the same record), and each of those predictions gets the outcome. Outcomes that
//! cannot count are counted instead, by reason, never dropped silently.

use foldhash::{HashMap, HashMapExt};

use serde::{Deserialize, Serialize};

/// One prediction as the inference records keep it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Predicted<'a> {
    pub id: &'a str,
    pub version: u64,
    /// When it was made, milliseconds since the epoch.
    pub at: i64,
}

/// One observed outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observed<'a> {
    pub id: &'a str,
    pub label: &'a str,
    /// When it was observed, milliseconds since the epoch.
    pub observed_at: i64,
}

/// A prediction with its outcome: the prediction's index and the observed class's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labelled {
    pub prediction: usize,
    pub class: u32,
}

/// What became of the outcomes, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinCounts {
    pub predictions: u64,
    /// Outcome rows read.
    pub outcomes: u64,
    /// The same id observed again with the same label: counted once.
    pub repeated: u64,
    /// The same id observed again with another label: the latest observation counts.
    pub changed: u64,
    /// Predictions that have an outcome.
    pub labelled: u64,
    /// Outcomes for ids no prediction of the window has.
    pub unknown_ids: u64,
    /// Outcomes observed before their prediction was made: not evidence about it.
    pub before_prediction: u64,
    /// Outcomes whose label is none of the predicting model's classes.
    pub unknown_labels: u64,
}

/// Joins `outcomes` to `predictions`. `class_of(version, label)` is the label's index among the
/// classes of the version that predicted, None when it has no such class.
pub fn join(
    predictions: &[Predicted],
    outcomes: &[Observed],
    class_of: impl Fn(u64, &str) -> Option<u32>,
) -> (Vec<Labelled>, JoinCounts) {
    let mut counts = JoinCounts {
        predictions: predictions.len() as u64,
        outcomes: outcomes.len() as u64,
        ..JoinCounts::default()
    };
    let latest = latest_per_id(outcomes, &mut counts);

    // The predictions of each id as a chain through `next`: no list per id.
    const END: usize = usize::MAX;
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(predictions.len());
    let mut next = vec![END; predictions.len()];
    for (i, p) in predictions.iter().enumerate().rev() {
        if let Some(head) = first.insert(p.id, i) {
            next[i] = head;
        }
    }

    let mut labelled = Vec::with_capacity(latest.len());
    for outcome in latest.values() {
        let Some(&head) = first.get(outcome.id) else {
            counts.unknown_ids += 1;
            continue;
        };
        let mut at = head;
        while at != END {
            let prediction = &predictions[at];
            match class_of(prediction.version, outcome.label) {
                None => counts.unknown_labels += 1,
                Some(_) if outcome.observed_at < prediction.at => counts.before_prediction += 1,
                Some(class) => labelled.push(Labelled {
                    prediction: at,
                    class,
                }),
            }
            at = next[at];
        }
    }
    labelled.sort_unstable_by_key(|l| l.prediction);
    counts.labelled = labelled.len() as u64;
    (labelled, counts)
}

/// The latest outcome of each id, counting repeats and changes.
fn latest_per_id<'a>(
    outcomes: &[Observed<'a>],
    counts: &mut JoinCounts,
) -> HashMap<&'a str, Observed<'a>> {
    let mut latest: HashMap<&str, Observed> = HashMap::with_capacity(outcomes.len());
    for outcome in outcomes {
        match latest.get_mut(outcome.id) {
            None => {
                latest.insert(outcome.id, *outcome);
            }
            Some(kept) => {
                if kept.label == outcome.label {
                    counts.repeated += 1;
                } else {
                    counts.changed += 1;
                }
                if outcome.observed_at > kept.observed_at {
                    *kept = *outcome;
                }
            }
        }
    }
    latest
}

#[cfg(test)]
#[path = "join_tests.rs"]
mod tests;
