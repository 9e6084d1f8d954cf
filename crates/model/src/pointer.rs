//! Small documents that move between publishes: the latest pointer, the build
//! counter, and the project's list of branches.

use serde::{Deserialize, Serialize};

use super::lenient::null_as_default;
use super::manifest::Manifest;
use super::stats::Stats;

/// `latest.json` (of a branch, or of one matrix leg): which run readers see.
/// Field names match pytest-allure-host's pointer, plus the build order that
/// guards it. Its `null` URLs (written without `--cloudfront`) read as empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatestPointer {
    pub run_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub run_url: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub latest_url: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub project: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub branch: String,
    /// Absent in pointers written by other tools: any numbered run wins.
    #[serde(default, deserialize_with = "null_as_default")]
    pub build_order: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub time: i64,
    /// The matrix leg, on a leg's pointer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl LatestPointer {
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
    /// Written by another tool (or by hand): no build order guards it.
    pub fn is_foreign(&self) -> bool {
        self.build_order == 0
    }
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("pointer serialises")
    }
}

/// `runs/build-order.json`: the last build number handed out on the branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BuildCounter {
    pub last: u64,
}

impl BuildCounter {
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("counter serialises")
    }
}

/// `<project>/index.json`: one row per branch, for the project page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectIndex {
    pub schema: u32,
    pub project: String,
    #[serde(default)]
    pub revision: u64,
    #[serde(default)]
    pub updated: i64,
    #[serde(default)]
    pub branches: Vec<BranchEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchEntry {
    pub branch: String,
    /// Key segment of the branch, for relative links.
    pub segment: String,
    pub run_id: String,
    pub build_order: u64,
    pub time: i64,
    #[serde(flatten)]
    pub stats: Stats,
    /// Pass rates (percent, one decimal) of the branch's recent runs,
    /// oldest first, for the project page's sparkline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent: Vec<f64>,
    /// Runs the branch lists.
    #[serde(default, deserialize_with = "null_as_default")]
    pub runs: u64,
}

/// A row of pytest-allure-host's `branches/index.json`.
#[derive(Deserialize)]
struct LegacyBranch {
    branch: String,
    #[serde(default, deserialize_with = "null_as_default")]
    latest_run_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    time: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    total_runs: u64,
    #[serde(flatten)]
    stats: Stats,
}

#[derive(Deserialize)]
struct LegacyBranches {
    #[serde(default, deserialize_with = "null_as_default")]
    branches: Vec<LegacyBranch>,
}

/// Runs the project page's sparkline shows per branch.
const SPARKLINE_RUNS: usize = 20;

impl BranchEntry {
    /// Pass rates of the newest runs `manifest` lists, oldest first.
    pub fn recent_of(manifest: &Manifest) -> Vec<f64> {
        manifest
            .runs
            .iter()
            .take(SPARKLINE_RUNS)
            .rev()
            .filter_map(|r| r.stats.pass_rate())
            .map(|r| (r * 10.0).round() / 10.0)
            .collect()
    }

    /// Rows of pytest-allure-host's branch list. Its branch folders are the
    /// raw names (`feat/x` is two folders), so the raw name is the link.
    pub fn from_legacy_list(bytes: &[u8]) -> Vec<BranchEntry> {
        let Ok(list) = serde_json::from_slice::<LegacyBranches>(bytes) else {
            return Vec::new();
        };
        list.branches
            .into_iter()
            .filter(|b| !b.branch.is_empty() && !b.latest_run_id.is_empty())
            .map(|b| {
                let mut stats = b.stats;
                if stats.total == 0 {
                    stats.total = [stats.failed, stats.broken, stats.skipped]
                        .into_iter()
                        .fold(stats.passed, u64::saturating_add);
                }
                BranchEntry {
                    segment: b.branch.clone(),
                    branch: b.branch,
                    run_id: b.latest_run_id,
                    build_order: 0,
                    time: b.time,
                    stats,
                    recent: Vec::new(),
                    runs: b.total_runs,
                }
            })
            .collect()
    }
}

