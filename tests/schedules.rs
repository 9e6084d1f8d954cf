//! Model-based schedules: several publishers and a pruner work on one branch
//! at once, through the real state functions (claim, build counter, run
//! files, manifest, latest pointers and their badges, project index) and
//! the real prune plan
//! and apply, against the in-memory store, which injects 412s, 409s, 500s
//! and timeouts and interleaves the tasks, all drawn from one seed. After
//! each schedule the invariants are checked against what the publishers
//! were told and against every change the store saw.
//!
//! `ALLURE_HOST_SCHEDULES` sets how many schedules run (default 2000),
//! `ALLURE_HOST_SCHEDULE_SEED` replays one seed (printed on failure), and
//! `ALLURE_HOST_SCHEDULE_BASE` fixes the first seed of a run (else drawn
//! and printed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use allure_host::commands::prune::{apply, plan};
use allure_host::commands::site::Site;
use allure_host::model::badge::{self, Badge};
use allure_host::model::changes::{TestEntry, TestIndex};
use allure_host::model::engine::Engine;
use allure_host::model::layout::Layout;
use allure_host::model::legs;
use allure_host::model::manifest::{Manifest, RunEntry};
use allure_host::model::pointer::{BranchEntry, LatestPointer, ProjectIndex};
use allure_host::model::retention::Rules;
use allure_host::model::run_id::RunId;
use allure_host::model::stats::Stats;
use allure_host::model::test_history::{DEFAULT_WINDOW, LineKey, RunRef, TestHistory};
use allure_host::model::test_scores::Thresholds;
use allure_host::settings::{
    Access, Ci, CiSettings, Place, ReportSettings, Retention, Settings, Source, Target,
    TestHistorySettings,
};
use allure_host::state;
use allure_host::state::test_history::{Branch, Record};
use allure_host::storage::memory::{Applied, FaultPlan, MemoryStore};
use allure_host::storage::{ObjectMeta, PutMode, Store};

const PROJECT: &str = "shop";
const BRANCH: &str = "main";
const JOB: &str = "test";
/// The files of every simulated report.
const FILES: [&str; 3] = ["index.html", "data/suites.json", "history/history.json"];

/// What one schedule is made of, all drawn from its seed.
#[derive(Debug)]
struct Plan {
    /// Per publisher: its leg and how many runs it publishes one after another.
    publishers: Vec<(Option<String>, usize)>,
    /// Prune passes beside them, each after this many yields.
    prunes: Vec<u32>,
    keep: u32,
    fault_per_mille: u32,
}

impl Plan {
    fn draw(seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed);
        let legs = [None, Some("os=linux"), Some("os=mac")];
        Self {
            publishers: (0..rng.usize(2..=4))
                .map(|_| {
                    let leg = legs[rng.usize(..legs.len())].map(str::to_string);
                    (leg, rng.usize(1..=3))
                })
                .collect(),
            prunes: (0..rng.usize(0..=4)).map(|_| rng.u32(0..40)).collect(),
            keep: rng.u32(1..=3),
            fault_per_mille: [0, 10, 25, 50][rng.usize(..4)],
        }
    }
}

/// What a publisher was told about one run.
#[derive(Debug, Clone)]
struct Told {
    run_id: String,
    leg: Option<String>,
    build_order: Option<u64>,
    outcome: Result<(), String>,
}

/// The outcome of one schedule: what publishers heard, and what the store saw.
struct Ran {
    told: Vec<Told>,
    trace: Vec<String>,
    applied: Vec<Applied>,
    store: Arc<MemoryStore>,
}

fn layout() -> Layout {
    Layout::new("reports", PROJECT, BRANCH).expect("valid layout")
}

fn meta() -> ObjectMeta {
    ObjectMeta {
        content_type: "application/json".into(),
        cache_control: "no-cache",
        tagging: None,
    }
}

fn rules(keep: u32) -> Rules {
    Rules {
        keep: Some(keep),
        max_age_days: None,
    }
}

/// Run one schedule to its end.
fn run(seed: u64) -> Ran {
    let plan = Plan::draw(seed);
    let mem = Arc::new(MemoryStore::new());
    mem.set_faults(Some(FaultPlan::new(seed, plan.fault_per_mille, 3)));
    let store = Store::memory(mem.clone());
    // Claim tokens and backoff jitter come from the thread's generator: on a
    // current-thread runtime, seeding it makes them part of the schedule.
    fastrand::seed(seed);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let told = rt.block_on(async {
        let mut tasks = Vec::new();
        for (i, (leg, runs)) in plan.publishers.iter().enumerate() {
            let (store, leg, runs, keep) = (store.clone(), leg.clone(), *runs, plan.keep);
            tasks.push(tokio::spawn(async move {
                let mut told = Vec::new();
                for j in 0..runs {
                    let run_id = format!("p{i}-r{j}");
                    let (build_order, outcome) =
                        publish(&store, &run_id, leg.as_deref(), keep).await;
                    told.push(Told {
                        run_id,
                        leg: leg.clone(),
                        build_order,
                        outcome,
                    });
                }
                told
            }));
        }
        let pruner = {
            let (store, prunes, keep) = (store.clone(), plan.prunes.clone(), plan.keep);
            tokio::spawn(async move {
                for delay in prunes {
                    for _ in 0..delay {
                        tokio::task::yield_now().await;
                    }
                    // A failed prune changes nothing a reader depends on; the
                    // invariants below check that.
                    let _ = prune(&store, keep).await;
                }
            })
        };
        let mut told = Vec::new();
        for t in tasks {
            told.extend(t.await.expect("publisher task"));
        }
        pruner.await.expect("pruner task");
        told
    });
    drop(rt);
    mem.set_faults(None);
    Ran {
        told,
        trace: mem.trace(),
        applied: mem.applied(),
        store: mem,
    }
}

