//! GitLab CI: the merge request a pipeline runs for (its predefined
//! variables and `GITLAB_TOKEN`), and the one note kept on it
//! (`mr_note`).

pub mod mr_note;

use std::fmt;

use crate::settings::layer::lookup;

/// An API token (`GITLAB_TOKEN`): a project access token or a personal
/// one with the `api` scope. Never shown: its Debug hides it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("Token(…)")
    }
}

/// The merge request of this pipeline, as the API names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRequest {
    /// `CI_API_V4_URL`, without a trailing slash.
    pub api_url: String,
    /// `CI_PROJECT_ID` (a number on GitLab; a path works too).
    pub project_id: String,
    /// `CI_MERGE_REQUEST_IID`: the `!N` of the merge request.
    pub iid: u64,
}

impl MergeRequest {
    /// `.../projects/:id/merge_requests/:iid/notes`.
    pub fn notes_url(&self) -> String {
        format!(
            "{}/projects/{}/merge_requests/{}/notes",
            self.api_url,
            encode_segment(&self.project_id),
            self.iid
        )
    }
}

/// What the environment says of a merge request.
#[derive(Debug)]
pub enum Found {
    /// Not a GitLab merge request pipeline.
    None,
    /// A merge request pipeline without `GITLAB_TOKEN`.
    NoToken {
        iid: u64,
    },
    /// A variable the API needs is missing or wrong: what and why.
    Incomplete(String),
    Ready(MergeRequest, Token),
}

/// The merge request of a GitLab pipeline (`GITLAB_CI`,
/// `CI_MERGE_REQUEST_IID`), with what the notes API needs.
pub fn merge_request(vars: &[(String, String)]) -> Found {
    let get = |name: &str| lookup(vars, name);
    let (Some(_), Some(iid)) = (get("GITLAB_CI"), get("CI_MERGE_REQUEST_IID")) else {
        return Found::None;
    };
    let Ok(iid) = iid.parse::<u64>() else {
        return Found::Incomplete(format!(
            "CI_MERGE_REQUEST_IID {iid:?} is not a merge request number"
        ));
    };
    let Some(token) = get("GITLAB_TOKEN") else {
        return Found::NoToken { iid };
    };
    let Some(api_url) = get("CI_API_V4_URL") else {
        return Found::Incomplete("CI_API_V4_URL is not set (GitLab 11.7 or later sets it)".into());
    };
    if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
        return Found::Incomplete(format!("CI_API_V4_URL {api_url:?} is not an http(s) URL"));
    }
    let Some(project_id) = get("CI_PROJECT_ID") else {
        return Found::Incomplete("CI_PROJECT_ID is not set".into());
    };
    Found::Ready(
        MergeRequest {
            api_url: api_url.trim_end_matches('/').to_string(),
            project_id,
            iid,
        },
        Token(token),
    )
}

/// A path segment as GitLab's API takes it (`group/project` -> `group%2Fproject`).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::layer::test_vars as vars;

    const MR: &[(&str, &str)] = &[
        ("GITLAB_CI", "true"),
        ("CI_MERGE_REQUEST_IID", "17"),
        ("CI_API_V4_URL", "https://gitlab.example.com/api/v4/"),
        ("CI_PROJECT_ID", "42"),
        ("GITLAB_TOKEN", "glpat-secret"),
    ];

    #[test]
    fn a_merge_request_pipeline_with_a_token_is_ready() {
        let Found::Ready(mr, token) = merge_request(&vars(MR)) else {
            panic!("not ready");
        };
        assert_eq!(
            mr.notes_url(),
            "https://gitlab.example.com/api/v4/projects/42/merge_requests/17/notes"
        );
        assert_eq!(token.expose(), "glpat-secret");
        assert!(!format!("{token:?}").contains("glpat"));
    }

    #[test]
    fn without_a_token_or_a_merge_request_there_is_nothing_to_write() {
        let without = |name: &str| {
            let v: Vec<_> = MR.iter().copied().filter(|(k, _)| *k != name).collect();
            merge_request(&vars(&v))
        };
        assert!(matches!(
            without("GITLAB_TOKEN"),
            Found::NoToken { iid: 17 }
        ));
        assert!(matches!(without("CI_MERGE_REQUEST_IID"), Found::None));
        assert!(matches!(without("GITLAB_CI"), Found::None));
        assert!(matches!(without("CI_API_V4_URL"), Found::Incomplete(_)));
        assert!(matches!(without("CI_PROJECT_ID"), Found::Incomplete(_)));
    }

    #[test]
    fn project_paths_are_one_segment() {
        assert_eq!(encode_segment("grp/sub/shop"), "grp%2Fsub%2Fshop");
        assert_eq!(encode_segment("42"), "42");
    }
}
