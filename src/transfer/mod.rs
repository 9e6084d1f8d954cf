//! Moving report files into the store: bounded concurrency, streamed bodies,
//! progress on stderr. Retries on 5xx / SlowDown live in the S3 client.

mod progress;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::storage::{ObjectMeta, Store, StoreError};

pub use progress::Progress;

pub enum Body {
    File(PathBuf),
    Bytes(Vec<u8>),
}

pub struct Upload {
    pub key: String,
    pub body: Body,
    pub size: u64,
    pub meta: ObjectMeta,
}

/// Upload every item with at most `concurrency` in flight. Returns the
/// failures (key, error); an empty list means everything landed.
pub async fn upload_all(
    store: &Store,
    items: Vec<Upload>,
    concurrency: usize,
    progress: &Progress,
) -> Vec<(String, StoreError)> {
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    let mut failures = Vec::new();
    for item in items {
        // Waiting for a permit before spawning keeps memory bounded.
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore is never closed");
        let store = store.clone();
        tasks.spawn(async move {
            let result = match &item.body {
                Body::File(path) => store.put_file(&item.key, path, &item.meta).await,
                Body::Bytes(bytes) => {
                    store
                        .put_bytes(
                            &item.key,
                            bytes.clone(),
                            &item.meta,
                            crate::storage::PutMode::Overwrite,
                        )
                        .await
                }
            };
            drop(permit);
            (item.key, item.size, result)
        });
        while let Some(done) = tasks.try_join_next() {
            record(done, progress, &mut failures);
        }
    }
    while let Some(done) = tasks.join_next().await {
        record(done, progress, &mut failures);
    }
    progress.finish();
    failures
}

fn record(
    done: Result<(String, u64, Result<(), StoreError>), tokio::task::JoinError>,
    progress: &Progress,
    failures: &mut Vec<(String, StoreError)>,
) {
    match done {
        Ok((_, size, Ok(()))) => progress.advance(size),
        Ok((key, _, Err(e))) => failures.push((key, e)),
        Err(e) => failures.push((
            "<task>".into(),
            StoreError::Other {
                op: "upload",
                target: String::new(),
                detail: e.to_string(),
                source: Some(Box::new(e)),
            },
        )),
    }
}
