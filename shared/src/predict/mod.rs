//! Serving predictions from a model artifact: requests read against the model's input schema,
//! predictions with warnings. (The router, the model cache and inference logging build on this.)

pub mod request;
pub mod respond;

pub use request::{parse, Limits, Problem, RequestError, UnknownFields};
pub use respond::{predict, Prediction};
