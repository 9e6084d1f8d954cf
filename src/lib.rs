//! allure-host: publish Allure reports privately to S3 + CloudFront, or to a
//! local directory.

pub mod cli;
pub mod commands;
pub mod github;
pub mod gitlab;
pub mod http;
pub mod notify;
pub mod output;
pub mod pages;
pub mod report;
pub mod settings;
pub mod state;
pub mod sticky;
pub mod stop;
pub mod transfer;

// The lower layers are crates of their own, so the compiler holds the
// rule that they import nothing above them (docs/adr/0007-layers-as-crates.md).
pub use allure_host_aws as aws;
pub use allure_host_infra as infra;
pub use allure_host_model as model;
pub use allure_host_storage as storage;

use anyhow::Result;

use cli::{Cli, Command, PublishArgs};
use output::{Mode, Output};

/// Run a parsed command line. Ok(false) means "ran, but report failure".
pub async fn run(cli: Cli) -> Result<bool> {
    let out = Output::new(Mode::Terminal);
    match cli.command {
        Command::Publish(args) => publish(&args, &out).await,
        Command::Action => commands::action::run().await,
        Command::Infra(args) => commands::infra::run(&args.command, &out).await,
        Command::Share(args) => commands::share::run(&args, &out),
        Command::Prune(args) => commands::prune::run(&args, &out).await,
        Command::Usage(args) => commands::usage::run(&args, &out).await,
        Command::Tests(args) => commands::tests::run(&args, &out).await,
        Command::Serve(args) => {
            commands::serve::run(&args, &out).await?;
            Ok(true)
        }
    }
}

async fn publish(args: &PublishArgs, out: &Output) -> Result<bool> {
    let (settings, warnings) = settings::load(&args.settings, args.config.as_deref())?;
    for w in warnings {
        out.warning(&w);
    }
    if args.check {
        let rows = commands::check::run(&settings).await?;
        let ok = out.check_table(&rows);
        if !args.dry_run || !ok {
            return Ok(ok);
        }
    }
    let summary = commands::publish::run(&settings, args.dry_run, out).await?;
    if !args.dry_run {
        out.published(&summary);
    }
    if let (Some(path), false) = (&settings.summary_json, args.dry_run) {
        output::write_summary(path, &summary)?;
    }
    if !args.dry_run {
        // In a GitLab merge request pipeline; a warning at worst.
        commands::mr_note::run(&settings, &summary, out).await;
        notify::send_all(&settings.notify, &summary, out).await;
    }
    Ok(true)
}
