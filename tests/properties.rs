//! Property tests: invariants of the pure code where a mistake loses data or
//! lets a key escape its project, checked on inputs proptest draws (and
//! shrinks when one fails). `PROPTEST_CASES` sets the cases per property
//! (defaults below); a failure prints the shrunk input, and proptest keeps
//! its seed in `tests/properties.proptest-regressions` to replay it first.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;

use allure_host::model::claim::{Claim, ClaimState};
use allure_host::model::engine::Engine;
use allure_host::model::layout::{Layout, LayoutError};
use allure_host::model::legs::{self, Line};
use allure_host::model::manifest::{self, Manifest, RunEntry};
use allure_host::model::pointer::{BranchEntry, BuildCounter, LatestPointer, ProjectIndex};
use allure_host::model::retention::{self, Reason, Rules};
use allure_host::model::run_id::RunId;
use allure_host::model::segment::{self, MAX_SEGMENT_LEN};
use allure_host::model::stats::Stats;
use allure_host::state;
use allure_host::storage::{MemoryStore, Store};

/// Cases per property: `PROPTEST_CASES`, else `default`.
fn cases(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        ..Config::default()
    }
}

/// Names as users and CI systems write them: mostly plain, often with the
/// escape character, dots, slashes, Unicode and control characters, now
/// and then long enough to be shortened.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9._-]{1,12}",
        3 => "[a-z0-9.~/%2EFH -]{1,16}",
        2 => "\\PC{1,12}",
        1 => "[.]{1,3}",
        1 => any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
        1 => "[a-z~/é]{100,160}",
    ]
}

/// Undo segment encoding (for segments that were not shortened).
fn decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'~' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn safe(segment: &str) -> bool {
    segment
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b))
}

proptest! {
    #![proptest_config(cases(2000))]

    /// A segment is safe, short, never "." or "..", and (unless shortened)
    /// decodes back to its name, so two names never share one.
    #[test]
    fn segments_are_safe_and_decode_to_their_name(name in name()) {
        let seg = segment::encode(&name, "branch").unwrap();
        prop_assert!(safe(&seg), "{seg}");
        prop_assert!(seg.len() <= MAX_SEGMENT_LEN);
        prop_assert!(seg != "." && seg != "..");
        if seg.contains("~H") {
            prop_assert!(seg.len() == MAX_SEGMENT_LEN || name.len() > MAX_SEGMENT_LEN / 3);
        } else {
            prop_assert_eq!(decode(&seg), Some(name));
        }
    }

    /// Different names, however close, get different segments.
    #[test]
    fn different_names_get_different_segments(
        a in name(),
        b in name(),
        edit in 0usize..4,
    ) {
        // Half of the pairs differ by one small edit, where collisions hide.
        let b = match edit {
            0 => format!("{a}~"),
            1 => a.replacen('~', "~7E", 1),
            2 => format!("{a}{b}"),
            _ => b,
        };
        prop_assume!(a != b);
        prop_assert_ne!(
            segment::encode(&a, "run id").unwrap(),
            segment::encode(&b, "run id").unwrap()
        );
    }
}

fn prefix() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-zA-Z0-9_-][a-zA-Z0-9._-]{0,6}", 0..3)
        .prop_map(|parts| parts.join("/"))
}

/// Every key a layout makes for a branch, a run and a leg.
fn keys(l: &Layout, run: &RunId, leg: &str, rel: &str) -> Vec<String> {
    vec![
        l.project_page().into(),
        l.project_index().into(),
        l.branch_root(),
        l.run_root(run),
        l.run_file(run, rel).into(),
        l.history_file(run, "history.json").into(),
        l.test_index(run).into(),
        l.latest_prefix(),
        l.latest_page().into(),
        l.latest_pointer().into(),
        l.manifest().into(),
        l.runs_page().into(),
        l.build_counter().into(),
        l.claim(run).into(),
        l.claims_prefix(),
        l.leg_root(leg),
        l.leg_pointer(leg).into(),
        l.leg_latest_page(leg).into(),
        l.badge().into(),
        l.leg_badge(leg).into(),
        l.assets_prefix(),
        l.pull_request_state(7).into(),
    ]
}

