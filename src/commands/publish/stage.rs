//! The report and what to upload: generate it with the chosen engine
//! (`generate`), read back what readers are told (`report::read`), list its
//! files with their headers, and make the manifest entry.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::Utc;

use crate::model::time::DAY_SECS;
use tempfile::TempDir;

use super::generate;
use super::prepare::Prepared;
use crate::model::changes::{Changes, TestIndex};
use crate::model::engine::Engine;
use crate::model::headers;
use crate::model::layout::TEST_INDEX;
use crate::model::manifest::RunEntry;
use crate::model::quality_gate::QualityGate;
use crate::model::summary::{FAILED_TESTS_LISTED, FailedTest};
use crate::output::Output;
use crate::report::read::ReadReport;
use crate::report::summary::ReportSummary;
use crate::report::{self, analytics};
use crate::settings::{Retention, Settings, Source};
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
    /// Allure 3's quality gate, when the project's allurerc has rules.
    pub quality_gate: Option<QualityGate>,
    /// What changed since the base branch, when compared.
    pub changes: Option<Changes>,
    /// The run's tests, for the branch's test history.
    pub tests: TestIndex,
    /// The manifest row of this run (files and size of the upload).
    pub entry: RunEntry,
    pub timings: StageTimings,
}

pub async fn stage(settings: &Settings, p: &Prepared, out: &Output) -> Result<Staged> {
    let work = tempfile::tempdir().context("cannot create a temporary directory")?;
    let (report_dir, timings) = match &settings.report.source {
        Source::Report(dir) => (dir.clone(), StageTimings::default()),
        Source::Results(results) => match settings.report.engine {
            Engine::Allure2 => generate::allure2(settings, p, results, work.path(), out).await?,
            Engine::Allure3 => generate::allure3(settings, p, results, work.path(), out).await?,
        },
    };
    let read = report::read::read(&report_dir, FAILED_TESTS_LISTED)?;
    let mut files = scan(&report_dir)?;
    // Ours is rewritten from the report itself.
    files.retain(|f| f.rel != TEST_INDEX);
    let mut uploads = uploads(settings, p, read.engine, &files)?;
    uploads.push(index_upload(&settings.retention, p, &read.tests));
    let changes = super::compare::compare(settings, p, read.engine, &read.tests, out).await?;
    let entry = run_entry(settings, p, &uploads, &read);
    Ok(Staged {
        _work: work,
        uploads,
        report: read.summary,
        failed_tests: read.failed_tests,
        failed_tests_total: read.failed_tests_total,
        quality_gate: read.quality_gate,
        changes,
        tests: read.tests,
        entry,
        timings,
    })
}

/// The run's test index, beside its report.
fn index_upload(retention: &Retention, p: &Prepared, tests: &TestIndex) -> Upload {
    let key = p.layout.test_index(&p.run);
    let bytes = tests.to_json();
    Upload {
        size: bytes.len() as u64,
        meta: ObjectMeta {
            content_type: headers::content_type(&key),
            cache_control: headers::cache_control(&key, true),
            tagging: retention.ttl_days.map(|n| format!("ttl-days={n}")),
        },
        key,
        body: Body::Bytes(bytes),
    }
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
fn uploads(
    settings: &Settings,
    p: &Prepared,
    engine: Engine,
    files: &[ReportFile],
) -> Result<Vec<Upload>> {
    let tagging = settings.retention.ttl_days.map(|n| format!("ttl-days={n}"));
    let mut uploads = Vec::with_capacity(files.len());
    for f in files {
        let key = p.layout.run_file(&p.run, &f.rel);
        let meta = ObjectMeta {
            content_type: headers::content_type(&key),
            cache_control: headers::run_file_cache_control(engine, &key),
            tagging: tagging.clone(),
        };
        let (body, size) = if f.rel == "index.html" && !settings.report.keep_analytics {
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

fn run_entry(settings: &Settings, p: &Prepared, uploads: &[Upload], read: &ReadReport) -> RunEntry {
    let time = Utc::now().timestamp();
    RunEntry {
        run_id: p.run.to_string(),
        time,
        size: uploads.iter().map(|u| u.size).sum(),
        files: uploads.len() as u64,
        project: settings.place.project.clone(),
        branch: settings.place.branch.clone(),
        run_url: p.urls.run.clone(),
        context_url: settings
            .report
            .context_url
            .as_ref()
            .map(ToString::to_string),
        stats: read.summary.stats,
        duration_ms: Some(read.summary.duration_ms),
        build_order: Some(p.build_order),
        commit: settings.report.commit.clone(),
        variant: settings.place.variant.clone(),
        job: settings.place.job.clone(),
        expires: settings
            .retention
            .ttl_days
            .map(|d| time + i64::from(d.get()) * DAY_SECS),
        allure: read.engine,
        meta: settings
            .report
            .meta
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    }
}
