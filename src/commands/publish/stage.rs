//! The report and what to upload: generate it with the chosen engine
//! (`generate`), read back what readers are told (`report::read`), list its
//! files with their headers, and make the manifest entry.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::Utc;

use crate::model::time::DAY_SECS;
use tempfile::TempDir;

use super::generate::{self, Generated};
use super::prepare::Prepared;
use super::stream::{During, Stamp, Streamed, Verdict};
use crate::model::badge;
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
use crate::transfer::{Body, Feed, Upload};

/// Seconds spent before anything is uploaded.
#[derive(Debug, Default, Clone, Copy)]
pub struct StageTimings {
    pub history: f64,
    pub generate: f64,
}

pub struct Staged {
    /// Holds the generated report until the upload is done.
    _work: TempDir,
    /// The uploads not yet handed to the feed.
    pub uploads: Vec<Upload>,
    /// Files sent while the report was made, then written again: they go
    /// once every earlier upload has landed.
    pub again: Vec<Upload>,
    /// Files sent while the report was made that it does not hold: deleted
    /// once every upload has landed.
    pub strays: Vec<crate::storage::ObjectKey>,
    /// Files sent while the report was made, as they are in the report.
    pub streamed: usize,
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

/// Make the report (its files going to `feed` as they are completed, when
/// there is one) and everything the plan needs to know of it.
pub async fn stage(
    settings: &Settings,
    p: &Prepared,
    feed: Option<&Feed>,
    out: &Output,
) -> Result<Staged> {
    let work = tempfile::tempdir().context("cannot create a temporary directory")?;
    let engine = settings.report.engine;
    let made = Uploads::new(settings, p, engine);
    let upload = |rel: &str, path: &Path, stamp: Stamp| {
        made.streamable(rel)
            .then(|| made.upload(rel, path.to_path_buf(), stamp.size))
    };
    let links = work.path().join("sent");
    std::fs::create_dir(&links).context("cannot create a temporary directory")?;
    let during = feed.map(|feed| During {
        feed,
        links: &links,
        upload: &upload,
    });
    let generated = match &settings.report.source {
        Source::Report(dir) => Generated {
            report: dir.clone(),
            timings: StageTimings::default(),
            streamed: Streamed::default(),
            details: None,
        },
        Source::Results(results) => match engine {
            Engine::Allure2 => {
                generate::allure2(settings, p, results, work.path(), during.as_ref(), out).await?
            }
            Engine::Allure3 => {
                generate::allure3(settings, p, results, work.path(), during.as_ref(), out).await?
            }
        },
    };
    let report_dir = &generated.report;
    let details = generated.details.as_deref().unwrap_or(report_dir);
    let read = report::read::read(report_dir, details, FAILED_TESTS_LISTED)?;
    let mut files = scan(report_dir)?;
    // Ours is rewritten from the report itself.
    files.retain(|f| f.rel != TEST_INDEX);
    leave_out_badge_names(&mut files, out);
    let made = Uploads::new(settings, p, read.engine);
    let mut uploads = files
        .iter()
        .map(|f| made.of_file(f))
        .collect::<Result<Vec<_>>>()?;
    uploads.push(index_upload(&settings.retention, p, &read.tests));
    let entry = run_entry(settings, p, &uploads, &read);
    let sorted = sort_out(&generated.streamed, &files, uploads, |rel| {
        p.layout.run_file(&p.run, rel)
    });
    let changes = super::compare::compare(settings, p, read.engine, &read.tests, out).await?;
    Ok(Staged {
        _work: work,
        uploads: sorted.send,
        again: sorted.again,
        strays: sorted.strays,
        streamed: sorted.sent,
        report: read.summary,
        failed_tests: read.failed_tests,
        failed_tests_total: read.failed_tests_total,
        quality_gate: read.quality_gate,
        changes,
        tests: read.tests,
        entry,
        timings: generated.timings,
    })
}

/// A report file named like the badges (`badge.svg`, in any folder) is left
/// out: a private site may let anyone read the badges, and the viewer
/// function knows them by that name alone. Allure writes no such file.
fn leave_out_badge_names(files: &mut Vec<ReportFile>, out: &Output) {
    let named: Vec<String> = files
        .iter()
        .filter(|f| is_badge_name(&f.rel))
        .map(|f| f.rel.clone())
        .collect();
    if named.is_empty() {
        return;
    }
    files.retain(|f| !is_badge_name(&f.rel));
    out.warning(&format!(
        "left out of the report: {} (allure-host keeps the name {} for the status badges, which a private site may show to anyone)",
        named.join(", "),
        badge::FILE
    ));
}

fn is_badge_name(rel: &str) -> bool {
    rel.rsplit('/').next() == Some(badge::FILE)
}

/// The uploads of the finished report, against what went while it was made.
struct Sorted {
    send: Vec<Upload>,
    again: Vec<Upload>,
    strays: Vec<crate::storage::ObjectKey>,
    sent: usize,
}

/// `uploads`: one per file of `files`, in order, then ours.
fn sort_out(
    streamed: &Streamed,
    files: &[ReportFile],
    uploads: Vec<Upload>,
    key: impl Fn(&str) -> crate::storage::ObjectKey,
) -> Sorted {
    let mut sorted = Sorted {
        send: Vec::new(),
        again: Vec::new(),
        strays: Vec::new(),
        sent: 0,
    };
    let mut verdicts = files.iter().map(|f| streamed.verdict(&f.rel, f.stamp));
    for upload in uploads {
        match verdicts.next().unwrap_or(Verdict::Send) {
            Verdict::Send => sorted.send.push(upload),
            Verdict::SendAgain => sorted.again.push(upload),
            Verdict::Sent => sorted.sent += 1,
        }
    }
    let holds: std::collections::HashSet<&str> = files.iter().map(|f| f.rel.as_str()).collect();
    sorted.strays = streamed.strays(&holds).map(key).collect();
    sorted
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
    stamp: Stamp,
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
        let meta = entry.metadata()?;
        files.push(ReportFile {
            rel: rel.join("/"),
            path: entry.path().to_path_buf(),
            size: meta.len(),
            stamp: Stamp::of(&meta),
        });
    }
    if files.is_empty() {
        bail!("the report directory {} is empty", dir.display());
    }
    Ok(files)
}

