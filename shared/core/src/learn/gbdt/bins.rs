//! Training rows cut into at most 256 bins per feature, so the tree learner sums gradients per bin
//! instead of sorting rows at every node.

use crate::features::Encoded;

pub struct BinnedData {
    pub numeric_count: usize,
    /// Numeric features first, then categorical ones, in the order of [`Encoded`].
    pub features: Vec<BinnedFeature>,
}

pub struct BinnedFeature {
    pub bins: Vec<u8>,
    /// How many bins the feature uses.
    pub count: usize,
    pub kind: BinKind,
}

pub enum BinKind {
    /// A value falls in the first bin whose upper bound is at least the value; the last bound is +∞.
    Numeric { upper: Vec<f64> },
    /// The bin is the level code.
    Categorical,
}

impl BinnedData {
    pub fn new(x: &Encoded, max_bins: usize) -> BinnedData {
        let numeric = x.numeric.iter().map(|values| {
            let upper = upper_bounds(values, max_bins);
            let bins = values
                .iter()
                .map(|&v| upper.partition_point(|&u| u < v) as u8)
                .collect();
            BinnedFeature {
                bins,
                count: upper.len(),
                kind: BinKind::Numeric { upper },
            }
        });
        let categorical =
            x.categorical
                .iter()
                .zip(&x.levels)
                .map(|(codes, &levels)| BinnedFeature {
                    bins: codes.clone(),
                    count: levels,
                    kind: BinKind::Categorical,
                });
        BinnedData {
            numeric_count: x.numeric.len(),
            features: numeric.chain(categorical).collect(),
        }
    }
}

/// Bin bounds from the training values: midpoints between distinct values when there are few,
/// otherwise quantiles. Always ends with +∞, so every value has a bin.
fn upper_bounds(values: &[f64], max_bins: usize) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let mut distinct = sorted.clone();
    distinct.dedup();
    let mut upper: Vec<f64> = if distinct.len() <= max_bins {
        distinct
            .windows(2)
            .map(|w| w[0] + (w[1] - w[0]) / 2.0)
            .collect()
    } else {
        let mut cuts: Vec<f64> = (1..max_bins)
            .map(|k| sorted[k * sorted.len() / max_bins])
            .collect();
        cuts.dedup();
        cuts
    };
    if upper.last().is_some_and(|&u| u >= sorted[sorted.len() - 1]) {
        upper.pop();
    }
    upper.push(f64::INFINITY);
    upper
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_distinct_values_get_a_bin_each() {
        let upper = upper_bounds(&[3.0, 1.0, 2.0, 2.0, 1.0], 255);
        assert_eq!(upper, vec![1.5, 2.5, f64::INFINITY]);
    }

    #[test]
    fn many_values_are_cut_at_quantiles_and_every_value_has_a_bin() {
        let values: Vec<f64> = (0..10_000).map(|i| (i % 1000) as f64).collect();
        let upper = upper_bounds(&values, 16);
        assert!(upper.len() <= 16);
        assert!(upper.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(upper.last(), Some(&f64::INFINITY));
    }
}
