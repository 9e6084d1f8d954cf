//! `allure-host publish --check`: preflight. Verifies the Allure engine, the
//! results, the credentials, the bucket's privacy and what its server
//! honours, prints a table, and fails when any row failed. Changes nothing:
//! measuring the server writes scratch keys under `~allure-host/probe/` and
//! removes them.

use anyhow::Result;

use crate::infra::aws::Aws;
use crate::infra::preflight::{self, S3Readings};
use crate::infra::state::BucketProbe;
use crate::model::checks::{Row, Status, row};
use crate::model::engine::Engine;
use crate::report::allure_cli::AllureCli;
use crate::report::allure3::{self, Allure3};
use crate::report::results;
use crate::settings::{Settings, Source, Target};
use crate::storage::s3::S3Options;
use crate::storage::{S3Store, Store};

pub async fn run(settings: &Settings) -> Result<Vec<Row>> {
    let mut rows = source_rows(settings).await;
    match &settings.target {
        Target::Local { dir, .. } => rows.push(local_row(dir)),
        Target::S3(opts) => {
            rows.extend(s3_rows(opts).await);
            rows.extend(server_rows(opts, settings.accept_unconditional_writes).await);
        }
    }
    Ok(rows)
}

async fn source_rows(settings: &Settings) -> Vec<Row> {
    match &settings.report.source {
        Source::Report(dir) => vec![
            row(
                "allure cli",
                Status::Ok,
                "not needed: publishing a generated report",
            ),
            match results::check_report_dir(dir) {
                Ok(()) => row("report", Status::Ok, dir.display().to_string()),
                Err(e) => row("report", Status::Fail, e.to_string()),
            },
        ],
        Source::Results(dir) => vec![
            match settings.report.engine {
                Engine::Allure2 => allure_row().await,
                Engine::Allure3 => allure3_row(),
            },
            match results::check(dir) {
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
            },
        ],
    }
}

fn allure3_row() -> Row {
    match Allure3::find() {
        Ok(Some(a)) => row(
            "allure 3",
            Status::Ok,
            format!("{} {} on {}", a.home.display(), a.version, a.node.display()),
        ),
        Ok(None) => row(
            "allure 3",
            Status::Warn,
            format!(
                "not installed: npm ci installs allure@{} into {} on first publish (or set ALLURE3_HOME)",
                allure3::PIN.version(),
                Allure3::install_dir().display()
            ),
        ),
        Err(e) => row("allure 3", Status::Fail, format!("{e:#}")),
    }
}

async fn allure_row() -> Row {
    match AllureCli::find() {
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
    }
}

fn local_row(dir: &std::path::Path) -> Row {
    let probe = dir.join(".allure-host-check");
    let writable = std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&probe, b""))
        .and_then(|_| std::fs::remove_file(&probe));
    match writable {
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
    }
}

/// What the server honours, measured now (and recorded for publishes).
pub async fn server_rows(opts: &S3Options, accept: bool) -> Vec<Row> {
    match S3Store::connect(opts.clone()).await {
        Ok(s3) => crate::commands::conditions::rows(&Store::s3(s3), accept).await,
        Err(e) => vec![row("server", Status::Fail, e.to_string())],
    }
}

/// infra's readers, each allowed to fail on its own, turned into rows.
async fn s3_rows(opts: &S3Options) -> Vec<Row> {
    let aws = match Aws::connect(opts.region.as_deref(), opts.endpoint.as_deref()).await {
        Ok(aws) => aws,
        Err(e) => return vec![row("credentials", Status::Fail, format!("{e:#}"))],
    };
    let bucket = opts.bucket.as_str();
    let text = |e: anyhow::Error| format!("{e:#}");
    let identity = aws
        .identity()
        .await
        .map(|i| (i.account, i.arn))
        .map_err(text);
    let probe = aws.probe_bucket(bucket).await.map_err(text);
    let usable = matches!(probe, Ok(BucketProbe::Ours { .. }));
    let (public_access_block, policy_is_public) = if usable {
        (
            Some(aws.public_access_block(bucket).await.map_err(text)),
            Some(aws.policy_is_public(bucket).await.map_err(text)),
        )
    } else {
        (None, None)
    };
    preflight::rows(&S3Readings {
        bucket: bucket.to_string(),
        identity,
        probe,
        public_access_block,
        policy_is_public,
    })
}
