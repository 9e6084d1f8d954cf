//! Allure 3's quality gate verdict: one result per rule of the project's
//! `qualityGate` config, as its `quality-gate.json` lists them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleResult {
    /// `maxFailures`, `successRate`, ... (prefixed by the ruleset's id).
    pub rule: String,
    pub success: bool,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub actual: Value,
    #[serde(default)]
    pub expected: Value,
}

/// The rules the gate checked; never empty (no rules, no gate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityGate {
    pub rules: Vec<RuleResult>,
}

impl QualityGate {
    /// None when no rule ran.
    pub fn new(rules: Vec<RuleResult>) -> Option<Self> {
        (!rules.is_empty()).then_some(Self { rules })
    }

    pub fn passed(&self) -> bool {
        self.rules.iter().all(|r| r.success)
    }

    pub fn failed_rules(&self) -> impl Iterator<Item = &RuleResult> {
        self.rules.iter().filter(|r| !r.success)
    }

    /// `passed` or `failed`, as the action's `quality-gate` output says.
    pub fn verdict(&self) -> &'static str {
        if self.passed() { "passed" } else { "failed" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, success: bool) -> RuleResult {
        RuleResult {
            rule: name.into(),
            success,
            message: String::new(),
            actual: Value::Null,
            expected: Value::Null,
        }
    }

    #[test]
    fn one_failed_rule_fails_the_gate() {
        assert_eq!(QualityGate::new(vec![]), None);
        let gate = QualityGate::new(vec![rule("a", true), rule("b", false)]).unwrap();
        assert!(!gate.passed());
        assert_eq!(gate.verdict(), "failed");
        assert_eq!(
            gate.failed_rules()
                .map(|r| r.rule.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
        assert!(QualityGate::new(vec![rule("a", true)]).unwrap().passed());
    }
}
