//! What a publish reads back from an Allure 3 report: `summary.json`,
//! `test-results.json`, `data/test-results/*.json` and `quality-gate.json`.
#![no_main]

use allure_host::model::status::TestStatus;
use allure_host::report::allure3::output;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = output::parse_summary(data) {
        let _ = (s.stats.status(), s.stats.pass_rate(), s.stats.failing());
    }

    let (listed, total) = output::parse_failing(data, 5);
    assert!(listed.len() <= 5 && listed.len() <= total);
    assert!(listed.iter().all(|(_, t)| t.status.is_failing()));
    if let Some(i) = listed
        .iter()
        .position(|(_, t)| t.status == TestStatus::Broken)
    {
        assert!(
            listed[i..]
                .iter()
                .all(|(_, t)| t.status == TestStatus::Broken),
            "failed first"
        );
    }

    let _ = output::parse_test_detail(data);
    let _ = output::parse_test_entry(data);

    match output::parse_quality_gate(data) {
        Ok(Some(gate)) => {
            assert!(!gate.rules.is_empty(), "a gate has rules");
            assert_eq!(gate.passed(), gate.failed_rules().next().is_none());
            for rule in &gate.rules {
                assert!(!rule.message.contains('\u{1b}'), "terminal colours left");
            }
        }
        Ok(None) | Err(_) => {}
    }
});
