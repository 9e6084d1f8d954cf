//! One pull request comment per project, found by a hidden marker and edited
//! in place. Each matrix leg owns a section.
//!
//! GitHub cannot update a comment conditionally, so the sections live in a
//! small state object in the store, updated by compare-and-swap; the comment
//! is only ever a rendering of that state. A leg that renders an older state
//! than the one it finds after its edit renders again, so the last edit
//! always shows every section, however the legs interleave.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::api::{GitHub, status_of};
use super::step_summary::{self, duration, icon, link, md};
use crate::model::changes::Changes;
use crate::model::quality_gate::QualityGate;
use crate::model::stats::Stats;
use crate::model::summary::{PublishSummary, status};
use crate::storage::cas::{self, Step};
use crate::storage::{ObjectKey, ObjectMeta, Store};

const SCHEMA: u32 = 1;
/// Edits before giving up when other legs keep changing the state.
const MAX_ROUNDS: u32 = 12;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub branch: String,
    pub variant: Option<String>,
    pub run_id: String,
    pub build_order: u64,
    #[serde(flatten)]
    pub stats: Stats,
    pub duration_ms: u64,
    pub run_url: String,
    pub latest_url: String,
    pub runs_index_url: String,
    /// Since the pull request's base branch, when compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
    /// The site opens only with signed links and this job had no key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
    /// Allure 3's quality gate, when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_gate: Option<QualityGate>,
}

impl Section {
    pub fn from_summary(s: &PublishSummary) -> Self {
        let urls = s.reader_urls();
        Self {
            branch: s.branch.clone(),
            variant: s.variant.clone(),
            run_id: s.run_id.clone(),
            build_order: s.build_order,
            stats: s.stats,
            duration_ms: s.duration_ms,
            // Signed when the job had a key, so the comment's links open.
            run_url: urls.run.to_string(),
            latest_url: urls.latest.to_string(),
            runs_index_url: urls.runs_index.to_string(),
            changes: s.changes.clone(),
            private: s.private_without_links(),
            quality_gate: s.quality_gate.clone(),
        }
    }

    fn key(&self) -> String {
        format!("{}\n{}", self.branch, self.variant.as_deref().unwrap_or(""))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CommentState {
    pub schema: u32,
    pub project: String,
    /// Bumped on every change.
    pub revision: u64,
    pub sections: BTreeMap<String, Section>,
}

impl CommentState {
    pub fn parse(bytes: Option<&[u8]>, project: &str) -> Self {
        bytes
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_else(|| CommentState {
                schema: SCHEMA,
                project: project.to_string(),
                ..Default::default()
            })
    }

    /// Put `section` in, unless the leg already shows a later build. True
    /// when the state changed.
    pub fn upsert(&mut self, section: Section) -> bool {
        let key = section.key();
        if let Some(old) = self.sections.get(&key)
            && (old.build_order > section.build_order || *old == section)
        {
            return false;
        }
        self.sections.insert(key, section);
        self.revision += 1;
        true
    }
}

/// The hidden first line that finds our comment; the project segment is
/// made of `[A-Za-z0-9._~-]` only, so it cannot close the HTML comment.
pub fn marker(project_segment: &str) -> String {
    format!("<!-- allure-host:pr-comment project={project_segment} -->")
}

pub fn render(state: &CommentState, marker: &str) -> String {
    let mut out = format!(
        "{marker}\n### Allure reports: {}\n\n",
        md(&state.project, 200)
    );
    out.push_str(
        "| | Branch | Leg | Passed | Failed | Broken | Skipped | Duration | Report |\n\
         |---|---|---|---:|---:|---:|---:|---:|---|\n",
    );
    for s in state.sections.values() {
        let report = if s.private {
            format!(
                "build #{} (private: needs a signed link; set the action's `access-key`)",
                s.build_order
            )
        } else {
            format!(
                "[build #{}]({}) · [latest]({}) · [all runs]({})",
                s.build_order,
                link(&s.run_url),
                link(&s.latest_url),
                link(&s.runs_index_url)
            )
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {report} |\n",
            icon(status(&s.stats, s.quality_gate.as_ref())),
            md(&s.branch, 120),
            md(s.variant.as_deref().unwrap_or("–"), 120),
            s.stats.passed,
            s.stats.failed,
            s.stats.broken,
            s.stats.skipped,
            duration(s.duration_ms),
        ));
    }
    for s in state.sections.values() {
        if s.changes.is_none() && s.quality_gate.is_none() {
            continue;
        }
        let leg = s
            .variant
            .as_deref()
            .map(|v| format!(" ({})", md(v, 120)))
            .unwrap_or_default();
        out.push_str(&format!("\n**{}{leg}**\n", md(&s.branch, 120)));
        if let Some(gate) = &s.quality_gate {
            out.push('\n');
            out.push_str(&step_summary::quality_gate(gate));
        }
        if let Some(c) = &s.changes {
            out.push_str(&step_summary::changes(c));
        }
    }
    out.push_str(&format!(
        "\n<sub>Published by allure-host · revision {}</sub>\n",
        state.revision
    ));
    out
}

#[derive(Deserialize)]
struct Comment {
    id: u64,
    #[serde(default)]
    body: Option<String>,
}

async fn marked_comments(gh: &GitHub, repo: &str, pr: u64, marker: &str) -> Result<Vec<Comment>> {
    let mut found = Vec::new();
    for page in 1.. {
        let route = format!("/repos/{repo}/issues/{pr}/comments?per_page=100&page={page}");
        let batch: Vec<Comment> = gh
            .get(&route)
            .await
            .with_context(|| format!("cannot list the comments of pull request #{pr}"))?;
        let n = batch.len();
        found.extend(
            batch
                .into_iter()
                .filter(|c| c.body.as_deref().is_some_and(|b| b.starts_with(marker))),
        );
        if n < 100 {
            break;
        }
    }
    found.sort_by_key(|c| c.id);
    Ok(found)
}

async fn read_state(store: &Store, key: &str, project: &str) -> Result<CommentState> {
    let obj = store.get(key).await?;
    Ok(CommentState::parse(
        obj.as_ref().map(|o| o.body.as_slice()),
        project,
    ))
}

/// Where one pull request comment lives.
pub struct Thread<'a> {
    pub store: &'a Store,
    /// Key of the state object in the store.
    pub state_key: ObjectKey,
    pub marker: String,
    /// `owner/name`.
    pub repo: String,
    pub pr: u64,
    pub project: String,
}

