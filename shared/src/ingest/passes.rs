//! An upload read from a local copy in bounded batches, so memory does not grow with the file:
//! one pass decodes, checks, writes the typed rows as Parquet row groups and profiles them; when
//! the policy drops invalid rows (known only once every row is checked), a second pass over the
//! typed Parquet splits kept from dropped rows. Only the checks' state is held across batches (see
//! [`Validator`]): a bit per row for a check that flags rows, and the keys of unique checks, which
//! spill to scratch files past a million rows.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use polars::prelude::*;

use super::blocks::{self, BlockError, Failure, Reading};
use super::decode::{numeric_schema, DecodeError, ReadFormat};
use super::profile::{ColumnProfile, ProfileBuilder};
use super::validate::{Checked, ValidateError, Validator};
use super::IngestError;
use crate::spec::DatasetSpec;

/// What the first pass found.
pub struct FirstPass {
    pub format: ReadFormat,
    pub checked: Checked,
    /// Every row read, typed, as Parquet.
    pub typed: Written,
    /// The profile of every row read.
    pub profile: Vec<ColumnProfile>,
}

/// The rows a version keeps, and those it drops.
pub struct Split {
    pub kept: Written,
    pub dropped: Written,
    pub profile: Vec<ColumnProfile>,
}

/// A file written, with the SHA-256 and size of its content, known as it was written.
pub struct Written {
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
}

impl From<ValidateError> for IngestError {
    fn from(e: ValidateError) -> Self {
        match e {
            ValidateError::Data(e) => IngestError::Data(e),
            ValidateError::Scratch(e) => IngestError::Scratch(e),
        }
    }
}

/// Reads, checks, writes and profiles the upload at `upload` (named `file_name`): the first pass.
/// A file that cannot be decoded comes back as its fault, for the quarantine report.
pub fn check_upload(
    upload: &Path,
    file_name: &str,
    spec: &DatasetSpec,
    max_content: u64,
    scratch: &Path,
) -> Result<Result<FirstPass, DecodeError>, IngestError> {
    let numeric = numeric_schema(spec);
    let reading = Reading::new(file_name, &spec.source, &numeric, max_content);
    let typed_path = scratch.join("typed.parquet");
    let mut validator = Validator::new(spec, scratch);
    let mut profile = ProfileBuilder::new(spec);
    let mut writer = Writer::new(&typed_path);
    let read = blocks::batches(open(upload)?, &reading, |raw, decoded| {
        let frame = validator.check(&raw, decoded)?;
        drop(raw);
        // Writing and profiling are independent: with two cores (a Lambda of 1,769 MB or more,
        // or a laptop) they overlap.
        let (written, profiled) = rayon::join(|| writer.write(&frame), || profile.add(&frame));
        written?;
        profiled?;
        Ok::<(), IngestError>(())
    });
    let format = match read {
        Ok(decoded) => decoded.format,
        Err(failure) => return unread(failure).map(Err),
    };
    let typed = writer.finish()?;
    let mut finished = validator.finish()?;
    if finished.needs_values() {
        // Repeated keys are found only once every row is read: the rows' raw values, for the
        // report's examples, are read again (the file is quarantined then, so speed matters less).
        let mut rows_before = 0;
        blocks::batches(open(upload)?, &reading, |raw, _| {
            finished.fill(&raw, rows_before);
            rows_before += raw.height() as u64;
            Ok::<(), IngestError>(())
        })
        .map_err(|failure| match unread(failure) {
            Ok(fault) => IngestError::Data(
                polars_err!(ComputeError: "the upload read differently the second time: {fault}"),
            ),
            Err(e) => e,
        })?;
    }
    Ok(Ok(FirstPass {
        format,
        checked: finished.into_checked(),
        typed,
        profile: profile.finish(),
    }))
}

/// The decoding fault that stopped a pass, or the error that did.
fn unread(failure: Failure<IngestError>) -> Result<DecodeError, IngestError> {
    match failure {
        Failure::Read(BlockError::Decode(fault)) => Ok(fault),
        Failure::Read(BlockError::Io(e)) => Err(IngestError::Scratch(e)),
        Failure::Each(e) => Err(e),
    }
}

