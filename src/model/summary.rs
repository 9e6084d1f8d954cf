//! What a publish tells its readers: the summary JSON, the terminal lines,
//! the job summary, the PR comment and the action's outputs all read this.

use std::collections::BTreeMap;

use serde::Serialize;

use super::changes::Changes;
use super::stats::Stats;

/// Seconds spent in each phase of a publish.
#[derive(Debug, Default, Clone, Serialize)]
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

/// A failed or broken test of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedTest {
    pub name: String,
    pub full_name: Option<String>,
    /// `failed` or `broken`.
    pub status: String,
    pub message: Option<String>,
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
    pub latest_moved: bool,
    pub pruned_runs: Vec<String>,
    pub requests: BTreeMap<&'static str, u64>,
    /// Seconds.
    pub timings: Timings,
}
