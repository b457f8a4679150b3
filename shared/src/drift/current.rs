//! The current side of a drift check, read in batches into a profile so memory stays bounded:
//! the sampled inference records of a time window, a curated data version, or a file.

use std::fs::File;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveTime, Utc};
use polars::prelude::*;
use serde_json::{Map, Value};
use tracing::warn;

use super::error::DriftError;
use super::profile::{Profile, ProfileBuilder};
use crate::artifact::ModelArtifact;
use crate::features::RawFrame;
use crate::ingest::blocks;
use crate::ingest::coerce::coerce;
use crate::ingest::decode::numeric_schema;
use crate::names::{ModelName, ObjectKey};
use crate::ports::{ObjectStore, StoreError};
use crate::predict::compaction::SETTLED_DAYS;
use crate::predict::{self, inference, Limits, UnknownFields};
use crate::spec::{ColumnSpec, DatasetSpec};

/// Rows converted and profiled at a time: large enough for parallel work, small enough that a file
/// of millions of rows never exists in memory as row values.
const BATCH_ROWS: usize = 65_536;

/// What the current side is.
#[derive(Debug, Clone, PartialEq)]
pub enum Current {
    /// Inference records made in the `hours` before `until` (default: the spec's window).
    Window {
        hours: Option<u32>,
        until: DateTime<Utc>,
    },
    /// A curated data version of the model's dataset (its id, or an unambiguous prefix).
    DataVersion(String),
    /// A file with the dataset's columns: CSV (optionally gzip), Parquet or JSON Lines.
    File { name: String, path: PathBuf },
}

/// What was read, for the report.
pub struct Read {
    pub description: String,
    pub unreadable_records: u64,
}

/// Profiles the inference records of the window. Predictions count only where the record was made
/// by the reference version, whose outputs on its training data they are compared with.
///
/// Whole days of the window that have settled (as compaction counts them) are read from their
/// daily profile instead of their records: the first window that needs a day's profile builds it
/// from the day's records and stores it beside them, so a 30-day window reads about 30 profiles,
/// not 30 days of records. The rest of the window (its first and last, unsettled hours) is read
/// record by record.
pub async fn inference_window(
    store: &dyn ObjectStore,
    model: &ModelName,
    artifact: &ModelArtifact,
    version: u64,
    hours: u32,
    until: DateTime<Utc>,
) -> Result<(Profile, Read), DriftError> {
    let from = until - Duration::hours(hours.into());
    let days = profiled_days(from, until);
    let mut builder = ProfileBuilder::new(&artifact.pipeline, version);
    let mut unreadable = 0;
    let raw = match (days.first(), days.last()) {
        (Some(first), Some(last)) => vec![
            (from, start_of(*first)),
            (start_of(*last + Days::new(1)), until),
        ],
        _ => vec![(from, until)],
    };
    for (from, until) in raw.into_iter().filter(|(from, until)| from < until) {
        unreadable +=
            profile_records(store, model, artifact, version, from, until, &mut builder).await?;
    }
    let mut profile = builder.finish();
    for day in days {
        let (daily, unreadable_in_day) =
            daily_profile(store, model, artifact, version, day).await?;
        unreadable += unreadable_in_day;
        profile = profile
            .merge(daily, version ^ day.num_days_from_ce() as u64)
            .map_err(|e| DriftError::Unreadable {
                what: format!("the daily profile of {model} version {version} for {day}"),
                problem: e.to_string(),
            })?;
    }
    let read = Read {
        description: format!(
            "inference records from {} to {}",
            from.format("%Y-%m-%d %H:%M UTC"),
            until.format("%Y-%m-%d %H:%M UTC")
        ),
        unreadable_records: unreadable,
    };
    Ok((profile, read))
}

