//! What changed since the base branch: each run keeps a compact index of
//! its tests (history id, name, status, flaky), and a run is compared with
//! the base branch's latest run of the same job and leg (pure).

use serde::{Deserialize, Serialize};

use super::status::TestStatus;

pub const INDEX_SCHEMA: u32 = 1;
/// Tests named per list in the summary, the job summary and the comment.
pub const LISTED: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestEntry {
    /// Allure's history id: the same test across runs.
    pub id: String,
    pub name: String,
    pub status: TestStatus,
    /// Allure marked it flaky: its status flipped within its own history.
    #[serde(default)]
    pub flaky: bool,
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
            .filter(|i| i.schema == INDEX_SCHEMA)
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

pub fn compare(now: &TestIndex, base: &TestIndex, base_branch: &str, base_run: &str) -> Changes {
    let before = |t: &TestEntry| base.tests.iter().find(|b| b.id == t.id);
    let failing_before = |t: &TestEntry| before(t).is_some_and(TestEntry::failing);
    Changes {
        base_branch: base_branch.to_string(),
        base_run: base_run.to_string(),
        new_failures: Listed::of(
            now.tests
                .iter()
                .filter(|t| t.failing() && !failing_before(t)),
        ),
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
            flaky: false,
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
        let c = compare(&now, &base, "main", "42-1");
        assert_eq!(c.fixed.tests, ["test a"]);
        assert_eq!(c.new_failures.tests, ["test d", "test new"]);
        assert_eq!(c.still_failing.tests, ["test b"]);
        assert_eq!(c.flaky.tests, ["test e"]);
        assert_eq!(c.fixed.total, 1);
    }

    #[test]
    fn lists_are_bounded_but_count_everything() {
        let now = TestIndex::new((0..25).map(|i| t(&format!("{i:02}"), "failed")).collect());
        let c = compare(&now, &TestIndex::new(vec![]), "main", "1");
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
}
