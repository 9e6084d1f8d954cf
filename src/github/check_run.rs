//! A GitHub check run per project, job and leg (`check-run: true`, needs
//! `checks: write`): its conclusion from `fail-on`, the job summary's text
//! as its summary, the report as its details link. A re-run of the job
//! finds the check run of the same name on the same commit and updates it.

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::GitHub;
use super::context::FailOn;
use super::step_summary;
use crate::model::access::hex;
use crate::model::summary::PublishSummary;
use crate::notify::message::one_line;

/// GitHub's limit on a check run's output summary.
const MAX_SUMMARY: usize = 65_535;

/// Longer names are cut, and end with a hash of the whole so that legs
/// whose names differ only at the end stay apart.
const MAX_NAME: usize = 200;

/// "Allure: payments (test, py=3.12)".
pub fn name(s: &PublishSummary) -> String {
    let parts: Vec<&str> = [s.job.as_deref(), s.variant.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let tail = match parts.is_empty() {
        true => String::new(),
        false => format!(" ({})", parts.join(", ")),
    };
    let name = one_line(&format!("Allure: {}{tail}", s.project), usize::MAX);
    if name.chars().count() <= MAX_NAME {
        return name;
    }
    let head: String = name.chars().take(MAX_NAME - 12).collect();
    format!("{head}… {}", &hash(&name)[..10])
}

/// Which check run is ours: the project, job and leg it reports, hashed
/// (GitHub keeps it as the run's `external_id`).
pub fn line_id(s: &PublishSummary) -> String {
    let key = [
        Some(s.project.as_str()),
        s.job.as_deref(),
        s.variant.as_deref(),
    ]
    .map(|p| p.unwrap_or(""))
    .join("\n");
    format!("allure-host:{}", &hash(&key)[..32])
}

fn hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(text.as_bytes()))
}

/// success, failure (as `fail-on` says), or neutral when no test ran.
pub fn conclusion(s: &PublishSummary, fail_on: FailOn) -> &'static str {
    if fail_on.trips(&s.stats, s.quality_gate.as_ref(), s.changes.as_ref()) {
        "failure"
    } else if s.stats.total == 0 {
        "neutral"
    } else {
        "success"
    }
}

/// The body GitHub takes, without `head_sha` (set on create only).
pub fn body(s: &PublishSummary, fail_on: FailOn) -> Value {
    let st = &s.stats;
    let mut title = format!(
        "{} passed, {} failed, {} broken, {} skipped of {}",
        st.passed, st.failed, st.broken, st.skipped, st.total
    );
    if let Some(gate) = &s.quality_gate {
        title.push_str(&format!(" · quality gate {}", gate.verdict()));
    }
    if let Some(c) = &s.changes {
        title.push_str(&format!(
            " · {} new failures, {} fixed since {}",
            c.new_failures.total,
            c.fixed.total,
            one_line(&c.base_branch, 60)
        ));
    }
    let mut summary = step_summary::render(s);
    if summary.len() > MAX_SUMMARY {
        let mut end = MAX_SUMMARY - 3;
        while !summary.is_char_boundary(end) {
            end -= 1;
        }
        summary.truncate(end);
        summary.push('…');
    }
    let mut body = json!({
        "name": name(s),
        "status": "completed",
        "conclusion": conclusion(s, fail_on),
        "external_id": line_id(s),
        "output": {"title": title, "summary": summary},
    });
    // GitHub takes only a web address (not an s3:// location).
    let run = s.reader_urls().run;
    if run.starts_with("https://") || run.starts_with("http://") {
        body["details_url"] = json!(run);
    }
    body
}

#[derive(Deserialize)]
struct Listed {
    check_runs: Vec<Found>,
}

#[derive(Deserialize)]
struct Found {
    id: u64,
    #[serde(default)]
    external_id: Option<String>,
}

/// Create the check run, or update the one a previous attempt made.
/// Returns its id and whether it was updated.
pub async fn publish(
    gh: &GitHub,
    repo: &str,
    head_sha: &str,
    s: &PublishSummary,
    fail_on: FailOn,
) -> Result<(u64, bool)> {
    let mut body = body(s, fail_on);
    let name = name(s);
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("check_name", &name)
        .append_pair("filter", "latest")
        .finish();
    let found: Listed = gh
        .get(&format!(
            "/repos/{repo}/commits/{head_sha}/check-runs?{query}"
        ))
        .await
        .context("cannot list the commit's check runs")?;
    // Another app's check of the same name is not ours to change.
    let ours = found
        .check_runs
        .iter()
        .find(|c| c.external_id.as_deref() == body["external_id"].as_str());
    if let Some(old) = ours {
        let _: Value = gh
            .patch(&format!("/repos/{repo}/check-runs/{}", old.id), &body)
            .await
            .context("cannot update the check run")?;
        return Ok((old.id, true));
    }
    body["head_sha"] = json!(head_sha);
    let made: Found = gh
        .post(&format!("/repos/{repo}/check-runs"), &body)
        .await
        .context("cannot create the check run")?;
    Ok((made.id, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::step_summary::tests::sample;

    #[test]
    fn named_by_project_job_and_leg_and_concluded_by_fail_on() {
        let mut s = sample();
        assert_eq!(name(&s), "Allure: payments (test, py=3.12)");
        assert_eq!(conclusion(&s, FailOn::Failed), "failure");
        assert_eq!(conclusion(&s, FailOn::None), "success");
        let b = body(&s, FailOn::NewFailures);
        assert_eq!(b["conclusion"], "failure");
        assert_eq!(b["status"], "completed");
        assert_eq!(
            b["output"]["title"],
            "5 passed, 1 failed, 1 broken, 2 skipped of 9 · 2 new failures, 1 fixed since main"
        );
        assert!(b.get("head_sha").is_none());
        s.stats = Default::default();
        assert_eq!(conclusion(&s, FailOn::Failed), "neutral");
        s.job = None;
        s.variant = None;
        assert_eq!(name(&s), "Allure: payments");
    }

    #[test]
    fn legs_with_long_names_keep_their_own_check_run() {
        let mut a = sample();
        a.project = "payments-service-integration-suite".repeat(3);
        a.variant = Some(format!(
            "{}shard=1",
            "browser=chromium, os=ubuntu-22.04, ".repeat(4)
        ));
        let mut b = a.clone();
        b.variant = Some(a.variant.as_ref().unwrap().replace("shard=1", "shard=2"));
        assert_ne!(name(&a), name(&b));
        assert!(name(&a).chars().count() <= MAX_NAME);
        assert_ne!(line_id(&a), line_id(&b));
        assert_eq!(line_id(&a), line_id(&a.clone()), "a re-run finds its own");
        let mut c = a.clone();
        c.run_id = "another-attempt".into();
        assert_eq!(line_id(&a), line_id(&c), "the run id is not part of it");
    }

    #[test]
    fn no_details_link_without_a_web_address() {
        let mut s = sample();
        s.run_url = "s3://bucket/reports/p/main/1/index.html".into();
        assert!(body(&s, FailOn::None).get("details_url").is_none());
        assert!(
            body(&sample(), FailOn::None)["details_url"]
                .as_str()
                .unwrap()
                .starts_with("https://")
        );
    }
}
