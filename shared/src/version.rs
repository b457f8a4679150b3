//! Which build of the product wrote a record: every data manifest, lineage, artifact and registry
//! entry names it.

/// The crate version and the git commit it was built from (such as `0.1.0+1a2b3c4d5e6f`), stamped
/// by `build.rs`.
pub const CODE_VERSION: &str = env!("MLOPS_CODE_VERSION");
