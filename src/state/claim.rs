//! Claiming a run folder before writing into it, renewing the claim while
//! the run is written, and settling it at the end (see `model::claim`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;

use super::{StateError, no_cache};
use crate::model::claim::{Claim, ClaimState, LEASE_SECS, RENEW_SECS, Verdict};
use crate::model::layout::Layout;
use crate::model::run_id::RunId;
use crate::storage::cas::{self, Step};
use crate::storage::{ObjectKey, PutMode, Store, StoreError};

/// Why a run id cannot be claimed.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// A claim whose lease has not lapsed. Its holder may be publishing, or
    /// may have been killed without giving it up (`kill -9`): a claim cannot
    /// tell, so the message gives the facts and when the id frees itself.
    #[error(
        "run id {run:?} is claimed by a publish{by} that started {started_ago} s ago and last renewed its claim {renewed_ago} s ago; it may still be running, or it was killed without giving the claim up. Unless renewed, the claim lapses in {lapses_in} s, at {lapses_at}, and the id can then be published again"
    )]
    Held {
        run: String,
        by: String,
        started_ago: i64,
        renewed_ago: i64,
        lapses_in: i64,
        /// `HH:MM:SS UTC`.
        lapses_at: String,
    },
    #[error("run id {0:?} was already published")]
    Published(String),
}

/// A claim this publisher holds, renewed in the background until settled.
pub struct Held {
    store: Store,
    key: ObjectKey,
    token: String,
    lost: Arc<AtomicBool>,
    published: AtomicBool,
    renewer: tokio::task::JoinHandle<()>,
    /// The claim this one replaced (its publisher died or gave up).
    pub took_over: Option<Claim>,
}

/// Claim `run` on the branch. A dead or abandoned claim is taken over and the
/// files its publisher left are deleted, so the folder holds one report.
pub async fn take(
    store: &Store,
    layout: &Layout,
    run: &RunId,
    by: Option<String>,
) -> Result<Result<Held, Refused>, StateError> {
    let key = layout.claim(run);
    let token = format!("{:016x}", fastrand::u64(..));
    let mine = |now| Claim::new(run.as_str(), &token, by.clone(), now);
    // The common case, a fresh run id, takes one conditional create.
    let fresh = mine(Utc::now().timestamp()).to_json();
    let decision = match store
        .put_bytes(&key, fresh, &no_cache(&key), PutMode::Create)
        .await
    {
        Ok(()) => Ok(None),
        Err(StoreError::Precondition { .. }) => judge_and_take(store, &key, run, &mine).await?,
        Err(e) => return Err(e.into()),
    };
    let took_over = match decision {
        Ok(stale) => stale,
        Err(refused) => return Ok(Err(refused)),
    };
    if took_over.is_some() {
        // A publisher that died after listing its run left a live-looking
        // claim: its files are a published report, never leftovers.
        if super::manifest::read(store, layout)
            .await?
            .contains(run.as_str())
        {
            set(store, &key, &token, ClaimState::Published).await?;
            return Ok(Err(Refused::Published(run.to_string())));
        }
        super::run_files::delete(store, layout, run).await?;
    }
    let lost = Arc::new(AtomicBool::new(false));
    let renewer = tokio::spawn(renew(
        store.clone(),
        key.clone(),
        token.clone(),
        lost.clone(),
    ));
    Ok(Ok(Held {
        store: store.clone(),
        key,
        token,
        lost,
        published: AtomicBool::new(false),
        renewer,
        took_over,
    }))
}

/// The claim exists: take it over when it is stale, else say who holds it.
async fn judge_and_take(
    store: &Store,
    key: &ObjectKey,
    run: &RunId,
    mine: &impl Fn(i64) -> Claim,
) -> Result<Result<Option<Claim>, Refused>, StateError> {
    let decision = cas::update(store, key, &no_cache(key), |current| {
        let now = Utc::now().timestamp();
        Ok::<_, std::convert::Infallible>(match Claim::judge(current, now) {
            Verdict::Free { stale } => Step::Write(mine(now).to_json(), Ok(stale)),
            Verdict::Held(other) => Step::Keep(Err(held(run, &other, now))),
            Verdict::Published => Step::Keep(Err(Refused::Published(run.to_string()))),
        })
    })
    .await?;
    Ok(decision)
}

fn held(run: &RunId, other: &Claim, now: i64) -> Refused {
    Refused::Held {
        run: run.to_string(),
        by: other
            .by
            .as_ref()
            .map(|b| format!(" ({b})"))
            .unwrap_or_default(),
        started_ago: now.saturating_sub(other.started).max(0),
        renewed_ago: now.saturating_sub(other.renewed).max(0),
        lapses_in: other.lapses_at().saturating_sub(now).max(0),
        lapses_at: crate::model::claim::clock(other.lapses_at()),
    }
}

/// Whether `run` can be claimed now: no claim, or one that is free.
pub async fn free(store: &Store, layout: &Layout, run: &RunId) -> Result<bool, StateError> {
    let stored = store.get(&layout.claim(run)).await?;
    let verdict = Claim::judge(
        stored.as_ref().map(|o| o.body.as_slice()),
        Utc::now().timestamp(),
    );
    Ok(matches!(verdict, Verdict::Free { .. }))
}

/// Renew every `RENEW_SECS`; give the claim up as lost when another
/// publisher took it, or when no renewal landed for a whole lease.
async fn renew(store: Store, key: ObjectKey, token: String, lost: Arc<AtomicBool>) {
    let mut last_ok = Utc::now().timestamp();
    loop {
        tokio::time::sleep(Duration::from_secs(RENEW_SECS)).await;
        let renewed = set(&store, &key, &token, ClaimState::Uploading).await;
        match renewed {
            Ok(true) => last_ok = Utc::now().timestamp(),
            Ok(false) => break lost.store(true, Ordering::SeqCst),
            Err(_) if Utc::now().timestamp() - last_ok >= LEASE_SECS => {
                break lost.store(true, Ordering::SeqCst);
            }
            Err(_) => {}
        }
    }
}

/// Set our claim's state (and renewal time); false when it is not ours.
async fn set(
    store: &Store,
    key: &ObjectKey,
    token: &str,
    state: ClaimState,
) -> Result<bool, StateError> {
    let done = cas::update(store, key, &no_cache(key), |current| {
        let claim = current.and_then(|b| serde_json::from_slice::<Claim>(b).ok());
        Ok::<_, std::convert::Infallible>(match claim {
            Some(mut c) if c.token == token => {
                c.state = state;
                c.renewed = Utc::now().timestamp();
                Step::Write(c.to_json(), true)
            }
            _ => Step::Keep(false),
        })
    })
    .await?;
    Ok(done)
}

impl Held {
    /// True while no other publisher can have taken the run folder.
    pub fn still_held(&self) -> bool {
        !self.lost.load(Ordering::SeqCst)
    }

    /// The run is listed: the claim now says so for good.
    pub async fn published(&self) -> Result<(), StateError> {
        self.renewer.abort();
        self.published.store(true, Ordering::SeqCst);
        set(&self.store, &self.key, &self.token, ClaimState::Published).await?;
        Ok(())
    }

    /// The publish failed or stopped before its run was listed: give the
    /// run id up so a rerun can take it over at once. On an error the claim
    /// still lapses with its lease, since renewals have stopped.
    pub async fn abandon(self) -> Result<(), StateError> {
        self.renewer.abort();
        if self.published.load(Ordering::SeqCst) {
            return Ok(());
        }
        set(&self.store, &self.key, &self.token, ClaimState::Abandoned).await?;
        Ok(())
    }
}
