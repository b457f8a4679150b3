//! Live quality: what was predicted, joined with the outcomes observed later.

pub mod join;
pub mod verdict;

pub use join::{join, JoinCounts, Labelled, Observed, Predicted};
pub use verdict::{judge, Judgement, Rules, Verdict};
