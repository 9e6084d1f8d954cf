//! A publish stopped by a signal. Before its run is listed, nothing of it is
//! visible to readers: its uploaded files are removed and its claim given
//! up, so a rerun of the same id starts at once. After the run is listed,
//! it is complete; only the moves of latest are left undone (never made
//! after a signal). Each step is bounded, so the stop is too.

use std::time::Duration;

use chrono::Utc;

use super::prepare::Prepared;
use crate::model::claim::LEASE_SECS;
use crate::state;
use crate::stop::{Signal, Stopped};

/// Where the signal found the publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// Before the first upload (the report was being made).
    BeforeUpload,
    /// While the report was being made, `landed` of its files uploaded.
    Generating { landed: usize },
    /// During the upload: `landed` of `total` files had landed.
    Uploading { landed: usize, total: usize },
    /// Uploaded whole, not yet listed.
    Uploaded,
    /// The store had not answered the write listing the run.
    Listing,
    /// The run was listed; latest was not moved.
    Listed,
    /// The run was listed; the store had not answered a move of latest.
    Moving,
}

/// The publish stopped at `at`; `settle` turns this into `Stopped`.
#[derive(Debug, thiserror::Error)]
#[error("stopped by {}", signal.name())]
pub struct Halted {
    pub signal: Signal,
    pub at: Halt,
}

/// Time to remove what an unlisted run uploaded.
const REMOVE: Duration = Duration::from_secs(3);
/// Time to remove what a run whose report failed had uploaded.
const REMOVE_AFTER_FAILURE: Duration = Duration::from_secs(60);
/// Time to mark the claim abandoned.
const GIVE_UP: Duration = Duration::from_secs(2);

/// Leave the store as a reader and a rerun need it, and say so in one line.
pub async fn settle(p: &mut Prepared, halted: &Halted) -> Stopped {
    let what = match halted.at {
        Halt::Listed => format!(
            "after run {} was listed: it is complete and on the runs page; latest was not moved to it (the next publish of the branch moves latest)",
            p.run
        ),
        Halt::Listing => format!(
            "while run {0} was being listed: the store had not answered, so it may or may not be on the runs page; its files are complete either way and latest was not moved. Publishing run id {0} again is refused as already published when it is listed; otherwise it works once its claim lapses (by {1})",
            p.run,
            crate::model::claim::clock(Utc::now().timestamp() + LEASE_SECS)
        ),
        Halt::Moving => format!(
            "after run {} was listed: it is complete and on the runs page; the store had not answered a move of latest, so latest may or may not name it (the next publish of the branch moves latest)",
            p.run
        ),
        at => format!("{}: {}", where_(at), withdraw(p).await),
    };
    Stopped {
        signal: halted.signal,
        what,
    }
}

fn where_(at: Halt) -> String {
    match at {
        Halt::Uploading { landed, total } => {
            format!("during the upload ({landed} of {total} files had landed)")
        }
        Halt::Generating { landed } => {
            format!("while the report was being made ({landed} of its files had been uploaded)")
        }
        Halt::Uploaded => "after the upload, before the run was listed".into(),
        _ => "before the upload".into(),
    }
}

/// Remove the unlisted run's files, then give its id up (in that order, so
/// a rerun never finds its own files deleted under it).
async fn withdraw(p: &mut Prepared) -> String {
    let run = p.run.clone();
    let Some(claim) = p.claim.take() else {
        return format!("nothing was written; run {run} was not published");
    };
    let files = remove_files(p, REMOVE).await;
    let id = match tokio::time::timeout(GIVE_UP, claim.abandon()).await {
        Ok(Ok(())) => format!("publish again with --run-id {run} now"),
        Ok(Err(e)) => given_up_failed(&run.to_string(), &e.to_string()),
        Err(_) => given_up_failed(&run.to_string(), "the store did not answer in time"),
    };
    format!("run {run} was not published and nothing of it is listed; {files}; {id}")
}

/// A run that failed before it was listed: its uploaded files removed (the
/// claim is given up after, by the failed publish). No signal is waiting,
/// so the removal has longer than a stop's.
pub async fn remove_unlisted(p: &Prepared) -> String {
    let files = remove_files(p, REMOVE_AFTER_FAILURE).await;
    format!("Run {} was not published: {files}", p.run)
}

async fn remove_files(p: &Prepared, within: Duration) -> String {
    let run = &p.run;
    let removed =
        tokio::time::timeout(within, state::run_files::delete(&p.store, &p.layout, run)).await;
    match removed {
        Ok(Ok(0)) => "nothing of it had been written".to_string(),
        Ok(Ok(n)) => format!("the {n} files it had uploaded were removed"),
        Ok(Err(e)) => format!(
            "its uploaded files could not be removed ({e}) and go when run id {run} is published again"
        ),
        Err(_) => format!(
            "its uploaded files were not all removed within {} s and go when run id {run} is published again",
            within.as_secs()
        ),
    }
}

/// Stopped while the store had not answered the run id's claim: whether it
/// landed is unknown.
pub fn claim_unanswered(signal: Signal, run: Option<&str>) -> Stopped {
    let what = match run {
        Some(run) => format!(
            "before the upload: the store had not answered while run id {run} was being claimed, so nothing was published; if the claim landed, {}",
            after_lease(run)
        ),
        None => "before the upload: the store had not answered while a run id was being claimed, so nothing was published; publish again".into(),
    };
    Stopped { signal, what }
}

fn given_up_failed(run: &str, why: &str) -> String {
    format!(
        "its claim could not be given up ({why}), so {}",
        after_lease(run)
    )
}

/// When `run` can be published again if its claim stays (the lease lapses
/// at most `LEASE_SECS` from now: a claim is stamped before it is sent).
fn after_lease(run: &str) -> String {
    let at = Utc::now().timestamp() + LEASE_SECS;
    format!(
        "run id {run} can be published again after {} (its lease lapses), or now under another id",
        crate::model::claim::clock(at)
    )
}
