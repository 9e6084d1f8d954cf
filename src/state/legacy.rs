//! What pytest-allure-host left in a bucket we take over: its full copy of
//! the newest report under `latest/` (with `LATEST_READY`), and its list of
//! branches. Its runs, manifests and pointers are read as they are.

use super::{StateError, no_cache};
use crate::model::layout::Layout;
use crate::model::pointer::BranchEntry;
use crate::storage::PutMode;
use crate::storage::{ObjectKey, Store};

/// Delete the report copy under the branch's `latest/`, keeping our page.
/// Call only after our pointer has moved. Returns how many objects went.
pub async fn remove_latest_copy(store: &Store, layout: &Layout) -> Result<usize, StateError> {
    let ours = layout.latest_page();
    let stale: Vec<String> = store
        .list(&layout.latest_prefix())
        .await?
        .into_iter()
        .map(|l| l.key)
        .filter(|k| ours != *k)
        .collect();
    let count = stale.len();
    if count > 0 {
        store.delete(stale).await?;
    }
    Ok(count)
}

/// The branches pytest-allure-host listed for the project (none when it
/// left no list, or one we cannot read).
pub async fn branches(store: &Store, layout: &Layout) -> Result<Vec<BranchEntry>, StateError> {
    Ok(match store.get(&layout.legacy_branches_index()).await? {
        Some(obj) => BranchEntry::from_legacy_list(&obj.body),
        None => Vec::new(),
    })
}

/// pytest-allure-host's page of every branch's runs stops at the last run it
/// published; when it is there, send its readers to the project page, which
/// lists every branch (its own and ours) and links each branch's runs.
pub async fn retire_all_runs_page(store: &Store, layout: &Layout) -> Result<bool, StateError> {
    let data = layout.legacy_all_runs_index();
    let page = layout.legacy_all_runs_page();
    retire(store, &data, &page, "../../index.html", "the project page").await
}

/// pytest-allure-host's `runs/trend.html` reads the history of its latest
/// copy, which is gone once taken over; our runs page shows the trend.
pub async fn retire_trend_page(store: &Store, layout: &Layout) -> Result<bool, StateError> {
    let page = layout.legacy_trend_page();
    let what = "the runs page, with its trend charts";
    retire(store, &page, &page, "index.html", what).await
}

/// When `probe` exists, replace `page` with one that sends readers to `href`.
async fn retire(
    store: &Store,
    probe: &str,
    page: &ObjectKey,
    href: &str,
    what: &str,
) -> Result<bool, StateError> {
    if store.get(probe).await?.is_none() {
        return Ok(false);
    }
    let html = crate::pages::moved(href, what);
    store
        .put_bytes(page, html.into_bytes(), &no_cache(page), PutMode::Overwrite)
        .await?;
    Ok(true)
}