/// The branch's own documents (not inside any run folder).
fn branch_documents(l: &Layout, run: &RunId, leg: &str) -> Vec<String> {
    vec![
        l.latest_page().into(),
        l.latest_pointer().into(),
        l.manifest().into(),
        l.runs_page().into(),
        l.build_counter().into(),
        l.claim(run).into(),
        l.leg_pointer(leg).into(),
        l.leg_latest_page(leg).into(),
        l.badge().into(),
        l.leg_badge(leg).into(),
    ]
}

fn layout_of(prefix: &str, project: &str, branch: &str) -> Option<Layout> {
    match Layout::new(prefix, project, branch) {
        Ok(l) => Some(l),
        Err(LayoutError::Reserved { .. }) => None,
        Err(e) => panic!("{prefix:?} {project:?} {branch:?}: {e}"),
    }
}

proptest! {
    #![proptest_config(cases(1000))]

    /// Whatever the names, every key sits under `<prefix>/<project>/`, with
    /// no empty, "." or ".." part; run files are told apart from the
    /// branch's documents.
    #[test]
    fn every_key_stays_under_its_project(
        prefix in prefix(),
        project in name(),
        branch in name(),
        run in name(),
        leg in name(),
        // A report's own relative paths, as a directory walk gives them.
        rel in "[a-z]{1,5}(/[a-z0-9_-]{1,5}){0,2}(\\.json)?",
    ) {
        let Some(l) = layout_of(&prefix, &project, &branch) else { return Ok(()) };
        let Ok(run) = RunId::new(run) else { return Ok(()) };
        let root = l.project_root();
        let expected = format!(
            "{}{}/",
            prefix.split('/').filter(|p| !p.is_empty()).map(|p| format!("{p}/")).collect::<String>(),
            segment::encode(&project, "project").unwrap()
        );
        prop_assert_eq!(&root, &expected);
        for key in keys(&l, &run, &leg, &rel) {
            let rest = key.strip_prefix(&root);
            prop_assert!(rest.is_some(), "{key} is outside {root}");
            let rest = rest.unwrap_or_default().trim_end_matches('/');
            prop_assert!(
                rest.split('/').all(|p| !p.is_empty() && p != "." && p != ".."),
                "{key}"
            );
        }
        prop_assert!(l.is_in_run(&l.run_file(&run, &rel)));
        for doc in branch_documents(&l, &run, &leg) {
            prop_assert!(!l.is_in_run(&doc), "{doc} taken for a run file");
        }
    }

    /// Two (branch, run) pairs share a run folder only when they are the
    /// same pair, and no run folder holds a branch's own document.
    #[test]
    fn run_folders_never_overlap(
        b1 in name(), b2 in name(), r1 in name(), r2 in name(), leg in name(),
    ) {
        let (Some(l1), Some(l2)) = (layout_of("reports", "p", &b1), layout_of("reports", "p", &b2)) else {
            return Ok(());
        };
        let (Ok(run1), Ok(run2)) = (RunId::new(r1.clone()), RunId::new(r2.clone())) else {
            return Ok(());
        };
        let (root1, root2) = (l1.run_root(&run1), l2.run_root(&run2));
        prop_assert_eq!(root1 == root2, b1 == b2 && r1 == r2);
        for doc in branch_documents(&l2, &run2, &leg)
            .into_iter()
            .chain([l2.project_page().into(), l2.project_index().into(), l2.assets_prefix(), l2.pull_request_state(1).into()])
        {
            prop_assert!(!doc.starts_with(&root1), "{doc} is inside run folder {root1}");
        }
    }

    /// A layout rebuilt from the folders it names (as prune and usage do)
    /// is the same layout; a run id's segment decodes to the id.
    #[test]
    fn layouts_round_trip_through_their_folders(
        prefix in prefix(), project in name(), branch in name(), run in name(),
    ) {
        let Some(l) = layout_of(&prefix, &project, &branch) else { return Ok(()) };
        let back = Layout::from_segments(&prefix, l.project_segment(), l.branch_segment());
        prop_assert_eq!(back, Ok(l.clone()));
        let seg = Layout::branch_segment_of(&branch).ok();
        prop_assert_eq!(seg.as_deref(), Some(l.branch_segment()));
        if let Ok(id) = RunId::new(run.clone()) {
            prop_assert_eq!(id.as_str(), run.as_str());
            if !id.segment().contains("~H") {
                prop_assert_eq!(decode(id.segment()), Some(run));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Manifests and retention

const JOBS: [Option<&str>; 3] = [None, Some("unit"), Some("e2e")];
const LEGS: [Option<&str>; 3] = [None, Some("os=linux"), Some("os=mac")];

fn run_entry(id: String, order: Option<u64>, time: i64, job: usize, leg: usize) -> RunEntry {
    RunEntry {
        run_id: id,
        time,
        size: 1,
        files: 1,
        project: "p".into(),
        branch: "b".into(),
        run_url: String::new(),
        context_url: None,
        stats: Stats::default(),
        duration_ms: None,
        build_order: order,
        commit: None,
        variant: LEGS[leg].map(str::to_string),
        job: JOBS[job].map(str::to_string),
        expires: None,
        allure: Engine::Allure2,
        quality_gate_failed: false,
        meta: BTreeMap::new(),
    }
}

/// Up to 12 runs over three jobs and three legs, some numbered, some from
/// writers that knew no build order; built with `add_run`, so in the
/// manifest's own order.
fn manifest() -> impl Strategy<Value = Manifest> {
    prop::collection::vec(
        (
            prop::option::weighted(0.8, 1u64..40),
            0i64..1000,
            0usize..3,
            0usize..3,
        ),
        0..12,
    )
    .prop_map(|runs| {
        let mut m = Manifest::empty("p", "b");
        for (i, (order, time, job, leg)) in runs.into_iter().enumerate() {
            let entry = run_entry(format!("r{i}"), order, time, job, leg);
            m.add_run(entry, &Rules::default(), 0, &BTreeSet::new())
                .expect("ids are unique");
        }
        m
    })
}

fn rules() -> impl Strategy<Value = Rules> {
    (prop::option::of(1u32..6), prop::option::of(0u32..3))
        .prop_map(|(keep, max_age_days)| Rules { keep, max_age_days })
}

fn line_of(r: &RunEntry) -> (Option<String>, Option<String>) {
    (r.job.clone(), r.variant.clone())
}

fn ids(runs: &[RunEntry]) -> Vec<&str> {
    runs.iter().map(|r| r.run_id.as_str()).collect()
}

fn order_key(r: &RunEntry) -> (u64, i64, &str) {
    (r.build_order.unwrap_or(0), r.time, &r.run_id)
}

proptest! {
    #![proptest_config(cases(2000))]

    /// Retention keeps each trend line's newest run unless its files are
    /// gone or expired, keeps `keep` runs before dropping one by count,
    /// drops by age only what is older, and a second pass drops nothing.
    #[test]
    fn retention_keeps_each_lines_newest_run(
        mut m in manifest(),
        rules in rules(),
        gone_mask in any::<u16>(),
        expired_mask in any::<u16>(),
        now in 0i64..300_000,
    ) {
        for (i, r) in m.runs.iter_mut().enumerate() {
            if expired_mask >> i & 1 == 1 && i % 3 == 0 {
                r.expires = Some(now - 1);
            }
        }
        let gone: BTreeSet<String> = m.runs.iter().enumerate()
            .filter(|(i, _)| gone_mask >> i & 1 == 1 && i % 4 == 0)
            .map(|(_, r)| r.run_id.clone())
            .collect();
        let dropped = retention::select(&m, &rules, now, &gone);
        let by_id: BTreeMap<&str, Reason> = dropped.iter().map(|d| (d.run_id.as_str(), d.reason)).collect();
        prop_assert_eq!(by_id.len(), dropped.len(), "a run dropped twice");
        let mut heads = BTreeSet::new();
        let mut kept_before = 0u32;
        let cutoff = rules.max_age_days.map(|d| now - i64::from(d) * 86_400);
        for r in &m.runs {
            let head = heads.insert(line_of(r));
            match by_id.get(r.run_id.as_str()) {
                None => kept_before += 1,
                Some(Reason::Gone) => prop_assert!(gone.contains(&r.run_id)),
                Some(Reason::Expired) => prop_assert!(r.expires.is_some_and(|e| e <= now)),
                Some(reason) => {
                    prop_assert!(!head, "{} is its line's newest run, dropped for {reason:?}", r.run_id);
                    match reason {
                        Reason::Count => prop_assert!(rules.keep.is_some_and(|k| kept_before >= k)),
                        Reason::Age => prop_assert!(cutoff.is_some_and(|c| r.time < c)),
                        other => prop_assert!(false, "unexpected reason {other:?}"),
                    }
                }
            }
        }
        // Stable: what stays is not dropped by the same rules a moment later.
        let mut after = m.clone();
        after.remove_runs(&dropped, now);
        prop_assert_eq!(retention::select(&after, &rules, now, &gone), vec![]);
    }

    /// Adding a run loses none: the runs before plus the new one are the
    /// runs after plus those retention dropped; the order stays newest
    /// first; the revision moves by one; the plan of a publish agrees.
    #[test]
    fn adding_a_run_loses_none_and_keeps_the_order(
        m in manifest(),
        rules in rules(),
        order in prop::option::of(1u64..45),
        time in 0i64..1000,
        job in 0usize..3,
        leg in 0usize..3,
    ) {
        let entry = run_entry("new".into(), order, time, job, leg);
        let planned = m.would_prune(&entry, &rules, 0, &BTreeSet::new());
        let mut after = m.clone();
        let pruned = after.add_run(entry.clone(), &rules, 0, &BTreeSet::new()).unwrap();
        prop_assert_eq!(&pruned, &planned);
        let before: BTreeSet<&str> = ids(&m.runs).into_iter().chain(["new"]).collect();
        let now: BTreeSet<&str> = ids(&after.runs).into_iter().chain(ids(&pruned)).collect();
        prop_assert_eq!(before, now);
        prop_assert_eq!(after.runs.len() + pruned.len(), m.runs.len() + 1);
        prop_assert!(after.runs.windows(2).all(|w| order_key(&w[0]) > order_key(&w[1])));
        prop_assert_eq!(after.revision, m.revision + 1);
        // A duplicate of a listed run is refused and changes nothing.
        if after.contains("new") {
            let again = after.clone();
            prop_assert!(after.add_run(entry, &rules, 0, &BTreeSet::new()).is_err());
            prop_assert_eq!(after, again);
        }
    }

    /// Removing runs takes exactly the named ones still listed; the others
    /// keep their order.
    #[test]
    fn removing_runs_takes_only_those_named(m in manifest(), mask in any::<u16>()) {
        let named: Vec<retention::Dropped> = m.runs.iter().enumerate()
            .filter(|(i, _)| mask >> i & 1 == 1)
            .map(|(_, r)| retention::Dropped { run_id: r.run_id.clone(), reason: Reason::Count })
            .chain([retention::Dropped { run_id: "not-listed".into(), reason: Reason::Count }])
            .collect();
        let mut after = m.clone();
        let removed = after.remove_runs(&named, 5);
        let named_ids: BTreeSet<&str> = named.iter().map(|d| d.run_id.as_str()).collect();
        let expected: Vec<&str> = ids(&m.runs).into_iter().filter(|id| !named_ids.contains(id)).collect();
        prop_assert_eq!(ids(&after.runs), expected);
        prop_assert_eq!(removed.len() + after.runs.len(), m.runs.len());
        prop_assert_eq!(after.revision, m.revision + u64::from(!removed.is_empty()));
    }

    /// The run a new run continues is its line's newest; a leg's newest is
    /// the first run of that leg.
    #[test]
    fn trend_lines_continue_from_their_newest_run(m in manifest(), job in 0usize..3, leg in 0usize..3) {
        let line = Line { job: JOBS[job], variant: LEGS[leg] };
        let found = legs::history_source(&m, line);
        let same_line = m.runs.iter().find(|r| r.job.as_deref() == line.job && r.variant.as_deref() == line.variant);
        if let (Some(job), Some(first)) = (line.job, same_line) {
            prop_assert_eq!(found.map(|r| r.run_id.as_str()), Some(first.run_id.as_str()), "job {}", job);
        }
        if let Some(r) = found {
            prop_assert_eq!(r.variant.as_deref(), line.variant);
        }
        let newest = legs::newest_of_leg(&m, line.variant);
        let expected = m.runs.iter()
            .filter(|r| r.variant.as_deref() == line.variant)
            .max_by_key(|r| order_key(r));
        prop_assert_eq!(newest.map(|r| &r.run_id), expected.map(|r| &r.run_id));
    }
}

// ---------------------------------------------------------------------------
// Documents round-trip through their JSON

fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-z0-9/._-]{0,10}", 1 => "\\PC{0,8}"]
}

fn meta_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
    ]
}