/// One publish as `commands::publish` orders it: claim, build number,
/// upload, manifest, claim published, leg then branch pointer, project
/// index, then the files of the runs retention dropped. A failure gives the
/// claim up, as the command does.
async fn publish(
    store: &Store,
    run_id: &str,
    leg: Option<&str>,
    keep: u32,
) -> (Option<u64>, Result<(), String>) {
    let layout = layout();
    let run = RunId::new(run_id).expect("valid run id");
    let manifest = match state::manifest::read(store, &layout).await {
        Ok(m) => m,
        Err(e) => return (None, Err(e.to_string())),
    };
    let held = match state::claim::take(store, &layout, &run, None).await {
        Ok(Ok(held)) => held,
        Ok(Err(refused)) => return (None, Err(refused.to_string())),
        Err(e) => return (None, Err(e.to_string())),
    };
    let mut build_order = None;
    let result = commit(
        store,
        &layout,
        &run,
        leg,
        keep,
        &manifest,
        &held,
        &mut build_order,
    )
    .await;
    if result.is_err() {
        // As publish does: giving the claim up is best effort; a lapse frees it anyway.
        let _ = held.abandon().await;
    }
    (build_order, result)
}

#[allow(clippy::too_many_arguments)]
async fn commit(
    store: &Store,
    layout: &Layout,
    run: &RunId,
    leg: Option<&str>,
    keep: u32,
    manifest: &Manifest,
    held: &state::claim::Held,
    build_order: &mut Option<u64>,
) -> Result<(), String> {
    let e = |e: state::StateError| e.to_string();
    let order = state::build_counter::reserve(store, layout, manifest.max_build_order())
        .await
        .map_err(e)?;
    *build_order = Some(order);
    for file in FILES {
        store
            .put_bytes(
                &layout.run_file(run, file),
                run.as_str().as_bytes().to_vec(),
                &meta(),
                PutMode::Overwrite,
            )
            .await
            .map_err(|e| e.to_string())?;
    }
    if !held.still_held() {
        return Err("claim lapsed".into());
    }
    let gone = state::run_files::gone(store, layout, manifest)
        .await
        .map_err(e)?;
    let (listed, pruned) =
        state::manifest::add_run(store, layout, entry(run, leg, order), &rules(keep), &gone)
            .await
            .map_err(e)?;
    held.published().await.map_err(e)?;
    if let Some(leg) = leg {
        let p = pointer(run, Some(leg), order);
        let moved = state::latest::advance(store, &layout.leg_pointer(leg), &p)
            .await
            .map_err(e)?;
        if moved {
            let b = Badge::of_run(&stats(), None, Some(leg));
            state::badge::write(store, &layout.leg_badge(leg), &b, order)
                .await
                .map_err(e)?;
        }
    }
    let moved = state::latest::advance(store, &layout.latest_pointer(), &pointer(run, None, order))
        .await
        .map_err(e)?;
    if moved {
        let b = Badge::of_run(&stats(), None, None);
        state::badge::write(store, &layout.badge(), &b, order)
            .await
            .map_err(e)?;
    }
    let row = BranchEntry {
        branch: BRANCH.into(),
        segment: layout.branch_segment().into(),
        run_id: run.to_string(),
        build_order: order,
        time: 0,
        stats: stats(),
        recent: BranchEntry::recent_of(&listed),
        runs: listed.runs.len() as u64,
    };
    state::project::record(store, layout, PROJECT, row)
        .await
        .map_err(e)?;
    for old in pruned {
        let id = RunId::new(old.run_id).expect("listed ids are valid");
        state::run_files::delete_with_claim(store, layout, &id)
            .await
            .map_err(e)?;
    }
    Ok(())
}

/// One `allure-host prune --keep N --yes` pass over the project.
async fn prune(store: &Store, keep: u32) -> anyhow::Result<()> {
    let site = Site {
        store: store.clone(),
        settings: settings(),
        projects: vec![PROJECT.into()],
    };
    let spec = plan::Spec {
        rules: rules(keep),
        runs: true,
        branch: None,
        live: None,
    };
    let now = chrono::Utc::now().timestamp();
    for branch in plan::plan(&site, &spec, now).await? {
        apply::apply(store, &branch).await?;
    }
    Ok(())
}

