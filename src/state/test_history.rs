//! `<branch>/tests/`: the branch's test history (every test's last runs on
//! each trend line), changed only by compare-and-swap so legs publishing at
//! once keep each other's runs, and the tests page and `flaky.json` made
//! from it, each carrying the history's revision so an older one never
//! replaces a newer one.

use std::collections::BTreeSet;

use super::page::write_if_newer;
use super::{StateError, no_cache};
use crate::model::changes::TestIndex;
use crate::model::layout::Layout;
use crate::model::test_board::{self, PAGE_ROWS};
use crate::model::test_history::{HistoryError, LineKey, MAX_REVISION, RunRef, TestHistory};
use crate::model::test_scores::Thresholds;

use crate::pages;
use crate::storage::Store;
use crate::storage::cas::{self, Step};

/// The branch's history, when it has one.
pub async fn read(store: &Store, layout: &Layout) -> Result<Option<TestHistory>, StateError> {
    let key = layout.test_history();
    match store.get(&key).await? {
        None => Ok(None),
        Some(obj) => TestHistory::parse(&obj.body)
            .map(Some)
            .map_err(|problem| unreadable(store, layout, problem)),
    }
}

fn unreadable(store: &Store, layout: &Layout, problem: HistoryError) -> StateError {
    StateError::UnreadableHistory {
        location: store.location(&layout.test_history()),
        problem,
    }
}

/// A branch, by its folder and its names.
#[derive(Clone, Copy)]
pub struct Branch<'a> {
    pub layout: &'a Layout,
    pub project: &'a str,
    pub branch: &'a str,
}

/// One publish's change: its run added to its line, and the runs retention
/// dropped forgotten, in one write.
pub struct Record<'a> {
    pub line: LineKey<'a>,
    pub run: RunRef,
    pub tests: &'a TestIndex,
    pub dropped: &'a BTreeSet<String>,
    pub window: usize,
    pub thresholds: Thresholds,
}

/// Add a run (and forget the dropped ones), then write the page and the
/// flaky list. Returns the history as written.
pub async fn record(
    store: &Store,
    b: Branch<'_>,
    r: &Record<'_>,
) -> Result<TestHistory, StateError> {
    let h = change(store, b.layout, |h| {
        let added = h.record(r.line, r.run.clone(), r.tests, r.window);
        // Forgetting is done even on a retry whose first write landed.
        let forgot = h.forget(r.dropped);
        if added || forgot {
            h.thresholds = r.thresholds;
        }
        added || forgot
    })
    .await?;
    write_derived(store, b, &h).await?;
    Ok(h)
}

/// Forget runs that are gone (prune). Nothing is written for a branch
/// without a history.
pub async fn forget(
    store: &Store,
    b: Branch<'_>,
    runs: &BTreeSet<String>,
) -> Result<(), StateError> {
    if store.get(&b.layout.test_history()).await?.is_none() {
        return Ok(());
    }
    let h = change(store, b.layout, |h| h.forget(runs)).await?;
    write_derived(store, b, &h).await
}

/// Read, change, write back unless the change left it as it was. A new
/// history starts above the revision of the page and list already there
/// (left by a history that was removed), so they follow it at once.
async fn change(
    store: &Store,
    layout: &Layout,
    apply: impl Fn(&mut TestHistory) -> bool,
) -> Result<TestHistory, StateError> {
    let key = layout.test_history();
    let mut floor: Option<u64> = None;
    loop {
        let changed = cas::update(store, &key, &no_cache(&key), |current| {
            let mut h = match (current, floor) {
                (Some(bytes), _) => {
                    TestHistory::parse(bytes).map_err(|e| unreadable(store, layout, e))?
                }
                (None, Some(revision)) => TestHistory {
                    revision,
                    ..TestHistory::default()
                },
                (None, None) => return Ok(Step::Keep(None)),
            };
            Ok::<_, StateError>(if apply(&mut h) {
                Step::Write(h.to_json(), Some(h))
            } else {
                Step::Keep(Some(h))
            })
        })
        .await?;
        match changed {
            Some(h) => return Ok(h),
            None => floor = Some(derived_revision(store, layout).await?),
        }
    }
}

/// The newest revision the tests page or flaky.json carries (0: none).
async fn derived_revision(store: &Store, layout: &Layout) -> Result<u64, StateError> {
    let page = store.get(&layout.tests_page()).await?;
    let list = store.get(&layout.flaky_list()).await?;
    let of_page = page.and_then(|p| pages::revision_of(&p.body));
    let of_list = list.and_then(|l| flaky_revision(&l.body));
    Ok(of_page.max(of_list).unwrap_or(0).min(MAX_REVISION / 2))
}

/// The history revision a stored `flaky.json` was made from.
fn flaky_revision(bytes: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Revision {
        revision: u64,
    }
    serde_json::from_slice::<Revision>(bytes)
        .ok()
        .map(|r| r.revision)
}

/// The tests page and `flaky.json`, from the history as written.
async fn write_derived(store: &Store, b: Branch<'_>, h: &TestHistory) -> Result<(), StateError> {
    let th = &h.thresholds;
    let board = test_board::board(h, th, PAGE_ROWS);
    let page = pages::tests::page(&board, b.project, b.branch, th);
    write_if_newer(store, &b.layout.tests_page(), page, h.revision).await?;
    let flaky = test_board::flaky_list(h, b.branch, th);
    write_flaky_if_newer(store, b.layout, &flaky).await
}

async fn write_flaky_if_newer(
    store: &Store,
    layout: &Layout,
    flaky: &test_board::FlakyList,
) -> Result<(), StateError> {
    let key = layout.flaky_list();
    let bytes = serde_json::to_vec_pretty(flaky).expect("the flaky list serialises");
    cas::update(store, &key, &no_cache(&key), |current| {
        let newer_there = current
            .and_then(flaky_revision)
            .is_some_and(|r| r >= flaky.revision);
        Ok::<_, std::convert::Infallible>(if newer_there {
            Step::Keep(())
        } else {
            Step::Write(bytes.clone(), ())
        })
    })
    .await?;
    Ok(())
}
