//! Command-line flags. Publish flags are declared with their environment
//! variable and `allure-host.yml` key in `settings::layer`; their names follow
//! pytest-allure-host's `publish-allure` so existing scripts keep working.

use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches, Parser, Subcommand};

use crate::settings::{Layer, layer};

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
    /// Provision, check and tear down the private bucket and its CloudFront
    /// distribution (see docs/infrastructure.md).
    Infra(Box<InfraArgs>),
    /// Serve a local site (what a publish without a bucket writes) on
    /// http://127.0.0.1, routed like the CloudFront distribution.
    Serve(ServeArgs),
    /// Print a signed link that opens a report of a private site (link mode)
    /// for N days. The key comes from ALLURE_ACCESS_KEY.
    Share(Box<ShareArgs>),
    /// Remove old runs (--keep, --max-age-days), whole branches (--branch,
    /// --branches-except, --git-remote) and runs that expired or are gone.
    /// The manifest changes first, so no page lists a removed run.
    Prune(Box<PruneArgs>),
    /// Storage per project and branch: runs, files, bytes, oldest and newest run.
    Usage(Box<UsageArgs>),
    /// What a branch's test history says: its flaky tests (default), the
    /// most failing, the slowest, the newly slower, the latest run's new
    /// failures (see docs/test-history.md).
    Tests(Box<TestsArgs>),
}

/// Where the reports are: the publish settings' bucket (or directory),
/// prefix and project, from flags, ALLURE_* variables and allure-host.yml.
/// The flags are the settings table's own (`settings::layer::SITE_FIELDS`),
/// with their help, value names and parsers; only `--config` and
/// `--all-projects` are declared here.
#[derive(Debug, Clone, Default)]
pub struct SiteArgs {
    /// Config file [default: allure-host.yml if present].
    pub config: Option<PathBuf>,
    /// Every project under the prefix.
    pub all_projects: bool,
    /// The site settings given as flags; every other field is None.
    pub settings: Layer,
}

impl Args for SiteArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let table = Layer::augment_args(clap::Command::new("settings"));
        // First in --help, in the table's order, before the command's own.
        let site = table
            .get_arguments()
            .filter(|a| layer::SITE_FIELDS.contains(&a.get_id().as_str()))
            .map(|a| a.clone().display_order(0));
        cmd.arg(
            Arg::new("config")
                .long("config")
                .value_name("PATH")
                .value_parser(clap::value_parser!(PathBuf))
                .display_order(0)
                .help("Config file [default: allure-host.yml if present]"),
        )
        .arg(
            Arg::new("all_projects")
                .long("all-projects")
                .action(ArgAction::SetTrue)
                .conflicts_with("project")
                .display_order(0)
                .help("Every project under the prefix"),
        )
        .args(site)
        .after_help(layer::site_env_help())
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for SiteArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self {
            config: m.get_one::<PathBuf>("config").cloned(),
            all_projects: m.get_flag("all_projects"),
            settings: Layer::from_some_matches(m),
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    /// Keep the newest N runs of each branch (each leg's newest run always stays).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep: Option<u32>,
    /// Remove runs published more than D days ago (never a leg's newest run).
    #[arg(long, value_name = "D", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_age_days: Option<u32>,
    /// Remove this whole branch: its runs, pointers, pages and its row on
    /// the project page. Other branches are left alone.
    #[arg(long, value_name = "BRANCH", conflicts_with_all = ["branches_except", "git_remote"])]
    pub branch: Option<String>,
    /// Remove every branch not in this list (comma-separated, or @FILE with
    /// one branch per line).
    #[arg(long, value_name = "LIST", conflicts_with = "git_remote")]
    pub branches_except: Option<String>,
    /// Remove every branch that this git remote no longer has (`git ls-remote --heads`).
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "origin")]
    pub git_remote: Option<String>,
    /// Print the plan (runs, objects, bytes) and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete without asking (required when not run from a terminal).
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct UsageArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TestsArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    /// The branch whose tests to read.
    #[arg(long)]
    pub branch: String,
    /// Which list [default: flaky].
    #[arg(long = "list", value_enum, default_value_t = TestsList::Flaky)]
    pub list: TestsList,
    /// Shorthands for --list.
    #[arg(long, conflicts_with_all = ["list", "failing", "slowest", "slower"])]
    pub flaky: bool,
    #[arg(long, conflicts_with_all = ["list", "slowest", "slower"])]
    pub failing: bool,
    #[arg(long, conflicts_with_all = ["list", "slower"])]
    pub slowest: bool,
    #[arg(long, conflicts_with = "list")]
    pub slower: bool,
    /// Rows at most.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestsList {
    Flaky,
    Failing,
    Slowest,
    Slower,
    NewFailures,
}

