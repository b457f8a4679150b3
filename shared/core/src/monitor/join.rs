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
///
/// One hash map, of the predictions' ids: each outcome finds its prediction there and is kept in
/// that prediction's slot if it is the latest so far. (A map of the latest outcome per id beside
/// it held 1M outcomes twice over and cost a third of the time.) Only outcomes whose id no
/// prediction has get a map of their own, to count each such id once.
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

    // The predictions of each id as a chain through `next`: no list per id.
    const END: usize = usize::MAX;
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(predictions.len());
    let mut next = vec![END; predictions.len()];
    for (i, p) in predictions.iter().enumerate().rev() {
        if let Some(head) = first.insert(p.id, i) {
            next[i] = head;
        }
    }

    // The latest outcome of each predicted id, in the slot of its first prediction.
    let mut latest = vec![END; predictions.len()];
    let mut unknown: HashMap<&str, Observed> = HashMap::new();
    for (at, outcome) in outcomes.iter().enumerate() {
        // The outcome kept for this id so far, which a later observation replaces.
        let kept = match first.get(outcome.id) {
            Some(&head) => {
                let kept = latest[head];
                if kept == END || outcome.observed_at > outcomes[kept].observed_at {
                    latest[head] = at;
                }
                (kept != END).then(|| outcomes[kept])
            }
            None => {
                let kept = unknown.get(outcome.id).copied();
                if kept.is_none_or(|k| outcome.observed_at > k.observed_at) {
                    unknown.insert(outcome.id, *outcome);
                }
                kept
            }
        };
        match kept {
            Some(kept) if kept.label == outcome.label => counts.repeated += 1,
            Some(_) => counts.changed += 1,
            None => {}
        }
    }
    counts.unknown_ids = unknown.len() as u64;

    let mut labelled = Vec::with_capacity(outcomes.len().min(predictions.len()));
    for (head, &kept) in latest.iter().enumerate() {
        if kept == END {
            continue;
        }
        let outcome = &outcomes[kept];
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

#[cfg(test)]
#[path = "join_tests.rs"]
mod tests;
