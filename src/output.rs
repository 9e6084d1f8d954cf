//! The one place that prints. Commands hand their results here; library
//! modules return data. Two modes: a terminal (notes and warnings on stderr,
//! results on stdout) and a GitHub Actions log (warnings, errors, groups and
//! masks as workflow commands). It writes to the process's stdout and
//! stderr, or to any two writers (a test reads what a command printed).

use std::fmt::{self, Display};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};

use crate::github::workflow;
use crate::model::checks::{Row, Status, all_ok};
use crate::model::plan::{PruneLine, PublishPlan, UsageLine};
use crate::model::summary::PublishSummary;
use crate::model::test_board::Scored;

/// Title of warnings and errors that have no more specific one.
const TITLE: &str = "allure-host";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Terminal,
    GitHub,
}

/// Where a stream of output goes.
pub type Sink = Arc<Mutex<dyn Write + Send>>;

/// A result line on the output's stdout.
macro_rules! say {
    ($o:expr, $($arg:tt)*) => { $o.write_line(&$o.out, format_args!($($arg)*)) };
}

/// A note, warning or error line on the output's stderr.
macro_rules! tell {
    ($o:expr, $($arg:tt)*) => { $o.write_line(&$o.err, format_args!($($arg)*)) };
}

#[derive(Clone)]
pub struct Output {
    mode: Mode,
    /// Inside a GitHub Actions job, whatever the mode: secrets must be
    /// masked before they are printed, or they stay in the log.
    masks: bool,
    out: Sink,
    err: Sink,
}

impl Output {
    pub fn new(mode: Mode) -> Self {
        Self::to(
            mode,
            Arc::new(Mutex::new(std::io::stdout())),
            Arc::new(Mutex::new(std::io::stderr())),
        )
    }

    /// Results to `out`, notes and terminal warnings to `err`.
    pub fn to(mode: Mode, out: Sink, err: Sink) -> Self {
        let in_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        Self {
            mode,
            masks: mode == Mode::GitHub || in_actions,
            out,
            err,
        }
    }

    /// A closed pipe or a full disk must not stop a publish halfway: what
    /// cannot be printed is dropped.
    fn write_line(&self, sink: &Sink, args: fmt::Arguments) {
        let mut w = sink.lock().unwrap_or_else(|e| e.into_inner());
        let _ = w.write_fmt(args).and_then(|()| w.write_all(b"\n"));
        let _ = w.flush();
    }

    /// Progress of a command, for people watching it run.
    pub fn note(&self, text: impl Display) {
        tell!(self, "{text}");
    }

    /// A result line (stdout).
    pub fn line(&self, text: impl Display) {
        say!(self, "{text}");
    }

    pub fn warning(&self, text: &str) {
        self.warning_titled(TITLE, text);
    }

    pub fn warning_titled(&self, title: &str, text: &str) {
        match self.mode {
            Mode::Terminal => tell!(self, "warning: {text}"),
            Mode::GitHub => say!(self, "{}", workflow::warning(title, text)),
        }
    }

    /// An error annotation; the terminal gets a plain `error:` line.
    pub fn error_titled(&self, title: &str, text: &str) {
        match self.mode {
            Mode::Terminal => tell!(self, "error: {title}: {text}"),
            Mode::GitHub => say!(self, "{}", workflow::error(title, text)),
        }
    }

    pub fn error(&self, text: &str) {
        self.error_titled(TITLE, text);
    }

    /// Start a collapsible log section (GitHub only).
    pub fn group(&self, title: &str) {
        if self.mode == Mode::GitHub {
            say!(self, "{}", workflow::group(title));
        }
    }

    pub fn end_group(&self) {
        if self.mode == Mode::GitHub {
            say!(self, "{}", workflow::end_group());
        }
    }

    /// Hide `secret` in every later log line (in a GitHub Actions job only).
    pub fn mask(&self, secret: &str) {
        if self.masks {
            for line in workflow::mask(secret) {
                say!(self, "{line}");
            }
        }
    }

