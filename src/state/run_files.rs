//! The files of one run's report, as retention lists and removes them.

use std::collections::BTreeSet;

use super::StateError;
use crate::model::layout::Layout;
use crate::model::manifest::Manifest;
use crate::model::run_id::RunId;
use crate::storage::{Listed, Store};

/// Every object of `run`'s report.
pub async fn list(store: &Store, layout: &Layout, run: &RunId) -> Result<Vec<Listed>, StateError> {
    Ok(store.list(&layout.run_root(run)).await?)
}

/// Remove `run`'s report; returns how many report objects were deleted.
pub async fn delete(store: &Store, layout: &Layout, run: &RunId) -> Result<usize, StateError> {
    let keys: Vec<String> = list(store, layout, run)
        .await?
        .into_iter()
        .map(|l| l.key)
        .collect();
    let count = keys.len();
    if count > 0 {
        store.delete(keys).await?;
    }
    Ok(count)
}

/// Remove `run`'s report and its claim: the run id is free again.
pub async fn delete_with_claim(
    store: &Store,
    layout: &Layout,
    run: &RunId,
) -> Result<usize, StateError> {
    let count = delete(store, layout, run).await?;
    store.delete(vec![layout.claim(run).into_string()]).await?;
    Ok(count)
}

/// The runs `manifest` lists whose folder is gone (S3's `ttl-days` rule, or
/// a hand): one folder listing of the branch, no request per run.
/// `manifest` must have been read before this call, so every run it lists
/// was complete before the listing started.
pub async fn gone(
    store: &Store,
    layout: &Layout,
    manifest: &Manifest,
) -> Result<BTreeSet<String>, StateError> {
    if manifest.runs.is_empty() {
        return Ok(BTreeSet::new());
    }
    let folders: BTreeSet<String> = store
        .list_folders(&layout.branch_root())
        .await?
        .into_iter()
        .collect();
    Ok(manifest
        .runs
        .iter()
        .filter(|r| RunId::new(r.run_id.clone()).is_ok_and(|id| !folders.contains(id.segment())))
        .map(|r| r.run_id.clone())
        .collect())
}
