//! Where reports are written: any S3 API, or a local directory. Both offer the
//! same small set of operations, including compare-and-swap writes, so the
//! publish logic does not care which one it talks to.

pub mod cas;
pub mod local;
pub mod memory;
pub mod paging;
pub mod probe;
pub mod s3;

use allure_host_aws as aws;
use allure_host_model as model;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use crate::model::key::ObjectKey;
pub use local::LocalStore;
pub use memory::MemoryStore;
pub use s3::S3Store;

/// How a write treats an object that may already exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutMode {
    Overwrite,
    /// Only if no object exists (If-None-Match: *).
    Create,
    /// Only if the object still has this etag (If-Match).
    Update(String),
}

/// Headers of a written object. Local directories keep only the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub content_type: String,
    pub cache_control: &'static str,
    /// URL-encoded tag set, e.g. `ttl-days=30`.
    pub tagging: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Object {
    pub body: Vec<u8>,
    pub etag: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The condition of a Create or Update did not hold (412, or 409 when
    /// another conditional write raced us).
    #[error("{key}: the object changed since it was read")]
    Precondition { key: String },
    #[error(
        "bucket {bucket:?} does not exist or is in another region; check --bucket and --region, or create it with `allure-host infra setup`"
    )]
    NoSuchBucket { bucket: String },
    /// The endpoint could not be reached, or there are no credentials.
    #[error(transparent)]
    Unreachable(#[from] crate::aws::Unreachable),
    #[error(
        "access to {target} was denied ({code}); check that the credentials may use the bucket"
    )]
    Denied { target: String, code: String },
    /// A listing's pages broke a rule (`paging`): nothing may act on it.
    #[error(
        "listing {target} stopped: {problem}. The server's paging cannot be trusted, so nothing was done with a partial listing; `allure-host publish --check` measures the server"
    )]
    Listing {
        target: String,
        problem: paging::PagingError,
    },
    /// The server failed or was busy past the SDK's retries (5xx,
    /// throttling, a broken response): says nothing lasting about it.
    #[error("{op} {target} failed: {detail}; the server is failing or busy, try again later")]
    Unavailable {
        op: &'static str,
        target: String,
        detail: String,
    },
    #[error("{op} {target} failed: {detail}")]
    Other {
        op: &'static str,
        target: String,
        /// A short reason: the AWS error code and message, or the I/O error.
        detail: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// Requests made, by S3 operation name, counted as the store sends them.
#[derive(Debug, Default)]
pub struct RequestCounts {
    get: AtomicU64,
    put: AtomicU64,
    list: AtomicU64,
    delete: AtomicU64,
    head: AtomicU64,
}

impl RequestCounts {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        [
            ("GetObject", &self.get),
            ("PutObject", &self.put),
            ("ListObjectsV2", &self.list),
            ("DeleteObjects", &self.delete),
            ("HeadBucket", &self.head),
        ]
        .into_iter()
        .map(|(name, c)| (name, c.load(Ordering::Relaxed)))
        .filter(|(_, n)| *n > 0)
        .collect()
    }
}

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    counts: Arc<RequestCounts>,
}

#[derive(Clone)]
enum Backend {
    S3(Arc<S3Store>),
    Local(Arc<LocalStore>),
    /// Tests only: faults and interleavings drawn from a seed.
    Memory(Arc<MemoryStore>),
}

impl Store {
    pub fn s3(store: S3Store) -> Self {
        Self {
            backend: Backend::S3(Arc::new(store)),
            counts: Arc::default(),
        }
    }

    pub fn local(store: LocalStore) -> Self {
        Self {
            backend: Backend::Local(Arc::new(store)),
            counts: Arc::default(),
        }
    }

