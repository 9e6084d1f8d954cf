//! The writes: the publish's plan (`model::publish_plan`), carried out step
//! by step in the order that keeps readers safe. A signal is heeded between
//! the steps (and between uploads): nothing is listed, and latest never
//! moves, after one. A badge is written only beside a pointer that moved
//! to this run.

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::{Result, bail};
use chrono::Utc;

use super::halt::{Halt, Halted};
use super::prepare::Prepared;
use super::secs;
use super::stage::Staged;
use crate::model::badge::Badge;
use crate::model::manifest::{Manifest, RunEntry};
use crate::model::pointer::{BranchEntry, LatestPointer};
use crate::model::publish_plan::{self, Step};
use crate::model::run_id::RunId;
use crate::model::test_history::{LineKey, RunRef, TestHistory};
use crate::output::Output;
use crate::settings::Settings;
use crate::state;
use crate::state::StateError;
use crate::state::test_history::{Branch, Record};
use crate::stop::Stop;
use crate::transfer::{self, Feed, Progress, Upload};

/// Seconds spent in each write phase.
#[derive(Debug, Default, Clone, Copy)]
pub struct CommitTimings {
    pub upload: f64,
    pub manifest: f64,
    pub latest: f64,
    pub tests: f64,
}

pub struct Committed {
    pub latest_moved: bool,
    /// The branch's test history as this publish wrote it.
    pub history: Option<TestHistory>,
    pub pruned_runs: Vec<String>,
    /// The steps carried out, as the plan named them (a conditional step
    /// that did not apply is left out).
    pub steps: Vec<Step>,
    pub timings: CommitTimings,
}

impl Committed {
    /// A dry run: nothing written; `pruned` would have been removed.
    pub fn nothing(pruned: Vec<String>) -> Self {
        Self {
            latest_moved: false,
            history: None,
            pruned_runs: pruned,
            steps: Vec::new(),
            timings: CommitTimings::default(),
        }
    }
}

/// What the plan and the steps done so far found.
#[derive(Default)]
struct Found {
    /// Listed runs whose folders are gone, read once by the plan.
    gone: BTreeSet<String>,
    manifest: Option<Manifest>,
    dropped: Vec<RunEntry>,
    latest_moved: bool,
    /// The leg's pointer moved to this run.
    leg_moved: bool,
    history: Option<TestHistory>,
    /// The uploads begun while the report was made; the upload step ends them.
    feed: Option<Feed>,
}

/// Carry out the plan, step by step, heeding a signal between them.
pub async fn commit(
    settings: &Settings,
    p: &Prepared,
    s: &mut Staged,
    feed: Feed,
    stop: &Stop,
    out: &Output,
) -> Result<Committed> {
    let (mut plan, gone) = super::plan::steps(settings, p, s).await?;
    let mut found = Found {
        gone,
        feed: Some(feed),
        ..Found::default()
    };
    let mut done = Vec::new();
    let mut timings = CommitTimings::default();
    let mut i = 0;
    while i < plan.len() {
        let t = Instant::now();
        let applied = carry_out(&plan[i], settings, p, s, stop, out, &mut found).await?;
        if let Step::Manifest { .. } = plan[i] {
            let listed: Vec<String> = found.dropped.iter().map(|r| r.run_id.clone()).collect();
            publish_plan::dropped_as_listed(&mut plan, &listed);
        }
        *phase(&mut timings, &plan[i]) += secs(t);
        if applied {
            done.push(plan[i].clone());
        }
        i += 1;
    }
    Ok(Committed {
        latest_moved: found.latest_moved,
        history: found.history,
        pruned_runs: found.dropped.into_iter().map(|r| r.run_id).collect(),
        steps: done,
        timings,
    })
}

/// The timing a step's seconds count in.
fn phase<'t>(t: &'t mut CommitTimings, step: &Step) -> &'t mut f64 {
    match step {
        Step::Claim { .. } | Step::Upload { .. } => &mut t.upload,
        Step::Assets { .. } | Step::Manifest { .. } => &mut t.manifest,
        Step::History { .. } => &mut t.tests,
        _ => &mut t.latest,
    }
}

