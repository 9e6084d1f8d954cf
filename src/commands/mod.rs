//! The use cases. Each command turns settings into effects and output.

pub mod action;
pub mod check;
pub mod conditions;
pub mod infra;
pub mod mr_note;
pub mod prune;
pub mod publish;
pub mod serve;
pub mod share;
pub mod site;
pub mod tests;
pub mod usage;

use std::io::IsTerminal;

use anyhow::Result;

use crate::output::Output;
use crate::settings::Target;
use crate::storage::{LocalStore, S3Store, Store};

/// Open the configured store. `write` is false for plans and checks, which
/// must not create anything.
pub async fn open_store(target: &Target, write: bool, out: &Output) -> Result<Store> {
    Ok(match target {
        Target::S3(opts) => Store::s3(S3Store::connect(opts.clone()).await?),
        Target::Local { dir, defaulted } => {
            if *defaulted {
                out.note(format_args!(
                    "No bucket configured: using the local directory ./{} (pass --bucket to use S3)",
                    dir.display()
                ));
            }
            if write {
                Store::local(LocalStore::open(dir)?)
            } else {
                Store::local(LocalStore::open_read_only(dir)?)
            }
        }
    })
}

/// Ask on a terminal; refuse when nobody can answer.
pub fn confirm(question: &str, flag: &str, out: &Output) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "not confirmed: pass {flag} to run without a terminal (or --dry-run to see the plan)"
        );
    }
    Ok(matches!(out.ask(question)?.trim(), "y" | "Y" | "yes"))
}
