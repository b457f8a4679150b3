//! Serving predictions from a model artifact: requests read against the model's input schema,
//! predictions with warnings, the cache of loaded models, and the sampled inference records kept
//! for monitoring. (The HTTP routes are in the predict function.)

pub mod batch;
pub mod cache;
pub(crate) mod canonical;
pub mod inference;
pub mod request;
pub mod respond;
pub mod settings;

pub use batch::{request_body, BatchError, BatchFormat};
pub use cache::{Loaded, ModelCache, Selector, ServeError};
pub use inference::{InferenceLog, InferenceRecord, InferenceStats, Sampling};
pub use request::{parse, Limits, Problem, RequestError, UnknownFields};
pub use respond::{predict, PredictResponse, Prediction};
pub use settings::ServingSettings;
