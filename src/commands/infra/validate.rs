//! `infra validate`: read everything, print the checks, fail on any miss.

use anyhow::Result;

use super::{connect, read_env_file};
use crate::cli::ValidateArgs;
use crate::commands::check;
use crate::infra::access::AccessConfig;
use crate::infra::aws::Aws;
use crate::infra::function_test;
use crate::infra::names::Names;
use crate::infra::state::Observed;
use crate::infra::validate;
use crate::model::checks::{Row, all_ok};
use crate::output::Output;
use crate::storage::s3::S3Options;

pub async fn run(args: &ValidateArgs, out: &Output) -> Result<bool> {
    let env = read_env_file(&args.aws.env_file)?;
    let (aws, names) = connect(&args.aws, env.as_ref()).await?;
    let id = args
        .distribution_id
        .as_deref()
        .or_else(|| env.as_ref().and_then(|e| e.distribution_id.as_deref()));
    let obs = aws.observe(&names, id).await?;
    let mut rows = validate::checks(&names, &obs);
    rows.extend(function_rows(&aws, &names, &obs).await);
    if obs.bucket.is_some() {
        let s3 = S3Options {
            bucket: names.bucket.clone(),
            region: Some(names.region.clone()),
            endpoint: super::endpoint(&args.aws),
            ..S3Options::default()
        };
        rows.extend(check::server_rows(&s3, args.unsafe_no_conditional_writes).await);
    }
    out.check_table(&rows);
    Ok(all_ok(&rows))
}

/// CloudFront runs the function's DEVELOPMENT stage on fixed requests
/// built from its own settings. Nothing when there is no function or its
/// settings cannot be read: the access row says so.
pub(super) async fn function_rows(aws: &Aws, names: &Names, obs: &Observed) -> Vec<Row> {
    let Some(f) = &obs.function else {
        return Vec::new();
    };
    let config = match AccessConfig::from_code(&f.code) {
        Ok(Some(config)) => config,
        Ok(None) => AccessConfig::open(),
        Err(_) => return Vec::new(),
    };
    let mut rows = Vec::new();
    for case in function_test::cases(&config, chrono::Utc::now().timestamp()) {
        match aws
            .test_function(&names.function, &f.etag, &case.event)
            .await
        {
            Ok(Some(outcome)) => rows.push(function_test::judge(&case, &outcome)),
            Ok(None) => {
                return vec![function_test::not_run(
                    "this endpoint does not implement it (an emulator such as moto?)",
                )];
            }
            Err(e) => return vec![function_test::not_run(&format!("{e:#}"))],
        }
    }
    rows
}
