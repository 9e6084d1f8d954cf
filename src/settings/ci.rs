//! The CI context layer: what the CI system (or git) says about this build.

use super::layer::{Layer, lookup};
use crate::model::variant;

/// The CI system a publish runs in (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ci {
    GitHubActions,
    GitLab,
    Jenkins,
    Local,
}

impl Ci {
    /// The name Allure shows for the executor.
    pub fn name(self) -> &'static str {
        match self {
            Ci::GitHubActions => "GitHub Actions",
            Ci::GitLab => "GitLab CI",
            Ci::Jenkins => "Jenkins",
            Ci::Local => "allure-host",
        }
    }

    /// Allure's executor type, which picks its icon.
    pub fn kind(self) -> &'static str {
        match self {
            Ci::GitHubActions => "github",
            Ci::GitLab => "gitlab",
            Ci::Jenkins => "jenkins",
            Ci::Local => "local",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CiContext {
    pub layer: Layer,
    pub kind: Ci,
    /// Link to the CI build, for executor.json and the runs index.
    pub build_url: Option<String>,
    /// The CI job publishing (GitHub's job id, GitLab's job name): jobs of
    /// one pipeline keep their own trends.
    pub job: Option<String>,
}

/// Derive the context from environment variables, asking `git` (a function
/// that runs `git <args>` and returns trimmed stdout) only outside known CIs.
pub fn detect(vars: &[(String, String)], git: impl Fn(&[&str]) -> Option<String>) -> CiContext {
    let get = |name: &str| lookup(vars, name);
    if get("GITHUB_ACTIONS").as_deref() == Some("true") {
        let repo = get("GITHUB_REPOSITORY");
        let run = get("GITHUB_RUN_ID");
        let attempt = get("GITHUB_RUN_ATTEMPT").unwrap_or_else(|| "1".into());
        let server = get("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
        let job = get("GITHUB_JOB");
        let build_url = match (&repo, &run) {
            (Some(repo), Some(run)) => Some(format!(
                "{server}/{repo}/actions/runs/{run}/attempts/{attempt}"
            )),
            _ => None,
        };
        return CiContext {
            layer: Layer {
                branch: get("GITHUB_HEAD_REF").or_else(|| get("GITHUB_REF_NAME")),
                run_id: run.map(|r| github_run_id(&r, &attempt, job.as_deref())),
                project: repo.and_then(|r| r.rsplit('/').next().map(str::to_string)),
                context_url: build_url.clone(),
                commit: get("GITHUB_SHA"),
                // Set on pull_request events: the branch it merges into.
                compare_to: get("GITHUB_BASE_REF"),
                ..Layer::default()
            },
            kind: Ci::GitHubActions,
            build_url,
            job,
        };
    }
    if get("GITLAB_CI").is_some() {
        let build_url = get("CI_PIPELINE_URL");
        return CiContext {
            layer: Layer {
                branch: get("CI_COMMIT_REF_NAME"),
                project: get("CI_PROJECT_NAME"),
                context_url: build_url.clone(),
                commit: get("CI_COMMIT_SHA"),
                compare_to: get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"),
                ..Layer::default()
            },
            kind: Ci::GitLab,
            build_url,
            job: get("CI_JOB_NAME"),
        };
    }
    // Jenkins and plain shells: pytest-allure-host read GIT_BRANCH.
    let strip_remote = |b: String| b.strip_prefix("origin/").map(str::to_string).unwrap_or(b);
    let branch = get("BRANCH_NAME")
        .or_else(|| get("GIT_BRANCH").map(strip_remote))
        .or_else(|| git(&["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD"));
    let commit = get("GIT_COMMIT").or_else(|| git(&["rev-parse", "HEAD"]));
    let project = git(&["rev-parse", "--show-toplevel"])
        .and_then(|top| top.rsplit('/').next().map(str::to_string));
    let jenkins = get("JENKINS_URL").is_some();
    let build_url = if jenkins { get("BUILD_URL") } else { None };
    CiContext {
        layer: Layer {
            branch,
            project,
            context_url: build_url.clone(),
            commit,
            ..Layer::default()
        },
        kind: if jenkins { Ci::Jenkins } else { Ci::Local },
        build_url,
        job: None,
    }
}

/// `<run>-<attempt>-<job>`: the workflow run and attempt say when, the job
/// which of its jobs (unit and e2e jobs of one run publish side by side).
fn github_run_id(run: &str, attempt: &str, job: Option<&str>) -> String {
    match job {
        Some(job) => format!("{run}-{attempt}-{}", variant::slug(job)),
        None => format!("{run}-{attempt}"),
    }
}

/// Run git in the working directory; None when git or the repository is absent.
pub fn run_git(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::settings::layer::test_vars as vars;

    fn no_git(_: &[&str]) -> Option<String> {
        None
    }

    #[test]
    fn github_pull_request_uses_head_ref_and_attempt() {
        let c = detect(
            &vars(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_HEAD_REF", "feat/login"),
                ("GITHUB_REF_NAME", "12/merge"),
                ("GITHUB_RUN_ID", "987"),
                ("GITHUB_RUN_ATTEMPT", "2"),
                ("GITHUB_REPOSITORY", "acme/shop"),
                ("GITHUB_SHA", "abc"),
                ("GITHUB_JOB", "e2e_tests"),
            ]),
            no_git,
        );
        assert_eq!(c.layer.branch.as_deref(), Some("feat/login"));
        assert_eq!(c.layer.run_id.as_deref(), Some("987-2-e2e_tests"));
        assert_eq!(c.job.as_deref(), Some("e2e_tests"));
        assert_eq!(c.layer.project.as_deref(), Some("shop"));
        assert_eq!(c.layer.commit.as_deref(), Some("abc"));
        assert_eq!(
            c.build_url.as_deref(),
            Some("https://github.com/acme/shop/actions/runs/987/attempts/2")
        );
        assert_eq!(c.kind.kind(), "github");
    }

    #[test]
    fn jobs_of_one_workflow_run_get_different_default_ids() {
        let id = |job: &str| {
            let c = detect(
                &vars(&[
                    ("GITHUB_ACTIONS", "true"),
                    ("GITHUB_RUN_ID", "987"),
                    ("GITHUB_JOB", job),
                ]),
                no_git,
            );
            c.layer.run_id.unwrap()
        };
        assert_eq!(id("unit"), "987-1-unit");
        assert_eq!(id("e2e"), "987-1-e2e");
        assert_eq!(id("build & test"), "987-1-build-test");
    }

    #[test]
    fn github_push_uses_ref_name() {
        let c = detect(
            &vars(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_HEAD_REF", ""),
                ("GITHUB_REF_NAME", "main"),
            ]),
            no_git,
        );
        assert_eq!(c.layer.branch.as_deref(), Some("main"));
    }

    #[test]
    fn elsewhere_git_answers() {
        let git = |args: &[&str]| match args {
            ["rev-parse", "--abbrev-ref", "HEAD"] => Some("topic".to_string()),
            ["rev-parse", "HEAD"] => Some("deadbeef".to_string()),
            ["rev-parse", "--show-toplevel"] => Some("/src/checkout-name".to_string()),
            _ => None,
        };
        let c = detect(&[], git);
        assert_eq!(c.layer.branch.as_deref(), Some("topic"));
        assert_eq!(c.layer.project.as_deref(), Some("checkout-name"));
        assert_eq!(c.layer.run_id, None);
        assert_eq!(c.kind, Ci::Local);
        let jenkins = detect(
            &vars(&[
                ("JENKINS_URL", "http://j"),
                ("GIT_BRANCH", "origin/release"),
                ("BUILD_URL", "http://j/1"),
            ]),
            git,
        );
        assert_eq!(jenkins.layer.branch.as_deref(), Some("release"));
        assert_eq!(jenkins.build_url.as_deref(), Some("http://j/1"));
    }

    #[test]
    fn detached_head_gives_no_branch() {
        let c = detect(&[], |args: &[&str]| {
            (args.len() == 3).then(|| "HEAD".to_string())
        });
        assert_eq!(c.layer.branch, None);
    }
}
