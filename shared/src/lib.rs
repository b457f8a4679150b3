//! The common crate of the mlops functions and the local runner: the domain (dataset contracts,
//! ingestion), the ports it needs from the world, and their adapters for AWS and for local use.

pub mod adapters;
pub mod ingest;
pub mod names;
pub mod observability;
pub mod ports;
pub mod process;
pub mod spec;

#[cfg(feature = "testing")]
pub mod contract;
