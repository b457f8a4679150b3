//! The feature pipeline: what training learned about each input column, applied the same way to
//! training data and to requests at serving time. It is serialised into the model artifact, so serving
//! cannot drift from training.

mod pipeline;
mod raw;
pub mod text;

use text::SparseRows;

pub use pipeline::{CategoricalEncoder, CategorySource, NumericEncoder, Pipeline, TextEncoder};
pub use raw::{RawColumn, RawFrame, TextColumn, MAX_SAFE_INTEGER};

/// Rows as the learners see them: numeric features after imputation (and standardisation),
/// categorical features as level codes (both column-major), and free text as sparse TF-IDF rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub rows: usize,
    pub numeric: Vec<Vec<f64>>,
    pub categorical: Vec<Vec<u8>>,
    /// How many codes each categorical feature has, counting the rare and missing levels.
    pub levels: Vec<usize>,
    pub text: Vec<SparseRows>,
    /// How many columns each text feature's rows span.
    pub text_widths: Vec<usize>,
}

impl Encoded {
    /// Encoded features: the numeric ones, the categorical ones, then the texts.
    pub fn feature_count(&self) -> usize {
        self.numeric.len() + self.categorical.len() + self.text.len()
    }

    /// `rows` rows without any feature yet, for [`Encoded::append_features`].
    pub fn empty(rows: usize) -> Encoded {
        Encoded {
            rows,
            numeric: Vec::new(),
            categorical: Vec::new(),
            levels: Vec::new(),
            text: Vec::new(),
            text_widths: Vec::new(),
        }
    }

    /// Adds the features of `other` (the same rows) after each kind's own.
    pub fn append_features(&mut self, other: Encoded) {
        debug_assert_eq!(self.rows, other.rows, "features of other rows");
        self.numeric.extend(other.numeric);
        self.categorical.extend(other.categorical);
        self.levels.extend(other.levels);
        self.text.extend(other.text);
        self.text_widths.extend(other.text_widths);
    }

    /// The rows at `indices`, in that order.
    pub fn take(&self, indices: &[usize]) -> Encoded {
        Encoded {
            rows: indices.len(),
            numeric: self
                .numeric
                .iter()
                .map(|col| indices.iter().map(|&i| col[i]).collect())
                .collect(),
            categorical: self
                .categorical
                .iter()
                .map(|col| indices.iter().map(|&i| col[i]).collect())
                .collect(),
            levels: self.levels.clone(),
            text: self.text.iter().map(|rows| rows.take(indices)).collect(),
            text_widths: self.text_widths.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FeatureError {
    #[error("feature {0:?} is not in the data")]
    MissingColumn(String),
    #[error("feature {column:?} should be {expected} but is {found}")]
    WrongType {
        column: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("feature {0:?} has no values in the training data (every row is null)")]
    AllNull(String),
    #[error("column {column:?} has {found} rows; the frame has {expected}")]
    Length {
        column: String,
        expected: usize,
        found: usize,
    },
    #[error("text feature {0:?} has no term in at least min_df training documents (and at most max_df); loosen min_df or max_df")]
    NoTerms(String),
    #[error("the spec has no [features] section")]
    NoFeatures,
}
