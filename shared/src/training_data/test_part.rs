//! A trained version's test part, rebuilt from its lineage: the same rows, in the same order, that
//! training evaluated it on. Promotion scores the champion on them, so candidate and champion are
//! compared on the same data.

use super::curated;
use super::split::split_rows;
use super::{DataError, Lineage};
use crate::features::{FeatureError, RawFrame};
use crate::ports::ObjectStore;
use crate::spec::{ColumnSpec, DatasetSpec};

/// Test rows with the columns asked for, and the class index of each row.
#[derive(Debug)]
pub struct TestPart {
    pub frame: RawFrame,
    /// Index into the classes passed to [`test_part`].
    pub y: Vec<u32>,
}

/// Reads the data versions of `lineage` (the `columns` asked for, the target and the time
/// column), keeps the labelled rows and splits them exactly as training did. `classes` is the
/// trained model's class list, in its order.
pub async fn test_part(
    store: &dyn ObjectStore,
    spec: &DatasetSpec,
    lineage: &Lineage,
    target: &str,
    classes: &[String],
    columns: &[&str],
) -> Result<TestPart, DataError> {
    let mut names: Vec<&str> = columns.to_vec();
    names.push(target);
    names.extend(lineage.split.time_column.as_deref());
    let mut specs: Vec<&ColumnSpec> = Vec::new();
    for name in names {
        let column = spec
            .column(name)
            .ok_or_else(|| FeatureError::MissingColumn(name.to_owned()))?;
        if !specs.iter().any(|c| c.name == column.name) {
            specs.push(column);
        }
    }
    // Only the target and time columns are converted for every row; the rest only for the
    // test rows (a fraction of the data), straight from the compact polars frame.
    let data = curated::read(store, &lineage.data_versions, &specs).await?;
    let keys: Vec<&ColumnSpec> = specs
        .iter()
        .copied()
        .filter(|c| c.name == target || lineage.split.time_column.as_deref() == Some(&c.name))
        .collect();
    let key_frame = RawFrame::from_polars(&data, &keys)?;
    let labels = curated::labels(key_frame.column(target)?);
    let mut labelled = Vec::new();
    let mut y = Vec::new();
    for (row, label) in labels.iter().enumerate() {
        // The classes as training shaped them: mapped, rare ones dropped or merged.
        let Some(label) = label.as_deref().and_then(|l| lineage.target.apply(l)) else {
            continue;
        };
        let class = classes
            .iter()
            .position(|c| *c == label)
            .ok_or_else(|| DataError::Corrupt {
                what: format!("the data of {} version {}", lineage.model, lineage.version),
                problem: format!(
                    "class {label:?} of {target:?} is not one the model was trained on ({})",
                    classes.join(", ")
                ),
            })?;
        labelled.push(row);
        y.push(class as u32);
    }
    let (parts, _) = split_rows(
        &lineage.split,
        &key_frame.take(&labelled),
        &y,
        classes.len(),
    )?;
    let rows: Vec<usize> = parts.test.iter().map(|&i| labelled[i]).collect();
    Ok(TestPart {
        frame: curated::take(&data, &rows, &specs)?,
        y: parts.test.iter().map(|&i| y[i]).collect(),
    })
}
