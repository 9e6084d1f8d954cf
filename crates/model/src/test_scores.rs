//! What a line's history says of each test (pure). The definitions are
//! docs/test-history.md's; each is tested below on crafted sequences.
//!
//! Only *verdicts* count: passed, failed, broken. Skipped, unknown and
//! absent outcomes are left out, so a test skipped between two passes has
//! not flipped.

use serde::{Deserialize, Serialize};

use super::signature::Failure;
use super::test_history::{LineHistory, Outcome, TestRecord};

/// The thresholds a team may set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// A test is flaky when its flip rate reaches this (and it flipped at
    /// least twice), or when it failed and passed on one commit.
    pub flaky: f64,
    /// A test is newly slower when its latest duration is at least this
    /// many times its median.
    pub slower: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            flaky: 0.2,
            slower: 2.0,
        }
    }
}

/// Earlier durations a median needs before "slower" is said.
pub const MEDIAN_RUNS: usize = 3;
/// And the latest must be at least this much longer (ms): a 2 ms test that
/// took 5 ms is noise.
pub const SLOWER_BY_MS: u64 = 100;
/// Outcomes a base-branch verdict counts ("failed 4 of last 30").
pub const VERDICT_RUNS: usize = 30;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Runs with a verdict (passed, failed or broken) in the window.
    pub runs: u32,
    pub failed: u32,
    /// Changes between passing and failing from one verdict to the next.
    pub flips: u32,
    /// flips / (runs - 1); 0 with fewer than two runs.
    pub flip_rate: f64,
    /// failed / runs.
    pub failure_rate: f64,
    /// Failed and passed on the same commit (a re-run).
    pub rerun_flip: bool,
    pub flaky: bool,
    /// The latest run's outcome.
    pub latest: Outcome,
    /// The latest run failed, and the verdict before it (if any) passed.
    pub new_failure: bool,
    pub latest_ms: Option<u64>,
    /// Median of the earlier runs' durations.
    pub median_ms: Option<u64>,
    /// latest_ms / median_ms.
    pub slower_ratio: Option<f64>,
    pub slower: bool,
}

pub fn score(line: &LineHistory, t: &TestRecord, th: &Thresholds) -> Score {
    score_from(line, t, th, 0)
}

/// The score over the columns from `start` on.
fn score_from(line: &LineHistory, t: &TestRecord, th: &Thresholds, start: usize) -> Score {
    let outcomes: Vec<Outcome> = t.outcomes().collect();
    let verdicts: Vec<(usize, bool)> = outcomes
        .iter()
        .enumerate()
        .skip(start)
        .filter(|(_, o)| o.is_verdict())
        .map(|(i, o)| (i, o.is_failing()))
        .collect();
    let runs = verdicts.len() as u32;
    let failed = verdicts.iter().filter(|(_, f)| *f).count() as u32;
    let flips = verdicts.windows(2).filter(|w| w[0].1 != w[1].1).count() as u32;
    let flip_rate = if runs > 1 {
        f64::from(flips) / f64::from(runs - 1)
    } else {
        0.0
    };
    let rerun_flip = rerun_flip(line, &verdicts);
    let latest = outcomes.last().copied().unwrap_or(Outcome::Absent);
    let new_failure = latest.is_failing()
        && verdicts
            .iter()
            .rev()
            .nth(1)
            .is_none_or(|(_, failing)| !failing);
    let (latest_ms, median_ms) = durations(t, &outcomes);
    let slower_ratio = match (latest_ms, median_ms) {
        (Some(l), Some(m)) if m > 0 => Some(l as f64 / m as f64),
        _ => None,
    };
    let slower = match (latest_ms, median_ms, slower_ratio) {
        (Some(l), Some(m), Some(r)) => r >= th.slower && l >= m + SLOWER_BY_MS,
        _ => false,
    };
    Score {
        runs,
        failed,
        flips,
        flip_rate,
        failure_rate: if runs > 0 {
            f64::from(failed) / f64::from(runs)
        } else {
            0.0
        },
        rerun_flip,
        flaky: rerun_flip || (flips >= 2 && flip_rate >= th.flaky),
        latest,
        new_failure,
        latest_ms,
        median_ms,
        slower_ratio,
        slower,
    }
}

