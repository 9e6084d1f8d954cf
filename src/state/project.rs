//! `<project>/index.json` and the project page: one row per branch.

use chrono::Utc;

use super::legacy;
use super::page::write_if_newer;
use super::{StateError, no_cache};
use crate::model::layout::Layout;
use crate::model::manifest::Manifest;
use crate::model::pointer::{BranchEntry, ProjectIndex};
use crate::pages;
use crate::storage::Store;
use crate::storage::cas::{self, Step};

/// What an update of the index came to.
enum Outcome {
    Written(ProjectIndex),
    Unchanged,
    /// The project has no index of ours yet: start from pytest-allure-host's.
    NeedsSeed,
}

/// Record `entry` as its branch's newest run unless a newer one is listed.
/// The first record of a project lists the branches pytest-allure-host
/// published, so taking a bucket over keeps them on the project page.
pub async fn record(
    store: &Store,
    layout: &Layout,
    project: &str,
    entry: BranchEntry,
) -> Result<(), StateError> {
    let mut seed = None;
    let index = loop {
        match update(store, layout, project, &entry, seed.as_ref()).await? {
            Outcome::NeedsSeed => {
                seed = Some(legacy::branches(store, layout).await?);
                legacy::retire_all_runs_page(store, layout).await?;
            }
            Outcome::Written(index) => break Some(index),
            Outcome::Unchanged => break None,
        }
    };
    if let Some(index) = index {
        let page = pages::project(&index);
        write_if_newer(store, &layout.project_page(), page, index.revision).await?;
    }
    Ok(())
}

async fn update(
    store: &Store,
    layout: &Layout,
    project: &str,
    entry: &BranchEntry,
    seed: Option<&Vec<BranchEntry>>,
) -> Result<Outcome, StateError> {
    let key = layout.project_index();
    let outcome = cas::update(store, &key, &no_cache(&key), |current| {
        let found = current.and_then(ProjectIndex::parse);
        let mut index = match (found, seed) {
            (Some(index), _) => index,
            (None, None) => return Ok(Step::Keep(Outcome::NeedsSeed)),
            (None, Some(rows)) => ProjectIndex::seeded(project, rows.clone()),
        };
        Ok::<_, std::convert::Infallible>(if index.upsert(entry.clone(), Utc::now().timestamp()) {
            Step::Write(index.to_json(), Outcome::Written(index))
        } else {
            Step::Keep(Outcome::Unchanged)
        })
    })
    .await?;
    Ok(outcome)
}

/// Drop the branch's row (the branch was removed) and rewrite the page.
pub async fn forget_branch(store: &Store, layout: &Layout) -> Result<(), StateError> {
    let segment = layout.branch_segment().to_string();
    edit(store, layout, |index, now| index.remove(&segment, now)).await
}

/// The branch's row follows `manifest` after runs were removed from it.
pub async fn refresh_branch(
    store: &Store,
    layout: &Layout,
    manifest: &Manifest,
) -> Result<(), StateError> {
    let segment = layout.branch_segment().to_string();
    edit(store, layout, |index, now| {
        index.refresh(&segment, manifest, now)
    })
    .await
}

/// Change an existing index by CAS; rewrite the page when it changed.
async fn edit(
    store: &Store,
    layout: &Layout,
    change: impl Fn(&mut ProjectIndex, i64) -> bool,
) -> Result<(), StateError> {
    let key = layout.project_index();
    let written = cas::update(store, &key, &no_cache(&key), |current| {
        let Some(mut index) = current.and_then(ProjectIndex::parse) else {
            return Ok(Step::Keep(None));
        };
        Ok::<_, std::convert::Infallible>(if change(&mut index, Utc::now().timestamp()) {
            Step::Write(index.to_json(), Some(index))
        } else {
            Step::Keep(None)
        })
    })
    .await?;
    if let Some(index) = written {
        let page = pages::project(&index);
        write_if_newer(store, &layout.project_page(), page, index.revision).await?;
    }
    Ok(())
}
