//! `allure-host infra ...`: the AWS side, set up once and checked or torn
//! down later. Each subcommand has its own file; what they share (reading the
//! env file, choosing bucket and region, asking before acting) is here.

mod access;
mod cleanup;
mod policy;
mod precheck;
mod setup;
mod validate;
mod write_config;

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::cli::{AwsArgs, InfraCommand};
use crate::infra::aws::Aws;
use crate::infra::env_file::InfraEnv;
use crate::infra::names::Names;
use crate::output::Output;

pub async fn run(command: &InfraCommand, out: &Output) -> Result<bool> {
    match command {
        InfraCommand::Precheck(args) => precheck::run(args, out).await,
        InfraCommand::Setup(args) => setup::run(args, out).await,
        InfraCommand::Validate(args) => validate::run(args, out).await,
        InfraCommand::Cleanup(args) => cleanup::run(args, out).await,
        InfraCommand::WriteConfig(args) => write_config::run(args, out),
        InfraCommand::Policy(args) => policy::run(args, out),
        InfraCommand::Access(args) => access::run(args, out).await,
    }
}

/// The env file, if there is one.
fn read_env_file(path: &Path) -> Result<Option<InfraEnv>> {
    match std::fs::read_to_string(path) {
        Ok(text) => InfraEnv::parse(&text)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{}: {e}; fix the file or remove it", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// A flag, else the env file's value; and they must agree when both are given.
fn pick(
    flag: Option<&str>,
    from_file: Option<&str>,
    what: &str,
    file: &Path,
) -> Result<Option<String>> {
    match (flag, from_file) {
        (Some(f), Some(e)) if f != e => bail!(
            "--{what} {f} disagrees with {} ({e}); drop the flag, or pass --env-file for the other setup",
            file.display()
        ),
        (Some(f), _) => Ok(Some(f.to_string())),
        (None, e) => Ok(e.map(str::to_string)),
    }
}

/// The bucket a flag or the env file names, checked against S3's rules.
fn bucket_from(flag: Option<&str>, env: Option<&InfraEnv>, file: &Path) -> Result<String> {
    let bucket =
        pick(flag, env.map(|e| e.bucket.as_str()), "bucket", file)?.with_context(|| {
            format!(
                "no bucket: pass --bucket NAME or run where {} from `allure-host infra setup` is",
                file.display()
            )
        })?;
    crate::infra::names::validate_bucket(&bucket)?;
    Ok(bucket)
}

/// Clients and names for the bucket the flags or the env file point at.
/// `--endpoint-url`, else AWS_ENDPOINT_URL.
fn endpoint(args: &AwsArgs) -> Option<String> {
    args.endpoint_url.clone().or_else(|| {
        std::env::var("AWS_ENDPOINT_URL")
            .ok()
            .filter(|v| !v.is_empty())
    })
}

async fn connect(args: &AwsArgs, env: Option<&InfraEnv>) -> Result<(Aws, Names)> {
    let file = &args.env_file;
    let bucket = pick(
        args.bucket.as_deref(),
        env.map(|e| e.bucket.as_str()),
        "bucket",
        file,
    )?
    .with_context(|| {
        format!(
            "no bucket: pass --bucket NAME (or run where {} from `allure-host infra setup` is)",
            file.display()
        )
    })?;
    let region = pick(
        args.region.as_deref(),
        env.map(|e| e.region.as_str()).filter(|r| !r.is_empty()),
        "region",
        file,
    )?;
    // Validate before any call, so a bad name costs no network round trip.
    Names::new(
        &bucket,
        region.as_deref().unwrap_or(crate::aws::DEFAULT_REGION),
    )?;
    let aws = Aws::connect(region.as_deref(), endpoint(args).as_deref()).await?;
    let names = Names::new(&bucket, &aws.region)?;
    Ok((aws, names))
}
