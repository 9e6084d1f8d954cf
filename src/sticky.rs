//! One comment per project on a pull request (GitHub) or merge request
//! (GitLab), found by a hidden marker and edited in place. Each branch and
//! matrix leg owns a section.
//!
//! Neither forge can update a comment conditionally, so the sections live
//! in a small state object in the store, updated by compare-and-swap; the
//! comment is only ever a rendering of that state. A leg that renders an
//! older state than the one it finds after its edit renders again, so the
//! last edit always shows every section, however the legs interleave. Two
//! legs that create a comment at once: the oldest stays, the other goes.
//!
//! The forge's side is the `Forge` trait: a page of comments, create,
//! update, delete (`github::pr_comment`, `gitlab::mr_note`).

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::github::step_summary::{self, Escape, duration, icon, link, md};
use crate::model::changes::Changes;
use crate::model::layout::Layout;
use crate::model::quality_gate::QualityGate;
use crate::model::stats::Stats;
use crate::model::summary::{PublishSummary, status};
use crate::settings::Place;
use crate::storage::cas::{self, Step};
use crate::storage::{ObjectKey, ObjectMeta, Store};

const SCHEMA: u32 = 1;
/// Edits before giving up when other legs keep changing the state.
const MAX_ROUNDS: u32 = 12;
/// Pages of comments read before giving up (a server that pages forever).
const MAX_PAGES: u32 = 200;

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

/// Whose Markdown the comment is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    GitHub,
    GitLab,
}

impl Flavor {
    /// The hidden first line that finds our comment; the project segment is
    /// made of `[A-Za-z0-9._~-]` only, so it cannot close the HTML comment.
    pub fn marker(self, project_segment: &str) -> String {
        let kind = match self {
            Flavor::GitHub => "pr-comment",
            Flavor::GitLab => "mr-note",
        };
        format!("<!-- allure-host:{kind} project={project_segment} -->")
    }

    fn escape(self) -> Escape {
        match self {
            Flavor::GitHub => md,
            Flavor::GitLab => gitlab_md,
        }
    }

    /// How a job gets links to a site that opens only with signed links.
    fn key_hint(self) -> &'static str {
        match self {
            Flavor::GitHub => "set the action's `access-key`",
            Flavor::GitLab => "set ALLURE\\_ACCESS\\_KEY",
        }
    }
}

/// GitLab reads `@user`, `#1`, `!1`, `~label`, `%milestone`, `$1`, `&1` (and
/// `group/project#1`) as references: a mention notifies, the others link.
/// `md`'s escapes, then a zero-width space after each of those characters
/// (backslash escapes alone hold only from GitLab 14 on), and `$` `%` `{`
/// escaped too (math, inline diffs).
pub fn gitlab_md(text: &str, max: usize) -> String {
    let escaped = md(text, max);
    let mut out = String::with_capacity(escaped.len() + 16);
    let mut rest = escaped.as_str();
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("&amp;") {
            out.push_str("&amp;\u{200B}");
            rest = after;
            continue;
        }
        rest = &rest[c.len_utf8()..];
        match c {
            '$' | '%' | '{' => {
                out.push('\\');
                out.push(c);
            }
            // `md` put one there already.
            '@' => {
                out.push(c);
                continue;
            }
            c => out.push(c),
        }
        if matches!(c, '#' | '!' | '~' | '%' | '$') {
            out.push('\u{200B}');
        }
    }
    out
}

pub fn render(state: &CommentState, marker: &str, flavor: Flavor) -> String {
    let md = flavor.escape();
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
            // Escaped: outside a link, GitLab reads `#3` as issue 3.
            format!(
                "{} (private: needs a signed link; {})",
                md(&format!("build #{}", s.build_order), 40),
                flavor.key_hint()
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
            out.push_str(&step_summary::quality_gate_with(gate, md));
        }
        if let Some(c) = &s.changes {
            out.push_str(&step_summary::changes_with(c, md));
        }
    }
    out.push_str(&format!(
        "\n<sub>Published by allure-host · revision {}</sub>\n",
        state.revision
    ));
    out
}

/// A comment as a forge lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
}

/// One page of a request's comments, and the number of the next, if any.
pub struct Page {
    pub comments: Vec<Comment>,
    pub next: Option<u32>,
}

/// A forge's comments on one pull or merge request. Errors name what failed
/// and never carry a credential.
pub trait Forge {
    fn flavor(&self) -> Flavor;
    /// Page `n` (from 1), oldest first where the forge can sort.
    fn page(&self, n: u32) -> impl Future<Output = Result<Page>>;
    fn create(&self, body: &str) -> impl Future<Output = Result<()>>;
    /// Ok(false): the comment is gone.
    fn update(&self, id: u64, body: &str) -> impl Future<Output = Result<bool>>;
    /// A comment already gone counts as removed.
    fn delete(&self, id: u64) -> impl Future<Output = Result<()>>;
}

