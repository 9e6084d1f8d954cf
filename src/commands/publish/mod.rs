//! `allure-host publish`, in phases:
//! `prepare` (where, as what, the run id claimed) -> `stage` (the report and
//! what to upload) -> `plan` (the steps, from what those found) -> `commit`
//! (the steps carried out: upload -> manifest -> latest -> project page ->
//! cleanup). `--dry-run` prints the plan instead of carrying it out. Readers see a complete
//! report at every instant: the run is fully uploaded before anything points
//! at it. A SIGINT / SIGTERM stops the publish at its next safe point
//! (`halt`).

mod commit;
mod compare;
mod generate;
mod halt;
mod plan;
mod prepare;
mod stage;
mod stream;

use std::time::Instant;

use anyhow::Result;

use crate::model::summary::{PreviousRun, PublishSummary, QUALITY_GATE_FAILED, Timings};
use crate::model::test_board::{self, SUMMARY_ROWS, TestsSummary};
use crate::output::Output;
use crate::settings::{Settings, Target};
use crate::stop::Stop;
use crate::transfer::{DRAIN, Feed};

use commit::Committed;
use halt::{Halt, Halted};
use prepare::Prepared;
use stage::Staged;

/// Signals are process-wide, so the publish listens to the process's
/// handler (`Stop::current`) rather than one passed down.
pub async fn run(settings: &Settings, dry_run: bool, out: &Output) -> Result<PublishSummary> {
    let stop = Stop::current();
    let _graceful = stop.graceful();
    let started = Instant::now();
    let mut prepared = prepare_within_stop(settings, dry_run, &stop, out).await?;
    let result = match stop.requested() {
        Some(signal) => Err(Halted {
            signal,
            at: Halt::BeforeUpload,
        }
        .into()),
        None => stage_and_write(settings, &prepared, dry_run, &stop, out).await,
    };
    match result {
        Ok((staged, committed)) => Ok(summarize(settings, &prepared, staged, committed, started)),
        Err(e) => match e.downcast_ref::<Halted>() {
            Some(halted) => Err(halt::settle(&mut prepared, halted).await.into()),
            None => {
                // A run id given up at once can be published again at once.
                if let Some(claim) = prepared.claim.take() {
                    let _ = claim.abandon().await;
                }
                Err(e)
            }
        },
    }
}

/// `prepare`, not cut short at a signal (a claim being written must be
/// known to be ours or not) but given `DRAIN` to end: a store that has not
/// answered by then leaves the claim unknown, and the stop says so.
async fn prepare_within_stop(
    settings: &Settings,
    dry_run: bool,
    stop: &Stop,
    out: &Output,
) -> Result<Prepared> {
    let prepare = prepare::prepare(settings, dry_run, out);
    tokio::pin!(prepare);
    let signal = tokio::select! {
        prepared = &mut prepare => return prepared,
        signal = stop.asked() => signal,
    };
    match tokio::time::timeout(DRAIN, prepare).await {
        Ok(prepared) => prepared,
        Err(_) => Err(halt::claim_unanswered(signal, settings.place.run_id.as_deref()).into()),
    }
}

async fn stage_and_write(
    settings: &Settings,
    prepared: &Prepared,
    dry_run: bool,
    stop: &Stop,
    out: &Output,
) -> Result<(Staged, Committed)> {
    // The report's files go as they are made, into a run folder nothing
    // lists yet; a signal cuts the making short.
    let feed = (!dry_run).then(|| Feed::start(&prepared.store, settings.concurrency, stop));
    let staged = tokio::select! {
        staged = stage::stage(settings, prepared, feed.as_ref(), out) => staged,
        signal = stop.asked() => Err(Halted { signal, at: Halt::BeforeUpload }.into()),
    };
    let mut staged = match staged {
        Ok(staged) => staged,
        Err(e) => return Err(unmade(prepared, feed, e, out).await),
    };
    let committed = match feed {
        None => {
            let plan = plan::dry_run(settings, prepared, &staged).await?;
            out.plan(&plan);
            Committed::nothing(plan.dropped())
        }
        Some(feed) => commit::commit(settings, prepared, &mut staged, feed, stop, out).await?,
    };
    Ok((staged, committed))
}

