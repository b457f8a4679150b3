//! How the scores fall for each true class: a binary model's positive-class score, or a
//! multiclass model's probability of the row's own class, counted in equal-width bins of [0, 1].
//! Two classes the model tells apart well pile up at opposite ends.

use serde::{Deserialize, Serialize};

/// The scores of the rows of one true class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    pub class: String,
    pub rows: usize,
    /// Rows per bin: bin `i` holds the scores in [i / bins, (i + 1) / bins), the last closed.
    pub counts: Vec<usize>,
}

/// Per class, its rows' scores in `bins` bins: the positive class's probability for two classes
/// (so both histograms share one axis), the class's own probability for more.
pub fn score_histograms(
    probabilities: &[f64],
    y: &[u32],
    classes: &[String],
    bins: usize,
) -> Vec<ClassScores> {
    let k = classes.len().max(1);
    let bins = bins.max(1);
    let mut out: Vec<ClassScores> = classes
        .iter()
        .map(|class| ClassScores {
            class: class.clone(),
            rows: 0,
            counts: vec![0; bins],
        })
        .collect();
    for (row, &class) in probabilities.chunks(k).zip(y) {
        let Some(entry) = out.get_mut(class as usize) else {
            continue;
        };
        let score = if k == 2 { row[1] } else { row[class as usize] };
        let at = ((score.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        entry.rows += 1;
        entry.counts[at] += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_rows_are_binned_by_the_positive_score_under_their_own_class() {
        let classes = vec!["no".to_owned(), "yes".to_owned()];
        let probabilities = [0.9, 0.1, 0.2, 0.8, 0.0, 1.0, 0.55, 0.45];
        let y = [0, 1, 1, 0];
        let h = score_histograms(&probabilities, &y, &classes, 10);
        assert_eq!((h[0].rows, h[1].rows), (2, 2));
        assert_eq!(h[0].counts[1], 1, "0.1");
        assert_eq!(h[0].counts[4], 1, "0.45");
        assert_eq!(h[1].counts[8], 1, "0.8");
        assert_eq!(h[1].counts[9], 1, "1.0 falls in the last bin");
    }

    #[test]
    fn multiclass_rows_are_binned_by_their_own_class_probability() {
        let classes: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let probabilities = [0.7, 0.2, 0.1, 0.1, 0.3, 0.6];
        let y = [0, 2];
        let h = score_histograms(&probabilities, &y, &classes, 5);
        assert_eq!(h[0].counts, [0, 0, 0, 1, 0]);
        assert_eq!(h[1].rows, 0);
        assert_eq!(h[2].counts, [0, 0, 0, 1, 0]);
    }
}
