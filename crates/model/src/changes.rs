//! What changed since the base branch: each run keeps a compact index of
//! its tests (history id, name, status, flaky, duration, report id, failure
//! signature), and a run is compared with the base branch's latest run of
//! the same job and leg, and with that line's test history (pure).

use serde::{Deserialize, Serialize};

use super::signature::Failure;
use super::status::TestStatus;
use super::test_history::LineHistory;
use super::test_scores::{OnBase, Thresholds};

/// Schema 2 added duration, report id and failure; 1 is still read.
pub const INDEX_SCHEMA: u32 = 2;
/// Tests named per list in the summary, the job summary and the comment.
pub const LISTED: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestEntry {
    /// Allure's history id: the same test across runs.
    pub id: String,
    pub name: String,
    pub status: TestStatus,
    /// Allure marked it flaky: its status flipped within its own history.
    #[serde(default)]
    pub flaky: bool,
    /// Milliseconds, when the engine recorded them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The test's id in this run's report: `Engine::test_link` opens it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// A failing test's signature (`signature::of` its message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

impl TestEntry {
    fn failing(&self) -> bool {
        self.status.is_failing()
    }
}

/// `<run>/allure-host-tests.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestIndex {
    pub schema: u32,
    pub tests: Vec<TestEntry>,
}

impl TestIndex {
    pub fn new(mut tests: Vec<TestEntry>) -> Self {
        tests.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Self {
            schema: INDEX_SCHEMA,
            tests,
        }
    }
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(bytes)
            .ok()
            .filter(|i| (1..=INDEX_SCHEMA).contains(&i.schema))
    }
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("test index serialises")
    }
}

/// Up to `LISTED` names, and how many there are in all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    pub total: usize,
    pub tests: Vec<String>,
}

impl Listed {
    fn of<'a>(entries: impl Iterator<Item = &'a TestEntry>) -> Self {
        let names: Vec<String> = entries.map(|t| t.name.clone()).collect();
        Self {
            total: names.len(),
            tests: names.into_iter().take(LISTED).collect(),
        }
    }
}

/// The comparison with the base branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub base_branch: String,
    pub base_run: String,
    /// Failing now, not failing on the base (passed, skipped or absent).
    pub new_failures: Listed,
    /// Passing now, failing on the base.
    pub fixed: Listed,
    pub still_failing: Listed,
    /// Flaky in this run's own history.
    pub flaky: Listed,
    /// What the base branch's test history says of each listed new failure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_failures_on_base: Vec<Known>,
    /// New failures (all, not only those listed) that are not known flaky
    /// on the base branch: what `fail-on: new-failures` counts.
    #[serde(default)]
    pub new_failures_not_flaky: usize,
}

/// A new failure and what the base branch's history says of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Known {
    pub name: String,
    /// "flaky on main (failed 4 of last 30)".
    pub note: String,
    pub flaky: bool,
}

impl Changes {
    /// The lists a reader is shown, with their headings.
    pub fn lists(&self) -> [(&'static str, &Listed); 4] {
        [
            ("New failures", &self.new_failures),
            ("Fixed", &self.fixed),
            ("Still failing", &self.still_failing),
            ("Flaky", &self.flaky),
        ]
    }
}

/// The base branch as compared with: its run, and its line's history.
pub struct Base<'a> {
    pub branch: &'a str,
    pub run: &'a str,
    pub index: &'a TestIndex,
    pub history: Option<&'a LineHistory>,
    pub thresholds: Thresholds,
}

