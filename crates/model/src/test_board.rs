//! The lists made from a branch's test history (pure): the flakiest, the
//! most failing, the slowest, the newly slower and the latest run's new
//! failures, each row with its score, a strip of its last outcomes and its
//! failures. The tests page, `flaky.json` and the summary are made from it.

use std::cmp::Ordering;

use serde::Serialize;

use super::layout::Layout;
use super::test_history::{LineHistory, Outcome, TestHistory, TestRecord};
use super::test_scores::{self, Score, Thresholds};

/// Outcomes shown in a row's strip.
pub const STRIP: usize = 30;
/// Rows per list on the page.
pub const PAGE_ROWS: usize = 50;
/// Rows per list in the summary JSON.
pub const SUMMARY_ROWS: usize = 10;
pub const FLAKY_SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// "unit · py3.12"; empty for a branch's single unnamed line.
    pub line: String,
    pub id: String,
    pub name: String,
    pub score: Score,
    /// Oldest first.
    pub strip: Vec<Cell>,
    pub failures: Vec<FailureCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub run: String,
    pub outcome: Outcome,
    pub ms: Option<u64>,
    /// The run's report at this test, relative to the branch folder.
    pub link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureCount {
    pub signature: String,
    pub message: String,
    /// Runs in the window that failed with it.
    pub count: usize,
    pub first_seen: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Board {
    pub revision: u64,
    pub tests: usize,
    pub lines: usize,
    pub flaky_total: usize,
    pub flakiest: Vec<Row>,
    pub failing: Vec<Row>,
    pub slowest: Vec<Row>,
    pub slower: Vec<Row>,
    pub new_failures: Vec<Row>,
}

impl Board {
    /// The lists with their headings, as the page shows them.
    pub fn lists(&self) -> [(&'static str, &'static str, &[Row]); 5] {
        [
            (
                "new-failures",
                "New failures in the latest run",
                &self.new_failures,
            ),
            ("flakiest", "Flakiest", &self.flakiest),
            ("failing", "Most failing", &self.failing),
            ("slower", "Newly slower", &self.slower),
            ("slowest", "Slowest", &self.slowest),
        ]
    }
}

struct ScoredTest<'h> {
    line: &'h LineHistory,
    test: &'h TestRecord,
    score: Score,
}

/// Every list, `rows` long at most.
pub fn board(h: &TestHistory, th: &Thresholds, rows: usize) -> Board {
    let all: Vec<ScoredTest> = h
        .lines
        .iter()
        .flat_map(|line| {
            line.tests.iter().map(move |test| ScoredTest {
                line,
                test,
                score: test_scores::score(line, test, th),
            })
        })
        .collect();
    let pick = |keep: &dyn Fn(&Score) -> bool, order: &dyn Fn(&Score, &Score) -> Ordering| {
        let mut chosen: Vec<&ScoredTest> = all.iter().filter(|s| keep(&s.score)).collect();
        chosen
            .sort_by(|a, b| order(&a.score, &b.score).then_with(|| a.test.name.cmp(&b.test.name)));
        chosen.into_iter().take(rows).map(row).collect()
    };
    let desc = |a: f64, b: f64| b.partial_cmp(&a).unwrap_or(Ordering::Equal);
    Board {
        revision: h.revision,
        tests: all.len(),
        lines: h.lines.len(),
        flaky_total: all.iter().filter(|s| s.score.flaky).count(),
        flakiest: pick(&|s| s.flaky, &|a, b| {
            desc(a.flip_rate, b.flip_rate).then(b.failed.cmp(&a.failed))
        }),
        failing: pick(&|s| s.failed > 0, &|a, b| {
            desc(a.failure_rate, b.failure_rate).then(b.failed.cmp(&a.failed))
        }),
        slowest: pick(&|s| s.latest_ms.is_some(), &|a, b| {
            b.latest_ms.cmp(&a.latest_ms)
        }),
        slower: pick(&|s| s.slower, &|a, b| {
            desc(a.slower_ratio.unwrap_or(0.0), b.slower_ratio.unwrap_or(0.0))
        }),
        new_failures: pick(&|s| s.new_failure, &|_, _| Ordering::Equal),
    }
}

