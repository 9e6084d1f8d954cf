//! What a prune removes, read before anything changes: per branch, the runs
//! the manifest stops listing and every object that then goes. A dry run
//! prints this plan; a real run deletes exactly its keys.

use std::collections::BTreeSet;

use anyhow::Result;

use crate::commands::site::{self, Branch, Site};
use crate::model::claim::{Claim, Verdict};
use crate::model::layout::Layout;
use crate::model::retention::{self, Dropped, Rules};
use crate::model::run_id::RunId;
use crate::state;
use crate::storage::Listed;

/// What to remove.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub rules: Rules,
    /// Drop runs of the branches that stay (by the rules, expired, gone).
    pub runs: bool,
    /// Only this branch (a name as published), removed whole.
    pub branch: Option<String>,
    /// The branch folders the repository still has; the others go whole.
    pub live: Option<BTreeSet<String>>,
}

/// Why a whole branch goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhyBranch {
    /// Named with --branch (or the action's cleanup event).
    Asked,
    /// The repository no longer has it.
    NotInRepository,
    /// Its pull request closed and the kept days are over.
    Due(i64),
}

pub struct BranchPlan {
    pub project: String,
    pub branch: String,
    pub layout: Layout,
    pub whole: Option<WhyBranch>,
    pub runs: Vec<Dropped>,
    /// Runs the branch keeps.
    pub kept: usize,
    /// Every object the plan deletes.
    pub keys: Vec<Listed>,
}

impl BranchPlan {
    pub fn bytes(&self) -> u64 {
        self.keys.iter().map(|k| k.size).sum()
    }
}

/// The plan for every project of `site`; branches with nothing to remove
/// are left out.
pub async fn plan(site: &Site, spec: &Spec, now: i64) -> Result<Vec<BranchPlan>> {
    let mut plans = Vec::new();
    for project in &site.projects {
        let branches = match &spec.branch {
            Some(name) => site::branch(site, project, name)
                .await?
                .into_iter()
                .collect(),
            None => site::branches(site, project).await?,
        };
        for branch in branches {
            if let Some(plan) = plan_branch(site, spec, branch, now).await? {
                plans.push(plan);
            }
        }
    }
    Ok(plans)
}

async fn plan_branch(
    site: &Site,
    spec: &Spec,
    branch: Branch,
    now: i64,
) -> Result<Option<BranchPlan>> {
    let store = &site.store;
    let whole = why_whole(spec, &branch, now);
    let (runs, keys) = match whole {
        Some(_) => {
            let runs = retention::all(&branch.manifest);
            let listed = store.list(&branch.layout.branch_root()).await?;
            let keys = without_runs_in_flight(site, &branch.layout, &runs, listed).await?;
            (runs, keys)
        }
        None if spec.runs => {
            let gone = state::run_files::gone(store, &branch.layout, &branch.manifest).await?;
            let runs = retention::select(&branch.manifest, &spec.rules, now, &gone);
            let keys = run_keys(site, &branch, &runs).await?;
            (runs, keys)
        }
        None => return Ok(None),
    };
    if whole.is_none() && runs.is_empty() {
        return Ok(None);
    }
    Ok(Some(BranchPlan {
        project: branch.project,
        branch: branch.name,
        kept: branch.manifest.runs.len() - runs.len(),
        layout: branch.layout,
        whole,
        runs,
        keys,
    }))
}

fn why_whole(spec: &Spec, branch: &Branch, now: i64) -> Option<WhyBranch> {
    if spec.branch.is_some() {
        return Some(WhyBranch::Asked);
    }
    if let Some(at) = branch.manifest.remove_after.filter(|at| *at <= now) {
        return Some(WhyBranch::Due(at));
    }
    spec.live
        .as_ref()
        .filter(|live| !live.contains(branch.layout.branch_segment()))
        .map(|_| WhyBranch::NotInRepository)
}

