//! The GitHub Action: credentials (OIDC), artifacts, publish, then outputs,
//! job summary, pull request comment and the quality gate. Configured only
//! by the environment that action.yml sets; the publish settings resolve
//! exactly as for the CLI.

use anyhow::{Context, Result, bail};

use crate::commands::publish;
use crate::github::api::GitHub;
use crate::github::context::{ActionInputs, ActionMode, FailOn, Runner, with_input_fallbacks};
use crate::github::extract::Budget;
use crate::github::step_summary;
use crate::github::{append_file, artifacts, check_run, oidc, outputs, pr_comment};
use crate::model::changes::Changes;
use crate::model::notify as webhooks;
use crate::model::summary::{PublishSummary, SignedLinks};
use crate::notify;
use crate::output::{self, Mode, Output, Reported};
use crate::settings::{self, Layer, Settings, Source, Target};
use crate::sticky;
use crate::stop::Stopped;

/// Ok(false): published, but the quality gate (`fail-on`) failed the step;
/// an error is annotated here and returned as `Reported`.
pub async fn run() -> Result<bool> {
    let out = Output::new(Mode::GitHub);
    let vars: Vec<(String, String)> = std::env::vars().collect();
    match run_with(&with_input_fallbacks(&vars), &out).await {
        Ok(passed) => Ok(passed),
        // A cancelled job: exit with the signal's code, as the CLI does,
        // not as a failed step with an error annotation.
        Err(e) if e.chain().any(|c| c.is::<Stopped>()) => Err(e),
        Err(e) => {
            out.error(&format!("{e:#}"));
            Err(Reported.into())
        }
    }
}

async fn run_with(vars: &[(String, String)], out: &Output) -> Result<bool> {
    // Masked before anything can print it, even when it came from a plain variable.
    if let Some(key) = settings::layer::lookup(vars, "ALLURE_ACCESS_KEY") {
        out.mask(&key);
    }
    // Each webhook URL too, whole and entry by entry.
    if let Some(urls) = settings::layer::lookup(vars, "ALLURE_NOTIFY") {
        for secret in webhooks::secret_texts(&urls) {
            out.mask(secret);
        }
    }
    let runner = Runner::from_vars(vars);
    let inputs = ActionInputs::from_vars(vars)?;
    let (mut settings, warnings) = settings::load_from(&Layer::default(), None, vars)?;
    for w in warnings {
        out.warning(&w);
    }
    if let Target::Local {
        defaulted: true, ..
    } = settings.target
    {
        bail!("the bucket input is empty: set `bucket:` in the step's `with:`");
    }
    if inputs.fail_on == FailOn::QualityGate && settings.report.engine.is_allure2() {
        bail!(
            "fail-on: quality-gate needs Allure 3, whose quality gate it reads: set `allure-version: 3` and qualityGate rules in the project's allurerc (see docs/allure3.md)"
        );
    }
    let gh = GitHub::new(&runner.api_url, inputs.github_token.as_deref())?;

    if let Some(role) = &inputs.role_to_assume {
        section(
            out,
            "AWS credentials",
            assume_role(&gh, &runner, &inputs, role, &mut settings, out),
        )
        .await?;
    }
    if inputs.mode == ActionMode::Cleanup {
        let lines = section(
            out,
            "Cleanup",
            cleanup(vars, &runner, &inputs, settings, out),
        )
        .await?;
        if inputs.summary
            && let Some(path) = &runner.step_summary
        {
            append_file(path, &step_summary::cleanup(&lines), "GITHUB_STEP_SUMMARY")?;
        }
        return Ok(true);
    }
    if let Some(pattern) = &inputs.artifact_name {
        section(
            out,
            "Artifacts",
            download(&gh, &runner, &inputs, pattern, &settings, out),
        )
        .await?;
    }
    let summary = section(out, "Publish", async {
        let summary = publish::run(&settings, false, out).await?;
        out.published(&summary);
        if let Some(path) = &settings.summary_json {
            output::write_summary(path, &summary)?;
        }
        Ok(summary)
    })
    .await?;

    if let Some(path) = &runner.output {
        outputs::append(path, &output_values(&summary))?;
    }
    if inputs.summary
        && let Some(path) = &runner.step_summary
    {
        append_file(path, &step_summary::render(&summary), "GITHUB_STEP_SUMMARY")?;
    }
    if inputs.pr_comment
        && let Some(pr) = runner.pull_request()
        && let Err(e) = comment(&gh, &runner, &settings, pr, &summary, out).await
    {
        // The report is out; a missing comment must not fail the job (pull
        // requests from forks get a read-only token).
        let hint = "The job needs `permissions: pull-requests: write` to comment.";
        let title = "allure-host: pull request comment";
        out.warning_titled(title, &format!("{e:#}. {hint}"));
    }

    notify::send_all(&settings.notify, &summary, out).await;
    if inputs.check_run
        && let Err(e) = check_run(&gh, &runner, &inputs, &summary, out).await
    {
        let hint = "The job needs `permissions: checks: write` for a check run.";
        out.warning_titled("allure-host: check run", &format!("{e:#}. {hint}"));
    }

    // Annotations put the failed tests on the run's summary page.
    for t in &summary.failed_tests {
        let title = format!("{} test: {}", t.status, t.name);
        out.error_titled(&title, t.message.as_deref().unwrap_or(t.status.as_str()));
    }
    let gate = summary.quality_gate.as_ref();
    if inputs
        .fail_on
        .trips(&summary.stats, gate, summary.changes.as_ref())
    {
        let (title, why) = fail_reason(&summary, inputs.fail_on);
        out.error_titled(title, &format!("{why}. Report: {}", summary.run_url));
        return Ok(false);
    }
    Ok(true)
}

