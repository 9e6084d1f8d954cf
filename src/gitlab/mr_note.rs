//! The merge request's note on GitLab, through the notes API
//! (`/projects/:id/merge_requests/:iid/notes`, `PRIVATE-TOKEN`). The state,
//! its rendering and the edit loop are `sticky`'s, shared with GitHub's pull
//! request comment.

use anyhow::{Result, bail};
use http::StatusCode;
use http::header::HeaderMap;

use super::{MergeRequest, Token};
use crate::http::{Client, Reply, headers};
use crate::sticky::{Comment, Flavor, Forge, Page};

const PER_PAGE: usize = 100;

/// The notes of one merge request.
pub struct Notes {
    client: Client,
    url: String,
    headers: HeaderMap,
    iid: u64,
    /// Only to keep it out of any message an answer could echo.
    token: Token,
}

impl Notes {
    pub fn new(mr: &MergeRequest, token: &Token) -> Result<Self> {
        Ok(Self {
            client: Client::new()?,
            url: mr.notes_url(),
            headers: headers(&[("PRIVATE-TOKEN", token.expose())])?,
            iid: mr.iid,
            token: token.clone(),
        })
    }

    /// An answer other than `want`, as an error that says what failed.
    fn check(&self, reply: &Reply, want: &[StatusCode], doing: &str) -> Result<()> {
        if want.contains(&reply.status) {
            return Ok(());
        }
        let hint = match reply.status {
            StatusCode::UNAUTHORIZED => " (GITLAB_TOKEN is not a valid token)",
            StatusCode::FORBIDDEN => " (GITLAB_TOKEN needs the api scope and the Reporter role)",
            _ => "",
        };
        let excerpt = reply.excerpt().replace(self.token.expose(), "[token]");
        bail!(
            "GitLab answered {} to {doing} merge request !{}{hint}: {excerpt}",
            reply.status,
            self.iid
        )
    }
}

impl Forge for Notes {
    fn flavor(&self) -> Flavor {
        Flavor::GitLab
    }

    async fn page(&self, n: u32) -> Result<Page> {
        let url = format!(
            "{}?per_page={PER_PAGE}&page={n}&sort=asc&order_by=created_at",
            self.url
        );
        let reply = self.client.get_json(&url, &self.headers).await?;
        self.check(&reply, &[StatusCode::OK], "listing the notes of")?;
        let comments: Vec<Comment> = reply.json()?;
        // X-Next-Page is empty on the last page; without the header, a
        // full page may have a next one.
        let next = match reply.header("x-next-page") {
            Some(next) => next.trim().parse().ok(),
            None => (comments.len() >= PER_PAGE).then_some(n + 1),
        };
        Ok(Page { comments, next })
    }

    async fn create(&self, body: &str) -> Result<()> {
        let reply = self
            .client
            .post_json(
                &self.url,
                &self.headers,
                &serde_json::json!({ "body": body }),
            )
            .await?;
        self.check(
            &reply,
            &[StatusCode::CREATED, StatusCode::OK],
            "adding a note to",
        )
    }

    async fn update(&self, id: u64, body: &str) -> Result<bool> {
        let url = format!("{}/{id}", self.url);
        let reply = self
            .client
            .put_json(&url, &self.headers, &serde_json::json!({ "body": body }))
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        self.check(&reply, &[StatusCode::OK], "updating the note of")?;
        Ok(true)
    }

    async fn delete(&self, id: u64) -> Result<()> {
        let url = format!("{}/{id}", self.url);
        let reply = self.client.delete(&url, &self.headers).await?;
        self.check(
            &reply,
            &[
                StatusCode::NO_CONTENT,
                StatusCode::OK,
                StatusCode::NOT_FOUND,
            ],
            "removing a duplicate note of",
        )
    }
}
