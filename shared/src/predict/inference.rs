//! Inference records: a sample of what was asked and answered, kept under
//! `inference/<model>/dt=<date>/` for monitoring and drift. A request only keeps its sampled rows
//! and answers; they are encoded as JSON lines, gzip-compressed (`.jsonl.gz`, as Athena reads them
//! through the template's Glue table) and written in batches by background tasks, off the response
//! path. A failed write is counted and logged, and never fails a prediction.
//!
//! A shadow version (the `shadow` alias) is scored in those same background tasks, on the same
//! sampled rows of the same request, and its records are kept beside the champion's with the
//! same prediction ids: the caller's answer never waits for it, and the monitor compares the two
//! on the same outcomes.

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

use super::{Limits, Loaded, Prediction, Selector, UnknownFields};
use crate::artifact::InputField;
use crate::features::{RawColumn, RawFrame};
use crate::names::{Alias, ModelName, ObjectKey, SHADOW};
use crate::ports::{ObjectStore, StoreError};

/// How much is kept and how often it is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// The share of predicted records kept, from 0 (none) to 1 (all).
    pub rate: f64,
    /// A batch is written once it holds this many records…
    pub batch_records: usize,
    /// …or once its oldest record is this old, whichever comes first.
    pub max_age: Duration,
    /// The share of sampled champion requests a shadow version also scores.
    pub shadow_share: f64,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            rate: 0.1,
            batch_records: 500,
            max_age: Duration::from_secs(10),
            shadow_share: 1.0,
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
            shadow_share: 1.0,
        })
    }

    /// The share of sampled champion requests a shadow scores too, from 0 to 1.
    pub fn with_shadow_share(self, shadow_share: f64) -> Result<Self, String> {
        if !(0.0..=1.0).contains(&shadow_share) {
            return Err(format!(
                "the shadow share is a share from 0 to 1, not {shadow_share}"
            ));
        }
        Ok(Sampling {
            shadow_share,
            ..self
        })
    }
}

/// A request's body and the shadow version to score it with, off the response path.
pub struct ShadowRequest {
    pub model: Arc<Loaded>,
    /// The request as it came (cheap to keep: shared, not copied): the shadow may read inputs
    /// the champion does not.
    pub body: bytes::Bytes,
}

/// One predicted record, as drift and audits read it back (one JSON object per line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceRecord {
    pub request_id: String,
    pub model: ModelName,
    pub version: u64,
    /// The alias the request asked for (`champion` unless it named another); none when it named
    /// the version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<Alias>,
    /// When the prediction was made.
    pub at: DateTime<Utc>,
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
    /// Records a shadow version scored (written among `written`), and those it could not.
    pub shadowed: u64,
    pub shadow_failed: u64,
}

#[derive(Default)]
struct Counters {
    sampled: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    shadowed: AtomicU64,
    shadow_failed: AtomicU64,
}

/// Sampled requests waiting for their batch, by model and day (one object each).
struct Buffer {
    rng: ChaCha8Rng,
    groups: BTreeMap<(String, String), Vec<Sampled>>,
    /// The records in `groups`, counted as they come: every request compares it with the batch size.
    records: usize,
    oldest: Option<Instant>,
    batches: u64,
}

/// The sampled rows of one request as it was read, their answers, and the model that gave them.
/// Encoding them as JSON waits for the batch: moving the request's frame here costs a request
/// nothing, while encoding a tenth of 10,000 records took a tenth of the route's time.
struct Sampled {
    request_id: String,
    model: Arc<Loaded>,
    alias: Option<Alias>,
    at: DateTime<Utc>,
    frame: RawFrame,
    predictions: Vec<Prediction>,
    /// The shadow to score the sampled rows with, and which rows of the request they are.
    shadow: Option<(ShadowRequest, Vec<usize>)>,
}

/// The sampled requests of one model and day, and the object they go to.
struct Batch {
    key: String,
    model: String,
    sampled: Vec<Sampled>,
}

/// A batch as JSON lines.
struct Lines {
    bytes: Vec<u8>,
    records: u64,
    /// Records that could not be encoded (left out).
    failed: u64,
    /// Of `records`, those a shadow scored; and the rows a shadow could not score.
    shadowed: u64,
    shadow_failed: u64,
}

/// One record as it is written: the shape of [`InferenceRecord`], borrowed from the request.
#[derive(Serialize)]
struct RecordLine<'a> {
    request_id: &'a str,
    model: &'a str,
    version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    alias: Option<&'a str>,
    at: &'a str,
    features: RowFeatures<'a>,
    #[serde(flatten)]
    output: &'a Prediction,
}

