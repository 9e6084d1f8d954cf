//! Any S3 API through aws-sdk-s3: AWS, or a local server via an endpoint URL.

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier, ServerSideEncryption};

use super::paging::{Limit, Page, Pager};
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
    /// Uploads in flight at once (`--concurrency`): they share the uplink,
    /// so each is given time for its body at that share of the slowest rate.
    pub uploads_at_once: usize,
}

#[derive(Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    endpoint: Option<String>,
    region: String,
    sse: Option<ServerSideEncryption>,
    sse_kms_key_id: Option<String>,
    uploads_at_once: u64,
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
        let endpoint = aws::s3_endpoint(&config, opts.endpoint.as_deref());
        Ok(Self {
            client: aws::s3(&config, endpoint.as_deref()),
            bucket: opts.bucket,
            region: aws::region(&config),
            endpoint,
            sse,
            sse_kms_key_id,
            uploads_at_once: u64::try_from(opts.uploads_at_once.max(1)).unwrap_or(u64::MAX),
        })
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// The server, as a measurement of it names it (in messages, and in
    /// the record's key and body): the endpoint URL without any user or
    /// password in it, or AWS S3's regional endpoint.
    pub fn endpoint_label(&self) -> String {
        match &self.endpoint {
            Some(url) => aws::without_userinfo(url),
            None => format!("https://s3.{}.amazonaws.com", self.region),
        }
    }

    /// True for AWS S3 itself, which documents conditional writes: no
    /// endpoint given, and none from the SDK's environment or profile.
    pub fn is_aws(&self) -> bool {
        self.endpoint.is_none()
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
            // A 409 is a lost condition only as ConditionalRequestConflict
            // (or with no code at all); OperationAborted and the like are not.
            (Some(412), _)
            | (Some(409), "")
            | (_, "PreconditionFailed" | "ConditionalRequestConflict") => {
                StoreError::Precondition { key: key.into() }
            }
            (_, c) if DENIED.contains(&c) => StoreError::Denied { target, code },
            (Some(500 | 502 | 503 | 504), _) => StoreError::Unavailable {
                op,
                target,
                detail: aws::describe(&err),
            },
            (_, c) if TRANSIENT.contains(&c) || matches!(err, SdkError::ResponseError(_)) => {
                StoreError::Unavailable {
                    op,
                    target,
                    detail: aws::describe(&err),
                }
            }
            _ => StoreError::Other {
                op,
                target,
                detail: aws::describe(&err),
                source: Some(Box::new(err)),
            },
        }
    }

    /// A DeleteObjects answer's error for one key, as the error of a request
    /// on that key would be.
    fn key_error(&self, key: &str, code: &str, message: Option<&str>) -> StoreError {
        let target = self.location(key);
        let detail = match message {
            Some(m) if !m.is_empty() => format!("{code}: {m}"),
            _ => code.to_string(),
        };
        match code {
            c if DENIED.contains(&c) => StoreError::Denied {
                target,
                code: code.to_string(),
            },
            c if TRANSIENT.contains(&c) => StoreError::Unavailable {
                op: "DeleteObjects",
                target,
                detail,
            },
            _ => StoreError::Other {
                op: "DeleteObjects",
                target,
                detail,
                source: None,
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

    /// Timeouts for a request whose body has `len` bytes, sent beside up to
    /// `uploads_at_once - 1` others.
    fn sized(&self, len: u64) -> aws_sdk_s3::config::Builder {
        let share = len.saturating_mul(self.uploads_at_once);
        aws_sdk_s3::config::Builder::new().timeout_config(aws::timeouts(share))
    }

    pub async fn put_bytes(
        &self,
        key: &str,
        body: Vec<u8>,
        meta: &ObjectMeta,
        mode: PutMode,
    ) -> Result<(), StoreError> {
        let len = body.len() as u64;
        let updating = matches!(mode, PutMode::Update(_));
        let mut req = self.put(key, meta).body(ByteStream::from(body));
        req = match mode {
            PutMode::Overwrite => req,
            PutMode::Create => req.if_none_match("*"),
            PutMode::Update(etag) => req.if_match(etag),
        };
        req.customize()
            .config_override(self.sized(len))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| match e.code() {
                // AWS answers If-Match on a key that is gone with 404
                // NoSuchKey: the object changed since it was read.
                Some("NoSuchKey") if updating => StoreError::Precondition { key: key.into() },
                _ => self.classify("PutObject", key, e),
            })
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
        let len = body.size_hint().0;
        self.put(key, meta)
            .body(body)
            .customize()
            .config_override(self.sized(len))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.classify("PutObject", key, e))
    }

    pub async fn list(&self, prefix: &str, counter: &AtomicU64) -> Result<Vec<Listed>, StoreError> {
        let mut out = Vec::new();
        let listing = Listing {
            prefix,
            delimiter: None,
            page_size: None,
            limit: Limit::UNBOUNDED,
        };
        self.each_page(&listing, counter, |page| {
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

    /// The keys under `prefix`, asking for `page_size` keys a page: how the
    /// probe makes a small listing page.
    pub async fn list_keys_paged(
        &self,
        prefix: &str,
        page_size: i32,
        counter: &AtomicU64,
    ) -> Result<(Vec<String>, u64), StoreError> {
        let mut keys = Vec::new();
        let mut pages = 0;
        let listing = Listing {
            prefix,
            delimiter: None,
            page_size: Some(page_size),
            limit: Limit::at_most(PROBE_KEYS),
        };
        self.each_page(&listing, counter, |page| {
            pages += 1;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .map(str::to_string),
            );
        })
        .await?;
        Ok((keys, pages))
    }

    pub async fn list_folders(
        &self,
        prefix: &str,
        counter: &AtomicU64,
    ) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let listing = Listing {
            prefix,
            delimiter: Some("/"),
            page_size: None,
            limit: Limit::UNBOUNDED,
        };
        self.each_page(&listing, counter, |page| {
            out.extend(page.common_prefixes().iter().filter_map(|p| {
                let name = p.prefix()?.strip_prefix(prefix)?.strip_suffix('/')?;
                Some(name.to_string())
            }));
        })
        .await?;
        Ok(out)
    }

    /// Every page of a listing, one request each, each checked by a
    /// `Pager` before `each` sees it. Not the SDK's paginator: it stops
    /// quietly on a repeated token and trusts a page without one, which
    /// would hand a partial listing to prune.
    async fn each_page(
        &self,
        listing: &Listing<'_>,
        counter: &AtomicU64,
        mut each: impl FnMut(&ListObjectsV2Output),
    ) -> Result<(), StoreError> {
        let mut pager = Pager::new(listing.prefix, listing.limit);
        let mut token = None;
        loop {
            RequestCounts::bump(counter);
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(listing.prefix)
                .set_delimiter(listing.delimiter.map(str::to_string))
                .set_max_keys(listing.page_size)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| self.classify("ListObjectsV2", listing.prefix, e))?;
            let keys = page
                .contents()
                .iter()
                .filter_map(|o| o.key())
                .chain(page.common_prefixes().iter().filter_map(|p| p.prefix()))
                .collect();
            let checked = pager.next(&Page {
                keys,
                truncated: page.is_truncated(),
                next_token: page.next_continuation_token(),
            });
            token = checked.map_err(|problem| StoreError::Listing {
                target: self.location(listing.prefix),
                problem,
            })?;
            each(&page);
            if token.is_none() {
                return Ok(());
            }
        }
    }

    /// Delete `keys` in one DeleteObjects that reports every key: the keys
    /// the server says it deleted. For the probe; `delete` is for work.
    pub async fn delete_reporting(
        &self,
        keys: &[String],
        counter: &AtomicU64,
    ) -> Result<Vec<String>, StoreError> {
        RequestCounts::bump(counter);
        let out = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(self.delete_request(keys, false)?)
            .send()
            .await
            .map_err(|e| self.classify("DeleteObjects", &keys[0], e))?;
        if let Some(e) = out.errors().first() {
            let key = e.key().unwrap_or_default();
            let code = e.code().unwrap_or_default();
            if DENIED.contains(&code) || TRANSIENT.contains(&code) {
                return Err(self.key_error(key, code, e.message()));
            }
        }
        Ok(out
            .deleted()
            .iter()
            .filter_map(|d| d.key())
            .map(str::to_string)
            .collect())
    }

    fn delete_request(&self, keys: &[String], quiet: bool) -> Result<Delete, StoreError> {
        let build_error = |e: aws_sdk_s3::error::BuildError| StoreError::Other {
            op: "DeleteObjects",
            target: self.bucket.clone(),
            detail: e.to_string(),
            source: Some(Box::new(e)),
        };
        let objects = keys
            .iter()
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(build_error)?;
        Delete::builder()
            .set_objects(Some(objects))
            .quiet(quiet)
            .build()
            .map_err(build_error)
    }

    /// 1,000 keys per DeleteObjects, a few requests in flight at once. Keys
    /// S3 reports as not deleted with a transient error are sent again;
    /// every key still not deleted at the end is named in the error (and no
    /// batch is given up because another failed).
    pub async fn delete(&self, keys: Vec<String>, counter: &AtomicU64) -> Result<(), StoreError> {
        let mut left = keys;
        let mut failed = Vec::new();
        for round in 0..DELETE_ROUNDS {
            if round > 0 {
                tokio::time::sleep(Duration::from_millis(200 << round)).await;
            }
            let (retry, lasting) = self.delete_once(left, counter).await?;
            failed.extend(lasting);
            if round + 1 == DELETE_ROUNDS {
                failed.extend(retry);
                break;
            }
            left = retry.into_iter().map(|f| f.key).collect();
            if left.is_empty() {
                break;
            }
        }
        if failed.is_empty() {
            return Ok(());
        }
        if let Some(denied) = failed.iter().find(|f| DENIED.contains(&f.code.as_str())) {
            return Err(self.key_error(&denied.key, &denied.code, None));
        }
        Err(StoreError::Other {
            op: "DeleteObjects",
            target: self.location(&failed[0].key),
            detail: not_deleted(&failed),
            source: None,
        })
    }

    /// One pass over `keys`: the keys to try again, and those that failed
    /// for good. A request that failed as a whole fails the pass.
    async fn delete_once(
        &self,
        keys: Vec<String>,
        counter: &AtomicU64,
    ) -> Result<(Vec<NotDeleted>, Vec<NotDeleted>), StoreError> {
        let mut chunks = keys.chunks(DELETE_BATCH).map(<[String]>::to_vec);
        let mut tasks = tokio::task::JoinSet::new();
        let (mut retry, mut lasting) = (Vec::new(), Vec::new());
        let mut first_error = None;
        loop {
            while tasks.len() < DELETES_IN_FLIGHT
                && let Some(chunk) = chunks.next()
            {
                RequestCounts::bump(counter);
                let me = self.clone();
                tasks.spawn(async move { me.delete_batch(&chunk).await });
            }
            let Some(done) = tasks.join_next().await else {
                break;
            };
            let done = done.map_err(|e| StoreError::Other {
                op: "DeleteObjects",
                target: self.bucket.clone(),
                detail: e.to_string(),
                source: Some(Box::new(e)),
            });
            // The other batches still run: each key is deleted or reported.
            match done {
                Ok(Ok(errors)) => {
                    for e in errors {
                        match e.transient {
                            true => retry.push(e),
                            false => lasting.push(e),
                        }
                    }
                }
                Ok(Err(e)) | Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok((retry, lasting)),
        }
    }

    /// One DeleteObjects; the keys it reports as not deleted.
    async fn delete_batch(&self, chunk: &[String]) -> Result<Vec<NotDeleted>, StoreError> {
        let delete = self.delete_request(chunk, true)?;
        let out = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| self.classify("DeleteObjects", &chunk[0], e))?;
        Ok(out
            .errors()
            .iter()
            .map(|e| NotDeleted {
                key: e.key().unwrap_or_default().to_string(),
                code: e.code().unwrap_or_default().to_string(),
                transient: TRANSIENT.contains(&e.code().unwrap_or_default()),
                reason: match (e.code(), e.message()) {
                    (Some(c), Some(m)) if !m.is_empty() => format!("{c}: {m}"),
                    (Some(c), _) => c.to_string(),
                    (None, m) => m.unwrap_or("no reason given").to_string(),
                },
            })
            .collect())
    }
}

