//! Moving report files into the store: bounded concurrency, streamed bodies,
//! progress on stderr, and a bounded stop on a signal. Retries on 5xx /
//! SlowDown live in the S3 client.

mod progress;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::stop::{Signal, Stop};
use crate::storage::{ObjectKey, ObjectMeta, Store, StoreError};

pub use progress::Progress;

pub enum Body {
    File(PathBuf),
    Bytes(Vec<u8>),
}

pub struct Upload {
    pub key: ObjectKey,
    pub body: Body,
    pub size: u64,
    pub meta: ObjectMeta,
}

/// How long uploads in flight may go on after a stop was asked for, before
/// they are cut off.
pub const DRAIN: Duration = Duration::from_secs(4);

/// What an upload came to.
#[derive(Debug, Default)]
pub struct Uploaded {
    /// Files that landed.
    pub landed: usize,
    /// The failures (key, error); none means everything started landed.
    pub failures: Vec<(String, StoreError)>,
    /// A signal stopped the upload: no upload started after it, and those
    /// in flight had `DRAIN` to finish.
    pub stopped: Option<Signal>,
}

/// Upload every item with at most `concurrency` in flight, until `stop`.
pub async fn upload_all(
    store: &Store,
    items: Vec<Upload>,
    concurrency: usize,
    progress: &Progress,
    stop: &Stop,
) -> Uploaded {
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    let mut done = Uploaded::default();
    for item in items {
        // Waiting for a permit before spawning keeps memory bounded.
        let permit = tokio::select! {
            biased;
            signal = stop.asked() => {
                done.stopped = Some(signal);
                break;
            }
            permit = permits.clone().acquire_owned() => permit.expect("semaphore is never closed"),
        };
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
        while let Some(joined) = tasks.try_join_next() {
            record(joined, progress, &mut done);
        }
    }
    finish(&mut tasks, progress, stop, &mut done).await;
    progress.finish();
    done
}

/// Wait for the uploads in flight; after a stop, for `DRAIN` at most.
async fn finish(
    tasks: &mut JoinSet<(ObjectKey, u64, Result<(), StoreError>)>,
    progress: &Progress,
    stop: &Stop,
    done: &mut Uploaded,
) {
    let mut deadline = done.stopped.map(|_| Instant::now() + DRAIN);
    loop {
        let joined = match deadline {
            Some(at) => match tokio::time::timeout_at(at, tasks.join_next()).await {
                Ok(joined) => joined,
                Err(_) => {
                    tasks.abort_all();
                    return;
                }
            },
            None => tokio::select! {
                joined = tasks.join_next() => joined,
                signal = stop.asked() => {
                    done.stopped = Some(signal);
                    deadline = Some(Instant::now() + DRAIN);
                    continue;
                }
            },
        };
        let Some(joined) = joined else { return };
        record(joined, progress, done);
    }
}

fn record(
    joined: Result<(ObjectKey, u64, Result<(), StoreError>), tokio::task::JoinError>,
    progress: &Progress,
    done: &mut Uploaded,
) {
    match joined {
        Ok((_, size, Ok(()))) => {
            done.landed += 1;
            progress.advance(size);
        }
        Ok((key, _, Err(e))) => done.failures.push((key.into_string(), e)),
        Err(e) => done.failures.push((
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
