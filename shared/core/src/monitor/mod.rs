//! Live quality: what was predicted, joined with the outcomes observed later.

pub mod join;

pub use join::{join, JoinCounts, Labelled, Observed, Predicted};