fn settings() -> Settings {
    Settings {
        target: Target::Local {
            dir: PathBuf::from("unused"),
            defaulted: false,
        },
        place: Place {
            prefix: "reports".into(),
            project: PROJECT.into(),
            branch: BRANCH.into(),
            run_id: None,
            variant: None,
            job: None,
        },
        report: ReportSettings {
            source: Source::Results(PathBuf::from("allure-results")),
            engine: Engine::Allure2,
            single_file: false,
            keep_analytics: false,
            meta: BTreeMap::new(),
            commit: None,
            context_url: None,
        },
        retention: Retention {
            ttl_days: None,
            max_keep_runs: None,
        },
        tests: TestHistorySettings {
            window: DEFAULT_WINDOW,
            thresholds: Thresholds::default(),
        },
        access: Access {
            cloudfront: None,
            access_key: None,
            link_days: 30,
        },
        ci: CiSettings {
            kind: Ci::Local,
            build_url: None,
            compare_to: None,
            mr_note: false,
        },
        notify: Default::default(),
        concurrency: 4,
        summary_json: None,
        accept_unconditional_writes: false,
    }
}

fn stats() -> Stats {
    Stats {
        passed: 1,
        total: 1,
        ..Stats::default()
    }
}

fn entry(run: &RunId, leg: Option<&str>, order: u64) -> RunEntry {
    RunEntry {
        run_id: run.to_string(),
        time: 0,
        size: FILES.len() as u64,
        files: FILES.len() as u64,
        project: PROJECT.into(),
        branch: BRANCH.into(),
        run_url: String::new(),
        context_url: None,
        stats: stats(),
        duration_ms: None,
        build_order: Some(order),
        commit: None,
        variant: leg.map(str::to_string),
        job: Some(JOB.into()),
        expires: None,
        allure: Engine::Allure2,
        quality_gate_failed: false,
        meta: BTreeMap::new(),
    }
}

fn pointer(run: &RunId, leg: Option<&str>, order: u64) -> LatestPointer {
    LatestPointer {
        run_id: run.to_string(),
        run_url: String::new(),
        latest_url: String::new(),
        project: PROJECT.into(),
        branch: BRANCH.into(),
        build_order: order,
        time: 0,
        variant: leg.map(str::to_string),
    }
}

// ---------------------------------------------------------------------------
// Invariants

/// Order of runs in the manifest, newest first (as `RunEntry` sorts).
fn order_key(r: &RunEntry) -> (u64, i64, String) {
    (r.build_order.unwrap_or(0), r.time, r.run_id.clone())
}

/// Every violation of the invariants in one schedule.
fn violations(ran: &Ran, keep: u32) -> Vec<String> {
    let layout = layout();
    let mut out = Vec::new();
    let history = replay(&ran.applied, &layout, keep, &mut out);
    let manifest = ran
        .store
        .peek(&layout.manifest())
        .map(|b| Manifest::parse(&b).expect("the final manifest parses"));
    let listed: BTreeSet<String> = manifest
        .iter()
        .flat_map(|m| m.runs.iter().map(|r| r.run_id.clone()))
        .collect();
    let succeeded: Vec<&Told> = ran.told.iter().filter(|t| t.outcome.is_ok()).collect();
    for t in &succeeded {
        // A run older (by build order) than `keep` others, one of its own
        // line among them, is dropped by the very write that adds it.
        let dropped_on_arrival = history.versions.iter().any(|m| {
            let newer: Vec<&RunEntry> = m
                .runs
                .iter()
                .filter(|o| o.build_order > t.build_order)
                .collect();
            newer.len() >= keep as usize
                && newer
                    .iter()
                    .any(|o| o.variant == t.leg && o.job.as_deref() == Some(JOB))
        });
        if !history.ever_listed.contains(&t.run_id) && !dropped_on_arrival {
            out.push(format!(
                "run {} was told published but never listed",
                t.run_id
            ));
        }
    }
    // Each leg's pointer and the branch's name the newest run they cover.
    let mut views: Vec<(String, Option<&str>)> =
        vec![(layout.latest_pointer().into_string(), None)];
    let legs: BTreeSet<&str> = ran.told.iter().filter_map(|t| t.leg.as_deref()).collect();
    views.extend(
        legs.iter()
            .map(|l| (layout.leg_pointer(l).into_string(), Some(*l))),
    );
    for (key, leg) in views {
        let covers = |t: &&&Told| leg.is_none() || t.leg.as_deref() == leg;
        let best_told = succeeded
            .iter()
            .filter(covers)
            .filter_map(|t| t.build_order)
            .max();
        let Some(best_told) = best_told else { continue };
        let shown = ran
            .store
            .peek(&key)
            .and_then(|b| LatestPointer::parse(&b).ok());
        let Some(shown) = shown else {
            out.push(format!("{key} is missing though run(s) were published"));
            continue;
        };
        if shown.build_order < best_told {
            out.push(format!(
                "{key} shows build {} though build {best_told} was published",
                shown.build_order
            ));
        }
        if leg.is_some() && shown.variant.as_deref() != leg {
            out.push(format!("{key} names a run of leg {:?}", shown.variant));
        }
        let newest = manifest.as_ref().and_then(|m| match leg {
            Some(l) => legs::newest_of_leg(m, Some(l)),
            None => m.runs.first(),
        });
        let newest_told_ok = newest.is_some_and(|n| succeeded.iter().any(|t| t.run_id == n.run_id));
        if let Some(n) = newest.filter(|_| newest_told_ok)
            && shown.run_id != n.run_id
        {
            out.push(format!(
                "{key} names {} but the newest published run is {}",
                shown.run_id, n.run_id
            ));
        }
    }
    // The project page's row follows the branch's newest run.
    let best = succeeded.iter().filter_map(|t| t.build_order).max();
    if let Some(best) = best {
        let row = ran
            .store
            .peek(&layout.project_index())
            .and_then(|b| ProjectIndex::parse(&b))
            .and_then(|i| i.branches.into_iter().find(|b| b.branch == BRANCH));
        match row {
            None => out.push("the project index has no row for the branch".into()),
            Some(row) if row.build_order < best => out.push(format!(
                "the project index shows build {} ({}) though build {best} was published",
                row.build_order, row.run_id
            )),
            Some(_) => {}
        }
    }
    let _ = listed;
    out
}

