//! Training rows cut into at most 256 bins per feature, so the tree learner sums gradients per bin
//! instead of sorting rows at every node.

use super::MAX_BINS;
use crate::features::Encoded;

pub struct BinnedData {
    pub rows: usize,
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
    /// The rows' numeric features cut into at most [`MAX_BINS`] bins each, their categorical
    /// features as they are (text features are not the trees').
    pub fn of(x: &Encoded) -> BinnedData {
        let numeric = x.numeric.iter().map(|values| {
            let upper = upper_bounds(values, MAX_BINS);
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
            rows: x.rows,
            numeric_count: x.numeric.len(),
            features: numeric.chain(categorical).collect(),
        }
    }

    /// `rows` rows without any feature yet, for [`BinnedData::append`].
    pub fn empty(rows: usize) -> BinnedData {
        BinnedData {
            rows,
            numeric_count: 0,
            features: Vec::new(),
        }
    }

    /// Adds the features of `other` (the same rows binned): its numeric features after this
    /// one's numeric ones, its categorical ones at the end, as [`Encoded::append_features`] orders them.
    pub fn append(&mut self, other: BinnedData) {
        debug_assert_eq!(self.rows, other.rows, "features of other rows");
        let mut features = other.features;
        let categorical = features.split_off(other.numeric_count);
        self.features
            .splice(self.numeric_count..self.numeric_count, features);
        self.numeric_count += other.numeric_count;
        self.features.extend(categorical);
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
    fn binning_a_column_at_a_time_gives_the_same_features_in_the_same_order() {
        let rows = 500;
        let x = Encoded {
            rows,
            numeric: vec![
                (0..rows).map(|i| (i % 300) as f64).collect(),
                (0..rows).map(|i| (i % 7) as f64 * 0.5).collect(),
            ],
            categorical: vec![(0..rows).map(|i| (i % 4) as u8).collect()],
            levels: vec![6],
            text: vec![],
            text_widths: vec![],
        };
        let one = |numeric: &[usize], categorical: &[usize]| Encoded {
            numeric: numeric.iter().map(|&f| x.numeric[f].clone()).collect(),
            categorical: categorical
                .iter()
                .map(|&f| x.categorical[f].clone())
                .collect(),
            levels: categorical.iter().map(|&f| x.levels[f]).collect(),
            ..x.clone()
        };
        let mut appended = BinnedData::empty(rows);
        // As a column-by-column pass meets them: a number, the category, then a number.
        for (numeric, categorical) in [(&[0][..], &[][..]), (&[], &[0]), (&[1], &[])] {
            appended.append(BinnedData::of(&one(numeric, categorical)));
        }
        let whole = BinnedData::of(&x);
        assert_eq!(appended.numeric_count, whole.numeric_count);
        assert_eq!(appended.features.len(), 3);
        for (a, w) in appended.features.iter().zip(&whole.features) {
            assert_eq!((&a.bins, a.count), (&w.bins, w.count));
            match (&a.kind, &w.kind) {
                (BinKind::Numeric { upper: a }, BinKind::Numeric { upper: w }) => assert_eq!(a, w),
                (BinKind::Categorical, BinKind::Categorical) => {}
                _ => panic!("a feature changed kind"),
            }
        }
    }

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
