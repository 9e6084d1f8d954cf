//! Reading an Allure 3 report: its counts (`summary.json`), failed tests
//! (`test-results.json`, then only the listed tests' files in
//! `data/test-results/`), the test index and the quality gate.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::model::changes::{TestEntry, TestIndex};
use crate::model::quality_gate::{QualityGate, RuleResult};
use crate::model::signature;
use crate::model::stats::Stats;
use crate::model::status::TestStatus;
use crate::model::summary::FailedTest;
use crate::report::summary::ReportSummary;

/// The file that tells an Allure 3 report from an Allure 2 one.
pub const SUMMARY: &str = "summary.json";

#[derive(Deserialize)]
struct RawSummary {
    stats: Stats,
    #[serde(default)]
    duration: Option<u64>,
}

pub fn parse_summary(bytes: &[u8]) -> Result<ReportSummary, serde_json::Error> {
    let raw: RawSummary = serde_json::from_slice(bytes)?;
    Ok(ReportSummary {
        stats: raw.stats,
        duration_ms: raw.duration.unwrap_or(0),
    })
}

/// A test as `test-results.json` lists it.
#[derive(Debug, Deserialize)]
pub struct Listed {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub status: TestStatus,
}

#[derive(Deserialize)]
struct ListedTests {
    #[serde(rename = "byId", default)]
    by_id: BTreeMap<String, Listed>,
}

/// Failed then broken tests (by name within each), at most `limit`, with
/// their ids; and how many failed or broken tests there are in all.
pub fn parse_failing(test_results_json: &[u8], limit: usize) -> (Vec<(String, Listed)>, usize) {
    let Ok(listed) = serde_json::from_slice::<ListedTests>(test_results_json) else {
        return (Vec::new(), 0);
    };
    let mut found: Vec<(String, Listed)> = listed
        .by_id
        .into_iter()
        .filter(|(_, t)| t.status.is_failing())
        .collect();
    let total = found.len();
    found.sort_by(|(_, a), (_, b)| {
        let failed = |s: &TestStatus| *s == TestStatus::Failed;
        (!failed(&a.status), &a.name).cmp(&(!failed(&b.status), &b.name))
    });
    found.truncate(limit);
    (found, total)
}

#[derive(Deserialize)]
struct TestResult {
    #[serde(default)]
    id: Option<String>,
    /// Read leniently: a negative duration must not drop the test.
    #[serde(default)]
    duration: serde_json::Value,
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
    #[serde(rename = "isRetry", default)]
    is_retry: bool,
    #[serde(default)]
    error: Option<TestError>,
}

#[derive(Deserialize)]
struct TestError {
    message: Option<String>,
}

/// A failed test's full name and message from its `data/test-results/`
/// file; neither when the file is unreadable.
pub fn parse_test_detail(bytes: &[u8]) -> (Option<String>, Option<String>) {
    serde_json::from_slice::<TestResult>(bytes)
        .map(|r| (r.full_name, r.error.and_then(|e| e.message)))
        .unwrap_or_default()
}

/// One `data/test-results/*.json` file as a test index entry; None when
/// unreadable or a retry.
pub fn parse_test_entry(bytes: &[u8]) -> Option<TestEntry> {
    let t = serde_json::from_slice::<TestResult>(bytes).ok()?;
    if t.is_retry {
        return None;
    }
    let failure = t.status.is_failing().then(|| {
        let message = t.error.as_ref().and_then(|e| e.message.as_deref());
        signature::of(message.map(strip_ansi).as_deref())
    });
    Some(TestEntry {
        duration_ms: t.duration.as_u64(),
        uid: t.id,
        failure,
        id: t
            .history_id
            .unwrap_or_else(|| t.full_name.clone().unwrap_or_else(|| t.name.clone())),
        name: t.name,
        status: t.status,
        flaky: t.flaky,
    })
}

/// The report's failed tests; an unreadable report gives none.
pub fn read_failing(report_dir: &Path, details: &Path, limit: usize) -> (Vec<FailedTest>, usize) {
    let Ok(bytes) = std::fs::read(report_dir.join("test-results.json")) else {
        return (Vec::new(), 0);
    };
    let (found, total) = parse_failing(&bytes, limit);
    let tests = found
        .into_iter()
        .map(|(id, listed)| {
            let (full_name, message) =
                std::fs::read(details.join(format!("data/test-results/{id}.json")))
                    .map(|b| parse_test_detail(&b))
                    .unwrap_or_default();
            FailedTest {
                name: listed.name,
                full_name,
                status: listed.status,
                message,
            }
        })
        .collect();
    (tests, total)
}

/// Every test of the report but retries; an unreadable file is skipped.
pub fn read_test_index(report_dir: &Path) -> TestIndex {
    let tests = std::fs::read_dir(report_dir.join("data/test-results"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|bytes| parse_test_entry(&bytes))
        .collect();
    TestIndex::new(tests)
}

/// `quality-gate.json`: the rules' results; None when no rule ran.
pub fn parse_quality_gate(bytes: &[u8]) -> Result<Option<QualityGate>, serde_json::Error> {
    let mut rules: Vec<RuleResult> = serde_json::from_slice(bytes)?;
    for r in &mut rules {
        r.message = strip_ansi(&r.message);
    }
    Ok(QualityGate::new(rules))
}

/// Allure colours its messages for terminals; readers get plain text.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ ... final byte in @..~
            for d in chars.by_ref() {
                if ('@'..='~').contains(&d) && d != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_allure_3_summary() {
        let s = parse_summary(br#"{"stats":{"total":9,"passed":5,"skipped":2,"failed":1,"broken":1},"status":"failed","newTests":[],"duration":8202,"plugin":"Awesome"}"#).unwrap();
        assert_eq!(s.stats.total, 9);
        assert_eq!(s.stats.broken, 1);
        assert_eq!(s.duration_ms, 8202);
        assert!(parse_summary(b"{}").is_err());
    }

    #[test]
    fn failed_before_broken_by_name_and_the_limit_holds() {
        let json = br#"{"byId":{
            "1":{"name":"zeta","status":"broken"},
            "2":{"name":"b","status":"passed"},
            "3":{"name":"omega","status":"failed"},
            "4":{"name":"alpha","status":"failed"}}}"#;
        let (list, total) = parse_failing(json, 2);
        assert_eq!(total, 3);
        let names: Vec<_> = list.iter().map(|(_, t)| t.name.as_str()).collect();
        assert_eq!(names, ["alpha", "omega"]);
        assert_eq!(parse_failing(b"[]", 5).1, 0);
    }

    #[test]
    fn quality_gate_results_in_plain_text() {
        let json = b"[{\"success\":false,\"actual\":2,\"expected\":0,\"rule\":\"maxFailures\",\"message\":\"The number of failed tests \\u001b[1m2\\u001b[22m exceeds 0\",\"testResults\":[\"a\"]}]";
        let gate = parse_quality_gate(json).unwrap().unwrap();
        assert!(!gate.passed());
        assert_eq!(gate.rules[0].rule, "maxFailures");
        assert_eq!(
            gate.rules[0].message,
            "The number of failed tests 2 exceeds 0"
        );
        assert_eq!(gate.rules[0].actual, serde_json::json!(2));
        assert_eq!(parse_quality_gate(b"[]").unwrap(), None);
    }
}
