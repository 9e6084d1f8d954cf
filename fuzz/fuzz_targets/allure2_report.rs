//! What a publish reads back from an Allure 2 report: `widgets/summary.json`,
//! `data/suites.json`, `data/test-cases/*.json`, and the test index built
//! from them (stored with the run, read back as another run's base).
#![no_main]

use allure_host::model::changes::{Base, TestIndex, compare};
use allure_host::model::test_scores::Thresholds;
use allure_host::model::status::TestStatus;
use allure_host::report::{failures, summary, test_index};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = summary::parse(data) {
        let _ = summary::human_duration(s.duration_ms);
        let _ = (s.stats.status(), s.stats.pass_rate(), s.stats.failing());
    }

    let (listed, total) = failures::parse_suites(data, 5);
    assert!(listed.len() <= 5 && listed.len() <= total);
    assert!(listed.iter().all(|(_, _, s)| s.is_failing()));
    let first_broken = listed.iter().position(|(_, _, s)| *s == TestStatus::Broken);
    if let Some(i) = first_broken {
        assert!(
            listed[i..].iter().all(|(_, _, s)| *s == TestStatus::Broken),
            "failed first"
        );
    }
    let _ = failures::parse_case(data);

    let entries: Vec<_> = test_index::parse_case(data).into_iter().collect();
    let index = TestIndex::new(entries);
    let again = TestIndex::parse(&index.to_json()).expect("our own index parses");
    assert_eq!(again, index, "parse(to_json(i)) == i");

    if let Some(base) = TestIndex::parse(data) {
        let back = TestIndex::parse(&base.to_json()).expect("our own index parses");
        assert_eq!(back, base, "parse(to_json(i)) == i");
        let against = |i| Base {
            branch: "main",
            run: "base-run",
            index: i,
            history: None,
            thresholds: Thresholds::default(),
        };
        let changes = compare(&index, &against(&base));
        let _ = changes.lists();
        assert!(changes.new_failures_not_flaky == changes.new_failures.total);
        let _ = compare(&base, &against(&base));
    }
});
