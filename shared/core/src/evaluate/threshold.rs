//! Choosing the decision threshold of a binary model on validation data: the score at or above
//! which a row is predicted positive.

use serde::{Deserialize, Serialize};

use super::curves::steps;
use crate::spec::ThresholdObjective;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub value: f64,
    pub objective: ThresholdObjective,
    /// The objective's value on validation data at this threshold (F1, or the mean cost per row).
    pub validation_score: f64,
}

/// The threshold that maximises F1, or minimises `cost_fp · FP + cost_fn · FN`.
pub fn choose(
    truth: &[bool],
    scores: &[f64],
    objective: ThresholdObjective,
    cost_fp: f64,
    cost_fn: f64,
) -> Threshold {
    let positives = truth.iter().filter(|&&t| t).count() as f64;
    let rows = scores.len().max(1) as f64;
    let judge = |tp: f64, fp: f64| {
        let fn_ = positives - tp;
        match objective {
            ThresholdObjective::MaxF1 => {
                let denominator = 2.0 * tp + fp + fn_;
                if denominator > 0.0 {
                    2.0 * tp / denominator
                } else {
                    0.0
                }
            }
            // Negated so that higher is better for both objectives.
            ThresholdObjective::MinCost => -(cost_fp * fp + cost_fn * fn_) / rows,
        }
    };
    let steps = steps(truth, scores);
    // Above every score nothing is positive.
    let above_all = steps.first().map_or(1.0, |top| top.score.next_up());
    let mut best = (judge(0.0, 0.0), above_all);
    for step in &steps {
        let value = judge(step.tp, step.fp);
        if value > best.0 {
            best = (value, step.score);
        }
    }
    Threshold {
        value: best.1,
        objective,
        validation_score: match objective {
            ThresholdObjective::MaxF1 => best.0,
            ThresholdObjective::MinCost => -best.0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_f1_threshold_is_the_best_of_every_cut() {
        let scores = [0.9, 0.8, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1];
        let truth = [true, true, false, true, false, true, false, false];
        let chosen = choose(&truth, &scores, ThresholdObjective::MaxF1, 1.0, 1.0);
        let f1_at = |t: f64| {
            let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
            for (&s, &y) in scores.iter().zip(&truth) {
                match (s >= t, y) {
                    (true, true) => tp += 1.0,
                    (true, false) => fp += 1.0,
                    (false, true) => fn_ += 1.0,
                    _ => {}
                }
            }
            2.0 * tp / (2.0 * tp + fp + fn_)
        };
        let best = scores.iter().map(|&t| f1_at(t)).fold(0.0, f64::max);
        assert_eq!(chosen.validation_score, best);
        assert_eq!(f1_at(chosen.value), best);
    }

    #[test]
    fn expensive_false_negatives_lower_the_threshold() {
        let scores = [0.9, 0.7, 0.5, 0.3, 0.1];
        let truth = [true, false, true, false, true];
        let cheap_misses = choose(&truth, &scores, ThresholdObjective::MinCost, 10.0, 1.0);
        let costly_misses = choose(&truth, &scores, ThresholdObjective::MinCost, 1.0, 10.0);
        assert!(costly_misses.value < cheap_misses.value);
        // With misses ten times dearer, flagging everything (2 false positives) is cheapest.
        assert_eq!(costly_misses.value, 0.1);
        assert_eq!(costly_misses.validation_score, 2.0 / 5.0);
    }
}
