//! The object store on Amazon S3 (or anything speaking its protocol, such as moto on loopback).

use std::path::Path;

use async_trait::async_trait;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tokio::io::AsyncWriteExt;

use crate::http_status as status_of;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use mlops_shared::names::ObjectKey;
use mlops_shared::ports::{ObjectInfo, ObjectStore, PutOutcome, StoreError, StoredObject};

#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
}

impl S3Store {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// The object at `key`, its body not yet read; `NotFound` when there is none.
    async fn get_object(
        &self,
        key: &ObjectKey,
    ) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput, StoreError> {
        self.client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| missing_or("reading", key, &e))
    }

    /// Writes `body` at `key`; only where nothing is there yet when `only_if_absent`.
    async fn put_body(
        &self,
        key: &ObjectKey,
        body: ByteStream,
        only_if_absent: bool,
    ) -> Result<PutOutcome, StoreError> {
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .body(body);
        if only_if_absent {
            request = request.if_none_match("*");
        }
        match request.send().await {
            Ok(_) => Ok(PutOutcome::Created),
            Err(e) if only_if_absent && status_of(&e) == Some(412) => Ok(PutOutcome::AlreadyExists),
            Err(e) => Err(classify("writing", key.as_str(), &e)),
        }
    }

    /// An S3 client for `config`, calling the endpoint [`crate::endpoint`] decides. With an
    /// endpoint of its own (a local server) it uses path-style addressing, which local servers need.
    pub fn client(config: &aws_config::SdkConfig) -> Client {
        let endpoint = crate::endpoint::from_process("S3");
        let mut s3_config = aws_sdk_s3::config::Builder::from(config);
        s3_config.set_force_path_style(Some(endpoint.is_some()));
        s3_config.set_endpoint_url(endpoint);
        Client::from_conf(s3_config.build())
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

/// Classifies an SDK failure: server-side and transport problems may pass, client errors will not.
fn classify<E: ProvideErrorMetadata + std::fmt::Debug>(
    action: &'static str,
    key: &str,
    err: &SdkError<E, HttpResponse>,
) -> StoreError {
    let message = match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            format!(
                "{}: {}",
                e.code().unwrap_or("error"),
                e.message().unwrap_or_default()
            )
        }
        other => format!("{other:?}"),
    };
    let status = status_of(err);
    let key = key.to_owned();
    match status {
        Some(400..=499) if status != Some(409) && status != Some(429) => StoreError::Refused {
            action,
            key,
            message,
        },
        _ => StoreError::Unavailable {
            action,
            key,
            message,
        },
    }
}

/// A 404 means the object (or a copy's source) is missing; anything else is classified as usual.
fn missing_or<E: ProvideErrorMetadata + std::fmt::Debug>(
    action: &'static str,
    key: &ObjectKey,
    err: &SdkError<E, HttpResponse>,
) -> StoreError {
    if status_of(err) == Some(404) {
        StoreError::NotFound(key.clone())
    } else {
        classify(action, key.as_str(), err)
    }
}

fn clean_etag(etag: Option<&str>) -> String {
    etag.unwrap_or_default().trim_matches('"').to_owned()
}

/// Characters kept as they are in a `CopySource` (S3 wants the key URL-encoded, slashes kept).
const COPY_SOURCE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[async_trait]
impl ObjectStore for S3Store {
    fn location(&self) -> String {
        format!("s3://{}", self.bucket)
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectInfo, StoreError> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| missing_or("reading", key, &e))?;
        let size = out.content_length().unwrap_or_default().max(0) as u64;
        Ok(ObjectInfo {
            key: key.clone(),
            size,
            etag: clean_etag(out.e_tag()),
            version: out.version_id().map(str::to_owned),
        })
    }

    async fn get(&self, key: &ObjectKey) -> Result<StoredObject, StoreError> {
        let out = self.get_object(key).await?;
        let etag = clean_etag(out.e_tag());
        let version = out.version_id().map(str::to_owned);
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Unavailable {
                action: "reading",
                key: key.to_string(),
                message: e.to_string(),
            })?;
        let bytes = bytes.to_vec();
        Ok(StoredObject {
            info: ObjectInfo {
                key: key.clone(),
                size: bytes.len() as u64,
                etag,
                version,
            },
            bytes,
        })
    }

    async fn get_to_file(&self, key: &ObjectKey, path: &Path) -> Result<(), StoreError> {
        let out = self.get_object(key).await?;
        let failed = |message: String| StoreError::Unavailable {
            action: "reading",
            key: key.to_string(),
            message,
        };
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(|e| failed(format!("{}: {e}", path.display())))?;
        let mut body = out.body;
        while let Some(chunk) = body.try_next().await.map_err(|e| failed(e.to_string()))? {
            file.write_all(&chunk)
                .await
                .map_err(|e| failed(format!("{}: {e}", path.display())))?;
        }
        file.flush()
            .await
            .map_err(|e| failed(format!("{}: {e}", path.display())))
    }

    async fn put(&self, key: &ObjectKey, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.put_body(key, ByteStream::from(bytes), false)
            .await
            .map(|_| ())
    }

    async fn put_file_if_absent(
        &self,
        key: &ObjectKey,
        path: &Path,
    ) -> Result<PutOutcome, StoreError> {
        // From a path, not an open file, so that the SDK can read it again to retry.
        let body = ByteStream::read_from()
            .path(path)
            .build()
            .await
            .map_err(|e| StoreError::unreadable_file(key, path, e))?;
        self.put_body(key, body, true).await
    }

    async fn put_if_absent(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
    ) -> Result<PutOutcome, StoreError> {
        self.put_body(key, ByteStream::from(bytes), true).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("listing", prefix, &e))?;
            for object in page.contents() {
                let Some(key) = object.key().and_then(|k| ObjectKey::parse(k).ok()) else {
                    continue;
                };
                let size = object.size().unwrap_or_default().max(0) as u64;
                out.push(ObjectInfo {
                    key,
                    size,
                    etag: clean_etag(object.e_tag()),
                    version: None,
                });
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn copy(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), StoreError> {
        let source = format!(
            "{}/{}",
            self.bucket,
            utf8_percent_encode(from.as_str(), COPY_SOURCE)
        );
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .key(to.as_str())
            .copy_source(source)
            .send()
            .await
            .map_err(|e| missing_or("copying", from, &e))?;
        Ok(())
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| classify("deleting", key.as_str(), &e))?;
        Ok(())
    }
}
