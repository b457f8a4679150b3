//! Compaction of the inference records: the predict functions write one small object per batch
//! (hundreds a day at volume), and once a day has settled the drift run rewrites its objects as
//! one, so a month's window is read from about thirty objects, not thousands. It can stop
//! anywhere and run again: the compacted object is written before the objects it holds are
//! deleted, its lines are distinct, and readers count a repeated line once, so no record is lost
//! or counted twice. An object that cannot be read is left where it is.

use chrono::{Days, NaiveDate};
use sha2::{Digest, Sha256};

use super::inference::{distinct_lines, gzip, lines_of};
use crate::names::{ModelName, ObjectKey};
use crate::ports::{ObjectStore, StoreError};

/// Days after which a day's objects are compacted: a predict function's buffer is written within
/// seconds of its oldest record (or when the function stops), so a day is long settled by then.
pub const SETTLED_DAYS: u64 = 2;
/// How far back each run looks for settled days not yet compacted (a run that did not happen).
pub const LOOKBACK_DAYS: u64 = 7;

/// One day rewritten as one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compacted {
    pub day: NaiveDate,
    /// The objects it replaced.
    pub objects: usize,
    pub records: usize,
}

/// Compacts `model`'s settled days among the [`LOOKBACK_DAYS`] before `today` minus
/// [`SETTLED_DAYS`].
pub async fn compact_settled_days(
    store: &dyn ObjectStore,
    model: &ModelName,
    today: NaiveDate,
) -> Result<Vec<Compacted>, StoreError> {
    let mut done = Vec::new();
    for back in SETTLED_DAYS..SETTLED_DAYS + LOOKBACK_DAYS {
        let Some(day) = today.checked_sub_days(Days::new(back)) else {
            break;
        };
        if let Some(compacted) = compact_day(store, model, day).await? {
            done.push(compacted);
        }
    }
    Ok(done)
}

/// Rewrites `model`'s records of `day` as one object, when they are in more than one.
pub async fn compact_day(
    store: &dyn ObjectStore,
    model: &ModelName,
    day: NaiveDate,
) -> Result<Option<Compacted>, StoreError> {
    let prefix = format!("inference/{model}/dt={day}/");
    let objects = store.list(&prefix).await?;
    if objects.len() < 2 {
        return Ok(None);
    }
    let (mut seen, hasher) = (
        std::collections::HashSet::new(),
        std::hash::RandomState::new(),
    );
    let mut text = Vec::new();
    let mut held = Vec::new();
    let mut names = Sha256::new();
    for object in &objects {
        let bytes = store.get(&object.key).await?.bytes;
        let Ok(lines) = lines_of(&bytes) else {
            tracing::warn!(key = %object.key, "unreadable inference object left uncompacted");
            continue;
        };
        for line in distinct_lines(&lines, &mut seen, &hasher) {
            text.extend_from_slice(line);
            text.push(b'\n');
        }
        names.update(object.key.as_str().as_bytes());
        held.push(&object.key);
    }
    if held.len() < 2 {
        return Ok(None);
    }
    // Named by what it holds: a run that stopped half way writes the same object again.
    let digest = hex::encode(names.finalize());
    let refused = |message: String| StoreError::Refused {
        action: "compacting",
        key: prefix.clone(),
        message,
    };
    let key = ObjectKey::parse(&format!("{prefix}compacted-{}.jsonl.gz", &digest[..16]))
        .map_err(|e| refused(e.to_string()))?;
    let compressed = gzip(&text).map_err(|e| refused(e.to_string()))?;
    store.put(&key, compressed).await?;
    for old in held.iter().filter(|old| ***old != key) {
        store.delete(old).await?;
    }
    Ok(Some(Compacted {
        day,
        objects: held.len(),
        records: seen.len(),
    }))
}
