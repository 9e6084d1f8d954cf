//! What the runner tells a container action through the environment: the
//! `GITHUB_*` variables, and the action's own inputs, which action.yml maps
//! to `ALLURE_*` variables. The publish settings themselves come from the
//! same `ALLURE_*` variables through `settings`, exactly as for the CLI.

use std::path::PathBuf;

use serde::Deserialize;

use crate::model::changes::Changes;
use crate::model::quality_gate::QualityGate;
use crate::model::stats::Stats;
use crate::settings::layer::{KEYS, lookup, read_allure_vars};

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("fail-on {0:?} is not valid; use none, failed, broken, quality-gate or new-failures")]
    FailOn(String),
    #[error("action inputs: {0}; fix the input in the workflow")]
    Inputs(String),
    #[error("GITHUB_REPOSITORY is not set to OWNER/NAME; run this inside GitHub Actions")]
    NoRepository,
    #[error("mode {0:?} is not valid; use publish or cleanup")]
    Mode(String),
}

/// `fail-on`: when the step fails after publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    #[default]
    None,
    /// Any failed test.
    Failed,
    /// Any failed or broken test.
    Broken,
    /// Allure 3's quality gate failed (its rules in allurerc).
    QualityGate,
    /// A test fails that did not fail on the base branch and is not known
    /// flaky there.
    NewFailures,
}

impl FailOn {
    pub fn parse(v: &str) -> Result<Self, ContextError> {
        match v.trim().to_ascii_lowercase().as_str() {
            "" | "none" => Ok(Self::None),
            "failed" => Ok(Self::Failed),
            "broken" => Ok(Self::Broken),
            "quality-gate" => Ok(Self::QualityGate),
            "new-failures" => Ok(Self::NewFailures),
            other => Err(ContextError::FailOn(other.to_string())),
        }
    }

    /// True when this run must fail the step. What could not be judged is
    /// not a pass: `quality-gate` without a gate trips, and `new-failures`
    /// without a base to compare with counts every failing test as new.
    pub fn trips(
        self,
        stats: &Stats,
        gate: Option<&QualityGate>,
        changes: Option<&Changes>,
    ) -> bool {
        match self {
            Self::NewFailures => match changes {
                Some(c) => c.new_failures_not_flaky > 0,
                None => stats.failing() > 0,
            },
            Self::None => false,
            Self::Failed => stats.failed > 0,
            Self::Broken => stats.failing() > 0,
            Self::QualityGate => gate.is_none_or(|g| !g.passed()),
        }
    }
}

/// The action-only inputs (the publish inputs are read by `settings`).
#[derive(Debug, Default, Deserialize)]
struct RawInputs {
    artifact_name: Option<String>,
    role_to_assume: Option<String>,
    role_session_name: Option<String>,
    github_token: Option<String>,
    pr_comment: Option<bool>,
    check_run: Option<bool>,
    fail_on: Option<String>,
    summary: Option<bool>,
    max_artifact_bytes: Option<u64>,
    max_artifact_entries: Option<u64>,
    mode: Option<String>,
    keep_days: Option<u32>,
}

/// `mode`: what the step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActionMode {
    #[default]
    Publish,
    /// Remove the reports of the branch the event closed or deleted, and
    /// the branches whose kept days are over.
    Cleanup,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionInputs {
    /// Artifact name or glob; None: the results are already in the workspace.
    pub artifact_name: Option<String>,
    pub role_to_assume: Option<String>,
    pub role_session_name: Option<String>,
    pub github_token: Option<String>,
    pub pr_comment: bool,
    /// A check run per project, job and leg on the commit.
    pub check_run: bool,
    pub fail_on: FailOn,
    pub summary: bool,
    /// Cap on the bytes extracted from all artifacts together.
    pub max_artifact_bytes: u64,
    /// Cap on the files and folders extracted from all artifacts together.
    pub max_artifact_entries: u64,
    pub mode: ActionMode,
    /// Cleanup: days a closed branch's reports stay readable (0: removed now).
    pub keep_days: u32,
}

/// 4 GiB: far above any allure-results folder, far below a full disk.
pub const DEFAULT_MAX_ARTIFACT_BYTES: u64 = 4 << 30;
/// 100,000: fifteen times the 6,600 files of a 5,000-test results folder;
/// creating that many empty files takes about 15 s on a small runner, and
/// an archive of more is refused before anything is written.
pub const DEFAULT_MAX_ARTIFACT_ENTRIES: u64 = 100_000;