impl TestsList {
    pub fn heading(self) -> &'static str {
        match self {
            Self::Flaky => "Flaky",
            Self::Failing => "Most failing",
            Self::Slowest => "Slowest",
            Self::Slower => "Newly slower",
            Self::NewFailures => "New failures in the latest run",
        }
    }
}

impl TestsArgs {
    /// The list asked for, by --list or its shorthand.
    pub fn chosen(&self) -> TestsList {
        match (self.failing, self.slowest, self.slower) {
            (true, _, _) => TestsList::Failing,
            (_, true, _) => TestsList::Slowest,
            (_, _, true) => TestsList::Slower,
            _ => self.list,
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The site folder.
    #[arg(default_value = crate::settings::DEFAULT_LOCAL_DIR)]
    pub dir: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = crate::settings::DEFAULT_SERVE_PORT)]
    pub port: u16,
    /// Open the site in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Also answer requests addressed to NAME (repeatable). Only
    /// 127.0.0.1, localhost and [::1] are answered otherwise, so a web page
    /// cannot reach the site by pointing its own name at this machine.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_host: Vec<String>,
}

#[derive(Debug, Args, Default, Clone)]
#[command(after_help = crate::settings::layer::env_help())]
pub struct PublishArgs {
    /// Config file (default: ./allure-host.yml when present).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The publish settings (see `settings::layer`).
    #[command(flatten)]
    pub settings: Layer,
    /// Show what would be written and deleted, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Check the Allure CLI, results, credentials and bucket; publish nothing.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct InfraArgs {
    #[command(subcommand)]
    pub command: InfraCommand,
}

#[derive(Debug, Subcommand)]
pub enum InfraCommand {
    /// Check credentials, region and the bucket name. Changes nothing.
    Precheck(AwsArgs),
    /// Create what is missing and adopt what exists: private bucket, OAC,
    /// viewer function, access, distribution, bucket policy, lifecycle rules.
    /// Then write .infra_env and allure-host.yml.
    Setup(SetupArgs),
    /// Check that the bucket is private and only the distribution reads it.
    /// Exits non-zero when anything is off.
    Validate(ValidateArgs),
    /// Delete the distribution, function and OAC, and our bucket policy
    /// statement; with --delete-bucket, every object and the bucket too.
    Cleanup(CleanupArgs),
    /// Write allure-host.yml from .infra_env and flags.
    WriteConfig(WriteConfigArgs),
    /// Print the least-privilege IAM policy for the publisher (and, with
    /// --repo, the GitHub OIDC trust policy). Calls no AWS API.
    Policy(PolicyArgs),
    /// Who may read the reports: modes, users, signing keys.
    Access(AccessArgs),
}

