//! Every test's story on one trend line (job + matrix leg): its last N
//! outcomes with run, status, duration, report id and failure signature,
//! kept in `<branch>/tests/history.json` and updated at each publish by
//! compare-and-swap (pure).
//!
//! The outcomes are columns, one per run of the line, oldest first: a test
//! is a few strings and arrays as long as the line's runs, so the file grows
//! with the tests and the window, never with the runs a branch keeps.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::changes::{TestEntry, TestIndex};
use super::engine::Engine;
use super::signature::Failure;
use super::status::TestStatus;
use super::test_scores::Thresholds;

pub const HISTORY_SCHEMA: u32 = 1;
/// Runs each line keeps by default (`--test-history`).
pub const DEFAULT_WINDOW: usize = 50;
/// Distinct failures kept per test: one character each in `f`.
const FAILURE_CODES: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const NO_FAILURE: char = '-';
/// Revisions go up by one a publish; one this high is damage (and would
/// overflow, or lose precision in the page's script).
pub const MAX_REVISION: u64 = 1 << 53;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HistoryError {
    #[error(
        "it is not a test history this version reads ({0}); remove it to start the history again"
    )]
    Unreadable(String),
    #[error(
        "a newer allure-host wrote it (schema {0}; this one reads {HISTORY_SCHEMA}); upgrade allure-host to update it"
    )]
    Newer(u32),
    #[error("line {line:?}: {what}; remove it to start the history again")]
    Inconsistent { line: String, what: String },
}

/// `<branch>/tests/history.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestHistory {
    pub schema: u32,
    /// Raised at each write; the pages made from it carry it.
    pub revision: u64,
    /// Those of the last publish: a prune remakes the pages with them.
    #[serde(default)]
    pub thresholds: Thresholds,
    pub lines: Vec<LineHistory>,
}

/// One trend line's runs and tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineHistory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Oldest first, by build order.
    pub runs: Vec<RunRef>,
    pub tests: Vec<TestRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRef {
    pub id: String,
    pub build_order: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    pub time: i64,
    #[serde(default)]
    pub allure: Engine,
}

/// One test's columns; each as long as its line's `runs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestRecord {
    pub id: String,
    pub name: String,
    /// The run it was first seen in (which may have left the window).
    pub first_seen: String,
    /// The run where it last went from passing to failing or back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<String>,
    /// One `Outcome` code per run.
    pub s: String,
    /// Milliseconds per run.
    pub d: Vec<Option<u64>>,
    /// The test's id in each run's report: its deep link.
    pub u: Vec<Option<String>>,
    /// Per run, the index of its failure in `failures` (`FAILURE_CODES`),
    /// or '-'.
    pub f: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailureSeen>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureSeen {
    #[serde(flatten)]
    pub failure: Failure,
    pub first_seen: String,
}

/// A test's outcome in one run, as one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    Broken,
    Skipped,
    Unknown,
    /// Not in that run.
    Absent,
}

impl Outcome {
    pub fn of(status: &TestStatus) -> Self {
        match status {
            TestStatus::Passed => Self::Passed,
            TestStatus::Failed => Self::Failed,
            TestStatus::Broken => Self::Broken,
            TestStatus::Skipped => Self::Skipped,
            _ => Self::Unknown,
        }
    }
    pub fn code(self) -> char {
        match self {
            Self::Passed => 'P',
            Self::Failed => 'F',
            Self::Broken => 'B',
            Self::Skipped => 'S',
            Self::Unknown => 'U',
            Self::Absent => '-',
        }
    }
    pub fn from_code(c: char) -> Option<Self> {
        Some(match c {
            'P' => Self::Passed,
            'F' => Self::Failed,
            'B' => Self::Broken,
            'S' => Self::Skipped,
            'U' => Self::Unknown,
            '-' => Self::Absent,
            _ => return None,
        })
    }
    pub fn is_failing(self) -> bool {
        matches!(self, Self::Failed | Self::Broken)
    }
    /// Passed or failing: the outcomes flakiness and failure rates count.
    pub fn is_verdict(self) -> bool {
        self == Self::Passed || self.is_failing()
    }
    pub fn word(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Broken => "broken",
            Self::Skipped => "skipped",
            Self::Unknown => "unknown",
            Self::Absent => "not run",
        }
    }
}

/// Which line a run continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineKey<'a> {
    pub job: Option<&'a str>,
    pub variant: Option<&'a str>,
}

