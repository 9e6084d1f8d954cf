//! A plan carried out in the order that keeps readers safe: the manifest
//! stops listing the runs (and its pages follow), then the project page's
//! row, then the files. A run published while the prune ran is listed after
//! the plan was read, so it is in no plan and keeps its files.

use std::collections::BTreeSet;

use anyhow::Result;

use super::plan::BranchPlan;
use crate::model::manifest::Manifest;
use crate::model::run_id::RunId;
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
}

pub async fn apply(store: &Store, plan: &BranchPlan) -> Result<Done> {
    let layout = &plan.layout;
    let listed = state::manifest::remove_runs(store, layout, &plan.runs).await?;
    let left: Option<&Manifest> = listed.as_ref().map(|(m, _)| m);
    let whole = plan.whole.is_some() && left.is_none_or(|m| m.runs.is_empty());
    if whole {
        state::project::forget_branch(store, layout).await?;
    } else if let Some(m) = left {
        state::project::refresh_branch(store, layout, m).await?;
    }
    let runs = RunFolders::of(plan);
    let mut keys: Vec<&Listed> = plan
        .keys
        .iter()
        .filter(|k| whole || runs.holds(&k.key))
        .collect();
    // The branch's own documents (manifest, pointers, pages) go last.
    keys.sort_by_key(|k| !runs.holds(&k.key));
    let (objects, bytes) = (keys.len(), keys.iter().map(|k| k.size).sum());
    if !keys.is_empty() {
        store
            .delete(keys.iter().map(|k| k.key.clone()).collect())
            .await?;
    }
    Ok(Done {
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

/// The folders and claims of a plan's runs.
struct RunFolders {
    branch_root: String,
    claims: String,
    segments: BTreeSet<String>,
}

impl RunFolders {
    fn of(plan: &BranchPlan) -> Self {
        Self {
            branch_root: plan.layout.branch_root(),
            claims: plan.layout.claims_prefix(),
            segments: plan
                .runs
                .iter()
                .filter_map(|d| RunId::new(d.run_id.clone()).ok())
                .map(|r| r.segment().to_string())
                .collect(),
        }
    }

    /// True for a key inside a planned run's folder, or its claim.
    fn holds(&self, key: &str) -> bool {
        if let Some(name) = key.strip_prefix(&self.claims) {
            return name
                .strip_suffix(".json")
                .is_some_and(|seg| self.segments.contains(seg));
        }
        key.strip_prefix(&self.branch_root)
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(seg, _)| self.segments.contains(seg))
    }
}