    pub fn published(&self, s: &PublishSummary) {
        let st = &s.stats;
        say!(
            self,
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
            say!(self, "Quality gate: {}", gate.verdict());
            for r in gate.failed_rules() {
                say!(self, "  {}: {}", r.rule, r.message);
            }
        }
        if !s.latest_moved {
            say!(
                self,
                "Latest was not moved: a newer build is already shown there."
            );
        }
        if !s.pruned_runs.is_empty() {
            say!(
                self,
                "Removed {} old run(s): {}",
                s.pruned_runs.len(),
                s.pruned_runs.join(", ")
            );
        }
        self.links(&s.run_url, &s.latest_url, &s.runs_index_url);
        if let Some(l) = &s.links {
            say!(self, "Signed links, open until {}:", l.expires);
            say!(self, "  run:      {}", l.run);
            say!(self, "  latest:   {}", l.latest);
        } else if s.private_without_links() {
            say!(
                self,
                "This site opens only with signed links: set ALLURE_ACCESS_KEY, or run `allure-host share URL`."
            );
        }
        if let Some(dir) = &s.local_dir {
            say!(
                self,
                "View it:    allure-host serve {dir}   (then open the URLs above)"
            );
        }
    }

    fn links(&self, run: &str, latest: &str, runs_index: &str) {
        say!(self, "Run URL:    {run}");
        say!(self, "Latest URL: {latest}");
        say!(self, "Runs index: {runs_index}");
    }

    pub fn plan(&self, p: &PublishPlan) {
        say!(self, "Plan (dry run: nothing is written or deleted)");
        for step in &p.steps {
            say!(self, "  {step}");
        }
        let (objects, bytes) = p.freed;
        if objects > 0 {
            say!(
                self,
                "  The dropped runs' deletion would free {objects} objects, {bytes} bytes"
            );
        }
        self.links(&p.run_url, &p.latest_url, &p.runs_index_url);
    }

    /// Prints the preflight table; true when nothing failed.
    pub fn check_table(&self, rows: &[Row]) -> bool {
        let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
        say!(self, "{:width$}  STATUS  DETAIL", "CHECK");
        for r in rows {
            let status = match r.status {
                Status::Ok => "ok",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
            };
            say!(self, "{:width$}  {status:<6}  {}", r.name, r.detail);
        }
        all_ok(rows)
    }

    /// An infra plan: numbered steps, or a plain "nothing to change".
    pub fn infra_plan(&self, title: &str, steps: &[String], dry_run: bool) {
        if steps.is_empty() {
            say!(self, "{title}: nothing to change.");
            return;
        }
        let verb = if dry_run { "would take" } else { "takes" };
        say!(self, "{title} {verb} {} step(s):", steps.len());
        for (i, step) in steps.iter().enumerate() {
            say!(self, "  {}. {step}", i + 1);
        }
        if dry_run {
            say!(self, "Dry run: nothing was changed.");
        }
    }

    /// A prune plan: one row per branch, then what each row removes.
    pub fn prune_plan(&self, lines: &[PruneLine], dry_run: bool) {
        if lines.is_empty() {
            say!(self, "Nothing to prune.");
            return;
        }
        let title = if dry_run {
            "Prune plan (dry run: nothing is deleted)"
        } else {
            "Prune plan"
        };
        say!(self, "{title}");
        say!(
            self,
            "  {:<16} {:<24} {:<13} {:>5} {:>5} {:>8} {:>10}",
            "PROJECT",
            "BRANCH",
            "ACTION",
            "RUNS",
            "KEPT",
            "OBJECTS",
            "BYTES"
        );
        for l in lines {
            say!(
                self,
                "  {:<16} {:<24} {:<13} {:>5} {:>5} {:>8} {:>10}",
                l.project,
                l.branch,
                l.action,
                l.runs,
                l.kept,
                l.objects,
                human_bytes(l.bytes)
            );
            say!(self, "      {}", l.detail);
        }
        let objects: usize = lines.iter().map(|l| l.objects).sum();
        let bytes: u64 = lines.iter().map(|l| l.bytes).sum();
        let runs: usize = lines.iter().map(|l| l.runs).sum();
        say!(
            self,
            "Total: {runs} runs, {objects} objects, {} ({bytes} bytes)",
            human_bytes(bytes)
        );
    }

