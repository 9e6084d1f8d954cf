//! Where the run goes and as what: the layout, the store, the branch's
//! manifest, the run id (claimed before anything is written into its
//! folder), the run whose history it continues, and its build number.

use anyhow::{Result, bail};
use chrono::Utc;

use crate::model::access::{SiteAccess, signed_url};
use crate::model::claim;
use crate::model::engine::Engine;
use crate::model::layout::Layout;
use crate::model::legs::{self, Line};
use crate::model::manifest::Manifest;
use crate::model::run_id::{self, RunId};
use crate::model::summary::SignedLinks;
use crate::output::Output;
use crate::report::results;
use crate::settings::{Access, Settings, Source};
use crate::state;
use crate::state::claim::Held;
use crate::state::latest::Found;
use crate::storage::Store;

/// The URLs readers follow.
pub struct Urls {
    pub run: String,
    /// The leg's latest with a variant, else the branch's.
    pub latest: String,
    pub branch_latest: String,
    pub runs_index: String,
    /// The branch's tests page and flaky list.
    pub tests: String,
    pub flaky: String,
}

pub struct Prepared {
    pub layout: Layout,
    pub store: Store,
    pub manifest: Manifest,
    pub run: RunId,
    /// Held from before the first upload until the run is listed; None on a
    /// dry run.
    pub claim: Option<Held>,
    pub build_order: u64,
    /// The run whose history this one continues.
    pub history_from: Option<RunId>,
    /// The branch's pointer before this publish.
    pub branch_pointer: Found,
    pub urls: Urls,
    /// The site's access modes, as the bucket records them.
    pub site_access: Option<SiteAccess>,
    pub links: Option<SignedLinks>,
}

pub async fn prepare(settings: &Settings, dry_run: bool, out: &Output) -> Result<Prepared> {
    let layout = Layout::new(
        &settings.place.prefix,
        &settings.place.project,
        &settings.place.branch,
    )?;
    check_source(&settings.report.source, out)?;
    // A given id that cannot be used fails before anything is asked of the store.
    if let Some(id) = &settings.place.run_id {
        RunId::new(id.clone())?;
    }
    let store = crate::commands::open_store(&settings.target, !dry_run, out).await?;
    server_conditions(settings, &store, dry_run, out).await?;
    let manifest = state::manifest::read(&store, &layout).await?;
    let (run, claim) = claim_run_id(settings, &store, &layout, &manifest, dry_run, out).await?;
    let urls = urls(settings, &store, &layout, &run);
    let site_access = state::site_access::read(&store).await;
    let links = signed_links(&settings.access, &layout, &run, &urls);
    warn_about_access(&settings.access, site_access.as_ref(), out);
    out.note(format_args!(
        "Publishing {} / {} run {run} to {}",
        settings.place.project,
        settings.place.branch,
        store.location(&layout.run_root(&run))
    ));
    let branch_pointer = state::latest::read(&store, &layout.latest_pointer()).await?;
    let history_from =
        history_source(settings, &store, &layout, &manifest, &branch_pointer, out).await?;
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
        claim,
        build_order,
        history_from,
        branch_pointer,
        urls,
        site_access,
        links,
    })
}

/// A publish writes only where the server keeps the conditions its
/// promises rest on; a plan measures nothing and says what a publish would
/// meet.
async fn server_conditions(
    settings: &Settings,
    store: &Store,
    dry_run: bool,
    out: &Output,
) -> Result<()> {
    let accept = settings.accept_unconditional_writes;
    if !dry_run {
        return crate::commands::conditions::require(store, accept, out).await;
    }
    match state::server::read(store).await? {
        None if store.s3_server().is_some() => out.note(
            "The server's conditional writes are not measured yet: the first publish measures them",
        ),
        None => {}
        Some(record) => {
            if let crate::model::server::Judgement::Refused(refusal) =
                crate::model::server::judge(&record, accept)
            {
                out.warning(&format!("a publish would refuse: {refusal}"));
            }
        }
    }
    Ok(())
}

/// Links that open on a private site: the run's own folder, and the branch
/// for its latest and runs pages. Only for a site with a CloudFront URL.
fn signed_links(access: &Access, layout: &Layout, run: &RunId, urls: &Urls) -> Option<SignedLinks> {
    let key = access.access_key.as_ref()?;
    access.cloudfront.as_ref()?;
    let expires = Utc::now() + chrono::Duration::days(i64::from(access.link_days));
    let at = expires.timestamp();
    let branch = format!("/{}", layout.branch_root());
    Some(SignedLinks {
        run: signed_url(&urls.run, key, &format!("/{}", layout.run_root(run)), at),
        latest: signed_url(&urls.latest, key, &branch, at),
        branch_latest: signed_url(&urls.branch_latest, key, &branch, at),
        runs_index: signed_url(&urls.runs_index, key, &branch, at),
        expires: expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    })
}

