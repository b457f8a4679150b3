//! How a binary model's scores behaved in a window: the share predicted positive, the score
//! histogram, and calibration (the observed positive rate against the predicted one, by score
//! bin, on the labelled predictions).

use serde::{Deserialize, Serialize};

/// Equal-width score bins: [0, 0.1), [0.1, 0.2), … [0.9, 1].
pub const BINS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreShape {
    /// The share of predictions at or above the threshold.
    pub positive_rate: f64,
    /// Predictions per score bin.
    pub histogram: [u64; BINS],
    /// Per score bin, on the labelled predictions.
    pub calibration: Vec<CalibrationBin>,
    /// Where the positive rate should stay, from the test part (set where it is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band: Option<PositiveRateBand>,
}

/// The band a binary model's share of positive predictions should stay in: the test part's
/// share, widened by `tolerance` of itself each side and by three binomial standard errors of
/// the live count, so that a small window is not out of band by chance alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositiveRateBand {
    pub test_rate: f64,
    pub low: f64,
    pub high: f64,
    /// The live positive rate lies outside the band.
    pub outside: bool,
}

/// The band for `live_rate` over `live_rows` predictions, from the test part's confusion matrix
/// (rows: truth, columns: prediction); none without test rows or live predictions.
pub fn positive_rate_band(
    test_confusion: &[Vec<u64>],
    live_rate: f64,
    live_rows: u64,
    tolerance: f64,
) -> Option<PositiveRateBand> {
    let rows: u64 = test_confusion.iter().flatten().sum();
    let positive: u64 = test_confusion.iter().filter_map(|row| row.get(1)).sum();
    if rows == 0 || live_rows == 0 {
        return None;
    }
    let test_rate = positive as f64 / rows as f64;
    let error = 3.0 * (test_rate * (1.0 - test_rate) / live_rows as f64).sqrt();
    let low = (test_rate * (1.0 - tolerance) - error).max(0.0);
    let high = (test_rate * (1.0 + tolerance) + error).min(1.0);
    Some(PositiveRateBand {
        test_rate,
        low,
        high,
        outside: live_rate < low || live_rate > high,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// The bin's lower edge.
    pub from: f64,
    pub rows: u64,
    pub mean_score: Option<f64>,
    /// The share of its labelled predictions whose outcome was positive.
    pub observed_rate: Option<f64>,
}

/// `scores`: every prediction's positive-class score; `labelled`: (score, outcome was positive).
pub fn shape(scores: &[f64], threshold: f64, labelled: &[(f64, bool)]) -> ScoreShape {
    let mut histogram = [0u64; BINS];
    for &score in scores {
        histogram[bin(score)] += 1;
    }
    let positive = scores.iter().filter(|&&s| s >= threshold).count();
    let mut sums = [(0u64, 0.0f64, 0u64); BINS];
    for &(score, truth) in labelled {
        let entry = &mut sums[bin(score)];
        entry.0 += 1;
        entry.1 += score;
        entry.2 += u64::from(truth);
    }
    let calibration = sums
        .iter()
        .enumerate()
        .map(|(i, &(rows, score_sum, positives))| CalibrationBin {
            from: i as f64 / BINS as f64,
            rows,
            mean_score: (rows > 0).then(|| score_sum / rows as f64),
            observed_rate: (rows > 0).then(|| positives as f64 / rows as f64),
        })
        .collect();
    ScoreShape {
        positive_rate: if scores.is_empty() {
            0.0
        } else {
            positive as f64 / scores.len() as f64
        },
        histogram,
        calibration,
        band: None,
    }
}

/// The mean cost per row of a binary confusion matrix (rows: truth, columns: prediction).
pub fn cost_per_row(confusion: &[Vec<u64>], cost_fp: f64, cost_fn: f64) -> Option<f64> {
    let false_positives = *confusion.first()?.get(1)?;
    let false_negatives = *confusion.get(1)?.first()?;
    let rows: u64 = confusion.iter().flatten().sum();
    (rows > 0).then(|| {
        (cost_fp * false_positives as f64 + cost_fn * false_negatives as f64) / rows as f64
    })
}

fn bin(score: f64) -> usize {
    ((score * BINS as f64) as usize).min(BINS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_fall_in_their_bins_and_calibration_compares_rates() {
        let scores = [0.05, 0.15, 0.95, 1.0, 0.55];
        let labelled = [(0.05, false), (0.95, true), (1.0, false), (0.55, true)];
        let shape = shape(&scores, 0.5, &labelled);
        assert_eq!(shape.histogram, [1, 1, 0, 0, 0, 1, 0, 0, 0, 2]);
        assert_eq!(shape.positive_rate, 0.6);
        let top = &shape.calibration[9];
        assert_eq!(
            (top.rows, top.mean_score, top.observed_rate),
            (2, Some(0.975), Some(0.5))
        );
        assert_eq!(shape.calibration[1].rows, 0);
        assert_eq!(shape.calibration[1].observed_rate, None);
    }

    #[test]
    fn the_positive_rate_band_widens_the_test_rate_by_the_tolerance_and_the_sampling_error() {
        // The test part predicted 30 of 100 positive.
        let confusion = vec![vec![50, 10], vec![20, 20]];
        let band = positive_rate_band(&confusion, 0.31, 10_000, 0.5).expect("a band");
        let error = 3.0 * (0.3f64 * 0.7 / 10_000.0).sqrt();
        assert_eq!(band.test_rate, 0.3);
        assert!((band.low - (0.15 - error)).abs() < 1e-12, "{band:?}");
        assert!((band.high - (0.45 + error)).abs() < 1e-12, "{band:?}");
        assert!(!band.outside);
        assert!(
            positive_rate_band(&confusion, 0.9, 10_000, 0.5)
                .expect("a band")
                .outside
        );
        assert!(
            positive_rate_band(&confusion, 0.05, 10_000, 0.5)
                .expect("a band")
                .outside
        );
        // Of ten predictions, eight positive is within chance (the band reaches 0.885).
        assert!(
            !positive_rate_band(&confusion, 0.8, 10, 0.5)
                .expect("a band")
                .outside
        );
        assert_eq!(positive_rate_band(&[], 0.5, 10, 0.5), None);
        assert_eq!(positive_rate_band(&confusion, 0.5, 0, 0.5), None);
    }

    #[test]
    fn cost_weighs_each_kind_of_mistake() {
        // 2 false positives and 1 false negative in 10 rows.
        let confusion = vec![vec![5, 2], vec![1, 2]];
        assert_eq!(cost_per_row(&confusion, 1.0, 10.0), Some(1.2));
        assert_eq!(cost_per_row(&[vec![0, 0], vec![0, 0]], 1.0, 1.0), None);
    }
}
