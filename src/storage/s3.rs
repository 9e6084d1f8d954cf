//! Any S3 API through aws-sdk-s3: AWS, or a local server via an endpoint URL.

use std::path::Path;
use std::sync::atomic::AtomicU64;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier, ServerSideEncryption};

use super::{Listed, Object, ObjectMeta, PutMode, RequestCounts, StoreError};
use crate::aws::{self, Signing};

/// Server-side encryption asked of every write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sse {
    /// `AES256`: S3-managed keys.
    Aes256,
    /// `aws:kms`, with this key or the account's default one.
    Kms(Option<String>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Options {
    pub bucket: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub sse: Option<Sse>,
    /// Explicit credentials (from OIDC); None: the default AWS chain.
    pub credentials: Option<Credentials>,
}

#[derive(Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    endpoint: Option<String>,
    region: String,
    sse: Option<ServerSideEncryption>,
    sse_kms_key_id: Option<String>,
}

impl S3Store {
    /// Build a client and make sure credentials exist before any work starts.
    pub async fn connect(opts: S3Options) -> Result<Self, StoreError> {
        let signing = match opts.credentials {
            Some(creds) => Signing::Given(creds),
            None => Signing::Chain,
        };
        let config = aws::config(opts.region.as_deref(), signing).await;
        aws::require_credentials(&config).await?;
        let (sse, sse_kms_key_id) = match opts.sse {
            None => (None, None),
            Some(Sse::Aes256) => (Some(ServerSideEncryption::Aes256), None),
            Some(Sse::Kms(key)) => (Some(ServerSideEncryption::AwsKms), key),
        };
        Ok(Self {
            client: aws::s3(&config, opts.endpoint.as_deref()),
            bucket: opts.bucket,
            region: aws::region(&config),
            endpoint: opts.endpoint,
            sse,
            sse_kms_key_id,
        })
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn classify<E>(&self, op: &'static str, key: &str, err: SdkError<E, HttpResponse>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if let Some(u) = aws::unreachable(
            &err,
            self.endpoint.as_deref(),
            &self.region,
            "--s3-endpoint (or AWS_ENDPOINT_URL)",
        ) {
            return u.into();
        }
        let status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().unwrap_or_default().to_string();
        let target = self.location(key);
        match (status, code.as_str()) {
            (_, "NoSuchBucket") => StoreError::NoSuchBucket {
                bucket: self.bucket.clone(),
            },
            (Some(412) | Some(409), _)
            | (_, "PreconditionFailed" | "ConditionalRequestConflict") => {
                StoreError::Precondition { key: key.into() }
            }
            (
                _,
                "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken",
            ) => StoreError::Denied { target, code },
            _ => StoreError::Other {
                op,
                target,
                detail: aws::describe(&err),
                source: Some(Box::new(err)),
            },
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(SdkError::ServiceError(e)) if e.err().is_no_such_key() => return Ok(None),
            Err(err) => return Err(self.classify("GetObject", key, err)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let body = out.body.collect().await.map_err(|e| StoreError::Other {
            op: "GetObject",
            target: self.location(key),
            detail: e.to_string(),
            source: Some(Box::new(e)),
        })?;
        Ok(Some(Object {
            body: body.into_bytes().to_vec(),
            etag,
        }))
    }

    fn put(
        &self,
        key: &str,
        meta: &ObjectMeta,
    ) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(&meta.content_type)
            .cache_control(meta.cache_control)
            .set_tagging(meta.tagging.clone())
            .set_server_side_encryption(self.sse.clone())
            .set_ssekms_key_id(self.sse_kms_key_id.clone())
    }

    pub async fn put_bytes(
        &self,
        key: &str,
        body: Vec<u8>,
        meta: &ObjectMeta,
        mode: PutMode,
    ) -> Result<(), StoreError> {
        let mut req = self.put(key, meta).body(ByteStream::from(body));
        req = match mode {
            PutMode::Overwrite => req,
            PutMode::Create => req.if_none_match("*"),
            PutMode::Update(etag) => req.if_match(etag),
        };
        req.send()
            .await
            .map(|_| ())
            .map_err(|e| self.classify("PutObject", key, e))
    }

    pub async fn put_file(
        &self,
        key: &str,
        path: &Path,
        meta: &ObjectMeta,
    ) -> Result<(), StoreError> {
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| StoreError::Other {
                op: "PutObject",
                target: path.display().to_string(),
                detail: e.to_string(),
                source: Some(Box::new(e)),
            })?;
        self.put(key, meta)
            .body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.classify("PutObject", key, e))
    }

    pub async fn list(&self, prefix: &str, counter: &AtomicU64) -> Result<Vec<Listed>, StoreError> {
        let mut out = Vec::new();
        self.each_page(prefix, None, counter, |page| {
            out.extend(page.contents().iter().filter_map(|o| {
                Some(Listed {
                    key: o.key()?.to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                })
            }));
        })
        .await?;
        Ok(out)
    }

    pub async fn list_folders(
        &self,
        prefix: &str,
        counter: &AtomicU64,
    ) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        self.each_page(prefix, Some("/"), counter, |page| {
            out.extend(page.common_prefixes().iter().filter_map(|p| {
                let name = p.prefix()?.strip_prefix(prefix)?.strip_suffix('/')?;
                Some(name.to_string())
            }));
        })
        .await?;
        Ok(out)
    }

    /// Every page of a listing under `prefix`, one request each.
    async fn each_page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        counter: &AtomicU64,
        mut each: impl FnMut(&ListObjectsV2Output),
    ) -> Result<(), StoreError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_delimiter(delimiter.map(str::to_string))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            RequestCounts::bump(counter);
            each(&page.map_err(|e| self.classify("ListObjectsV2", prefix, e))?);
        }
        Ok(())
    }

    /// 1,000 keys per DeleteObjects, a few requests in flight at once.
    pub async fn delete(&self, keys: Vec<String>, counter: &AtomicU64) -> Result<(), StoreError> {
        let mut chunks = keys.chunks(DELETE_BATCH).map(<[String]>::to_vec);
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            while tasks.len() < DELETES_IN_FLIGHT
                && let Some(chunk) = chunks.next()
            {
                RequestCounts::bump(counter);
                let me = self.clone();
                tasks.spawn(async move { me.delete_batch(&chunk).await });
            }
            let Some(done) = tasks.join_next().await else {
                return Ok(());
            };
            // An error drops the set, which stops the batches still running.
            done.map_err(|e| StoreError::Other {
                op: "DeleteObjects",
                target: self.bucket.clone(),
                detail: e.to_string(),
                source: Some(Box::new(e)),
            })??;
        }
    }

    async fn delete_batch(&self, chunk: &[String]) -> Result<(), StoreError> {
        let build_error = |e: aws_sdk_s3::error::BuildError| StoreError::Other {
            op: "DeleteObjects",
            target: self.bucket.clone(),
            detail: e.to_string(),
            source: Some(Box::new(e)),
        };
        let objects = chunk
            .iter()
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(build_error)?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(build_error)?;
        let out = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| self.classify("DeleteObjects", &chunk[0], e))?;
        match out.errors().first() {
            None => Ok(()),
            Some(first) => Err(StoreError::Other {
                op: "DeleteObjects",
                target: self.location(first.key().unwrap_or_default()),
                detail: format!(
                    "{} of {} keys failed: {}",
                    out.errors().len(),
                    chunk.len(),
                    first.message().unwrap_or_default()
                ),
                source: None,
            }),
        }
    }
}

/// DeleteObjects takes at most 1,000 keys.
const DELETE_BATCH: usize = 1000;
/// Batches deleted at once: enough to hide the round trip, few enough to
/// stay far below S3's 3,500 writes per second per prefix.
const DELETES_IN_FLIGHT: usize = 4;