impl Default for TestHistory {
    fn default() -> Self {
        Self {
            schema: HISTORY_SCHEMA,
            revision: 0,
            thresholds: Thresholds::default(),
            lines: Vec::new(),
        }
    }
}

impl TestHistory {
    /// Read and check a stored history: every column as long as its runs.
    pub fn parse(bytes: &[u8]) -> Result<Self, HistoryError> {
        #[derive(Deserialize)]
        struct Schema {
            schema: u32,
        }
        let schema = serde_json::from_slice::<Schema>(bytes)
            .map_err(|e| HistoryError::Unreadable(e.to_string()))?
            .schema;
        if schema > HISTORY_SCHEMA {
            return Err(HistoryError::Newer(schema));
        }
        let h: Self =
            serde_json::from_slice(bytes).map_err(|e| HistoryError::Unreadable(e.to_string()))?;
        if h.revision > MAX_REVISION {
            return Err(HistoryError::Unreadable(format!(
                "revision {} is beyond any a publish reaches",
                h.revision
            )));
        }
        let th = h.thresholds;
        let sane = (0.0..=1.0).contains(&th.flaky) && th.slower > 1.0 && th.slower.is_finite();
        if !sane {
            return Err(HistoryError::Unreadable(format!(
                "thresholds {th:?} are out of range"
            )));
        }
        h.lines.iter().try_for_each(LineHistory::check)?;
        Ok(h)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a test history serialises")
    }

    pub fn line(&self, key: LineKey) -> Option<&LineHistory> {
        self.lines.iter().find(|l| l.key() == key)
    }

    /// The line a run of `key` is compared with on another branch: the
    /// same job and leg, else the same leg of any job, else the only line.
    pub fn line_like(&self, key: LineKey) -> Option<&LineHistory> {
        self.line(key)
            .or_else(|| {
                self.lines
                    .iter()
                    .find(|l| l.variant.as_deref() == key.variant)
            })
            .or_else(|| (self.lines.len() == 1).then(|| &self.lines[0]))
    }

    /// Add a run's tests to its line, keeping the newest `window` runs.
    /// False (nothing changed) when the run is already there: a retried
    /// write whose first answer was lost.
    pub fn record(&mut self, key: LineKey, run: RunRef, tests: &TestIndex, window: usize) -> bool {
        if self
            .lines
            .iter()
            .any(|l| l.runs.iter().any(|r| r.id == run.id))
        {
            return false;
        }
        let pos = match self.lines.iter().position(|l| l.key() == key) {
            Some(pos) => pos,
            None => {
                self.lines.push(LineHistory::new(key));
                self.lines.len() - 1
            }
        };
        let line = &mut self.lines[pos];
        line.add(run, tests);
        while line.runs.len() > window.max(1) {
            line.remove_column(0);
        }
        self.lines.retain(|l| !l.runs.is_empty());
        self.revision += 1;
        true
    }

    /// Forget runs that are gone (retention, prune). True when any was here.
    pub fn forget(&mut self, runs: &BTreeSet<String>) -> bool {
        let mut changed = false;
        for line in &mut self.lines {
            while let Some(i) = line.runs.iter().position(|r| runs.contains(&r.id)) {
                line.remove_column(i);
                changed = true;
            }
        }
        self.lines.retain(|l| !l.runs.is_empty());
        if changed {
            self.revision += 1;
        }
        changed
    }

    pub fn tests(&self) -> usize {
        self.lines.iter().map(|l| l.tests.len()).sum()
    }
}

impl LineHistory {
    fn new(key: LineKey) -> Self {
        Self {
            job: key.job.map(str::to_string),
            variant: key.variant.map(str::to_string),
            runs: Vec::new(),
            tests: Vec::new(),
        }
    }

