//! Integration tests: the ports' contract suites against every adapter, and ingestion end to end
//! through the Lambda handler with the repo's event files, on moto (S3, DynamoDB) and on the
//! embedded default.

mod contracts;
mod ingest_files;
mod ingest_handler;
