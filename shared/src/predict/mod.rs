//! Serving predictions from a model artifact: requests read against the model's input schema.
//! (The router, the model cache and inference logging build on this.)

pub mod request;

pub use request::{parse, Limits, Problem, RequestError, UnknownFields};
