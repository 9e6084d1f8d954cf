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
    /// Read leniently: a clock that went back (a negative duration) must
    /// not drop the test from the index.
    #[serde(default)]
    time: serde_json::Value,
    #[serde(rename = "statusMessage")]
    status_message: Option<String>,
    /// `[{name, value}]`: one test's runs with different values are
    /// different tests (Allure 2's files carry no history id).
    #[serde(default)]
    parameters: serde_json::Value,
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
    let id = c
        .history_id
        .clone()
        .unwrap_or_else(|| with_parameters(c.full_name.as_ref().unwrap_or(&c.name), &c.parameters));
    Some(TestEntry {
        duration_ms: c.time["duration"].as_u64(),
        uid: c.uid,
        failure,
        id,
        name: if c.name.is_empty() {
            c.full_name.unwrap_or_default()
        } else {
            c.name
        },
        status: c.status,
        flaky: c.flaky,
    })
}

/// `name[a=1, b=2]`: a test's id with its parameters, when it has any.
fn with_parameters(name: &str, parameters: &serde_json::Value) -> String {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let pairs: Vec<String> = parameters
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| format!("{}={}", text(&p["name"]), text(&p["value"])))
        .collect();
    if pairs.is_empty() {
        name.to_string()
    } else {
        format!("{name}[{}]", pairs.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_parameter_set_is_its_own_test_and_a_negative_duration_keeps_it() {
        let case = |value: &str, status: &str, duration: i64| {
            format!(
                r#"{{"uid":"u{value}","name":"test_add","fullName":"m#test_add","status":"{status}","statusMessage":"\u001b[31mboom {value}","time":{{"duration":{duration}}},"parameters":[{{"name":"x","value":"{value}"}}]}}"#
            )
        };
        let a = parse_case(case("1", "passed", 12).as_bytes()).unwrap();
        let b = parse_case(case("2", "failed", -1).as_bytes()).unwrap();
        assert_eq!(
            (a.id.as_str(), b.id.as_str()),
            ("m#test_add[x=1]", "m#test_add[x=2]")
        );
        assert_eq!((a.duration_ms, b.duration_ms), (Some(12), None));
        assert_eq!(b.failure.unwrap().message, "boom <n>");
        let plain =
            parse_case(br#"{"name":"t","fullName":"m#t","status":"passed","time":"?"}"#).unwrap();
        assert_eq!((plain.id.as_str(), plain.duration_ms), ("m#t", None));
    }
}