/// Splits the typed rows of the first pass by `invalid`: the kept ones, profiled, and the dropped
/// ones with their 1-based position in the upload (`_row`), so they can be found and fixed.
pub fn drop_rows(
    typed: &Path,
    invalid: &BooleanChunked,
    spec: &DatasetSpec,
    scratch: &Path,
) -> Result<Split, IngestError> {
    let (kept_path, dropped_path) = (
        scratch.join("kept.parquet"),
        scratch.join("dropped.parquet"),
    );
    let (mut kept, mut dropped) = (Writer::new(&kept_path), Writer::new(&dropped_path));
    let mut profile = ProfileBuilder::new(spec);
    let mut reader = ParquetReader::new(open(typed)?);
    let metadata = reader.get_metadata()?.clone();
    let total = metadata.num_rows;
    let mut offset = 0;
    while offset < total {
        let mut reader =
            ParquetReader::new(open(typed)?).with_slice(Some((offset, blocks::PARQUET_ROWS)));
        reader.set_metadata(metadata.clone());
        let frame = reader.finish()?;
        let flags = invalid.slice(offset as i64, frame.height());
        let mut out = frame.filter(&flags)?;
        let positions: Vec<u64> = flags
            .iter()
            .enumerate()
            .filter(|(_, v)| *v == Some(true))
            .map(|(i, _)| (offset + i) as u64 + 1)
            .collect();
        out.with_column(Column::new("_row".into(), positions))?;
        dropped.write(&out)?;
        let keep = frame.filter(&!&flags)?;
        kept.write(&keep)?;
        profile.add(&keep)?;
        offset += frame.height().max(1);
    }
    Ok(Split {
        kept: kept.finish()?,
        dropped: dropped.finish()?,
        profile: profile.finish(),
    })
}

fn open(path: &Path) -> Result<File, IngestError> {
    File::open(path).map_err(IngestError::Scratch)
}

/// Typed rows written as Parquet row groups as they come; opened at the first batch, whose
/// schema every batch has.
struct Writer<'p> {
    path: &'p Path,
    open: Option<(polars::io::parquet::write::BatchedWriter<Hashed>, Hashed)>,
}

impl<'p> Writer<'p> {
    fn new(path: &'p Path) -> Self {
        Self { path, open: None }
    }

    fn write(&mut self, frame: &DataFrame) -> Result<(), IngestError> {
        let (writer, _) = match &mut self.open {
            Some(open) => open,
            none => {
                let file = Hashed::create(self.path)?;
                let writer = super::parquet_writer(file.clone()).batched(frame.schema())?;
                none.insert((writer, file))
            }
        };
        if frame.should_rechunk() {
            // The writer cuts row groups from columns of equal chunks.
            let mut aligned = frame.clone();
            aligned.align_chunks_par();
            return Ok(writer.write_batch(&aligned)?);
        }
        Ok(writer.write_batch(frame)?)
    }

    /// Closes the file: with no batch written, an empty file of no columns.
    fn finish(self) -> Result<Written, IngestError> {
        let file = match self.open {
            Some((writer, file)) => {
                writer.finish()?;
                file
            }
            None => {
                let file = Hashed::create(self.path)?;
                super::parquet_writer(file.clone()).finish(&mut DataFrame::empty())?;
                file
            }
        };
        file.finish(self.path)
    }
}

/// A file that hashes what is written to it (shared with the Parquet writer, which owns its sink).
#[derive(Clone)]
struct Hashed(Arc<Mutex<HashedFile>>);

struct HashedFile {
    file: std::io::BufWriter<File>,
    sha256: Sha256,
    bytes: u64,
}

impl Hashed {
    fn create(path: &Path) -> Result<Self, IngestError> {
        let file = File::create(path).map_err(IngestError::Scratch)?;
        Ok(Self(Arc::new(Mutex::new(HashedFile {
            file: std::io::BufWriter::with_capacity(1 << 16, file),
            sha256: Sha256::new(),
            bytes: 0,
        }))))
    }

    fn lock(&self) -> std::io::Result<std::sync::MutexGuard<'_, HashedFile>> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("a writer of this file panicked"))
    }

    fn finish(self, path: &Path) -> Result<Written, IngestError> {
        let mut file = self.lock().map_err(IngestError::Scratch)?;
        file.file.flush().map_err(IngestError::Scratch)?;
        let sha256 = hex::encode(std::mem::take(&mut file.sha256).finalize());
        Ok(Written {
            path: path.to_owned(),
            sha256,
            bytes: file.bytes,
        })
    }
}

impl Write for Hashed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut file = self.lock()?;
        let written = file.file.write(buf)?;
        file.sha256.update(&buf[..written]);
        file.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.lock()?.file.flush()
    }
}
