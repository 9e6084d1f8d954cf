//! GitHub Actions: the runner's environment and the action's inputs, workflow
//! commands, step outputs, the job summary, artifacts, OIDC credentials and
//! the pull request comment.

pub mod api;
pub mod artifacts;
pub mod context;
pub mod extract;
pub mod oidc;
pub mod outputs;
pub mod pr_comment;
pub mod step_summary;
pub mod workflow;
