//! Test counts: declared once, embedded wherever a run's counts are kept
//! (the manifest, the project index, the summary, the PR comment state).

use serde::{Deserialize, Serialize};

use super::lenient::null_as_default;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    #[serde(default, deserialize_with = "null_as_default")]
    pub passed: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub failed: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub broken: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub skipped: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub unknown: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub total: u64,
}

impl Stats {
    /// Passed among the tests that ran (skipped and unknown left out), in
    /// percent, as Allure's overview shows it; None when none ran.
    pub fn pass_rate(&self) -> Option<f64> {
        // In floating point: counts another writer made may sum past u64.
        let ran = self.passed as f64 + self.failed as f64 + self.broken as f64;
        (ran > 0.0).then(|| self.passed as f64 * 100.0 / ran)
    }

    /// Failed plus broken.
    pub fn failing(&self) -> u64 {
        self.failed.saturating_add(self.broken)
    }

    /// The run's overall status, as the `status` output reports it.
    pub fn status(&self) -> &'static str {
        if self.failed > 0 {
            "failed"
        } else if self.broken > 0 {
            "broken"
        } else if self.total == 0 {
            "no-tests"
        } else {
            "passed"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_the_worst_outcome() {
        let s = |failed, broken, total| Stats {
            failed,
            broken,
            total,
            ..Stats::default()
        };
        assert_eq!(s(1, 1, 3).status(), "failed");
        assert_eq!(s(0, 1, 3).status(), "broken");
        assert_eq!(s(0, 0, 0).status(), "no-tests");
        assert_eq!(s(0, 0, 3).status(), "passed");
    }

    #[test]
    fn counts_at_the_edge_of_u64_do_not_overflow() {
        // Counts come from files other writers made (a manifest, a branch
        // list); sums of them overflowed (a panic in debug builds).
        let s = Stats {
            passed: u64::MAX,
            failed: 1,
            broken: u64::MAX,
            ..Stats::default()
        };
        assert_eq!(s.failing(), u64::MAX);
        let rate = s.pass_rate().unwrap();
        assert!((0.0..=100.0).contains(&rate), "{rate}");
    }

    #[test]
    fn pass_rate_leaves_skipped_out_like_allure() {
        let s = Stats {
            passed: 5,
            failed: 1,
            broken: 1,
            skipped: 2,
            total: 9,
            ..Stats::default()
        };
        assert_eq!(format!("{:.2}", s.pass_rate().unwrap()), "71.43");
        assert_eq!(Stats::default().pass_rate(), None);
        assert_eq!(s.failing(), 2);
    }
}
