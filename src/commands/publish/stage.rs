//! The report and what to upload: generate it (history carried from the
//! newest run of the same job and leg), list its files with their headers,
//! and read its counts into the manifest entry.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::Utc;

use crate::model::time::DAY_SECS;
use tempfile::TempDir;

use super::prepare::Prepared;
use super::secs;
use crate::model::changes::{Changes, TestIndex};
use crate::model::layout::TEST_INDEX;
use crate::model::manifest::RunEntry;
use crate::model::summary::{FAILED_TESTS_LISTED, FailedTest};
use crate::output::Output;
use crate::report::allure_cli::{AllureCli, PINNED_VERSION};
use crate::report::executor::{self, ExecutorInput};
use crate::report::summary::{self, ReportSummary};
use crate::report::{analytics, failures, headers, test_index};
use crate::settings::{Settings, Source};
use crate::state::history;
use crate::storage::ObjectMeta;
use crate::transfer::{Body, Upload};

/// Seconds spent before anything is uploaded.
#[derive(Debug, Default, Clone, Copy)]
pub struct StageTimings {
    pub history: f64,
    pub generate: f64,
}

pub struct Staged {
    /// Holds the generated report until the upload is done.
    _work: TempDir,
    pub uploads: Vec<Upload>,
    pub report: ReportSummary,
    pub failed_tests: Vec<FailedTest>,
    pub failed_tests_total: usize,
    /// What changed since the base branch, when compared.
    pub changes: Option<Changes>,
    /// The manifest row of this run (files and size of the upload).
    pub entry: RunEntry,
    pub timings: StageTimings,
}

pub async fn stage(settings: &Settings, p: &Prepared, out: &Output) -> Result<Staged> {
    let work = tempfile::tempdir().context("cannot create a temporary directory")?;
    let (report_dir, timings) = match &settings.source {
        Source::Report(dir) => (dir.clone(), StageTimings::default()),
        Source::Results(results) => generate(settings, p, results, work.path(), out).await?,
    };
    let mut files = scan(&report_dir)?;
    // Ours is rewritten from the report itself.
    files.retain(|f| f.rel != TEST_INDEX);
    let report = summary::parse(
        &std::fs::read(report_dir.join("widgets/summary.json"))
            .context("the report has no widgets/summary.json")?,
    )
    .context("the report's widgets/summary.json is not valid")?;
    let mut uploads = uploads(settings, p, &files)?;
    let tests = test_index::read(&report_dir);
    uploads.push(index_upload(settings, p, &tests));
    let changes = super::compare::compare(settings, p, &tests, out).await?;
    let entry = run_entry(settings, p, &uploads, &report);
    let (failed_tests, failed_tests_total) = failures::read(&report_dir, FAILED_TESTS_LISTED);
    Ok(Staged {
        _work: work,
        uploads,
        report,
        failed_tests,
        failed_tests_total,
        changes,
        entry,
        timings,
    })
}

/// The run's test index, beside its report.
fn index_upload(settings: &Settings, p: &Prepared, tests: &TestIndex) -> Upload {
    let key = p.layout.test_index(&p.run);
    let bytes = tests.to_json();
    Upload {
        size: bytes.len() as u64,
        meta: ObjectMeta {
            content_type: headers::content_type(&key),
            cache_control: headers::cache_control(&key, true),
            tagging: settings.ttl_days.map(|n| format!("ttl-days={n}")),
        },
        key,
        body: Body::Bytes(bytes),
    }
}

/// Results -> report, with the history of the run it continues and our
/// executor.
async fn generate(
    settings: &Settings,
    p: &Prepared,
    results: &Path,
    work: &Path,
    out: &Output,
) -> Result<(PathBuf, StageTimings)> {
    let extra = work.join("extra");
    let t = Instant::now();
    let from = p.history_from.as_ref();
    let carried = history::carry(&p.store, &p.layout, from, &extra.join("history")).await?;
    let history_secs = secs(t);
    let exec = executor::executor(ExecutorInput {
        ci_name: settings.ci.name(),
        ci_kind: settings.ci.kind(),
        project: &settings.project,
        branch: &settings.branch,
        run_id: p.run.as_str(),
        build_order: p.build_order,
        build_url: settings.build_url.as_deref(),
        report_url: &p.urls.run,
    });
    std::fs::write(
        extra.join("executor.json"),
        serde_json::to_vec_pretty(&exec)?,
    )?;
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
    cli.generate(&[results, extra.as_path()], &report).await?;
    let timings = StageTimings {
        history: history_secs,
        generate: secs(t),
    };
    Ok((report, timings))
}

async fn find_or_install_allure(out: &Output) -> Result<AllureCli> {
    if let Some(cli) = AllureCli::find()? {
        return Ok(cli);
    }
    out.note(format_args!(
        "Allure CLI not found; installing allure-commandline@{PINNED_VERSION} into {} (first use only)",
        AllureCli::install_dir().display()
    ));
    AllureCli::install().await
}

struct ReportFile {
    rel: String,
    path: PathBuf,
    size: u64,
}

/// Every file of the report, by path relative to its root ('/'-separated).
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

/// One upload per file, with its headers; the report page loses Allure's
/// analytics script unless asked to keep it.
fn uploads(settings: &Settings, p: &Prepared, files: &[ReportFile]) -> Result<Vec<Upload>> {
    let tagging = settings.ttl_days.map(|n| format!("ttl-days={n}"));
    let mut uploads = Vec::with_capacity(files.len());
    for f in files {
        let key = p.layout.run_file(&p.run, &f.rel);
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
    Ok(uploads)
}

fn run_entry(
    settings: &Settings,
    p: &Prepared,
    uploads: &[Upload],
    report: &ReportSummary,
) -> RunEntry {
    let time = Utc::now().timestamp();
    RunEntry {
        run_id: p.run.to_string(),
        time,
        size: uploads.iter().map(|u| u.size).sum(),
        files: uploads.len() as u64,
        project: settings.project.clone(),
        branch: settings.branch.clone(),
        run_url: p.urls.run.clone(),
        context_url: settings.context_url.clone(),
        stats: report.stats,
        duration_ms: Some(report.duration_ms),
        build_order: Some(p.build_order),
        commit: settings.commit.clone(),
        variant: settings.variant.clone(),
        job: settings.job.clone(),
        expires: settings
            .ttl_days
            .map(|d| time + i64::from(d.get()) * DAY_SECS),
        meta: settings
            .meta
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    }
}
