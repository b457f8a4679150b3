//! Serving predictions from a model artifact: requests read against the model's input schema,
//! predictions with warnings, the cache of loaded models, and the sampled inference records kept
//! for monitoring. (The HTTP routes are in the predict function.)

pub use mlops_core::predict::*;

pub mod cache;
pub mod compaction;
pub mod inference;
pub mod settings;

pub use cache::{Loaded, ModelCache, Selector, ServeError};
pub use inference::{InferenceLog, InferenceRecord, InferenceStats, Sampling};
pub use settings::ServingSettings;
