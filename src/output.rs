//! Everything the publish prints on stdout, and the summary JSON file.

use std::path::Path;

use anyhow::{Context, Result};

use crate::checks::{Row, Status, all_ok};
use crate::commands::publish::PublishSummary;

pub fn published(s: &PublishSummary) {
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
    println!("Run URL:    {}", s.run_url);
    println!("Latest URL: {}", s.latest_url);
    println!("Runs index: {}", s.runs_index_url);
}

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

/// Prints the preflight table; true when nothing failed.
pub fn check_table(rows: &[Row]) -> bool {
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
pub fn infra_plan(title: &str, steps: &[String], dry_run: bool) {
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

pub fn infra_step_done(step: &str) {
    println!("  done: {step}");
}

pub fn infra_note(text: &str) {
    println!("{text}");
}

pub fn json(value: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