/// What replaying the store's changes found.
struct History {
    ever_listed: BTreeSet<String>,
    /// Every manifest written, in order.
    versions: Vec<Manifest>,
}

/// Replay every change the store saw, checking at each one: listed runs are
/// complete, a run leaves the manifest only as retention allows (its folder
/// was gone, or `keep` newer runs and a newer run of its trend line stay),
/// and no pointer (nor the project page's row) moves backwards.
fn replay(applied: &[Applied], layout: &Layout, keep: u32, out: &mut Vec<String>) -> History {
    let mut objects: BTreeSet<String> = BTreeSet::new();
    let mut manifest: Option<Manifest> = None;
    let mut ever_listed = BTreeSet::new();
    let mut versions = Vec::new();
    let mut pointers: BTreeMap<String, u64> = BTreeMap::new();
    let mut badges: BTreeMap<String, u64> = BTreeMap::new();
    let manifest_key = layout.manifest();
    let project_key = layout.project_index();
    let mut project_row = 0;
    let complete = |objects: &BTreeSet<String>, run_id: &str| {
        let run = RunId::new(run_id).expect("valid run id");
        FILES
            .iter()
            .all(|f| objects.contains(layout.run_file(&run, f).as_str()))
    };
    let folder_empty = |objects: &BTreeSet<String>, run_id: &str| {
        let run = RunId::new(run_id).expect("valid run id");
        let root = layout.run_root(&run);
        !objects.iter().any(|k| k.starts_with(&root))
    };
    for (step, change) in applied.iter().enumerate() {
        match &change.body {
            Some(_) => objects.insert(change.key.clone()),
            None => objects.remove(&change.key),
        };
        if change.key == manifest_key {
            let next = change.body.as_ref().map(|b| Manifest::parse(b));
            let next = match next {
                Some(Ok(m)) => Some(m),
                Some(Err(e)) => {
                    out.push(format!("change {step}: the manifest does not parse: {e}"));
                    None
                }
                None => {
                    out.push(format!("change {step}: the manifest was deleted"));
                    None
                }
            };
            if let (Some(before), Some(after)) = (&manifest, &next) {
                for r in &before.runs {
                    if after.contains(&r.run_id) {
                        continue;
                    }
                    let newer: Vec<&RunEntry> = after
                        .runs
                        .iter()
                        .filter(|o| order_key(o) > order_key(r))
                        .collect();
                    let line_continues = newer
                        .iter()
                        .any(|o| o.job == r.job && o.variant == r.variant);
                    let by_count = newer.len() >= keep as usize && line_continues;
                    if !by_count && !folder_empty(&objects, &r.run_id) {
                        out.push(format!(
                            "change {step}: run {} left the manifest with {} newer runs and {} of its line",
                            r.run_id,
                            newer.len(),
                            if line_continues { "a newer run" } else { "no newer run" }
                        ));
                    }
                }
            }
            if let Some(m) = &next {
                ever_listed.extend(m.runs.iter().map(|r| r.run_id.clone()));
                versions.push(m.clone());
            }
            manifest = next;
        }
        if let Some(b) = change
            .body
            .as_ref()
            .filter(|_| change.key.ends_with("latest.json"))
        {
            match LatestPointer::parse(b) {
                Ok(p) => {
                    let before = pointers.insert(change.key.clone(), p.build_order);
                    if before.is_some_and(|b| b > p.build_order) {
                        out.push(format!(
                            "change {step}: {} moved back from build {} to {}",
                            change.key,
                            before.unwrap_or(0),
                            p.build_order
                        ));
                    }
                }
                Err(e) => out.push(format!("change {step}: {} does not parse: {e}", change.key)),
            }
        }
        // A badge never moves back, nor ahead of the pointer beside it.
        if let Some(b) = change
            .body
            .as_ref()
            .filter(|_| change.key.ends_with("/badge.svg"))
        {
            let pointer = change.key.replace("/badge.svg", "/latest.json");
            match badge::build_order_of(b) {
                Some(n) => {
                    let before = badges.insert(change.key.clone(), n);
                    if before.is_some_and(|b| b > n) {
                        out.push(format!(
                            "change {step}: {} moved back from build {} to {n}",
                            change.key,
                            before.unwrap_or(0)
                        ));
                    }
                    if pointers.get(&pointer).is_none_or(|&p| p < n) {
                        out.push(format!(
                            "change {step}: {} shows build {n}, ahead of {pointer}",
                            change.key
                        ));
                    }
                }
                None => out.push(format!("change {step}: {} has no build", change.key)),
            }
        }
        if let Some(b) = change.body.as_ref().filter(|_| change.key == project_key) {
            let row = ProjectIndex::parse(b)
                .and_then(|i| i.branches.into_iter().find(|r| r.branch == BRANCH));
            if let Some(row) = row {
                if row.build_order < project_row {
                    out.push(format!(
                        "change {step}: the project row moved back from build {project_row} to {} ({})",
                        row.build_order, row.run_id
                    ));
                }
                project_row = row.build_order;
            }
        }
        if let Some(m) = &manifest {
            for r in m.runs.iter().filter(|r| !complete(&objects, &r.run_id)) {
                out.push(format!(
                    "change {step} ({}): listed run {} is incomplete",
                    change.key, r.run_id
                ));
            }
        }
    }
    History {
        ever_listed,
        versions,
    }
}