/// Two runs of one commit, one failing and one passing.
fn rerun_flip(line: &LineHistory, verdicts: &[(usize, bool)]) -> bool {
    let commit = |i: usize| line.runs.get(i).and_then(|r| r.commit.as_deref());
    verdicts.iter().any(|&(i, failing)| {
        failing
            && commit(i).is_some_and(|c| verdicts.iter().any(|&(j, f)| !f && commit(j) == Some(c)))
    })
}

/// The latest run's duration (when it ran) and the median of the earlier
/// verdicts' (when there are `MEDIAN_RUNS`): a skipped run's few
/// milliseconds say nothing of how long the test takes.
fn durations(t: &TestRecord, outcomes: &[Outcome]) -> (Option<u64>, Option<u64>) {
    let Some(last) = t.d.len().checked_sub(1) else {
        return (None, None);
    };
    let latest = t.d[last];
    let mut earlier: Vec<u64> = t.d[..last]
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| o.is_verdict())
        .filter_map(|(d, _)| *d)
        .collect();
    if earlier.len() < MEDIAN_RUNS {
        return (latest, None);
    }
    earlier.sort_unstable();
    let mid = earlier.len() / 2;
    let median = if earlier.len().is_multiple_of(2) {
        (earlier[mid - 1] + earlier[mid]) / 2
    } else {
        earlier[mid]
    };
    (latest, Some(median))
}

/// What the base branch's line says of a test that fails here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "on_base", rename_all = "snake_case")]
pub enum OnBase {
    /// Flaky there over its last `of` verdicts (`failed` of them failed);
    /// `same_failure`: it failed there with the signature it fails with
    /// here (or either has none), so the flakiness explains this failure.
    Flaky {
        failed: u32,
        of: u32,
        same_failure: bool,
    },
    /// Its last verdict there failed too.
    AlsoFailing { failed: u32, of: u32 },
    /// Passed every one of its last `of` verdicts there.
    Passing { of: u32 },
    /// Failed some there, but neither flaky nor failing now.
    FailedBefore { failed: u32, of: u32 },
    /// Not run there within the window.
    Unknown,
}

impl OnBase {
    /// What `line` says of test `test_id`, failing here with `failure`,
    /// judged on its last `VERDICT_RUNS` verdicts there.
    pub fn of(
        line: Option<&LineHistory>,
        test_id: &str,
        failure: Option<&Failure>,
        th: &Thresholds,
    ) -> Self {
        let Some((line, t)) =
            line.and_then(|l| l.tests.iter().find(|t| t.id == test_id).map(|t| (l, t)))
        else {
            return Self::Unknown;
        };
        let all: Vec<Outcome> = t.outcomes().collect();
        let recent: Vec<(usize, Outcome)> = all
            .into_iter()
            .enumerate()
            .rev()
            .filter(|(_, o)| o.is_verdict())
            .take(VERDICT_RUNS)
            .collect();
        let (Some((_, last)), Some((start, _))) = (recent.first(), recent.last()) else {
            return Self::Unknown;
        };
        let (of, failed) = (
            recent.len() as u32,
            recent.iter().filter(|(_, o)| o.is_failing()).count() as u32,
        );
        if score_from(line, t, th, *start).flaky {
            let seen: Vec<&str> = (*start..t.s.chars().count())
                .filter_map(|col| t.failure_at(col))
                .map(|f| f.failure.signature.as_str())
                .collect();
            let same_failure = match failure {
                Some(f) => seen.is_empty() || seen.contains(&f.signature.as_str()),
                None => true,
            };
            Self::Flaky {
                failed,
                of,
                same_failure,
            }
        } else if last.is_failing() {
            Self::AlsoFailing { failed, of }
        } else if failed == 0 {
            Self::Passing { of }
        } else {
            Self::FailedBefore { failed, of }
        }
    }

    /// Known flaky on the base, with this failure: not one this change
    /// brought.
    pub fn is_flaky(&self) -> bool {
        matches!(
            self,
            Self::Flaky {
                same_failure: true,
                ..
            }
        )
    }

