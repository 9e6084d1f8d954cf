//! A store held in memory, for tests that search many schedules: it follows
//! S3's rules for conditional writes (a failed condition is a 412), can
//! inject the faults a real S3 answers with (412 and 409 on conditional
//! writes, 500s, timeouts before or after the write landed) from a seeded
//! plan, and yields to other tasks a drawn number of times before each
//! operation. On a single-threaded runtime the seed alone then fixes the
//! interleaving of concurrent publishers, so a failing schedule replays.
//!
//! Every change that landed is recorded in order, so a test can check what
//! each document went through, not only where it ended.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use super::{Listed, Object, PutMode, StoreError};

/// One injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 412 Precondition Failed on a conditional write; nothing written.
    PreconditionFailed,
    /// 409 ConditionalRequestConflict (S3's answer to racing conditional
    /// writes); nothing written.
    Conflict,
    /// 500 InternalError; nothing done.
    ServerError,
    /// The request timed out before the server acted.
    TimeoutBefore,
    /// The request timed out after the server acted: the change landed but
    /// the caller hears of a failure.
    TimeoutAfter,
}

impl Fault {
    fn label(self) -> &'static str {
        match self {
            Fault::PreconditionFailed => "412",
            Fault::Conflict => "409",
            Fault::ServerError => "500",
            Fault::TimeoutBefore => "timeout-before",
            Fault::TimeoutAfter => "timeout-after",
        }
    }
}

/// Which calls fail how, and how often a call yields first: all drawn from
/// one seed, in the order calls arrive.
pub struct FaultPlan {
    rng: fastrand::Rng,
    /// Chance of a fault per call, in thousandths.
    per_mille: u32,
    /// Most yields before one call.
    max_yields: u32,
}

impl FaultPlan {
    pub fn new(seed: u64, per_mille: u32, max_yields: u32) -> Self {
        Self {
            rng: fastrand::Rng::with_seed(seed),
            per_mille: per_mille.min(1000),
            max_yields,
        }
    }

    /// Mostly a few yields; now and then a long stall (a slow request, a
    /// paused runner), so that one task's steps span many of another's.
    fn yields(&mut self) -> u32 {
        if self.max_yields > 0 && self.rng.u32(0..100) < 5 {
            return self.rng.u32(self.max_yields..=self.max_yields * 40);
        }
        self.rng.u32(0..=self.max_yields)
    }

    /// A fault for a call of this kind, or None.
    fn draw(&mut self, call: Call) -> Option<Fault> {
        if self.rng.u32(0..1000) >= self.per_mille {
            return None;
        }
        let choices: &[Fault] = match call {
            Call::Read => &[Fault::ServerError, Fault::TimeoutBefore],
            Call::Write { conditional: true } => &[
                Fault::PreconditionFailed,
                Fault::Conflict,
                Fault::ServerError,
                Fault::TimeoutBefore,
                Fault::TimeoutAfter,
            ],
            Call::Write { conditional: false } => &[
                Fault::ServerError,
                Fault::TimeoutBefore,
                Fault::TimeoutAfter,
            ],
        };
        Some(choices[self.rng.usize(..choices.len())])
    }
}

#[derive(Debug, Clone, Copy)]
enum Call {
    Read,
    Write { conditional: bool },
}

/// A change that landed: `body` None is a delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub key: String,
    pub body: Option<Vec<u8>>,
}

#[derive(Default)]
struct Inner {
    objects: BTreeMap<String, Object>,
    next_etag: u64,
    faults: Option<FaultPlan>,
    /// Check a condition, let others run, then write: a racy server.
    racy: bool,
    trace: Vec<String>,
    applied: Vec<Applied>,
}

