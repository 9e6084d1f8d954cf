//! The failed and broken tests of a generated report, for the job summary and
//! the summary JSON. `data/suites.json` names them; only the few listed are
//! opened in `data/test-cases/` for their message, so big reports stay cheap.

use std::path::Path;

use serde::Deserialize;

use crate::model::status::TestStatus;
use crate::model::summary::FailedTest;

#[derive(Deserialize)]
struct Node {
    #[serde(default)]
    name: String,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    status: Option<TestStatus>,
    #[serde(default)]
    children: Vec<Node>,
}

#[derive(Deserialize)]
struct TestCase {
    #[serde(rename = "fullName")]
    full_name: Option<String>,
    #[serde(rename = "statusMessage")]
    status_message: Option<String>,
}

/// Failed tests first, then broken, each in report order, at most `limit`.
/// Returns the list and the number of failed or broken tests in all.
pub fn parse_suites(
    suites_json: &[u8],
    limit: usize,
) -> (Vec<(String, String, TestStatus)>, usize) {
    let Ok(root) = serde_json::from_slice::<Node>(suites_json) else {
        return (Vec::new(), 0);
    };
    let mut found: Vec<(String, String, TestStatus)> = Vec::new();
    let mut stack = vec![&root];
    while let Some(node) = stack.pop() {
        stack.extend(node.children.iter().rev());
        if !node.children.is_empty() {
            continue;
        }
        if let (Some(uid), Some(status)) = (&node.uid, &node.status)
            && status.is_failing()
        {
            found.push((uid.clone(), node.name.clone(), status.clone()));
        }
    }
    let total = found.len();
    // Stable sort: failed before broken, report order within each.
    found.sort_by_key(|(_, _, status)| *status != TestStatus::Failed);
    found.truncate(limit);
    (found, total)
}

/// Read the report's failed tests; an unreadable report gives none.
pub fn read(report_dir: &Path, limit: usize) -> (Vec<FailedTest>, usize) {
    let Ok(bytes) = std::fs::read(report_dir.join("data/suites.json")) else {
        return (Vec::new(), 0);
    };
    let (found, total) = parse_suites(&bytes, limit);
    let tests = found
        .into_iter()
        .map(|(uid, name, status)| {
            let (full_name, message) =
                std::fs::read(report_dir.join(format!("data/test-cases/{uid}.json")))
                    .map(|b| parse_case(&b))
                    .unwrap_or_default();
            FailedTest {
                name,
                full_name,
                status,
                message,
            }
        })
        .collect();
    (tests, total)
}

/// A failed test's full name and message from its `data/test-cases/` file;
/// neither when the file is unreadable.
pub fn parse_case(bytes: &[u8]) -> (Option<String>, Option<String>) {
    serde_json::from_slice::<TestCase>(bytes)
        .map(|c| (c.full_name, c.status_message))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_come_before_broken_and_the_limit_holds() {
        let json = br#"{"name":"root","children":[
            {"name":"suite","children":[
                {"name":"a","uid":"1","status":"broken"},
                {"name":"b","uid":"2","status":"passed"},
                {"name":"c","uid":"3","status":"failed"}]},
            {"name":"d","uid":"4","status":"failed"}]}"#;
        let (list, total) = parse_suites(json, 2);
        assert_eq!(total, 3);
        let names: Vec<_> = list.iter().map(|(_, n, _)| n.as_str()).collect();
        assert_eq!(names, ["c", "d"]);
        assert_eq!(parse_suites(b"not json", 10), (Vec::new(), 0));
    }
}
