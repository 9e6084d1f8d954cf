//! The pull request's comment on GitHub: issue comments through the API
//! client. The state, its rendering and the edit loop are `sticky`'s,
//! shared with GitLab's merge request note.

use anyhow::{Context, Result};

use super::api::{GitHub, status_of};
use crate::sticky::{Comment, Flavor, Forge, Page};

const PER_PAGE: usize = 100;

/// The comments of pull request `pr` of `repo` (`owner/name`).
pub struct PullRequest<'a> {
    pub gh: &'a GitHub,
    pub repo: String,
    pub pr: u64,
}

impl Forge for PullRequest<'_> {
    fn flavor(&self) -> Flavor {
        Flavor::GitHub
    }

    async fn page(&self, n: u32) -> Result<Page> {
        let (repo, pr) = (&self.repo, self.pr);
        let route = format!("/repos/{repo}/issues/{pr}/comments?per_page={PER_PAGE}&page={n}");
        let comments: Vec<Comment> = self
            .gh
            .get(&route)
            .await
            .with_context(|| format!("cannot list the comments of pull request #{pr}"))?;
        let next = (comments.len() >= PER_PAGE).then_some(n + 1);
        Ok(Page { comments, next })
    }

    async fn create(&self, body: &str) -> Result<()> {
        let (repo, pr) = (&self.repo, self.pr);
        let _: serde_json::Value = self
            .gh
            .post(
                &format!("/repos/{repo}/issues/{pr}/comments"),
                &serde_json::json!({ "body": body }),
            )
            .await
            .with_context(|| format!("cannot comment on pull request #{pr}"))?;
        Ok(())
    }

    async fn update(&self, id: u64, body: &str) -> Result<bool> {
        let patched: Result<serde_json::Value, _> = self
            .gh
            .patch(
                &format!("/repos/{}/issues/comments/{id}", self.repo),
                &serde_json::json!({ "body": body }),
            )
            .await;
        match patched {
            Ok(_) => Ok(true),
            Err(e) if status_of(&e) == Some(http::StatusCode::NOT_FOUND) => Ok(false),
            Err(e) => Err(e).context("cannot update the pull request comment"),
        }
    }

    async fn delete(&self, id: u64) -> Result<()> {
        match self
            .gh
            .delete(&format!("/repos/{}/issues/comments/{id}", self.repo))
            .await
        {
            Err(e) if status_of(&e) != Some(http::StatusCode::NOT_FOUND) => {
                Err(e).context("cannot remove a duplicate pull request comment")
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::sticky::tests::section;
    use crate::sticky::{CommentState, Flavor, render};

    #[test]
    fn snapshot() {
        let mut s = CommentState::parse(None, "pay|ments");
        s.upsert(section(Some("py=3.11"), 1, 0));
        s.upsert(section(Some("<b>py=3.12</b>"), 2, 1));
        s.upsert(section(None, 3, 0));
        let marker = Flavor::GitHub.marker("pay~7Cments");
        insta::assert_snapshot!(render(&s, &marker, Flavor::GitHub));
    }
}