/// Tests of one trend line (job and leg) failing in its newest run that
/// did not fail in the run before it.
pub fn new_on_line(
    h: &TestHistory,
    job: Option<&str>,
    variant: Option<&str>,
    th: &Thresholds,
) -> usize {
    h.lines
        .iter()
        .filter(|l| l.job.as_deref() == job && l.variant.as_deref() == variant)
        .flat_map(|line| {
            line.tests
                .iter()
                .map(move |t| test_scores::score(line, t, th))
        })
        .filter(|s| s.new_failure)
        .count()
}

fn row(s: &ScoredTest) -> Row {
    let (line, t) = (s.line, s.test);
    let start = line.runs.len().saturating_sub(STRIP);
    let strip = line.runs[start..]
        .iter()
        .zip(t.outcomes().skip(start))
        .enumerate()
        .map(|(k, (run, outcome))| {
            let col = start + k;
            let link = t.u[col]
                .as_ref()
                .filter(|_| outcome != Outcome::Absent)
                .and_then(|uid| {
                    let seg = Layout::run_segment(&run.id).ok()?;
                    Some(format!("{seg}/index.html{}", run.allure.test_link(uid)))
                });
            Cell {
                run: run.id.clone(),
                outcome,
                ms: t.d[col],
                link,
            }
        })
        .collect();
    Row {
        line: line.label(),
        id: t.id.clone(),
        name: t.name.clone(),
        score: s.score.clone(),
        strip,
        failures: failure_counts(t),
    }
}

fn failure_counts(t: &TestRecord) -> Vec<FailureCount> {
    let mut counts: Vec<FailureCount> = t
        .failures
        .iter()
        .map(|f| FailureCount {
            signature: f.failure.signature.clone(),
            message: f.failure.message.clone(),
            count: 0,
            first_seen: f.first_seen.clone(),
        })
        .collect();
    for col in 0..t.d.len() {
        if let Some(f) = t.failure_at(col)
            && let Some(c) = counts
                .iter_mut()
                .find(|c| c.signature == f.failure.signature)
        {
            c.count += 1;
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.count));
    counts
}

/// The test history in the summary JSON: counts, and each list's first
/// rows with their scores (no strips).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestsSummary {
    pub page_url: String,
    pub flaky_url: String,
    pub tests: usize,
    pub flaky: usize,
    pub new_failures: Vec<Scored>,
    pub flakiest: Vec<Scored>,
    pub failing: Vec<Scored>,
    pub slower: Vec<Scored>,
    pub slowest: Vec<Scored>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub line: String,
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub score: Score,
}

impl Scored {
    pub fn of(r: &Row) -> Self {
        Self {
            line: r.line.clone(),
            id: r.id.clone(),
            name: r.name.clone(),
            score: r.score.clone(),
        }
    }
}

impl TestsSummary {
    pub fn of(b: &Board, page_url: String, flaky_url: String) -> Self {
        let rows = |rows: &[Row]| rows.iter().take(SUMMARY_ROWS).map(Scored::of).collect();
        Self {
            page_url,
            flaky_url,
            tests: b.tests,
            flaky: b.flaky_total,
            new_failures: rows(&b.new_failures),
            flakiest: rows(&b.flakiest),
            failing: rows(&b.failing),
            slower: rows(&b.slower),
            slowest: rows(&b.slowest),
        }
    }
}

/// `<branch>/tests/flaky.json`: the tests over the flakiness threshold,
/// for a test runner to skip or retry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlakyList {
    pub schema: u32,
    pub branch: String,
    /// The history revision it was made from.
    pub revision: u64,
    pub threshold: f64,
    pub tests: Vec<FlakyTest>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlakyTest {
    pub id: String,
    pub name: String,
    pub job: Option<String>,
    pub variant: Option<String>,
    pub flip_rate: f64,
    pub failed: u32,
    pub runs: u32,
    pub rerun_flip: bool,
    /// The latest run's report at this test, relative to the branch folder.
    pub link: Option<String>,
}

