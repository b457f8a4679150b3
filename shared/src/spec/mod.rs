//! Dataset contracts: the core's parsing and checking, and where specs are stored.

pub use mlops_core::spec::*;

pub mod stored;
