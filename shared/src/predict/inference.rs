//! Inference records: a sample of what was asked and answered, kept under
//! `inference/<model>/dt=<date>/` for monitoring and drift. Records are buffered and written in
//! batches by background tasks, off the response path; a failed write is counted and logged, and
//! never fails a prediction.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::task::JoinSet;

use super::Prediction;
use crate::artifact::InputField;
use crate::features::{RawColumn, RawFrame};
use crate::names::{ModelName, ObjectKey};
use crate::ports::ObjectStore;

/// How much is kept and how often it is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// The share of predicted records kept, from 0 (none) to 1 (all).
    pub rate: f64,
    /// A batch is written once it holds this many records…
    pub batch_records: usize,
    /// …or once its oldest record is this old, whichever comes first.
    pub max_age: Duration,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            rate: 0.1,
            batch_records: 500,
            max_age: Duration::from_secs(10),
        }
    }
}

impl Sampling {
    /// Checks the settings, saying what is wrong.
    pub fn new(rate: f64, batch_records: usize, max_age: Duration) -> Result<Self, String> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(format!(
                "the sample rate is a share from 0 to 1, not {rate}"
            ));
        }
        if batch_records == 0 {
            return Err("a batch holds at least one record".into());
        }
        Ok(Sampling {
            rate,
            batch_records,
            max_age,
        })
    }
}

/// One predicted record, as drift and audits read it back (one JSON object per line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceRecord {
    pub request_id: String,
    pub model: String,
    pub version: u64,
    /// When the prediction was made (RFC 3339, UTC).
    pub at: String,
    /// The input values the model read, by feature name.
    pub features: Map<String, Value>,
    #[serde(flatten)]
    pub output: Prediction,
}

/// Counts since the process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InferenceStats {
    pub sampled: u64,
    pub written: u64,
    pub failed: u64,
}

#[derive(Default)]
struct Counters {
    sampled: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
}

struct Buffer {
    rng: ChaCha8Rng,
    records: Vec<InferenceRecord>,
    oldest: Option<Instant>,
    batches: u64,
}

pub struct InferenceLog {
    store: Arc<dyn ObjectStore>,
    sampling: Sampling,
    /// Names this process's objects, so that concurrent containers never overwrite each other.
    writer: String,
    buffer: Mutex<Buffer>,
    writes: Mutex<JoinSet<()>>,
    counters: Arc<Counters>,
}

impl InferenceLog {
    pub fn new(store: Arc<dyn ObjectStore>, sampling: Sampling) -> Self {
        let now = Utc::now();
        let seed =
            now.timestamp_nanos_opt().unwrap_or_default() as u64 ^ u64::from(std::process::id());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let writer = format!("{:08x}", rng.random::<u32>());
        Self {
            store,
            sampling,
            writer,
            buffer: Mutex::new(Buffer {
                rng,
                records: Vec::new(),
                oldest: None,
                batches: 0,
            }),
            writes: Mutex::new(JoinSet::new()),
            counters: Arc::new(Counters::default()),
        }
    }

    /// Samples the records of one answered request. A full or old batch is handed to a background
    /// write; this never waits for the store. Must run inside a tokio runtime.
    pub fn record(
        &self,
        request_id: &str,
        model: &ModelName,
        version: u64,
        inputs: &[InputField],
        frame: &RawFrame,
        predictions: &[Prediction],
    ) {
        if self.sampling.rate <= 0.0 {
            return;
        }
        let at = Utc::now();
        let batch = {
            let Ok(mut buffer) = self.buffer.lock() else {
                return;
            };
            let before = buffer.records.len();
            for (row, prediction) in predictions.iter().enumerate() {
                if self.sampling.rate < 1.0 && !buffer.rng.random_bool(self.sampling.rate) {
                    continue;
                }
                buffer.records.push(InferenceRecord {
                    request_id: request_id.to_owned(),
                    model: model.to_string(),
                    version,
                    at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
                    features: features(inputs, frame, row),
                    output: prediction.clone(),
                });
            }
            let added = buffer.records.len() - before;
            self.counters
                .sampled
                .fetch_add(added as u64, Ordering::Relaxed);
            if added > 0 && buffer.oldest.is_none() {
                buffer.oldest = Some(Instant::now());
            }
            let due = buffer.records.len() >= self.sampling.batch_records
                || buffer
                    .oldest
                    .is_some_and(|t| t.elapsed() >= self.sampling.max_age);
            due.then(|| self.take(&mut buffer, at))
        };
        if let Some(batch) = batch {
            self.spawn_write(batch);
        }
    }

