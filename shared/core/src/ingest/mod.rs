//! An upload judged against its dataset's contract, in memory: the file's layout surveyed,
//! decoded with polars, coerced to the spec's types, validated row by row and column by column,
//! profiled, and reported.

pub mod blocks;
pub mod coerce;
pub mod decode;
pub mod layout;
pub mod parquet_metadata;
pub mod profile;
pub mod report;
pub mod validate;
