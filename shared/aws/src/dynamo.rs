//! The registry store on Amazon DynamoDB: one table, string keys `pk` (partition) and `sk` (sort).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, KeySchemaElement,
    KeyType, Put, ReturnValue, ScalarAttributeType, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use serde_json::{Map, Number, Value};

use crate::http_status;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use mlops_shared::ports::registry::check_transaction_shape;
use mlops_shared::ports::{Condition, Item, ItemKey, RegistryError, RegistryStore, WriteOp};

const PK: &str = "pk";
const SK: &str = "sk";

#[derive(Debug, Clone)]
pub struct DynamoRegistry {
    client: Client,
    table: String,
}

impl DynamoRegistry {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Creates the registry table with the key schema this adapter expects (on-demand billing).
    /// The SAM template does the same in AWS; this serves local servers and tests.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), RegistryError> {
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(PK, KeyType::Hash).map_err(invalid)?)
            .key_schema(key(SK, KeyType::Range).map_err(invalid)?)
            .attribute_definitions(attr(PK).map_err(invalid)?)
            .attribute_definitions(attr(SK).map_err(invalid)?)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        Ok(())
    }

    fn key_map(key: &ItemKey) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(key.pk.clone())),
            (SK.to_owned(), AttributeValue::S(key.sk.clone())),
        ])
    }
}

fn invalid(err: impl std::fmt::Display) -> RegistryError {
    RegistryError::Invalid(err.to_string())
}

fn classify<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> RegistryError {
    let (code, message) = match err {
        SdkError::ServiceError(service) => (
            service.err().code().unwrap_or("error").to_owned(),
            service.err().message().unwrap_or_default().to_owned(),
        ),
        other => ("transport".to_owned(), other.to_string()),
    };
    const RETRYABLE: [&str; 5] = [
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "InternalServerError",
    ];
    let text = format!("{code}: {message}");
    match http_status(err) {
        Some(400..=499) if !RETRYABLE.contains(&code.as_str()) => RegistryError::Invalid(text),
        _ => RegistryError::Unavailable(text),
    }
}

fn is_condition_failure<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    matches!(err, SdkError::ServiceError(s) if s.err().code() == Some("ConditionalCheckFailedException"))
}

pub(crate) fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), to_attribute(v)))
                .collect(),
        ),
    }
}

pub(crate) fn from_attribute(value: &AttributeValue) -> Value {
    let number = |text: &str| {
        text.parse::<i64>()
            .ok()
            .map(Number::from)
            .or_else(|| text.parse::<f64>().ok().and_then(Number::from_f64))
            .map_or(Value::String(text.to_owned()), Value::Number)
    };
    match value {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(n) => number(n),
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::L(items) => Value::Array(items.iter().map(from_attribute).collect()),
        AttributeValue::M(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), from_attribute(v)))
                .collect(),
        ),
        AttributeValue::Ss(items) => {
            Value::Array(items.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(items) => Value::Array(items.iter().map(|n| number(n)).collect()),
        other => Value::String(format!("{other:?}")),
    }
}

fn item_from_map(map: &HashMap<String, AttributeValue>) -> Result<Item, RegistryError> {
    let text = |name: &str| match map.get(name) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        _ => Err(RegistryError::Invalid(format!(
            "item without a string {name}"
        ))),
    };
    let key = ItemKey::new(text(PK)?, text(SK)?);
    let attrs = map
        .iter()
        .filter(|(k, _)| *k != PK && *k != SK)
        .map(|(k, v)| (k.clone(), from_attribute(v)))
        .collect();
    Ok(Item { key, attrs })
}

fn item_to_map(item: &Item) -> Result<HashMap<String, AttributeValue>, RegistryError> {
    reject_key_attrs(&item.attrs)?;
    let mut map = DynamoRegistry::key_map(&item.key);
    map.extend(item.attrs.iter().map(|(k, v)| (k.clone(), to_attribute(v))));
    Ok(map)
}

fn reject_key_attrs(attrs: &Map<String, Value>) -> Result<(), RegistryError> {
    if attrs.contains_key(PK) || attrs.contains_key(SK) {
        return Err(RegistryError::Invalid(
            "attributes named pk or sk are reserved for the key".into(),
        ));
    }
    Ok(())
}

