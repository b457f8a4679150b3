//! Drift: whether the data a model sees still looks like the data it was trained on.

pub mod stats;