/// Our comments on the request, oldest first.
async fn marked(forge: &impl Forge, marker: &str) -> Result<Vec<Comment>> {
    let mut found = Vec::new();
    let mut n = 1;
    for _ in 0..MAX_PAGES {
        let page = forge.page(n).await?;
        found.extend(
            page.comments
                .into_iter()
                .filter(|c| c.body.as_deref().is_some_and(|b| b.starts_with(marker))),
        );
        match page.next {
            Some(next) if next > n => n = next,
            _ => {
                found.sort_by_key(|c| c.id);
                return Ok(found);
            }
        }
    }
    bail!("the request has more than {MAX_PAGES} pages of comments")
}

async fn read_state(store: &Store, key: &str, project: &str) -> Result<CommentState> {
    let obj = store.get(key).await?;
    Ok(CommentState::parse(
        obj.as_ref().map(|o| o.body.as_slice()),
        project,
    ))
}

/// Where one request's comment lives.
pub struct Thread<'a> {
    pub store: &'a Store,
    /// Key of the state object in the store.
    pub state_key: ObjectKey,
    pub marker: String,
    pub project: String,
}

impl<'a> Thread<'a> {
    /// The comment of `place`'s project on request `number`. The state key is
    /// the project's `pull_request_state(number)` on either forge: a project
    /// publishes from one forge, whose request numbers it names.
    pub fn new(store: &'a Store, place: &Place, number: u64, flavor: Flavor) -> Result<Self> {
        let layout = Layout::new(&place.prefix, &place.project, &place.branch)?;
        Ok(Self {
            store,
            state_key: layout.pull_request_state(number),
            marker: flavor.marker(layout.project_segment()),
            project: place.project.clone(),
        })
    }
}

/// Record `section` and bring the request's comment up to date. Returns the
/// comment id.
pub async fn publish(forge: &impl Forge, t: &Thread<'_>, section: Section) -> Result<u64> {
    let (store, state_key, marker) = (t.store, &t.state_key, t.marker.as_str());
    let project = t.project.as_str();
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
        let body = render(&state, marker, forge.flavor());
        let mut ours = marked(forge, marker).await?;
        if ours.is_empty() {
            forge.create(&body).await?;
            // List again: another leg may have created one at the same time.
            continue;
        }
        let keep = ours.remove(0);
        for extra in ours {
            forge.delete(extra.id).await?;
        }
        // Removed by another leg meanwhile: start over.
        if keep.body.as_deref() != Some(body.as_str()) && !forge.update(keep.id, &body).await? {
            continue;
        }
        if read_state(store, state_key, project).await?.revision == state.revision {
            return Ok(keep.id);
        }
    }
    bail!("the comment kept changing; it will catch up with the next publish")
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use proptest::prelude::*;

    pub fn section(variant: Option<&str>, build: u64, failed: u64) -> Section {
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
    fn gitlab_references_are_broken_up() {
        assert_eq!(
            gitlab_md("fixes #12 for @ana in !3 ~bug %v1 $4 &5 {+x+}", 200),
            "fixes \\#\u{200B}12 for @\u{200B}ana in \\!\u{200B}3 \\~\u{200B}bug \\%\u{200B}v1 \
             \\$\u{200B}4 &amp;\u{200B}5 \\{+x+}"
        );
        assert_eq!(
            gitlab_md("group/project#1", 200),
            "group/project\\#\u{200B}1"
        );
        // Plain text stays plain.
        assert_eq!(gitlab_md("test_login: ok", 200), "test\\_login: ok");
    }

    /// A GitLab reference: its sigil followed at once by what it names.
    fn reference_at(text: &str) -> Option<usize> {
        let decoded = text
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        let chars: Vec<char> = decoded.chars().collect();
        chars.windows(2).position(|w| {
            matches!(w[0], '@' | '#' | '!' | '~' | '%' | '$' | '&')
                && (w[1].is_alphanumeric() || matches!(w[1], '_' | '"' | '-' | '.'))
        })
    }

    proptest! {
        #[test]
        fn no_gitlab_reference_survives(text in "[a-z0-9 @#!~%$&\"_./\\\\<>|*{}-]{0,60}") {
            let out = gitlab_md(&text, 200);
            prop_assert_eq!(reference_at(&out), None, "{:?} -> {:?}", text, out);
            // Nothing is lost but the zero-width spaces and backslashes added.
            prop_assert!(!out.contains('\n'));
        }
    }

    #[test]
    fn the_reference_finder_finds_them() {
        for r in ["@ana", "#1", "!2", "~bug", "%v1", "$3", "&amp;4"] {
            assert_eq!(reference_at(r), Some(0), "{r}");
        }
    }

    #[test]
    fn gitlab_snapshot() {
        let mut s = CommentState::parse(None, "pay|ments");
        s.upsert(section(Some("py=3.11 @ana #7"), 1, 0));
        s.upsert(Section {
            private: true,
            ..section(Some("!8 ~flaky"), 2, 1)
        });
        insta::assert_snapshot!(render(
            &s,
            &Flavor::GitLab.marker("pay~7Cments"),
            Flavor::GitLab
        ));
    }
}
