//! allure-host: publish Allure reports privately to S3 + CloudFront, or to a
//! local directory.

pub mod checks;
pub mod cli;
pub mod commands;
pub mod github;
pub mod infra;
pub mod model;
pub mod output;
pub mod pages;
pub mod report;
pub mod settings;
pub mod storage;
pub mod transfer;

use anyhow::{Result, anyhow};

use cli::{Cli, Command, PublishArgs};

/// Run a parsed command line. Ok(false) means "ran, but report failure".
pub async fn run(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::Publish(args) => publish(&args).await,
        Command::Action => commands::action::run().await,
        Command::Infra(args) => commands::infra::run(&args.command).await,
    }
}

async fn publish(args: &PublishArgs) -> Result<bool> {
    let (settings, warnings) = settings::load(args).map_err(|e| anyhow!(e))?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    if args.check {
        let rows = commands::check::run(&settings).await?;
        let ok = output::check_table(&rows);
        if !args.dry_run || !ok {
            return Ok(ok);
        }
    }
    let summary = commands::publish::run(&settings, args.dry_run).await?;
    if !args.dry_run {
        output::published(&summary);
    }
    if let (Some(path), false) = (&settings.summary_json, args.dry_run) {
        output::write_summary(path, &summary)?;
    }
    Ok(true)
}
