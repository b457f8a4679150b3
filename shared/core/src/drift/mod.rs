//! Drift statistics: [`profile`] summarises data in bounded space (training stores one with each
//! model as its reference; profiles of the same features merge), [`compare`] tests each feature as Evidently would by default using
//! [`stats`], and [`report`] writes the JSON and HTML.

pub mod compare;
mod merge;
pub mod profile;
pub mod report;
pub mod stats;

pub use compare::{compare, Comparison, FeatureDrift, Kind, Test, Thresholds};
pub use merge::MergeError;
pub use profile::{FeatureProfile, Profile, ProfileBuilder};
pub use report::DriftReport;
