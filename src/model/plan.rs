//! What a `publish --dry-run` would write and delete, as data.

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    pub verb: &'static str,
    pub what: &'static str,
    pub objects: u64,
    /// Shown for the run and for retention, where size matters.
    pub bytes: Option<u64>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishPlan {
    pub lines: Vec<PlanLine>,
    pub run_url: String,
    pub latest_url: String,
    pub runs_index_url: String,
}

/// One branch of a `prune` plan, as printed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PruneLine {
    pub project: String,
    pub branch: String,
    /// "remove branch" or "drop runs".
    pub action: String,
    /// Why, in words: the reasons and the run ids.
    pub detail: String,
    pub runs: usize,
    pub kept: usize,
    pub objects: usize,
    pub bytes: u64,
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