// ---------------------------------------------------------------------------
// Driver

fn env_u64(name: &str) -> Option<u64> {
    let raw = std::env::var(name).ok()?;
    Some(
        raw.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={raw:?} is not a number")),
    )
}

fn check(seed: u64) -> Result<(), String> {
    let ran = run(seed);
    let plan = Plan::draw(seed);
    let found = violations(&ran, plan.keep);
    if found.is_empty() {
        return Ok(());
    }
    let tail: Vec<&String> = ran.trace.iter().rev().take(30).collect();
    Err(format!(
        "schedule {seed} ({plan:?}) broke {} invariant(s):\n  {}\ntold: {:#?}\nlast calls (newest first):\n  {}\nreplay: ALLURE_HOST_SCHEDULE_SEED={seed} cargo test --test schedules",
        found.len(),
        found.join("\n  "),
        ran.told,
        tail.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    ))
}

#[test]
fn invariants_hold_on_every_schedule() {
    if let Some(seed) = env_u64("ALLURE_HOST_SCHEDULE_SEED") {
        eprintln!("replaying schedule {seed}");
        if let Err(report) = check(seed) {
            panic!("{report}");
        }
        return;
    }
    let count = env_u64("ALLURE_HOST_SCHEDULES").unwrap_or(2000);
    let base = env_u64("ALLURE_HOST_SCHEDULE_BASE").unwrap_or_else(|| fastrand::u64(..1 << 40));
    eprintln!(
        "schedules: {count} from seed {base} (ALLURE_HOST_SCHEDULE_BASE={base} repeats this run)"
    );
    let started = Instant::now();
    // Schedules are independent, each on its own single-threaded runtime:
    // spread them over the cores.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4)) as u64;
    let totals = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || sweep((base + t..base + count).step_by(threads as usize))))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .fold(Totals::default(), Totals::add)
    });
    eprintln!(
        "schedules: {count} in {:.1}s on {threads} threads: {} publishes ({} told failed), {} prune passes, {} store calls, {} injected faults",
        started.elapsed().as_secs_f64(),
        totals.publishes,
        totals.failed,
        totals.prunes,
        totals.calls,
        totals.faults
    );
}

#[derive(Default)]
struct Totals {
    publishes: usize,
    failed: usize,
    prunes: usize,
    calls: usize,
    faults: usize,
}

impl Totals {
    fn add(self, o: Totals) -> Totals {
        Totals {
            publishes: self.publishes + o.publishes,
            failed: self.failed + o.failed,
            prunes: self.prunes + o.prunes,
            calls: self.calls + o.calls,
            faults: self.faults + o.faults,
        }
    }
}

/// Run and check `seeds`; panic with the first failing one's report.
fn sweep(seeds: impl Iterator<Item = u64>) -> Totals {
    let mut t = Totals::default();
    for seed in seeds {
        let ran = run(seed);
        let plan = Plan::draw(seed);
        if !violations(&ran, plan.keep).is_empty() {
            match check(seed) {
                Err(report) => panic!("{report}"),
                Ok(()) => panic!(
                    "schedule {seed} failed once and passed on replay: the seed does not fix the schedule"
                ),
            }
        }
        t.publishes += ran.told.len();
        t.failed += ran.told.iter().filter(|t| t.outcome.is_err()).count();
        t.prunes += plan.prunes.len();
        t.calls += ran.trace.len();
        t.faults += ran
            .trace
            .iter()
            .filter(|l| {
                ["412", "409", "500", "timeout-before", "timeout-after"]
                    .iter()
                    .any(|f| l.ends_with(f))
            })
            .count();
    }
    t
}

