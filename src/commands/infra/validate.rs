//! `infra validate`: read everything, print the checks, fail on any miss.

use anyhow::Result;

use super::{connect, read_env_file};
use crate::checks::all_ok;
use crate::cli::ValidateArgs;
use crate::infra::validate;
use crate::output::Output;

pub async fn run(args: &ValidateArgs, out: &Output) -> Result<bool> {
    let env = read_env_file(&args.aws.env_file)?;
    let (aws, names) = connect(&args.aws, env.as_ref()).await?;
    let id = args
        .distribution_id
        .as_deref()
        .or_else(|| env.as_ref().and_then(|e| e.distribution_id.as_deref()));
    let obs = aws.observe(&names, id).await?;
    let rows = validate::checks(&names, &obs);
    out.check_table(&rows);
    Ok(all_ok(&rows))
}