/// How a report file becomes an upload: its key and headers; the report
/// page loses Allure's analytics script unless asked to keep it.
struct Uploads<'a> {
    p: &'a Prepared,
    engine: Engine,
    strip_analytics: bool,
    tagging: Option<String>,
}

impl<'a> Uploads<'a> {
    fn new(settings: &Settings, p: &'a Prepared, engine: Engine) -> Self {
        Self {
            p,
            engine,
            strip_analytics: !settings.report.keep_analytics,
            tagging: settings.retention.ttl_days.map(|n| format!("ttl-days={n}")),
        }
    }

    /// False for the files that wait for the end: the page rewritten
    /// without analytics, and our test index (made from the whole report);
    /// and for a file named like the badges, which never goes.
    fn streamable(&self, rel: &str) -> bool {
        rel != TEST_INDEX && !is_badge_name(rel) && !(rel == "index.html" && self.strip_analytics)
    }

    /// A file sent as it is on disk.
    fn upload(&self, rel: &str, path: PathBuf, size: u64) -> Upload {
        let key = self.p.layout.run_file(&self.p.run, rel);
        Upload {
            meta: ObjectMeta {
                content_type: headers::content_type(&key),
                cache_control: headers::run_file_cache_control(self.engine, &key),
                tagging: self.tagging.clone(),
            },
            key,
            body: Body::File(path),
            size,
        }
    }

    fn of_file(&self, f: &ReportFile) -> Result<Upload> {
        let mut upload = self.upload(&f.rel, f.path.clone(), f.size);
        if f.rel == "index.html" && self.strip_analytics {
            let html = std::fs::read_to_string(&f.path)?;
            let bytes = analytics::strip(&html).into_bytes();
            upload.size = bytes.len() as u64;
            upload.body = Body::Bytes(bytes);
        }
        Ok(upload)
    }
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
        quality_gate_failed: read.quality_gate.as_ref().is_some_and(|g| !g.passed()),
        meta: settings
            .report
            .meta
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    }
}
