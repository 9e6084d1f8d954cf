//! Results -> report, by the engine the settings name: the history of the
//! run it continues is carried in first, and the engine installed on first
//! use if missing.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use super::prepare::Prepared;
use super::secs;
use super::stage::StageTimings;
use super::stream::{During, Streamed};
use crate::model::engine::{Engine, HISTORY_JSONL};
use crate::output::Output;
use crate::report::allure_cli::{self, AllureCli};
use crate::report::allure3::{self, Allure3};
use crate::report::completed::{self, Announcer};
use crate::report::executor::{self, ExecutorInput};
use crate::report::results_view;
use crate::settings::Settings;
use crate::state::history;

/// What generating came to: the report folder, the seconds spent, the files
/// uploaded meanwhile, and (single-file) where its tests were written.
pub struct Generated {
    pub report: PathBuf,
    pub timings: StageTimings,
    pub streamed: Streamed,
    pub details: Option<PathBuf>,
}

/// Results -> report, with the history of the run it continues and our
/// executor; its files uploaded as Allure closes them, where it can be
/// watched.
pub async fn allure2(
    settings: &Settings,
    p: &Prepared,
    results: &Path,
    work: &Path,
    during: Option<&During<'_>>,
    out: &Output,
) -> Result<Generated> {
    let extra = work.join("extra");
    let t = Instant::now();
    let from = p.history_from.as_ref();
    let carried = history::carry(
        &p.store,
        &p.layout,
        from,
        &extra.join("history"),
        Engine::Allure2,
    )
    .await?;
    let history_secs = secs(t);
    let view = our_executor(settings, p, results, work, &extra)?;
    let t = Instant::now();
    let cli = find_or_install_allure(out).await?;
    let report = work.join("report");
    let history = match from {
        Some(run) => format!("{carried} files carried over from run {run}"),
        None => "none, the first run of its job and leg".into(),
    };
    out.note(format_args!(
        "Generating the report with {} (history: {history})",
        cli.path.display()
    ));
    let inputs = [view.dir.as_path(), extra.as_path()];
    let generation = cli.generate(&inputs, &report);
    let (generated, streamed) = match during.zip(watch(&report)) {
        Some((during, watch)) => during.run(generation, watch, &report).await,
        None => (generation.await, Streamed::default()),
    };
    generated?;
    Ok(Generated {
        report,
        timings: StageTimings {
            history: history_secs,
            generate: secs(t),
        },
        streamed,
        details: None,
    })
}

/// A watch on the report Allure 2 is about to make; none where the system
/// has no inotify (or refuses one): then the files go after it is done.
#[cfg(target_os = "linux")]
fn watch(report: &Path) -> Option<Announcer> {
    completed::Watch::new(report).ok().map(Announcer::Watch)
}

#[cfg(not(target_os = "linux"))]
fn watch(_report: &Path) -> Option<Announcer> {
    None
}

/// Our executor.json in `extra`, adopting the name and build link of the
/// one the results brought; and the results for Allure to read, without
/// theirs, so the report has one executor.
fn our_executor(
    settings: &Settings,
    p: &Prepared,
    results: &Path,
    work: &Path,
    extra: &Path,
) -> Result<results_view::View> {
    let ours = executor::executor(ExecutorInput {
        ci_name: settings.ci.kind.name(),
        ci_kind: settings.ci.kind.kind(),
        project: &settings.place.project,
        branch: &settings.place.branch,
        run_id: p.run.as_str(),
        build_order: p.build_order,
        build_url: settings.ci.build_url.as_ref().map(|u| u.as_str()),
        report_url: &p.urls.run,
    });
    let view = results_view::without_executor(results, &work.join("results-view"))?;
    let exec = match &view.their_executor {
        Some(theirs) => executor::adopt(ours, theirs),
        None => ours,
    };
    std::fs::create_dir_all(extra).with_context(|| format!("cannot create {}", extra.display()))?;
    std::fs::write(
        extra.join(results_view::EXECUTOR_JSON),
        serde_json::to_vec_pretty(&exec)?,
    )?;
    Ok(view)
}

/// Results -> Allure 3 report, its JSONL history carried from the run it
/// continues and grown by this run, whose URL each new entry links to; each
/// file uploaded as soon as the driver names it written.
pub async fn allure3(
    settings: &Settings,
    p: &Prepared,
    results: &Path,
    work: &Path,
    during: Option<&During<'_>>,
    out: &Output,
) -> Result<Generated> {
    let t = Instant::now();
    let carried_dir = work.join("history");
    let from = p.history_from.as_ref();
    let carried = history::carry(&p.store, &p.layout, from, &carried_dir, Engine::Allure3).await?;
    let history_secs = secs(t);
    let extra = work.join("extra");
    let view = our_executor(settings, p, results, work, &extra)?;
    let t = Instant::now();
    let allure = find_or_install_allure3(out).await?;
    let history = match from {
        Some(run) if carried > 0 => format!("continued from run {run}"),
        Some(run) => format!("run {run} left none, so the trend starts here"),
        None => "none, the first run of its job and leg".into(),
    };
    out.note(format_args!(
        "Generating the report with Allure {} on {} (history: {history})",
        allure.version,
        allure.node.display()
    ));
    let report = work.join("report");
    let history_file = carried_dir.join(HISTORY_JSONL);
    let name = format!("{} ({})", settings.place.project, settings.place.branch);
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let socket = match during {
        Some(_) => Some(
            completed::Socket::bind(work).context("cannot open a socket for Allure 3's files")?,
        ),
        None => None,
    };
    let announce = socket.as_ref().map(|s| s.path().to_path_buf());
    let details = settings.report.single_file.then(|| work.join("details"));
    let job = allure3::Job {
        results: &[view.dir.as_path(), extra.as_path()],
        output: &report,
        history: &history_file,
        base_url: p.urls.run.trim_end_matches("index.html"),
        name: &name,
        cwd: &cwd,
        announce: announce.as_deref(),
        single_file: details.as_deref(),
    };
    let generation = allure.generate(&job);
    let (generated, streamed) = match during.zip(socket) {
        Some((during, socket)) => {
            during
                .run(generation, Announcer::Socket(socket), &report)
                .await
        }
        None => (generation.await, Streamed::default()),
    };
    generated?;
    // The grown history travels with the run, for the next run to continue.
    let kept = report.join("history");
    std::fs::create_dir_all(&kept)?;
    std::fs::copy(&history_file, kept.join(HISTORY_JSONL))
        .context("Allure 3 wrote no history file")?;
    Ok(Generated {
        report,
        timings: StageTimings {
            history: history_secs,
            generate: secs(t),
        },
        streamed,
        details,
    })
}

async fn find_or_install_allure3(out: &Output) -> Result<Allure3> {
    if let Some(allure) = Allure3::find()? {
        return Ok(allure);
    }
    out.note(format_args!(
        "Allure 3 not found; installing allure@{} with npm ci into {} (first use only)",
        allure3::PIN.version(),
        Allure3::install_dir().display()
    ));
    Allure3::install().await
}

async fn find_or_install_allure(out: &Output) -> Result<AllureCli> {
    if let Some(cli) = AllureCli::find()? {
        return Ok(cli);
    }
    out.note(format_args!(
        "Allure CLI not found; installing allure-commandline@{} with npm ci into {} (first use only)",
        allure_cli::PIN.version(),
        AllureCli::install_dir().display()
    ));
    AllureCli::install().await
}
