//! One source of settings, every field optional, merged by precedence.
//!
//! Each setting is declared once, in the `layer!` table below: its flag
//! (clap attributes and help), its environment variable and config-file key
//! (serde names, read by envy and serde_norway), and its action input. The
//! flags, the env layer, the file layer, `--help`'s variable list and the
//! action's input table all come from it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::SettingsError;

/// Where one setting can come from, for help and the action's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub field: &'static str,
    /// The `ALLURE_*` variable (also the action's `runs.env` name).
    pub env: &'static str,
    /// The `allure-host.yml` key.
    pub file: &'static str,
    /// The action.yml input that sets `env`, if the action offers it.
    pub input: Option<&'static str>,
}

macro_rules! layer {
    ($(
        $(#[doc = $doc:literal])*
        #[arg($($arg:tt)*)]
        $(#[serde($($serde:tt)*)])*
        $field:ident: $ty:ty => env $env:literal, file $file:literal, input $input:expr;
    )*) => {
        #[derive(Debug, Default, Clone, PartialEq, clap::Args, serde::Deserialize)]
        pub struct Layer {
            $(
                $(#[doc = $doc])*
                #[arg($($arg)*)]
                $(#[serde($($serde)*)])*
                pub $field: Option<$ty>,
            )*
            /// Extra KEY=VALUE recorded with the run (repeatable).
            #[arg(long = "meta", value_name = "KEY=VALUE", value_parser = parse_meta_item)]
            #[serde(default, deserialize_with = "meta_lines_or_map")]
            pub meta: Vec<(String, String)>,
            /// The commit, from CI or git only.
            #[arg(skip)]
            #[serde(skip)]
            pub commit: Option<String>,
        }

        /// Every setting with its names; `meta` comes last.
        pub const KEYS: &[Key] = &[
            $(Key { field: stringify!($field), env: $env, file: $file, input: $input },)*
            Key { field: "meta", env: "ALLURE_META", file: "meta", input: Some("meta") },
        ];

        impl Layer {
            /// The settings of a command that declares only some of the
            /// table's flags (`cli::SiteArgs`): each field from its flag when
            /// the command has that flag and it was given.
            pub fn from_some_matches(m: &clap::ArgMatches) -> Layer {
                Layer {
                    $($field: m.try_get_one::<$ty>(stringify!($field)).ok().flatten().cloned(),)*
                    meta: Vec::new(),
                    commit: None,
                }
            }

            /// `self` wins over `lower` field by field; meta key by key.
            pub fn over(self, lower: Layer) -> Layer {
                let mut meta = lower.meta;
                meta.extend(self.meta);
                Layer {
                    $($field: self.$field.or(lower.$field),)*
                    meta,
                    commit: self.commit.or(lower.commit),
                }
            }
        }
    };
}

layer! {
    /// S3 bucket. Without a bucket the report goes to ./allure-site.
    #[arg(long)]
    bucket: String => env "ALLURE_BUCKET", file "bucket", input Some("bucket");
    /// Key prefix in the bucket [default: reports].
    #[arg(long)]
    prefix: String => env "ALLURE_PREFIX", file "prefix", input Some("prefix");
    /// Project name [default: repository or directory name].
    #[arg(long)]
    project: String => env "ALLURE_PROJECT", file "project", input Some("project");
    /// Branch name [default: from CI, else the git branch].
    #[arg(long)]
    branch: String => env "ALLURE_BRANCH", file "branch", input Some("branch");
    /// Run id [default: from CI, else a UTC timestamp with a random suffix].
    #[arg(long)]
    run_id: String => env "ALLURE_RUN_ID", file "run_id", input Some("run-id");
    /// CloudFront base URL (https://dxxxx.cloudfront.net) used in printed links.
    #[arg(long, value_name = "URL")]
    cloudfront: String => env "ALLURE_CLOUDFRONT", file "cloudfront", input Some("cloudfront");
    /// allure-results directory [default: allure-results].
    #[arg(long, alias = "results-dir", value_name = "DIR")]
    #[serde(alias = "results_dir")]
    results: PathBuf => env "ALLURE_RESULTS_DIR", file "results", input Some("results");
    /// Publish this already generated report instead of generating one.
    #[arg(long, alias = "report-dir", value_name = "DIR")]
    #[serde(alias = "report_dir")]
    report: PathBuf => env "ALLURE_REPORT_DIR", file "report", input None;
    /// Tag every object of the run `ttl-days=N` (for a lifecycle rule).
    #[arg(long, value_name = "N")]
    ttl_days: u32 => env "ALLURE_TTL_DAYS", file "ttl_days", input Some("ttl-days");
    /// Keep only the newest N runs of the branch; older ones are deleted.
    #[arg(long, value_name = "N")]
    max_keep_runs: u32 => env "ALLURE_MAX_KEEP_RUNS", file "max_keep_runs", input Some("max-keep-runs");
    /// Server-side encryption: AES256 or aws:kms.
    #[arg(long)]
    sse: String => env "ALLURE_SSE", file "sse", input Some("sse");
    /// KMS key for aws:kms encryption.
    #[arg(long, value_name = "KEY_ID")]
    sse_kms_key_id: String => env "ALLURE_SSE_KMS_KEY_ID", file "sse_kms_key_id", input Some("sse-kms-key-id");
    /// S3 endpoint URL (a local or S3-compatible server) [env: also AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL")]
    s3_endpoint: String => env "ALLURE_S3_ENDPOINT", file "s3_endpoint", input Some("endpoint-url");
    /// AWS region of the bucket [default: from the AWS config, else us-east-1].
    #[arg(long)]
    #[serde(alias = "aws_region")]
    region: String => env "ALLURE_REGION", file "aws_region", input Some("aws-region");
    /// Publish into this local directory instead of S3.
    #[arg(long, value_name = "DIR")]
    local_dir: PathBuf => env "ALLURE_LOCAL_DIR", file "local_dir", input None;
    /// Write to an S3-compatible server that ignores conditional writes
    /// (If-None-Match, If-Match). Safe only while one publisher or prune
    /// writes to the bucket at a time: concurrent ones can mix a run's files
    /// and lose manifest rows. Every such write prints a warning.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    unsafe_no_conditional_writes: bool => env "ALLURE_UNSAFE_NO_CONDITIONAL_WRITES", file "unsafe_no_conditional_writes", input Some("unsafe-no-conditional-writes");
    /// Parallel uploads [default: 64].
    #[arg(long, alias = "upload-workers", value_name = "N")]
    concurrency: usize => env "ALLURE_CONCURRENCY", file "concurrency", input None;
    /// Write a JSON summary of the publish to PATH.
    #[arg(long, value_name = "PATH")]
    summary_json: PathBuf => env "ALLURE_SUMMARY_JSON", file "summary_json", input None;
    /// Link to the CI build, shown in the runs index.
    #[arg(long, value_name = "URL")]
    context_url: String => env "ALLURE_CONTEXT_URL", file "context_url", input Some("context-url");
    /// Keep Allure's third-party analytics script in the report page.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    keep_analytics: bool => env "ALLURE_KEEP_ANALYTICS", file "keep_analytics", input None;
    /// Which CI matrix leg this is (text, or the matrix as JSON); shown in the
    /// runs index and appended to a run id taken from CI.
    #[arg(long, value_name = "LEG")]
    variant: String => env "ALLURE_VARIANT", file "variant", input Some("variant");
    /// Compare the run with this branch's latest run (of the same job and
    /// leg): new failures, fixed, still failing, flaky. On a pull request the
    /// action compares with its base branch.
    #[arg(long, value_name = "BRANCH")]
    compare_to: String => env "ALLURE_COMPARE_TO", file "compare_to", input Some("compare-to");
    /// Webhooks told of each publish: Slack, Teams, Google Chat (kind
    /// inferred from the host) or any receiver of the summary JSON; several
    /// separated by commas or new lines, `KIND:URL` to name the kind. A
    /// secret: set it from the environment, never allure-host.yml.
    // No flag: a command line is seen by every process of the machine.
    #[arg(skip)]
    notify: String => env "ALLURE_NOTIFY", file "notify", input Some("notify");
    /// When to notify: always, failure (failed or broken tests, or a failed
    /// quality gate) or change (went red or green, or new failures)
    /// [default: always].
    #[arg(long, value_name = "WHEN")]
    notify_on: String => env "ALLURE_NOTIFY_ON", file "notify_on", input Some("notify-on");
    /// Runs of each trend line the branch's test history keeps (0: keep
    /// none, and write no tests page) [default: 50].
    #[arg(long, value_name = "N")]
    test_history: u32 => env "ALLURE_TEST_HISTORY", file "test_history", input Some("test-history");
    /// A test is flaky when it flips between passing and failing in at
    /// least this share of its runs (0 to 1) [default: 0.2].
    #[arg(long, value_name = "RATE")]
    flaky_threshold: f64 => env "ALLURE_FLAKY_THRESHOLD", file "flaky_threshold", input Some("flaky-threshold");
    /// A test is newly slower when its latest run took at least this many
    /// times its median [default: 2].
    #[arg(long, value_name = "RATIO")]
    slower_threshold: f64 => env "ALLURE_SLOWER_THRESHOLD", file "slower_threshold", input Some("slower-threshold");
    /// Key that signs links to a private site (KEYID.SECRET, printed once by
    /// `infra setup`); prefer the variable, never allure-host.yml.
    #[arg(long, value_name = "KEY", hide = true)]
    access_key: String => env "ALLURE_ACCESS_KEY", file "access_key", input Some("access-key");
    /// Days a signed link opens for [default: 30].
    #[arg(long, value_name = "N")]
    link_days: u32 => env "ALLURE_LINK_DAYS", file "link_days", input Some("link-days");
    /// The Allure engine: 2 (Java CLI) or 3 (npm `allure`) [default: 2].
    #[arg(long = "allure", value_name = "2|3")]
    // ALLURE_VERSION reaches serde as `version`.
    #[serde(alias = "version")]
    allure_version: u8 => env "ALLURE_VERSION", file "allure_version", input Some("allure-version");
    /// Allure 3's single-file report: one HTML file holding every result
    /// and attachment, which a reader downloads whole (docs/allure3.md).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    single_file: bool => env "ALLURE_SINGLE_FILE", file "single_file", input Some("single-file");
    /// In a GitLab merge request pipeline, keep one note on the merge
    /// request with a row per job and leg (needs GITLAB_TOKEN) [default: true].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    mr_note: bool => env "ALLURE_MR_NOTE", file "mr_note", input None;
}

/// The settings that say where the reports are: the flags prune and usage
/// take from the table, beside their own.
pub const SITE_FIELDS: &[&str] = &[
    "bucket",
    "local_dir",
    "prefix",
    "project",
    "region",
    "s3_endpoint",
    "unsafe_no_conditional_writes",
];

/// Settings refused in allure-host.yml, which is usually committed.
pub const SECRETS: &[&str] = &["access_key", "notify"];

/// The variables and keys `--help` lists after the flags.
pub fn env_help() -> String {
    let mut out = help_for(KEYS.iter());
    out.push_str(
        "\nALLURE_BIN names the Allure 2 CLI; without it `allure` is looked up on PATH and,\n\
         failing that, installed with npm on first use.",
    );
    out
}

/// `env_help` for the site's settings only.
pub fn site_env_help() -> String {
    help_for(KEYS.iter().filter(|k| SITE_FIELDS.contains(&k.field)))
}

fn help_for<'a>(keys: impl Iterator<Item = &'a Key>) -> String {
    let mut out = String::from(
        "Every flag can also come from the environment or from allure-host.yml (key in brackets):\n",
    );
    for k in keys {
        let extra = match k.field {
            "s3_endpoint" => " or AWS_ENDPOINT_URL",
            "region" => " or AWS_REGION",
            "meta" => " (lines of KEY=VALUE)",
            _ => "",
        };
        match SECRETS.contains(&k.field) {
            true => out.push_str(&format!("  {} (a secret: environment only)\n", k.env)),
            false => out.push_str(&format!("  {}{extra} [{}]\n", k.env, k.file)),
        }
    }
    out.push_str("Precedence: flag > environment > allure-host.yml > CI context > default.");
    out
}

/// One `KEY=VALUE` item of `--meta`.
pub fn parse_meta_item(item: &str) -> Result<(String, String), SettingsError> {
    let Some((k, v)) = item.split_once('=') else {
        return Err(SettingsError::Meta(item.trim().to_string()));
    };
    Ok((k.trim().to_string(), v.trim().to_string()))
}

/// `KEY=VALUE` lines (ALLURE_META) or a map (allure-host.yml).
fn meta_lines_or_map<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    struct Meta;
    impl<'de> Visitor<'de> for Meta {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("lines of KEY=VALUE, or a map")
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| parse_meta_item(l.trim()).map_err(E::custom))
                .collect()
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, serde_norway::Value>()? {
                let v = match v {
                    serde_norway::Value::String(s) => s,
                    other => serde_norway::to_string(&other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                out.push((k, v));
            }
            Ok(out)
        }
    }
    d.deserialize_any(Meta)
}

/// Read the `ALLURE_*` variables of `vars` into `T` with envy. Empty values
/// count as unset. Errors name the variable (`ALLURE_TTL_DAYS`).
pub fn read_allure_vars<T: serde::de::DeserializeOwned>(
    vars: &[(String, String)],
) -> Result<T, String> {
    let set = vars
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_string()));
    envy::prefixed("ALLURE_")
        .from_iter(set)
        .map_err(|e| e.to_string().replace("provided by ", "provided by ALLURE_"))
}

