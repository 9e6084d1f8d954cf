//! A test's status as Allure writes it. The five Allure knows are variants;
//! anything else (another tool's word, an empty field) is kept as written,
//! so a test index read and written again is unchanged.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum TestStatus {
    Failed,
    Broken,
    Passed,
    Skipped,
    Unknown,
    /// A status Allure does not write, as written.
    Other(String),
}

impl TestStatus {
    /// Failed or broken: what fails a run and is listed first.
    pub fn is_failing(&self) -> bool {
        matches!(self, TestStatus::Failed | TestStatus::Broken)
    }

    /// The word Allure writes.
    pub fn as_str(&self) -> &str {
        match self {
            TestStatus::Failed => "failed",
            TestStatus::Broken => "broken",
            TestStatus::Passed => "passed",
            TestStatus::Skipped => "skipped",
            TestStatus::Unknown => "unknown",
            TestStatus::Other(text) => text,
        }
    }
}

/// No status given: kept as an empty word, not taken for one of Allure's.
impl Default for TestStatus {
    fn default() -> Self {
        TestStatus::Other(String::new())
    }
}

impl From<String> for TestStatus {
    fn from(text: String) -> Self {
        match text.as_str() {
            "failed" => TestStatus::Failed,
            "broken" => TestStatus::Broken,
            "passed" => TestStatus::Passed,
            "skipped" => TestStatus::Skipped,
            "unknown" => TestStatus::Unknown,
            _ => TestStatus::Other(text),
        }
    }
}

impl From<&str> for TestStatus {
    fn from(text: &str) -> Self {
        TestStatus::from(text.to_string())
    }
}

impl From<TestStatus> for String {
    fn from(status: TestStatus) -> Self {
        match status {
            TestStatus::Other(text) => text,
            known => known.as_str().to_string(),
        }
    }
}

impl fmt::Display for TestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_round_trips_and_only_failed_and_broken_fail() {
        for word in [
            "failed", "broken", "passed", "skipped", "unknown", "", "Failed", "xfail",
        ] {
            let status = TestStatus::from(word);
            assert_eq!(String::from(status.clone()), word);
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(serde_json::from_str::<TestStatus>(&json).unwrap(), status);
            assert_eq!(status.is_failing(), word == "failed" || word == "broken");
        }
    }
}