/// One row's input values, by feature name, typed as the model's schema says: the record a
/// client would send for it.
pub(crate) struct RowFeatures<'a> {
    pub(crate) inputs: &'a [InputField],
    /// The frame's column of each input, in input order.
    pub(crate) columns: &'a [Option<&'a RawColumn>],
    pub(crate) row: usize,
}

impl Serialize for RowFeatures<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.inputs.len()))?;
        for (field, column) in self.inputs.iter().zip(self.columns) {
            let row = self.row;
            match column {
                Some(RawColumn::Numeric(v)) => {
                    map.serialize_entry(&field.name, &v.get(row).copied().flatten().map(number))?
                }
                Some(RawColumn::Text(v)) => map.serialize_entry(&field.name, &v.get(row))?,
                Some(RawColumn::Boolean(v)) => {
                    map.serialize_entry(&field.name, &v.get(row).copied().flatten())?
                }
                Some(RawColumn::Datetime(v)) => {
                    let time = v
                        .get(row)
                        .copied()
                        .flatten()
                        .and_then(DateTime::from_timestamp_millis)
                        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true));
                    map.serialize_entry(&field.name, &time)?
                }
                None => map.serialize_entry(&field.name, &())?,
            }
        }
        map.end()
    }
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
                groups: BTreeMap::new(),
                records: 0,
                oldest: None,
                batches: 0,
            }),
            writes: Mutex::new(JoinSet::new()),
            counters: Arc::new(Counters::default()),
        }
    }

    /// Samples the records of one answered request, keeping the sampled rows of `frame` (all of
    /// it when every row is sampled, as a one-record request is), and, for a share of them, the
    /// `shadow` that scores them later. A full or old batch is handed to a background write; this
    /// never waits for the store. Must run inside a tokio runtime.
    pub fn record(
        &self,
        request_id: &str,
        selector: &Selector,
        model: &Arc<Loaded>,
        frame: RawFrame,
        predictions: &[Prediction],
        shadow: Option<ShadowRequest>,
    ) {
        if self.sampling.rate <= 0.0 {
            return;
        }
        let rate = self.sampling.rate;
        let (rows, shadowed) = {
            let Ok(mut buffer) = self.buffer.lock() else {
                return;
            };
            let rows: Vec<usize> = (0..predictions.len())
                .filter(|_| rate >= 1.0 || buffer.rng.random_bool(rate))
                .collect();
            if rows.is_empty() {
                let due = self.take_if_due(&mut buffer);
                drop(buffer);
                self.spawn_write(due);
                return;
            }
            let share = self.sampling.shadow_share;
            let shadowed = shadow.is_some() && (share >= 1.0 || buffer.rng.random_bool(share));
            (rows, shadowed)
        };
        // Copied outside the lock, so that concurrent requests do not wait for each other.
        let sampled = Sampled {
            request_id: request_id.to_owned(),
            model: Arc::clone(model),
            alias: match selector {
                Selector::Alias(alias) => Some(alias.clone()),
                Selector::Version(_) => None,
            },
            at: Utc::now(),
            frame: if rows.len() == frame.rows() {
                frame
            } else {
                frame.take(&rows)
            },
            predictions: rows.iter().map(|&row| predictions[row].clone()).collect(),
            shadow: shadow.filter(|_| shadowed).map(|s| (s, rows.clone())),
        };
        let name = &model.artifact.model;
        let group = (name.to_string(), sampled.at.format("%Y-%m-%d").to_string());
        let due = {
            let Ok(mut buffer) = self.buffer.lock() else {
                return;
            };
            self.counters
                .sampled
                .fetch_add(rows.len() as u64, Ordering::Relaxed);
            buffer.groups.entry(group).or_default().push(sampled);
            buffer.records += rows.len();
            buffer.oldest.get_or_insert_with(Instant::now);
            self.take_if_due(&mut buffer)
        };
        self.spawn_write(due);
    }

    /// The buffered batches when they are full or old enough to write.
    fn take_if_due(&self, buffer: &mut Buffer) -> Vec<Batch> {
        let due = buffer.records >= self.sampling.batch_records
            || buffer
                .oldest
                .is_some_and(|t| t.elapsed() >= self.sampling.max_age);
        if due {
            self.take(buffer, Utc::now())
        } else {
            Vec::new()
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
            shadowed: self.counters.shadowed.load(Ordering::Relaxed),
            shadow_failed: self.counters.shadow_failed.load(Ordering::Relaxed),
        }
    }

    /// The buffered records as objects to write, one per model and day.
    fn take(&self, buffer: &mut Buffer, now: DateTime<Utc>) -> Vec<Batch> {
        buffer.oldest = None;
        buffer.records = 0;
        std::mem::take(&mut buffer.groups)
            .into_iter()
            .map(|((model, day), sampled)| {
                buffer.batches += 1;
                let key = format!(
                    "inference/{model}/dt={day}/{}-{}-{:06}.jsonl.gz",
                    now.format("%H%M%S%3f"),
                    self.writer,
                    buffer.batches
                );
                Batch {
                    key,
                    model,
                    sampled,
                }
            })
            .collect()
    }

    fn spawn_write(&self, batches: Vec<Batch>) {
        if batches.is_empty() {
            return;
        }
        let store = self.store.clone();
        let counters = self.counters.clone();
        let write = async move {
            for Batch {
                key,
                model,
                sampled,
            } in batches
            {
                let lines = encode(&model, &sampled);
                counters.failed.fetch_add(lines.failed, Ordering::Relaxed);
                counters
                    .shadow_failed
                    .fetch_add(lines.shadow_failed, Ordering::Relaxed);
                if lines.records == 0 {
                    continue;
                }
                let count = lines.records;
                match write_batch(store.as_ref(), &key, lines.bytes).await {
                    Ok(()) => {
                        counters
                            .shadowed
                            .fetch_add(lines.shadowed, Ordering::Relaxed);
                        counters.written.fetch_add(count, Ordering::Relaxed)
                    }
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

/// One JSON line per sampled record, and one per record a shadow scored.
fn encode(model: &str, batch: &[Sampled]) -> Lines {
    let mut lines = Lines {
        bytes: Vec::new(),
        records: 0,
        failed: 0,
        shadowed: 0,
        shadow_failed: 0,
    };
    for sampled in batch {
        let at = sampled.at.to_rfc3339_opts(SecondsFormat::Millis, true);
        let answered = Answered {
            model,
            request_id: &sampled.request_id,
            at: &at,
        };
        let alias = sampled.alias.as_deref();
        answered.write(
            &mut lines,
            &sampled.model,
            alias,
            &sampled.frame,
            &sampled.predictions,
        );
        let Some((shadow, rows)) = &sampled.shadow else {
            continue;
        };
        match score_shadow(shadow, rows, sampled) {
            Ok((frame, predictions)) => {
                let before = lines.records;
                answered.write(
                    &mut lines,
                    &shadow.model,
                    Some(SHADOW),
                    &frame,
                    &predictions,
                );
                lines.shadowed += lines.records - before;
            }
            Err(problem) => {
                tracing::warn!(
                    request_id = sampled.request_id,
                    version = shadow.model.version,
                    problem,
                    "the shadow could not score a request"
                );
                lines.shadow_failed += rows.len() as u64;
            }
        }
    }
    lines
}

/// What the records of one request share.
struct Answered<'a> {
    model: &'a str,
    request_id: &'a str,
    at: &'a str,
}

impl Answered<'_> {
    /// One line per prediction of `loaded` on `frame`.
    fn write(
        &self,
        lines: &mut Lines,
        loaded: &Loaded,
        alias: Option<&str>,
        frame: &RawFrame,
        predictions: &[Prediction],
    ) {
        let inputs = &loaded.artifact.inputs;
        let columns: Vec<Option<&RawColumn>> = inputs
            .iter()
            .map(|field| frame.column(&field.name).ok())
            .collect();
        for (row, output) in predictions.iter().enumerate() {
            let line = RecordLine {
                request_id: self.request_id,
                model: self.model,
                version: loaded.version,
                alias,
                at: self.at,
                features: RowFeatures {
                    inputs,
                    columns: &columns,
                    row,
                },
                output,
            };
            let mark = lines.bytes.len();
            if let Err(error) = serde_json::to_writer(&mut lines.bytes, &line) {
                lines.bytes.truncate(mark);
                tracing::warn!(%error, "an inference record could not be encoded");
                lines.failed += 1;
                continue;
            }
            lines.bytes.push(b'\n');
            lines.records += 1;
        }
    }
}

/// The shadow's predictions for the sampled rows of the request, named as the champion's were,
/// with the rows as the shadow read them.
fn score_shadow(
    shadow: &ShadowRequest,
    rows: &[usize],
    sampled: &Sampled,
) -> Result<(RawFrame, Vec<Prediction>), String> {
    let limits = Limits {
        max_records: usize::MAX,
        unknown_fields: UnknownFields::Ignore,
    };
    let frame = super::parse(&shadow.body, &shadow.model.fields, &limits)
        .map_err(|e| format!("the request does not fit the shadow's inputs: {e}"))?;
    let frame = if rows.len() == frame.rows() {
        frame
    } else {
        frame.take(rows)
    };
    let mut predictions = super::predict(&shadow.model.artifact, &frame, &sampled.request_id)
        .map_err(|e| e.to_string())?;
    for (prediction, champion) in predictions.iter_mut().zip(&sampled.predictions) {
        prediction.prediction_id.clone_from(&champion.prediction_id);
    }
    Ok((frame, predictions))
}

/// Reads the inference records of `model` made from `from` until (not including) `until`, an
/// object at a time: `each` gets the object's key and its records of the window. A line that is
/// not a record is logged and counted (the count is returned), never fatal.
pub async fn read_window<E: From<StoreError>>(
    store: &dyn ObjectStore,
    model: &ModelName,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    mut each: impl FnMut(&ObjectKey, Vec<InferenceRecord>) -> Result<(), E>,
) -> Result<u64, E> {
    let mut unreadable = 0;
    let days = from
        .date_naive()
        .iter_days()
        .take_while(|day| *day <= until.date_naive());
    for day in days {
        let (mut seen, hasher) = (
            std::collections::HashSet::new(),
            std::hash::RandomState::new(),
        );
        for info in store.list(&format!("inference/{model}/dt={day}/")).await? {
            let bytes = store.get(&info.key).await?.bytes;
            let bytes = match lines_of(&bytes) {
                Ok(lines) => lines,
                Err(e) => {
                    unreadable += 1;
                    tracing::warn!(key = %info.key, error = %e, "unreadable inference object skipped");
                    continue;
                }
            };
            let mut records = Vec::new();
            for line in distinct_lines(&bytes, &mut seen, &hasher) {
                match serde_json::from_slice::<InferenceRecord>(line) {
                    Ok(record) if from <= record.at && record.at < until => records.push(record),
                    Ok(_) => {}
                    Err(e) => {
                        unreadable += 1;
                        tracing::warn!(key = %info.key, error = %e, "unreadable inference record skipped");
                    }
                }
            }
            if !records.is_empty() {
                each(&info.key, records)?;
            }
        }
    }
    Ok(unreadable)
}

/// The largest a batch of records may be once decompressed: far more than a batch holds.
const MAX_OBJECT_TEXT: u64 = 256 << 20;

/// An object's JSON lines: gzip-compressed as written since 2026-12-07, or plain as before.
pub(super) fn lines_of(bytes: &[u8]) -> std::io::Result<std::borrow::Cow<'_, [u8]>> {
    use std::io::Read;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_OBJECT_TEXT + 1)
        .read_to_end(&mut text)?;
    if text.len() as u64 > MAX_OBJECT_TEXT {
        return Err(std::io::Error::other("larger than 256 MiB decompressed"));
    }
    Ok(std::borrow::Cow::Owned(text))
}

/// JSON lines as they are stored. The fastest level: it already takes them to about an eighth.
pub(super) fn gzip(lines: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(lines)?;
    gz.finish()
}

/// The non-blank lines of `text`, each once: a crash between writing a day's compacted object and
/// deleting the objects it holds leaves their records twice, and they count once.
pub(super) fn distinct_lines<'t, 's>(
    text: &'t [u8],
    seen: &'s mut std::collections::HashSet<u64>,
    hasher: &'s std::hash::RandomState,
) -> impl Iterator<Item = &'t [u8]> + use<'t, 's> {
    use std::hash::BuildHasher;
    text.split(|&b| b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .filter(move |line| seen.insert(hasher.hash_one(line)))
}

async fn write_batch(store: &dyn ObjectStore, key: &str, lines: Vec<u8>) -> Result<(), String> {
    let key = ObjectKey::parse(key).map_err(|e| e.to_string())?;
    let compressed = gzip(&lines).map_err(|e| e.to_string())?;
    store.put(&key, compressed).await.map_err(|e| e.to_string())
}

/// Whole numbers stay integers in the records, as they came in.
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}
