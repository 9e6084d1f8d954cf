//! What a dry run would write and delete, and what `usage` found, as data.

/// A `publish --dry-run`: the steps a publish would carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishPlan {
    pub steps: Vec<super::publish_plan::Step>,
    /// Objects and bytes the deletion of dropped runs would free.
    pub freed: (u64, u64),
    pub run_url: String,
    pub latest_url: String,
    pub runs_index_url: String,
}

impl PublishPlan {
    /// The runs the manifest would no longer list.
    pub fn dropped(&self) -> Vec<String> {
        self.steps
            .iter()
            .find_map(|s| match s {
                super::publish_plan::Step::Manifest { dropped, .. } => Some(dropped.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }
}

/// One branch of a `prune` plan, as printed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PruneLine {
    pub project: String,
    pub branch: String,
    pub action: PruneAction,
    /// Why, in words: the reasons and the run ids.
    pub detail: String,
    pub runs: usize,
    pub kept: usize,
    pub objects: usize,
    pub bytes: u64,
}

/// What prune does to a branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PruneAction {
    /// The whole branch goes (closed, or every run expired).
    #[serde(rename = "remove branch")]
    RemoveBranch,
    /// Some of its runs go; the branch stays.
    #[serde(rename = "drop runs")]
    DropRuns,
}

impl PruneAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PruneAction::RemoveBranch => "remove branch",
            PruneAction::DropRuns => "drop runs",
        }
    }
}

/// Padded as the plan's column asks.
impl std::fmt::Display for PruneAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Storage of one branch, for `usage`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UsageLine {
    pub project: String,
    pub branch: String,
    pub runs: usize,
    pub files: usize,
    pub bytes: u64,
    /// Epoch seconds of the oldest and newest listed run.
    pub oldest: Option<i64>,
    pub newest: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prune_action_reads_the_same_in_the_table_and_in_json() {
        assert_eq!(
            format!("[{:<13}]", PruneAction::DropRuns),
            "[drop runs    ]"
        );
        assert_eq!(
            serde_json::to_string(&PruneAction::RemoveBranch).unwrap(),
            "\"remove branch\""
        );
    }
}
