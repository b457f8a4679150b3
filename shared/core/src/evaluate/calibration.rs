//! Calibration: does a predicted probability of 0.7 come true seven times in ten? The scores are
//! cut into equal-width bins; each bin compares its mean score with the share of positives in it.

use serde::{Deserialize, Serialize};

/// One bin of scores in [from, to) (the last closed), with its rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    pub from: f64,
    pub to: f64,
    pub rows: usize,
    /// The mean score of its rows (None when it has none).
    pub mean_predicted: Option<f64>,
    /// The share of its rows that were positive.
    pub observed: Option<f64>,
}

/// `bins` equal-width bins over [0, 1] of the positive class's `scores` against `truth`.
pub fn calibration(truth: &[bool], scores: &[f64], bins: usize) -> Vec<CalibrationBin> {
    let bins = bins.max(1);
    let mut sums = vec![(0usize, 0.0f64, 0usize); bins];
    for (&positive, &score) in truth.iter().zip(scores) {
        let at = ((score.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        let (rows, total, positives) = &mut sums[at];
        *rows += 1;
        *total += score;
        *positives += usize::from(positive);
    }
    sums.into_iter()
        .enumerate()
        .map(|(i, (rows, total, positives))| CalibrationBin {
            from: i as f64 / bins as f64,
            to: (i + 1) as f64 / bins as f64,
            rows,
            mean_predicted: (rows > 0).then(|| total / rows as f64),
            observed: (rows > 0).then(|| positives as f64 / rows as f64),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bin_compares_its_mean_score_with_its_share_of_positives() {
        let truth = [false, true, true, true, false, true];
        let scores = [0.05, 0.15, 0.72, 0.78, 0.74, 1.0];
        let bins = calibration(&truth, &scores, 10);
        assert_eq!(bins.len(), 10);
        assert_eq!(bins.iter().map(|b| b.rows).sum::<usize>(), 6);
        assert_eq!((bins[0].rows, bins[0].observed), (1, Some(0.0)));
        let seventies = &bins[7];
        assert_eq!(seventies.rows, 3);
        assert!((seventies.mean_predicted.unwrap_or(0.0) - 0.74666).abs() < 1e-4);
        assert!((seventies.observed.unwrap_or(0.0) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(bins[9].rows, 1, "a score of 1 is in the last bin");
        assert_eq!((bins[4].rows, bins[4].mean_predicted), (0, None));
    }
}