/// The objects of the dropped runs: each run's folder and its claim. A
/// listing per dropped run (plus one of the claims), or one listing of the
/// whole branch when that takes fewer requests: cost follows what goes.
async fn run_keys(site: &Site, branch: &Branch, runs: &[Dropped]) -> Result<Vec<Listed>> {
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let layout = &branch.layout;
    let folders = RunFolders::of(layout, runs);
    let files: u64 = branch.manifest.runs.iter().map(|r| r.files).sum();
    let branch_pages = files / LIST_PAGE + 1;
    if runs.len() as u64 > branch_pages {
        let all = site.store.list(&layout.branch_root()).await?;
        return Ok(all.into_iter().filter(|k| folders.holds(&k.key)).collect());
    }
    let mut keys: Vec<Listed> = site
        .store
        .list(&layout.claims_prefix())
        .await?
        .into_iter()
        .filter(|k| folders.holds(&k.key))
        .collect();
    for dropped in runs {
        if let Ok(run) = RunId::new(dropped.run_id.clone()) {
            keys.extend(site.store.list(&layout.run_root(&run)).await?);
        }
    }
    Ok(keys)
}

/// A branch's listing without the folders of runs being published now
/// (claimed, not yet listed): a publish racing the removal keeps its run,
/// and its manifest write brings the branch back with it.
async fn without_runs_in_flight(
    site: &Site,
    layout: &Layout,
    listed_runs: &[Dropped],
    keys: Vec<Listed>,
) -> Result<Vec<Listed>> {
    let listed = RunFolders::of(layout, listed_runs);
    let claims = layout.claims_prefix();
    let now = chrono::Utc::now().timestamp();
    let mut in_flight = BTreeSet::new();
    for key in keys.iter().map(|k| &k.key).filter(|k| !listed.holds(k)) {
        let Some(segment) = key
            .strip_prefix(&claims)
            .and_then(|name| name.strip_suffix(".json"))
        else {
            continue;
        };
        let stored = site.store.get(key).await?;
        let verdict = Claim::judge(stored.as_ref().map(|o| o.body.as_slice()), now);
        if !matches!(verdict, Verdict::Free { .. }) {
            in_flight.insert(segment.to_string());
        }
    }
    if in_flight.is_empty() {
        return Ok(keys);
    }
    let keep = RunFolders::at(layout, in_flight);
    Ok(keys.into_iter().filter(|k| !keep.holds(&k.key)).collect())
}

/// Keys per ListObjectsV2 page.
const LIST_PAGE: u64 = 1000;

/// The folders and claims of some runs of a branch.
pub struct RunFolders {
    branch_root: String,
    claims: String,
    segments: BTreeSet<String>,
}

impl RunFolders {
    pub fn of(layout: &Layout, runs: &[Dropped]) -> Self {
        let segments = runs
            .iter()
            .filter_map(|d| RunId::new(d.run_id.clone()).ok())
            .map(|r| r.segment().to_string())
            .collect();
        Self::at(layout, segments)
    }

    /// Run folders named by their key segments.
    fn at(layout: &Layout, segments: BTreeSet<String>) -> Self {
        Self {
            branch_root: layout.branch_root(),
            claims: layout.claims_prefix(),
            segments,
        }
    }

    /// True for a key inside one of the runs' folders, or a run's claim.
    pub fn holds(&self, key: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::retention::Reason;

    #[test]
    fn run_folders_hold_their_files_and_claims_only() {
        let layout = Layout::new("reports", "shop", "main").unwrap();
        let runs = [Dropped {
            run_id: "r1".into(),
            reason: Reason::Count,
        }];
        let f = RunFolders::of(&layout, &runs);
        assert!(f.holds("reports/shop/main/r1/index.html"));
        assert!(f.holds("reports/shop/main/r1/data/x.json"));
        assert!(f.holds("reports/shop/main/runs/claims/r1.json"));
        for other in [
            "reports/shop/main/r10/index.html",
            "reports/shop/main/runs/claims/r10.json",
            "reports/shop/main/runs/index.json",
            "reports/shop/main/latest.json",
            "reports/shop/dev/r1/index.html",
        ] {
            assert!(!f.holds(other), "{other}");
        }
    }
}
