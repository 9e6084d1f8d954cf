//! `allure-host publish`: results -> report (with history) -> run prefix ->
//! manifest (compare-and-swap) -> latest pointer (never backwards) -> pages
//! -> retention. Readers see a complete report at every instant: the run is
//! fully uploaded before anything points at it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use chrono::Utc;
use serde::Serialize;

use crate::model::layout::Layout;
use crate::model::manifest::{Manifest, ManifestError, RunEntry};
use crate::model::pointer::{BranchEntry, BuildCounter, LatestPointer, ProjectIndex};
use crate::model::run_id;
use crate::pages;
use crate::report::allure_cli::AllureCli;
use crate::report::executor::{self, ExecutorInput};
use crate::report::failures::{self, FailedTest};
use crate::report::summary::{self, Stats};
use crate::report::{analytics, headers, results};
use crate::settings::{Settings, Source, Target};
use crate::storage::cas::{self, CasError, Step};
use crate::storage::{ObjectMeta, Store};
use crate::transfer::{self, Body, Progress, Upload};

/// History files Allure reads from `results/history/` to continue trends.
const HISTORY_FILES: &[&str] = &[
    "history.json",
    "history-trend.json",
    "duration-trend.json",
    "categories-trend.json",
    "retry-trend.json",
];

#[derive(Debug, Default, Serialize)]
pub struct Timings {
    pub history: f64,
    pub generate: f64,
    pub upload: f64,
    pub manifest: f64,
    pub latest: f64,
    pub total: f64,
}

/// How many failed tests the summary names (the job summary shows them).
pub const FAILED_TESTS_LISTED: usize = 10;

/// What `--summary-json` writes.
#[derive(Debug, Serialize)]
pub struct PublishSummary {
    pub run_id: String,
    pub project: String,
    pub branch: String,
    pub build_order: u64,
    pub run_url: String,
    pub latest_url: String,
    pub runs_index_url: String,
    pub bucket: Option<String>,
    pub local_dir: Option<String>,
    pub run_prefix: String,
    pub latest_prefix: String,
    pub report_files: u64,
    pub report_size_bytes: u64,
    pub stats: Stats,
    pub duration_ms: u64,
    /// The CI matrix leg, when there is one.
    pub variant: Option<String>,
    /// The first failed, then broken, tests (at most `FAILED_TESTS_LISTED`).
    pub failed_tests: Vec<FailedTest>,
    /// Failed plus broken tests in all.
    pub failed_tests_total: usize,
    pub latest_moved: bool,
    pub pruned_runs: Vec<String>,
    pub requests: BTreeMap<&'static str, u64>,
    /// Seconds.
    pub timings: Timings,
}

struct ReportFile {
    rel: String,
    path: PathBuf,
    size: u64,
}

fn secs(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1000.0).round() / 1000.0
}

fn no_cache(key: &str) -> ObjectMeta {
    ObjectMeta {
        content_type: headers::content_type(key),
        cache_control: headers::NO_CACHE,
        tagging: None,
    }
}

/// Public URL of a key: CloudFront when configured, else the store location.
fn url_for(settings: &Settings, store: &Store, key: &str) -> String {
    match &settings.cloudfront {
        Some(base) => format!("{base}/{key}"),
        None => store.location(key),
    }
}

fn cas_err<E: std::fmt::Display>(e: CasError<E>) -> anyhow::Error {
    anyhow!("{e}")
}

