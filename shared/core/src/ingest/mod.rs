//! An upload judged against its dataset's contract a batch of rows at a time: the file's layout
//! surveyed, decoded with polars, coerced to the spec's types, validated row by row and column by
//! column (judged over the whole file), profiled, and reported.

pub mod blocks;
pub mod coerce;
pub mod decode;
pub mod duplicates;
pub mod layout;
pub mod parquet_metadata;
pub mod profile;
pub mod report;
pub mod validate;
