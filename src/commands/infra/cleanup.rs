//! `infra cleanup`: delete what setup made, CloudFront first. Needs --yes.

use std::time::Duration;

use anyhow::{Result, bail};

use super::{connect, read_env_file};
use crate::cli::CleanupArgs;
use crate::infra::aws::Wait;
use crate::infra::names::ORIGIN_ID;
use crate::infra::plan;
use crate::output::Output;

pub async fn run(args: &CleanupArgs, out: &Output) -> Result<bool> {
    if !args.yes && !args.dry_run {
        bail!(
            "cleanup deletes the distribution, its function and OAC{}: pass --yes to confirm, or --dry-run to see the plan",
            if args.delete_bucket {
                ", and every object in the bucket with the bucket"
            } else {
                ""
            }
        );
    }
    let env_path = &args.aws.env_file;
    let env = read_env_file(env_path)?;
    let (aws, names) = connect(&args.aws, env.as_ref()).await?;
    let id = args
        .distribution_id
        .as_deref()
        .or_else(|| env.as_ref().and_then(|e| e.distribution_id.as_deref()));
    let mut obs = aws.observe(&names, id).await?;
    if let Some(d) = &obs.distribution {
        // Never delete a distribution that is not serving this bucket.
        let serves_bucket = d.config.origins().is_some_and(|o| {
            o.items()
                .iter()
                .any(|o| o.id() == ORIGIN_ID && o.domain_name() == names.origin_domain())
        });
        if !serves_bucket {
            bail!(
                "distribution {} does not serve s3://{} through allure-host's origin; refusing to delete it. Check --distribution-id",
                d.id,
                names.bucket
            );
        }
    }
    let steps = plan::cleanup(&obs, args.delete_bucket);
    let lines: Vec<String> = steps.iter().map(|s| s.describe(&names, &obs)).collect();
    let title = format!("Cleanup of s3://{} in {}", names.bucket, names.region);
    out.infra_plan(&title, &lines, args.dry_run);
    if args.dry_run {
        return Ok(true);
    }
    let wait = Wait {
        timeout: Duration::from_secs(args.wait_timeout),
        interval: Duration::from_secs(args.poll_interval.max(1)),
    };
    for (step, line) in steps.iter().zip(&lines) {
        aws.apply_cleanup(step, &names, &mut obs, wait, |d, t| {
            out.line(format_args!(
                "  {} is {} ({}s)",
                d.id,
                d.status,
                t.as_secs()
            ))
        })
        .await?;
        out.infra_step_done(line);
    }
    if env.is_some_and(|e| e.bucket == names.bucket) {
        std::fs::remove_file(env_path)?;
        out.line(format_args!("Removed {}", env_path.display()));
    }
    Ok(true)
}
