//! Where the run goes and as what: the layout, the store, the branch's
//! manifest, the run id, its build number and the run shown as latest now.

use anyhow::{Result, bail};
use chrono::Utc;

use crate::model::layout::Layout;
use crate::model::manifest::Manifest;
use crate::model::pointer::LatestPointer;
use crate::model::run_id::{self, RunId};
use crate::output::Output;
use crate::report::results;
use crate::settings::{Settings, Source};
use crate::state;
use crate::storage::Store;

/// The URLs readers follow.
pub struct Urls {
    pub run: String,
    pub latest: String,
    pub runs_index: String,
}

pub struct Prepared {
    pub layout: Layout,
    pub store: Store,
    pub manifest: Manifest,
    pub run: RunId,
    pub build_order: u64,
    /// The run shown as latest before this publish.
    pub previous: Option<LatestPointer>,
    pub urls: Urls,
}

pub async fn prepare(settings: &Settings, dry_run: bool, out: &Output) -> Result<Prepared> {
    let layout = Layout::new(&settings.prefix, &settings.project, &settings.branch)?;
    check_source(&settings.source, out)?;
    let store = crate::commands::open_store(&settings.target, !dry_run, out).await?;
    let manifest = state::manifest::read(&store, &layout).await?;
    let run = choose_run_id(settings, &manifest)?;
    let urls = Urls {
        run: url_for(settings, &store, &layout.run_file(&run, "index.html")),
        latest: url_for(settings, &store, &layout.latest_page()),
        runs_index: url_for(settings, &store, &layout.runs_page()),
    };
    out.note(format_args!(
        "Publishing {} / {} run {run} to {}",
        settings.project,
        settings.branch,
        store.location(&layout.run_root(&run))
    ));
    let previous = state::latest::read(&store, &layout).await?;
    let floor = manifest.max_build_order();
    let build_order = if dry_run {
        state::build_counter::peek(&store, &layout, floor).await?
    } else {
        state::build_counter::reserve(&store, &layout, floor).await?
    };
    Ok(Prepared {
        layout,
        store,
        manifest,
        run,
        build_order,
        previous,
        urls,
    })
}

fn check_source(source: &Source, out: &Output) -> Result<()> {
    match source {
        Source::Results(dir) => {
            let info = results::check(dir)?;
            out.note(format_args!(
                "Results: {} ({} results, {} containers)",
                dir.display(),
                info.results,
                info.containers
            ));
        }
        Source::Report(dir) => results::check_report_dir(dir)?,
    }
    Ok(())
}

/// Public URL of a key: CloudFront when configured, else the store location.
fn url_for(settings: &Settings, store: &Store, key: &str) -> String {
    match &settings.cloudfront {
        Some(base) => format!("{base}/{key}"),
        None => store.location(key),
    }
}

fn choose_run_id(settings: &Settings, manifest: &Manifest) -> Result<RunId> {
    if let Some(id) = &settings.run_id {
        let run = RunId::new(id.clone())?;
        if manifest.contains(id) {
            bail!(
                "run id {id:?} was already published on branch {:?}; published runs are never overwritten, so choose another --run-id (or leave it out for a fresh one)",
                settings.branch
            );
        }
        return Ok(run);
    }
    loop {
        let id = run_id::generate(Utc::now(), fastrand::u32(..));
        if !manifest.contains(&id) {
            return Ok(RunId::new(id)?);
        }
    }
}