fn full_entry() -> impl Strategy<Value = RunEntry> {
    (
        text(),
        any::<i64>(),
        (any::<u64>(), any::<u64>(), any::<u32>()),
        prop::option::of(text()),
        prop::option::of(any::<u64>()),
        (
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
        ),
        prop::option::of(any::<i64>()),
        any::<bool>(),
        prop::collection::btree_map("[a-z_][a-z0-9_-]{0,8}", meta_value(), 0..4),
    )
        .prop_map(
            |(
                id,
                time,
                (size, files, passed),
                context_url,
                order,
                (commit, variant, job),
                expires,
                three,
                meta,
            )| {
                let meta = meta
                    .into_iter()
                    .filter(|(k, _)| !manifest::RESERVED_KEYS.contains(&k.as_str()))
                    .collect();
                RunEntry {
                    run_id: format!("r{id}"),
                    time,
                    size,
                    files,
                    project: "p".into(),
                    branch: "b".into(),
                    run_url: String::new(),
                    context_url,
                    stats: Stats {
                        passed: u64::from(passed),
                        total: u64::from(passed),
                        ..Stats::default()
                    },
                    duration_ms: order,
                    build_order: order,
                    commit,
                    variant,
                    job,
                    expires,
                    allure: if three {
                        Engine::Allure3
                    } else {
                        Engine::Allure2
                    },
                    // Only Allure 3 runs a quality gate.
                    quality_gate_failed: three && (time % 2 == 0),
                    meta,
                }
            },
        )
}

