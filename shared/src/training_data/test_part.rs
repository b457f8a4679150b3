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
    // One column at a time: the target and time columns for every row, the rest for the test
    // rows only.
    let names: Vec<&str> = specs.iter().map(|c| c.name.as_str()).collect();
    let data = curated::Curated::fetch(store, &lineage.data_versions, specs).await?;
    let labels = curated::Labels::of(&data.column(target)?);
    // The classes as training shaped them (mapped, rare ones dropped or merged), per label.
    let class_of = labels
        .values
        .iter()
        .map(|label| {
            let Some(label) = lineage.target.apply(label) else {
                return Ok(None);
            };
            match classes.iter().position(|c| *c == label) {
                Some(class) => Ok(Some(class as u32)),
                None => Err(DataError::Corrupt {
                    what: format!("the data of {} version {}", lineage.model, lineage.version),
                    problem: format!(
                        "class {label:?} of {target:?} is not one the model was trained on ({})",
                        classes.join(", ")
                    ),
                }),
            }
        })
        .collect::<Result<Vec<Option<u32>>, DataError>>()?;
    let (labelled, y) = labels.classified(&class_of);
    let (parts, _) = split_rows(&lineage.split, &data, &labelled, &y, classes.len())?;
    let rows: Vec<usize> = parts.test.iter().map(|&i| labelled[i]).collect();
    Ok(TestPart {
        frame: data.take(&names, &rows)?,
        y: parts.test.iter().map(|&i| y[i]).collect(),
    })
}
