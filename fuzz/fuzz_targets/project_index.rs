//! `<project>/index.json` (ours) and pytest-allure-host's
//! `branches/index.json` that seeds it: parse, round trip, record a run,
//! refresh from a manifest, and render the project page.
#![no_main]

use allure_host::model::manifest::Manifest;
use allure_host::model::pointer::{BranchEntry, ProjectIndex};
use allure_host::pages;
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let legacy = BranchEntry::from_legacy_list(data);
    for row in &legacy {
        assert!(!row.branch.is_empty() && !row.run_id.is_empty());
    }
    if !legacy.is_empty() {
        let _ = pages::project(&ProjectIndex::seeded("fuzz", legacy));
    }

    let Some(mut index) = ProjectIndex::parse(data) else {
        return;
    };
    let again = ProjectIndex::parse(&index.to_json()).expect("our own index parses");
    assert_eq!(again, index, "parse(to_json(p)) == p");
    let _ = pages::project(&index);

    // A new run of the first branch, then that branch's runs removed.
    if let Some(first) = index.branches.first().cloned() {
        let mut newer = first.clone();
        newer.build_order = first.build_order.saturating_add(1);
        newer.run_id = format!("{}-next", first.run_id);
        index.upsert(newer.clone(), NOW);
        assert!(
            index
                .branches
                .iter()
                .any(|b| b.segment == newer.segment && b.build_order == newer.build_order),
            "a newer run replaces the branch's row"
        );
        let empty = Manifest::empty("fuzz", &first.branch);
        index.refresh(&first.segment, &empty, NOW);
        index.remove(&first.segment, NOW);
        assert!(index.branches.iter().all(|b| b.segment != first.segment));
    }
    let _ = pages::project(&index);
});
