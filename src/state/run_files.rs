//! The files of one run's report, as retention lists and removes them.

use super::StateError;
use crate::model::layout::Layout;
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
    store.delete(vec![layout.claim(run)]).await?;
    Ok(count)
}
