//! The writes, in the order that keeps readers safe: the whole run (into a
//! folder claimed beforehand), then the manifest (and the pages derived
//! from it), then the latest pointers (never backwards), then the project
//! page, then what readers no longer need: pytest-allure-host's stale copy
//! under `latest/` and the files of runs the manifest no longer lists.
//! A signal is heeded between the steps (and between uploads): nothing is
//! listed, and latest never moves, after one.

use std::time::Instant;

use anyhow::{Result, bail};
use chrono::Utc;

use super::halt::{Halt, Halted};
use super::prepare::Prepared;
use super::secs;
use super::stage::Staged;
use crate::model::manifest::{Manifest, RunEntry};
use crate::model::pointer::{BranchEntry, LatestPointer};
use crate::model::retention::Rules;
use crate::model::run_id::RunId;
use crate::output::Output;
use crate::settings::Settings;
use crate::state;
use crate::stop::Stop;
use crate::transfer::{self, Progress};

/// Seconds spent in each write phase.
#[derive(Debug, Default, Clone, Copy)]
pub struct CommitTimings {
    pub upload: f64,
    pub manifest: f64,
    pub latest: f64,
}

pub struct Committed {
    pub latest_moved: bool,
    pub pruned_runs: Vec<String>,
    pub timings: CommitTimings,
}

impl Committed {
    /// A dry run: nothing written; `pruned` would have been removed.
    pub fn nothing(pruned: Vec<String>) -> Self {
        Self {
            latest_moved: false,
            pruned_runs: pruned,
            timings: CommitTimings::default(),
        }
    }
}

pub async fn commit(
    settings: &Settings,
    p: &Prepared,
    s: &mut Staged,
    stop: &Stop,
    out: &Output,
) -> Result<Committed> {
    let t = Instant::now();
    upload(settings, p, s, stop, out).await?;
    let upload_secs = secs(t);

    let t = Instant::now();
    heed(stop, Halt::Uploaded)?;
    state::assets::ensure(&p.store, &p.layout).await?;
    heed(stop, Halt::Uploaded)?;
    let (manifest, pruned) = within_stop(stop, Halt::Listing, list_run(settings, p, s)).await?;
    let manifest_secs = secs(t);

    if let Some(signal) = stop.requested() {
        // Listed runs are no longer reachable from the manifest: their files
        // go now or never, and removing them shows readers nothing new.
        let _ = tokio::time::timeout(transfer::DRAIN, remove_pruned(p, &pruned, out)).await;
        return Err(Halted {
            signal,
            at: Halt::Listed,
        }
        .into());
    }
    let t = Instant::now();
    let latest_moved = within_stop(stop, Halt::Moving, move_latest(settings, p)).await?;
    let entry = branch_entry(p, s, &manifest);
    let record = state::project::record(&p.store, &p.layout, &settings.project, entry);
    within_stop(stop, Halt::Moving, async { Ok(record.await?) }).await?;
    let latest_secs = secs(t);

    if latest_moved
        && p.branch_pointer
            .pointer()
            .is_none_or(LatestPointer::is_foreign)
    {
        let removed = state::legacy::remove_latest_copy(&p.store, &p.layout).await?;
        state::legacy::retire_trend_page(&p.store, &p.layout).await?;
        if removed > 0 {
            out.note(format_args!(
                "Removed the {removed} files of the report copy another tool kept under latest/"
            ));
        }
    }
    remove_pruned(p, &pruned, out).await?;
    Ok(Committed {
        latest_moved,
        pruned_runs: pruned.into_iter().map(|r| r.run_id).collect(),
        timings: CommitTimings {
            upload: upload_secs,
            manifest: manifest_secs,
            latest: latest_secs,
        },
    })
}

/// Retention at publish: `--max-keep-runs`, plus expired and gone runs.
pub fn rules(settings: &Settings) -> Rules {
    Rules {
        keep: settings.max_keep_runs.map(std::num::NonZeroU32::get),
        max_age_days: None,
    }
}

/// Stop here when a signal asked for it.
fn heed(stop: &Stop, at: Halt) -> Result<()> {
    match stop.requested() {
        Some(signal) => Err(Halted { signal, at }.into()),
        None => Ok(()),
    }
}

