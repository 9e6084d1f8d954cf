//! The one place that prints. Commands hand their results here; library
//! modules return data. Two modes: a terminal (notes and warnings on stderr,
//! results on stdout) and a GitHub Actions log (warnings, errors, groups and
//! masks as workflow commands).

use std::fmt::Display;
use std::path::Path;

use anyhow::{Context, Result};

use crate::checks::{Row, Status, all_ok};
use crate::github::workflow;
use crate::model::plan::{PruneLine, PublishPlan, UsageLine};
use crate::model::summary::PublishSummary;

/// Title of warnings and errors that have no more specific one.
const TITLE: &str = "allure-host";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Terminal,
    GitHub,
}

#[derive(Debug, Clone, Copy)]
pub struct Output {
    mode: Mode,
    /// Inside a GitHub Actions job, whatever the mode: secrets must be
    /// masked before they are printed, or they stay in the log.
    masks: bool,
}

impl Output {
    pub fn new(mode: Mode) -> Self {
        let in_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        Self {
            mode,
            masks: mode == Mode::GitHub || in_actions,
        }
    }

    /// Progress of a command, for people watching it run.
    pub fn note(&self, text: impl Display) {
        eprintln!("{text}");
    }

    /// A result line (stdout).
    pub fn line(&self, text: impl Display) {
        println!("{text}");
    }

    pub fn warning(&self, text: &str) {
        self.warning_titled(TITLE, text);
    }

    pub fn warning_titled(&self, title: &str, text: &str) {
        match self.mode {
            Mode::Terminal => eprintln!("warning: {text}"),
            Mode::GitHub => println!("{}", workflow::warning(title, text)),
        }
    }

    /// An error annotation; the terminal gets a plain `error:` line.
    pub fn error_titled(&self, title: &str, text: &str) {
        match self.mode {
            Mode::Terminal => eprintln!("error: {title}: {text}"),
            Mode::GitHub => println!("{}", workflow::error(title, text)),
        }
    }

    pub fn error(&self, text: &str) {
        self.error_titled(TITLE, text);
    }

    /// Start a collapsible log section (GitHub only).
    pub fn group(&self, title: &str) {
        if self.mode == Mode::GitHub {
            println!("{}", workflow::group(title));
        }
    }

    pub fn end_group(&self) {
        if self.mode == Mode::GitHub {
            println!("{}", workflow::end_group());
        }
    }

    /// Hide `secret` in every later log line (in a GitHub Actions job only).
    pub fn mask(&self, secret: &str) {
        if self.masks {
            for line in workflow::mask(secret) {
                println!("{line}");
            }
        }
    }

    pub fn published(&self, s: &PublishSummary) {
        let st = &s.stats;
        println!(
            "Published {} / {} run {} (build #{}): {} passed, {} failed, {} broken, {} skipped of {} tests, {} files in {:.1}s",
            s.project,
            s.branch,
            s.run_id,
            s.build_order,
            st.passed,
            st.failed,
            st.broken,
            st.skipped,
            st.total,
            s.report_files,
            s.timings.total
        );
        if let Some(gate) = &s.quality_gate {
            println!("Quality gate: {}", gate.verdict());
            for r in gate.failed_rules() {
                println!("  {}: {}", r.rule, r.message);
            }
        }
        if !s.latest_moved {
            println!("Latest was not moved: a newer build is already shown there.");
        }
        if !s.pruned_runs.is_empty() {
            println!(
                "Removed {} old run(s): {}",
                s.pruned_runs.len(),
                s.pruned_runs.join(", ")
            );
        }
        self.links(&s.run_url, &s.latest_url, &s.runs_index_url);
        if let Some(l) = &s.links {
            println!("Signed links, open until {}:", l.expires);
            println!("  run:      {}", l.run);
            println!("  latest:   {}", l.latest);
        } else if s.private_without_links() {
            println!(
                "This site opens only with signed links: set ALLURE_ACCESS_KEY, or run `allure-host share URL`."
            );
        }
        if let Some(dir) = &s.local_dir {
            println!("View it:    allure-host serve {dir}   (then open the URLs above)");
        }
    }

    fn links(&self, run: &str, latest: &str, runs_index: &str) {
        println!("Run URL:    {run}");
        println!("Latest URL: {latest}");
        println!("Runs index: {runs_index}");
    }

