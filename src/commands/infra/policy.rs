//! `infra policy`: the publisher's IAM policy (and GitHub trust), as JSON.

use anyhow::{Context, Result};
use serde_json::json;

use super::{bucket_from, read_env_file};
use crate::cli::PolicyArgs;
use crate::infra::iam::{PublisherScope, github_trust_policy, publisher_policy};
use crate::infra::names::distribution_arn;
use crate::output::Output;

pub fn run(args: &PolicyArgs, out: &Output) -> Result<bool> {
    let env = read_env_file(&args.env_file)?;
    let file = &args.env_file;
    let bucket = bucket_from(args.bucket.as_deref(), env.as_ref(), file)?;
    let account = args
        .account_id
        .clone()
        .or_else(|| env.as_ref().and_then(|e| e.account_id.clone()));
    let needs_account = || {
        account.clone().with_context(|| {
            format!(
                "the account id is unknown: pass --account-id (12 digits), or run where {} from setup is",
                file.display()
            )
        })
    };
    let dist_arn = match &args.distribution_id {
        Some(id) => Some(distribution_arn(&needs_account()?, id)),
        None => None,
    };
    let permissions = publisher_policy(&PublisherScope {
        bucket: &bucket,
        prefix: &args.prefix,
        project: &args.project,
        distribution_arn: dist_arn.as_deref(),
        kms_key_arn: args.kms_key_arn.as_deref(),
    })
    .map_err(anyhow::Error::msg)?;
    let doc = match &args.repo {
        None => permissions,
        Some(repo) => {
            let trust = github_trust_policy(&needs_account()?, repo, args.subject.as_deref())
                .map_err(anyhow::Error::msg)?;
            json!({"PermissionsPolicy": permissions, "TrustPolicy": trust})
        }
    };
    out.json(&doc)?;
    Ok(true)
}