#[derive(Debug, Args, Clone, Default)]
/// Global, so `infra access` takes them after its own subcommand too.
pub struct AwsArgs {
    /// S3 bucket [default: BUCKET in the env file].
    #[arg(long, global = true)]
    pub bucket: Option<String>,
    /// AWS region [default: AWS_REGION in the env file, else the AWS config, else us-east-1].
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Send every AWS call to this URL, e.g. a local emulator [env: AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL", global = true)]
    pub endpoint_url: Option<String>,
    /// Where setup records what it made.
    #[arg(long, value_name = "PATH", default_value = ".infra_env", global = true)]
    pub env_file: PathBuf,
}

#[derive(Debug, Args, Clone)]
pub struct SetupArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Apply without asking (required when not run from a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Reconcile the infrastructure the env file describes instead of refusing.
    #[arg(long)]
    pub adopt: bool,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// CloudFront price class.
    #[arg(long, default_value = "PriceClass_100", value_parser = ["PriceClass_100", "PriceClass_200", "PriceClass_All"])]
    pub price_class: String,
    /// The ttl-days=N tag values that get an expiry rule (comma-separated).
    #[arg(
        long,
        value_name = "N,...",
        value_delimiter = ',',
        default_value = "7,14,30,60,90,180,365"
    )]
    pub ttl_days: Vec<u32>,
    /// Give up waiting for the distribution to deploy after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub wait_timeout: u64,
    /// Seconds between distribution status checks.
    #[arg(long, value_name = "SECONDS", default_value_t = 15)]
    pub poll_interval: u64,
    /// Key prefix written to allure-host.yml.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Project written to allure-host.yml.
    #[arg(long)]
    pub project: Option<String>,
    /// The publish config to write (left alone when it exists and differs).
    #[arg(long, value_name = "PATH", default_value = "allure-host.yml")]
    pub config_file: PathBuf,
    /// Who may read: link, basic, ip or open, or several joined by commas
    /// (ip,link) [default: link for a new site; an existing site keeps its modes].
    #[arg(long, value_name = "MODES")]
    pub access: Option<String>,
    /// An address range ip mode lets in (repeat for several).
    #[arg(long, value_name = "CIDR")]
    pub allow_ip: Vec<String>,
    /// Replace access settings the live function holds but this version
    /// cannot read, with new ones from --access (new keys, no users).
    #[arg(long, requires = "access")]
    pub reset_access: bool,
}

#[derive(Debug, Args)]
pub struct AccessArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(subcommand)]
    pub command: AccessCommand,
}

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Print the modes, key ids, users and ranges (never a secret).
    Show,
    /// Switch modes in place: link, basic, ip or open, or several joined by
    /// commas (ip,link).
    Set {
        modes: String,
        /// An address range ip mode lets in (repeat for several; replaces the list).
        #[arg(long, value_name = "CIDR")]
        allow_ip: Vec<String>,
        /// Let anyone read the status badges (each branch's and leg's
        /// badge.svg, nothing else) whatever the modes; =false makes them
        /// private again [default: as they are].
        #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
        public_badges: Option<bool>,
    },
    /// Add a user for basic mode (or give one a new password); the
    /// generated password is printed once.
    AddUser { name: String },
    /// Remove a user of basic mode.
    RemoveUser { name: String },
    /// Make a new signing key active (printed once); links signed with the
    /// old one keep opening for the grace period, then stop.
    Rotate {
        #[arg(long, value_name = "DAYS", default_value_t = crate::infra::access::DEFAULT_GRACE_DAYS)]
        grace_days: u32,
    },
}

#[derive(Debug, Args)]
pub struct ShareArgs {
    /// A report URL, or PROJECT/BRANCH[/RUN] under the configured site.
    pub target: String,
    /// Days the link opens for [default: --link-days, else 30].
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,
    /// What the link opens [default: the run the target names, else its branch].
    #[arg(long, value_parser = ["run", "branch", "project", "all"])]
    pub scope: Option<String>,
    /// Config file [default: allure-host.yml if present].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The site (--cloudfront, --prefix) and the key (ALLURE_ACCESS_KEY).
    #[command(flatten)]
    pub settings: Layer,
}

#[derive(Debug, Args, Clone)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The distribution to check [default: DISTRIBUTION_ID in the env file, else ours by name].
    #[arg(long, value_name = "ID")]
    pub distribution_id: Option<String>,
    /// Warn, not fail, where the server ignores conditional writes (one
    /// publisher at a time).
    #[arg(long)]
    pub unsafe_no_conditional_writes: bool,
}

#[derive(Debug, Args, Clone)]
pub struct CleanupArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The distribution to delete [default: DISTRIBUTION_ID in the env file, else ours by name].
    #[arg(long, value_name = "ID")]
    pub distribution_id: Option<String>,
    /// Confirm the deletion (required).
    #[arg(long)]
    pub yes: bool,
    /// Also delete every object version in the bucket, and the bucket.
    #[arg(long)]
    pub delete_bucket: bool,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Give up waiting for the distribution to be disabled after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub wait_timeout: u64,
    /// Seconds between distribution status checks.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub poll_interval: u64,
}

