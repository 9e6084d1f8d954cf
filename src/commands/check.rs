//! `allure-host publish --check`: preflight. Verifies the Allure CLI, the
//! results, the credentials and the bucket's privacy, prints a table, and
//! fails when any row failed. Changes nothing.

use anyhow::Result;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};

use crate::checks::{Row, Status, row};
use crate::report::allure_cli::AllureCli;
use crate::report::results;
use crate::settings::{Settings, Source, Target};
use crate::storage::{S3Store, StoreError};

pub async fn run(settings: &Settings) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    match &settings.source {
        Source::Report(dir) => {
            rows.push(row(
                "allure cli",
                Status::Ok,
                "not needed: publishing a generated report",
            ));
            rows.push(match super::publish::check_report_dir(dir) {
                Ok(()) => row("report", Status::Ok, dir.display().to_string()),
                Err(e) => row("report", Status::Fail, format!("{e:#}")),
            });
        }
        Source::Results(dir) => {
            rows.push(match AllureCli::find() {
                Ok(Some(cli)) => match cli.version().await {
                    Ok(v) => row(
                        "allure cli",
                        Status::Ok,
                        format!("{} ({v})", cli.path.display()),
                    ),
                    Err(e) => row("allure cli", Status::Fail, format!("{e:#}")),
                },
                Ok(None) => row(
                    "allure cli",
                    Status::Warn,
                    "not found: it will be installed with npm on first publish (or set ALLURE_BIN)",
                ),
                Err(e) => row("allure cli", Status::Fail, format!("{e:#}")),
            });
            rows.push(match results::check(dir) {
                Ok(info) => row(
                    "results",
                    Status::Ok,
                    format!(
                        "{}: {} results, {} containers",
                        dir.display(),
                        info.results,
                        info.containers
                    ),
                ),
                Err(e) => row("results", Status::Fail, e.to_string()),
            });
        }
    }
    match &settings.target {
        Target::Local { dir, .. } => {
            let probe = dir.join(".allure-host-check");
            let writable = std::fs::create_dir_all(dir)
                .and_then(|_| std::fs::write(&probe, b""))
                .and_then(|_| std::fs::remove_file(&probe));
            rows.push(match writable {
                Ok(()) => row(
                    "local directory",
                    Status::Ok,
                    format!("{} is writable", dir.display()),
                ),
                Err(e) => row(
                    "local directory",
                    Status::Fail,
                    format!("{}: {e}", dir.display()),
                ),
            });
        }
        Target::S3(opts) => match S3Store::connect(opts.clone()).await {
            Err(e) => rows.push(row("credentials", Status::Fail, e.to_string())),
            Ok(store) => s3_rows(&store, opts.endpoint.as_deref(), &mut rows).await,
        },
    }
    Ok(rows)
}

async fn s3_rows(store: &S3Store, endpoint: Option<&str>, rows: &mut Vec<Row>) {
    let mut sts = aws_sdk_sts::config::Builder::from(store.sdk_config());
    if let Some(endpoint) = endpoint {
        sts = sts.endpoint_url(endpoint);
    }
    let sts = aws_sdk_sts::Client::from_conf(sts.build());
    rows.push(match sts.get_caller_identity().send().await {
        Ok(id) => row(
            "credentials",
            Status::Ok,
            format!(
                "account {} as {}",
                id.account().unwrap_or("?"),
                id.arn().unwrap_or("?")
            ),
        ),
        Err(e) => row(
            "credentials",
            Status::Fail,
            DisplayErrorContext(&e).to_string(),
        ),
    });
    let client = store.client();
    let bucket = store.bucket();
    match client.head_bucket().bucket(bucket).send().await {
        Ok(_) => rows.push(row("bucket", Status::Ok, format!("{bucket} is reachable"))),
        Err(e) => {
            let detail = if e.raw_response().map(|r| r.status().as_u16()) == Some(404) {
                StoreError::NoSuchBucket {
                    bucket: bucket.into(),
                }
                .to_string()
            } else {
                DisplayErrorContext(&e).to_string()
            };
            rows.push(row("bucket", Status::Fail, detail));
            return;
        }
    }
    rows.push(match client.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => {
            let c = out.public_access_block_configuration();
            let all = c.is_some_and(|c| {
                [
                    c.block_public_acls(),
                    c.ignore_public_acls(),
                    c.block_public_policy(),
                    c.restrict_public_buckets(),
                ]
                .iter()
                .all(|v| *v == Some(true))
            });
            if all {
                row("public access block", Status::Ok, "all four settings on")
            } else {
                row(
                    "public access block",
                    Status::Fail,
                    "not all four settings are on; run `allure-host infra setup` or enable Block Public Access",
                )
            }
        }
        Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => row(
            "public access block",
            Status::Fail,
            "no Block Public Access configuration; enable all four settings",
        ),
        Err(e) => row("public access block", Status::Fail, DisplayErrorContext(&e).to_string()),
    });
    rows.push(
        match client
            .get_bucket_policy_status()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => match out.policy_status().and_then(|s| s.is_public()) {
                Some(true) => row(
                    "bucket policy",
                    Status::Fail,
                    "the bucket policy makes the bucket public",
                ),
                _ => row("bucket policy", Status::Ok, "not public"),
            },
            Err(e) if e.code() == Some("NoSuchBucketPolicy") => {
                row("bucket policy", Status::Ok, "no bucket policy (not public)")
            }
            Err(e) => row(
                "bucket policy",
                Status::Warn,
                DisplayErrorContext(&e).to_string(),
            ),
        },
    );
}
