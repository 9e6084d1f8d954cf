//! What a publish tells its readers: the summary JSON, the terminal lines,
//! the job summary, the PR comment and the action's outputs all read this.

use std::collections::BTreeMap;

use serde::Serialize;

use super::changes::Changes;
use super::engine::Engine;
use super::quality_gate::QualityGate;
use super::stats::Stats;
use super::status::TestStatus;

/// Seconds spent in each phase of a publish.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Timings {
    pub history: f64,
    pub generate: f64,
    pub upload: f64,
    pub manifest: f64,
    pub latest: f64,
    /// The test history, its page and flaky list.
    pub tests: f64,
    pub total: f64,
}

/// How many failed tests the summary names (the job summary shows them).
pub const FAILED_TESTS_LISTED: usize = 10;

/// A failed or broken test of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedTest {
    pub name: String,
    pub full_name: Option<String>,
    /// Failed or broken.
    pub status: TestStatus,
    pub message: Option<String>,
}

/// The reader URLs with a token that opens them on a private site.
#[derive(Debug, Clone, Serialize)]
pub struct SignedLinks {
    /// Opens this run only.
    pub run: String,
    /// These three open the whole branch.
    pub latest: String,
    pub branch_latest: String,
    pub runs_index: String,
    /// When they stop opening (RFC 3339).
    pub expires: String,
}

/// The URLs a reader is given: signed when there are links.
pub struct ReaderUrls<'a> {
    pub run: &'a str,
    pub latest: &'a str,
    pub branch_latest: &'a str,
    pub runs_index: &'a str,
}

/// The run a trend line (job and leg) had before this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviousRun {
    pub run_id: String,
    /// Its status, as `PublishSummary::status` says it.
    pub status: &'static str,
    /// Failed or broken tests, or a failed quality gate.
    pub red: bool,
    /// Tests failing now that did not fail in that run, from the branch's
    /// test history; None when it keeps none.
    pub newly_failing: Option<usize>,
}

/// What `--summary-json` writes.
#[derive(Debug, Clone, Serialize)]
pub struct PublishSummary {
    pub run_id: String,
    pub project: String,
    pub branch: String,
    pub build_order: u64,
    pub run_url: String,
    /// The leg's latest with a variant, else the branch's.
    pub latest_url: String,
    /// The branch's latest (with several jobs or legs, a page listing each).
    pub branch_latest_url: String,
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
    /// The CI job, when the CI names it.
    pub job: Option<String>,
    /// The first failed, then broken, tests (at most `FAILED_TESTS_LISTED`).
    pub failed_tests: Vec<FailedTest>,
    /// Failed plus broken tests in all.
    pub failed_tests_total: usize,
    /// What changed since the base branch (`--compare-to`, or a pull
    /// request's base), when there was a run to compare with.
    pub changes: Option<Changes>,
    /// The branch's test history after this run, when it keeps one.
    pub tests: Option<super::test_board::TestsSummary>,
    pub latest_moved: bool,
    pub pruned_runs: Vec<String>,
    /// The steps of the publish's plan, as carried out.
    pub steps: Vec<super::publish_plan::Step>,
    pub requests: BTreeMap<&'static str, u64>,
    /// The site's access modes as the bucket records them ("link", "ip,link",
    /// "open"); None when unknown (a local site, or no record).
    pub access: Option<String>,
    /// Signed links, when an access key was given.
    pub links: Option<SignedLinks>,
    /// The Allure that generated the report (2 or 3).
    pub allure: Engine,
    /// Allure 3's quality gate, when the project's allurerc has rules.
    pub quality_gate: Option<QualityGate>,
    /// The previous run of this job and leg on the branch, when there is one.
    pub previous: Option<PreviousRun>,
    /// Seconds.
    pub timings: Timings,
}

impl PublishSummary {
    /// The run's verdict: `quality-gate-failed` when a quality gate failed,
    /// else the tests' worst outcome (`failed`, `broken`, `passed`,
    /// `no-tests`).
    pub fn status(&self) -> &'static str {
        status(&self.stats, self.quality_gate.as_ref())
    }

    pub fn reader_urls(&self) -> ReaderUrls<'_> {
        match &self.links {
            Some(l) => ReaderUrls {
                run: &l.run,
                latest: &l.latest,
                branch_latest: &l.branch_latest,
                runs_index: &l.runs_index,
            },
            None => ReaderUrls {
                run: &self.run_url,
                latest: &self.latest_url,
                branch_latest: &self.branch_latest_url,
                runs_index: &self.runs_index_url,
            },
        }
    }

    /// The site opens only with signed links and this publish has none: its
    /// plain URLs would only ask for access.
    /// Failed or broken tests, or a failed quality gate.
    pub fn red(&self) -> bool {
        self.stats.failing() > 0 || self.quality_gate.as_ref().is_some_and(|g| !g.passed())
    }

    pub fn private_without_links(&self) -> bool {
        self.access.as_deref() == Some("link") && self.links.is_none()
    }
}

/// See `PublishSummary::status`.
pub fn status(stats: &Stats, gate: Option<&QualityGate>) -> &'static str {
    match gate {
        Some(g) if !g.passed() => QUALITY_GATE_FAILED,
        _ => stats.status(),
    }
}

pub const QUALITY_GATE_FAILED: &str = "quality-gate-failed";
