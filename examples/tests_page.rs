//! A branch's tests page over a synthetic test history, written as a site
//! folder `allure-host serve` can show: for measuring the page's weight and
//! its search with many tests (bench/tests_page.mjs), and for looking at it.
//!
//! Usage: cargo run --example tests_page -- DIR TESTS [RUNS]
//! Writes DIR/reports/demo/main/tests/ and DIR/reports/demo/~assets/.

use std::path::Path;

use allure_host::model::changes::{TestEntry, TestIndex};
use allure_host::model::engine::Engine;
use allure_host::model::signature;
use allure_host::model::status::TestStatus;
use allure_host::model::test_board::{self, PAGE_ROWS};
use allure_host::model::test_history::{LineKey, RunRef, TestHistory};
use allure_host::model::test_scores::Thresholds;
use allure_host::pages;

/// Test `t`'s outcome and duration in run `r`: most pass; every 50th
/// alternates, every 40th fails from run 30, every 60th slows down at the
/// last run, every 97th fails one run in five.
fn outcome(t: usize, r: usize, runs: usize) -> (TestStatus, u64) {
    let base = 40 + (t * 37 % 900) as u64;
    let failed =
        (t % 50 == 0 && r % 2 == 1) || (t % 40 == 0 && r >= 30) || (t % 97 == 0 && r % 5 == 0);
    let ms = if t % 60 == 0 && r == runs - 1 {
        base * 3 + 200
    } else {
        base + (r % 3) as u64
    };
    (
        if failed {
            TestStatus::Failed
        } else {
            TestStatus::Passed
        },
        ms,
    )
}

fn history(tests: usize, runs: usize) -> TestHistory {
    let mut h = TestHistory::default();
    let line = LineKey {
        job: Some("test"),
        variant: None,
    };
    for r in 0..runs {
        let index = TestIndex::new(
            (0..tests)
                .map(|t| {
                    let (status, ms) = outcome(t, r, runs);
                    TestEntry {
                        id: format!("{t:032x}"),
                        name: format!(
                            "tests/test_{}.py::test_{}_{t}",
                            t % 120,
                            ["checkout", "login", "search", "cart"][t % 4]
                        ),
                        failure: status.is_failing().then(|| {
                            signature::of(Some(&format!(
                                "AssertionError: expected 200, got {} for /api/orders/{r}",
                                500 + t % 4
                            )))
                        }),
                        status,
                        duration_ms: Some(ms),
                        uid: Some(format!("{:016x}", t * 1000 + r)),
                        ..TestEntry::default()
                    }
                })
                .collect(),
        );
        let run = RunRef {
            id: format!("{}-1-test", 9000 + r),
            build_order: r as u64 + 1,
            commit: Some(format!("{:07x}", 0xabc000 + r)),
            time: 1_764_000_000 + r as i64 * 3600,
            allure: Engine::Allure2,
        };
        h.record(line, run, &index, 50);
    }
    h
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("a file in a folder")).expect("create the folder");
    std::fs::write(path, bytes).expect("write the file");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(tests)) = (args.get(1), args.get(2).and_then(|n| n.parse().ok())) else {
        eprintln!("usage: tests_page DIR TESTS [RUNS]");
        std::process::exit(2);
    };
    let runs = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(50);
    let h = history(tests, runs);
    let th = Thresholds::default();
    let board = test_board::board(&h, &th, PAGE_ROWS);
    let project = Path::new(dir).join("reports/demo");
    let branch = project.join("main/tests");
    write(
        &branch.join("index.html"),
        pages::tests::page(&board, "demo", "main", &th).as_bytes(),
    );
    write(&branch.join("history.json"), &h.to_json());
    let flaky = test_board::flaky_list(&h, "main", &th);
    write(
        &branch.join("flaky.json"),
        &serde_json::to_vec(&flaky).expect("serialises"),
    );
    for (name, body) in pages::asset_files() {
        write(&project.join("~assets").join(name), body.as_bytes());
    }
}