    /// One list of a branch's test history. Names and lines come from test
    /// results: control and direction characters are shown as `?`, so no
    /// name can colour, move or relabel the terminal.
    pub fn tests(&self, heading: &str, rows: &[Scored], of: usize) {
        say!(self, "{heading}: {} of {of} tests", rows.len());
        if rows.is_empty() {
            return;
        }
        say!(
            self,
            "{:>6} {:>9} {:>10} {:>8}  {}",
            "FLIP%",
            "FAILED",
            "LATEST",
            "×MEDIAN",
            "TEST"
        );
        for r in rows {
            let s = &r.score;
            let line = if r.line.is_empty() {
                String::new()
            } else {
                format!("  [{}]", printable(&r.line))
            };
            say!(
                self,
                "{:>5.0}% {:>9} {:>10} {:>8}  {}{line}",
                s.flip_rate * 100.0,
                format!("{}/{}", s.failed, s.runs),
                s.latest_ms
                    .map(|ms| format!("{ms} ms"))
                    .unwrap_or_else(|| "-".into()),
                s.slower_ratio
                    .map(|r| format!("{r:.1}"))
                    .unwrap_or_else(|| "-".into()),
                printable(&r.name)
            );
        }
    }

    /// Storage per branch, with a total per project.
    pub fn usage(&self, lines: &[UsageLine]) {
        let day = |t: Option<i64>| {
            t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "-".into())
        };
        say!(
            self,
            "{:<16} {:<24} {:>5} {:>8} {:>10} {:<10} {:<10}",
            "PROJECT",
            "BRANCH",
            "RUNS",
            "FILES",
            "BYTES",
            "OLDEST",
            "NEWEST"
        );
        for l in lines {
            say!(
                self,
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
        say!(
            self,
            "{:<16} {:<24} {runs:>5} {files:>8} {:>10}",
            "total",
            format!("{} branches", lines.len()),
            human_bytes(bytes)
        );
    }

    pub fn infra_step_done(&self, step: &str) {
        say!(self, "  done: {step}");
    }

    /// Ask a question on the terminal; the answer line.
    pub fn ask(&self, question: &str) -> std::io::Result<String> {
        use std::io::BufRead;
        {
            let mut w = self.out.lock().unwrap_or_else(|e| e.into_inner());
            write!(w, "{question} [y/N] ")?;
            w.flush()?;
        }
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        Ok(answer)
    }

    pub fn json(&self, value: &serde_json::Value) -> Result<()> {
        say!(self, "{}", serde_json::to_string_pretty(value)?);
        Ok(())
    }
}

/// `text` with control and bidirectional-override characters as `?`.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}');
            if c.is_control() || bidi { '?' } else { c }
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose bytes a test reads back.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn captured(mode: Mode) -> (Output, Buffer, Buffer) {
        let (out, err) = (Buffer::default(), Buffer::default());
        let output = Output::to(
            mode,
            Arc::new(Mutex::new(out.clone())),
            Arc::new(Mutex::new(err.clone())),
        );
        (output, out, err)
    }

    #[test]
    fn results_go_to_stdout_and_notes_and_warnings_to_stderr_on_a_terminal() {
        let (o, out, err) = captured(Mode::Terminal);
        o.line("Run URL: x");
        o.note("uploading");
        o.warning("slow");
        o.error("broken");
        o.group("hidden on a terminal");
        assert_eq!(out.text(), "Run URL: x\n");
        assert_eq!(
            err.text(),
            "uploading\nwarning: slow\nerror: allure-host: broken\n"
        );
    }

    #[test]
    fn in_github_mode_warnings_errors_and_groups_are_workflow_commands_on_stdout() {
        let (o, out, err) = captured(Mode::GitHub);
        o.group("Publish");
        o.warning("slow");
        o.error_titled("tests failed", "1 failed");
        o.end_group();
        o.mask("s3cr3t");
        let text = out.text();
        assert!(text.starts_with("::group::Publish\n"), "{text}");
        assert!(
            text.contains("::warning title=allure-host::slow\n"),
            "{text}"
        );
        assert!(
            text.contains("::error title=tests failed::1 failed\n"),
            "{text}"
        );
        assert!(text.contains("::endgroup::\n"), "{text}");
        assert!(text.contains("::add-mask::s3cr3t\n"), "{text}");
        assert_eq!(err.text(), "");
    }
}
