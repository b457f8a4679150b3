//! Drift: whether the data a model sees still looks like the data it was trained on.
//!
//! [`profile`] summarises data in bounded space (training stores one with each model as its
//! reference), [`current`] reads what is compared with it, [`compare`] tests each feature as
//! Evidently would by default using [`stats`], [`report`] writes the JSON and HTML, and [`job`]
//! runs a whole check.

pub mod compare;
pub mod current;
mod error;
pub mod job;
pub mod profile;
pub mod report;
pub mod stats;

pub use compare::{compare, Comparison, FeatureDrift, Kind, Test, Thresholds};
pub use current::Current;
pub use error::DriftError;
pub use job::{DriftJob, DriftOutcome, DriftRequest, Reference, DRIFT_DETECTED};
pub use profile::{FeatureProfile, Profile, ProfileBuilder};
pub use report::DriftReport;
