//! Ranking metrics of scores against binary truth, with scikit-learn's definitions: tied scores
//! form one step of the curve.

/// One step of a ranking: at and above `score`, this many false and true positives.
pub(super) struct Step {
    pub score: f64,
    pub fp: f64,
    pub tp: f64,
}

/// The steps at each distinct score, highest score first.
pub(super) fn steps(truth: &[bool], scores: &[f64]) -> Vec<Step> {
    // Sorting the pairs themselves, not indices into them: a million rows sorted in a tenth of
    // the time, with no lookups scattered over memory.
    let mut ranked: Vec<(f64, bool)> = scores.iter().copied().zip(truth.iter().copied()).collect();
    ranked.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let mut out = Vec::new();
    let (mut fp, mut tp) = (0.0, 0.0);
    for (i, &(score, positive)) in ranked.iter().enumerate() {
        if positive {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = ranked.get(i + 1).is_none_or(|next| next.0 != score);
        if last_of_tie {
            out.push(Step { score, fp, tp });
        }
    }
    out
}

/// The ROC curve as (false positive rate, true positive rate) points from (0, 0) to (1, 1);
/// None when only one class is present.
pub fn roc_curve(truth: &[bool], scores: &[f64]) -> Option<Vec<(f64, f64)>> {
    let steps = steps(truth, scores);
    let last = steps.last()?;
    let (negatives, positives) = (last.fp, last.tp);
    if negatives == 0.0 || positives == 0.0 {
        return None;
    }
    Some(
        std::iter::once((0.0, 0.0))
            .chain(steps.iter().map(|s| (s.fp / negatives, s.tp / positives)))
            .collect(),
    )
}

/// Area under the ROC curve (trapezoids), as `sklearn.metrics.roc_auc_score`.
pub fn roc_auc(truth: &[bool], scores: &[f64]) -> Option<f64> {
    auc_of(&steps(truth, scores))
}

/// ROC AUC and average precision from one ranking of the scores (a million rows sort once).
pub fn roc_auc_and_average_precision(truth: &[bool], scores: &[f64]) -> (Option<f64>, Option<f64>) {
    let steps = steps(truth, scores);
    (auc_of(&steps), precision_of(&steps))
}

fn auc_of(steps: &[Step]) -> Option<f64> {
    let last = steps.last()?;
    let (negatives, positives) = (last.fp, last.tp);
    if negatives == 0.0 || positives == 0.0 {
        return None;
    }
    let (mut area, mut previous) = (0.0, (0.0, 0.0));
    for step in steps {
        let point = (step.fp / negatives, step.tp / positives);
        area += (point.0 - previous.0) * (point.1 + previous.1) / 2.0;
        previous = point;
    }
    Some(area)
}

/// Average precision, as `sklearn.metrics.average_precision_score`: the sum over thresholds of
/// the recall gained times the precision there. None without positives.
pub fn average_precision(truth: &[bool], scores: &[f64]) -> Option<f64> {
    precision_of(&steps(truth, scores))
}

fn precision_of(steps: &[Step]) -> Option<f64> {
    let positives = steps.last()?.tp;
    if positives == 0.0 {
        return None;
    }
    let mut previous_recall = 0.0;
    let mut sum = 0.0;
    for &Step { fp, tp, .. } in steps {
        let recall = tp / positives;
        let precision = tp / (tp + fp);
        sum += (recall - previous_recall) * precision;
        previous_recall = recall;
    }
    Some(sum)
}
