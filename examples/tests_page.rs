//! A branch's tests page from a synthetic test history, written into a
//! folder laid out like a site, for `allure-host serve` and Chromium
//! (bench/tests_page.py measures it; the screenshots are taken of it).
//!
//! Usage: cargo run --example tests_page -- DIR TESTS [RUNS] [--lines N]
//!
//! Writes `DIR/reports/demo/main/tests/{index.html,history.json,flaky.json}`
//! and the pages' assets under `DIR/reports/demo/~assets/`, and prints the
//! page's URL path and sizes as JSON. RUNS is 50 by default; with
//! `--lines N` (2 or 3) the tests are split over that many trend lines.
//!
//! Most tests pass; about 2% are flaky, 1% broke a while ago and stay
//! broken, a few broke in the latest run, 1% got slower lately, a few are
//! skipped now and then or were added halfway; two names carry markup and
//! quotes, to show they are escaped.

use std::path::PathBuf;

use allure_host::model::changes::{TestEntry, TestIndex};
use allure_host::model::engine::Engine;
use allure_host::model::layout::Layout;
use allure_host::model::signature;
use allure_host::model::status::TestStatus;
use allure_host::model::test_board::{self, PAGE_ROWS};
use allure_host::model::test_history::{LineKey, RunRef, TestHistory};
use allure_host::model::test_scores::Thresholds;
use allure_host::pages;

/// A small deterministic generator (SplitMix64): the same history each time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Steady,
    Flaky,
    /// Fails from this run on.
    BrokeAt(usize),
    /// Takes this many times longer from this run on.
    SlowerAt(usize, u64),
    Skippy,
    /// Exists from this run on.
    NewAt(usize),
}

struct Test {
    id: String,
    name: String,
    base_ms: u64,
    kind: Kind,
}

const MODULES: &[&str] = &[
    "checkout", "cart", "payments", "login", "search", "catalog", "orders", "shipping", "profile",
    "admin",
];
const FAILURES: &[&str] = &[
    "AssertionError: expected status 200 but got 503",
    "TimeoutError: waited 30000 ms for selector '#pay-button'",
    "ConnectionResetError: [Errno 104] Connection reset by peer",
    "AssertionError: assert 41 == 42",
    "KeyError: 'order_id'",
];

fn tests(n: usize, runs: usize, rng: &mut Rng) -> Vec<Test> {
    (0..n)
        .map(|i| {
            let module = MODULES[i % MODULES.len()];
            let name = match i {
                3 => "test_name_with_<script>alert(1)</script>".to_string(),
                7 => r#"tests/test_cart.py::test_quotes["it's" & 'quoted']"#.to_string(),
                _ => format!(
                    "tests/test_{module}.py::Test{}::test_case_{i:05}[{}]",
                    module[..1].to_uppercase() + &module[1..],
                    ["visa", "mastercard", "amex", "paypal"][i % 4]
                ),
            };
            let roll = rng.below(1000);
            let kind = match roll {
                0..20 => Kind::Flaky,
                20..30 => Kind::BrokeAt(runs.saturating_sub(1 + rng.below(15) as usize)),
                30..36 => Kind::BrokeAt(runs - 1),
                36..46 => Kind::SlowerAt(
                    runs.saturating_sub(1 + rng.below(2) as usize),
                    2 + rng.below(3),
                ),
                46..60 => Kind::Skippy,
                60..80 => Kind::NewAt(runs / 2 + rng.below((runs as u64 / 2).max(1)) as usize),
                _ => Kind::Steady,
            };
            Test {
                id: format!("{:016x}", rng.next()),
                name,
                base_ms: 20 + rng.below(if i % 50 == 0 { 20_000 } else { 800 }),
                kind,
            }
        })
        .collect()
}

