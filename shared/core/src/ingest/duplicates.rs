//! Rows that share a key, found over a file read in batches without holding every key value.
//!
//! Each row's key (one column or several, typed) is hashed to 128 bits. The hashes and their row
//! numbers stay in memory up to [`SPILL_ROWS`] rows (every file of ordinary size); past that they
//! are spilled to [`BUCKETS`] scratch files by the hash's top bits. At the end each bucket, a
//! 1/[`BUCKETS`] share, is sorted on its own, and runs of equal hashes are the rows that share a
//! key: memory is one bucket, whatever the file's size. Two different keys share a 128-bit hash
//! with a chance of about n²/2¹²⁹ (10⁻²³ for 50 million rows), so the rows found are those that
//! share a key, as a whole-file `is_duplicated` finds them.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use polars::prelude::*;
use xxhash_rust::xxh3::{xxh3_128, xxh3_128_with_seed};

/// Rows whose hashes stay in memory before the rest spill: 24 MB of hashes and row numbers.
pub const SPILL_ROWS: usize = 1 << 20;
/// Scratch files a spill spreads over: a bucket of a 50-million-row file sorts in about 19 MB.
pub const BUCKETS: usize = 64;
/// A row's hash and its 0-based row number, as spilled.
const RECORD_BYTES: usize = 24;

/// The rows sharing a key with another row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shared {
    pub count: u64,
    /// The first of them (0-based, ascending), at most the number asked for.
    pub first: Vec<u64>,
}

/// Keys seen so far.
pub struct DuplicateRows {
    rows: u64,
    spill_rows: usize,
    held: Vec<(u128, u64)>,
    spill: Option<Spill>,
}

struct Spill {
    /// Removed with its files when the finder is dropped.
    _dir: tempfile::TempDir,
    buckets: Vec<BufWriter<File>>,
    paths: Vec<std::path::PathBuf>,
}

impl Default for DuplicateRows {
    fn default() -> Self {
        Self::new()
    }
}

impl DuplicateRows {
    pub fn new() -> Self {
        Self::spilling_past(SPILL_ROWS)
    }

    /// One that spills once `rows` are held (tests spill small files).
    pub fn spilling_past(rows: usize) -> Self {
        Self {
            rows: 0,
            spill_rows: rows.max(1),
            held: Vec::new(),
            spill: None,
        }
    }

    /// Adds the next rows' keys: `key` holds the key's columns, typed, all of one length.
    /// `scratch` is where a spill goes (a Lambda's /tmp).
    pub fn add(&mut self, key: &[&Column], scratch: &Path) -> io::Result<()> {
        let hashes = row_hashes(key).map_err(io::Error::other)?;
        let first = self.rows;
        self.rows += hashes.len() as u64;
        self.held.extend(hashes.into_iter().zip(first..));
        if self.held.len() >= self.spill_rows {
            self.spill(scratch)?;
        }
        Ok(())
    }

    fn spill(&mut self, scratch: &Path) -> io::Result<()> {
        let spill = match &mut self.spill {
            Some(spill) => spill,
            none => none.insert(Spill::new(scratch)?),
        };
        for (hash, row) in self.held.drain(..) {
            let mut record = [0u8; RECORD_BYTES];
            record[..16].copy_from_slice(&hash.to_le_bytes());
            record[16..].copy_from_slice(&row.to_le_bytes());
            spill.buckets[bucket(hash)].write_all(&record)?;
        }
        Ok(())
    }

