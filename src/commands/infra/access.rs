//! `infra access`: who may read the reports. Reads the settings from the
//! LIVE function, changes them, writes the function and the bucket's record.

use anyhow::{Context, Result, bail};
use chrono::Utc;

use super::{connect, read_env_file};
use crate::cli::{AccessArgs, AccessCommand};
use crate::infra::access::{Access, AccessConfig};
use crate::infra::plan::{self, Desired};
use crate::model::access::{AccessKey, Mode, parse_modes};
use crate::model::badge;
use crate::model::time::DAY_SECS;
use crate::output::Output;

/// A secret the change made, printed once after it is live.
enum Made {
    Nothing,
    Key(AccessKey),
    Password { user: String, password: String },
}

pub async fn run(args: &AccessArgs, out: &Output) -> Result<bool> {
    let env = read_env_file(&args.aws.env_file)?;
    let (aws, names) = connect(&args.aws, env.as_ref()).await?;
    let known_id = env.as_ref().and_then(|e| e.distribution_id.as_deref());
    let mut obs = aws.observe(&names, known_id).await?;
    // Settings it cannot read stop every subcommand, `show` included.
    let Some(mut config) = plan::observed_access(&names, &obs).writable()? else {
        bail!(
            "there is no CloudFront function {} for s3://{}; run `allure-host infra setup` first",
            names.function,
            names.bucket
        );
    };
    let made = match change(&args.command, &mut config)? {
        None => {
            out.line(format_args!(
                "Readers of s3://{}: {}",
                names.bucket,
                crate::infra::access::describe(&config)
            ));
            return Ok(true);
        }
        Some(made) => made,
    };
    if config.public_badges {
        refuse_stray_badges(&aws.s3, &names.bucket).await?;
    }
    for id in config.drop_retired(Utc::now().timestamp()) {
        out.line(format_args!(
            "Key {id} is past its grace period and is dropped."
        ));
    }
    let access = Access::new(config)?;
    let desired = Desired {
        names: &names,
        price_class: "",
        ttl_days: &[],
        access: &access,
    };
    for step in plan::access(&desired, &obs) {
        if let Some(warning) = aws.apply_setup(&step, &desired, &mut obs).await? {
            out.warning(&warning);
        }
        out.infra_step_done(&step.describe(&desired));
    }
    out.line(format_args!(
        "Readers of s3://{}: {}",
        names.bucket,
        access.describe()
    ));
    if access.config.modes.contains(&Mode::Basic) && access.config.users.is_empty() {
        out.warning("basic mode has no users yet, so nobody can sign in: run `allure-host infra access add-user NAME`");
    }
    match made {
        Made::Nothing => {}
        Made::Key(key) => print_key(&key, out),
        Made::Password { user, password } => {
            out.mask(&password);
            out.line(format_args!(
                "Password for {user} (shown once; share it privately): {password}"
            ))
        }
    }
    Ok(true)
}

/// Public badges open every key named `badge.svg`: refuse while the bucket
/// holds one that is not a publish's badge (`badge::strays`).
async fn refuse_stray_badges(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    let mut keys = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page
            .with_context(|| format!("cannot list s3://{bucket} to check its badge.svg files"))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_string),
        );
    }
    let strays = badge::strays(keys.iter().map(String::as_str));
    if strays.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = strays
        .iter()
        .take(10)
        .map(|k| format!("s3://{bucket}/{k}"))
        .collect();
    bail!(
        "public badges would open every object named badge.svg, and {} of them are not a branch's or leg's badge: {}{}; delete them (aws s3 rm URL) and run this again",
        strays.len(),
        shown.join(", "),
        if strays.len() > 10 { ", ..." } else { "" }
    )
}

/// Apply the subcommand to the settings; None for `show`.
fn change(command: &AccessCommand, config: &mut AccessConfig) -> Result<Option<Made>> {
    let made = match command {
        AccessCommand::Show => return Ok(None),
        AccessCommand::Set {
            modes,
            allow_ip,
            public_badges,
        } => {
            let made = match config.set_modes(parse_modes(modes)?, allow_ip)? {
                Some(key) => Made::Key(key),
                None => Made::Nothing,
            };
            if let Some(public) = public_badges {
                config.public_badges = *public;
            }
            made
        }
        AccessCommand::AddUser { name } => Made::Password {
            user: name.clone(),
            password: config.add_user(name)?,
        },
        AccessCommand::RemoveUser { name } => {
            config.remove_user(name)?;
            Made::Nothing
        }
        AccessCommand::Rotate { grace_days } => {
            if !config.modes.contains(&Mode::Link) {
                bail!(
                    "signing keys are for link mode; run `allure-host infra access set link` first"
                );
            }
            Made::Key(config.rotate(Utc::now().timestamp(), i64::from(*grace_days) * DAY_SECS))
        }
    };
    Ok(Some(made))
}

/// The one time a signing key is shown; in a GitHub Actions job it is
/// masked first, so the log shows `***`.
pub fn print_key(key: &AccessKey, out: &Output) {
    out.mask(&key.reveal());
    out.mask(key.secret());
    out.line(format_args!(
        "Access key {} (shown once; store it as the repository secret ALLURE_ACCESS_KEY and pass it as the action's access-key input):\n  {}",
        key.id,
        key.reveal()
    ));
}