    pub fn key(&self) -> LineKey<'_> {
        LineKey {
            job: self.job.as_deref(),
            variant: self.variant.as_deref(),
        }
    }

    /// "unit · python-3.12", or "" for a branch's only, unnamed line.
    pub fn label(&self) -> String {
        [self.job.as_deref(), self.variant.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ")
    }

    fn check(&self) -> Result<(), HistoryError> {
        let n = self.runs.len();
        let bad = |what: String| HistoryError::Inconsistent {
            line: self.label(),
            what,
        };
        for t in &self.tests {
            let lens = [
                t.s.chars().count(),
                t.d.len(),
                t.u.len(),
                t.f.chars().count(),
            ];
            if lens.iter().any(|&len| len != n) {
                return Err(bad(format!(
                    "test {:?} has columns {lens:?} for {n} runs",
                    t.id
                )));
            }
            if let Some(c) = t.s.chars().find(|&c| Outcome::from_code(c).is_none()) {
                return Err(bad(format!("test {:?} has an unknown outcome {c:?}", t.id)));
            }
            if t.f
                .chars()
                .any(|c| c != NO_FAILURE && failure_index(c).is_none_or(|i| i >= t.failures.len()))
            {
                return Err(bad(format!(
                    "test {:?} names a failure it does not have",
                    t.id
                )));
            }
        }
        Ok(())
    }

    /// The column where a run of `build_order` goes: after every run that
    /// is older (publishers of one line may finish out of order).
    fn column_for(&self, run: &RunRef) -> usize {
        self.runs
            .iter()
            .position(|r| (r.build_order, &r.id) > (run.build_order, &run.id))
            .unwrap_or(self.runs.len())
    }

    fn add(&mut self, run: RunRef, tests: &TestIndex) {
        let col = self.column_for(&run);
        let run_id = run.id.clone();
        self.runs.insert(col, run);
        let mut by_id: HashMap<String, usize> = self
            .tests
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        let mut fresh: Vec<&TestEntry> = Vec::new();
        let mut filled = vec![false; self.tests.len()];
        for entry in &tests.tests {
            match by_id.get(entry.id.as_str()) {
                Some(&i) if !filled[i] => {
                    filled[i] = true;
                    self.tests[i].insert(col, Some(entry), &run_id);
                }
                Some(_) => {} // the same id twice in one run: the first counts
                None => fresh.push(entry),
            }
        }
        for (i, t) in self.tests.iter_mut().enumerate() {
            if !filled[i] {
                t.insert(col, None, &run_id);
            }
        }
        let width = self.runs.len();
        for entry in fresh {
            if by_id.contains_key(entry.id.as_str()) {
                continue;
            }
            let mut t = TestRecord::empty(entry, &run_id, width - 1);
            t.insert(col, Some(entry), &run_id);
            by_id.insert(entry.id.clone(), self.tests.len());
            self.tests.push(t);
        }
        self.tests
            .sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        let runs = &self.runs;
        for t in &mut self.tests {
            t.changed = t.last_change(runs);
        }
    }

    fn remove_column(&mut self, col: usize) {
        self.runs.remove(col);
        for t in &mut self.tests {
            t.remove(col);
        }
        self.tests
            .retain(|t| t.s.chars().any(|c| c != Outcome::Absent.code()));
        let runs = &self.runs;
        for t in &mut self.tests {
            t.changed = t.last_change(runs).or(t.changed.take());
        }
    }
}

fn failure_index(c: char) -> Option<usize> {
    FAILURE_CODES.iter().position(|&b| b as char == c)
}

impl TestRecord {
    fn empty(entry: &TestEntry, run: &str, width: usize) -> Self {
        Self {
            id: entry.id.clone(),
            name: entry.name.clone(),
            first_seen: run.to_string(),
            changed: None,
            s: Outcome::Absent.code().to_string().repeat(width),
            d: vec![None; width],
            u: vec![None; width],
            f: NO_FAILURE.to_string().repeat(width),
            failures: Vec::new(),
        }
    }

