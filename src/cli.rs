//! Command-line flags. Names follow pytest-allure-host's `publish-allure` so
//! existing scripts keep working; every flag also has an environment variable
//! and an `allure-host.yml` key (see `settings`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "allure-host",
    version,
    about = "Publish Allure reports privately to S3 + CloudFront (or a local directory)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate the report from allure-results (with history) and publish it.
    Publish(Box<PublishArgs>),
    /// Run as the GitHub Action: configured by the ALLURE_* and GITHUB_*
    /// variables that action.yml and the runner set (see docs/github-action.md).
    Action,
}

const ENV_HELP: &str = "\
Every flag can also come from the environment or from allure-host.yml (key in brackets):
  ALLURE_BUCKET [bucket]          ALLURE_PREFIX [prefix]           ALLURE_PROJECT [project]
  ALLURE_BRANCH [branch]          ALLURE_RUN_ID [run_id]           ALLURE_CLOUDFRONT [cloudfront]
  ALLURE_RESULTS_DIR [results]    ALLURE_REPORT_DIR [report]       ALLURE_TTL_DAYS [ttl_days]
  ALLURE_MAX_KEEP_RUNS [max_keep_runs]   ALLURE_SSE [sse]   ALLURE_SSE_KMS_KEY_ID [sse_kms_key_id]
  ALLURE_S3_ENDPOINT or AWS_ENDPOINT_URL [s3_endpoint]      ALLURE_REGION or AWS_REGION [aws_region]
  ALLURE_LOCAL_DIR [local_dir]    ALLURE_CONCURRENCY [concurrency] ALLURE_CONTEXT_URL [context_url]
  ALLURE_META (lines of KEY=VALUE) [meta]   ALLURE_KEEP_ANALYTICS [keep_analytics]
  ALLURE_VARIANT [variant]
Precedence: flag > environment > allure-host.yml > CI context > default.
ALLURE_BIN names the Allure 2 CLI; without it `allure` is looked up on PATH and,
failing that, installed with npm on first use.";

#[derive(Debug, Args, Default, Clone)]
#[command(after_help = ENV_HELP)]
pub struct PublishArgs {
    /// Config file (default: ./allure-host.yml when present).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// S3 bucket. Without a bucket the report goes to ./allure-site.
    #[arg(long)]
    pub bucket: Option<String>,
    /// Key prefix in the bucket [default: reports].
    #[arg(long)]
    pub prefix: Option<String>,
    /// Project name [default: repository or directory name].
    #[arg(long)]
    pub project: Option<String>,
    /// Branch name [default: from CI, else the git branch].
    #[arg(long)]
    pub branch: Option<String>,
    /// Run id [default: from CI, else a UTC timestamp with a random suffix].
    #[arg(long)]
    pub run_id: Option<String>,
    /// CloudFront base URL (https://dxxxx.cloudfront.net) used in printed links.
    #[arg(long, value_name = "URL")]
    pub cloudfront: Option<String>,
    /// allure-results directory [default: allure-results].
    #[arg(long, alias = "results-dir", value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Publish this already generated report instead of generating one.
    #[arg(long, alias = "report-dir", value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Tag every object of the run `ttl-days=N` (for a lifecycle rule).
    #[arg(long, value_name = "N")]
    pub ttl_days: Option<u32>,
    /// Keep only the newest N runs of the branch; older ones are deleted.
    #[arg(long, value_name = "N")]
    pub max_keep_runs: Option<u32>,
    /// Server-side encryption: AES256 or aws:kms.
    #[arg(long)]
    pub sse: Option<String>,
    /// KMS key for aws:kms encryption.
    #[arg(long, value_name = "KEY_ID")]
    pub sse_kms_key_id: Option<String>,
    /// S3 endpoint URL (a local or S3-compatible server).
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// AWS region of the bucket [default: from the AWS config, else us-east-1].
    #[arg(long)]
    pub region: Option<String>,
    /// Publish into this local directory instead of S3.
    #[arg(long, value_name = "DIR")]
    pub local_dir: Option<PathBuf>,
    /// Parallel uploads [default: 64].
    #[arg(long, alias = "upload-workers", value_name = "N")]
    pub concurrency: Option<usize>,
    /// Write a JSON summary of the publish to PATH.
    #[arg(long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
    /// Link to the CI build, shown in the runs index.
    #[arg(long, value_name = "URL")]
    pub context_url: Option<String>,
    /// Extra KEY=VALUE recorded with the run (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub meta: Vec<String>,
    /// Which CI matrix leg this is (text, or the matrix as JSON); shown in the
    /// runs index and appended to a run id taken from CI.
    #[arg(long, value_name = "LEG")]
    pub variant: Option<String>,
    /// Keep Allure's third-party analytics script in the report page.
    #[arg(long)]
    pub keep_analytics: bool,
    /// Show what would be written and deleted, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Check the Allure CLI, results, credentials and bucket; publish nothing.
    #[arg(long)]
    pub check: bool,
}
