//! The common crate of the mlops functions and the local runner: the domain (dataset contracts,
//! ingestion, features, learners, evaluation, training, the model registry) and the ports it
//! needs from the world. Their adapters are the crates `mlops-aws` (shared/aws) and
//! `mlops-local` (shared/local).

pub mod artifact;
pub mod config;
pub mod drift;
pub mod evaluate;
pub mod excerpt;
pub mod features;
#[cfg(feature = "lambda")]
pub mod handler;
pub mod ingest;
pub mod learn;
pub mod model_registry;
pub mod names;
pub mod observability;
pub mod ports;
pub mod predict;
pub mod process;
pub mod promotion;
pub mod spec;
pub mod train;
pub mod training_data;
pub mod version;

#[cfg(feature = "testing")]
pub mod contract;
#[cfg(feature = "testing")]
pub mod fuzzing;
#[cfg(any(test, feature = "testing"))]
pub mod sample_artifacts;