/// Which new failures failed the step, and what the base branch says.
fn new_failures_reason(summary: &PublishSummary) -> String {
    let Some(c) = &summary.changes else {
        let st = &summary.stats;
        return format!(
            "{} failed and {} broken of {} tests, and no run of the base branch to compare with, so every failure counts as new (fail-on: new-failures)",
            st.failed, st.broken, st.total
        );
    };
    let named: Vec<String> = c
        .new_failures_on_base
        .iter()
        .filter(|k| !k.flaky)
        .map(|k| format!("{} ({})", plain(&k.name), k.note))
        .collect();
    format!(
        "{} new failures not known flaky on {}: {}",
        c.new_failures_not_flaky,
        c.base_branch,
        named.join("; ")
    )
}

/// A test name for an annotation: one line, no control characters, cut.
fn plain(name: &str) -> String {
    let text: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The title and text of the error that fails the step.
fn fail_reason(summary: &PublishSummary, fail_on: FailOn) -> (&'static str, String) {
    let st = &summary.stats;
    match (fail_on, &summary.quality_gate) {
        (FailOn::QualityGate, Some(gate)) => (
            "Allure: quality gate failed",
            gate.failed_rules()
                .map(|r| format!("{}: {}", r.rule, r.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        (FailOn::QualityGate, None) => (
            "Allure: no quality gate",
            format!(
                "fail-on: quality-gate, but no quality gate ran ({}); the gate runs with allure-version: 3 and qualityGate rules in the project's allurerc (see docs/allure3.md)",
                summary.allure
            ),
        ),
        (FailOn::NewFailures, _) => ("Allure: new failures", new_failures_reason(summary)),
        _ => (
            "Allure: tests failed",
            format!(
                "{} failed and {} broken of {} tests (fail-on: {fail_on:?})",
                st.failed, st.broken, st.total
            ),
        ),
    }
}

/// Cleanup mode: the branch named by the `branch` input, else the one the
/// event ended; then the branches whose kept days are over.
async fn cleanup(
    vars: &[(String, String)],
    runner: &Runner,
    inputs: &ActionInputs,
    settings: Settings,
    out: &Output,
) -> Result<Vec<String>> {
    let branch = settings::layer::lookup(vars, "ALLURE_BRANCH")
        .filter(|b| !b.trim().is_empty())
        .or_else(|| runner.ended_branch());
    match &branch {
        Some(b) => out.line(format_args!("Cleaning up branch {b}")),
        None => out.line(format_args!(
            "No branch ended with this {} event; removing only branches whose kept days are over",
            runner.event_name.as_deref().unwrap_or("unknown")
        )),
    }
    let site = super::site::from_settings(settings, false, true, out).await?;
    let lines = super::prune::cleanup(&site, branch.as_deref(), inputs.keep_days, out).await?;
    for line in &lines {
        out.line(line);
    }
    Ok(lines)
}

/// Run `work` inside a collapsible log group.
async fn section<T>(out: &Output, title: &str, work: impl Future<Output = Result<T>>) -> Result<T> {
    out.group(title);
    let result = work.await;
    out.end_group();
    result
}

async fn assume_role(
    gh: &GitHub,
    runner: &Runner,
    inputs: &ActionInputs,
    role: &str,
    settings: &mut Settings,
    out: &Output,
) -> Result<()> {
    let Target::S3(opts) = &mut settings.target else {
        bail!("role-to-assume is set but no bucket is: set the bucket input");
    };
    let token = oidc::id_token(gh, runner).await?;
    out.mask(&token);
    let hint = inputs.role_session_name.clone().unwrap_or_else(|| {
        format!(
            "allure-host-{}",
            runner.run_id.as_deref().unwrap_or("local")
        )
    });
    let creds = oidc::assume_role(
        role,
        &oidc::session_name(&hint),
        &token,
        opts.region.clone(),
        opts.endpoint.as_deref(),
    )
    .await?;
    for secret in [
        creds.access_key_id(),
        creds.secret_access_key(),
        creds.session_token().unwrap_or_default(),
    ] {
        out.mask(secret);
    }
    out.line(format_args!(
        "Assumed role {role} with the job's OIDC token"
    ));
    opts.credentials = Some(creds);
    Ok(())
}

async fn download(
    gh: &GitHub,
    runner: &Runner,
    inputs: &ActionInputs,
    pattern: &str,
    settings: &Settings,
    out: &Output,
) -> Result<()> {
    let Source::Results(dir) = &settings.report.source else {
        bail!("artifact-name needs a results folder, but a generated report is configured");
    };
    let (owner, name) = runner.repo()?;
    let repo = format!("{owner}/{name}");
    let run_id = runner
        .run_id
        .as_deref()
        .context("GITHUB_RUN_ID is not set; artifact-name works inside GitHub Actions only")?;
    let all = artifacts::list(gh, &repo, run_id).await?;
    let picked = artifacts::select(&all, pattern)?;
    let budget = Budget::new(inputs.max_artifact_bytes, inputs.max_artifact_entries);
    let fetched = artifacts::fetch_into(gh, &repo, &picked, dir, budget).await?;
    for a in &fetched.artifacts {
        out.line(format_args!(
            "Artifact {:?}: {} bytes, {} files ({} bytes) unpacked",
            a.name, a.downloaded, a.files, a.unpacked
        ));
    }
    let merged = &fetched.merged;
    for (from, to) in &merged.renamed {
        out.line(format_args!(
            "Two artifacts hold {from} with different content; the second is kept as {to}"
        ));
    }
    out.line(format_args!(
        "Merged {} artifact(s) into {}: {} files ({} identical duplicates kept once)",
        picked.len(),
        dir.display(),
        merged.files,
        merged.identical
    ));
    Ok(())
}

async fn check_run(
    gh: &GitHub,
    runner: &Runner,
    inputs: &ActionInputs,
    summary: &PublishSummary,
    out: &Output,
) -> Result<()> {
    let (owner, name) = runner.repo()?;
    let sha = runner
        .head_sha()
        .context("GITHUB_SHA is not set; a check run needs the commit")?;
    let repo = format!("{owner}/{name}");
    let (id, updated) = check_run::publish(gh, &repo, &sha, summary, inputs.fail_on).await?;
    let done = if updated { "updated" } else { "created" };
    out.line(format_args!("Check run {id} {done} on {sha}"));
    Ok(())
}

async fn comment(
    gh: &GitHub,
    runner: &Runner,
    settings: &Settings,
    pr: u64,
    summary: &PublishSummary,
    out: &Output,
) -> Result<()> {
    let (owner, name) = runner.repo()?;
    let store = super::open_store(&settings.target, true, out).await?;
    let thread = sticky::Thread::new(&store, &settings.place, pr, sticky::Flavor::GitHub)?;
    let forge = pr_comment::PullRequest {
        gh,
        repo: format!("{owner}/{name}"),
        pr,
    };
    let id = sticky::publish(&forge, &thread, sticky::Section::from_summary(summary)).await?;
    out.line(format_args!(
        "Pull request #{pr}: comment {id} is up to date"
    ));
    Ok(())
}

/// Every output action.yml declares, in the order written.
pub const OUTPUT_NAMES: [&str; 17] = [
    "run-url",
    "latest-url",
    "runs-index-url",
    "run-id",
    "passed",
    "failed",
    "broken",
    "skipped",
    "total",
    "status",
    "quality-gate",
    "new-failures",
    "fixed",
    "flaky",
    "tests-url",
    "run-link",
    "latest-link",
];

/// The values of `OUTPUT_NAMES`.
pub fn output_values(s: &PublishSummary) -> Vec<(&'static str, String)> {
    let st = &s.stats;
    vec![
        ("run-url", s.run_url.clone()),
        ("latest-url", s.latest_url.clone()),
        ("runs-index-url", s.runs_index_url.clone()),
        ("run-id", s.run_id.clone()),
        ("passed", st.passed.to_string()),
        ("failed", st.failed.to_string()),
        ("broken", st.broken.to_string()),
        ("skipped", st.skipped.to_string()),
        ("total", st.total.to_string()),
        ("status", s.status().to_string()),
        (
            "quality-gate",
            s.quality_gate
                .as_ref()
                .map(|g| g.verdict().to_string())
                .unwrap_or_default(),
        ),
        ("new-failures", count(s, |c| c.new_failures.total)),
        ("fixed", count(s, |c| c.fixed.total)),
        (
            "flaky",
            s.tests
                .as_ref()
                .map(|t| t.flaky.to_string())
                .unwrap_or_default(),
        ),
        (
            "tests-url",
            s.tests
                .as_ref()
                .map(|t| t.page_url.clone())
                .unwrap_or_default(),
        ),
        ("run-link", link(s, |l| &l.run)),
        ("latest-link", link(s, |l| &l.latest)),
    ]
}

/// A signed link; empty without an access key.
fn link(s: &PublishSummary, of: impl Fn(&SignedLinks) -> &String) -> String {
    s.links.as_ref().map(|l| of(l).clone()).unwrap_or_default()
}

/// A count of the comparison with the base branch; empty when none was made.
fn count(s: &PublishSummary, of: impl Fn(&Changes) -> usize) -> String {
    s.changes
        .as_ref()
        .map(|c| of(c).to_string())
        .unwrap_or_default()
}
