//! The registry store port: DynamoDB in AWS, an embedded SQLite file on a laptop.
//!
//! Items are addressed by a partition key and a sort key, like a DynamoDB single-table design, and
//! carry top-level JSON attributes. Every write can carry a condition, and a transaction applies
//! several writes all-or-nothing: that is what makes the registry safe under retries and races.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    pub pk: String,
    pub sk: String,
}

impl ItemKey {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: ItemKey,
    pub attrs: Map<String, Value>,
}

impl Item {
    /// An item holding the fields of `record` as its attributes.
    pub fn from_record(key: ItemKey, record: &impl Serialize) -> Result<Item, RegistryError> {
        match serde_json::to_value(record) {
            Ok(Value::Object(attrs)) => Ok(Item { key, attrs }),
            Ok(_) => Err(RegistryError::Invalid(
                "a record must serialise to an object".into(),
            )),
            Err(e) => Err(RegistryError::Invalid(e.to_string())),
        }
    }

    /// The attributes read back as a record.
    pub fn into_record<T: DeserializeOwned>(self) -> Result<T, RegistryError> {
        serde_json::from_value(Value::Object(self.attrs)).map_err(|e| {
            RegistryError::Invalid(format!(
                "unreadable record {}/{}: {e}",
                self.key.pk, self.key.sk
            ))
        })
    }
}

/// A precondition on the current state of one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Always,
    /// The item must not exist yet.
    NotExists,
    /// The item must exist.
    Exists,
    /// The item must exist and its attribute must equal the value.
    Equals {
        attr: String,
        value: Value,
    },
}

impl Condition {
    /// Whether `current` (None when the item is absent) satisfies the condition.
    pub fn holds(&self, current: Option<&Item>) -> bool {
        match self {
            Condition::Always => true,
            Condition::NotExists => current.is_none(),
            Condition::Exists => current.is_some(),
            Condition::Equals { attr, value } => {
                current.is_some_and(|item| item.attrs.get(attr) == Some(value))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Writes the whole item.
    Put {
        item: Item,
        condition: Condition,
    },
    /// Sets the given attributes on an item that must exist, leaving the others.
    Update {
        key: ItemKey,
        set: Map<String, Value>,
        condition: Condition,
    },
    Delete {
        key: ItemKey,
        condition: Condition,
    },
    /// Writes nothing; fails the transaction unless the condition holds.
    Check {
        key: ItemKey,
        condition: Condition,
    },
}

impl WriteOp {
    pub fn key(&self) -> &ItemKey {
        match self {
            WriteOp::Put { item, .. } => &item.key,
            WriteOp::Update { key, .. }
            | WriteOp::Delete { key, .. }
            | WriteOp::Check { key, .. } => key,
        }
    }

    pub fn condition(&self) -> &Condition {
        match self {
            WriteOp::Put { condition, .. }
            | WriteOp::Update { condition, .. }
            | WriteOp::Delete { condition, .. }
            | WriteOp::Check { condition, .. } => condition,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("condition failed on {pk}/{sk}")]
    ConditionFailed { pk: String, sk: String },
    /// A transaction was cancelled; `failed` lists the index of every operation whose condition failed.
    #[error("transaction cancelled: conditions failed on operation(s) {failed:?}")]
    TransactionCancelled { failed: Vec<usize> },
    #[error("invalid registry request: {0}")]
    Invalid(String),
    /// A transient or infrastructure failure: retrying may help.
    #[error("registry unavailable: {0}")]
    Unavailable(String),
}

impl RegistryError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, RegistryError::Unavailable(_))
    }
}

/// Most operations a transaction may hold (DynamoDB's limit), so every adapter behaves alike.
pub const MAX_TRANSACTION_OPS: usize = 100;

#[async_trait]
pub trait RegistryStore: Send + Sync {
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, RegistryError>;

    async fn put(&self, item: Item, condition: Condition) -> Result<(), RegistryError>;

    /// Sets attributes on an existing item and returns the item as it is afterwards.
    async fn update(
        &self,
        key: &ItemKey,
        set: Map<String, Value>,
        condition: Condition,
    ) -> Result<Item, RegistryError>;

    /// Applies every operation or none. At most [`MAX_TRANSACTION_OPS`], each on a distinct item.
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), RegistryError>;

    /// Items of partition `pk` whose sort key starts with `sk_prefix`, in sort-key order.
    async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, RegistryError>;
}

/// Rejects transactions every adapter would reject, with the same error.
pub fn check_transaction_shape(ops: &[WriteOp]) -> Result<(), RegistryError> {
    if ops.is_empty() || ops.len() > MAX_TRANSACTION_OPS {
        return Err(RegistryError::Invalid(format!(
            "a transaction holds 1 to {MAX_TRANSACTION_OPS} operations, not {}",
            ops.len()
        )));
    }
    let mut keys = std::collections::HashSet::new();
    if let Some(dup) = ops.iter().map(WriteOp::key).find(|key| !keys.insert(*key)) {
        return Err(RegistryError::Invalid(format!(
            "a transaction touches {}/{} twice",
            dup.pk, dup.sk
        )));
    }
    Ok(())
}
