//! Which runs a branch stops listing: by count, by age, because their
//! `ttl-days` expiry passed, or because their folder is already gone.
//!
//! The newest run of each trend line (job and matrix leg) is never dropped
//! by count or age: it is what the latest pages show and what the line's
//! next run takes its history from. Expired and gone runs are dropped
//! whatever their place, since a reader could no longer open them.

use std::collections::BTreeSet;

use serde::Serialize;

use super::manifest::{Manifest, RunEntry};
use super::time::DAY_SECS;

/// What a branch keeps. Empty rules drop only expired and gone runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    /// Runs kept per branch (newest first), besides each line's newest.
    pub keep: Option<u32>,
    /// Runs published longer ago than this are dropped.
    pub max_age_days: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// Beyond the runs kept per branch.
    Count,
    /// Older than the maximum age.
    Age,
    /// Its `ttl-days` expiry passed: S3 removes (or removed) its files.
    Expired,
    /// Its folder is gone from the store.
    Gone,
    /// The whole branch goes.
    Branch,
}

impl Reason {
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Count => "beyond --keep",
            Reason::Age => "older than --max-age-days",
            Reason::Expired => "ttl-days expired",
            Reason::Gone => "files already gone",
            Reason::Branch => "branch removed",
        }
    }
}

/// A run the manifest stops listing, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dropped {
    pub run_id: String,
    pub reason: Reason,
}

/// The runs of `manifest` that `rules` drop at `now`. `gone` names runs
/// whose folder a listing no longer found.
pub fn select(
    manifest: &Manifest,
    rules: &Rules,
    now: i64,
    gone: &BTreeSet<String>,
) -> Vec<Dropped> {
    let protected = line_heads(&manifest.runs);
    let oldest_kept = rules.max_age_days.map(|d| now - i64::from(d) * DAY_SECS);
    let mut kept = 0u32;
    let mut out = Vec::new();
    for (i, run) in manifest.runs.iter().enumerate() {
        let reason = if gone.contains(&run.run_id) {
            Some(Reason::Gone)
        } else if run.expires.is_some_and(|at| at <= now) {
            Some(Reason::Expired)
        } else if protected.contains(&i) {
            None
        } else if oldest_kept.is_some_and(|t| run.time < t) {
            Some(Reason::Age)
        } else if rules.keep.is_some_and(|n| kept >= n) {
            Some(Reason::Count)
        } else {
            None
        };
        match reason {
            Some(reason) => out.push(Dropped {
                run_id: run.run_id.clone(),
                reason,
            }),
            None => kept += 1,
        }
    }
    out
}

/// Every run, for a branch that goes as a whole.
pub fn all(manifest: &Manifest) -> Vec<Dropped> {
    manifest
        .runs
        .iter()
        .map(|r| Dropped {
            run_id: r.run_id.clone(),
            reason: Reason::Branch,
        })
        .collect()
}

/// Indexes of the newest run of each (job, leg), in a newest-first list.
fn line_heads(runs: &[RunEntry]) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    runs.iter()
        .enumerate()
        .filter(|(_, r)| seen.insert((r.job.clone(), r.variant.clone())))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 100 * DAY_SECS;

    fn run(id: &str, days_ago: i64) -> RunEntry {
        RunEntry {
            time: NOW - days_ago * DAY_SECS,
            ..RunEntry::example(id)
        }
    }

    fn manifest(runs: Vec<RunEntry>) -> Manifest {
        let mut m = Manifest::empty("p", "b");
        m.runs = runs;
        m
    }

    fn ids(d: &[Dropped]) -> Vec<(&str, Reason)> {
        d.iter().map(|d| (d.run_id.as_str(), d.reason)).collect()
    }

    #[test]
    fn count_keeps_the_newest() {
        let m = manifest((0..5).map(|i| run(&format!("r{i}"), i)).collect());
        let rules = Rules {
            keep: Some(2),
            ..Rules::default()
        };
        let d = select(&m, &rules, NOW, &BTreeSet::new());
        assert_eq!(
            ids(&d),
            [
                ("r2", Reason::Count),
                ("r3", Reason::Count),
                ("r4", Reason::Count)
            ]
        );
    }

    #[test]
    fn age_never_drops_the_newest_run() {
        let m = manifest(vec![run("new", 40), run("old", 50)]);
        let rules = Rules {
            max_age_days: Some(30),
            ..Rules::default()
        };
        let d = select(&m, &rules, NOW, &BTreeSet::new());
        assert_eq!(ids(&d), [("old", Reason::Age)]);
    }

    #[test]
    fn each_legs_newest_run_survives_count_and_age() {
        let leg = |id: &str, v: &str, days| RunEntry {
            variant: Some(v.into()),
            ..run(id, days)
        };
        let m = manifest(vec![
            leg("4a", "a", 1),
            leg("3a", "a", 2),
            leg("2a", "a", 3),
            leg("1b", "b", 90),
        ]);
        let rules = Rules {
            keep: Some(1),
            max_age_days: Some(30),
        };
        let d = select(&m, &rules, NOW, &BTreeSet::new());
        assert_eq!(ids(&d), [("3a", Reason::Count), ("2a", Reason::Count)]);
    }

    #[test]
    fn expired_and_gone_runs_go_even_when_newest() {
        let mut newest = run("new", 0);
        newest.expires = Some(NOW - 1);
        let m = manifest(vec![newest, run("mid", 1), run("old", 2)]);
        let gone = BTreeSet::from(["old".to_string()]);
        let d = select(&m, &Rules::default(), NOW, &gone);
        assert_eq!(ids(&d), [("new", Reason::Expired), ("old", Reason::Gone)]);
    }

    #[test]
    fn a_future_expiry_keeps_the_run() {
        let mut r = run("r", 0);
        r.expires = Some(NOW + 1);
        let d = select(&manifest(vec![r]), &Rules::default(), NOW, &BTreeSet::new());
        assert!(d.is_empty());
    }

    #[test]
    fn a_whole_branch_lists_every_run() {
        let m = manifest(vec![run("a", 0), run("b", 1)]);
        assert_eq!(
            ids(&all(&m)),
            [("a", Reason::Branch), ("b", Reason::Branch)]
        );
    }
}
