//! Golden rows: a few hundred rows of a version's test part as the request records a client would
//! send, with the probabilities training computed for them. The smoke test after a promotion sends
//! them through serving's reader and scorer and expects the same answers, so a model that serving
//! reads or scores differently from training never stays champion.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::artifact::ModelArtifact;
use crate::features::{RawColumn, RawFrame};
use crate::learn;
use crate::predict::inference::RowFeatures;
use crate::spec::ColumnType;

/// At most this many golden rows: enough to cover the test part's variety, few enough that the
/// smoke test takes milliseconds.
pub const GOLDEN_ROWS: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenRows {
    /// Request records, as a client sends them (with a made-up key when the model has one).
    pub records: Vec<Map<String, Value>>,
    /// Training's class probabilities for each record, in the model's class order.
    pub probabilities: Vec<Vec<f64>>,
    /// The class training predicts for each at the model's threshold.
    pub labels: Vec<String>,
}

/// Which rows of a test part of `rows` rows are golden: spread evenly over it, so a time split's
/// test part is covered from its first day to its last.
pub fn positions(rows: usize) -> Vec<usize> {
    let step = rows.div_ceil(GOLDEN_ROWS).max(1);
    (0..rows).step_by(step).collect()
}

/// The golden rows of `frame` (the golden test rows, raw), whose probabilities training computed
/// (`classes` per row, flattened).
pub fn build(
    artifact: &ModelArtifact,
    frame: &RawFrame,
    probabilities: &[f64],
) -> Result<GoldenRows, serde_json::Error> {
    let k = artifact.classes.len().max(1);
    let columns: Vec<Option<&RawColumn>> = artifact
        .inputs
        .iter()
        .map(|field| frame.column(&field.name).ok())
        .collect();
    let mut records = Vec::with_capacity(frame.rows());
    for row in 0..frame.rows() {
        let features = RowFeatures {
            inputs: &artifact.inputs,
            columns: &columns,
            row,
        };
        let mut record = match serde_json::to_value(features)? {
            Value::Object(record) => record,
            _ => Map::new(),
        };
        if let Some(key) = &artifact.key {
            let id = match key.kind {
                ColumnType::Integer => Value::from(row),
                _ => Value::from(format!("golden-{row}")),
            };
            record.insert(key.name.clone(), id);
        }
        records.push(record);
    }
    let probabilities: Vec<Vec<f64>> = probabilities.chunks(k).map(<[f64]>::to_vec).collect();
    let labels = probabilities
        .iter()
        .map(|p| {
            let class = learn::predicted_class(p, artifact.threshold);
            artifact.classes.get(class).cloned().unwrap_or_default()
        })
        .collect();
    Ok(GoldenRows {
        records,
        probabilities,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_rows_are_spread_over_the_whole_test_part() {
        assert_eq!(positions(3), vec![0, 1, 2]);
        let many = positions(1_000);
        assert_eq!(many.len(), GOLDEN_ROWS);
        assert_eq!((many[0], many[1], many[GOLDEN_ROWS - 1]), (0, 5, 995));
        assert!(positions(401).len() <= GOLDEN_ROWS);
        assert!(positions(0).is_empty());
    }
}