proptest! {
    #![proptest_config(cases(1000))]

    /// A manifest reads back as written, meta keys and all.
    #[test]
    fn manifests_round_trip(runs in prop::collection::vec(full_entry(), 0..4), revision in any::<u64>(), remove_after in prop::option::of(any::<i64>())) {
        let mut m = Manifest::empty("p", "b");
        m.revision = revision;
        m.remove_after = remove_after;
        m.runs = runs;
        prop_assert_eq!(Manifest::parse(&m.to_json()).unwrap(), m);
    }

    /// Pointers, counters, claims and project indexes read back as written.
    #[test]
    fn small_documents_round_trip(
        run in text(), url in text(), order in any::<u64>(), time in any::<i64>(),
        variant in prop::option::of(text()), token in "[0-9a-f]{16}", by in prop::option::of(text()),
    ) {
        let p = LatestPointer {
            run_id: run.clone(), run_url: url.clone(), latest_url: url.clone(),
            project: "p".into(), branch: "b".into(), build_order: order, time, variant,
        };
        prop_assert_eq!(LatestPointer::parse(&p.to_json()).unwrap(), p);
        let c = BuildCounter { last: order };
        prop_assert_eq!(BuildCounter::parse(&c.to_json()), Some(c));
        let mut claim = Claim::new(&run, &token, by, time);
        claim.state = ClaimState::Abandoned;
        prop_assert_eq!(serde_json::from_slice::<Claim>(&claim.to_json()).unwrap(), claim);
        let mut index = ProjectIndex::empty("p");
        index.upsert(BranchEntry {
            branch: url.clone(), segment: segment::encode(&format!("b{url}"), "branch").unwrap(),
            run_id: run, build_order: order, time, stats: Stats::default(),
            recent: vec![12.5, 100.0], runs: 3,
        }, time);
        prop_assert_eq!(ProjectIndex::parse(&index.to_json()), Some(index));
    }

    /// The project page's row of a branch only moves forward: to a newer
    /// run recorded by a publish, or by a refresh from a manifest at least
    /// as new as the row.
    #[test]
    fn project_rows_never_move_back(
        steps in prop::collection::vec((any::<bool>(), 1u64..30), 1..20),
    ) {
        let mut index = ProjectIndex::empty("p");
        let mut best = 0;
        for (publish, order) in steps {
            if publish {
                index.upsert(branch_row(order), 0);
            } else {
                // A prune's snapshot: the branch lists one run, `order`.
                let mut m = Manifest::empty("p", "main");
                m.runs = vec![run_entry(format!("run{order}"), Some(order), 0, 0, 0)];
                index.refresh("main", &m, 0);
            }
            let shown = index.branches.first().map_or(0, |b| b.build_order);
            if publish { best = best.max(order) }
            prop_assert!(shown >= best, "row shows {shown}, a publish recorded {best}");
        }
    }
}