fn entry(t: &Test, run: usize, rng: &mut Rng) -> Option<TestEntry> {
    let (mut status, mut ms) = (TestStatus::Passed, t.base_ms);
    match t.kind {
        Kind::Steady => {}
        Kind::Flaky if rng.chance(0.3) => status = TestStatus::Failed,
        Kind::Flaky => {}
        Kind::BrokeAt(at) if run >= at => status = TestStatus::Broken,
        Kind::BrokeAt(_) => {}
        Kind::SlowerAt(at, times) if run >= at => ms *= times,
        Kind::SlowerAt(..) => {}
        Kind::Skippy if rng.chance(0.2) => status = TestStatus::Skipped,
        Kind::Skippy => {}
        Kind::NewAt(at) if run < at => return None,
        Kind::NewAt(_) => {}
    }
    ms = ms * (90 + rng.below(21)) / 100;
    let failure = status.is_failing().then(|| {
        let which = (t.id.len() + t.base_ms as usize) % FAILURES.len();
        signature::of(Some(FAILURES[which]))
    });
    Some(TestEntry {
        id: t.id.clone(),
        name: t.name.clone(),
        status,
        duration_ms: Some(ms),
        uid: Some(format!("{:x}{run:02x}", rng.next() >> 16)),
        failure,
        ..TestEntry::default()
    })
}

fn history(n: usize, runs: usize, lines: usize) -> TestHistory {
    let mut rng = Rng(42);
    let mut h = TestHistory::default();
    let per_line = n / lines.max(1);
    let sets: Vec<Vec<Test>> = (0..lines.max(1))
        .map(|_| tests(per_line, runs, &mut rng))
        .collect();
    for run in 0..runs {
        for (l, set) in sets.iter().enumerate() {
            // One line is the branch's unnamed line; several are named.
            let key = if lines > 1 {
                LineKey {
                    job: Some(["unit", "e2e", "e2e"][l % 3]),
                    variant: [None, Some("browser=chromium"), Some("browser=firefox")][l % 3],
                }
            } else {
                LineKey {
                    job: None,
                    variant: None,
                }
            };
            let entries: Vec<TestEntry> =
                set.iter().filter_map(|t| entry(t, run, &mut rng)).collect();
            let order = (run * lines.max(1) + l) as u64 + 1;
            // The third line's ids need encoding as folder names.
            let sep = if l == 2 { "/" } else { "-" };
            let id = format!("20261123-{:06}{sep}{l}", 70000 + run * 7);
            // One run, eight from the end, re-ran the commit before it.
            let rerun = run > 0 && run + 8 == runs;
            let commit = format!("{:07x}", 0xabc0000 + run - usize::from(rerun));
            let r = RunRef {
                id,
                build_order: order,
                commit: Some(commit),
                time: 1_763_884_800 + order as i64 * 600,
                allure: Engine::Allure2,
            };
            h.record(key, r, &TestIndex::new(entries), runs);
        }
    }
    h
}

fn main() -> anyhow::Result<()> {
    let mut positional = Vec::new();
    let mut lines = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--lines" {
            lines = args.next().unwrap_or_default().parse()?;
        } else {
            positional.push(a);
        }
    }
    let (Some(dir), Some(n)) = (
        positional.first(),
        positional.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        anyhow::bail!("usage: tests_page DIR TESTS [RUNS] [--lines N]");
    };
    let runs: usize = positional.get(2).map_or(Ok(50), |r| r.parse())?;
    let out = PathBuf::from(dir);
    let (project, branch) = ("demo", "main");
    let h = history(n, runs.max(1), lines.max(1));
    let th = Thresholds::default();
    let board = test_board::board(&h, &th, PAGE_ROWS);
    let html = pages::tests::page(&board, project, branch, &th);
    let json = h.to_json();
    let flaky = serde_json::to_vec_pretty(&test_board::flaky_list(&h, branch, &th))?;
    let layout = Layout::new("reports", project, branch)?;
    let write = |key: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let path = out.join(key);
        std::fs::create_dir_all(path.parent().expect("a key has a folder"))?;
        Ok(std::fs::write(path, bytes)?)
    };
    write(layout.tests_page().as_str(), html.as_bytes())?;
    write(layout.test_history().as_str(), &json)?;
    write(layout.flaky_list().as_str(), &flaky)?;
    for (name, content) in pages::asset_files() {
        write(layout.asset(&name).as_str(), content.as_bytes())?;
    }
    println!(
        "{}",
        serde_json::json!({
            "path": format!("/{}", layout.tests_root()),
            "tests": h.tests(),
            "runs": runs,
            "lines": h.lines.len(),
            "flaky": board.flaky_total,
            "html_bytes": html.len(),
            "history_bytes": json.len(),
        })
    );
    Ok(())
}