    /// "flaky on main (failed 4 of last 30)".
    pub fn describe(&self, base: &str) -> String {
        match self {
            Self::Flaky {
                failed,
                of,
                same_failure: true,
            } => format!("flaky on {base} (failed {failed} of last {of})"),
            Self::Flaky { failed, of, .. } => format!(
                "flaky on {base} (failed {failed} of last {of}), but never with this failure"
            ),
            Self::AlsoFailing { failed, of } => {
                format!("also failing on {base} (failed {failed} of last {of})")
            }
            Self::Passing { of } if *of == 1 => format!("passed its last run on {base}"),
            Self::Passing { of } => format!("passed the last {of} runs on {base}"),
            Self::FailedBefore { failed, of } => {
                format!("failed {failed} of last {of} on {base}, passing lately")
            }
            Self::Unknown => format!("new: not run on {base} lately"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::{TestEntry, TestIndex};
    use crate::engine::Engine;
    use crate::status::TestStatus;
    use crate::test_history::{LineKey, RunRef, TestHistory};

    const LINE: LineKey = LineKey {
        job: None,
        variant: None,
    };

    /// A line from a sequence of outcome codes (one test "t") and durations.
    fn line(codes: &str, ms: &[u64], commits: &[&str]) -> LineHistory {
        let mut h = TestHistory::default();
        for (i, c) in codes.chars().enumerate() {
            let status = match c {
                'P' => "passed",
                'F' => "failed",
                'B' => "broken",
                'S' => "skipped",
                _ => "",
            };
            let tests = if c == '-' {
                vec![]
            } else {
                vec![TestEntry {
                    id: "t".into(),
                    name: "t".into(),
                    status: TestStatus::from(status),
                    duration_ms: ms.get(i).copied(),
                    ..TestEntry::default()
                }]
            };
            let run = RunRef {
                id: format!("r{i}"),
                build_order: i as u64,
                commit: commits.get(i).map(|c| c.to_string()),
                time: 0,
                allure: Engine::Allure2,
            };
            h.record(LINE, run, &TestIndex::new(tests), 100);
        }
        h.lines.remove(0)
    }

    fn sc(codes: &str) -> Score {
        let l = line(codes, &[], &[]);
        score(&l, &l.tests[0], &Thresholds::default())
    }

    #[test]
    fn an_alternating_test_flips_every_run_and_is_flaky() {
        let s = sc("PFPFPFPFPFPF");
        assert_eq!((s.runs, s.failed, s.flips), (12, 6, 11));
        assert_eq!(s.flip_rate, 1.0);
        assert!(s.flaky);
    }

    #[test]
    fn a_test_that_broke_and_stays_broken_is_failing_not_flaky() {
        let s = sc("PPPPPPPFFFFF");
        assert_eq!((s.flips, s.failed), (1, 5));
        assert!(!s.flaky);
        assert!((s.failure_rate - 5.0 / 12.0).abs() < 1e-9);
        assert!(!s.new_failure, "it failed the run before too");
        assert!(sc("PPPPPPPF").new_failure);
        assert!(sc("F").new_failure, "a new test that fails");
    }

    #[test]
    fn skips_and_absences_are_not_flips() {
        let s = sc("PSP-PUP");
        assert_eq!((s.runs, s.flips), (4, 0));
        assert!(!s.flaky);
    }

    #[test]
    fn flakiness_needs_two_flips_and_the_rate() {
        // One failure among 20 passes: 2 flips in 19 steps, under 0.2.
        assert!(!sc("PPPPPPPPPFPPPPPPPPPP").flaky);
        // One failure among 5: 2 flips in 4 steps.
        assert!(sc("PPFPP").flaky);
    }

    #[test]
    fn failing_and_passing_on_one_commit_is_flaky() {
        let l = line("PPFP", &[], &["a", "b", "c", "c"]);
        let s = score(&l, &l.tests[0], &Thresholds::default());
        assert!(s.rerun_flip && s.flaky);
        let l = line("PPFP", &[], &["a", "b", "c", "d"]);
        assert!(!score(&l, &l.tests[0], &Thresholds::default()).rerun_flip);
    }

    #[test]
    fn slower_is_against_the_tests_own_median() {
        let l = line("PPPPPP", &[200, 210, 190, 205, 195, 600], &[]);
        let s = score(&l, &l.tests[0], &Thresholds::default());
        assert_eq!((s.median_ms, s.latest_ms), (Some(200), Some(600)));
        assert!(s.slower && s.slower_ratio == Some(3.0));
        // Three times a tiny median is noise.
        let l = line("PPPP", &[2, 2, 2, 6], &[]);
        assert!(!score(&l, &l.tests[0], &Thresholds::default()).slower);
        // Too few earlier runs for a median.
        let l = line("PPP", &[100, 100, 900], &[]);
        assert_eq!(
            score(&l, &l.tests[0], &Thresholds::default()).median_ms,
            None
        );
    }

    #[test]
    fn the_base_branch_verdicts() {
        let th = Thresholds::default();
        let v = |codes: &str| {
            let l = line(codes, &[], &[]);
            OnBase::of(Some(&l), "t", None, &th)
        };
        assert_eq!(
            v("PFPFPF"),
            OnBase::Flaky {
                failed: 3,
                of: 6,
                same_failure: true
            }
        );
        assert_eq!(v(&"P".repeat(40)), OnBase::Passing { of: 30 });
        assert_eq!(v("PPPFF"), OnBase::AlsoFailing { failed: 2, of: 5 });
        assert_eq!(
            v("FFFFFFPPPPPPPPPP"),
            OnBase::FailedBefore { failed: 6, of: 16 }
        );
        assert_eq!(v("SS"), OnBase::Unknown);
        assert_eq!(OnBase::of(None, "t", None, &th), OnBase::Unknown);
        assert_eq!(
            OnBase::Flaky {
                failed: 4,
                of: 30,
                same_failure: true
            }
            .describe("main"),
            "flaky on main (failed 4 of last 30)"
        );
        assert_eq!(
            OnBase::Passing { of: 30 }.describe("main"),
            "passed the last 30 runs on main"
        );
    }

    #[test]
    fn flakiness_long_ago_does_not_excuse_a_failure_now() {
        // Alternated in its first 10 runs, then passed 31 in a row.
        let codes = format!("{}{}", "PF".repeat(5), "P".repeat(31));
        let l = line(&codes, &[], &[]);
        let v = OnBase::of(Some(&l), "t", None, &Thresholds::default());
        assert_eq!(v, OnBase::Passing { of: 30 });
        assert!(!v.is_flaky());
    }

    #[test]
    fn a_flaky_test_excuses_only_a_failure_it_had() {
        use crate::signature;
        let mut h = TestHistory::default();
        for i in 0..6u64 {
            let failing = i % 2 == 1;
            let e = TestEntry {
                id: "t".into(),
                name: "t".into(),
                status: if failing { "failed" } else { "passed" }.into(),
                failure: failing.then(|| signature::of(Some("TimeoutError: 30 s"))),
                ..TestEntry::default()
            };
            let run = RunRef {
                id: format!("r{i}"),
                build_order: i,
                commit: None,
                time: 0,
                allure: Engine::Allure2,
            };
            h.record(LINE, run, &TestIndex::new(vec![e]), 50);
        }
        let th = Thresholds::default();
        let timeout = signature::of(Some("TimeoutError: 31 s"));
        let assertion = signature::of(Some("AssertionError: total is 0"));
        assert!(OnBase::of(h.line(LINE), "t", Some(&timeout), &th).is_flaky());
        let other = OnBase::of(h.line(LINE), "t", Some(&assertion), &th);
        assert!(!other.is_flaky());
        assert_eq!(
            other.describe("main"),
            "flaky on main (failed 3 of last 6), but never with this failure"
        );
    }

    #[test]
    fn skipped_runs_durations_are_not_in_the_median() {
        let l = line("PSSSP", &[500, 1, 1, 1, 500], &[]);
        let s = score(&l, &l.tests[0], &Thresholds::default());
        assert_eq!(s.median_ms, None, "one earlier verdict is too few");
        assert!(!s.slower);
    }
}
