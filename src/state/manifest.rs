//! `runs/index.json` and the runs page rendered from it.

use chrono::Utc;

use super::page::write_if_newer;
use super::{StateError, no_cache};
use crate::model::layout::Layout;
use crate::model::manifest::{Manifest, ManifestError, RunEntry};
use crate::pages;
use crate::storage::Store;
use crate::storage::cas::{self, Step};

/// The branch's manifest; an empty one when the branch has none yet.
pub async fn read(store: &Store, layout: &Layout) -> Result<Manifest, StateError> {
    let key = layout.manifest();
    match store.get(&key).await? {
        None => Ok(Manifest::empty("", "")),
        Some(obj) => Manifest::parse(&obj.body).map_err(|source| unreadable(store, &key, source)),
    }
}

fn unreadable(store: &Store, key: &str, source: ManifestError) -> StateError {
    StateError::UnreadableManifest {
        location: store.location(key),
        source,
    }
}

/// Add `entry`, keep the newest `keep` runs, and write the pages derived
/// from the manifest: the runs page, the branch's latest page and the
/// latest page of the entry's leg. Returns the manifest as written and the
/// runs it no longer lists.
pub async fn add_run(
    store: &Store,
    layout: &Layout,
    entry: RunEntry,
    keep: Option<u32>,
) -> Result<(Manifest, Vec<RunEntry>), StateError> {
    let key = layout.manifest();
    let (project, branch) = (entry.project.clone(), entry.branch.clone());
    let entry_leg = entry.variant.clone();
    let (manifest, pruned) = cas::update(store, &key, &no_cache(&key), |current| {
        let mut manifest = match current {
            Some(bytes) => Manifest::parse(bytes).map_err(|e| unreadable(store, &key, e))?,
            None => Manifest::empty(&project, &branch),
        };
        manifest.project = project.clone();
        manifest.branch = branch.clone();
        let pruned = manifest
            .add_run(entry.clone(), keep, Utc::now().timestamp())
            .map_err(|e| match e {
                ManifestError::Duplicate(id) => StateError::RunTaken(id),
                other => unreadable(store, &key, other),
            })?;
        Ok::<_, StateError>(Step::Write(manifest.to_json(), (manifest, pruned)))
    })
    .await?;
    write_pages(store, layout, &manifest, entry_leg.as_deref()).await?;
    Ok((manifest, pruned))
}

async fn write_pages(
    store: &Store,
    layout: &Layout,
    manifest: &Manifest,
    leg: Option<&str>,
) -> Result<(), StateError> {
    let revision = manifest.revision;
    write_if_newer(store, &layout.runs_page(), pages::runs(manifest), revision).await?;
    if let Some(page) = pages::branch_latest(manifest) {
        write_if_newer(store, &layout.latest_page(), page, revision).await?;
    }
    if let Some(leg) = leg
        && let Some(page) = pages::leg_latest(manifest, leg)
    {
        write_if_newer(store, &layout.leg_latest_page(leg), page, revision).await?;
    }
    Ok(())
}
