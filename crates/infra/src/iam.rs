//! Least-privilege IAM documents for the publisher: what it may do in the
//! bucket (only under its project's prefix), and the trust policy that lets a
//! GitHub Actions workflow of one repository assume the role through OIDC.

use serde_json::{Value, json};

use crate::model::layout::{Layout, LayoutError};
use crate::model::server::{PROBE_PREFIX, RECORD_PREFIX as SERVER_RECORDS};

pub const GITHUB_OIDC_HOST: &str = "token.actions.githubusercontent.com";

pub struct PublisherScope<'a> {
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub project: &'a str,
    /// The distribution's ARN, when the publisher should invalidate it.
    pub distribution_arn: Option<&'a str>,
    /// A KMS key the publisher encrypts with (aws:kms).
    pub kms_key_arn: Option<&'a str>,
}

/// What a policy cannot be written for.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error("--repo {0:?} is not OWNER/NAME (for example octo-org/web-app)")]
    Repo(String),
    #[error("account id {0:?} is not 12 digits; pass --account-id")]
    Account(String),
}

/// The project root in the bucket, encoded exactly as publish lays out keys.
pub fn project_root(prefix: &str, project: &str) -> Result<String, IamError> {
    // The branch is irrelevant to the project root; any valid one will do.
    Ok(Layout::new(prefix, project, "main")?.project_root())
}

pub fn publisher_policy(scope: &PublisherScope) -> Result<Value, IamError> {
    let root = project_root(scope.prefix, scope.project)?;
    let bucket = scope.bucket;
    let mut statements = vec![
        json!({
            "Sid": "ListProjectKeys",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": format!("arn:aws:s3:::{bucket}"),
            "Condition": {"StringLike": {"s3:prefix": [root.clone(), format!("{root}*")]}}
        }),
        json!({
            "Sid": "ReadWriteProjectObjects",
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:GetObjectTagging",
                "s3:PutObjectTagging"
            ],
            "Resource": format!("arn:aws:s3:::{bucket}/{root}*")
        }),
        // The site's access modes (no secret), so a publish without a key can
        // say its links would ask for access.
        json!({
            "Sid": "ReadSiteAccessModes",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/{}", crate::model::access::RECORD_KEY)
        }),
        // What the server honours: measured once under a scratch folder of
        // the site's own, and kept beside the access modes.
        json!({
            "Sid": "ListServerProbe",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": format!("arn:aws:s3:::{bucket}"),
            "Condition": {"StringLike": {"s3:prefix": [format!("{PROBE_PREFIX}*")]}}
        }),
        json!({
            "Sid": "MeasureServer",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": [
                format!("arn:aws:s3:::{bucket}/{PROBE_PREFIX}*"),
                format!("arn:aws:s3:::{bucket}/{SERVER_RECORDS}*")
            ]
        }),
    ];
    if let Some(arn) = scope.distribution_arn {
        statements.push(json!({
            "Sid": "InvalidateReports",
            "Effect": "Allow",
            "Action": "cloudfront:CreateInvalidation",
            "Resource": arn
        }));
    }
    if let Some(key) = scope.kms_key_arn {
        statements.push(json!({
            "Sid": "EncryptWithKey",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key
        }));
    }
    Ok(json!({"Version": "2012-10-17", "Statement": statements}))
}

/// `owner/name`, as GitHub spells a repository.
pub fn validate_repo(repo: &str) -> Result<(), IamError> {
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    match repo.split_once('/') {
        Some((owner, name)) if ok_part(owner) && ok_part(name) => Ok(()),
        _ => Err(IamError::Repo(repo.to_string())),
    }
}

/// Trust for `repo`'s workflows. `subject` narrows it (the part after
/// `repo:OWNER/NAME:`, e.g. `ref:refs/heads/main` or `environment:prod`);
/// by default any workflow run of the repository may assume the role.
pub fn github_trust_policy(
    account: &str,
    repo: &str,
    subject: Option<&str>,
) -> Result<Value, IamError> {
    validate_repo(repo)?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IamError::Account(account.to_string()));
    }
    let sub = format!("repo:{repo}:{}", subject.unwrap_or("*"));
    Ok(json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "GitHubActionsOidc",
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {format!("{GITHUB_OIDC_HOST}:aud"): "sts.amazonaws.com"},
                "StringLike": {format!("{GITHUB_OIDC_HOST}:sub"): sub}
            }
        }]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publisher_policy_is_scoped_to_the_project() {
        let p = publisher_policy(&PublisherScope {
            bucket: "b",
            prefix: "reports",
            project: "web app",
            distribution_arn: None,
            kms_key_arn: None,
        })
        .unwrap();
        let s = p["Statement"].as_array().unwrap();
        assert_eq!(s.len(), 5);
        // Outside the project: the site's access modes, read only, and the
        // server's probe and record.
        assert_eq!(s[2]["Action"], "s3:GetObject");
        assert_eq!(s[2]["Resource"], "arn:aws:s3:::b/~allure-host/access.json");
        assert_eq!(
            s[3]["Condition"]["StringLike"]["s3:prefix"],
            json!(["~allure-host/probe/*"])
        );
        assert_eq!(
            s[4]["Resource"],
            json!([
                "arn:aws:s3:::b/~allure-host/probe/*",
                "arn:aws:s3:::b/~allure-host/server/*"
            ])
        );
        assert_eq!(
            s[0]["Condition"]["StringLike"]["s3:prefix"],
            json!(["reports/web~20app/", "reports/web~20app/*"])
        );
        assert_eq!(s[1]["Resource"], "arn:aws:s3:::b/reports/web~20app/*");
        assert!(!p.to_string().contains("cloudfront"));
    }

    #[test]
    fn invalidation_and_kms_only_when_asked() {
        let p = publisher_policy(&PublisherScope {
            bucket: "b",
            prefix: "",
            project: "app",
            distribution_arn: Some("arn:aws:cloudfront::123456789012:distribution/E1"),
            kms_key_arn: Some("arn:aws:kms:eu-west-1:123456789012:key/k"),
        })
        .unwrap();
        let s = p["Statement"].as_array().unwrap();
        assert_eq!(s[1]["Resource"], "arn:aws:s3:::b/app/*");
        assert_eq!(s[5]["Action"], "cloudfront:CreateInvalidation");
        assert_eq!(
            s[5]["Resource"],
            "arn:aws:cloudfront::123456789012:distribution/E1"
        );
        assert_eq!(s[6]["Sid"], "EncryptWithKey");
    }

    #[test]
    fn trust_policy_names_the_repository() {
        let t = github_trust_policy("123456789012", "octo/web", None).unwrap();
        let c = &t["Statement"][0]["Condition"];
        assert_eq!(
            c["StringLike"]["token.actions.githubusercontent.com:sub"],
            "repo:octo/web:*"
        );
        assert_eq!(
            c["StringEquals"]["token.actions.githubusercontent.com:aud"],
            "sts.amazonaws.com"
        );
        let narrow =
            github_trust_policy("123456789012", "octo/web", Some("ref:refs/heads/main")).unwrap();
        assert_eq!(
            narrow["Statement"][0]["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"],
            "repo:octo/web:ref:refs/heads/main"
        );
        assert!(github_trust_policy("123", "octo/web", None).is_err());
        assert!(github_trust_policy("123456789012", "octo", None).is_err());
    }
}
