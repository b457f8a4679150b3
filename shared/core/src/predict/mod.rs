//! Prediction requests read against a model's input schema, answered with predictions and
//! warnings, batch files turned into request bodies, and the model's signature for clients.

pub mod batch;
pub mod canonical;
pub mod explain;
pub mod request;
pub mod respond;
pub mod schema;

pub use batch::{request_body, BatchError, BatchFormat};
pub use request::{options, parse, Limits, Problem, RequestError, UnknownFields};
pub use respond::{
    predict, predict_with, PredictOptions, PredictResponse, Prediction, RankedClass, MAX_TOP_K,
};
pub use schema::{record_schema, schema, Dialect, ModelSchema};