/// The report could not be made (or a signal stopped it): what went while
/// it was being made is cut off, and removed unless a signal's stop does
/// that (`halt::settle`).
async fn unmade(p: &Prepared, feed: Option<Feed>, e: anyhow::Error, out: &Output) -> anyhow::Error {
    // A cut-off upload may still have been stored: anything handed over
    // counts as possibly in the run folder.
    let (handed, landed) = match feed {
        Some(feed) => (feed.sent().0, feed.cancel().await.landed),
        None => (0, 0),
    };
    match e.downcast::<Halted>() {
        Ok(mut halted) => {
            if landed > 0 {
                halted.at = Halt::Generating { landed };
            }
            halted.into()
        }
        Err(e) => {
            if handed > 0 {
                out.note(format_args!("{}", halt::remove_unlisted(p).await));
            }
            e
        }
    }
}

/// Seconds since `since`, to the millisecond.
fn secs(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1000.0).round() / 1000.0
}

/// The run this one continues, as the manifest listed it, and what failed
/// since, as the test history says.
fn previous_run(settings: &Settings, p: &Prepared, c: &Committed) -> Option<PreviousRun> {
    let id = p.history_from.as_ref()?;
    let entry = p.manifest.runs.iter().find(|e| e.run_id == id.as_str())?;
    let place = &settings.place;
    Some(PreviousRun {
        run_id: entry.run_id.clone(),
        status: match entry.quality_gate_failed {
            true => QUALITY_GATE_FAILED,
            false => entry.stats.status(),
        },
        red: entry.red(),
        newly_failing: c.history.as_ref().map(|h| {
            let th = &settings.tests.thresholds;
            test_board::new_on_line(h, place.job.as_deref(), place.variant.as_deref(), th)
        }),
    })
}

fn summarize(
    settings: &Settings,
    p: &Prepared,
    s: Staged,
    c: Committed,
    started: Instant,
) -> PublishSummary {
    let previous = previous_run(settings, p, &c);
    PublishSummary {
        run_id: p.run.to_string(),
        project: settings.place.project.clone(),
        branch: settings.place.branch.clone(),
        build_order: p.build_order,
        run_url: p.urls.run.clone(),
        latest_url: p.urls.latest.clone(),
        branch_latest_url: p.urls.branch_latest.clone(),
        runs_index_url: p.urls.runs_index.clone(),
        bucket: match &settings.target {
            Target::S3(o) => Some(o.bucket.clone()),
            Target::Local { .. } => None,
        },
        local_dir: p.store.is_local().then(|| p.store.describe()),
        run_prefix: p.layout.run_root(&p.run),
        latest_prefix: match &settings.place.variant {
            Some(leg) => p.layout.leg_latest_prefix(leg),
            None => p.layout.latest_prefix(),
        },
        report_files: s.entry.files,
        report_size_bytes: s.entry.size,
        stats: s.report.stats,
        duration_ms: s.report.duration_ms,
        variant: settings.place.variant.clone(),
        job: settings.place.job.clone(),
        failed_tests: s.failed_tests,
        failed_tests_total: s.failed_tests_total,
        changes: s.changes,
        tests: c.history.as_ref().map(|h| {
            let board = test_board::board(h, &settings.tests.thresholds, SUMMARY_ROWS);
            TestsSummary::of(&board, p.urls.tests.clone(), p.urls.flaky.clone())
        }),
        latest_moved: c.latest_moved,
        pruned_runs: c.pruned_runs,
        steps: c.steps,
        requests: p.store.counts(),
        access: p
            .site_access
            .as_ref()
            .map(|a| crate::model::access::modes_text(&a.modes)),
        links: p.links.clone(),
        allure: s.entry.allure,
        quality_gate: s.quality_gate,
        previous,
        timings: Timings {
            history: s.timings.history,
            generate: s.timings.generate,
            upload: c.timings.upload,
            manifest: c.timings.manifest,
            latest: c.timings.latest,
            tests: c.timings.tests,
            total: secs(started),
        },
    }
}
