//! `<branch>/tests/history.json`, as any writer (or a hand edit) left it:
//! parse and check, round trip, add a run and forget one, and make the
//! lists, the flaky list and the tests page from it; every failure message
//! normalises without panicking.
#![no_main]

use std::collections::BTreeSet;

use allure_host::model::changes::{TestEntry, TestIndex};
use allure_host::model::engine::Engine;
use allure_host::model::signature;
use allure_host::model::test_board;
use allure_host::model::test_history::{LineKey, RunRef, TestHistory};
use allure_host::pages;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = signature::of(Some(&String::from_utf8_lossy(data)));
    let Ok(mut h) = TestHistory::parse(data) else {
        return;
    };
    let again = TestHistory::parse(&h.to_json()).expect("our own history parses");
    assert_eq!(again, h, "parse(to_json(h)) == h");
    let th = h.thresholds;
    let board = test_board::board(&h, &th, 5);
    let _ = pages::tests::page(&board, "p", "b", &th);
    let _ = test_board::flaky_list(&h, "b", &th);

    // The next run of its first line: every test it had, failing.
    let (key, tests) = match h.lines.first() {
        Some(l) => (
            (l.job.clone(), l.variant.clone()),
            l.tests
                .iter()
                .map(|t| TestEntry {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    status: "failed".into(),
                    failure: Some(signature::of(Some(&t.name))),
                    ..TestEntry::default()
                })
                .collect(),
        ),
        None => ((None, None), Vec::new()),
    };
    let line = LineKey { job: key.0.as_deref(), variant: key.1.as_deref() };
    let order = h.lines.iter().flat_map(|l| &l.runs).map(|r| r.build_order).max().unwrap_or(0);
    let run = RunRef {
        id: format!("fuzz-{order}"),
        build_order: order.saturating_add(1),
        commit: None,
        time: 0,
        allure: Engine::Allure2,
    };
    let revision = h.revision;
    if h.record(line, run.clone(), &TestIndex::new(tests), 50) {
        assert!(h.revision > revision);
        let l = h.line(line).expect("the run's line is there");
        assert!(l.runs.iter().any(|r| r.id == run.id), "the run is recorded");
    }
    TestHistory::parse(&h.to_json()).expect("a history stays consistent after a run is added");
    h.forget(&BTreeSet::from([run.id.clone()]));
    assert!(h.lines.iter().all(|l| l.runs.iter().all(|r| r.id != run.id)), "forgotten");
    TestHistory::parse(&h.to_json()).expect("a history stays consistent after a run goes");
});
