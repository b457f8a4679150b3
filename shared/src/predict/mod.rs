//! Serving predictions from a model artifact: requests read against the model's input schema,
//! predictions with warnings, and the cache of loaded models. (The router and inference logging
//! build on this.)

pub mod cache;
pub mod request;
pub mod respond;

pub use cache::{Loaded, ModelCache, Selector, ServeError};
pub use request::{parse, Limits, Problem, RequestError, UnknownFields};
pub use respond::{predict, Prediction};