    pub fn plan(&self, p: &PublishPlan) {
        println!("Plan (dry run: nothing is written or deleted)");
        for l in &p.lines {
            let noun = if l.objects == 1 && l.bytes.is_none() {
                "object "
            } else {
                "objects"
            };
            let bytes = l
                .bytes
                .map(|b| format!("  {b:>12} bytes"))
                .unwrap_or_default();
            println!(
                "  {:<6} {:<15} {:>6} {noun}{bytes}  {}",
                l.verb, l.what, l.objects, l.detail
            );
        }
        self.links(&p.run_url, &p.latest_url, &p.runs_index_url);
    }

    /// Prints the preflight table; true when nothing failed.
    pub fn check_table(&self, rows: &[Row]) -> bool {
        let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
        println!("{:width$}  STATUS  DETAIL", "CHECK");
        for r in rows {
            let status = match r.status {
                Status::Ok => "ok",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
            };
            println!("{:width$}  {status:<6}  {}", r.name, r.detail);
        }
        all_ok(rows)
    }

    /// An infra plan: numbered steps, or a plain "nothing to change".
    pub fn infra_plan(&self, title: &str, steps: &[String], dry_run: bool) {
        if steps.is_empty() {
            println!("{title}: nothing to change.");
            return;
        }
        let verb = if dry_run { "would take" } else { "takes" };
        println!("{title} {verb} {} step(s):", steps.len());
        for (i, step) in steps.iter().enumerate() {
            println!("  {}. {step}", i + 1);
        }
        if dry_run {
            println!("Dry run: nothing was changed.");
        }
    }

    /// A prune plan: one row per branch, then what each row removes.
    pub fn prune_plan(&self, lines: &[PruneLine], dry_run: bool) {
        if lines.is_empty() {
            println!("Nothing to prune.");
            return;
        }
        let title = if dry_run {
            "Prune plan (dry run: nothing is deleted)"
        } else {
            "Prune plan"
        };
        println!("{title}");
        println!(
            "  {:<16} {:<24} {:<13} {:>5} {:>5} {:>8} {:>10}",
            "PROJECT", "BRANCH", "ACTION", "RUNS", "KEPT", "OBJECTS", "BYTES"
        );
        for l in lines {
            println!(
                "  {:<16} {:<24} {:<13} {:>5} {:>5} {:>8} {:>10}",
                l.project,
                l.branch,
                l.action,
                l.runs,
                l.kept,
                l.objects,
                human_bytes(l.bytes)
            );
            println!("      {}", l.detail);
        }
        let objects: usize = lines.iter().map(|l| l.objects).sum();
        let bytes: u64 = lines.iter().map(|l| l.bytes).sum();
        let runs: usize = lines.iter().map(|l| l.runs).sum();
        println!(
            "Total: {runs} runs, {objects} objects, {} ({bytes} bytes)",
            human_bytes(bytes)
        );
    }

    /// Storage per branch, with a total per project.
    pub fn usage(&self, lines: &[UsageLine]) {
        let day = |t: Option<i64>| {
            t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "-".into())
        };
        println!(
            "{:<16} {:<24} {:>5} {:>8} {:>10} {:<10} {:<10}",
            "PROJECT", "BRANCH", "RUNS", "FILES", "BYTES", "OLDEST", "NEWEST"
        );
        for l in lines {
            println!(
                "{:<16} {:<24} {:>5} {:>8} {:>10} {:<10} {:<10}",
                l.project,
                l.branch,
                l.runs,
                l.files,
                human_bytes(l.bytes),
                day(l.oldest),
                day(l.newest)
            );
        }
        let (runs, files, bytes) = lines.iter().fold((0, 0, 0), |(r, f, b), l| {
            (r + l.runs, f + l.files, b + l.bytes)
        });
        println!(
            "{:<16} {:<24} {runs:>5} {files:>8} {:>10}",
            "total",
            format!("{} branches", lines.len()),
            human_bytes(bytes)
        );
    }

    pub fn infra_step_done(&self, step: &str) {
        println!("  done: {step}");
    }

    /// Ask a question on the terminal; the answer line.
    pub fn ask(&self, question: &str) -> std::io::Result<String> {
        use std::io::{BufRead, Write};
        print!("{question} [y/N] ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        Ok(answer)
    }

    pub fn json(&self, value: &serde_json::Value) -> Result<()> {
        println!("{}", serde_json::to_string_pretty(value)?);
        Ok(())
    }
}

/// An error already shown where its reader looks (the action's error
/// annotation): the process exits as for an error, without printing it again.
#[derive(Debug, thiserror::Error)]
#[error("the error above")]
pub struct Reported;

pub fn write_summary(path: &Path, s: &PublishSummary) -> Result<()> {
    write_atomic(path, &serde_json::to_vec_pretty(s)?)
}

/// Write beside the target and rename, so readers never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".part");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// `12.3 MB`, for terminal tables.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
