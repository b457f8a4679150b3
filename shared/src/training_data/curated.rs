//! The training input: the curated versions the spec selects, copied to a temporary folder and
//! read with polars a column at a time (only the columns training needs), and the target as class
//! labels.

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use polars::prelude::*;

use super::{DataError, DataVersionRef};
use crate::features::{FeatureError, RawColumn, RawFrame};
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

/// The curated versions' Parquet files, fetched once into a temporary folder and read one column
/// at a time: training turns each column into its compact form before it reads the next, so the
/// rows are never all held as one frame (on 2 million flights that frame and its copies were most
/// of the peak), and the files are not held in memory either (20 million flights are 0.7 GB of
/// Parquet). On Lambda the folder is /tmp, whose size the template sets.
pub struct Curated<'a> {
    /// Held for its files; removed when the reader is dropped.
    _folder: tempfile::TempDir,
    files: Vec<PathBuf>,
    columns: Vec<&'a ColumnSpec>,
    rows: usize,
}

impl<'a> Curated<'a> {
    /// Fetches every version, checking that each holds `columns`.
    pub async fn fetch(
        store: &dyn ObjectStore,
        versions: &[DataVersionRef],
        columns: Vec<&'a ColumnSpec>,
    ) -> Result<Curated<'a>, DataError> {
        let folder = tempfile::Builder::new()
            .prefix("mlops-curated-")
            .tempdir()
            .map_err(|e| DataError::Scratch(e.to_string()))?;
        let mut files = Vec::with_capacity(versions.len());
        let mut rows = 0;
        for (i, version) in versions.iter().enumerate() {
            let key = &version.data_key;
            let path = folder.path().join(format!("{i}.parquet"));
            match store.get_to_file(key, &path).await {
                Ok(()) => {}
                Err(StoreError::NotFound(_)) => {
                    return Err(DataError::Corrupt {
                        what: format!("curated version {}", version.version),
                        problem: format!(
                            "its data {key} is missing from the store, though the registry lists it"
                        ),
                    })
                }
                Err(e) => return Err(e.into()),
            }
            let mut reader = ParquetReader::new(open(&path, key.as_str())?);
            let schema = reader.schema().map_err(corrupt(key.as_str()))?;
            if let Some(missing) = columns.iter().find(|c| !schema.contains(&c.name)) {
                return Err(DataError::MissingColumn {
                    column: missing.name.clone(),
                    version: version.version.clone(),
                });
            }
            rows += reader.num_rows().map_err(corrupt(key.as_str()))?;
            files.push(path);
        }
        Ok(Curated {
            _folder: folder,
            files,
            columns,
            rows,
        })
    }

    /// Rows over every version.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Column `name` (one of those fetched) of every version, in version order.
    pub fn column(&self, name: &str) -> Result<RawColumn, DataError> {
        let spec = self
            .columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| FeatureError::MissingColumn(name.to_owned()))?;
        let mut column = RawColumn::with_capacity(spec.kind, self.rows);
        for file in &self.files {
            let part = ParquetReader::new(open(file, "the curated data")?)
                .with_columns(Some(vec![spec.name.clone()]))
                .finish()
                .map_err(corrupt("the curated data"))?;
            let series = part
                .column(&spec.name)
                .map_err(corrupt("the curated data"))?
                .as_materialized_series();
            // The same spec types every version's column alike.
            column.append(RawColumn::from_polars(series, spec)?);
        }
        Ok(column)
    }

    /// The rows at `indices` of the columns `names`, in that order.
    pub fn take(&self, names: &[&str], indices: &[usize]) -> Result<RawFrame, DataError> {
        let mut frame = RawFrame::new(indices.len());
        for name in names {
            frame.insert(*name, self.column(name)?.take(indices))?;
        }
        Ok(frame)
    }
}

fn open(path: &Path, what: &str) -> Result<File, DataError> {
    File::open(path).map_err(|e| DataError::Corrupt {
        what: what.to_owned(),
        problem: format!("its copy in {} cannot be read: {e}", path.display()),
    })
}

