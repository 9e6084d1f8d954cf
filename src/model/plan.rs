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
