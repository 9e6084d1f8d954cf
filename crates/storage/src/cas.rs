//! Compare-and-swap updates of one object: read it with its etag, decide,
//! write with If-Match (or If-None-Match: * when it did not exist), and on a
//! lost race read again. Bounded, with jittered backoff.

use std::time::Duration;

use super::{ObjectKey, ObjectMeta, PutMode, Store, StoreError};

/// Enough for dozens of publishers racing on one branch.
const MAX_ATTEMPTS: u32 = 40;

pub enum Step<R> {
    /// Write these bytes, then return R.
    Write(Vec<u8>, R),
    /// Leave the object as it is and return R.
    Keep(R),
}

#[derive(Debug, thiserror::Error)]
pub enum CasError<E> {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{key} kept changing under us: gave up after {attempts} attempts; publish again")]
    Contended { key: String, attempts: u32 },
    /// The decision function refused (e.g. duplicate run).
    #[error("{0}")]
    Refused(E),
}

/// Run `decide` on the current content (None when absent) until its write
/// lands or it decides to keep what is there.
pub async fn update<R, E>(
    store: &Store,
    key: &ObjectKey,
    meta: &ObjectMeta,
    mut decide: impl FnMut(Option<&[u8]>) -> Result<Step<R>, E>,
) -> Result<R, CasError<E>> {
    for attempt in 0..MAX_ATTEMPTS {
        let current = store.get(key).await?;
        let (mode, body) = match &current {
            Some(obj) => (PutMode::Update(obj.etag.clone()), Some(obj.body.as_slice())),
            None => (PutMode::Create, None),
        };
        match decide(body).map_err(CasError::Refused)? {
            Step::Keep(r) => return Ok(r),
            Step::Write(bytes, r) => match store.put_bytes(key, bytes, meta, mode).await {
                Ok(()) => return Ok(r),
                Err(StoreError::Precondition { .. }) => {
                    let base = 20u64 << attempt.min(5);
                    let wait = Duration::from_millis(base + fastrand::u64(..base));
                    store.backoff(wait).await;
                }
                Err(e) => return Err(e.into()),
            },
        }
    }
    Err(CasError::Contended {
        key: key.to_string(),
        attempts: MAX_ATTEMPTS,
    })
}