pub async fn run(settings: &Settings, dry_run: bool) -> Result<PublishSummary> {
    let started = Instant::now();
    let mut timings = Timings::default();
    let layout = Layout::new(&settings.prefix, &settings.project, &settings.branch)?;
    match &settings.source {
        Source::Results(dir) => {
            let info = results::check(dir)?;
            eprintln!(
                "Results: {} ({} results, {} containers)",
                dir.display(),
                info.results,
                info.containers
            );
        }
        Source::Report(dir) => check_report_dir(dir)?,
    }
    let store = super::open_store(&settings.target, !dry_run).await?;

    let manifest = read_manifest(&store, &layout).await?;
    let (run_id, run_seg) = choose_run_id(settings, &manifest)?;
    let run_root = layout.run_root(&run_seg);
    let run_url = url_for(settings, &store, &format!("{run_root}index.html"));
    let latest_url = url_for(settings, &store, &layout.latest_page());
    let runs_index_url = url_for(settings, &store, &layout.runs_page());
    eprintln!(
        "Publishing {} / {} run {run_id} to {}",
        settings.project,
        settings.branch,
        store.location(&run_root)
    );

    let previous = match store.get(&layout.latest_pointer()).await? {
        Some(obj) => LatestPointer::parse(&obj.body),
        None => None,
    };
    let build_order = if dry_run {
        peek_build_order(&store, &layout, &manifest).await?
    } else {
        reserve_build_order(&store, &layout, &manifest).await?
    };

    let work = tempfile::tempdir().context("cannot create a temporary directory")?;
    let report_dir = match &settings.source {
        Source::Report(dir) => dir.clone(),
        Source::Results(results_dir) => {
            let extra = work.path().join("extra");
            let t = Instant::now();
            let carried = carry_history(&store, &layout, previous.as_ref(), &extra).await?;
            timings.history = secs(t);
            let exec = executor::executor(ExecutorInput {
                ci: &settings.ci,
                project: &settings.project,
                branch: &settings.branch,
                run_id: &run_id,
                build_order,
                build_url: settings.build_url.as_deref(),
                report_url: &run_url,
            });
            std::fs::write(
                extra.join("executor.json"),
                serde_json::to_vec_pretty(&exec)?,
            )?;
            let t = Instant::now();
            let cli = AllureCli::find_or_install().await?;
            let out = work.path().join("report");
            eprintln!(
                "Generating the report with {} (history: {carried} files carried over)",
                cli.path.display()
            );
            cli.generate(&[results_dir.as_path(), extra.as_path()], &out)
                .await?;
            timings.generate = secs(t);
            out
        }
    };

    let files = scan(&report_dir)?;
    let report = summary::parse(
        &std::fs::read(report_dir.join("widgets/summary.json"))
            .context("the report has no widgets/summary.json")?,
    )
    .context("the report's widgets/summary.json is not valid")?;
    let tagging = settings.ttl_days.map(|n| format!("ttl-days={n}"));
    let mut uploads = Vec::with_capacity(files.len());
    for f in &files {
        let key = format!("{run_root}{}", f.rel);
        let meta = ObjectMeta {
            content_type: headers::content_type(&key),
            cache_control: headers::cache_control(&key, true),
            tagging: tagging.clone(),
        };
        let (body, size) = if f.rel == "index.html" && !settings.keep_analytics {
            let html = std::fs::read_to_string(&f.path)?;
            let bytes = analytics::strip(&html).into_bytes();
            let len = bytes.len() as u64;
            (Body::Bytes(bytes), len)
        } else {
            (Body::File(f.path.clone()), f.size)
        };
        uploads.push(Upload {
            key,
            body,
            size,
            meta,
        });
    }
    let report_bytes: u64 = uploads.iter().map(|u| u.size).sum();
    let entry = RunEntry {
        run_id: run_id.clone(),
        time: Utc::now().timestamp(),
        size: report_bytes,
        files: uploads.len() as u64,
        project: settings.project.clone(),
        branch: settings.branch.clone(),
        run_url: run_url.clone(),
        context_url: settings.context_url.clone(),
        passed: report.stats.passed,
        failed: report.stats.failed,
        broken: report.stats.broken,
        skipped: Some(report.stats.skipped),
        unknown: Some(report.stats.unknown),
        total: Some(report.stats.total),
        duration_ms: Some(report.duration_ms),
        build_order: Some(build_order),
        commit: settings.commit.clone(),
        variant: settings.variant.clone(),
        meta: settings
            .meta
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    };
    let (failed_tests, failed_tests_total) = failures::read(&report_dir, FAILED_TESTS_LISTED);
    let mut summary = PublishSummary {
        run_id: run_id.clone(),
        project: settings.project.clone(),
        branch: settings.branch.clone(),
        build_order,
        run_url,
        latest_url,
        runs_index_url,
        bucket: match &settings.target {
            Target::S3(o) => Some(o.bucket.clone()),
            Target::Local { .. } => None,
        },
        local_dir: store.is_local().then(|| store.describe()),
        run_prefix: run_root.clone(),
        latest_prefix: format!("{}latest/", layout.branch_root()),
        report_files: uploads.len() as u64,
        report_size_bytes: report_bytes,
        stats: report.stats,
        duration_ms: report.duration_ms,
        variant: settings.variant.clone(),
        failed_tests,
        failed_tests_total,
        latest_moved: false,
        pruned_runs: Vec::new(),
        requests: BTreeMap::new(),
        timings,
    };

    if dry_run {
        let pruned = manifest.would_prune(&entry, settings.max_keep_runs);
        print_plan(&store, &layout, &summary, &pruned).await?;
        summary.pruned_runs = pruned.into_iter().map(|r| r.run_id).collect();
        summary.requests = store.counts();
        summary.timings.total = secs(started);
        return Ok(summary);
    }

    // 1. The whole run, before anything points at it.
    let t = Instant::now();
    let progress = Progress::new(uploads.len() as u64, report_bytes);
    let failures = transfer::upload_all(&store, uploads, settings.concurrency, &progress).await;
    if let Some((key, err)) = failures.first() {
        bail!(
            "{} of {} report files failed to upload (first: {key}: {err}); the manifest and latest were not changed, so publish again to complete run {run_id}",
            failures.len(),
            files.len()
        );
    }
    summary.timings.upload = secs(t);

    // 2. The manifest, then its page.
    let t = Instant::now();
    let (manifest, pruned) = add_to_manifest(&store, &layout, settings, entry).await?;
    write_if_newer(
        &store,
        &layout.runs_page(),
        pages::runs(&manifest),
        manifest.revision,
    )
    .await?;
    summary.timings.manifest = secs(t);

    // 3. The latest pointer and page, never backwards.
    let t = Instant::now();
    let pointer = LatestPointer {
        run_id: run_id.clone(),
        run_url: summary.run_url.clone(),
        latest_url: summary.latest_url.clone(),
        project: settings.project.clone(),
        branch: settings.branch.clone(),
        build_order,
        time: Utc::now().timestamp(),
    };
    summary.latest_moved = move_latest(&store, &layout, &pointer, &run_seg).await?;
    update_project(&store, &layout, settings, &summary).await?;
    summary.timings.latest = secs(t);

    // 4. Retention: the manifest no longer lists these runs; remove their files.
    for run in &pruned {
        let Ok(seg) = Layout::run_segment(&run.run_id) else {
            eprintln!(
                "warning: cannot locate files of pruned run {:?}",
                run.run_id
            );
            continue;
        };
        let keys: Vec<String> = store
            .list(&layout.run_root(&seg))
            .await?
            .into_iter()
            .map(|l| l.key)
            .collect();
        eprintln!(
            "Retention: deleting run {} ({} files)",
            run.run_id,
            keys.len()
        );
        if !keys.is_empty() {
            store.delete(keys).await?;
        }
    }
    summary.pruned_runs = pruned.into_iter().map(|r| r.run_id).collect();
    summary.requests = store.counts();
    summary.timings.total = secs(started);
    Ok(summary)
}

