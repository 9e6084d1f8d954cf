//! After a publish in a GitLab merge request pipeline: the merge request's
//! note, a row per branch, job leg and build. A note that cannot be written
//! is a warning: the reports are out, and the exit code stays theirs.

use anyhow::Result;

use crate::gitlab::mr_note::Notes;
use crate::gitlab::{self, Found, MergeRequest, Token};
use crate::model::summary::PublishSummary;
use crate::output::Output;
use crate::settings::{Ci, Settings};
use crate::sticky::{self, Flavor, Section, Thread};

pub async fn run(settings: &Settings, summary: &PublishSummary, out: &Output) {
    if settings.ci.kind != Ci::GitLab || !settings.ci.mr_note {
        return;
    }
    let vars: Vec<(String, String)> = std::env::vars().collect();
    match gitlab::merge_request(&vars) {
        Found::None => {}
        Found::NoToken { iid } => out.note(format_args!(
            "Merge request !{iid}: no note of the reports, as GITLAB_TOKEN is not set. Set it to a \
             project access token with the api scope (a masked CI/CD variable) to keep one; \
             ALLURE_MR_NOTE=false turns this line off"
        )),
        Found::Incomplete(why) => out.warning(&format!("merge request note: {why}")),
        Found::Ready(mr, token) => match note(settings, summary, &mr, &token, out).await {
            Ok(id) => out.line(format_args!(
                "Merge request !{}: note {id} is up to date",
                mr.iid
            )),
            Err(e) => out.warning(&format!(
                "merge request note: {e:#}. The reports are published; the note catches up with the next publish"
            )),
        },
    }
}

async fn note(
    settings: &Settings,
    summary: &PublishSummary,
    mr: &MergeRequest,
    token: &Token,
    out: &Output,
) -> Result<u64> {
    let store = super::open_store(&settings.target, true, out).await?;
    let thread = Thread::new(&store, &settings.place, mr.iid, Flavor::GitLab)?;
    let notes = Notes::new(mr, token)?;
    sticky::publish(&notes, &thread, Section::from_summary(summary)).await
}
