//! A mock GitLab notes API (`tests/support/mock_gitlab.py`) and the
//! environment of a GitLab merge request pipeline.

use super::mock::Mock;

pub const TOKEN: &str = "glpat-mock-token";
pub const PROJECT_ID: &str = "42";

pub struct MockGitLab {
    mock: Mock,
}

impl MockGitLab {
    /// `args`: mock_gitlab.py's options (`--latency`, `--noise`, ...).
    pub fn start(args: &[&str]) -> Self {
        let mut all = vec!["--token", TOKEN];
        all.extend_from_slice(args);
        Self {
            mock: Mock::start("mock_gitlab.py", &all),
        }
    }

    /// `CI_API_V4_URL`.
    pub fn api_url(&self) -> String {
        format!("{}/api/v4", self.mock.url)
    }

    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.mock.requests()
    }

    /// Every note, of every merge request, oldest first.
    pub fn notes(&self) -> Vec<serde_json::Value> {
        self.mock
            .call("GET", "/_mock/notes", "")
            .as_array()
            .unwrap()
            .clone()
    }

    /// The next `count` API requests answer `status` (-1: all of them).
    pub fn fail(&self, status: u16, count: i64) {
        let body = serde_json::json!({ "status": status, "count": count });
        self.mock.call("POST", "/_mock/fail", &body.to_string());
    }
}

/// The predefined variables of a merge request pipeline's job, for
/// merge request `iid` from `branch`, with the API at `api_url`.
pub fn pipeline_env(api_url: &str, iid: u64, branch: &str) -> Vec<(String, String)> {
    [
        ("GITLAB_CI", "true"),
        ("CI", "true"),
        ("CI_API_V4_URL", api_url),
        ("CI_PROJECT_ID", PROJECT_ID),
        ("CI_PROJECT_NAME", "shop"),
        ("CI_MERGE_REQUEST_IID", &iid.to_string()),
        ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main"),
        ("CI_COMMIT_REF_NAME", branch),
        ("CI_COMMIT_SHA", "0123456789abcdef0123456789abcdef01234567"),
        ("CI_JOB_NAME", "test"),
        (
            "CI_PIPELINE_URL",
            "https://gitlab.example.com/acme/shop/-/pipelines/99",
        ),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}