impl ProjectIndex {
    pub fn empty(project: &str) -> Self {
        Self {
            schema: 1,
            project: project.to_string(),
            revision: 0,
            updated: 0,
            branches: Vec::new(),
        }
    }
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("project index serialises")
    }

    /// A new index that starts from another tool's branch list.
    pub fn seeded(project: &str, rows: Vec<BranchEntry>) -> Self {
        let mut index = Self::empty(project);
        for row in rows {
            index.upsert(row, 0);
        }
        index.revision = 0;
        index
    }

    /// Record `entry` as the branch's newest run unless a newer one is there.
    /// Returns false when nothing changed.
    pub fn upsert(&mut self, entry: BranchEntry, now: i64) -> bool {
        match self
            .branches
            .iter_mut()
            .find(|b| b.segment == entry.segment)
        {
            Some(existing)
                if existing.build_order >= entry.build_order && existing.build_order > 0 =>
            {
                return false;
            }
            Some(existing) => *existing = entry,
            None => self.branches.push(entry),
        }
        self.branches.sort_by(|a, b| a.branch.cmp(&b.branch));
        self.touch(now);
        true
    }

    /// Drop the row of the branch whose folder is `segment`.
    pub fn remove(&mut self, segment: &str, now: i64) -> bool {
        let before = self.branches.len();
        self.branches.retain(|b| b.segment != segment);
        let changed = self.branches.len() != before;
        if changed {
            self.touch(now);
        }
        changed
    }

    /// After runs were removed from a branch: its run count and sparkline
    /// follow `manifest`, and its newest run when that one went.
    pub fn refresh(&mut self, segment: &str, manifest: &Manifest, now: i64) -> bool {
        let Some(row) = self.branches.iter_mut().find(|b| b.segment == segment) else {
            return false;
        };
        // A row newer than every run `manifest` lists was recorded after
        // that manifest was written (a publish raced the prune): the row is
        // the fresher of the two, and stays.
        if row.build_order > manifest.max_build_order() {
            return false;
        }
        let (runs, recent) = (manifest.runs.len() as u64, BranchEntry::recent_of(manifest));
        let newest = manifest.runs.first();
        let newest_went = !manifest.runs.iter().any(|r| r.run_id == row.run_id);
        if row.runs == runs && row.recent == recent && !newest_went {
            return false;
        }
        row.runs = runs;
        row.recent = recent;
        if newest_went && let Some(n) = newest {
            row.run_id = n.run_id.clone();
            row.build_order = n.build_order.unwrap_or(0);
            row.time = n.time;
            row.stats = n.stats;
        }
        self.touch(now);
        true
    }

    fn touch(&mut self, now: i64) {
        self.revision += 1;
        self.updated = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(name: &str, order: u64) -> BranchEntry {
        BranchEntry {
            branch: name.into(),
            segment: name.into(),
            run_id: format!("run{order}"),
            build_order: order,
            time: 0,
            stats: Stats {
                passed: 1,
                total: 1,
                ..Stats::default()
            },
            recent: Vec::new(),
            runs: 1,
        }
    }

    #[test]
    fn project_index_keeps_the_newest_run_per_branch() {
        let mut p = ProjectIndex::empty("shop");
        assert!(p.upsert(branch("main", 2), 1));
        assert!(p.upsert(branch("dev", 1), 2));
        assert!(!p.upsert(branch("main", 1), 3), "older run ignored");
        assert!(p.upsert(branch("main", 3), 4));
        assert_eq!(p.revision, 3);
        let names: Vec<_> = p.branches.iter().map(|b| b.branch.as_str()).collect();
        assert_eq!(names, ["dev", "main"]);
        assert_eq!(p.branches[1].run_id, "run3");
    }

    #[test]
    fn a_refresh_from_an_older_manifest_keeps_a_newer_row() {
        let mut p = ProjectIndex::empty("shop");
        p.upsert(branch("main", 4), 1);
        let mut older = Manifest::empty("shop", "main");
        older.runs = vec![crate::manifest::RunEntry {
            build_order: Some(3),
            ..crate::manifest::RunEntry::example("run3")
        }];
        assert!(!p.refresh("main", &older, 2), "a publish raced the prune");
        assert_eq!((p.branches[0].run_id.as_str(), p.revision), ("run4", 1));
        // Once the row's run is gone from a manifest at least as new, the
        // row follows that manifest's newest run.
        older.runs[0].build_order = Some(5);
        assert!(p.refresh("main", &older, 3));
        assert_eq!(p.branches[0].run_id, "run3");
    }

    #[test]
    fn pytest_allure_host_null_urls_read_as_empty() {
        let p = LatestPointer::parse(
            br#"{"run_id":"20240102-000000","run_url":null,"latest_url":null,"project":"shop","branch":"main"}"#,
        )
        .unwrap();
        assert_eq!((p.run_url.as_str(), p.latest_url.as_str()), ("", ""));
        assert!(p.is_foreign());
        assert!(LatestPointer::parse(b"{\"run_id\": nul").is_err());
    }

    #[test]
    fn pytest_allure_host_branch_list_seeds_the_project_index() {
        let text = br#"{"schema":1,"project":"shop","branches":[
          {"branch":"main","latest_run_id":"20240102-000000","time":5,"passed":5,"failed":1,
           "broken":1,"total_runs":2,"latest_url":"./main/latest/"},
          {"branch":"feat/x","latest_run_id":"20240101-000000","time":4,"passed":null}]}"#;
        let rows = BranchEntry::from_legacy_list(text);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].stats.total, rows[1].segment.as_str()),
            (7, "feat/x")
        );
        let mut index = ProjectIndex::seeded("shop", rows);
        assert_eq!(index.branches.len(), 2);
        assert!(
            index.upsert(branch("main", 1), 9),
            "any run of ours replaces its row"
        );
        assert!(BranchEntry::from_legacy_list(b"not json").is_empty());
    }

    #[test]
    fn a_branch_list_with_counts_at_the_edge_of_u64_reads_without_overflow() {
        // Its total is the sum of counts another tool wrote (a panic in
        // debug builds, a wrapped total in release).
        let text = br#"{"branches":[{"branch":"main","latest_run_id":"r",
          "passed":18446744073709551615,"failed":1}]}"#;
        let rows = BranchEntry::from_legacy_list(text);
        assert_eq!(rows[0].stats.total, u64::MAX);
    }

    #[test]
    fn pointer_from_another_tool_reads_with_build_order_zero() {
        let p = LatestPointer::parse(br#"{"run_id":"20240101-000000","run_url":"u","latest_url":"l","project":"p","branch":"b"}"#).unwrap();
        assert_eq!(p.build_order, 0);
    }
}
