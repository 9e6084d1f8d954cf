//! The compact index of a generated report's tests, read from its
//! `data/test-cases/` (retries, which Allure hides, are left out).

use std::path::Path;

use serde::Deserialize;

use crate::model::changes::{TestEntry, TestIndex};
use crate::model::signature;
use crate::model::status::TestStatus;

#[derive(Deserialize)]
struct TestCase {
    #[serde(default)]
    uid: Option<String>,
    #[serde(rename = "historyId")]
    history_id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(rename = "fullName")]
    full_name: Option<String>,
    #[serde(default)]
    status: TestStatus,
    #[serde(default)]
    flaky: bool,
    #[serde(default)]
    hidden: bool,
    #[serde(default)]
    time: Option<Time>,
    #[serde(rename = "statusMessage")]
    status_message: Option<String>,
}

#[derive(Deserialize)]
struct Time {
    duration: Option<u64>,
}

/// Every visible test of the report; an unreadable file is skipped.
pub fn read(report_dir: &Path) -> TestIndex {
    let dir = report_dir.join("data/test-cases");
    let tests = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|bytes| parse_case(&bytes))
        .collect();
    TestIndex::new(tests)
}

/// One `data/test-cases/*.json` file; None when unreadable or hidden (a retry).
pub fn parse_case(bytes: &[u8]) -> Option<TestEntry> {
    let c = serde_json::from_slice::<TestCase>(bytes).ok()?;
    if c.hidden {
        return None;
    }
    let failure = c
        .status
        .is_failing()
        .then(|| signature::of(c.status_message.as_deref()));
    Some(TestEntry {
        duration_ms: c.time.and_then(|t| t.duration),
        uid: c.uid,
        failure,
        id: c
            .history_id
            .unwrap_or_else(|| c.full_name.clone().unwrap_or_else(|| c.name.clone())),
        name: if c.name.is_empty() {
            c.full_name.unwrap_or_default()
        } else {
            c.name
        },
        status: c.status,
        flaky: c.flaky,
    })
}
