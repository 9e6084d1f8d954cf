//! `<project>/index.json` and the project page: one row per branch.

use chrono::Utc;

use super::page::write_if_newer;
use super::{StateError, no_cache};
use crate::model::layout::Layout;
use crate::model::pointer::{BranchEntry, ProjectIndex};
use crate::pages;
use crate::storage::Store;
use crate::storage::cas::{self, Step};

/// Record `entry` as its branch's newest run unless a newer one is listed.
pub async fn record(
    store: &Store,
    layout: &Layout,
    project: &str,
    entry: BranchEntry,
) -> Result<(), StateError> {
    let key = layout.project_index();
    let index = cas::update(store, &key, &no_cache(&key), |current| {
        let mut index = current
            .and_then(ProjectIndex::parse)
            .unwrap_or_else(|| ProjectIndex::empty(project));
        Ok::<_, std::convert::Infallible>(if index.upsert(entry.clone(), Utc::now().timestamp()) {
            Step::Write(index.to_json(), Some(index))
        } else {
            Step::Keep(None)
        })
    })
    .await?;
    if let Some(index) = index {
        let page = pages::project(&index);
        write_if_newer(store, &layout.project_page(), page, index.revision).await?;
    }
    Ok(())
}