#[derive(Debug, Args, Clone)]
pub struct WriteConfigArgs {
    /// S3 bucket [default: BUCKET in the env file].
    #[arg(long)]
    pub bucket: Option<String>,
    /// AWS region [default: AWS_REGION in the env file].
    #[arg(long)]
    pub region: Option<String>,
    /// CloudFront domain or URL [default: CF_DOMAIN in the env file].
    #[arg(long, value_name = "DOMAIN")]
    pub cloudfront: Option<String>,
    /// Distribution id [default: DISTRIBUTION_ID in the env file].
    #[arg(long, value_name = "ID")]
    pub distribution_id: Option<String>,
    #[arg(long)]
    pub prefix: Option<String>,
    #[arg(long)]
    pub project: Option<String>,
    #[arg(long, value_name = "PATH", default_value = ".infra_env")]
    pub env_file: PathBuf,
    /// Where to write.
    #[arg(long, short, value_name = "PATH", default_value = "allure-host.yml")]
    pub output: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Clone)]
pub struct PolicyArgs {
    /// S3 bucket [default: BUCKET in the env file].
    #[arg(long)]
    pub bucket: Option<String>,
    /// The project the publisher writes.
    #[arg(long)]
    pub project: String,
    /// Key prefix.
    #[arg(long, default_value = "reports")]
    pub prefix: String,
    /// GitHub repository (OWNER/NAME): also print the OIDC trust policy.
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// Narrow the trust to one OIDC subject, e.g. ref:refs/heads/main or environment:prod.
    #[arg(long, value_name = "SUBJECT", requires = "repo")]
    pub subject: Option<String>,
    /// Let the publisher invalidate this distribution.
    #[arg(long, value_name = "ID")]
    pub distribution_id: Option<String>,
    /// AWS account id [default: AWS_ACCOUNT_ID in the env file].
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,
    /// KMS key the publisher encrypts with (sse aws:kms).
    #[arg(long, value_name = "ARN")]
    pub kms_key_arn: Option<String>,
    #[arg(long, value_name = "PATH", default_value = ".infra_env")]
    pub env_file: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn usage(args: &[&str]) -> Result<SiteArgs, clap::Error> {
        let argv = [&["allure-host", "usage"], args].concat();
        match Cli::try_parse_from(argv)?.command {
            Command::Usage(u) => Ok(u.site),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_commands_are_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_site_flags_are_the_settings_tables() {
        let site = usage(&[
            "--bucket",
            "b",
            "--prefix",
            "r",
            "--project",
            "p",
            "--region",
            "eu-west-1",
            "--s3-endpoint",
            "http://127.0.0.1:9000",
            "--unsafe-no-conditional-writes",
            "--config",
            "c.yml",
        ])
        .unwrap();
        assert_eq!(site.settings.bucket.as_deref(), Some("b"));
        assert_eq!(site.settings.prefix.as_deref(), Some("r"));
        assert_eq!(site.settings.project.as_deref(), Some("p"));
        assert_eq!(site.settings.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            site.settings.s3_endpoint.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(site.settings.unsafe_no_conditional_writes, Some(true));
        assert_eq!(site.config, Some(PathBuf::from("c.yml")));
        assert_eq!(usage(&[]).unwrap().settings, Layer::default());
        let ids: Vec<String> = Cli::command()
            .find_subcommand("prune")
            .unwrap()
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .collect();
        for field in layer::SITE_FIELDS {
            assert!(ids.iter().any(|id| id == field), "{field}: {ids:?}");
        }
    }

    #[test]
    fn a_site_command_takes_no_publish_flag_and_one_project_choice() {
        assert!(usage(&["--results", "x"]).is_err());
        assert!(usage(&["--all-projects", "--project", "p"]).is_err());
        assert!(usage(&["--all-projects"]).unwrap().all_projects);
    }
}
