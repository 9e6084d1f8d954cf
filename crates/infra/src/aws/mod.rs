//! The only part of `infra` that talks to AWS: S3, CloudFront and STS through
//! the SDK. `observe` reads what exists, `setup` and `cleanup` carry out the
//! steps of a plan, `wait` polls a distribution until it settles,
//! `test_function` has CloudFront run the function on an event.

mod cleanup;
mod observe;
mod setup;
mod test_function;
pub mod wait;

use std::fmt::Display;

use anyhow::{Context, Result, anyhow};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use allure_host_aws::{self as sdk, Signing};

pub use wait::Wait;

use crate::state::BucketProbe;

pub struct Aws {
    pub s3: aws_sdk_s3::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub sts: aws_sdk_sts::Client,
    pub region: String,
}

pub struct Identity {
    pub account: String,
    pub arn: String,
}

impl Aws {
    /// Clients for `region` (default: the AWS config's, else us-east-1).
    /// `endpoint` sends every service to one URL (a local AWS emulator).
    pub async fn connect(region: Option<&str>, endpoint: Option<&str>) -> Result<Self> {
        let config = sdk::config(region, Signing::Chain).await;
        sdk::require_credentials(&config).await?;
        Ok(Self {
            s3: sdk::s3(&config, endpoint),
            cloudfront: sdk::cloudfront(&config, endpoint),
            sts: sdk::sts(&config, endpoint),
            region: sdk::region(&config),
        })
    }

    pub async fn identity(&self) -> Result<Identity> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| failed("GetCallerIdentity", "", e))?;
        Ok(Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        })
    }

    pub async fn probe_bucket(&self, bucket: &str) -> Result<BucketProbe> {
        match self.s3.head_bucket().bucket(bucket).send().await {
            Ok(out) => Ok(BucketProbe::Ours {
                region: out.bucket_region().map(str::to_string),
            }),
            Err(e) => match status(&e) {
                Some(404) => Ok(BucketProbe::Available),
                Some(403) => Ok(BucketProbe::Taken),
                // 301: it exists in another region, and HEAD says which.
                Some(301) => Ok(BucketProbe::Ours {
                    region: e
                        .raw_response()
                        .and_then(|r| r.headers().get("x-amz-bucket-region"))
                        .map(str::to_string),
                }),
                _ => Err(failed("HeadBucket", bucket, e)),
            },
        }
    }
}

impl Aws {
    /// Replace the bucket's lifecycle rules with `rules`.
    async fn put_lifecycle_rules(
        &self,
        bucket: &str,
        rules: Vec<aws_sdk_s3::types::LifecycleRule>,
    ) -> Result<()> {
        let config = aws_sdk_s3::types::BucketLifecycleConfiguration::builder()
            .set_rules(Some(rules))
            .build()?;
        self.s3
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(config)
            .send()
            .await
            .map_err(|e| failed("PutBucketLifecycleConfiguration", bucket, e))?;
        Ok(())
    }
}

/// The HTTP status of a failed call (every SDK shares this response type).
fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// True when the error is one of `codes`: "there is none" answers that
/// observing treats as absence, not failure.
fn is_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>, codes: &[&str]) -> bool {
    err.code().is_some_and(|c| codes.contains(&c))
}

/// An SDK failure as a message that names the call and the resource, and
/// says what to do when it is a permission problem.
pub fn failed<E>(op: &str, target: impl Display, err: SdkError<E, HttpResponse>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let target = target.to_string();
    let on = if target.is_empty() {
        String::new()
    } else {
        format!(" on {target}")
    };
    let detail = match (err.code(), status(&err)) {
        (Some(code), _) => format!("{code}: {}", err.message().unwrap_or_default()),
        // An answer that is not an AWS error: the endpoint is not AWS's.
        (None, Some(http)) => format!(
            "HTTP {http} without an AWS error; is the endpoint an AWS API that implements {op}?"
        ),
        (None, None) => {
            match sdk::unreachable(&err, None, "", "--endpoint-url (or AWS_ENDPOINT_URL)") {
                Some(u) => u.to_string(),
                None => DisplayErrorContext(&err).to_string(),
            }
        }
    };
    let hint = match err.code().unwrap_or_default() {
        "AccessDenied" | "AccessDeniedException" => {
            format!(
                "; the credentials may not call {op}: grant it, or run with an administrator role"
            )
        }
        "InvalidClientTokenId" | "ExpiredToken" | "SignatureDoesNotMatch" => {
            "; the AWS credentials are not valid: refresh them (aws sso login, or new keys)"
                .to_string()
        }
        _ => String::new(),
    };
    anyhow!("{op}{on} failed: {detail}{hint}")
}

fn missing<T>(value: Option<T>, what: &str) -> Result<T> {
    value.with_context(|| format!("AWS answered without {what}"))
}
