//! Small documents that move between publishes: the latest pointer, the build
//! counter, and the project's list of branches.

use serde::{Deserialize, Serialize};

use super::stats::Stats;

/// `latest.json`: which run readers of the branch see. Field names match
/// pytest-allure-host's pointer, plus the build order that guards it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatestPointer {
    pub run_id: String,
    #[serde(default)]
    pub run_url: String,
    #[serde(default)]
    pub latest_url: String,
    #[serde(default)]
    pub project: String,
    #[serde(default)]
    pub branch: String,
    /// Absent in pointers written by other tools: any numbered run wins.
    #[serde(default)]
    pub build_order: u64,
    #[serde(default)]
    pub time: i64,
}

impl LatestPointer {
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
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

    /// Record `entry` as the branch's newest run unless a newer one is there.
    /// Returns false when nothing changed.
    pub fn upsert(&mut self, entry: BranchEntry, now: i64) -> bool {
        match self
            .branches
            .iter_mut()
            .find(|b| b.segment == entry.segment)
        {
            Some(existing) if existing.build_order >= entry.build_order => return false,
            Some(existing) => *existing = entry,
            None => self.branches.push(entry),
        }
        self.branches.sort_by(|a, b| a.branch.cmp(&b.branch));
        self.revision += 1;
        self.updated = now;
        true
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
    fn pointer_from_another_tool_reads_with_build_order_zero() {
        let p = LatestPointer::parse(br#"{"run_id":"20240101-000000","run_url":"u","latest_url":"l","project":"p","branch":"b"}"#).unwrap();
        assert_eq!(p.build_order, 0);
    }
}
