//! The jobs of the mlops functions and the local runner (ingestion, training, the model registry,
//! promotion, drift checks, serving) written against the ports they need from the world. The
//! pure core they build on is `mlops-core` (shared/core); the ports' adapters are `mlops-aws`
//! (shared/aws) and `mlops-local` (shared/local).

// The pure core, under the names the jobs and their callers have always used.
pub use mlops_core::{artifact, evaluate, excerpt, features, learn, names};

pub mod clock;
pub mod config;
pub mod drift;
#[cfg(feature = "lambda")]
pub mod handler;
pub mod ingest;
pub mod model_registry;
pub mod monitor;
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
pub use mlops_core::{fuzzing, sample_artifacts};
