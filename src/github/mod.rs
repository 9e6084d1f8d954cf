//! GitHub Actions: the runner's environment and the action's inputs, workflow
//! commands, step outputs, the job summary, artifacts, OIDC credentials and
//! the pull request comment.

pub mod api;
pub mod artifacts;
pub mod check_run;
pub mod context;
pub mod extract;
pub mod oidc;
pub mod outputs;
pub mod pr_comment;
pub mod step_summary;
pub mod workflow;

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Append `text` in one write to a runner file command (`GITHUB_OUTPUT`,
/// `GITHUB_STEP_SUMMARY`); `what` names it in errors.
pub fn append_file(path: &Path, text: &str, what: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {what} {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {what} {}", path.display()))
}
