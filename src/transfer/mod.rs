//! Moving report files into the store: bounded concurrency, streamed bodies,
//! progress on stderr, and a bounded stop on a signal. Files are handed to a
//! `Feed` one by one, while the report is still being made, and the feed
//! uploads each at once. Retries on 5xx / SlowDown live in the S3 client.

mod progress;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use crate::stop::{Signal, Stop};
use crate::storage::{ObjectKey, ObjectMeta, PutMode, Store, StoreError};

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

/// Uploads handed over one at a time, each started as soon as one of
/// `concurrency` slots is free. The queue in front of the slots is short, so
/// a generator faster than the store waits for it: memory stays bounded.
pub struct Feed {
    tx: Option<mpsc::Sender<Upload>>,
    cancel: Option<oneshot::Sender<()>>,
    /// Taken by `finish` / `cancel`; a feed dropped without either is
    /// aborted, its uploads in flight with it.
    task: Option<JoinHandle<Uploaded>>,
    progress: Arc<OnceLock<Progress>>,
    counts: Arc<Counts>,
}

/// Files and bytes handed over, and those settled (landed or failed).
#[derive(Default)]
struct Counts {
    sent_files: AtomicU64,
    sent_bytes: AtomicU64,
    settled_files: AtomicU64,
    settled_bytes: AtomicU64,
}

impl Feed {
    pub fn start(store: &Store, concurrency: usize, stop: &Stop) -> Self {
        let (tx, rx) = mpsc::channel(concurrency.max(1));
        let (cancel, cancelled) = oneshot::channel();
        let progress = Arc::new(OnceLock::new());
        let counts = Arc::new(Counts::default());
        let pump = Pump {
            store: store.clone(),
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            stop: stop.clone(),
            progress: progress.clone(),
            counts: counts.clone(),
        };
        let task = tokio::spawn(pump.run(rx, cancelled));
        Self {
            tx: Some(tx),
            cancel: Some(cancel),
            task: Some(task),
            progress,
            counts,
        }
    }

    /// Hand one upload over; false once the feed takes no more (a signal).
    pub async fn send(&self, upload: Upload) -> bool {
        let size = upload.size;
        let Some(tx) = &self.tx else { return false };
        let sent = tx.send(upload).await.is_ok();
        if sent {
            self.counts.sent_files.fetch_add(1, Ordering::Relaxed);
            self.counts.sent_bytes.fetch_add(size, Ordering::Relaxed);
        }
        sent
    }

    /// Files and bytes handed over so far.
    pub fn sent(&self) -> (u64, u64) {
        let c = &self.counts;
        (
            c.sent_files.load(Ordering::Relaxed),
            c.sent_bytes.load(Ordering::Relaxed),
        )
    }

    /// Files and bytes handed over and not yet settled.
    pub fn pending(&self) -> (u64, u64) {
        let c = &self.counts;
        let (files, bytes) = self.sent();
        (
            files.saturating_sub(c.settled_files.load(Ordering::Relaxed)),
            bytes.saturating_sub(c.settled_bytes.load(Ordering::Relaxed)),
        )
    }

    /// Show what lands from now on (set once).
    pub fn show(&self, progress: Progress) {
        let _ = self.progress.set(progress);
    }

    /// No more uploads: wait for those handed over.
    pub async fn finish(mut self) -> Uploaded {
        self.tx = None;
        let done = self.join().await;
        if let Some(progress) = self.progress.get() {
            progress.finish();
        }
        done
    }

    /// Give up: nothing more starts, and the uploads in flight are cut off
    /// and waited for, so none lands after this returns.
    pub async fn cancel(mut self) -> Uploaded {
        if let Some(cancel) = self.cancel.take() {
            let _ = cancel.send(());
        }
        self.tx = None;
        self.join().await
    }