impl ActionInputs {
    pub fn from_vars(vars: &[(String, String)]) -> Result<Self, ContextError> {
        let raw: RawInputs = read_allure_vars(vars).map_err(ContextError::Inputs)?;
        Ok(Self {
            artifact_name: raw.artifact_name,
            role_to_assume: raw.role_to_assume,
            role_session_name: raw.role_session_name,
            github_token: raw.github_token,
            pr_comment: raw.pr_comment.unwrap_or(true),
            check_run: raw.check_run.unwrap_or(false),
            fail_on: FailOn::parse(raw.fail_on.as_deref().unwrap_or(""))?,
            summary: raw.summary.unwrap_or(true),
            max_artifact_bytes: raw.max_artifact_bytes.unwrap_or(DEFAULT_MAX_ARTIFACT_BYTES),
            max_artifact_entries: raw
                .max_artifact_entries
                .unwrap_or(DEFAULT_MAX_ARTIFACT_ENTRIES),
            mode: match raw.mode.as_deref().map(str::trim).unwrap_or("") {
                "" | "publish" => ActionMode::Publish,
                "cleanup" => ActionMode::Cleanup,
                other => return Err(ContextError::Mode(other.to_string())),
            },
            keep_days: raw.keep_days.unwrap_or(0),
        })
    }
}

/// The inputs of action.yml that only the action reads, and their variables.
/// The publish inputs come from `settings::layer::KEYS`.
const ACTION_INPUTS: &[(&str, &str)] = &[
    ("artifact-name", "ALLURE_ARTIFACT_NAME"),
    ("role-to-assume", "ALLURE_ROLE_TO_ASSUME"),
    ("github-token", "ALLURE_GITHUB_TOKEN"),
    ("pr-comment", "ALLURE_PR_COMMENT"),
    ("check-run", "ALLURE_CHECK_RUN"),
    ("fail-on", "ALLURE_FAIL_ON"),
    ("summary", "ALLURE_SUMMARY"),
    ("mode", "ALLURE_MODE"),
    ("keep-days", "ALLURE_KEEP_DAYS"),
];

/// Each input of action.yml and the variable its `runs.env` sets.
pub fn input_vars() -> Vec<(&'static str, &'static str)> {
    let publish = KEYS.iter().filter_map(|k| Some((k.input?, k.env)));
    publish.chain(ACTION_INPUTS.iter().copied()).collect()
}

/// The runner also hands every input over as `INPUT_<NAME>` (upper case,
/// hyphens kept). Use those where action.yml's variable is absent, so the
/// image works however it is started.
pub fn with_input_fallbacks(vars: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = vars.to_vec();
    for (input, var) in input_vars() {
        let runner_name = format!("INPUT_{}", input.to_ascii_uppercase());
        if lookup(vars, var).is_none()
            && let Some(v) = lookup(vars, &runner_name)
        {
            out.push((var.to_string(), v));
        }
    }
    out
}

/// The runner's `GITHUB_*` and OIDC variables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Runner {
    /// `owner/name`.
    pub repository: Option<String>,
    pub run_id: Option<String>,
    pub api_url: String,
    pub event_name: Option<String>,
    pub event_path: Option<PathBuf>,
    pub git_ref: Option<String>,
    /// `GITHUB_SHA`: on a pull request, the merge commit GitHub made.
    pub sha: Option<String>,
    pub output: Option<PathBuf>,
    pub step_summary: Option<PathBuf>,
    pub workspace: Option<PathBuf>,
    pub id_token_url: Option<String>,
    pub id_token_request_token: Option<String>,
}

