//! CloudWatch Embedded Metric Format: one JSON line on stdout that CloudWatch turns into metrics, with
//! no API call on the request path.

use serde_json::{json, Map, Value};

pub const NAMESPACE: &str = "Mlops";

#[derive(Debug, Clone, Copy)]
pub enum Unit {
    Count,
    Milliseconds,
    Bytes,
    /// A plain number, such as a metric score.
    None,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Bytes => "Bytes",
            Unit::None => "None",
        }
    }
}

/// One EMF record: metric values published per its dimensions and, for account-wide alarms, in total.
#[derive(Debug, Clone, Default)]
pub struct MetricSet {
    dimensions: Vec<(String, String)>,
    metrics: Vec<(String, Value, Unit)>,
}

/// EMF takes at most this many values of one metric in one record.
pub const MAX_VALUES: usize = 100;

impl MetricSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn dimension(mut self, name: &str, value: &str) -> Self {
        self.dimensions.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn metric(mut self, name: &str, value: f64, unit: Unit) -> Self {
        self.metrics.push((name.to_owned(), json!(value), unit));
        self
    }

    /// Several observations of one metric (a distribution); none adds nothing. Of more than
    /// [`MAX_VALUES`], an evenly spaced sample is kept, so that a large batch is represented across
    /// its whole length rather than by its first rows.
    pub fn values(mut self, name: &str, values: &[f64], unit: Unit) -> Self {
        if !values.is_empty() {
            let n = values.len();
            let kept: Vec<f64> = if n <= MAX_VALUES {
                values.to_vec()
            } else {
                (0..MAX_VALUES)
                    .map(|i| values[i * n / MAX_VALUES])
                    .collect()
            };
            self.metrics.push((name.to_owned(), json!(kept), unit));
        }
        self
    }

    /// The EMF JSON document, timestamped `timestamp_ms`.
    pub fn to_json(&self, timestamp_ms: i64) -> Value {
        let definitions: Vec<Value> = self
            .metrics
            .iter()
            .map(|(name, _, unit)| json!({"Name": name, "Unit": unit.as_str()}))
            .collect();
        let dimension_names: Vec<&str> = self
            .dimensions
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        let mut root = Map::new();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [dimension_names, []], "Metrics": definitions}],
            }),
        );
        for (name, value) in &self.dimensions {
            root.insert(name.clone(), Value::String(value.clone()));
        }
        for (name, value, _) in &self.metrics {
            root.insert(name.clone(), value.clone());
        }
        Value::Object(root)
    }

    /// Prints the record as one line on stdout, where the Lambda runtime ships it to CloudWatch.
    pub fn emit(&self) {
        println!("{}", self.to_json(chrono::Utc::now().timestamp_millis()));
    }
}

#[cfg(test)]
#[path = "observability_tests.rs"]
mod tests;
