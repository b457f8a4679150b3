//! The pure core: what the product knows without touching the world. Dataset contracts, upload
//! decoding and validation, the feature pipeline, the learners, metrics, the model artifact,
//! drift statistics and reading prediction requests. No I/O, no AWS, no async: the jobs in
//! `mlops-shared` run it against the ports.

pub mod artifact;
pub mod drift;
pub mod evaluate;
pub mod excerpt;
pub mod features;
pub mod ingest;
pub mod learn;
pub mod moments;
pub mod monitor;
pub mod names;
pub mod predict;
pub mod spec;

#[cfg(feature = "testing")]
pub mod fuzzing;
#[cfg(any(test, feature = "testing"))]
pub mod sample_artifacts;
