//! The registry store embedded in one SQLite file: the local runner's default.
//!
//! Every write runs in an `IMMEDIATE` transaction, which takes SQLite's write lock before the
//! conditions are read, so check-then-write is atomic across threads and processes alike (two
//! terminals running the CLI at once see the same guarantees as DynamoDB gives).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::{Map, Value};

use mlops_shared::ports::registry::check_transaction_shape;
use mlops_shared::ports::{Condition, Item, ItemKey, RegistryError, RegistryStore, WriteOp};

#[derive(Debug, Clone)]
pub struct SqliteRegistry {
    conn: Arc<Mutex<Connection>>,
}

fn unavailable(err: impl std::fmt::Display) -> RegistryError {
    RegistryError::Unavailable(err.to_string())
}

impl SqliteRegistry {
    /// Opens (creating if needed) the registry file at `path`.
    pub fn open(path: &Path) -> Result<Self, RegistryError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(unavailable)?;
        }
        let conn = Connection::open(path).map_err(unavailable)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(unavailable)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS items (
                 pk TEXT NOT NULL,
                 sk TEXT NOT NULL,
                 attrs TEXT NOT NULL,
                 PRIMARY KEY (pk, sk)
             ) WITHOUT ROWID;",
        )
        .map_err(unavailable)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `work` in an immediate transaction on a blocking thread; commits only if it returns Ok.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, RegistryError> + Send + 'static,
    ) -> Result<T, RegistryError> {
        let conn = Arc::clone(&self.conn);
        run_blocking(move || {
            let mut conn = conn
                .lock()
                .map_err(|_| unavailable("registry connection poisoned"))?;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let value = work(&tx)?;
            tx.commit().map_err(unavailable)?;
            Ok(value)
        })
        .await
    }

    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, RegistryError> + Send + 'static,
    ) -> Result<T, RegistryError> {
        let conn = Arc::clone(&self.conn);
        run_blocking(move || {
            let conn = conn
                .lock()
                .map_err(|_| unavailable("registry connection poisoned"))?;
            work(&conn)
        })
        .await
    }
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, RegistryError> + Send + 'static,
) -> Result<T, RegistryError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
    }
}

fn load(conn: &Connection, key: &ItemKey) -> Result<Option<Item>, RegistryError> {
    let text: Option<String> = conn
        .query_row(
            "SELECT attrs FROM items WHERE pk = ?1 AND sk = ?2",
            params![key.pk, key.sk],
            |row| row.get(0),
        )
        .optional()
        .map_err(unavailable)?;
    text.map(|text| decode(key.clone(), &text)).transpose()
}

fn decode(key: ItemKey, text: &str) -> Result<Item, RegistryError> {
    let attrs: Map<String, Value> = serde_json::from_str(text).map_err(unavailable)?;
    Ok(Item { key, attrs })
}

fn store(conn: &Connection, item: &Item) -> Result<(), RegistryError> {
    let text = serde_json::to_string(&item.attrs).map_err(unavailable)?;
    conn.execute(
        "INSERT INTO items (pk, sk, attrs) VALUES (?1, ?2, ?3)
         ON CONFLICT (pk, sk) DO UPDATE SET attrs = excluded.attrs",
        params![item.key.pk, item.key.sk, text],
    )
    .map_err(unavailable)?;
    Ok(())
}

fn reject_key_attrs(attrs: &Map<String, Value>) -> Result<(), RegistryError> {
    if attrs.contains_key("pk") || attrs.contains_key("sk") {
        return Err(RegistryError::Invalid(
            "attributes named pk or sk are reserved for the key".into(),
        ));
    }
    Ok(())
}

/// Applies one operation whose condition has been checked; returns the item as written, if any.
fn apply(
    conn: &Connection,
    op: WriteOp,
    current: Option<Item>,
) -> Result<Option<Item>, RegistryError> {
    match op {
        WriteOp::Put { item, .. } => {
            reject_key_attrs(&item.attrs)?;
            store(conn, &item)?;
            Ok(Some(item))
        }
        WriteOp::Update { key, set, .. } => {
            reject_key_attrs(&set)?;
            if set.is_empty() {
                return Err(RegistryError::Invalid(
                    "an update sets at least one attribute".into(),
                ));
            }
            let mut item = current.unwrap_or(Item {
                key,
                attrs: Map::new(),
            });
            item.attrs.extend(set);
            store(conn, &item)?;
            Ok(Some(item))
        }
        WriteOp::Delete { key, .. } => {
            conn.execute(
                "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
                params![key.pk, key.sk],
            )
            .map_err(unavailable)?;
            Ok(None)
        }
        WriteOp::Check { .. } => Ok(current),
    }
}

/// Whether `op`'s condition holds on `current`; updates also require the item to exist, as in DynamoDB.
fn admits(op: &WriteOp, current: Option<&Item>) -> bool {
    let exists_if_update = !matches!(op, WriteOp::Update { .. }) || current.is_some();
    exists_if_update && op.condition().holds(current)
}

#[async_trait]
impl RegistryStore for SqliteRegistry {
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, RegistryError> {
        let key = key.clone();
        self.read(move |conn| load(conn, &key)).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), RegistryError> {
        self.write(move |tx| {
            let op = WriteOp::Put { item, condition };
            let current = load(tx, op.key())?;
            if !admits(&op, current.as_ref()) {
                let key = op.key();
                return Err(RegistryError::ConditionFailed {
                    pk: key.pk.clone(),
                    sk: key.sk.clone(),
                });
            }
            apply(tx, op, current).map(|_| ())
        })
        .await
    }

    async fn update(
        &self,
        key: &ItemKey,
        set: Map<String, Value>,
        condition: Condition,
    ) -> Result<Item, RegistryError> {
        let key = key.clone();
        self.write(move |tx| {
            let op = WriteOp::Update {
                key: key.clone(),
                set,
                condition,
            };
            let current = load(tx, &key)?;
            if !admits(&op, current.as_ref()) {
                return Err(RegistryError::ConditionFailed {
                    pk: key.pk.clone(),
                    sk: key.sk.clone(),
                });
            }
            apply(tx, op, current)?.ok_or_else(|| unavailable("update wrote no item"))
        })
        .await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), RegistryError> {
        check_transaction_shape(&ops)?;
        self.write(move |tx| {
            let mut current = Vec::with_capacity(ops.len());
            for op in &ops {
                current.push(load(tx, op.key())?);
            }
            let failed: Vec<usize> = ops
                .iter()
                .zip(&current)
                .enumerate()
                .filter(|(_, (op, item))| !admits(op, item.as_ref()))
                .map(|(i, _)| i)
                .collect();
            if !failed.is_empty() {
                return Err(RegistryError::TransactionCancelled { failed });
            }
            for (op, item) in ops.into_iter().zip(current) {
                apply(tx, op, item)?;
            }
            Ok(())
        })
        .await
    }

    async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, RegistryError> {
        let (pk, prefix) = (pk.to_owned(), sk_prefix.to_owned());
        self.read(move |conn| {
            let mut statement = conn
                .prepare(
                    "SELECT sk, attrs FROM items
                     WHERE pk = ?1 AND sk >= ?2 AND substr(sk, 1, length(?2)) = ?2
                     ORDER BY sk",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map(params![pk, prefix], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(unavailable)?;
            let mut out = Vec::new();
            for row in rows {
                let (sk, attrs) = row.map_err(unavailable)?;
                out.push(decode(ItemKey::new(pk.clone(), sk), &attrs)?);
            }
            Ok(out)
        })
        .await
    }
}