pub fn compare(now: &TestIndex, base: &Base) -> Changes {
    let (base_branch, base_run) = (base.branch, base.run);
    let before = |t: &TestEntry| base.index.tests.iter().find(|b| b.id == t.id);
    let failing_before = |t: &TestEntry| before(t).is_some_and(TestEntry::failing);
    let new_failures: Vec<&TestEntry> = now
        .tests
        .iter()
        .filter(|t| t.failing() && !failing_before(t))
        .collect();
    let on_base: Vec<(&TestEntry, OnBase)> = new_failures
        .iter()
        .map(|t| {
            let on_base = OnBase::of(base.history, &t.id, t.failure.as_ref(), &base.thresholds);
            (*t, on_base)
        })
        .collect();
    Changes {
        new_failures_on_base: on_base
            .iter()
            .take(LISTED)
            .map(|(t, v)| Known {
                name: t.name.clone(),
                note: v.describe(base_branch),
                flaky: v.is_flaky(),
            })
            .collect(),
        new_failures_not_flaky: on_base.iter().filter(|(_, v)| !v.is_flaky()).count(),
        base_branch: base_branch.to_string(),
        base_run: base_run.to_string(),
        new_failures: Listed::of(new_failures.into_iter()),
        fixed: Listed::of(
            now.tests
                .iter()
                .filter(|t| t.status == TestStatus::Passed && failing_before(t)),
        ),
        still_failing: Listed::of(
            now.tests
                .iter()
                .filter(|t| t.failing() && failing_before(t)),
        ),
        flaky: Listed::of(now.tests.iter().filter(|t| t.flaky)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, status: &str) -> TestEntry {
        TestEntry {
            id: id.into(),
            name: format!("test {id}"),
            status: status.into(),
            ..TestEntry::default()
        }
    }

    #[test]
    fn one_fixed_two_new_failures_one_still_failing() {
        let base = TestIndex::new(vec![
            t("a", "failed"),
            t("b", "broken"),
            t("c", "failed"),
            t("d", "passed"),
        ]);
        let mut flaky = t("e", "passed");
        flaky.flaky = true;
        let now = TestIndex::new(vec![
            t("a", "passed"),
            t("b", "broken"),
            t("c", "skipped"),
            t("d", "failed"),
            t("new", "failed"),
            flaky,
        ]);
        let c = compare(&now, &base_of(&base, None));
        assert_eq!(c.fixed.tests, ["test a"]);
        assert_eq!(c.new_failures.tests, ["test d", "test new"]);
        assert_eq!(c.still_failing.tests, ["test b"]);
        assert_eq!(c.flaky.tests, ["test e"]);
        assert_eq!(c.fixed.total, 1);
    }

    #[test]
    fn lists_are_bounded_but_count_everything() {
        let now = TestIndex::new((0..25).map(|i| t(&format!("{i:02}"), "failed")).collect());
        let c = compare(&now, &base_of(&TestIndex::new(vec![]), None));
        assert_eq!(
            (c.new_failures.total, c.new_failures.tests.len()),
            (25, LISTED)
        );
    }

    #[test]
    fn an_index_round_trips_and_another_schema_is_ignored() {
        let i = TestIndex::new(vec![t("a", "passed")]);
        assert_eq!(TestIndex::parse(&i.to_json()), Some(i));
        assert_eq!(TestIndex::parse(br#"{"schema":9,"tests":[]}"#), None);
    }

    #[test]
    fn an_index_of_the_first_schema_is_still_read() {
        let old = br#"{"schema":1,"tests":[{"id":"a","name":"A","status":"failed","flaky":true}]}"#;
        let i = TestIndex::parse(old).unwrap();
        assert_eq!(i.tests[0].status, TestStatus::Failed);
        assert_eq!((i.tests[0].duration_ms, &i.tests[0].failure), (None, &None));
    }

    fn base_of<'a>(index: &'a TestIndex, history: Option<&'a LineHistory>) -> Base<'a> {
        Base {
            branch: "main",
            run: "42-1",
            index,
            history,
            thresholds: Thresholds::default(),
        }
    }

    #[test]
    fn new_failures_say_what_the_base_history_says_and_flaky_ones_do_not_count() {
        use crate::test_history::{LineKey, RunRef, TestHistory};
        let mut h = TestHistory::default();
        let line = LineKey {
            job: None,
            variant: None,
        };
        for i in 0..6u64 {
            let flip = if i % 2 == 0 { "passed" } else { "failed" };
            let run = RunRef {
                id: format!("r{i}"),
                build_order: i,
                commit: None,
                time: 0,
                allure: Default::default(),
            };
            h.record(
                line,
                run,
                &TestIndex::new(vec![t("flaky", flip), t("steady", "passed")]),
                50,
            );
        }
        let base = TestIndex::new(vec![t("flaky", "passed"), t("steady", "passed")]);
        let now = TestIndex::new(vec![
            t("flaky", "failed"),
            t("steady", "failed"),
            t("fresh", "failed"),
        ]);
        let c = compare(&now, &base_of(&base, h.line(line)));
        let notes: Vec<(&str, &str, bool)> = c
            .new_failures_on_base
            .iter()
            .map(|k| (k.name.as_str(), k.note.as_str(), k.flaky))
            .collect();
        assert_eq!(
            notes,
            [
                ("test flaky", "flaky on main (failed 3 of last 6)", true),
                ("test fresh", "new: not run on main lately", false),
                ("test steady", "passed the last 6 runs on main", false),
            ]
        );
        assert_eq!(c.new_failures_not_flaky, 2);
    }
}