#[test]
fn a_seed_replays_the_same_schedule() {
    for seed in [1, 2, 3, 42, 1234] {
        let (a, b) = (run(seed), run(seed));
        assert_eq!(a.trace, b.trace, "seed {seed}: the calls differ");
        // Bodies carry the clock (claim and manifest times); keys do not.
        let keys = |r: &Ran| -> Vec<String> { r.applied.iter().map(|a| a.key.clone()).collect() };
        assert_eq!(keys(&a), keys(&b), "seed {seed}: the changes differ");
        assert!(
            a.trace.len() > 20,
            "seed {seed} ran: {} calls",
            a.trace.len()
        );
    }
    assert_ne!(run(1).trace, run(2).trace, "seeds choose schedules");
}

#[test]
fn the_checker_sees_a_run_lost_or_left_incomplete() {
    // A clean schedule passes; the same history with the newest run dropped
    // by hand, or one of its files deleted while listed, does not.
    let seed = (0..100)
        .find(|s| {
            let plan = Plan::draw(*s);
            plan.fault_per_mille == 0 && plan.prunes.is_empty()
        })
        .expect("a fault-free seed");
    let ran = run(seed);
    let keep = Plan::draw(seed).keep;
    assert!(violations(&ran, keep).is_empty());
    let layout = layout();
    let last = ran
        .applied
        .iter()
        .rposition(|a| a.key == layout.manifest())
        .expect("a manifest write");
    let mut manifest =
        Manifest::parse(ran.applied[last].body.as_deref().expect("a body")).expect("parses");
    let newest = manifest.runs.remove(0);

    let mut lost = ran.applied.clone();
    lost.push(Applied {
        key: layout.manifest().into_string(),
        body: Some(manifest.to_json()),
    });
    let mut found = Vec::new();
    replay(&lost, &layout, keep, &mut found);
    assert!(
        found
            .iter()
            .any(|f| f.contains(&newest.run_id) && f.contains("left the manifest")),
        "{found:?}"
    );

    let mut torn = ran.applied.clone();
    let run = RunId::new(newest.run_id.clone()).expect("valid");
    torn.push(Applied {
        key: layout.run_file(&run, FILES[1]).into_string(),
        body: None,
    });
    let mut found = Vec::new();
    replay(&torn, &layout, keep, &mut found);
    assert!(found.iter().any(|f| f.contains("incomplete")), "{found:?}");
}

#[test]
fn a_prune_never_moves_the_project_row_back() {
    // The prune's row refresh works from the manifest its removal wrote; a
    // run published in between must keep its row.
    let mem = Arc::new(MemoryStore::new());
    let store = Store::memory(mem.clone());
    let layout = layout();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for id in ["r1", "r2", "r3"] {
            let (_, told) = publish(&store, id, None, 10).await;
            told.expect("published");
        }
        let dropped = allure_host::model::retention::select(
            &state::manifest::read(&store, &layout).await.expect("read"),
            &rules(1),
            0,
            &BTreeSet::new(),
        );
        assert_eq!(dropped.len(), 2);
        let left = state::manifest::remove_runs(&store, &layout, &dropped)
            .await
            .expect("removed")
            .expect("a manifest");
        let (_, told) = publish(&store, "r4", None, 10).await;
        told.expect("published");
        state::project::refresh_branch(&store, &layout, &left)
            .await
            .expect("refreshed");
    });
    let index =
        ProjectIndex::parse(&mem.peek(&layout.project_index()).expect("an index")).expect("parses");
    let row = &index.branches[0];
    assert_eq!(
        (row.run_id.as_str(), row.build_order, row.runs),
        ("r4", 4, 2),
        "{row:?}"
    );
}

#[test]
fn a_manifest_write_whose_answer_was_lost_is_ours_when_retried() {
    // S3 can apply a PUT whose answer never arrives (a timeout, a 5xx); the
    // retry then meets a changed etag and reads our own entry back. That is
    // our run, published, not another publisher's.
    let store = Store::memory(Arc::new(MemoryStore::new()));
    let layout = layout();
    let run = RunId::new("r1").expect("valid run id");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let none = BTreeSet::new();
        let mine = entry(&run, None, 1);
        state::manifest::add_run(&store, &layout, mine.clone(), &rules(10), &none)
            .await
            .expect("first write");
        let (again, pruned) =
            state::manifest::add_run(&store, &layout, mine.clone(), &rules(10), &none)
                .await
                .expect("the retry finds its own entry");
        assert_eq!(again.runs, vec![mine.clone()]);
        assert!(pruned.is_empty());
        // Another publisher's entry under the same id is still refused.
        let theirs = RunEntry {
            build_order: Some(2),
            ..mine
        };
        let err = state::manifest::add_run(&store, &layout, theirs, &rules(10), &none)
            .await
            .expect_err("a different entry under a listed id is refused");
        assert!(matches!(err, state::StateError::RunTaken(_)), "{err}");
    });
}