    /// The rows that share a key, and the first `examples` of them.
    pub fn finish(mut self, examples: usize) -> io::Result<Shared> {
        let mut shared = Shared::default();
        let Some(mut spill) = self.spill.take() else {
            shared_rows(&mut self.held, examples, &mut shared);
            return Ok(shared);
        };
        for writer in spill.buckets.drain(..) {
            writer
                .into_inner()
                .map_err(|e| e.into_error())?
                .sync_all()?;
        }
        // The rows still held go where their bucket's spilled rows are read.
        let mut held: Vec<Vec<(u128, u64)>> = vec![Vec::new(); BUCKETS];
        for (hash, row) in self.held.drain(..) {
            held[bucket(hash)].push((hash, row));
        }
        for (path, mut rows) in spill.paths.iter().zip(held) {
            let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
            let mut record = [0u8; RECORD_BYTES];
            loop {
                match reader.read_exact(&mut record) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
                let (hash, row) = record.split_at(16);
                let hash = u128::from_le_bytes(hash.try_into().map_err(io::Error::other)?);
                let row = u64::from_le_bytes(row.try_into().map_err(io::Error::other)?);
                rows.push((hash, row));
            }
            shared_rows(&mut rows, examples, &mut shared);
        }
        shared.first.sort_unstable();
        shared.first.truncate(examples);
        Ok(shared)
    }
}

impl Spill {
    fn new(scratch: &Path) -> io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("keys-")
            .tempdir_in(scratch)?;
        let paths: Vec<_> = (0..BUCKETS)
            .map(|b| dir.path().join(format!("{b}.bin")))
            .collect();
        let buckets = paths
            .iter()
            .map(|p| Ok(BufWriter::with_capacity(1 << 16, File::create(p)?)))
            .collect::<io::Result<_>>()?;
        Ok(Self {
            _dir: dir,
            buckets,
            paths,
        })
    }
}

fn bucket(hash: u128) -> usize {
    (hash >> 122) as usize % BUCKETS
}

/// Adds the rows of `rows` whose hash another row has to `shared`, keeping its first examples.
fn shared_rows(rows: &mut [(u128, u64)], examples: usize, shared: &mut Shared) {
    rows.sort_unstable();
    for run in rows.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
        shared.count += run.len() as u64;
        shared
            .first
            .extend(run.iter().map(|(_, row)| *row).take(examples));
    }
    shared.first.sort_unstable();
    shared.first.truncate(examples);
}

/// Each row's key hashed to 128 bits: each value hashed with its type's tag (a null has its own),
/// then folded into the row's hash column by column.
fn row_hashes(key: &[&Column]) -> PolarsResult<Vec<u128>> {
    let rows = key.first().map_or(0, |c| c.len());
    let mut hashes = vec![0u128; rows];
    for column in key {
        let values = value_hashes(column.as_materialized_series())?;
        for (row, value) in hashes.iter_mut().zip(values) {
            let mut pair = [0u8; 32];
            pair[..16].copy_from_slice(&row.to_le_bytes());
            pair[16..].copy_from_slice(&value.to_le_bytes());
            *row = xxh3_128(&pair);
        }
    }
    Ok(hashes)
}

fn value_hashes(series: &Series) -> PolarsResult<Vec<u128>> {
    const NULL: u128 = 0x6e75_6c6c;
    // The type's tag seeds the hash: the same bytes of two types hash apart.
    let tagged = |tag: u64, bytes: &[u8]| xxh3_128_with_seed(bytes, tag);
    let physical = series.to_physical_repr();
    Ok(match physical.dtype() {
        DataType::String => physical
            .str()?
            .iter()
            .map(|v| v.map_or(NULL, |v| tagged(1, v.as_bytes())))
            .collect(),
        DataType::Boolean => physical
            .bool()?
            .iter()
            .map(|v| v.map_or(NULL, |v| tagged(2, &[v as u8])))
            .collect(),
        DataType::Float64 | DataType::Float32 => physical
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            // Equal as polars compares floats: -0.0 is 0.0, and every NaN is one NaN.
            .map(|v| {
                v.map_or(NULL, |v| {
                    let v = if v == 0.0 {
                        0.0
                    } else if v.is_nan() {
                        f64::NAN
                    } else {
                        v
                    };
                    tagged(3, &v.to_bits().to_le_bytes())
                })
            })
            .collect(),
        _ => physical
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .map(|v| v.map_or(NULL, |v| tagged(4, &v.to_le_bytes())))
            .collect(),
    })
}

#[cfg(test)]
#[path = "duplicates_tests.rs"]
mod tests;