/// A variable's value from `vars`, trimmed; empty counts as unset, as CI
/// systems export empty inputs.
pub fn lookup(vars: &[(String, String)], name: &str) -> Option<String> {
    vars.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Meta pairs as a map; later pairs win.
pub fn meta_map(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    pairs.into_iter().collect()
}

/// Builds an environment for tests.
#[cfg(test)]
pub fn test_vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_variable_and_file_key_reaches_its_field() {
        for k in KEYS {
            let value = match k.field {
                "ttl_days" | "max_keep_runs" | "concurrency" | "link_days" | "test_history" => "7",
                "flaky_threshold" | "slower_threshold" => "0.5",
                "allure_version" => "3",
                "keep_analytics" | "unsafe_no_conditional_writes" | "single_file" | "mr_note" => {
                    "true"
                }
                "meta" => "a=b",
                _ => "x",
            };
            let env: Layer = read_allure_vars(&test_vars(&[(k.env, value)])).unwrap();
            assert_ne!(
                env,
                Layer::default(),
                "{} does not reach {}",
                k.env,
                k.field
            );
            let yaml = if k.field == "meta" {
                "meta:\n  a: b\n".to_string()
            } else {
                format!("{}: {value}\n", k.file)
            };
            let file: Layer = serde_norway::from_str(&yaml).unwrap();
            assert_eq!(file, env, "{} and {} differ", k.file, k.env);
        }
    }
}
