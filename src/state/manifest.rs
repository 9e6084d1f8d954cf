//! `runs/index.json` and the runs page rendered from it.

use std::collections::BTreeSet;

use chrono::Utc;

use super::page::write_if_newer;
use super::{StateError, no_cache};
use crate::model::layout::Layout;
use crate::model::manifest::{Manifest, ManifestError, RunEntry};
use crate::model::retention::{Dropped, Rules};
use crate::pages;
use crate::storage::Store;
use crate::storage::cas::{self, Step};

/// The branch's manifest; an empty one when the branch has none yet.
pub async fn read(store: &Store, layout: &Layout) -> Result<Manifest, StateError> {
    Ok(find(store, layout)
        .await?
        .unwrap_or_else(|| Manifest::empty("", "")))
}

/// The branch's manifest, when it has one.
pub async fn find(store: &Store, layout: &Layout) -> Result<Option<Manifest>, StateError> {
    let key = layout.manifest();
    match store.get(&key).await? {
        None => Ok(None),
        Some(obj) => Manifest::parse(&obj.body)
            .map(Some)
            .map_err(|source| unreadable(store, &key, source)),
    }
}

fn unreadable(store: &Store, key: &str, source: ManifestError) -> StateError {
    StateError::UnreadableManifest {
        location: store.location(key),
        source,
    }
}

/// Add `entry`, drop what `rules` drop (and runs found `gone`), and write
/// the pages derived from the manifest: the runs page, the branch's latest
/// page and the latest page of the entry's leg. Returns the manifest as
/// written and the runs it no longer lists.
pub async fn add_run(
    store: &Store,
    layout: &Layout,
    entry: RunEntry,
    rules: &Rules,
    gone: &BTreeSet<String>,
) -> Result<(Manifest, Vec<RunEntry>), StateError> {
    let key = layout.manifest();
    let (project, branch) = (entry.project.clone(), entry.branch.clone());
    let entry_leg = entry.variant.clone();
    let (manifest, pruned) = cas::update(store, &key, &no_cache(&key), |current| {
        let mut manifest = match current {
            Some(bytes) => Manifest::parse(bytes).map_err(|e| unreadable(store, &key, e))?,
            None => Manifest::empty(&project, &branch),
        };
        // Our own write landed but its answer was lost (a timeout, a 5xx), and
        // the retry met a changed etag: our exact entry is listed, so the run
        // is published. (What that write pruned goes unnoticed here: its files
        // stay, unlisted, until removed by hand; never the other way round.)
        if manifest.runs.contains(&entry) {
            return Ok(Step::Keep((manifest, Vec::new())));
        }
        manifest.project = project.clone();
        manifest.branch = branch.clone();
        let pruned = manifest
            .add_run(entry.clone(), rules, Utc::now().timestamp(), gone)
            .map_err(|e| match e {
                ManifestError::Duplicate(id) => StateError::RunTaken(id),
                other => unreadable(store, &key, other),
            })?;
        Ok::<_, StateError>(Step::Write(manifest.to_json(), (manifest, pruned)))
    })
    .await?;
    write_pages(store, layout, &manifest, entry_leg.as_slice()).await?;
    Ok((manifest, pruned))
}

/// Stop listing the `dropped` runs (those still listed) and rewrite the
/// pages, every leg's included. Returns the manifest as written (None when
/// the branch has none).
pub async fn remove_runs(
    store: &Store,
    layout: &Layout,
    dropped: &[Dropped],
) -> Result<Option<Manifest>, StateError> {
    change(store, layout, |m, now| {
        m.remove_runs(dropped, now);
    })
    .await
}

/// Mark the branch for removal after `at`, or clear the mark.
pub async fn set_remove_after(
    store: &Store,
    layout: &Layout,
    at: Option<i64>,
) -> Result<(), StateError> {
    change(store, layout, |m, now| m.set_remove_after(at, now)).await?;
    Ok(())
}

/// Apply `edit` to an existing manifest by CAS, then rewrite its pages when
/// the revision moved.
async fn change(
    store: &Store,
    layout: &Layout,
    edit: impl Fn(&mut Manifest, i64),
) -> Result<Option<Manifest>, StateError> {
    let key = layout.manifest();
    let outcome = cas::update(store, &key, &no_cache(&key), |current| {
        let Some(bytes) = current else {
            return Ok(Step::Keep(None));
        };
        let mut manifest = Manifest::parse(bytes).map_err(|e| unreadable(store, &key, e))?;
        let before = manifest.revision;
        edit(&mut manifest, Utc::now().timestamp());
        Ok::<_, StateError>(if manifest.revision == before {
            Step::Keep(Some((manifest, false)))
        } else {
            Step::Write(manifest.to_json(), Some((manifest, true)))
        })
    })
    .await?;
    let Some((manifest, written)) = outcome else {
        return Ok(None);
    };
    if written {
        let legs: Vec<String> = manifest
            .runs
            .iter()
            .filter_map(|r| r.variant.clone())
            .collect();
        write_pages(store, layout, &manifest, &legs).await?;
    }
    Ok(Some(manifest))
}

async fn write_pages(
    store: &Store,
    layout: &Layout,
    manifest: &Manifest,
    legs: &[String],
) -> Result<(), StateError> {
    let revision = manifest.revision;
    write_if_newer(store, &layout.runs_page(), pages::runs(manifest), revision).await?;
    if let Some(page) = pages::branch_latest(manifest) {
        write_if_newer(store, &layout.latest_page(), page, revision).await?;
    }
    let unique: BTreeSet<&String> = legs.iter().collect();
    for leg in unique {
        if let Some(page) = pages::leg_latest(manifest, leg) {
            write_if_newer(store, &layout.leg_latest_page(leg), page, revision).await?;
        }
    }
    Ok(())
}