#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store without faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inject faults from `plan` from now on (None: no more faults).
    pub fn set_faults(&self, plan: Option<FaultPlan>) {
        self.lock().faults = plan;
    }

    /// From now on, check a write's condition, let other tasks run, then
    /// write without checking again, as a server without a lock per key.
    pub fn check_then_write(&self) {
        self.lock().racy = true;
    }

    /// Every call so far, in order: operation, key, outcome.
    pub fn trace(&self) -> Vec<String> {
        self.lock().trace.clone()
    }

    /// Every change that landed, in order.
    pub fn applied(&self) -> Vec<Applied> {
        self.lock().applied.clone()
    }

    /// The current body of `key`, read past the fault plan.
    pub fn peek(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().objects.get(key).map(|o| o.body.clone())
    }

    /// Every key, read past the fault plan.
    pub fn keys(&self) -> Vec<String> {
        self.lock().objects.keys().cloned().collect()
    }

    pub fn location(&self, key: &str) -> String {
        format!("memory:///{key}")
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic in another test thread must not hide this one's state.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Let other tasks run a drawn number of times: the interleaving.
    async fn interleave(&self) {
        let yields = self.lock().faults.as_mut().map_or(0, FaultPlan::yields);
        for _ in 0..yields {
            tokio::task::yield_now().await;
        }
    }

    /// Wait before retrying a lost race: a yield or two instead of a sleep,
    /// so schedules stay fast and the seed keeps fixing their order.
    pub async fn backoff(&self) {
        self.interleave().await;
        tokio::task::yield_now().await;
    }

    /// Draw the fault of a call and record it; Err when it fails before
    /// acting.
    fn begin(
        inner: &mut Inner,
        op: &'static str,
        key: &str,
        call: Call,
    ) -> Result<Option<Fault>, StoreError> {
        let fault = inner.faults.as_mut().and_then(|p| p.draw(call));
        match fault {
            None | Some(Fault::TimeoutAfter) => Ok(fault),
            Some(f) => {
                inner.trace.push(format!("{op} {key} {}", f.label()));
                Err(injected(op, key, f))
            }
        }
    }

    /// The outcome of a call that acted: Ok, or the timeout heard after it.
    fn finish(
        inner: &mut Inner,
        op: &'static str,
        key: &str,
        fault: Option<Fault>,
    ) -> Result<(), StoreError> {
        match fault {
            Some(f) => {
                inner.trace.push(format!("{op} {key} {}", f.label()));
                Err(injected(op, key, f))
            }
            None => {
                inner.trace.push(format!("{op} {key} ok"));
                Ok(())
            }
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        self.interleave().await;
        let mut inner = self.lock();
        Self::begin(&mut inner, "get", key, Call::Read)?;
        let found = inner.objects.get(key).cloned();
        let outcome = if found.is_some() { "ok" } else { "absent" };
        inner.trace.push(format!("get {key} {outcome}"));
        Ok(found)
    }

    pub async fn put_bytes(
        &self,
        key: &str,
        body: Vec<u8>,
        mode: PutMode,
    ) -> Result<(), StoreError> {
        self.interleave().await;
        let fault = {
            let mut inner = self.lock();
            let fault = Self::check(&mut inner, key, &mode)?;
            if !inner.racy {
                return Self::write(&mut inner, key, body, fault);
            }
            fault
        };
        tokio::task::yield_now().await;
        Self::write(&mut self.lock(), key, body, fault)
    }

    /// Draw the call's fault and check its condition.
    fn check(inner: &mut Inner, key: &str, mode: &PutMode) -> Result<Option<Fault>, StoreError> {
        let conditional = *mode != PutMode::Overwrite;
        let fault = Self::begin(inner, "put", key, Call::Write { conditional })?;
        let holds = match (mode, inner.objects.get(key)) {
            (PutMode::Overwrite, _) | (PutMode::Create, None) => true,
            (PutMode::Update(etag), Some(obj)) => &obj.etag == etag,
            _ => false,
        };
        if !holds {
            inner.trace.push(format!("put {key} precondition"));
            return Err(StoreError::Precondition { key: key.into() });
        }
        Ok(fault)
    }

    fn write(
        inner: &mut Inner,
        key: &str,
        body: Vec<u8>,
        fault: Option<Fault>,
    ) -> Result<(), StoreError> {
        inner.next_etag += 1;
        let etag = format!("\"{}\"", inner.next_etag);
        inner.applied.push(Applied {
            key: key.into(),
            body: Some(body.clone()),
        });
        inner.objects.insert(key.into(), Object { body, etag });
        Self::finish(inner, "put", key, fault)
    }

    pub async fn put_file(&self, key: &str, src: &Path) -> Result<(), StoreError> {
        let body = std::fs::read(src).map_err(|e| StoreError::Other {
            op: "read",
            target: src.display().to_string(),
            detail: e.to_string(),
            source: Some(Box::new(e)),
        })?;
        self.put_bytes(key, body, PutMode::Overwrite).await
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        self.interleave().await;
        let mut inner = self.lock();
        Self::begin(&mut inner, "list", prefix, Call::Read)?;
        let listed: Vec<Listed> = inner
            .objects
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, o)| Listed {
                key: k.clone(),
                size: o.body.len() as u64,
            })
            .collect();
        inner.trace.push(format!("list {prefix} {}", listed.len()));
        Ok(listed)
    }

    pub async fn list_folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.interleave().await;
        let mut inner = self.lock();
        Self::begin(&mut inner, "folders", prefix, Call::Read)?;
        let mut folders: Vec<String> = inner
            .objects
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter_map(|(k, _)| {
                k[prefix.len()..]
                    .split_once('/')
                    .map(|(f, _)| f.to_string())
            })
            .collect();
        folders.dedup();
        inner
            .trace
            .push(format!("folders {prefix} {}", folders.len()));
        Ok(folders)
    }

    /// Delete `keys` in one request, as one DeleteObjects call of S3.
    pub async fn delete(&self, keys: Vec<String>) -> Result<(), StoreError> {
        self.interleave().await;
        let mut inner = self.lock();
        let first = keys.first().cloned().unwrap_or_default();
        let fault = Self::begin(
            &mut inner,
            "delete",
            &first,
            Call::Write { conditional: false },
        )?;
        for key in keys {
            if inner.objects.remove(&key).is_some() {
                inner.applied.push(Applied { key, body: None });
            }
        }
        Self::finish(&mut inner, "delete", &first, fault)
    }
}