/// `step`, which a signal does not cut short at once (what it writes must
/// be known to have landed or not) but gives `DRAIN` to end; past that it
/// is dropped, and `at` says its outcome is unknown.
async fn within_stop<T>(stop: &Stop, at: Halt, step: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::pin!(step);
    let signal = tokio::select! {
        done = &mut step => return done,
        signal = stop.asked() => signal,
    };
    match tokio::time::timeout(transfer::DRAIN, step).await {
        Ok(done) => done,
        Err(_) => Err(Halted { signal, at }.into()),
    }
}

/// The whole run, before anything points at it.
async fn upload(
    settings: &Settings,
    p: &Prepared,
    s: &mut Staged,
    stop: &Stop,
    out: &Output,
) -> Result<()> {
    let uploads = std::mem::take(&mut s.uploads);
    let files = uploads.len();
    let progress = Progress::new(files as u64, s.entry.size, out);
    let done = transfer::upload_all(&p.store, uploads, settings.concurrency, &progress, stop).await;
    if let Some(signal) = done.stopped {
        return Err(Halted {
            signal,
            at: Halt::Uploading {
                landed: done.landed,
                total: files,
            },
        }
        .into());
    }
    if let Some((key, err)) = done.failures.first() {
        bail!(
            "{} of {files} report files failed to upload (first: {key}: {err}); the manifest and latest were not changed, so publish again to complete run {}",
            done.failures.len(),
            p.run
        );
    }
    Ok(())
}

/// Add the run to the manifest (and its pages) while the claim still holds,
/// then mark the claim published. Returns the manifest as written and the
/// runs retention dropped.
async fn list_run(
    settings: &Settings,
    p: &Prepared,
    s: &Staged,
) -> Result<(Manifest, Vec<RunEntry>)> {
    if let Some(claim) = &p.claim
        && !claim.still_held()
    {
        bail!(
            "the claim on run {} lapsed while it was uploaded (the store was unreachable for over {} s), so another publisher may have taken it; the run was not listed: publish again",
            p.run,
            crate::model::claim::LEASE_SECS
        );
    }
    let gone = state::run_files::gone(&p.store, &p.layout, &p.manifest).await?;
    let (manifest, pruned) = state::manifest::add_run(
        &p.store,
        &p.layout,
        s.entry.clone(),
        &rules(settings),
        &gone,
    )
    .await?;
    if let Some(claim) = &p.claim {
        claim.published().await?;
    }
    Ok((manifest, pruned))
}

/// The leg's pointer, then the branch's. Returns true when the branch's moved.
async fn move_latest(settings: &Settings, p: &Prepared) -> Result<bool> {
    if let Some(leg) = &settings.variant {
        let pointer = pointer(settings, p, Some(leg));
        state::latest::advance(&p.store, &p.layout.leg_pointer(leg), &pointer).await?;
    }
    let pointer = pointer(settings, p, None);
    Ok(state::latest::advance(&p.store, &p.layout.latest_pointer(), &pointer).await?)
}

fn pointer(settings: &Settings, p: &Prepared, leg: Option<&String>) -> LatestPointer {
    LatestPointer {
        run_id: p.run.to_string(),
        run_url: p.urls.run.clone(),
        latest_url: match leg {
            Some(_) => p.urls.latest.clone(),
            None => p.urls.branch_latest.clone(),
        },
        project: settings.project.clone(),
        branch: settings.branch.clone(),
        build_order: p.build_order,
        time: Utc::now().timestamp(),
        variant: leg.cloned(),
    }
}

fn branch_entry(p: &Prepared, s: &Staged, manifest: &Manifest) -> BranchEntry {
    BranchEntry {
        branch: s.entry.branch.clone(),
        segment: p.layout.branch_segment().to_string(),
        run_id: p.run.to_string(),
        build_order: p.build_order,
        time: Utc::now().timestamp(),
        stats: s.report.stats,
        recent: BranchEntry::recent_of(manifest),
        runs: manifest.runs.len() as u64,
    }
}

/// Retention: the manifest no longer lists these runs; remove their files.
async fn remove_pruned(p: &Prepared, pruned: &[RunEntry], out: &Output) -> Result<()> {
    for entry in pruned {
        let Ok(run) = RunId::new(entry.run_id.clone()) else {
            out.warning(&format!(
                "cannot locate files of pruned run {:?}",
                entry.run_id
            ));
            continue;
        };
        let deleted = state::run_files::delete_with_claim(&p.store, &p.layout, &run).await?;
        out.note(format_args!(
            "Retention: deleting run {run} ({deleted} files)"
        ));
    }
    Ok(())
}