/// A generated report has an index page and the summary widget we read.
pub fn check_report_dir(dir: &Path) -> Result<()> {
    if !dir.join("index.html").is_file() || !dir.join("widgets/summary.json").is_file() {
        bail!(
            "{} is not a generated Allure report (index.html and widgets/summary.json are missing); pass the output of `allure generate`, or use --results to generate one",
            dir.display()
        );
    }
    Ok(())
}

async fn read_manifest(store: &Store, layout: &Layout) -> Result<Manifest> {
    let key = layout.manifest();
    match store.get(&key).await? {
        None => Ok(Manifest::empty("", "")),
        Some(obj) => Manifest::parse(&obj.body).map_err(|e| {
            anyhow!(
                "the manifest {} is unreadable ({e}); repair or remove it, then publish again",
                store.location(&key)
            )
        }),
    }
}

fn choose_run_id(settings: &Settings, manifest: &Manifest) -> Result<(String, String)> {
    if let Some(id) = &settings.run_id {
        let seg = Layout::run_segment(id)?;
        if manifest.contains(id) {
            bail!(
                "run id {id:?} was already published on branch {:?}; published runs are never overwritten, so choose another --run-id (or leave it out for a fresh one)",
                settings.branch
            );
        }
        return Ok((id.clone(), seg));
    }
    loop {
        let id = run_id::generate(Utc::now(), fastrand::u32(..));
        if !manifest.contains(&id) {
            let seg = Layout::run_segment(&id)?;
            return Ok((id, seg));
        }
    }
}

