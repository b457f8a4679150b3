//! Integration tests: the ports' contract suites against every adapter, and ingestion end to end
//! through the Lambda handler with the repo's event files, on moto (S3, DynamoDB) and on the
//! embedded default; training, idempotency and its bad inputs; the registry and promotion; serving from the registry; the HTTP API
//! through its API Gateway event files and on a socket, kept true to its OpenAPI document; and the whole
//! life cycle with the built functions under cargo-lambda's Lambda Runtime API emulator.

mod api;
mod athena;
mod contracts;
mod data_versions;
mod drift;
mod fuzz_corpus;
mod inference_log;
mod ingest_files;
mod ingest_handler;
mod ingest_hostile;
mod lifecycle;
mod monitor;
mod openapi;
mod outcomes;
mod promote_handler;
mod registry;
mod rollback;
mod serving;
mod shadow;
mod template_env;
mod text;
mod train;
mod train_handler;
mod train_search;
