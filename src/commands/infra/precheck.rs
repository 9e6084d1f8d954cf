//! `infra precheck`: can setup run here? Reads only.

use anyhow::Result;

use super::{connect, read_env_file};
use crate::cli::AwsArgs;
use crate::infra::state::BucketProbe;
use crate::model::checks::{Row, Status, all_ok, row};
use crate::output::Output;

pub async fn run(args: &AwsArgs, out: &Output) -> Result<bool> {
    let env = read_env_file(&args.env_file)?;
    let mut rows: Vec<Row> = Vec::new();
    // A bad name or missing credentials fail here, with their own message.
    let (aws, names) = match connect(args, env.as_ref()).await {
        Ok(found) => found,
        Err(e) => {
            rows.push(row("setup", Status::Fail, format!("{e:#}")));
            out.check_table(&rows);
            return Ok(false);
        }
    };
    rows.push(row(
        "bucket name",
        Status::Ok,
        format!("{} is a valid name", names.bucket),
    ));
    rows.push(row("region", Status::Ok, names.region.clone()));
    match aws.identity().await {
        Ok(id) => rows.push(row(
            "credentials",
            Status::Ok,
            format!("account {} as {}", id.account, id.arn),
        )),
        Err(e) => rows.push(row("credentials", Status::Fail, format!("{e:#}"))),
    }
    rows.push(match aws.probe_bucket(&names.bucket).await {
        Ok(BucketProbe::Available) => row("bucket", Status::Ok, "available: setup will create it"),
        Ok(BucketProbe::Ours { region }) => match region.filter(|r| r != &names.region) {
            Some(other) => row(
                "bucket",
                Status::Fail,
                format!("exists in {other}, not {}: pass --region {other}", names.region),
            ),
            None => row("bucket", Status::Ok, "exists and is yours: setup will adopt it"),
        },
        Ok(BucketProbe::Taken) => row(
            "bucket",
            Status::Fail,
            "taken by another account (or not readable with these credentials): choose another --bucket",
        ),
        Err(e) => row("bucket", Status::Fail, format!("{e:#}")),
    });
    rows.push(
        match aws
            .cloudfront
            .list_distributions()
            .max_items(1)
            .send()
            .await
        {
            Ok(_) => row("cloudfront", Status::Ok, "distributions can be listed"),
            Err(e) => row(
                "cloudfront",
                Status::Fail,
                format!(
                    "{:#}",
                    crate::infra::aws::failed("ListDistributions", "", e)
                ),
            ),
        },
    );
    if let Some(e) = &env {
        rows.push(row(
            "env file",
            Status::Warn,
            format!(
                "{} exists (bucket {}): setup will refuse unless given --adopt",
                args.env_file.display(),
                e.bucket
            ),
        ));
    }
    out.check_table(&rows);
    Ok(all_ok(&rows))
}