    pub fn outcomes(&self) -> impl DoubleEndedIterator<Item = Outcome> + '_ {
        self.s
            .chars()
            .map(|c| Outcome::from_code(c).unwrap_or(Outcome::Unknown))
    }

    /// The failure recorded in column `col`.
    pub fn failure_at(&self, col: usize) -> Option<&FailureSeen> {
        let c = self.f.chars().nth(col)?;
        failure_index(c).and_then(|i| self.failures.get(i))
    }

    fn insert(&mut self, col: usize, entry: Option<&TestEntry>, run: &str) {
        let outcome = entry.map_or(Outcome::Absent, |e| Outcome::of(&e.status));
        let failure = entry
            .filter(|_| outcome.is_failing())
            .and_then(|e| e.failure.as_ref())
            .map_or(NO_FAILURE, |f| self.failure_code(f, run));
        insert_char(&mut self.s, col, outcome.code());
        insert_char(&mut self.f, col, failure);
        self.d.insert(col, entry.and_then(|e| e.duration_ms));
        self.u.insert(col, entry.and_then(|e| e.uid.clone()));
        if let Some(e) = entry {
            self.name.clone_from(&e.name);
        }
    }

    fn failure_code(&mut self, failure: &Failure, run: &str) -> char {
        let i = match self.failures.iter().position(|f| f.failure == *failure) {
            Some(i) => i,
            None if self.failures.len() < FAILURE_CODES.len() => {
                self.failures.push(FailureSeen {
                    failure: failure.clone(),
                    first_seen: run.to_string(),
                });
                self.failures.len() - 1
            }
            // More distinct failures in the window than codes: the last
            // code is shared by the rest.
            None => FAILURE_CODES.len() - 1,
        };
        FAILURE_CODES[i] as char
    }

    fn remove(&mut self, col: usize) {
        remove_char(&mut self.s, col);
        remove_char(&mut self.f, col);
        self.d.remove(col);
        self.u.remove(col);
        self.drop_unused_failures();
    }

    /// Failures no column names any more go; the codes are renumbered.
    fn drop_unused_failures(&mut self) {
        let used: BTreeSet<usize> = self.f.chars().filter_map(failure_index).collect();
        if used.len() == self.failures.len() {
            return;
        }
        let mut renumber = vec![None; self.failures.len()];
        let mut kept = Vec::new();
        for (i, f) in std::mem::take(&mut self.failures).into_iter().enumerate() {
            if used.contains(&i) {
                renumber[i] = Some(kept.len());
                kept.push(f);
            }
        }
        self.failures = kept;
        self.f = self
            .f
            .chars()
            .map(
                |c| match failure_index(c).and_then(|i| renumber.get(i).copied().flatten()) {
                    Some(j) => FAILURE_CODES[j] as char,
                    None => NO_FAILURE,
                },
            )
            .collect();
    }

    /// The newest run whose outcome (passed or failing) differs from the
    /// one before it.
    fn last_change(&self, runs: &[RunRef]) -> Option<String> {
        let verdicts: Vec<(usize, bool)> = self
            .outcomes()
            .enumerate()
            .filter(|(_, o)| o.is_verdict())
            .map(|(i, o)| (i, o.is_failing()))
            .collect();
        verdicts
            .windows(2)
            .rev()
            .find(|w| w[0].1 != w[1].1)
            .and_then(|w| runs.get(w[1].0))
            .map(|r| r.id.clone())
    }
}

fn insert_char(s: &mut String, col: usize, c: char) {
    let mut chars: Vec<char> = s.chars().collect();
    chars.insert(col.min(chars.len()), c);
    *s = chars.into_iter().collect();
}

