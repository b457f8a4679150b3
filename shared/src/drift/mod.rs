//! Drift: whether the data a model sees still looks like the data it was trained on.
//!
//! [`profile`] summarises data in bounded space (training stores one with each model), [`compare`]
//! tests each feature as Evidently would by default, [`stats`] holds the statistics themselves.

pub mod compare;
pub mod profile;
pub mod stats;

pub use compare::{compare, Comparison, FeatureDrift, Kind, Test, Thresholds};
pub use profile::{FeatureProfile, Profile, ProfileBuilder};