fn corrupt(what: &str) -> impl Fn(PolarsError) -> DataError + '_ {
    move |e| DataError::Corrupt {
        what: what.to_owned(),
        problem: e.to_string(),
    }
}

/// A target column as a dictionary: its distinct values as class labels, and each row's label.
pub struct Labels {
    /// Distinct, in order of first appearance.
    pub values: Vec<String>,
    /// Each row's index into `values`; None where the target is null.
    pub rows: Vec<Option<u32>>,
}

impl Labels {
    pub fn of(column: &RawColumn) -> Labels {
        match column {
            RawColumn::Numeric(values) => {
                // One zero: -0.0 and 0.0 are one label.
                Labels::collect(
                    values.iter().map(|v| v.map(|x| (x + 0.0).to_bits())),
                    |&bits| number_label(f64::from_bits(bits)),
                )
            }
            RawColumn::Text(values) => Labels::collect(values.iter(), |v| (*v).to_owned()),
            RawColumn::Boolean(values) => {
                Labels::collect(values.iter().copied(), ToString::to_string)
            }
            RawColumn::Datetime(values) => {
                Labels::collect(values.iter().copied(), ToString::to_string)
            }
        }
    }

    /// The rows whose label has a class in `class_of` (one entry per label), and each one's class.
    pub fn classified(&self, class_of: &[Option<u32>]) -> (Vec<usize>, Vec<u32>) {
        let mut rows = Vec::new();
        let mut classes = Vec::new();
        for (row, code) in self.rows.iter().enumerate() {
            if let Some(class) = code.and_then(|code| class_of[code as usize]) {
                rows.push(row);
                classes.push(class);
            }
        }
        (rows, classes)
    }

    /// Rows per label, nulls left out.
    pub fn counts(&self) -> Vec<(&str, usize)> {
        let mut counts = vec![0usize; self.values.len()];
        for code in self.rows.iter().flatten() {
            counts[*code as usize] += 1;
        }
        self.values.iter().map(String::as_str).zip(counts).collect()
    }

    fn collect<K: std::hash::Hash + Eq>(
        keys: impl Iterator<Item = Option<K>>,
        label: impl Fn(&K) -> String,
    ) -> Labels {
        let mut codes: foldhash::HashMap<K, u32> = foldhash::HashMap::default();
        let mut values = Vec::new();
        let rows = keys
            .map(|key| {
                let key = key?;
                let next = codes.len() as u32;
                Some(*codes.entry(key).or_insert_with_key(|key| {
                    values.push(label(key));
                    next
                }))
            })
            .collect();
        Labels { values, rows }
    }
}

/// A number as a class label: integers without a fraction ("1", not "1.0").
fn number_label(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

/// A slice column's values as text, for metrics per slice (a missing value is its own slice).
pub fn slice_values(column: &RawColumn) -> Vec<String> {
    let labels = Labels::of(column);
    labels
        .rows
        .iter()
        .map(|code| match code {
            Some(code) => labels.values[*code as usize].clone(),
            None => "(missing)".to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_each_distinct_value_once_with_every_rows_index() {
        let numbers = Labels::of(&RawColumn::Numeric(vec![
            Some(1.0),
            Some(0.0),
            None,
            Some(-0.0),
            Some(1.0),
            Some(2.5),
        ]));
        assert_eq!(numbers.values, ["1", "0", "2.5"]);
        assert_eq!(
            numbers.rows,
            [Some(0), Some(1), None, Some(1), Some(0), Some(2)]
        );
        assert_eq!(numbers.counts(), [("1", 2), ("0", 2), ("2.5", 1)]);

        let words = Labels::of(&RawColumn::Text(
            [Some("late"), None, Some("on time"), Some("late")]
                .into_iter()
                .collect(),
        ));
        assert_eq!(words.values, ["late", "on time"]);
        assert_eq!(words.rows, [Some(0), None, Some(1), Some(0)]);

        let flags = Labels::of(&RawColumn::Boolean(vec![Some(true), Some(false), None]));
        assert_eq!(flags.values, ["true", "false"]);
        assert_eq!(
            slice_values(&RawColumn::Boolean(vec![Some(true), None])),
            ["true", "(missing)"]
        );
    }
}
