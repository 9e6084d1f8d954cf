//! The branch manifest `runs/index.json`, schema 1.
//!
//! Readable by pytest-allure-host users: the same top-level keys and run keys
//! (meta keys flattened into each run), plus fields it does not know, which
//! readers ignore. Unknown keys found in a manifest are kept on rewrite.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::engine::Engine;
use super::lenient::null_as_default;
use super::retention::{self, Dropped, Rules};
use super::stats::Stats;

pub const SCHEMA: u32 = 1;

/// Run keys owned by the schema; `--meta` may not use them.
pub const RESERVED_KEYS: &[&str] = &[
    "run_id",
    "time",
    "size",
    "files",
    "project",
    "branch",
    "run_url",
    "context_url",
    "passed",
    "failed",
    "broken",
    "skipped",
    "unknown",
    "total",
    "duration_ms",
    "build_order",
    "commit",
    "variant",
    "job",
    "expires",
    "allure",
    "quality_gate_failed",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub project: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub branch: String,
    /// Epoch seconds of the last change.
    #[serde(default, deserialize_with = "null_as_default")]
    pub updated: i64,
    /// Bumped on every change; pages derived from the manifest carry it so an
    /// older page never replaces a newer one.
    #[serde(default, deserialize_with = "null_as_default")]
    pub revision: u64,
    /// Newest first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub runs: Vec<RunEntry>,
    /// Epoch seconds after which the whole branch is removed (its pull
    /// request closed, reports kept `keep-days`). A new run clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_after: Option<i64>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEntry {
    pub run_id: String,
    /// Epoch seconds when the run was published.
    #[serde(default, deserialize_with = "null_as_default")]
    pub time: i64,
    /// Report size in bytes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub size: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub files: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub project: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub branch: String,
    /// Absent or null in pytest-allure-host's entries without `--cloudfront`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub run_url: String,
    #[serde(default)]
    pub context_url: Option<String>,
    /// Counts absent from another writer's entry read as 0.
    #[serde(flatten)]
    pub stats: Stats,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_order: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The CI matrix leg this run came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The CI job that published the run (GitHub's job id): with the leg, it
    /// names the trend the run continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Epoch seconds from which S3 may remove the run's files (`ttl-days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<i64>,
    /// The Allure that generated the report; absent means 2.
    #[serde(default, skip_serializing_if = "Engine::is_allure2")]
    pub allure: Engine,
    /// Allure 3's quality gate failed (absent: passed, or none ran).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quality_gate_failed: bool,
    /// `--meta` keys, and any key another writer added.
    #[serde(flatten)]
    pub meta: BTreeMap<String, Value>,
}

impl RunEntry {
    /// Newest-first order: build order, then publish time, then id. Runs from
    /// writers that knew no build order sort by time below numbered runs.
    fn order_key(&self) -> (u64, i64, &str) {
        (self.build_order.unwrap_or(0), self.time, &self.run_id)
    }

    /// Meta values as display strings, for pages.
    pub fn meta_strings(&self) -> Vec<(String, String)> {
        self.meta
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect()
    }
}

impl RunEntry {
    /// A run with every optional field empty, for tests (here and in the
    /// crates above) to adjust.
    #[doc(hidden)]
    pub fn example(id: &str) -> Self {
        Self {
            run_id: id.into(),
            time: 0,
            size: 0,
            files: 0,
            project: "p".into(),
            branch: "b".into(),
            run_url: String::new(),
            context_url: None,
            stats: Stats::default(),
            duration_ms: None,
            build_order: None,
            commit: None,
            variant: None,
            job: None,
            expires: None,
            allure: Engine::Allure2,
            quality_gate_failed: false,
            meta: BTreeMap::new(),
        }
    }

    /// Failed or broken tests, or a failed quality gate.
    pub fn red(&self) -> bool {
        self.stats.failing() > 0 || self.quality_gate_failed
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("run id {0:?} is already in the manifest")]
    Duplicate(String),
    #[error(
        "the manifest has schema {0}, which this version does not understand; upgrade allure-host"
    )]
    Schema(u32),
}