async fn peek_build_order(store: &Store, layout: &Layout, manifest: &Manifest) -> Result<u64> {
    let last = match store.get(&layout.build_counter()).await? {
        Some(obj) => BuildCounter::parse(&obj.body).unwrap_or_default().last,
        None => 0,
    };
    Ok(last.max(manifest.max_build_order()) + 1)
}

/// Hand out the branch's next build number, unique even under concurrency.
async fn reserve_build_order(store: &Store, layout: &Layout, manifest: &Manifest) -> Result<u64> {
    let key = layout.build_counter();
    let floor = manifest.max_build_order();
    cas::update(store, &key, &no_cache(&key), |current| {
        let last = current
            .and_then(BuildCounter::parse)
            .unwrap_or_default()
            .last
            .max(floor);
        let next = BuildCounter { last: last + 1 };
        Ok::<_, String>(Step::Write(next.to_json(), next.last))
    })
    .await
    .map_err(cas_err)
}

/// Copy the history of the branch's latest run into `extra/history/`.
async fn carry_history(
    store: &Store,
    layout: &Layout,
    previous: Option<&LatestPointer>,
    extra: &Path,
) -> Result<usize> {
    let history = extra.join("history");
    std::fs::create_dir_all(&history)?;
    let Some(prev) = previous else {
        return Ok(0);
    };
    let Ok(seg) = Layout::run_segment(&prev.run_id) else {
        return Ok(0);
    };
    let mut tasks = tokio::task::JoinSet::new();
    for name in HISTORY_FILES {
        let key = format!("{}history/{name}", layout.run_root(&seg));
        let store = store.clone();
        tasks.spawn(async move { (name, key.clone(), store.get(&key).await) });
    }
    let mut carried = 0;
    while let Some(done) = tasks.join_next().await {
        let (name, key, result) = done?;
        match result {
            Ok(Some(obj)) => {
                std::fs::write(history.join(name), obj.body)?;
                carried += 1;
            }
            Ok(None) => {}
            Err(e) => bail!(
                "cannot read the history of run {} ({key}: {e}); trends would reset, so nothing was published",
                prev.run_id
            ),
        }
    }
    Ok(carried)
}

fn scan(dir: &Path) -> Result<Vec<ReportFile>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .expect("walkdir stays under its root");
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        files.push(ReportFile {
            rel: rel.join("/"),
            path: entry.path().to_path_buf(),
            size: entry.metadata()?.len(),
        });
    }
    if files.is_empty() {
        bail!("the report directory {} is empty", dir.display());
    }
    Ok(files)
}

async fn add_to_manifest(
    store: &Store,
    layout: &Layout,
    settings: &Settings,
    entry: RunEntry,
) -> Result<(Manifest, Vec<RunEntry>)> {
    let key = layout.manifest();
    cas::update(store, &key, &no_cache(&key), |current| {
        let mut manifest = match current {
            Some(bytes) => Manifest::parse(bytes)?,
            None => Manifest::empty(&settings.project, &settings.branch),
        };
        manifest.project = settings.project.clone();
        manifest.branch = settings.branch.clone();
        let pruned = manifest
            .add_run(entry.clone(), settings.max_keep_runs, Utc::now().timestamp())
            .map_err(|e| match e {
                ManifestError::Duplicate(id) => format!(
                    "run id {id:?} was published by another publisher while this one ran; choose another --run-id"
                ),
                other => other.to_string(),
            })?;
        Ok::<_, String>(Step::Write(manifest.to_json(), (manifest, pruned)))
    })
    .await
    .map_err(cas_err)
}