    /// A store in memory; the caller keeps `store` to steer faults and read
    /// what happened.
    pub fn memory(store: Arc<MemoryStore>) -> Self {
        Self {
            backend: Backend::Memory(store),
            counts: Arc::default(),
        }
    }

    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        self.counts.snapshot()
    }

    /// Where `key` can be read by the publisher: `s3://bucket/key` or `file:///...`.
    pub fn location(&self, key: &str) -> String {
        match &self.backend {
            Backend::S3(s) => s.location(key),
            Backend::Local(l) => l.location(key),
            Backend::Memory(m) => m.location(key),
        }
    }

    /// A name for the target in messages: the bucket or the directory.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::S3(s) => s.bucket().to_string(),
            Backend::Local(l) => l.root().display().to_string(),
            Backend::Memory(_) => "memory".into(),
        }
    }

    /// The S3 server behind this store; None for a local directory or
    /// memory, whose conditions this program keeps itself.
    pub fn s3_server(&self) -> Option<&S3Store> {
        match &self.backend {
            Backend::S3(s) => Some(s),
            Backend::Local(_) | Backend::Memory(_) => None,
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(self.backend, Backend::Local(_))
    }

    pub async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        RequestCounts::bump(&self.counts.get);
        match &self.backend {
            Backend::S3(s) => s.get(key).await,
            Backend::Local(l) => l.get(key).await,
            Backend::Memory(m) => m.get(key).await,
        }
    }

    /// Write `body` at `key`, a key the layout made.
    pub async fn put_bytes(
        &self,
        key: &ObjectKey,
        body: Vec<u8>,
        meta: &ObjectMeta,
        mode: PutMode,
    ) -> Result<(), StoreError> {
        RequestCounts::bump(&self.counts.put);
        let key = key.as_str();
        match &self.backend {
            Backend::S3(s) => s.put_bytes(key, body, meta, mode).await,
            Backend::Local(l) => l.put_bytes(key, body, mode).await,
            Backend::Memory(m) => m.put_bytes(key, body, mode).await,
        }
    }

    /// Stream a file into `key` (memory does not grow with the file).
    pub async fn put_file(
        &self,
        key: &ObjectKey,
        path: &Path,
        meta: &ObjectMeta,
    ) -> Result<(), StoreError> {
        RequestCounts::bump(&self.counts.put);
        let key = key.as_str();
        match &self.backend {
            Backend::S3(s) => s.put_file(key, path, meta).await,
            Backend::Local(l) => l.put_file(key, path).await,
            Backend::Memory(m) => m.put_file(key, path).await,
        }
    }

    /// Every object under `prefix` (which ends with '/'), or an error when
    /// the server's pages break a paging rule.
    pub async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        match &self.backend {
            Backend::S3(s) => s.list(prefix, &self.counts.list).await,
            Backend::Local(l) => {
                RequestCounts::bump(&self.counts.list);
                l.list(prefix).await
            }
            Backend::Memory(m) => {
                RequestCounts::bump(&self.counts.list);
                m.list(prefix).await
            }
        }
    }

    /// The names of the folders directly under `prefix` (which ends with
    /// '/'), without the prefix or a trailing '/': one request per 1,000
    /// folders, however many objects they hold.
    pub async fn list_folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        match &self.backend {
            Backend::S3(s) => s.list_folders(prefix, &self.counts.list).await,
            Backend::Local(l) => {
                RequestCounts::bump(&self.counts.list);
                l.list_folders(prefix).await
            }
            Backend::Memory(m) => {
                RequestCounts::bump(&self.counts.list);
                m.list_folders(prefix).await
            }
        }
    }

    /// The keys under `prefix`, `page_size` a page, and the pages it took
    /// (the probe's paging check). A local or memory store lists at once.
    pub async fn list_keys_paged(
        &self,
        prefix: &str,
        page_size: i32,
    ) -> Result<(Vec<String>, u64), StoreError> {
        if let Backend::S3(s) = &self.backend {
            return s
                .list_keys_paged(prefix, page_size, &self.counts.list)
                .await;
        }
        let keys = self
            .list(prefix)
            .await?
            .into_iter()
            .map(|l| l.key)
            .collect();
        Ok((keys, 1))
    }

    /// Delete `keys` (at most 1,000) in one request that reports every key
    /// deleted (the probe's check). A local or memory store reports them all.
    pub async fn delete_reporting(&self, keys: &[String]) -> Result<Vec<String>, StoreError> {
        if let Backend::S3(s) = &self.backend {
            return s.delete_reporting(keys, &self.counts.delete).await;
        }
        self.delete(keys.to_vec()).await?;
        Ok(keys.to_vec())
    }

    /// Delete `keys`, 1,000 per request on S3.
    pub async fn delete(&self, keys: Vec<String>) -> Result<(), StoreError> {
        match &self.backend {
            Backend::S3(s) => s.delete(keys, &self.counts.delete).await,
            Backend::Local(l) => {
                RequestCounts::bump(&self.counts.delete);
                l.delete(keys).await
            }
            Backend::Memory(m) => {
                RequestCounts::bump(&self.counts.delete);
                m.delete(keys).await
            }
        }
    }

    /// Wait `wait` before retrying a lost race. The memory store yields
    /// instead, so a seeded schedule stays fast and replays exactly.
    pub async fn backoff(&self, wait: Duration) {
        match &self.backend {
            Backend::Memory(m) => m.backoff().await,
            Backend::S3(_) | Backend::Local(_) => tokio::time::sleep(wait).await,
        }
    }
}