impl Manifest {
    pub fn empty(project: &str, branch: &str) -> Self {
        Self {
            schema: SCHEMA,
            project: project.to_string(),
            branch: branch.to_string(),
            updated: 0,
            revision: 0,
            runs: Vec::new(),
            remove_after: None,
            extra: BTreeMap::new(),
        }
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        let m: Manifest = serde_json::from_slice(bytes)?;
        if m.schema != SCHEMA {
            return Err(ManifestError::Schema(m.schema));
        }
        Ok(m)
    }

    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain data into memory cannot fail.
        serde_json::to_vec_pretty(self).expect("manifest serialises")
    }

    pub fn contains(&self, run_id: &str) -> bool {
        self.runs.iter().any(|r| r.run_id == run_id)
    }

    pub fn max_build_order(&self) -> u64 {
        self.runs
            .iter()
            .filter_map(|r| r.build_order)
            .max()
            .unwrap_or(0)
    }

    /// Add a run, then drop what `rules` drop at `now` (see
    /// `retention::select`; `gone` names runs whose folder is missing).
    /// Returns the runs dropped. A new run keeps the branch alive.
    pub fn add_run(
        &mut self,
        entry: RunEntry,
        rules: &Rules,
        now: i64,
        gone: &BTreeSet<String>,
    ) -> Result<Vec<RunEntry>, ManifestError> {
        if self.contains(&entry.run_id) {
            return Err(ManifestError::Duplicate(entry.run_id));
        }
        self.runs.push(entry);
        self.runs.sort_by(|a, b| b.order_key().cmp(&a.order_key()));
        self.remove_after = None;
        let dropped = retention::select(self, rules, now, gone);
        let pruned = self.take_runs(&dropped);
        self.touch(now);
        Ok(pruned)
    }

    /// The runs that `add_run` would drop, without changing anything (for plans).
    pub fn would_prune(
        &self,
        entry: &RunEntry,
        rules: &Rules,
        now: i64,
        gone: &BTreeSet<String>,
    ) -> Vec<RunEntry> {
        let mut copy = self.clone();
        copy.add_run(entry.clone(), rules, now, gone)
            .unwrap_or_default()
    }

    /// Stop listing the `dropped` runs still listed; returns them. Changes
    /// the revision only when something was removed.
    pub fn remove_runs(&mut self, dropped: &[Dropped], now: i64) -> Vec<RunEntry> {
        let removed = self.take_runs(dropped);
        if !removed.is_empty() {
            self.touch(now);
        }
        removed
    }

    /// Mark the whole branch for removal after `at` (None: keep it).
    pub fn set_remove_after(&mut self, at: Option<i64>, now: i64) {
        if self.remove_after != at {
            self.remove_after = at;
            self.touch(now);
        }
    }

    fn take_runs(&mut self, dropped: &[Dropped]) -> Vec<RunEntry> {
        let ids: BTreeSet<&str> = dropped.iter().map(|d| d.run_id.as_str()).collect();
        let (gone, kept) = std::mem::take(&mut self.runs)
            .into_iter()
            .partition(|r| ids.contains(r.run_id.as_str()));
        self.runs = kept;
        gone
    }

    fn touch(&mut self, now: i64) {
        self.revision += 1;
        self.updated = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> BTreeSet<String> {
        BTreeSet::new()
    }

    fn keep(n: u32) -> Rules {
        Rules {
            keep: Some(n),
            ..Rules::default()
        }
    }

    fn entry(id: &str, order: u64, time: i64) -> RunEntry {
        RunEntry {
            time,
            size: 10,
            files: 2,
            run_url: format!("https://x/{id}/index.html"),
            stats: Stats {
                passed: 1,
                total: 1,
                ..Stats::default()
            },
            duration_ms: Some(5),
            build_order: Some(order),
            ..RunEntry::example(id)
        }
    }

    #[test]
    fn reads_a_pytest_allure_host_manifest_and_keeps_its_keys() {
        let text = r#"{"schema":1,"project":"payments","branch":"main","updated":1700000000,
          "runs":[{"run_id":"20240101-101010","time":1700000000,"size":1234,"files":40,
          "project":"payments","branch":"main","run_url":"https://r/x/index.html",
          "context_url":null,"passed":3,"failed":1,"broken":0,"team":"core"}]}"#;
        let mut m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.runs[0].meta["team"], "core");
        assert_eq!(m.runs[0].meta.len(), 1, "counts are not meta keys");
        assert_eq!((m.runs[0].stats.passed, m.runs[0].stats.failed), (3, 1));
        assert_eq!(m.max_build_order(), 0);
        m.add_run(
            entry("new", 1, 1700000100),
            &Rules::default(),
            1700000100,
            &none(),
        )
        .unwrap();
        assert_eq!(m.runs[0].run_id, "new", "numbered runs sort first");
        let back: Value = serde_json::from_slice(&m.to_json()).unwrap();
        assert_eq!(back["runs"][1]["team"], "core");
        assert_eq!(back["runs"][1]["size"], 1234);
        assert!(back["runs"][1].get("build_order").is_none());
        assert_eq!(back["runs"][0]["build_order"], 1);
        assert_eq!(back["schema"], 1);
    }

    #[test]
    fn add_keeps_newest_first_and_prunes_the_oldest() {
        let mut m = Manifest::empty("p", "b");
        for i in 1..=5 {
            let pruned = m
                .add_run(entry(&format!("r{i}"), i, i as i64), &keep(3), 9, &none())
                .unwrap();
            assert_eq!(pruned.len(), usize::from(i > 3));
        }
        let ids: Vec<_> = m.runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["r5", "r4", "r3"]);
        assert_eq!(m.revision, 5);
        let pruned = m.add_run(entry("r6", 6, 6), &keep(3), 10, &none()).unwrap();
        assert_eq!(pruned.len(), 1);
        assert_eq!(pruned[0].run_id, "r3");
    }

    #[test]
    fn a_late_run_with_a_lower_build_order_sorts_below() {
        let mut m = Manifest::empty("p", "b");
        m.add_run(entry("b", 2, 100), &Rules::default(), 1, &none())
            .unwrap();
        m.add_run(entry("a", 1, 200), &Rules::default(), 2, &none())
            .unwrap();
        assert_eq!(m.runs[0].run_id, "b");
    }

    #[test]
    fn duplicates_are_refused_without_change() {
        let mut m = Manifest::empty("p", "b");
        m.add_run(entry("x", 1, 1), &Rules::default(), 1, &none())
            .unwrap();
        let before = m.clone();
        assert!(matches!(
            m.add_run(entry("x", 2, 2), &Rules::default(), 2, &none()),
            Err(ManifestError::Duplicate(id)) if id == "x"
        ));
        assert_eq!(m, before);
    }

    #[test]
    fn would_prune_matches_add() {
        let mut m = Manifest::empty("p", "b");
        for i in 1..=4 {
            m.add_run(entry(&format!("r{i}"), i, 0), &Rules::default(), 0, &none())
                .unwrap();
        }
        let e = entry("r5", 5, 0);
        let planned = m.would_prune(&e, &keep(2), 0, &none());
        assert_eq!(m.runs.len(), 4, "plan changes nothing");
        assert_eq!(m.add_run(e, &keep(2), 0, &none()).unwrap(), planned);
    }

    #[test]
    fn null_and_missing_fields_of_other_writers_read_as_empty() {
        let text = r#"{"schema":1,"project":null,"branch":"main","updated":null,"runs":[
          {"run_id":"20240101-000000","time":null,"size":null,"run_url":null,
           "context_url":null,"passed":null,"failed":2}]}"#;
        let m = Manifest::parse(text.as_bytes()).unwrap();
        let r = &m.runs[0];
        assert_eq!((r.time, r.size, r.run_url.as_str()), (0, 0, ""));
        assert_eq!((r.stats.passed, r.stats.failed), (0, 2));
        assert!(r.meta.is_empty(), "nulls are not meta keys: {:?}", r.meta);
    }

    #[test]
    fn unknown_schema_is_refused() {
        assert!(Manifest::parse(br#"{"schema":2,"runs":[]}"#).is_err());
    }

    #[test]
    fn numbers_of_other_writers_survive_a_round_trip() {
        // An integer too large for u64 is read as a float; it must come back
        // as the same float, not one a rounding step away.
        let text = br#"{"schema":1,"bra":17969200000024226771611008584,
          "runs":[{"run_id":"r","stat":1796401792233.7203685477580764}]}"#;
        let m = Manifest::parse(text).unwrap();
        assert_eq!(Manifest::parse(&m.to_json()).unwrap(), m);
    }
}