/// A runtime with real threads, for the tests below that race tasks.
fn threaded() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Eight publishers of one branch at once, on a store that keeps its
/// conditions: every run listed once, build numbers 1 to 8, latest on the
/// highest, every run whole and on the runs page.
#[test]
fn eight_publishers_at_once_are_all_kept() {
    threaded().block_on(async {
        let store = Store::memory(Arc::new(MemoryStore::new()));
        let mut publishers = tokio::task::JoinSet::new();
        for i in 0..8 {
            let store = store.clone();
            publishers.spawn(async move { publish(&store, &format!("par-{i}"), None, 100).await });
        }
        for (order, outcome) in publishers.join_all().await {
            outcome.expect("every publish succeeds");
            assert!(order.is_some());
        }
        let layout = layout();
        let manifest = state::manifest::read(&store, &layout).await.unwrap();
        let mut orders: Vec<u64> = manifest.runs.iter().filter_map(|r| r.build_order).collect();
        orders.sort();
        assert_eq!(
            orders,
            (1..=8).collect::<Vec<_>>(),
            "build orders are unique"
        );
        let top = manifest.runs.iter().max_by_key(|r| r.build_order).unwrap();
        let latest = state::latest::read(&store, &layout.latest_pointer())
            .await
            .unwrap();
        let pointer = latest.pointer().expect("latest is set");
        assert_eq!(
            (pointer.run_id.as_str(), pointer.build_order),
            (top.run_id.as_str(), 8)
        );
        let page = store.get(&layout.runs_page()).await.unwrap().unwrap().body;
        let page = String::from_utf8(page).unwrap();
        for r in &manifest.runs {
            assert!(page.contains(&r.run_id), "the runs page lists {}", r.run_id);
            let run = RunId::new(r.run_id.clone()).unwrap();
            let files = store.list(&layout.run_root(&run)).await.unwrap();
            assert_eq!(files.len(), FILES.len(), "run {} is whole", r.run_id);
        }
    });
}

/// Publishers of one run id at once: one holds the folder, every other is
/// refused before writing into it, three rounds in a row.
#[test]
fn one_claim_of_a_run_id_wins_a_race() {
    threaded().block_on(async {
        let store = Store::memory(Arc::new(MemoryStore::new()));
        let layout = layout();
        for round in 0..3 {
            let run = RunId::new(format!("same-{round}")).unwrap();
            let mut racers = tokio::task::JoinSet::new();
            for _ in 0..4 {
                let (store, layout, run) = (store.clone(), layout.clone(), run.clone());
                racers.spawn(async move { state::claim::take(&store, &layout, &run, None).await });
            }
            let answers = racers.join_all().await;
            let held = answers.iter().filter(|a| matches!(a, Ok(Ok(_)))).count();
            let refused = answers.iter().filter(|a| matches!(a, Ok(Err(_)))).count();
            assert_eq!((held, refused), (1, 3), "round {round}");
        }
    });
}

/// The lines several publishers write into one branch's test history.
const LINES: [(Option<&str>, Option<&str>); 3] = [
    (Some("unit"), None),
    (Some("unit"), Some("os=mac")),
    (Some("e2e"), None),
];
const HISTORY_TESTS: [&str; 4] = ["t0", "t1", "t2", "t3"];

/// What one run recorded: its line and each test's outcome code.
#[derive(Debug, Clone)]
struct Recorded {
    line: usize,
    outcomes: BTreeMap<&'static str, char>,
}