fn injected(op: &'static str, key: &str, fault: Fault) -> StoreError {
    match fault {
        Fault::PreconditionFailed | Fault::Conflict => StoreError::Precondition { key: key.into() },
        Fault::ServerError => StoreError::Other {
            op,
            target: key.into(),
            detail: "InternalError (500, injected)".into(),
            source: None,
        },
        Fault::TimeoutBefore | Fault::TimeoutAfter => StoreError::Other {
            op,
            target: key.into(),
            detail: "timed out (injected)".into(),
            source: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn conditional_writes_follow_s3_rules() {
        let store = MemoryStore::new();
        store
            .put_bytes("a/b.json", b"1".to_vec(), PutMode::Create)
            .await
            .unwrap();
        let err = store
            .put_bytes("a/b.json", b"2".to_vec(), PutMode::Create)
            .await;
        assert!(matches!(err, Err(StoreError::Precondition { .. })));
        let obj = store.get("a/b.json").await.unwrap().unwrap();
        let stale = obj.etag.clone();
        store
            .put_bytes("a/b.json", b"3".to_vec(), PutMode::Update(obj.etag))
            .await
            .unwrap();
        let err = store
            .put_bytes("a/b.json", b"4".to_vec(), PutMode::Update(stale))
            .await;
        assert!(matches!(err, Err(StoreError::Precondition { .. })));
        let err = store
            .put_bytes("a/new", b"5".to_vec(), PutMode::Update("\"1\"".into()))
            .await;
        assert!(
            matches!(err, Err(StoreError::Precondition { .. })),
            "If-Match on a missing object fails"
        );
        assert_eq!(store.peek("a/b.json").unwrap(), b"3");
        assert_eq!(store.applied().len(), 2);
    }

    #[tokio::test]
    async fn listing_and_folders_see_only_the_prefix() {
        let store = MemoryStore::new();
        for k in [
            "p/b/1/index.html",
            "p/b/1/data/x",
            "p/b/2/index.html",
            "p/bb/x",
            "p/b/f",
        ] {
            store
                .put_bytes(k, b"xy".to_vec(), PutMode::Overwrite)
                .await
                .unwrap();
        }
        let listed = store.list("p/b/1/").await.unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|l| l.size == 2));
        assert_eq!(store.list_folders("p/b/").await.unwrap(), ["1", "2"]);
        store
            .delete(vec!["p/b/1/index.html".into(), "p/nothing".into()])
            .await
            .unwrap();
        assert_eq!(store.list("p/b/1/").await.unwrap().len(), 1);
        assert_eq!(store.applied().last().unwrap().body, None);
    }

    #[tokio::test]
    async fn a_timeout_after_the_write_lands_it_yet_reports_failure() {
        let store = MemoryStore::new();
        // Every call faults; find a seed whose first draw is a late timeout.
        let seed = (0..10_000u64)
            .find(|s| {
                let mut p = FaultPlan::new(*s, 1000, 0);
                p.yields();
                p.draw(Call::Write { conditional: true }) == Some(Fault::TimeoutAfter)
            })
            .unwrap();
        store.set_faults(Some(FaultPlan::new(seed, 1000, 0)));
        let err = store.put_bytes("k", b"v".to_vec(), PutMode::Create).await;
        assert!(matches!(err, Err(StoreError::Other { .. })));
        assert_eq!(store.peek("k").unwrap(), b"v");
        assert_eq!(store.trace(), ["put k timeout-after"]);
    }

    #[test]
    fn the_same_seed_draws_the_same_plan() {
        let draws = |seed| {
            let mut p = FaultPlan::new(seed, 300, 4);
            (0..200)
                .map(|i| {
                    (
                        p.yields(),
                        p.draw(Call::Write {
                            conditional: i % 2 == 0,
                        }),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        let faults = draws(7).iter().filter(|(_, f)| f.is_some()).count();
        assert!((30..=90).contains(&faults), "{faults} of 200 at 30 %");
    }
}