/// What one listing asks for.
struct Listing<'a> {
    prefix: &'a str,
    delimiter: Option<&'a str>,
    /// `max-keys`; None: the server's default (1,000 on S3).
    page_size: Option<i32>,
    limit: Limit,
}

/// A key a DeleteObjects answer reported as not deleted.
#[derive(Debug)]
struct NotDeleted {
    key: String,
    code: String,
    reason: String,
    /// S3's advice for the code: try again.
    transient: bool,
}

/// `2 keys were not deleted: a (InternalError: ...), b (AccessDenied: ...)`.
fn not_deleted(failed: &[NotDeleted]) -> String {
    const NAMED: usize = 20;
    let mut text = format!(
        "{} keys were not deleted (after {DELETE_ROUNDS} tries for transient errors): ",
        failed.len()
    );
    let named: Vec<String> = failed
        .iter()
        .take(NAMED)
        .map(|f| format!("{} ({})", f.key, f.reason))
        .collect();
    text.push_str(&named.join(", "));
    if failed.len() > NAMED {
        text.push_str(&format!(" and {} more", failed.len() - NAMED));
    }
    text
}

/// Error codes of credentials that may not do what was asked.
const DENIED: [&str; 4] = [
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
];

/// Error codes (per key in DeleteObjects, or of a whole request) that S3
/// documents as worth retrying.
const TRANSIENT: [&str; 5] = [
    "InternalError",
    "SlowDown",
    "ServiceUnavailable",
    "RequestTimeout",
    "OperationAborted",
];

/// Passes over the keys a DeleteObjects reported as not deleted.
const DELETE_ROUNDS: u32 = 4;

/// Keys a probe listing may return: it wrote a few.
const PROBE_KEYS: u64 = 1000;

/// DeleteObjects takes at most 1,000 keys.
const DELETE_BATCH: usize = 1000;
/// Batches deleted at once: enough to hide the round trip, few enough to
/// stay far below S3's 3,500 writes per second per prefix.
const DELETES_IN_FLIGHT: usize = 4;