/// The whole days between `from` and `until` that have settled by `until`, oldest first.
fn profiled_days(from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<NaiveDate> {
    let first = if start_of(from.date_naive()) == from {
        from.date_naive()
    } else {
        from.date_naive() + Days::new(1)
    };
    let Some(last_settled) = until.date_naive().checked_sub_days(Days::new(SETTLED_DAYS)) else {
        return Vec::new();
    };
    first
        .iter_days()
        .take_while(|day| *day <= last_settled && start_of(*day + Days::new(1)) <= until)
        .collect()
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// Where a version's profile of a day's records is kept: beside the records, so it expires with them.
fn daily_key(model: &ModelName, version: u64, day: NaiveDate) -> ObjectKey {
    ObjectKey::parse(&format!(
        "inference/{model}/profiles/{version}/dt={day}.json"
    ))
    .unwrap_or_else(|_| unreachable!("a valid model name, a number and a date"))
}

/// `version`'s profile of `day`'s records: the stored one, or built from the records and stored
/// (also when the stored one cannot be read); with the unreadable records met building it.
async fn daily_profile(
    store: &dyn ObjectStore,
    model: &ModelName,
    artifact: &ModelArtifact,
    version: u64,
    day: NaiveDate,
) -> Result<(Profile, u64), DriftError> {
    let key = daily_key(model, version, day);
    let mut builder = ProfileBuilder::new(&artifact.pipeline, version);
    match store.get(&key).await {
        Ok(object) => match serde_json::from_slice::<Profile>(&object.bytes) {
            Ok(profile) if same_features(&profile, &builder) => return Ok((profile, 0)),
            Ok(_) => warn!(key = %key, "a daily profile of other features built again"),
            Err(e) => warn!(key = %key, error = %e, "unreadable daily profile built again"),
        },
        Err(StoreError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let unreadable = profile_records(
        store,
        model,
        artifact,
        version,
        start_of(day),
        start_of(day + Days::new(1)),
        &mut builder,
    )
    .await?;
    let profile = builder.finish();
    let json = serde_json::to_vec(&profile).map_err(|e| DriftError::Unreadable {
        what: format!("the daily profile {key}"),
        problem: e.to_string(),
    })?;
    store.put(&key, json).await?;
    Ok((profile, unreadable))
}

/// Whether `profile` profiles the features `builder` does (a stored profile can be of no other,
/// being keyed by version, unless it was damaged).
fn same_features(profile: &Profile, builder: &ProfileBuilder) -> bool {
    let names = builder.feature_names();
    profile.features.len() == names.len()
        && profile
            .features
            .iter()
            .zip(&names)
            .all(|(f, n)| f.name() == n)
}

/// Profiles the records made from `from` until `until` into `builder`; the records that could not
/// be read or did not match the model's inputs are counted, not fatal.
async fn profile_records(
    store: &dyn ObjectStore,
    model: &ModelName,
    artifact: &ModelArtifact,
    version: u64,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    builder: &mut ProfileBuilder,
) -> Result<u64, DriftError> {
    let limits = Limits {
        max_records: usize::MAX,
        unknown_fields: UnknownFields::Ignore,
    };
    let mut unmatched = 0u64;
    let unreadable = inference::read_window(store, model, from, until, |key, records| {
        let mut features = Vec::new();
        let mut labels = Vec::new();
        let mut scores = Vec::new();
        for record in records {
            if record.version == version {
                labels.push(record.output.label);
                scores.extend(record.output.score);
            }
            features.push(Value::Object(record.features));
        }
        let records = features.len() as u64;
        let mut body = Map::new();
        body.insert("records".into(), Value::Array(features));
        let body = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
        match predict::parse(&body, &artifact.inputs, &limits) {
            Ok(frame) => builder.add(&frame)?,
            Err(e) => {
                // Records of another model version may lack an input this one needs.
                unmatched += records;
                warn!(key = %key, error = %e, "inference records not matching the model's inputs skipped");
                return Ok::<(), DriftError>(());
            }
        }
        let binary = scores.len() == labels.len() && !scores.is_empty();
        builder.add_predictions(
            labels.iter().map(|label| &**label),
            binary.then_some(&scores[..]),
        );
        Ok(())
    })
    .await?;
    Ok(unreadable + unmatched)
}

/// Profiles a curated Parquet file's input columns, scoring them with the model.
pub async fn curated(
    store: &dyn ObjectStore,
    data_key: &ObjectKey,
    columns: &[&ColumnSpec],
    artifact: &ModelArtifact,
    builder: &mut ProfileBuilder,
) -> Result<(), DriftError> {
    let bytes = store.get(data_key).await?.bytes;
    parquet_batches(&bytes, columns, BATCH_ROWS, |batch| {
        profile_frame(&batch, columns, artifact, builder)
    })
    .map_err(|problem| problem.of(&data_key.to_string()))
}

/// Profiles a file's input columns, typed per the spec as ingestion types them (a value that does
/// not parse counts as missing), scoring them with the model. Text (CSV, JSON Lines, gzip or not)
/// is read a block at a time and Parquet a row slice at a time, keeping only the input columns, so
/// memory stays bounded whatever the file's size: the size limit of uploads does not apply.
pub fn file(
    name: &str,
    path: &Path,
    spec: &DatasetSpec,
    columns: &[&ColumnSpec],
    artifact: &ModelArtifact,
    builder: &mut ProfileBuilder,
) -> Result<(), DriftError> {
    let mut profile = |batch: DataFrame| {
        let typed = typed(batch, columns)?;
        profile_frame(&typed, columns, artifact, builder)
    };
    let file = File::open(path).map_err(|e| DriftError::Unreadable {
        what: name.to_owned(),
        problem: e.to_string(),
    })?;
    let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    let numeric = numeric_schema(spec);
    let reading = blocks::Reading {
        columns: Some(&names),
        parquet_rows: BATCH_ROWS,
        ..blocks::Reading::new(name, &spec.source, &numeric, u64::MAX)
    };
    let read = blocks::batches(file, &reading, |batch, _| profile(batch))
        .map(|_| ())
        .map_err(|failure| match failure {
            blocks::Failure::Read(e) => Problem::Read(e.to_string()),
            blocks::Failure::Each(problem) => problem,
        });
    read.map_err(|problem| problem.of(name))
}

/// Why a file could not be profiled, before it is known by name.
enum Problem {
    Read(String),
    Drift(DriftError),
}

impl Problem {
    fn of(self, what: &str) -> DriftError {
        match self {
            Problem::Read(problem) => DriftError::Unreadable {
                what: what.to_owned(),
                problem,
            },
            Problem::Drift(e) => e,
        }
    }
}

impl<E: Into<DriftError>> From<E> for Problem {
    fn from(e: E) -> Problem {
        Problem::Drift(e.into())
    }
}

fn missing_column(name: &str) -> Problem {
    Problem::Read(format!("it has no column {name:?}, an input of the model"))
}

/// Reads the input columns of a Parquet file a slice of rows at a time, so a file of millions of
/// rows is never decoded whole. Slices cost some re-reading for bounded memory (bench/drift.sh
/// measures both).
fn parquet_batches(
    bytes: &[u8],
    columns: &[&ColumnSpec],
    batch_rows: usize,
    mut each: impl FnMut(DataFrame) -> Result<(), Problem>,
) -> Result<(), Problem> {
    let polars = |e: PolarsError| Problem::Read(e.to_string());
    let mut reader = ParquetReader::new(Cursor::new(bytes));
    let schema = reader.schema().map_err(polars)?;
    if let Some(missing) = columns.iter().find(|c| !schema.contains(&c.name)) {
        return Err(missing_column(&missing.name));
    }
    let metadata = reader.get_metadata().map_err(polars)?.clone();
    let rows = metadata.num_rows;
    let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    for offset in (0..rows).step_by(batch_rows.max(1)) {
        let mut reader = ParquetReader::new(Cursor::new(bytes))
            .with_columns(Some(names.clone()))
            .with_slice(Some((offset, batch_rows)));
        reader.set_metadata(metadata.clone());
        each(reader.finish().map_err(polars)?)?;
    }
    Ok(())
}

/// The input columns typed per the spec, each taken out of the read frame as it is typed.
fn typed(mut frame: DataFrame, columns: &[&ColumnSpec]) -> Result<DataFrame, Problem> {
    let rows = frame.height();
    let mut typed = Vec::with_capacity(columns.len());
    for column in columns {
        let series = frame
            .drop_in_place(&column.name)
            .map_err(|_| missing_column(&column.name))?;
        let series = coerce(series.as_materialized_series(), column)
            .map_err(|e| Problem::Read(e.to_string()))?
            .series;
        typed.push(series.into());
    }
    DataFrame::new(rows, typed).map_err(|e| Problem::Read(e.to_string()))
}

/// Profiles typed rows batch by batch, with the model's predictions on each batch.
fn profile_frame(
    frame: &DataFrame,
    columns: &[&ColumnSpec],
    artifact: &ModelArtifact,
    builder: &mut ProfileBuilder,
) -> Result<(), Problem> {
    let binary = artifact.classes.len() == 2;
    let mut offset = 0;
    while offset < frame.height() {
        let batch = frame.slice(offset as i64, BATCH_ROWS);
        offset += batch.height();
        let raw = RawFrame::from_polars(&batch, columns)?;
        let (profiled, probabilities) =
            rayon::join(|| builder.add(&raw), || artifact.predict(&raw));
        profiled?;
        let probabilities = probabilities?;
        let k = artifact.classes.len().max(1);
        let labels = probabilities.chunks(k).map(|p| {
            artifact.classes[crate::learn::predicted_class(p, artifact.threshold)].as_str()
        });
        let scores: Option<Vec<f64>> =
            binary.then(|| probabilities.chunks(2).map(|p| p[1]).collect());
        builder.add_predictions(labels, scores.as_deref());
    }
    Ok(())
}

#[cfg(test)]
#[path = "current_tests.rs"]
mod tests;