fn branch_row(order: u64) -> BranchEntry {
    BranchEntry {
        branch: "main".into(),
        segment: "main".into(),
        run_id: format!("run{order}"),
        build_order: order,
        time: 0,
        stats: Stats::default(),
        recent: Vec::new(),
        runs: 1,
    }
}

// ---------------------------------------------------------------------------
// Pointers against a store

proptest! {
    #![proptest_config(cases(300))]

    /// Whatever order publishers finish in, a latest pointer never moves
    /// back: every write lands a higher build than the one before, and it
    /// ends on the highest.
    #[test]
    fn latest_pointers_never_move_back(orders in prop::collection::vec(0u64..50, 1..12), damaged in any::<bool>()) {
        let mem = Arc::new(MemoryStore::new());
        let store = Store::memory(mem.clone());
        let key = &allure_host::storage::ObjectKey::outside_layout("r/p/main/latest.json");
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            if damaged {
                store.put_bytes(key, b"{\"run_id\": nul".to_vec(), &meta(), allure_host::storage::PutMode::Overwrite).await.unwrap();
            }
            for &order in &orders {
                let p = LatestPointer {
                    run_id: format!("run{order}"), run_url: String::new(), latest_url: String::new(),
                    project: "p".into(), branch: "main".into(), build_order: order, time: 0, variant: None,
                };
                state::latest::advance(&store, key, &p).await.unwrap();
            }
        });
        let written: Vec<u64> = mem.applied().iter()
            .filter_map(|a| a.body.as_deref())
            .filter_map(|b| LatestPointer::parse(b).ok())
            .map(|p| p.build_order)
            .collect();
        prop_assert!(written.windows(2).all(|w| w[0] < w[1]), "{written:?}");
        let end = LatestPointer::parse(&mem.peek(key).unwrap()).unwrap();
        prop_assert_eq!(end.build_order, *orders.iter().max().unwrap());
    }
}

