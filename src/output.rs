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
    let json = serde_json::to_vec_pretty(s)?;
    // Write beside the target and rename, so readers never see half a file.
    let tmp = path.with_extension("json.part");
    std::fs::write(&tmp, json).with_context(|| format!("cannot write {}", tmp.display()))?;
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