pub fn flaky_list(h: &TestHistory, branch: &str, th: &Thresholds) -> FlakyList {
    let mut tests: Vec<FlakyTest> = Vec::new();
    for line in &h.lines {
        for t in &line.tests {
            let s = test_scores::score(line, t, th);
            if !s.flaky {
                continue;
            }
            let r = row(&ScoredTest {
                line,
                test: t,
                score: s.clone(),
            });
            tests.push(FlakyTest {
                id: t.id.clone(),
                name: t.name.clone(),
                job: line.job.clone(),
                variant: line.variant.clone(),
                flip_rate: s.flip_rate,
                failed: s.failed,
                runs: s.runs,
                rerun_flip: s.rerun_flip,
                link: r.strip.iter().rev().find_map(|c| c.link.clone()),
            });
        }
    }
    tests.sort_by(|a, b| {
        b.flip_rate
            .partial_cmp(&a.flip_rate)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.name.cmp(&b.name))
    });
    FlakyList {
        schema: FLAKY_SCHEMA,
        branch: branch.to_string(),
        revision: h.revision,
        threshold: th.flaky,
        tests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::{TestEntry, TestIndex};
    use crate::engine::Engine;
    use crate::signature;
    use crate::status::TestStatus;
    use crate::test_history::{LineKey, RunRef};

    /// Twelve runs: "alt" alternates, "breaks" fails from run 8, "slows"
    /// takes three times longer from run 10, "steady" passes.
    fn history() -> TestHistory {
        let mut h = TestHistory::default();
        let line = LineKey {
            job: None,
            variant: None,
        };
        for i in 1..=12u64 {
            let e = |id: &str, failing: bool, ms: u64| TestEntry {
                id: id.into(),
                name: id.into(),
                status: if failing {
                    TestStatus::Failed
                } else {
                    TestStatus::Passed
                },
                duration_ms: Some(ms),
                uid: Some(format!("{id}{i}")),
                failure: failing.then(|| signature::of(Some(&format!("boom {i}")))),
                ..TestEntry::default()
            };
            let tests = vec![
                e("alt", i % 2 == 0, 50),
                e("breaks", i >= 8, 40),
                e("slows", false, if i >= 10 { 900 } else { 300 }),
                e("steady", false, 10),
            ];
            let run = RunRef {
                id: format!("{i}-1"),
                build_order: i,
                commit: None,
                time: 0,
                allure: Engine::Allure2,
            };
            h.record(line, run, &TestIndex::new(tests), 50);
        }
        h
    }

    fn names(rows: &[Row]) -> Vec<&str> {
        rows.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn each_list_ranks_what_it_says() {
        let b = board(&history(), &Thresholds::default(), 10);
        assert_eq!(names(&b.flakiest), ["alt"]);
        assert_eq!(names(&b.failing), ["alt", "breaks"]);
        assert_eq!(names(&b.slowest)[0], "slows");
        assert_eq!(
            names(&b.new_failures),
            ["alt"],
            "breaks failed the run before too"
        );
        assert_eq!((b.tests, b.flaky_total), (4, 1));
    }

    #[test]
    fn slower_is_against_the_median_of_the_runs_before() {
        let b = board(&history(), &Thresholds::default(), 10);
        assert_eq!(names(&b.slower), ["slows"]);
        assert_eq!(b.slower[0].score.slower_ratio, Some(3.0));
        // Once most of its runs are slow, slow is its normal.
        let mut h = history();
        h.forget(
            &["1-1", "2-1", "3-1", "4-1", "5-1", "6-1", "7-1"]
                .map(String::from)
                .into(),
        );
        assert!(board(&h, &Thresholds::default(), 10).slower.is_empty());
    }

    #[test]
    fn a_row_links_each_cell_to_its_run_at_the_test_and_counts_failures() {
        let b = board(&history(), &Thresholds::default(), 10);
        let breaks = b.failing.iter().find(|r| r.name == "breaks").unwrap();
        assert_eq!(breaks.strip.len(), 12);
        assert_eq!(
            breaks.strip[7].link.as_deref(),
            Some("8-1/index.html#testresult/breaks8")
        );
        assert_eq!(breaks.failures.len(), 1, "boom <n> groups all five");
        assert_eq!(
            (
                breaks.failures[0].count,
                breaks.failures[0].first_seen.as_str()
            ),
            (5, "8-1")
        );
    }

    #[test]
    fn the_flaky_list_names_the_flaky_tests_with_their_latest_link() {
        let f = flaky_list(&history(), "main", &Thresholds::default());
        assert_eq!(f.tests.len(), 1);
        assert_eq!(f.tests[0].name, "alt");
        assert_eq!(
            f.tests[0].link.as_deref(),
            Some("12-1/index.html#testresult/alt12")
        );
        assert_eq!(f.revision, 12);
    }
}
