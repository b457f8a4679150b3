//! The training input: the curated versions the spec selects, read with polars (only the columns
//! training needs), and the target as class labels.

use std::io::Cursor;

use chrono::{DateTime, Duration, Utc};
use polars::prelude::*;

use super::{DataError, DataVersionRef};
use crate::features::{RawColumn, RawFrame};
use crate::ingest::catalog::{self, DataVersionRecord};
use crate::ingest::retirement;
use crate::names::DatasetName;
use crate::ports::{ObjectStore, RegistryStore, StoreError};
use crate::spec::ColumnSpec;

/// The curated versions to train on, and the retired ones left out.
pub struct Selected {
    /// Sorted by version id, so the same versions always give the same data.
    pub versions: Vec<DataVersionRecord>,
    /// Retired versions the selection would otherwise have taken.
    pub retired: Vec<String>,
}

/// The curated versions to train on: those `pinned` (every one when none are), ingested in the
/// last `window_days` when given, never a retired one.
pub async fn select_versions(
    registry: &dyn RegistryStore,
    dataset: &DatasetName,
    window_days: Option<u32>,
    pinned: &[String],
    now: DateTime<Utc>,
) -> Result<Selected, DataError> {
    let mut versions = catalog::versions(registry, dataset).await?;
    let retirements = retirement::retirements(registry, dataset).await?;
    for pin in pinned {
        if !versions.iter().any(|v| &v.version == pin) {
            return Err(DataError::NoSuchVersion {
                dataset: dataset.clone(),
                version: pin.clone(),
            });
        }
        if let Some(retired) = retirements.get(pin) {
            return Err(DataError::PinnedRetired {
                dataset: dataset.clone(),
                version: pin.clone(),
                reason: retired.reason.clone(),
            });
        }
    }
    if !pinned.is_empty() {
        versions.retain(|v| pinned.contains(&v.version));
    }
    if let Some(days) = window_days {
        let since = now - Duration::days(days.into());
        versions.retain(|v| v.ingested_at >= since);
    }
    let mut retired: Vec<String> = Vec::new();
    versions.retain(|v| {
        let keep = !retirements.contains_key(&v.version);
        if !keep {
            retired.push(v.version.clone());
        }
        keep
    });
    if versions.is_empty() {
        return Err(DataError::NoData {
            dataset: dataset.clone(),
            window_days,
        });
    }
    versions.sort_by(|a, b| a.version.cmp(&b.version));
    retired.sort();
    Ok(Selected { versions, retired })
}

/// Reads `columns` of every version into one frame.
pub async fn load(
    store: &dyn ObjectStore,
    versions: &[DataVersionRef],
    columns: &[&ColumnSpec],
) -> Result<RawFrame, DataError> {
    let frame = read(store, versions, columns).await?;
    RawFrame::from_polars(&frame, columns).map_err(DataError::Features)
}

/// Reads `columns` of every version into one polars frame (compact, before any conversion).
pub async fn read(
    store: &dyn ObjectStore,
    versions: &[DataVersionRef],
    columns: &[&ColumnSpec],
) -> Result<DataFrame, DataError> {
    let names: Vec<PlSmallStr> = columns.iter().map(|c| c.name.as_str().into()).collect();
    let mut frame: Option<DataFrame> = None;
    for version in versions {
        let key = &version.data_key;
        let bytes = match store.get(key).await {
            Ok(object) => object.bytes,
            Err(StoreError::NotFound(_)) => {
                return Err(DataError::Corrupt {
                    what: format!("curated version {}", version.version),
                    problem: format!(
                        "its data {key} is missing from the store, though the registry lists it"
                    ),
                })
            }
            Err(e) => return Err(e.into()),
        };
        let corrupt = |e: PolarsError| DataError::Corrupt {
            what: key.to_string(),
            problem: e.to_string(),
        };
        let mut reader = ParquetReader::new(Cursor::new(bytes));
        let schema = reader.schema().map_err(corrupt)?;
        if let Some(missing) = names.iter().find(|name| !schema.contains(name)) {
            return Err(DataError::MissingColumn {
                column: missing.to_string(),
                version: version.version.clone(),
            });
        }
        let part = reader
            .with_columns(Some(names.iter().map(|n| n.to_string()).collect()))
            .finish()
            .map_err(corrupt)?;
        frame = Some(match frame {
            None => part,
            Some(mut all) => {
                all.vstack_mut(&part).map_err(corrupt)?;
                all
            }
        });
    }
    Ok(frame.unwrap_or_default())
}

/// The rows of `frame` at `indices`, in that order, as a typed frame.
pub fn take(
    frame: &DataFrame,
    indices: &[usize],
    columns: &[&ColumnSpec],
) -> Result<RawFrame, DataError> {
    let corrupt = |e: PolarsError| DataError::Corrupt {
        what: "the curated data".into(),
        problem: e.to_string(),
    };
    let indices: Vec<IdxSize> = indices
        .iter()
        .map(|&i| IdxSize::try_from(i))
        .collect::<Result<_, _>>()
        .map_err(|e| DataError::Corrupt {
            what: "the curated data".into(),
            problem: e.to_string(),
        })?;
    let picked = frame
        .take(&IdxCa::from_vec("rows".into(), indices))
        .map_err(corrupt)?;
    RawFrame::from_polars(&picked, columns).map_err(DataError::Features)
}

/// The target column as text labels (None where it is null).
pub fn labels(column: &RawColumn) -> Vec<Option<String>> {
    match column {
        RawColumn::Numeric(values) => values
            .iter()
            .map(|v| {
                v.map(|x| {
                    if x.fract() == 0.0 && x.abs() < 1e15 {
                        format!("{}", x as i64)
                    } else {
                        x.to_string()
                    }
                })
            })
            .collect(),
        RawColumn::Text(values) => values.iter().map(|v| v.map(str::to_owned)).collect(),
        RawColumn::Boolean(values) => values.iter().map(|v| v.map(|b| b.to_string())).collect(),
        RawColumn::Datetime(values) => values.iter().map(|v| v.map(|t| t.to_string())).collect(),
    }
}

/// A slice column's values as text, for metrics per slice (a missing value is its own slice).
pub fn slice_values(column: &RawColumn) -> Vec<String> {
    labels(column)
        .into_iter()
        .map(|v| v.unwrap_or_else(|| "(missing)".to_owned()))
        .collect()
}