    async fn join(&mut self) -> Uploaded {
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(lost),
            None => Uploaded::default(),
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn lost(e: tokio::task::JoinError) -> Uploaded {
    Uploaded {
        failures: vec![("<task>".into(), task_error(e))],
        ..Uploaded::default()
    }
}

fn task_error(e: tokio::task::JoinError) -> StoreError {
    StoreError::Other {
        op: "upload",
        target: String::new(),
        detail: e.to_string(),
        source: Some(Box::new(e)),
    }
}

type Done = (ObjectKey, u64, Result<(), StoreError>);

struct Pump {
    store: Store,
    permits: Arc<Semaphore>,
    stop: Stop,
    progress: Arc<OnceLock<Progress>>,
    counts: Arc<Counts>,
}

impl Pump {
    async fn run(
        self,
        mut rx: mpsc::Receiver<Upload>,
        mut cancelled: oneshot::Receiver<()>,
    ) -> Uploaded {
        let mut tasks = JoinSet::new();
        let mut done = Uploaded::default();
        loop {
            // A permit before taking the next upload keeps memory bounded.
            let permit = tokio::select! {
                biased;
                _ = &mut cancelled => return self.cut_off(tasks, done).await,
                signal = self.stop.asked() => {
                    done.stopped = Some(signal);
                    break;
                }
                permit = self.permits.clone().acquire_owned() => permit.expect("semaphore is never closed"),
            };
            let item = tokio::select! {
                biased;
                _ = &mut cancelled => return self.cut_off(tasks, done).await,
                signal = self.stop.asked() => {
                    done.stopped = Some(signal);
                    break;
                }
                item = rx.recv() => item,
            };
            let Some(item) = item else { break };
            tasks.spawn(put(self.store.clone(), item, permit));
            while let Some(joined) = tasks.try_join_next() {
                self.record(joined, &mut done);
            }
        }
        // The queue is closed for good: a sender learns the feed is done.
        rx.close();
        self.drain(&mut tasks, &mut cancelled, &mut done).await;
        done
    }

    /// Wait for the uploads in flight; after a stop, for `DRAIN` at most.
    async fn drain(
        &self,
        tasks: &mut JoinSet<Done>,
        cancelled: &mut oneshot::Receiver<()>,
        done: &mut Uploaded,
    ) {
        let mut deadline = done.stopped.map(|_| Instant::now() + DRAIN);
        loop {
            let joined = tokio::select! {
                biased;
                _ = &mut *cancelled => break,
                _ = sleep_until(deadline) => break,
                signal = self.stop.asked(), if deadline.is_none() => {
                    done.stopped = Some(signal);
                    deadline = Some(Instant::now() + DRAIN);
                    continue;
                }
                joined = tasks.join_next() => joined,
            };
            let Some(joined) = joined else { return };
            self.record(joined, done);
        }
        tasks.abort_all();
        while let Some(joined) = tasks.join_next().await {
            if !matches!(&joined, Err(e) if e.is_cancelled()) {
                self.record(joined, done);
            }
        }
    }

    async fn cut_off(&self, mut tasks: JoinSet<Done>, mut done: Uploaded) -> Uploaded {
        tasks.abort_all();
        while let Some(joined) = tasks.join_next().await {
            if !matches!(&joined, Err(e) if e.is_cancelled()) {
                self.record(joined, &mut done);
            }
        }
        done
    }

    fn record(&self, joined: Result<Done, tokio::task::JoinError>, done: &mut Uploaded) {
        let settled = |size| {
            self.counts.settled_files.fetch_add(1, Ordering::Relaxed);
            self.counts.settled_bytes.fetch_add(size, Ordering::Relaxed);
        };
        match joined {
            Ok((_, size, Ok(()))) => {
                settled(size);
                done.landed += 1;
                if let Some(progress) = self.progress.get() {
                    progress.advance(size);
                }
            }
            Ok((key, size, Err(e))) => {
                settled(size);
                done.failures.push((key.into_string(), e));
            }
            Err(e) => done.failures.push(("<task>".into(), task_error(e))),
        }
    }
}

async fn put(store: Store, item: Upload, permit: tokio::sync::OwnedSemaphorePermit) -> Done {
    let result = match &item.body {
        Body::File(path) => store.put_file(&item.key, path, &item.meta).await,
        Body::Bytes(bytes) => {
            store
                .put_bytes(&item.key, bytes.clone(), &item.meta, PutMode::Overwrite)
                .await
        }
    };
    drop(permit);
    (item.key, item.size, result)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