fn meta() -> allure_host::storage::ObjectMeta {
    allure_host::storage::ObjectMeta {
        content_type: "application/json".into(),
        cache_control: "no-cache",
        tagging: None,
    }
}

/// One change to a test history: a run of a line recorded with each test's
/// outcome (a char of "PFBS-"), or a run forgotten.
#[derive(Debug, Clone)]
enum HistoryOp {
    Record {
        order: u64,
        line: usize,
        outcomes: Vec<char>,
    },
    Forget(u64),
}

fn history_op() -> impl Strategy<Value = HistoryOp> {
    prop_oneof![
        4 => (0u64..40, 0usize..2, prop::collection::vec(prop::sample::select(vec!['P', 'F', 'B', 'S', '-']), 4))
            .prop_map(|(order, line, outcomes)| HistoryOp::Record { order, line, outcomes }),
        1 => (0u64..40).prop_map(HistoryOp::Forget),
    ]
}

proptest! {
    #![proptest_config(cases(500))]

    /// Whatever runs are recorded and forgotten, in whatever order, the
    /// history is its model: per line the newest `window` runs recorded and
    /// not forgotten, in build order, each test's outcome as recorded; it
    /// reads back as written.
    #[test]
    fn a_test_history_is_the_model_of_its_records(
        ops in prop::collection::vec(history_op(), 1..40),
        window in 1usize..6,
    ) {
        use allure_host::model::changes::{TestEntry, TestIndex};
        use allure_host::model::test_history::{LineKey, RunRef, TestHistory};
        let lines = [LineKey { job: Some("unit"), variant: None }, LineKey { job: Some("e2e"), variant: Some("os=mac") }];
        let mut h = TestHistory::default();
        // run id -> (line, outcomes), as the model keeps them.
        let mut model: BTreeMap<u64, (usize, Vec<char>)> = BTreeMap::new();
        for op in &ops {
            match op {
                HistoryOp::Record { order, line, outcomes } => {
                    let tests = outcomes.iter().enumerate().filter(|(_, c)| **c != '-').map(|(t, c)| TestEntry {
                        id: format!("t{t}"),
                        name: format!("t{t}"),
                        status: match c { 'P' => "passed", 'F' => "failed", 'B' => "broken", _ => "skipped" }.into(),
                        ..TestEntry::default()
                    }).collect();
                    let run = RunRef { id: format!("r{order:03}"), build_order: *order, commit: None, time: 0, allure: Engine::Allure2 };
                    let added = h.record(lines[*line], run, &TestIndex::new(tests), window);
                    prop_assert_eq!(added, !model.contains_key(order));
                    if added {
                        model.insert(*order, (*line, outcomes.clone()));
                        let of_line: Vec<u64> = model.iter().filter(|(_, (l, _))| l == line).map(|(o, _)| *o).collect();
                        for old in of_line.iter().take(of_line.len().saturating_sub(window)) {
                            model.remove(old);
                        }
                    }
                }
                HistoryOp::Forget(order) => {
                    let changed = h.forget(&BTreeSet::from([format!("r{order:03}")]));
                    prop_assert_eq!(changed, model.remove(order).is_some());
                }
            }
        }
        let again = TestHistory::parse(&h.to_json());
        prop_assert_eq!(again.as_ref(), Ok(&h));
        for (i, key) in lines.iter().enumerate() {
            let want: Vec<(&u64, &Vec<char>)> = model.iter().filter(|(_, (l, _))| *l == i).map(|(o, (_, c))| (o, c)).collect();
            let Some(line) = h.line(*key) else {
                prop_assert!(want.is_empty(), "line {} is missing", i);
                continue;
            };
            let orders: Vec<u64> = line.runs.iter().map(|r| r.build_order).collect();
            prop_assert_eq!(orders, want.iter().map(|(o, _)| **o).collect::<Vec<_>>());
            for t in 0..4 {
                let column: String = want.iter().map(|(_, c)| c[t]).collect();
                let got = line.tests.iter().find(|r| r.id == format!("t{t}")).map(|r| r.s.clone());
                if column.chars().all(|c| c == '-') {
                    prop_assert_eq!(got, None, "a test not run in the window leaves");
                } else {
                    prop_assert_eq!(got, Some(column));
                }
            }
        }
    }
}