/// A condition or update expression with its placeholder maps, built up piece by piece.
#[derive(Default)]
struct Expression {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expression {
    fn name(&mut self, name: &str) -> String {
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn condition(&mut self, condition: &Condition) -> Option<String> {
        match condition {
            Condition::Always => None,
            Condition::NotExists => Some(format!("attribute_not_exists({})", self.name(PK))),
            Condition::Exists => Some(format!("attribute_exists({})", self.name(PK))),
            Condition::Equals { attr, value } => {
                let (name, value) = (self.name(attr), self.value(to_attribute(value)));
                Some(format!("{name} = {value}"))
            }
        }
    }

    /// `SET a = :x, b = :y` for an update, whose condition always requires the item to exist.
    fn update(
        &mut self,
        set: &Map<String, Value>,
        condition: &Condition,
    ) -> Result<(String, String), RegistryError> {
        reject_key_attrs(set)?;
        if set.is_empty() {
            return Err(RegistryError::Invalid(
                "an update sets at least one attribute".into(),
            ));
        }
        let assignments: Vec<String> = set
            .iter()
            .map(|(attr, value)| {
                format!("{} = {}", self.name(attr), self.value(to_attribute(value)))
            })
            .collect();
        let exists = format!("attribute_exists({})", self.name(PK));
        let condition = match self.condition(condition) {
            Some(extra) => format!("{exists} AND {extra}"),
            None => exists,
        };
        Ok((format!("SET {}", assignments.join(", ")), condition))
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn transact_item(table: &str, op: &WriteOp) -> Result<TransactWriteItem, RegistryError> {
    let mut expr = Expression::default();
    let item = match op {
        WriteOp::Put { item, condition } => {
            let condition = expr.condition(condition);
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(item_to_map(item)?))
                .set_condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build()
                .map_err(invalid)?;
            TransactWriteItem::builder().put(put).build()
        }
        WriteOp::Update {
            key,
            set,
            condition,
        } => {
            let (update_expr, condition) = expr.update(set, condition)?;
            let update = Update::builder()
                .table_name(table)
                .set_key(Some(DynamoRegistry::key_map(key)))
                .update_expression(update_expr)
                .condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build()
                .map_err(invalid)?;
            TransactWriteItem::builder().update(update).build()
        }
        WriteOp::Delete { key, condition } => {
            let condition = expr.condition(condition);
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(DynamoRegistry::key_map(key)))
                .set_condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build()
                .map_err(invalid)?;
            TransactWriteItem::builder().delete(delete).build()
        }
        WriteOp::Check { key, condition } => {
            let condition = expr.condition(condition).ok_or_else(|| {
                RegistryError::Invalid("a check needs a condition other than Always".into())
            })?;
            let check = ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(DynamoRegistry::key_map(key)))
                .condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build()
                .map_err(invalid)?;
            TransactWriteItem::builder().condition_check(check).build()
        }
    };
    Ok(item)
}

#[async_trait]
impl RegistryStore for DynamoRegistry {
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, RegistryError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        out.item().map(item_from_map).transpose()
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), RegistryError> {
        let mut expr = Expression::default();
        let condition_expr = expr.condition(&condition);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_to_map(&item)?))
            .set_condition_expression(condition_expr)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(RegistryError::ConditionFailed {
                pk: item.key.pk,
                sk: item.key.sk,
            }),
            Err(e) => Err(classify(&e)),
        }
    }

    async fn update(
        &self,
        key: &ItemKey,
        set: Map<String, Value>,
        condition: Condition,
    ) -> Result<Item, RegistryError> {
        let mut expr = Expression::default();
        let (update_expr, condition_expr) = expr.update(&set, &condition)?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_map(key)))
            .update_expression(update_expr)
            .condition_expression(condition_expr)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => item_from_map(out.attributes().unwrap_or(&HashMap::new())),
            Err(e) if is_condition_failure(&e) => Err(RegistryError::ConditionFailed {
                pk: key.pk.clone(),
                sk: key.sk.clone(),
            }),
            Err(e) => Err(classify(&e)),
        }
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), RegistryError> {
        check_transaction_shape(&ops)?;
        let items = ops
            .iter()
            .map(|op| transact_item(&self.table, op))
            .collect::<Result<Vec<_>, _>>()?;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let reasons = e.as_service_error().and_then(|s| match s {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                        Some(c.cancellation_reasons().to_vec())
                    }
                    _ => None,
                });
                match reasons {
                    Some(reasons)
                        if reasons
                            .iter()
                            .any(|r| r.code() == Some("ConditionalCheckFailed")) =>
                    {
                        let failed = reasons
                            .iter()
                            .enumerate()
                            .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                            .map(|(i, _)| i)
                            .collect();
                        Err(RegistryError::TransactionCancelled { failed })
                    }
                    _ => Err(classify(&e)),
                }
            }
        }
    }

    async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, RegistryError> {
        let mut expr = Expression::default();
        let pk_name = expr.name(PK);
        let pk_value = expr.value(AttributeValue::S(pk.to_owned()));
        let mut key_condition = format!("{pk_name} = {pk_value}");
        if !sk_prefix.is_empty() {
            let sk_name = expr.name(SK);
            let prefix = expr.value(AttributeValue::S(sk_prefix.to_owned()));
            key_condition.push_str(&format!(" AND begins_with({sk_name}, {prefix})"));
        }
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(item) = pages.next().await {
            out.push(item_from_map(&item.map_err(|e| classify(&e))?)?);
        }
        Ok(out)
    }
}