fn warn_about_access(access: &Access, site: Option<&SiteAccess>, out: &Output) {
    let Some(site) = site else { return };
    match &access.access_key {
        None if site.needs_links() => out.warning(
            "this site opens only with signed links and no access key is set (ALLURE_ACCESS_KEY, the action's access-key input): the summary says so instead of posting links that would ask for access",
        ),
        Some(key) if !site.accepts(&key.id, Utc::now().timestamp()) => out.warning(&format!(
            "the access key {} does not open this site (its keys: {}); links signed with it will be refused. Use the key `allure-host infra access rotate` printed",
            key.id,
            site.keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(", ")
        )),
        _ => {}
    }
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

fn urls(settings: &Settings, store: &Store, layout: &Layout, run: &RunId) -> Urls {
    let branch_latest = url_for(settings, store, &layout.latest_page());
    Urls {
        run: url_for(settings, store, &layout.run_file(run, "index.html")),
        latest: match &settings.place.variant {
            Some(leg) => url_for(settings, store, &layout.leg_latest_page(leg)),
            None => branch_latest.clone(),
        },
        branch_latest,
        runs_index: url_for(settings, store, &layout.runs_page()),
        tests: url_for(settings, store, &layout.tests_page()),
        flaky: url_for(settings, store, &layout.flaky_list()),
    }
}

/// Public URL of a key: CloudFront when configured; for a local site, where
/// `allure-host serve` shows it (a report cannot load from `file://`); else
/// the store location.
fn url_for(settings: &Settings, store: &Store, key: &str) -> String {
    match &settings.access.cloudfront {
        Some(base) => format!("{base}/{key}"),
        None if store.is_local() => format!(
            "http://127.0.0.1:{}/{key}",
            crate::settings::DEFAULT_SERVE_PORT
        ),
        None => store.location(key),
    }
}

/// The run id, claimed. A drawn id that turns out taken is drawn again; a
/// given one is refused with a free id to use instead.
async fn claim_run_id(
    settings: &Settings,
    store: &Store,
    layout: &Layout,
    manifest: &Manifest,
    dry_run: bool,
    out: &Output,
) -> Result<(RunId, Option<Held>)> {
    loop {
        let run = choose_run_id(settings, manifest)?;
        if dry_run {
            return Ok((run, None));
        }
        match state::claim::take(
            store,
            layout,
            &run,
            settings.ci.build_url.as_ref().map(ToString::to_string),
        )
        .await?
        {
            Ok(held) => {
                if let Some(old) = &held.took_over {
                    out.note(format_args!(
                        "Run {run}: its earlier publish stopped ({:?}, last seen {}s ago); its files were removed and this publish writes the run whole",
                        old.state,
                        Utc::now().timestamp() - old.renewed
                    ));
                }
                return Ok((run, Some(held)));
            }
            Err(_) if settings.place.run_id.is_none() => continue,
            Err(refused) => {
                let other = free_id(store, layout, manifest, &run).await?;
                bail!(
                    "{refused}; nothing was written into its folder. To publish now, use a free id: --run-id {other}"
                );
            }
        }
    }
}

/// An id to publish under instead of `taken`: neither listed nor claimed.
async fn free_id(
    store: &Store,
    layout: &Layout,
    manifest: &Manifest,
    taken: &RunId,
) -> Result<String> {
    for id in claim::alternatives(taken.as_str()).take(FREE_ID_TRIES) {
        let Ok(run) = RunId::new(id.clone()) else {
            break;
        };
        if !manifest.contains(&id) && state::claim::free(store, layout, &run).await? {
            return Ok(id);
        }
    }
    // Every suggestion checked is taken: suggest a fresh one anyway.
    Ok(run_id::generate(Utc::now(), fastrand::u32(..)))
}

/// Suggestions looked up before a drawn id is offered instead.
const FREE_ID_TRIES: usize = 10;

fn choose_run_id(settings: &Settings, manifest: &Manifest) -> Result<RunId> {
    if let Some(id) = &settings.place.run_id {
        let run = RunId::new(id.clone())?;
        if manifest.contains(id) {
            bail!(
                "run id {id:?} was already published on branch {:?}; published runs are never overwritten, so choose another --run-id (or leave it out for a fresh one)",
                settings.place.branch
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

/// The newest complete run of this job and leg, from the manifest. A branch
/// whose manifest lists no run at all falls back to its pointer (a bucket
/// where only a pointer survived). A damaged pointer is reported, never
/// silently taken as "no history".
async fn history_source(
    settings: &Settings,
    store: &Store,
    layout: &Layout,
    manifest: &Manifest,
    branch_pointer: &Found,
    out: &Output,
) -> Result<Option<RunId>> {
    let pointer = match &settings.place.variant {
        Some(leg) => state::latest::read(store, &layout.leg_pointer(leg)).await?,
        None => branch_pointer.clone(),
    };
    let line = Line {
        job: settings.place.job.as_deref(),
        variant: settings.place.variant.as_deref(),
    };
    // A pointer without a manifest entry is from before engines were
    // recorded: Allure 2.
    let source = match (
        legs::history_source(manifest, line),
        manifest.runs.is_empty(),
    ) {
        (Some(run), _) => Some((run.run_id.clone(), run.allure)),
        (None, true) => pointer
            .pointer()
            .map(|p| (p.run_id.clone(), Engine::Allure2)),
        (None, false) => None,
    };
    let source = same_engine(settings, source, out);
    if let Found::Damaged { key, reason } = &pointer {
        let trend = match &source {
            Some(id) => {
                format!("trends continue from run {id}, the newest complete run in the manifest")
            }
            None => {
                "the manifest lists no earlier run of this job and leg, so the trend starts here"
                    .into()
            }
        };
        out.warning(&format!(
            "{} is unreadable ({reason}); {trend}; the pointer is rewritten when this run becomes latest",
            store.location(key)
        ));
    }
    Ok(source.and_then(|id| RunId::new(id).ok()))
}

/// Allure 2 history cannot become Allure 3 history, nor the reverse: a line
/// that changes engines starts a new trend (its earlier runs stay listed).
fn same_engine(
    settings: &Settings,
    source: Option<(String, Engine)>,
    out: &Output,
) -> Option<String> {
    let (id, before) = source?;
    let Source::Results(_) = settings.report.source else {
        return Some(id);
    };
    if before == settings.report.engine {
        return Some(id);
    }
    out.note(format_args!(
        "This run moves its trend from {before} to {}: {before} history cannot become {} history, so the trend starts anew here; run {id} and the runs before it stay listed",
        settings.report.engine, settings.report.engine
    ));
    None
}
