//! `runs/index.json` of a branch, as we or pytest-allure-host wrote it (or a
//! hand edit): parse, round trip, add a run, and render the pages built
//! from it.
#![no_main]

use std::collections::BTreeSet;

use allure_host::model::legs;
use allure_host::model::manifest::{Manifest, RunEntry};
use allure_host::model::retention::Rules;
use allure_host::pages;
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(mut m) = Manifest::parse(data) else {
        return;
    };
    let again = Manifest::parse(&m.to_json()).expect("our own manifest parses");
    assert_eq!(again, m, "parse(to_json(m)) == m");

    let _ = legs::latest_view(&m);
    let _ = pages::runs(&m);
    let _ = pages::branch_latest(&m);

    // The next run of the branch, as a publish adds it.
    let mut next: RunEntry = m.runs.first().cloned().unwrap_or_else(|| {
        serde_json::from_str(r#"{"run_id":"fuzz"}"#).expect("minimal run entry")
    });
    next.run_id = format!("fuzz-{}", m.runs.len());
    next.build_order = Some(m.max_build_order().saturating_add(1));
    next.expires = None;
    let rules = Rules {
        keep: Some(3),
        max_age_days: Some(30),
    };
    let gone = BTreeSet::new();
    let planned = m.would_prune(&next, &rules, NOW, &gone);
    let before = m.runs.len();
    match m.add_run(next.clone(), &rules, NOW, &gone) {
        Ok(pruned) => {
            assert_eq!(pruned, planned, "the plan matches what add_run did");
            assert_eq!(m.runs.len() + pruned.len(), before + 1, "no run lost");
            assert!(m.contains(&next.run_id), "the new run is listed");
            assert!(m.remove_after.is_none(), "a new run keeps the branch");
        }
        Err(_) => assert!(m.runs.len() == before),
    }
    let _ = pages::runs(&m);
});
