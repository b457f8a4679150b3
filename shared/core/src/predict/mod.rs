//! Prediction requests read against a model's input schema, answered with predictions and
//! warnings, and batch files turned into request bodies.

pub mod batch;
pub mod canonical;
pub mod explain;
pub mod request;
pub mod respond;

pub use batch::{request_body, BatchError, BatchFormat};
pub use request::{options, parse, Limits, Problem, RequestError, UnknownFields};
pub use respond::{
    predict, predict_with, PredictOptions, PredictResponse, Prediction, RankedClass, MAX_TOP_K,
};
