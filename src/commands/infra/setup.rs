//! `infra setup`: observe, plan, confirm, apply, wait for CloudFront, then
//! record the result in the env file and allure-host.yml.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::{connect, read_env_file};
use crate::cli::SetupArgs;
use crate::commands::confirm;
use crate::infra::access::{Access, AccessConfig};
use crate::infra::aws::Wait;
use crate::infra::aws::wait::settled;
use crate::infra::config_file::{PublishConfig, cloudfront_url};
use crate::infra::env_file::InfraEnv;
use crate::infra::names::Names;
use crate::infra::plan::{self, Desired};
use crate::infra::state::{DistributionState, Observed};
use crate::model::access::{AccessKey, Mode, parse_modes};
use crate::output::{self, Output};

pub async fn run(args: &SetupArgs, out: &Output) -> Result<bool> {
    let env_path = &args.aws.env_file;
    let env = read_env_file(env_path)?;
    if let (Some(e), false) = (&env, args.adopt) {
        bail!(
            "{} already exists (bucket {}, distribution {}): setup has run here. Run `allure-host infra validate` to check it, `allure-host infra setup --adopt` to reconcile it, or remove {} to start over",
            env_path.display(),
            e.bucket,
            e.distribution_id.as_deref().unwrap_or("none"),
            env_path.display()
        );
    }
    if !args.yes && !args.dry_run && !std::io::stdin().is_terminal() {
        bail!(
            "setup changes AWS resources: pass --yes to run it unattended, or --dry-run to see the plan"
        );
    }
    if args.ttl_days.contains(&0) {
        bail!("--ttl-days values must be at least 1 day");
    }
    let (aws, names) = connect(&args.aws, env.as_ref()).await?;
    let known_id = env.as_ref().and_then(|e| e.distribution_id.as_deref());
    let mut obs = aws.observe(&names, known_id).await?;
    let (access, new_key) = wanted_access(args, &names, &obs)?;
    let desired = Desired {
        names: &names,
        price_class: &args.price_class,
        ttl_days: &args.ttl_days,
        access: &access,
    };
    let steps = plan::setup(&desired, &obs);
    let lines: Vec<String> = steps.iter().map(|s| s.describe(&desired)).collect();
    let title = format!("Setup of s3://{} in {}", names.bucket, names.region);
    out.infra_plan(&title, &lines, args.dry_run);
    if args.dry_run {
        return Ok(true);
    }
    if !steps.is_empty() && !args.yes && !confirm("Apply these changes?", "--yes", out)? {
        out.line("Nothing was changed.");
        return Ok(false);
    }
    for (step, line) in steps.iter().zip(&lines) {
        if let Some(warning) = aws.apply_setup(step, &desired, &mut obs).await? {
            out.warning(&warning);
        }
        out.infra_step_done(line);
    }
    let dist = obs
        .distribution
        .clone()
        .context("the distribution is missing after setup")?;
    let dist = if settled(&dist, true) {
        dist
    } else {
        out.line(format_args!(
            "Waiting for CloudFront to deploy {} (up to {}s; it often takes 5-15 minutes)...",
            dist.id, args.wait_timeout
        ));
        let wait = Wait {
            timeout: Duration::from_secs(args.wait_timeout),
            interval: Duration::from_secs(args.poll_interval.max(1)),
        };
        aws.wait_for(&dist.id, true, wait, |d, t| {
            out.line(format_args!(
                "  {} is {} ({}s)",
                d.id,
                d.status,
                t.as_secs()
            ))
        })
        .await?
    };
    let record = InfraEnv {
        bucket: names.bucket.clone(),
        region: names.region.clone(),
        account_id: Some(obs.account.clone()).filter(|a| !a.is_empty()),
        distribution_id: Some(dist.id.clone()),
        cf_domain: Some(dist.domain.clone()),
        oac_id: obs.oac.as_ref().map(|o| o.id.clone()),
        function_name: Some(names.function.clone()),
    };
    write_if_changed(env_path, &record.render(), out)?;
    write_publish_config(args, &names, &dist, out)?;
    // Now that the function is live, CloudFront runs it on fixed requests.
    let tested = super::validate::function_rows(&aws, &names, &obs).await;
    if !tested.is_empty() {
        out.check_table(&tested);
    }
    let who = if access.config.modes == [Mode::Open] {
        "to anyone with the URL"
    } else {
        "privately"
    };
    out.line(format_args!(
        "Ready: https://{} serves s3://{} {who} (distribution {}); readers: {}. Next: `allure-host infra validate`, then `allure-host publish`.",
        dist.domain,
        names.bucket,
        dist.id,
        access.describe()
    ));
    if let Some(key) = new_key {
        super::access::print_key(&key, out);
    }
    if !crate::model::checks::all_ok(&tested) {
        out.error("CloudFront's test of the function failed (rows above): the site may not admit or refuse readers as set; run `allure-host infra validate` after fixing it");
        return Ok(false);
    }
    Ok(true)
}

/// The access the site should have: what its function enforces, changed by
/// the flags; signed links for a new site.
/// Settings it cannot read stop setup, unless --reset-access replaces them.
fn wanted_access(
    args: &SetupArgs,
    names: &Names,
    obs: &Observed,
) -> Result<(Access, Option<AccessKey>)> {
    let observed = match plan::observed_access(names, obs).writable() {
        Err(_) if args.reset_access => None,
        found => found?,
    };
    let mut config = observed.unwrap_or_else(AccessConfig::open);
    let modes = match &args.access {
        Some(text) => parse_modes(text)?,
        None if obs.function.is_none() => vec![Mode::Link],
        None => config.modes.clone(),
    };
    let key = config.set_modes(modes, &args.allow_ip)?;
    config.drop_retired(chrono::Utc::now().timestamp());
    Ok((Access::new(config)?, key))
}

/// allure-host.yml for this setup, unless the user's file differs.
fn write_publish_config(
    args: &SetupArgs,
    names: &Names,
    dist: &DistributionState,
    out: &Output,
) -> Result<()> {
    let config = PublishConfig {
        bucket: names.bucket.clone(),
        prefix: args.prefix.clone(),
        project: args.project.clone(),
        aws_region: names.region.clone(),
        cloudfront: Some(cloudfront_url(&dist.domain)),
        cloudfront_distribution_id: Some(dist.id.clone()),
    };
    let config_text = config.render()?;
    match std::fs::read_to_string(&args.config_file) {
        Ok(existing) if existing == config_text => {}
        Ok(_) => out.line(format_args!(
            "{} exists and was left as is; run `allure-host infra write-config --force` to regenerate it",
            args.config_file.display()
        )),
        Err(_) => write_if_changed(&args.config_file, &config_text, out)?,
    }
    Ok(())
}

fn write_if_changed(path: &Path, text: &str, out: &Output) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|t| t == text) {
        return Ok(());
    }
    output::write_atomic(path, text.as_bytes())?;
    out.line(format_args!("Wrote {}", path.display()));
    Ok(())
}