    /// Writes whatever is buffered and waits for every write under way: before a process exits,
    /// and in tests.
    pub async fn flush(&self) {
        let batch = self
            .buffer
            .lock()
            .ok()
            .map(|mut b| self.take(&mut b, Utc::now()));
        if let Some(batch) = batch {
            self.spawn_write(batch);
        }
        let mut writes = self
            .writes
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        while writes.join_next().await.is_some() {}
    }

    pub fn stats(&self) -> InferenceStats {
        InferenceStats {
            sampled: self.counters.sampled.load(Ordering::Relaxed),
            written: self.counters.written.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
        }
    }

    /// The buffered records as objects to write, one per model and day.
    fn take(&self, buffer: &mut Buffer, now: DateTime<Utc>) -> Vec<(String, Vec<InferenceRecord>)> {
        buffer.oldest = None;
        let mut groups: BTreeMap<(String, String), Vec<InferenceRecord>> = BTreeMap::new();
        for record in buffer.records.drain(..) {
            let day = record.at.get(..10).unwrap_or_default().to_owned();
            groups
                .entry((record.model.clone(), day))
                .or_default()
                .push(record);
        }
        groups
            .into_iter()
            .map(|((model, day), records)| {
                buffer.batches += 1;
                let key = format!(
                    "inference/{model}/dt={day}/{}-{}-{:06}.jsonl",
                    now.format("%H%M%S%3f"),
                    self.writer,
                    buffer.batches
                );
                (key, records)
            })
            .collect()
    }

    fn spawn_write(&self, batch: Vec<(String, Vec<InferenceRecord>)>) {
        if batch.is_empty() {
            return;
        }
        let store = self.store.clone();
        let counters = self.counters.clone();
        let write = async move {
            for (key, records) in batch {
                let count = records.len() as u64;
                match write_batch(store.as_ref(), &key, &records).await {
                    Ok(()) => counters.written.fetch_add(count, Ordering::Relaxed),
                    Err(problem) => {
                        tracing::warn!(
                            key,
                            records = count,
                            problem,
                            "inference records not written"
                        );
                        counters.failed.fetch_add(count, Ordering::Relaxed)
                    }
                };
            }
        };
        if let Ok(mut writes) = self.writes.lock() {
            // Finished writes are reaped here so the set stays small in a long-lived server.
            while writes.try_join_next().is_some() {}
            writes.spawn(write);
        }
    }
}

async fn write_batch(
    store: &dyn ObjectStore,
    key: &str,
    records: &[InferenceRecord],
) -> Result<(), String> {
    let key = ObjectKey::parse(key).map_err(|e| e.to_string())?;
    let mut lines = Vec::with_capacity(records.len() * 256);
    for record in records {
        serde_json::to_writer(&mut lines, record).map_err(|e| e.to_string())?;
        lines.push(b'\n');
    }
    store.put(&key, lines).await.map_err(|e| e.to_string())
}

/// One row's input values as JSON, typed as the model's schema says.
fn features(inputs: &[InputField], frame: &RawFrame, row: usize) -> Map<String, Value> {
    inputs
        .iter()
        .map(|field| {
            let value = match frame.column(&field.name) {
                Ok(RawColumn::Numeric(v)) => {
                    v.get(row).copied().flatten().map_or(Value::Null, number)
                }
                Ok(RawColumn::Text(v)) => v
                    .get(row)
                    .map_or(Value::Null, |s| Value::String(s.to_owned())),
                Ok(RawColumn::Boolean(v)) => v
                    .get(row)
                    .copied()
                    .flatten()
                    .map_or(Value::Null, Value::Bool),
                Ok(RawColumn::Datetime(v)) => v
                    .get(row)
                    .copied()
                    .flatten()
                    .and_then(DateTime::from_timestamp_millis)
                    .map_or(Value::Null, |t| {
                        Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true))
                    }),
                Err(_) => Value::Null,
            };
            (field.name.clone(), value)
        })
        .collect()
}

/// Whole numbers stay integers in the records, as they came in.
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
#[path = "inference_tests.rs"]
mod tests;