/// One step. False when it did not apply (a conditional step).
async fn carry_out(
    step: &Step,
    settings: &Settings,
    p: &Prepared,
    s: &mut Staged,
    stop: &Stop,
    out: &Output,
    found: &mut Found,
) -> Result<bool> {
    match step {
        // Held since `prepare`, before the report was made.
        Step::Claim { .. } => {}
        Step::Upload { .. } => {
            let feed = found.feed.take().expect("one upload step");
            upload(p, s, feed, settings.concurrency, stop, out).await?
        }
        Step::Assets { .. } => {
            heed(stop, Halt::Uploaded)?;
            state::assets::ensure(&p.store, &p.layout).await?;
        }
        Step::Manifest { .. } => {
            heed(stop, Halt::Uploaded)?;
            let (manifest, dropped) =
                within_stop(stop, Halt::Listing, list_run(settings, p, s, &found.gone)).await?;
            found.manifest = Some(manifest);
            found.dropped = dropped;
            stop_after_listing(p, stop, &found.dropped, out).await?;
        }
        Step::Latest { key, leg } => {
            let pointer = pointer(settings, p, leg.as_ref());
            let advance = state::latest::advance(&p.store, key, &pointer);
            let moved = within_stop(stop, Halt::Moving, async { Ok(advance.await?) }).await?;
            match leg {
                None => found.latest_moved = moved,
                Some(_) => found.leg_moved = moved,
            }
        }
        Step::Badge { key, leg } => {
            let moved = match leg {
                None => found.latest_moved,
                Some(_) => found.leg_moved,
            };
            if !moved {
                return Ok(false);
            }
            let badge = Badge::of_run(&s.report.stats, s.quality_gate.as_ref(), leg.as_deref());
            let write = state::badge::write(&p.store, key, &badge, p.build_order);
            // Latest has moved: a badge that cannot be written is a
            // warning, not a failed publish.
            match within_stop(stop, Halt::Moving, async { Ok(write.await) }).await? {
                Ok(written) => return Ok(written),
                Err(e) => {
                    out.warning(&format!(
                        "the run is published, but its badge {key} was not updated: {e}"
                    ));
                    return Ok(false);
                }
            }
        }
        Step::Project { .. } => {
            let manifest = found
                .manifest
                .as_ref()
                .expect("the manifest step comes first");
            let entry = branch_entry(p, s, manifest);
            let record =
                state::project::record(&p.store, &p.layout, &settings.place.project, entry);
            within_stop(stop, Halt::Moving, async { Ok(record.await?) }).await?;
        }
        Step::History { .. } => {
            let record = record_history(settings, p, s, &found.dropped);
            // The run is listed and latest has moved: a history that cannot
            // be written is a warning, not a failed publish.
            match within_stop(stop, Halt::Moving, async { Ok(record.await) }).await? {
                Ok(history) => found.history = Some(history),
                Err(e) => out.warning(&format!(
                    "the run is published, but the test history, tests page and flaky.json were not updated: {e}"
                )),
            }
        }
        Step::ForeignLatest { .. } => {
            if !found.latest_moved {
                return Ok(false);
            }
            remove_foreign_latest(p, out).await?;
        }
        Step::DeleteRuns { .. } => remove_pruned(p, &found.dropped, out).await?,
    }
    Ok(true)
}

/// Listed runs are no longer reachable from the manifest: on a signal,
/// their files go now or never (removing them shows readers nothing new),
/// and the publish stops before latest moves.
async fn stop_after_listing(
    p: &Prepared,
    stop: &Stop,
    dropped: &[RunEntry],
    out: &Output,
) -> Result<()> {
    let Some(signal) = stop.requested() else {
        return Ok(());
    };
    let _ = tokio::time::timeout(transfer::DRAIN, remove_pruned(p, dropped, out)).await;
    Err(Halted {
        signal,
        at: Halt::Listed,
    }
    .into())
}