/// One schedule of the test history: publishers of different lines record
/// runs at once while a pruner forgets runs already recorded, on a store
/// that injects faults and interleaves the tasks. Returns what each
/// acknowledged record wrote, the runs acknowledged as forgotten, and the
/// history left in the store.
fn history_schedule(
    seed: u64,
) -> (
    BTreeMap<String, Recorded>,
    BTreeSet<(String, bool)>,
    TestHistory,
) {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x4157);
    let mem = Arc::new(MemoryStore::new());
    mem.set_faults(Some(FaultPlan::new(seed, [0, 10, 50][rng.usize(..3)], 3)));
    let store = Store::memory(mem.clone());
    fastrand::seed(seed);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let acked = Arc::new(std::sync::Mutex::new(BTreeMap::<String, Recorded>::new()));
    let publishers: Vec<(usize, usize)> = (0..rng.usize(2..=4))
        .map(|_| (rng.usize(..LINES.len()), rng.usize(1..=4)))
        .collect();
    let forgets: Vec<u32> = (0..rng.usize(0..=3)).map(|_| rng.u32(0..30)).collect();
    let draws: Vec<Vec<char>> = (0..16 * 4)
        .map(|_| {
            HISTORY_TESTS
                .iter()
                .map(|_| ['P', 'F', 'B', 'S', '-'][rng.usize(..5)])
                .collect()
        })
        .collect();
    let forgotten = rt.block_on(async {
        let mut tasks = Vec::new();
        for (i, &(line, runs)) in publishers.iter().enumerate() {
            let (store, acked, draws) = (store.clone(), acked.clone(), draws.clone());
            tasks.push(tokio::spawn(async move {
                for j in 0..runs {
                    let id = format!("p{i}-r{j}");
                    let codes = &draws[(i * 4 + j) % draws.len()];
                    let outcomes: BTreeMap<&'static str, char> = HISTORY_TESTS
                        .iter()
                        .copied()
                        .zip(codes.iter().copied())
                        .filter(|(_, c)| *c != '-')
                        .collect();
                    let tests = TestIndex::new(
                        outcomes
                            .iter()
                            .map(|(t, c)| TestEntry {
                                id: (*t).into(),
                                name: (*t).into(),
                                status: match c {
                                    'P' => "passed",
                                    'F' => "failed",
                                    'B' => "broken",
                                    _ => "skipped",
                                }
                                .into(),
                                ..TestEntry::default()
                            })
                            .collect(),
                    );
                    let layout = layout();
                    let record = Record {
                        line: LineKey {
                            job: LINES[line].0,
                            variant: LINES[line].1,
                        },
                        run: RunRef {
                            id: id.clone(),
                            build_order: (i * 10 + j) as u64,
                            commit: None,
                            time: 0,
                            allure: Engine::Allure2,
                        },
                        tests: &tests,
                        dropped: &BTreeSet::new(),
                        window: DEFAULT_WINDOW,
                        thresholds: Thresholds::default(),
                    };
                    let branch = Branch {
                        layout: &layout,
                        project: PROJECT,
                        branch: BRANCH,
                    };
                    if state::test_history::record(&store, branch, &record)
                        .await
                        .is_ok()
                    {
                        acked
                            .lock()
                            .unwrap()
                            .insert(id, Recorded { line, outcomes });
                    }
                }
            }));
        }
        let pruner = {
            let (store, acked) = (store.clone(), acked.clone());
            tokio::spawn(async move {
                let mut forgotten = BTreeSet::new();
                let mut pick = fastrand::Rng::with_seed(seed);
                for delay in forgets {
                    for _ in 0..delay {
                        tokio::task::yield_now().await;
                    }
                    let done: Vec<String> = acked.lock().unwrap().keys().cloned().collect();
                    if done.is_empty() {
                        continue;
                    }
                    let run = done[pick.usize(..done.len())].clone();
                    let layout = layout();
                    let branch = Branch {
                        layout: &layout,
                        project: PROJECT,
                        branch: BRANCH,
                    };
                    let runs = BTreeSet::from([run.clone()]);
                    // A failed forget may still have landed: "maybe" forgotten.
                    let done = state::test_history::forget(&store, branch, &runs)
                        .await
                        .is_ok();
                    forgotten.insert((run, done));
                }
                forgotten
            })
        };
        for t in tasks {
            t.await.unwrap();
        }
        pruner.await.unwrap()
    });
    mem.set_faults(None);
    let history = mem
        .peek(&layout().test_history())
        .map(|b| TestHistory::parse(&b).expect("the stored history reads back"))
        .unwrap_or_default();
    let acked = acked.lock().unwrap().clone();
    (acked, forgotten, history)
}

/// What the history must hold after a schedule: every acknowledged run not
/// forgotten, on its own line, with exactly the outcomes it recorded, in
/// build order; no forgotten run; no run twice.
fn history_violations(seed: u64) -> Vec<String> {
    let (acked, forgets, h) = history_schedule(seed);
    let forgotten: BTreeSet<&String> = forgets
        .iter()
        .filter(|(_, ok)| *ok)
        .map(|(r, _)| r)
        .collect();
    let maybe: BTreeSet<&String> = forgets.iter().map(|(r, _)| r).collect();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for line in &h.lines {
        let orders: Vec<u64> = line.runs.iter().map(|r| r.build_order).collect();
        if !orders.windows(2).all(|w| w[0] < w[1]) {
            out.push(format!(
                "line {:?} is out of build order: {orders:?}",
                line.label()
            ));
        }
        for (col, run) in line.runs.iter().enumerate() {
            if !seen.insert(run.id.clone()) {
                out.push(format!("run {} is listed twice", run.id));
            }
            if forgotten.contains(&run.id) {
                out.push(format!("run {} was forgotten but is still there", run.id));
            }
            let Some(rec) = acked.get(&run.id) else {
                continue;
            };
            let key = line.key();
            if (key.job, key.variant) != LINES[rec.line] {
                out.push(format!("run {} is on line {:?}", run.id, line.label()));
            }
            for t in HISTORY_TESTS {
                let want = rec.outcomes.get(t).copied().unwrap_or('-');
                let got = line
                    .tests
                    .iter()
                    .find(|r| r.id == t)
                    .and_then(|r| r.s.chars().nth(col))
                    .unwrap_or('-');
                if want != got {
                    out.push(format!(
                        "run {} test {t}: recorded {want}, history says {got}",
                        run.id
                    ));
                }
            }
        }
    }
    for id in acked.keys() {
        if !maybe.contains(id) && !seen.contains(id) {
            out.push(format!(
                "run {id} was recorded (acknowledged) but is missing"
            ));
        }
    }
    out
}

#[test]
fn concurrent_history_updates_lose_nothing_on_any_schedule() {
    let schedules = env_u64("ALLURE_HOST_HISTORY_SCHEDULES").unwrap_or(300);
    let base = env_u64("ALLURE_HOST_SCHEDULE_BASE").unwrap_or_else(|| fastrand::u64(..1 << 32));
    for seed in base..base + schedules {
        let found = history_violations(seed);
        assert!(
            found.is_empty(),
            "history schedule {seed} broke:\n  {}\nreplay: ALLURE_HOST_SCHEDULE_BASE={seed} ALLURE_HOST_HISTORY_SCHEDULES=1",
            found.join("\n  ")
        );
    }
}
