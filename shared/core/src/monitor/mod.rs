//! Live quality: what was predicted, joined with the outcomes observed later.

pub mod join;
pub mod scores;
pub mod verdict;

pub use join::{join, JoinCounts, Labelled, Observed, Predicted};
pub use scores::{cost_per_row, positive_rate_band, shape, PositiveRateBand, ScoreShape};
pub use verdict::{judge, Judgement, Rules, Verdict};
