//! A plan carried out in the order that keeps readers safe: the manifest
//! stops listing the runs (and its pages follow), then the project page's
//! row, then the files, then the test history forgets them. A run
//! published while the prune ran is listed after the plan was read, so it
//! is in no plan and keeps its files.

use std::collections::BTreeSet;

use anyhow::{Context, Result};

use super::plan::{BranchPlan, RunFolders};
use crate::state;
use crate::storage::{Listed, Store};

/// What one branch's plan came to.
pub struct Done {
    pub runs: usize,
    pub objects: usize,
    pub bytes: u64,
    /// The branch was to go whole, but runs were published meanwhile: only
    /// the planned runs went. Their ids.
    pub kept_new: Vec<String>,
    /// Why the test history still names the pruned runs, if it does.
    pub history_problem: Option<String>,
}

async fn forget_in_history(store: &Store, plan: &BranchPlan) -> Result<(), state::StateError> {
    let branch = state::test_history::Branch {
        layout: &plan.layout,
        project: &plan.project,
        branch: &plan.branch,
    };
    let gone: BTreeSet<String> = plan.runs.iter().map(|d| d.run_id.clone()).collect();
    state::test_history::forget(store, branch, &gone).await
}

pub async fn apply(store: &Store, plan: &BranchPlan) -> Result<Done> {
    let layout = &plan.layout;
    let left = state::manifest::remove_runs(store, layout, &plan.runs).await?;
    let left = left.as_ref();
    let whole = plan.whole.is_some() && left.is_none_or(|m| m.runs.is_empty());
    if whole {
        state::project::forget_branch(store, layout).await?;
    } else if let Some(m) = left {
        state::project::refresh_branch(store, layout, m).await?;
    }
    let runs = RunFolders::of(layout, &plan.runs);
    let (in_runs, branch_docs): (Vec<&Listed>, Vec<&Listed>) =
        plan.keys.iter().partition(|k| runs.holds(&k.key));
    let mut doomed = vec![in_runs];
    if whole {
        // The branch's own documents (manifest, pointers, pages) go last, so
        // an interrupted removal still finds the branch to finish it.
        doomed.push(branch_docs);
    }
    let (mut objects, mut bytes) = (0, 0);
    for keys in doomed.into_iter().filter(|k| !k.is_empty()) {
        objects += keys.len();
        bytes += keys.iter().map(|k| k.size).sum::<u64>();
        store
            .delete(keys.iter().map(|k| k.key.clone()).collect())
            .await
            .with_context(|| {
                format!(
                    "{} / {}: the manifest no longer lists the pruned runs, but some of their objects could not be deleted and remain (named below); delete them by hand, e.g. with `aws s3 rm`",
                    plan.project, plan.branch
                )
            })?;
    }
    // The test history follows the files, and cannot stop the prune: its
    // runs are already unlisted and deleted.
    let history_problem = if whole {
        None
    } else {
        forget_in_history(store, plan)
            .await
            .err()
            .map(|e| e.to_string())
    };
    Ok(Done {
        history_problem,
        runs: plan.runs.len(),
        objects,
        bytes,
        kept_new: match left {
            Some(m) if plan.whole.is_some() && !whole => {
                m.runs.iter().map(|r| r.run_id.clone()).collect()
            }
            _ => Vec::new(),
        },
    })
}
