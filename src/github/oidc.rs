//! AWS credentials from GitHub's OIDC token: ask the runner's token endpoint
//! for a token with audience `sts.amazonaws.com`, then trade it with STS
//! AssumeRoleWithWebIdentity for short-lived keys.

use anyhow::{Context, Result, anyhow};
use aws_sdk_s3::config::Credentials;
use serde::Deserialize;

use super::api::{GitHub, bearer, body_json};
use super::context::Runner;
use crate::aws::{self, Signing};

pub const AUDIENCE: &str = "sts.amazonaws.com";

#[derive(Deserialize)]
struct TokenResponse {
    value: String,
}

/// The runner's OIDC token for AWS.
pub async fn id_token(gh: &GitHub, runner: &Runner) -> Result<String> {
    let (Some(url), Some(request_token)) = (&runner.id_token_url, &runner.id_token_request_token)
    else {
        return Err(anyhow!(
            "role-to-assume is set, but this job cannot request an OIDC token: \
             add `permissions: id-token: write` to the job (or workflow)"
        ));
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{sep}audience={AUDIENCE}");
    let resp = gh
        .get_plain(&url, Some(bearer(request_token)?))
        .await
        .context("cannot get the GitHub OIDC token")?;
    let token: TokenResponse = body_json(resp)
        .await
        .context("the GitHub OIDC token endpoint answered without a token")?;
    Ok(token.value)
}

/// A valid RoleSessionName: `[\w+=,.@-]{2,64}`.
pub fn session_name(hint: &str) -> String {
    let mut s: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    while s.len() < 2 {
        s.push('-');
    }
    s
}

/// Trade the token for credentials. `endpoint` is the S3-compatible endpoint
/// when one is set (MinIO and moto serve STS there too).
pub async fn assume_role(
    role_arn: &str,
    session: &str,
    token: &str,
    region: Option<String>,
    endpoint: Option<&str>,
) -> Result<Credentials> {
    // The call is unsigned: no credentials needed (or looked up).
    let conf = aws::config(region.as_deref(), Signing::Anonymous).await;
    let sts = aws::sts(&conf, endpoint);
    let out = sts
        .assume_role_with_web_identity()
        .role_arn(role_arn)
        .role_session_name(session)
        .web_identity_token(token)
        .send()
        .await
        .map_err(|e| {
            match aws::unreachable(&e, endpoint, &aws::region(&conf), "the endpoint-url input") {
                Some(u) => anyhow!(u),
                None => anyhow!(
                    "AssumeRoleWithWebIdentity for {role_arn} failed: {}; check the role's trust \
                 policy allows this repository (token.actions.githubusercontent.com, \
                 audience {AUDIENCE})",
                    aws::describe(&e)
                ),
            }
        })?;
    let c = out
        .credentials
        .ok_or_else(|| anyhow!("STS returned no credentials for {role_arn}"))?;
    let expiry = std::time::SystemTime::try_from(c.expiration).ok();
    Ok(Credentials::new(
        c.access_key_id,
        c.secret_access_key,
        Some(c.session_token),
        expiry,
        "github-oidc",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_are_valid() {
        assert_eq!(session_name("allure-host-123-1"), "allure-host-123-1");
        assert_eq!(session_name("a b/c"), "a-b-c");
        assert_eq!(session_name(""), "--");
        assert_eq!(session_name(&"x".repeat(100)).len(), 64);
    }
}