/// Write a page unless the stored one already carries `revision` or newer.
async fn write_if_newer(store: &Store, key: &str, html: String, revision: u64) -> Result<bool> {
    cas::update(store, key, &no_cache(key), |current| {
        let newer_there = current
            .and_then(pages::revision_of)
            .is_some_and(|r| r >= revision);
        Ok::<_, String>(if newer_there {
            Step::Keep(false)
        } else {
            Step::Write(html.clone().into_bytes(), true)
        })
    })
    .await
    .map_err(cas_err)
}

async fn move_latest(
    store: &Store,
    layout: &Layout,
    pointer: &LatestPointer,
    run_seg: &str,
) -> Result<bool> {
    let key = layout.latest_pointer();
    let moved = cas::update(store, &key, &no_cache(&key), |current| {
        let shown = current.and_then(LatestPointer::parse);
        Ok::<_, String>(match shown {
            Some(p) if p.build_order >= pointer.build_order => Step::Keep(false),
            _ => Step::Write(pointer.to_json(), true),
        })
    })
    .await
    .map_err(cas_err)?;
    let page = pages::latest(&pages::LatestPage {
        project: &pointer.project,
        branch: &pointer.branch,
        run_id: &pointer.run_id,
        segment: run_seg,
        build_order: pointer.build_order,
    });
    write_if_newer(store, &layout.latest_page(), page, pointer.build_order).await?;
    Ok(moved)
}

async fn update_project(
    store: &Store,
    layout: &Layout,
    settings: &Settings,
    s: &PublishSummary,
) -> Result<()> {
    let key = layout.project_index();
    let entry = BranchEntry {
        branch: settings.branch.clone(),
        segment: layout.branch_segment().to_string(),
        run_id: s.run_id.clone(),
        build_order: s.build_order,
        time: Utc::now().timestamp(),
        passed: s.stats.passed,
        failed: s.stats.failed,
        broken: s.stats.broken,
        skipped: s.stats.skipped,
        total: s.stats.total,
    };
    let index = cas::update(store, &key, &no_cache(&key), |current| {
        let mut index = current
            .and_then(ProjectIndex::parse)
            .unwrap_or_else(|| ProjectIndex::empty(&settings.project));
        Ok::<_, String>(if index.upsert(entry.clone(), Utc::now().timestamp()) {
            Step::Write(index.to_json(), Some(index))
        } else {
            Step::Keep(None)
        })
    })
    .await
    .map_err(cas_err)?;
    if let Some(index) = index {
        write_if_newer(
            store,
            &layout.project_page(),
            pages::project(&index),
            index.revision,
        )
        .await?;
    }
    Ok(())
}

async fn print_plan(
    store: &Store,
    layout: &Layout,
    s: &PublishSummary,
    pruned: &[RunEntry],
) -> Result<()> {
    println!("Plan (dry run: nothing is written or deleted)");
    println!(
        "  write  run report      {:>6} objects  {:>12} bytes  {}",
        s.report_files,
        s.report_size_bytes,
        store.location(&s.run_prefix)
    );
    println!(
        "  write  build counter   {:>6} object   {}",
        1,
        layout.build_counter()
    );
    println!(
        "  write  manifest        {:>6} objects  runs/index.json, runs/index.html",
        2
    );
    println!(
        "  write  latest          {:>6} objects  latest.json, latest/index.html (if this run is the newest)",
        2
    );
    println!(
        "  write  project page    {:>6} objects  {}, {}",
        2,
        layout.project_index(),
        layout.project_page()
    );
    let (mut objects, mut bytes) = (0usize, 0u64);
    for run in pruned {
        if let Ok(seg) = Layout::run_segment(&run.run_id) {
            let listed = store.list(&layout.run_root(&seg)).await?;
            objects += listed.len();
            bytes += listed.iter().map(|l| l.size).sum::<u64>();
        }
    }
    let ids: Vec<&str> = pruned.iter().map(|r| r.run_id.as_str()).collect();
    println!(
        "  delete retention       {:>6} objects  {:>12} bytes  {} run(s){}",
        objects,
        bytes,
        pruned.len(),
        if ids.is_empty() {
            String::new()
        } else {
            format!(": {}", ids.join(", "))
        }
    );
    println!("Run URL:    {}", s.run_url);
    println!("Latest URL: {}", s.latest_url);
    println!("Runs index: {}", s.runs_index_url);
    Ok(())
}
