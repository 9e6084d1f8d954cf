//! The reports prune and usage walk: the store, and the projects and
//! branches found in it (folders with a manifest of ours).

use anyhow::Result;

use crate::cli::SiteArgs;
use crate::model::layout::Layout;
use crate::model::manifest::Manifest;
use crate::output::Output;
use crate::settings::{self, Settings};
use crate::state;
use crate::storage::Store;

pub struct Site {
    pub store: Store,
    pub settings: Settings,
    /// Project folders (key segments) to walk.
    pub projects: Vec<String>,
}

/// A branch found in the store, with its manifest as read.
pub struct Branch {
    pub layout: Layout,
    /// The branch name as published (the folder when the manifest has none).
    pub name: String,
    pub project: String,
    pub manifest: Manifest,
}

pub async fn open(args: &SiteArgs, write: bool, out: &Output) -> Result<Site> {
    let (settings, warnings) = settings::load(&args.settings, args.config.as_deref())?;
    for w in warnings {
        out.warning(&w);
    }
    from_settings(settings, args.all_projects, write, out).await
}

/// The configured project (or every project under the prefix).
pub async fn from_settings(
    settings: Settings,
    all_projects: bool,
    write: bool,
    out: &Output,
) -> Result<Site> {
    let store = super::open_store(&settings.target, write, out).await?;
    if write {
        super::conditions::require(&store, settings.accept_unconditional_writes, out).await?;
    }
    let root = Layout::new(&settings.place.prefix, &settings.place.project, "main")?;
    let projects = if all_projects {
        let folders = store.list_folders(root.prefix_root()).await?;
        // `~allure-host/` (the access record) is the site's, not a project.
        folders
            .into_iter()
            .filter(|f| !f.starts_with('~'))
            .collect()
    } else {
        vec![root.project_segment().to_string()]
    };
    Ok(Site {
        store,
        settings,
        projects,
    })
}

/// The branches of `project` (a folder): every folder with a manifest.
/// The pages' assets and pull request state (`~…`) are not branches.
pub async fn branches(site: &Site, project: &str) -> Result<Vec<Branch>> {
    let root = Layout::from_segments(&site.settings.place.prefix, project, "b")?;
    let mut out = Vec::new();
    for folder in site.store.list_folders(&root.project_root()).await? {
        if folder.starts_with('~') {
            continue;
        }
        let Ok(layout) = Layout::from_segments(&site.settings.place.prefix, project, &folder)
        else {
            continue;
        };
        out.extend(found(site, project, layout).await?);
    }
    Ok(out)
}

/// One branch by name, when the store has it.
pub async fn branch(site: &Site, project: &str, name: &str) -> Result<Option<Branch>> {
    let segment = Layout::branch_segment_of(name)?;
    let layout = Layout::from_segments(&site.settings.place.prefix, project, &segment)?;
    found(site, project, layout).await
}

async fn found(site: &Site, project: &str, layout: Layout) -> Result<Option<Branch>> {
    let Some(manifest) = state::manifest::find(&site.store, &layout).await? else {
        return Ok(None);
    };
    Ok(Some(Branch {
        name: non_empty(&manifest.branch, layout.branch_segment()),
        project: non_empty(&manifest.project, project),
        layout,
        manifest,
    }))
}

fn non_empty(s: &str, or: &str) -> String {
    if s.is_empty() { or } else { s }.to_string()
}