impl Runner {
    pub fn from_vars(vars: &[(String, String)]) -> Self {
        let get = |name: &str| lookup(vars, name);
        Self {
            repository: get("GITHUB_REPOSITORY"),
            run_id: get("GITHUB_RUN_ID"),
            api_url: get("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            event_name: get("GITHUB_EVENT_NAME"),
            event_path: get("GITHUB_EVENT_PATH").map(PathBuf::from),
            git_ref: get("GITHUB_REF"),
            sha: get("GITHUB_SHA"),
            output: get("GITHUB_OUTPUT").map(PathBuf::from),
            step_summary: get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            workspace: get("GITHUB_WORKSPACE").map(PathBuf::from),
            id_token_url: get("ACTIONS_ID_TOKEN_REQUEST_URL"),
            id_token_request_token: get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        }
    }

    /// `(owner, name)` of the repository.
    pub fn repo(&self) -> Result<(String, String), ContextError> {
        self.repository
            .as_deref()
            .and_then(|r| r.split_once('/'))
            .map(|(o, n)| (o.to_string(), n.to_string()))
            .ok_or(ContextError::NoRepository)
    }

    /// The branch this event ended: a closed pull request's head branch, or
    /// the branch a `delete` event removed.
    pub fn ended_branch(&self) -> Option<String> {
        let payload = self.payload()?;
        let text = |p: &str| {
            payload
                .pointer(p)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        match self.event_name.as_deref()? {
            "pull_request" | "pull_request_target" if text("/action")? == "closed" => {
                text("/pull_request/head/ref")
            }
            "delete" if text("/ref_type")? == "branch" => text("/ref"),
            _ => None,
        }
    }

    fn payload(&self) -> Option<serde_json::Value> {
        let bytes = std::fs::read(self.event_path.as_ref()?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The commit a check run belongs to: a pull request's head (where
    /// GitHub shows it), the head of the run a `workflow_run` event follows,
    /// else `GITHUB_SHA`.
    pub fn head_sha(&self) -> Option<String> {
        let pointer = match self.event_name.as_deref() {
            Some("workflow_run") => Some("/workflow_run/head_sha"),
            _ => self.pull_request().map(|_| "/pull_request/head/sha"),
        };
        let head = pointer.and_then(|p| self.payload()?.pointer(p)?.as_str().map(str::to_string));
        head.or_else(|| self.sha.clone())
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit()))
    }

    /// The pull request number on `pull_request` events: from the event
    /// payload, else from `refs/pull/<n>/merge`.
    pub fn pull_request(&self) -> Option<u64> {
        let event = self.event_name.as_deref()?;
        if event != "pull_request" && event != "pull_request_target" {
            return None;
        }
        let from_payload = self
            .payload()
            .and_then(|v| v.pointer("/pull_request/number").and_then(|n| n.as_u64()));
        from_payload.or_else(|| {
            self.git_ref
                .as_deref()?
                .strip_prefix("refs/pull/")?
                .split('/')
                .next()?
                .parse()
                .ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::quality_gate::RuleResult;
    use crate::settings::layer::test_vars as vars;

    #[test]
    fn inputs_default_and_parse() {
        let i = ActionInputs::from_vars(&vars(&[("ALLURE_PR_COMMENT", "")])).unwrap();
        assert!(i.pr_comment && i.summary);
        assert_eq!(i.fail_on, FailOn::None);
        let i = ActionInputs::from_vars(&vars(&[
            ("ALLURE_PR_COMMENT", "false"),
            ("ALLURE_FAIL_ON", "Broken"),
            ("ALLURE_ARTIFACT_NAME", "allure-results-*"),
        ]))
        .unwrap();
        assert!(!i.pr_comment);
        assert_eq!(i.fail_on, FailOn::Broken);
        assert_eq!(i.artifact_name.as_deref(), Some("allure-results-*"));
        let err = ActionInputs::from_vars(&vars(&[("ALLURE_FAIL_ON", "sometimes")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("none, failed, broken, quality-gate or new-failures"),
            "{err}"
        );
        let err = ActionInputs::from_vars(&vars(&[("ALLURE_SUMMARY", "maybe")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ALLURE_SUMMARY"), "{err}");
    }

    #[test]
    fn runner_input_variables_fill_in() {
        let v = with_input_fallbacks(&vars(&[
            ("INPUT_ARTIFACT-NAME", "res-*"),
            ("INPUT_BUCKET", "from-input"),
            ("ALLURE_BUCKET", "from-action-yml"),
        ]));
        assert_eq!(lookup(&v, "ALLURE_ARTIFACT_NAME").as_deref(), Some("res-*"));
        assert_eq!(
            lookup(&v, "ALLURE_BUCKET").as_deref(),
            Some("from-action-yml")
        );
    }

    #[test]
    fn the_ended_branch_comes_from_the_event() {
        let dir = tempfile::tempdir().unwrap();
        let runner = |event: &str, payload: &str| {
            let path = dir.path().join(format!("{event}.json"));
            std::fs::write(&path, payload).unwrap();
            Runner::from_vars(&vars(&[
                ("GITHUB_EVENT_NAME", event),
                ("GITHUB_EVENT_PATH", path.to_str().unwrap()),
            ]))
        };
        let closed = r#"{"action":"closed","pull_request":{"number":3,"head":{"ref":"feat/x"}}}"#;
        assert_eq!(
            runner("pull_request", closed).ended_branch().as_deref(),
            Some("feat/x")
        );
        let opened = closed.replace("closed", "synchronize");
        assert_eq!(runner("pull_request", &opened).ended_branch(), None);
        let deleted = r#"{"ref":"old","ref_type":"branch"}"#;
        assert_eq!(
            runner("delete", deleted).ended_branch().as_deref(),
            Some("old")
        );
        let tag = r#"{"ref":"v1","ref_type":"tag"}"#;
        assert_eq!(runner("delete", tag).ended_branch(), None);
        assert_eq!(runner("push", deleted).ended_branch(), None);
        let err = ActionInputs::from_vars(&vars(&[("ALLURE_MODE", "purge")])).unwrap_err();
        assert!(err.to_string().contains("publish or cleanup"));
    }

    #[test]
    fn fail_on_levels() {
        let st = |failed, broken| Stats {
            failed,
            broken,
            ..Stats::default()
        };
        assert!(!FailOn::None.trips(&st(3, 3), None, None));
        assert!(FailOn::Failed.trips(&st(1, 0), None, None));
        assert!(!FailOn::Failed.trips(&st(0, 2), None, None));
        assert!(FailOn::Broken.trips(&st(0, 2), None, None));
        let rule = |success| RuleResult {
            rule: "maxFailures".into(),
            success,
            message: String::new(),
            actual: 0.into(),
            expected: 0.into(),
        };
        let gate = |success| QualityGate::new(vec![rule(success)]);
        assert!(FailOn::QualityGate.trips(&st(0, 0), gate(false).as_ref(), None));
        assert!(!FailOn::QualityGate.trips(&st(5, 0), gate(true).as_ref(), None));
        assert!(FailOn::QualityGate.trips(&st(0, 0), None, None));
        assert_eq!(FailOn::parse("Quality-Gate").unwrap(), FailOn::QualityGate);
        // new-failures: only those not known flaky on the base count; with
        // nothing to compare with, every failing test is new.
        let changes = |not_flaky| crate::model::changes::Changes {
            base_branch: "main".into(),
            base_run: "1".into(),
            new_failures: Default::default(),
            fixed: Default::default(),
            still_failing: Default::default(),
            flaky: Default::default(),
            new_failures_on_base: Vec::new(),
            new_failures_not_flaky: not_flaky,
        };
        assert_eq!(FailOn::parse("new-failures").unwrap(), FailOn::NewFailures);
        assert!(!FailOn::NewFailures.trips(&st(2, 0), None, Some(&changes(0))));
        assert!(FailOn::NewFailures.trips(&st(2, 0), None, Some(&changes(1))));
        assert!(FailOn::NewFailures.trips(&st(1, 0), None, None));
        assert!(!FailOn::NewFailures.trips(&st(0, 0), None, None));
    }

    #[test]
    fn a_check_run_goes_on_the_commit_the_event_is_about() {
        let dir = tempfile::tempdir().unwrap();
        let with = |event: &str, payload: &str| {
            let path = dir.path().join(format!("{event}.json"));
            std::fs::write(&path, payload).unwrap();
            Runner::from_vars(&vars(&[
                ("GITHUB_EVENT_NAME", event),
                ("GITHUB_EVENT_PATH", path.to_str().unwrap()),
                ("GITHUB_SHA", "0000000000000000000000000000000000000001"),
            ]))
            .head_sha()
        };
        let pr = r#"{"pull_request":{"number":3,"head":{"sha":"00000000000000000000000000000000000000aa"}}}"#;
        assert_eq!(
            with("pull_request", pr).unwrap(),
            "00000000000000000000000000000000000000aa"
        );
        let wr = r#"{"workflow_run":{"head_sha":"00000000000000000000000000000000000000bb"}}"#;
        assert_eq!(
            with("workflow_run", wr).unwrap(),
            "00000000000000000000000000000000000000bb"
        );
        assert_eq!(
            with("push", "{}").unwrap(),
            "0000000000000000000000000000000000000001"
        );
        let hostile = r#"{"workflow_run":{"head_sha":"../../x"}}"#;
        assert_eq!(
            with("workflow_run", hostile),
            None,
            "only a hex sha is used"
        );
    }

    #[test]
    fn pull_request_number_from_ref_when_no_payload() {
        let r = Runner::from_vars(&vars(&[
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_REF", "refs/pull/17/merge"),
        ]));
        assert_eq!(r.pull_request(), Some(17));
        let push = Runner::from_vars(&vars(&[
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_REF", "refs/pull/17/merge"),
        ]));
        assert_eq!(push.pull_request(), None);
    }
}