fn remove_char(s: &mut String, col: usize) {
    let mut chars: Vec<char> = s.chars().collect();
    if col < chars.len() {
        chars.remove(col);
    }
    *s = chars.into_iter().collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature;

    pub fn entry(id: &str, status: &str, ms: u64, message: Option<&str>) -> TestEntry {
        let status = TestStatus::from(status);
        TestEntry {
            id: id.into(),
            name: format!("test {id}"),
            failure: status.is_failing().then(|| signature::of(message)),
            status,
            flaky: false,
            duration_ms: Some(ms),
            uid: Some(format!("uid-{id}")),
        }
    }

    pub fn run(id: &str, order: u64) -> RunRef {
        RunRef {
            id: id.into(),
            build_order: order,
            commit: None,
            time: 0,
            allure: Engine::Allure2,
        }
    }

    const LINE: LineKey = LineKey {
        job: None,
        variant: None,
    };

    fn h_of(runs: &[(&str, Vec<TestEntry>)], window: usize) -> TestHistory {
        let mut h = TestHistory::default();
        for (i, (id, tests)) in runs.iter().enumerate() {
            h.record(
                LINE,
                run(id, i as u64 + 1),
                &TestIndex::new(tests.clone()),
                window,
            );
        }
        h
    }

    #[test]
    fn runs_become_columns_and_a_missing_test_is_absent() {
        let h = h_of(
            &[
                (
                    "r1",
                    vec![
                        entry("a", "passed", 10, None),
                        entry("b", "failed", 5, Some("x 1")),
                    ],
                ),
                ("r2", vec![entry("a", "failed", 12, Some("boom 7"))]),
            ],
            50,
        );
        let l = &h.lines[0];
        assert_eq!(
            l.runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["r1", "r2"]
        );
        assert_eq!((l.tests[0].s.as_str(), l.tests[1].s.as_str()), ("PF", "F-"));
        assert_eq!(l.tests[0].d, [Some(10), Some(12)]);
        assert_eq!(l.tests[0].changed.as_deref(), Some("r2"));
        assert_eq!(
            l.tests[0].failure_at(1).unwrap().failure.message,
            "boom <n>"
        );
        assert_eq!(h.revision, 2);
        assert_eq!(TestHistory::parse(&h.to_json()), Ok(h));
    }

    #[test]
    fn the_window_keeps_the_newest_runs_and_tests_seen_in_them() {
        let runs: Vec<(String, Vec<TestEntry>)> = (1..=5)
            .map(|i| {
                let mut tests = vec![entry("a", "passed", 1, None)];
                if i == 1 {
                    tests.push(entry("old", "failed", 1, Some("gone")));
                }
                (format!("r{i}"), tests)
            })
            .collect();
        let borrowed: Vec<(&str, Vec<TestEntry>)> = runs
            .iter()
            .map(|(id, t)| (id.as_str(), t.clone()))
            .collect();
        let h = h_of(&borrowed, 3);
        assert_eq!(h.lines[0].runs.len(), 3);
        assert_eq!(
            h.lines[0].tests.len(),
            1,
            "a test not run in the window goes"
        );
        assert_eq!(h.lines[0].tests[0].first_seen, "r1");
    }

    #[test]
    fn a_late_publisher_lands_in_build_order_and_a_retry_changes_nothing() {
        let mut h = h_of(&[("r1", vec![entry("a", "passed", 1, None)])], 50);
        h.record(
            LINE,
            run("r3", 3),
            &TestIndex::new(vec![entry("a", "passed", 1, None)]),
            50,
        );
        assert!(h.record(
            LINE,
            run("r2", 2),
            &TestIndex::new(vec![entry("a", "failed", 1, None)]),
            50
        ));
        assert_eq!(h.lines[0].tests[0].s, "PFP");
        let before = h.clone();
        assert!(!h.record(LINE, run("r2", 2), &TestIndex::new(vec![]), 50));
        assert_eq!(h, before);
    }

    #[test]
    fn forgetting_a_run_removes_its_column_and_unused_failures() {
        let mut h = h_of(
            &[
                ("r1", vec![entry("a", "failed", 1, Some("first 1"))]),
                ("r2", vec![entry("a", "failed", 1, Some("second"))]),
            ],
            50,
        );
        assert!(h.forget(&BTreeSet::from(["r1".to_string()])));
        let t = &h.lines[0].tests[0];
        assert_eq!((t.s.as_str(), t.f.as_str()), ("F", "0"));
        assert_eq!(t.failures.len(), 1);
        assert_eq!(t.failures[0].failure.message, "second");
        assert!(!h.forget(&BTreeSet::from(["r9".to_string()])));
        assert!(h.forget(&BTreeSet::from(["r2".to_string()])));
        assert!(h.lines.is_empty());
        assert_eq!(TestHistory::parse(&h.to_json()), Ok(h));
    }

    #[test]
    fn lines_are_kept_apart_and_found_for_another_branch() {
        let mut h = TestHistory::default();
        let unit = LineKey {
            job: Some("unit"),
            variant: Some("py3.12"),
        };
        let e2e = LineKey {
            job: Some("e2e"),
            variant: None,
        };
        h.record(
            unit,
            run("u1", 1),
            &TestIndex::new(vec![entry("a", "passed", 1, None)]),
            50,
        );
        h.record(
            e2e,
            run("e1", 2),
            &TestIndex::new(vec![entry("a", "failed", 1, None)]),
            50,
        );
        assert_eq!(h.line(unit).unwrap().tests[0].s, "P");
        assert_eq!(h.line(e2e).unwrap().tests[0].s, "F");
        let other_job = LineKey {
            job: Some("lint"),
            variant: Some("py3.12"),
        };
        assert_eq!(h.line_like(other_job).unwrap().label(), "unit · py3.12");
    }

    #[test]
    fn a_damaged_or_newer_history_is_refused() {
        let mut h = h_of(&[("r1", vec![entry("a", "passed", 1, None)])], 50);
        h.lines[0].tests[0].s = "PP".into();
        assert!(matches!(
            TestHistory::parse(&h.to_json()),
            Err(HistoryError::Inconsistent { .. })
        ));
        h.lines[0].tests[0].s = "X".into();
        assert!(TestHistory::parse(&h.to_json()).is_err());
        assert_eq!(
            TestHistory::parse(br#"{"schema":2,"revision":1,"lines":[]}"#),
            Err(HistoryError::Newer(2))
        );
        assert!(TestHistory::parse(b"{").is_err());
        let huge = br#"{"schema":1,"revision":18446744073709551615,"lines":[]}"#;
        assert!(TestHistory::parse(huge).is_err());
        let bad = br#"{"schema":1,"revision":1,"thresholds":{"flaky":-3,"slower":-1},"lines":[]}"#;
        assert!(TestHistory::parse(bad).is_err());
    }
}