/// Record `section` and bring the pull request comment up to date. Returns
/// the comment id.
pub async fn publish(gh: &GitHub, t: &Thread<'_>, section: Section) -> Result<u64> {
    let (store, state_key, marker) = (t.store, &t.state_key, t.marker.as_str());
    let (repo, pr, project) = (t.repo.as_str(), t.pr, t.project.as_str());
    let meta = ObjectMeta {
        content_type: "application/json".into(),
        cache_control: "no-cache",
        tagging: None,
    };
    cas::update(store, state_key, &meta, |current| {
        let mut state = CommentState::parse(current, project);
        Ok::<_, std::convert::Infallible>(if state.upsert(section.clone()) {
            Step::Write(serde_json::to_vec_pretty(&state).unwrap_or_default(), ())
        } else {
            Step::Keep(())
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;

    for _ in 0..MAX_ROUNDS {
        let state = read_state(store, state_key, project).await?;
        let body = render(&state, marker);
        let mut marked = marked_comments(gh, repo, pr, marker).await?;
        if marked.is_empty() {
            let _: serde_json::Value = gh
                .post(
                    &format!("/repos/{repo}/issues/{pr}/comments"),
                    &serde_json::json!({ "body": body }),
                )
                .await
                .with_context(|| format!("cannot comment on pull request #{pr}"))?;
            // List again: another leg may have created one at the same time.
            continue;
        }
        let keep = marked.remove(0);
        for extra in marked {
            // Two legs created a comment at once: the oldest one stays.
            if let Err(e) = gh
                .delete(&format!("/repos/{repo}/issues/comments/{}", extra.id))
                .await
                && status_of(&e) != Some(http::StatusCode::NOT_FOUND)
            {
                return Err(e).context("cannot remove a duplicate pull request comment");
            }
        }
        if keep.body.as_deref() != Some(body.as_str()) {
            let patched: Result<serde_json::Value, _> = gh
                .patch(
                    &format!("/repos/{repo}/issues/comments/{}", keep.id),
                    &serde_json::json!({ "body": body }),
                )
                .await;
            match patched {
                Ok(_) => {}
                // Removed by another leg meanwhile: start over.
                Err(e) if status_of(&e) == Some(http::StatusCode::NOT_FOUND) => continue,
                Err(e) => return Err(e).context("cannot update the pull request comment"),
            }
        }
        if read_state(store, state_key, project).await?.revision == state.revision {
            return Ok(keep.id);
        }
    }
    bail!("the pull request comment kept changing; it will catch up with the next publish")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(variant: Option<&str>, build: u64, failed: u64) -> Section {
        Section {
            branch: "feat/x".into(),
            variant: variant.map(str::to_string),
            run_id: format!("100-1-{build}"),
            build_order: build,
            stats: Stats {
                passed: 5,
                failed,
                skipped: 1,
                total: 6 + failed,
                ..Stats::default()
            },
            duration_ms: 3_000,
            run_url: format!("https://r.example/p/feat~2Fx/100-1-{build}/index.html"),
            latest_url: "https://r.example/p/feat~2Fx/latest/index.html".into(),
            runs_index_url: "https://r.example/p/feat~2Fx/runs/index.html".into(),
            quality_gate: None,
            changes: None,
            private: false,
        }
    }

    #[test]
    fn legs_keep_their_own_sections_and_never_go_back() {
        let mut s = CommentState::parse(None, "payments");
        assert!(s.upsert(section(Some("py=3.11"), 1, 0)));
        assert!(s.upsert(section(Some("py=3.12"), 2, 1)));
        assert_eq!(s.sections.len(), 2);
        assert!(
            !s.upsert(section(Some("py=3.12"), 2, 1)),
            "same again: no change"
        );
        assert!(
            !s.upsert(section(Some("py=3.11"), 0, 3)),
            "older build: ignored"
        );
        assert!(s.upsert(section(Some("py=3.11"), 3, 2)));
        assert_eq!(s.revision, 3);
        let bytes = serde_json::to_vec(&s).unwrap();
        assert_eq!(CommentState::parse(Some(&bytes), "payments"), s);
    }

    #[test]
    fn snapshot() {
        let mut s = CommentState::parse(None, "pay|ments");
        s.upsert(section(Some("py=3.11"), 1, 0));
        s.upsert(section(Some("<b>py=3.12</b>"), 2, 1));
        s.upsert(section(None, 3, 0));
        insta::assert_snapshot!(render(&s, &marker("pay~7Cments")));
    }
}