/// Another tool's report copy under `latest/`, now that ours has moved.
async fn remove_foreign_latest(p: &Prepared, out: &Output) -> Result<()> {
    let removed = state::legacy::remove_latest_copy(&p.store, &p.layout).await?;
    state::legacy::retire_trend_page(&p.store, &p.layout).await?;
    if removed > 0 {
        out.note(format_args!(
            "Removed the {removed} files of the report copy another tool kept under latest/"
        ));
    }
    Ok(())
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

/// The whole run, before anything points at it: what the report's making
/// did not already send, then what it wrote again (after the first copies
/// landed), then the strays it sent and moved or removed are deleted.
/// `feed`: the one the report's making started; the second runs at the
/// same `concurrency`.
async fn upload(
    p: &Prepared,
    s: &mut Staged,
    feed: Feed,
    concurrency: usize,
    stop: &Stop,
    out: &Output,
) -> Result<()> {
    let total = s.entry.files as usize;
    if s.streamed > 0 {
        out.note(format_args!(
            "{} of {total} report files were sent while the report was made",
            s.streamed
        ));
    }
    let rest = std::mem::take(&mut s.uploads);
    let again = std::mem::take(&mut s.again);
    let (pending_files, pending_bytes) = feed.pending();
    let files = rest.len() + again.len() + pending_files as usize;
    let bytes: u64 = rest.iter().chain(&again).map(|u| u.size).sum();
    let progress = Progress::new(files as u64, bytes + pending_bytes, out);
    let mut done = send_all(feed, rest, Some(progress)).await;
    if !again.is_empty() && done.stopped.is_none() && done.failures.is_empty() {
        let feed = Feed::start(&p.store, concurrency, stop);
        let second = send_all(feed, again, None).await;
        done.landed += second.landed;
        done.failures.extend(second.failures);
        done.stopped = second.stopped;
    }
    if let Some(signal) = done.stopped {
        let at = Halt::Uploading {
            landed: done.landed,
            total,
        };
        return Err(Halted { signal, at }.into());
    }
    if let Some((key, err)) = done.failures.first() {
        bail!(
            "{} of {total} report files failed to upload (first: {key}: {err}); the manifest and latest were not changed, so publish again to complete run {}",
            done.failures.len(),
            p.run
        );
    }
    let strays: Vec<String> = s.strays.iter().map(|k| k.as_str().to_string()).collect();
    if !strays.is_empty() {
        p.store.delete(strays).await?;
    }
    Ok(())
}

async fn send_all(
    feed: Feed,
    uploads: Vec<Upload>,
    progress: Option<Progress>,
) -> transfer::Uploaded {
    if let Some(progress) = progress {
        feed.show(progress);
    }
    for upload in uploads {
        if !feed.send(upload).await {
            break;
        }
    }
    feed.finish().await
}

/// Add the run to the manifest (and its pages) while the claim still holds,
/// then mark the claim published. Returns the manifest as written and the
/// runs retention dropped.
async fn list_run(
    settings: &Settings,
    p: &Prepared,
    s: &Staged,
    gone: &BTreeSet<String>,
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
    let (manifest, pruned) = state::manifest::add_run(
        &p.store,
        &p.layout,
        s.entry.clone(),
        &super::plan::rules(&settings.retention),
        gone,
    )
    .await?;
    if let Some(claim) = &p.claim {
        claim.published().await?;
    }
    Ok((manifest, pruned))
}

/// The run's tests into its line's history; the dropped runs forgotten.
async fn record_history(
    settings: &Settings,
    p: &Prepared,
    s: &Staged,
    dropped: &[RunEntry],
) -> Result<TestHistory, StateError> {
    let dropped: BTreeSet<String> = dropped.iter().map(|r| r.run_id.clone()).collect();
    let branch = Branch {
        layout: &p.layout,
        project: &settings.place.project,
        branch: &settings.place.branch,
    };
    let record = Record {
        line: LineKey {
            job: settings.place.job.as_deref(),
            variant: settings.place.variant.as_deref(),
        },
        run: RunRef {
            id: p.run.to_string(),
            build_order: p.build_order,
            commit: settings.report.commit.clone(),
            time: s.entry.time,
            allure: s.entry.allure,
        },
        tests: &s.tests,
        dropped: &dropped,
        window: settings.tests.window,
        thresholds: settings.tests.thresholds,
    };
    state::test_history::record(&p.store, branch, &record).await
}

fn pointer(settings: &Settings, p: &Prepared, leg: Option<&String>) -> LatestPointer {
    LatestPointer {
        run_id: p.run.to_string(),
        run_url: p.urls.run.clone(),
        latest_url: match leg {
            Some(_) => p.urls.latest.clone(),
            None => p.urls.branch_latest.clone(),
        },
        project: settings.place.project.clone(),
        branch: settings.place.branch.clone(),
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
