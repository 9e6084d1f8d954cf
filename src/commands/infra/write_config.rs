//! `infra write-config`: allure-host.yml from the env file and flags.

use anyhow::{Context, Result, bail};

use super::{bucket_from, read_env_file};
use crate::cli::WriteConfigArgs;
use crate::infra::config_file::{PublishConfig, cloudfront_url};
use crate::output::{self, Output};

pub fn run(args: &WriteConfigArgs, out: &Output) -> Result<bool> {
    if args.output.exists() && !args.force {
        bail!(
            "{} exists: pass --force to overwrite it (or --output PATH to write elsewhere)",
            args.output.display()
        );
    }
    let env = read_env_file(&args.env_file)?;
    let file = &args.env_file;
    let from_env =
        |f: fn(&crate::infra::env_file::InfraEnv) -> Option<&str>| env.as_ref().and_then(f);
    let bucket = bucket_from(args.bucket.as_deref(), env.as_ref(), file)?;
    // Flags override the env file here (a custom domain, say); only the
    // bucket must agree, as the file describes that bucket's setup.
    let prefer = |flag: &Option<String>, fallback: Option<&str>| {
        flag.clone().or_else(|| fallback.map(str::to_string))
    };
    let region = prefer(
        &args.region,
        from_env(|e| Some(e.region.as_str()).filter(|r| !r.is_empty())),
    )
    .with_context(|| "no region: pass --region (for example eu-west-1)".to_string())?;
    let cloudfront = prefer(&args.cloudfront, from_env(|e| e.cf_domain.as_deref()));
    let distribution_id = prefer(
        &args.distribution_id,
        from_env(|e| e.distribution_id.as_deref()),
    );
    let config = PublishConfig {
        bucket,
        prefix: args.prefix.clone(),
        project: args.project.clone(),
        aws_region: region,
        cloudfront: cloudfront.as_deref().map(cloudfront_url),
        cloudfront_distribution_id: distribution_id,
    };
    let text = config.render()?;
    output::write_atomic(&args.output, text.as_bytes())?;
    out.line(format_args!("Wrote {}:\n{text}", args.output.display()));
    Ok(true)
}
