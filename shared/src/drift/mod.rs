//! Drift: whether the data a model sees still looks like the data it was trained on.
//!
//! The statistics are the core's (`mlops_core::drift`: profiles, tests, reports); [`current`]
//! reads what is compared with a reference, and [`job`] runs a whole check.

pub use mlops_core::drift::*;

pub mod current;
mod error;
pub mod job;

pub use current::Current;
pub use error::DriftError;
pub use job::{DriftJob, DriftOutcome, DriftRequest, Reference, DRIFT_DETECTED};
