//! Flags, environment, `allure-host.yml` and CI context, merged into one
//! validated `Settings`. Precedence: flag > env > file > CI context > default.
//! Every setting is declared once, in `layer`.

pub mod ci;
pub mod env;
pub mod file;
pub mod layer;

use crate::model::access::{AccessError, AccessKey};
use crate::model::engine::{Engine, UnknownEngine};
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use crate::model::manifest::RESERVED_KEYS;
use crate::model::notify::{self, NotifyError, NotifyOn, Webhook};
use crate::model::test_history::DEFAULT_WINDOW;
use crate::model::test_scores::Thresholds;
use crate::model::variant;
use crate::model::web::{SiteUrl, WebError, WebLink};
use crate::storage::s3::{S3Options, Sse};

pub use ci::{Ci, CiContext};
pub use layer::Layer;

pub const DEFAULT_PREFIX: &str = "reports";
pub const DEFAULT_BRANCH: &str = "main";
pub const DEFAULT_RESULTS: &str = "allure-results";
/// The site a publish without a bucket writes, and `serve` serves.
pub const DEFAULT_LOCAL_DIR: &str = "allure-site";
/// Where `serve` listens unless told otherwise; local publishes print URLs
/// on it.
pub const DEFAULT_SERVE_PORT: u16 = 8040;
pub const DEFAULT_CONCURRENCY: usize = 64;
pub const MAX_CONCURRENCY: usize = 1024;

/// Settings that cannot be used, each with the fix.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("environment: {0}; fix or unset the variable")]
    Env(String),
    #[error("--meta {0:?} has no '='; write KEY=VALUE")]
    Meta(String),
    #[error("{}: {message}; fix the YAML or pass --config PATH", path.display())]
    File { path: PathBuf, message: String },
    #[error("cannot read config {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "--single-file is a report Allure 3 makes from results: use it with --allure 3 and --results, or drop it"
    )]
    SingleFile,
    #[error("both a bucket and a local directory are set; choose one (--bucket or --local-dir)")]
    BucketAndDir,
    #[error("--sse-kms-key-id needs --sse aws:kms, not AES256")]
    KmsKeyWithoutKms,
    #[error("--sse {0:?} is not supported; use AES256 or aws:kms")]
    Sse(String),
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("--concurrency must be between 1 and {MAX_CONCURRENCY}")]
    Concurrency,
    #[error("--meta key {0:?} is empty or a manifest field; pick another key name")]
    MetaKey(String),
    #[error("--cloudfront {url:?} {problem}")]
    CloudFront { url: String, problem: WebError },
    #[error("--context-url {url:?} {problem} (ALLURE_CONTEXT_URL, or the CI's build URL)")]
    ContextUrl { url: String, problem: WebError },
    #[error("ALLURE_ACCESS_KEY: {0}")]
    AccessKey(AccessError),
    #[error(
        "access_key is a secret and allure-host.yml is usually committed; remove it from the file and set ALLURE_ACCESS_KEY (the action's access-key input) instead"
    )]
    AccessKeyInFile,
    // Not a `source`: the message would be printed twice in a chain.
    #[error("ALLURE_NOTIFY: {0}")]
    Notify(NotifyError),
    #[error("--notify-on {0} is not a choice; use always, failure or change")]
    NotifyOn(String),
    #[error(
        "notify holds webhook URLs, which are secrets, and allure-host.yml is usually committed; remove it from the file and set ALLURE_NOTIFY (the action's notify input, from a secret) instead"
    )]
    NotifyInFile,
    #[error("--link-days must be between 1 and {MAX_LINK_DAYS}")]
    LinkDays,
    #[error(
        "--test-history must be at most {MAX_TEST_HISTORY} runs (0 turns the test history off)"
    )]
    TestHistory,
    #[error(
        "--flaky-threshold must be a share between 0 and 1 (0.2 is one flip in five runs), not {0}"
    )]
    FlakyThreshold(f64),
    #[error("--slower-threshold must be a ratio above 1 (2 is twice the median), not {0}")]
    SlowerThreshold(f64),
    #[error("--allure: {0}")]
    AllureVersion(#[from] UnknownEngine),
}

pub const DEFAULT_LINK_DAYS: u32 = 30;
/// A line's history is rewritten at each publish: it stays bounded.
pub const MAX_TEST_HISTORY: u32 = 500;
pub const MAX_LINK_DAYS: u32 = 3650;

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    S3(S3Options),
    Local {
        dir: PathBuf,
        /// True when no bucket or directory was configured at all.
        defaulted: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// allure-results to generate a report from.
    Results(PathBuf),
    /// A report that is already generated.
    Report(PathBuf),
}

/// Every setting of a publish, by concern, so a phase takes only the part
/// it uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The bucket (and how to reach it) or the local directory.
    pub target: Target,
    pub place: Place,
    pub report: ReportSettings,
    pub retention: Retention,
    pub tests: TestHistorySettings,
    pub access: Access,
    pub ci: CiSettings,
    pub notify: Notify,
    /// Uploads in flight at once.
    pub concurrency: usize,
    pub summary_json: Option<PathBuf>,
    /// Write even where the server ignores conditional writes (one writer).
    pub accept_unconditional_writes: bool,
}

/// Where the run goes in the layout, and as what.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub prefix: String,
    pub project: String,
    pub branch: String,
    /// None: draw a timestamp id at publish time.
    pub run_id: Option<String>,
    /// The CI matrix leg (`python-version=3.12`), when there is one.
    pub variant: Option<String>,
    /// The CI job publishing, when the CI names it.
    pub job: Option<String>,
}

/// What is published, and what it records.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSettings {
    pub source: Source,
    /// Which Allure generates the report.
    pub engine: Engine,
    /// Allure 3's single-file report instead of its folder report.
    pub single_file: bool,
    pub keep_analytics: bool,
    pub meta: BTreeMap<String, String>,
    pub commit: Option<String>,
    pub context_url: Option<WebLink>,
}

/// Every test's story across runs: how much is kept and what counts as
/// flaky or slower.
#[derive(Debug, Clone, PartialEq)]
pub struct TestHistorySettings {
    /// Runs each trend line keeps; 0 keeps no history.
    pub window: usize,
    pub thresholds: Thresholds,
}

impl TestHistorySettings {
    pub fn on(&self) -> bool {
        self.window > 0
    }
}

/// How long the run's objects live.
#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    pub ttl_days: Option<NonZeroU32>,
    pub max_keep_runs: Option<NonZeroU32>,
}

/// How readers reach the site.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    pub cloudfront: Option<SiteUrl>,
    /// Signs links to a private site; its Debug hides the secret.
    pub access_key: Option<AccessKey>,
    /// Days a signed link opens for.
    pub link_days: u32,
}

/// What the CI says of this build.
#[derive(Debug, Clone, PartialEq)]
pub struct CiSettings {
    pub kind: Ci,
    /// The CI's page of this build; a URL that is not http(s) is dropped.
    pub build_url: Option<WebLink>,
    /// The branch whose latest run this one is compared with.
    pub compare_to: Option<String>,
    /// Keep the merge request's note in a GitLab merge request pipeline.
    pub mr_note: bool,
}

/// Who hears of a publish, and when.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Notify {
    /// Their Debug and Display hide the URLs.
    pub webhooks: Vec<Webhook>,
    pub on: NotifyOn,
}

/// Merge the layers and validate. Pure: the caller gathers the layers and
/// gives the working directory (its name is the default project).
pub fn resolve(
    flags: Layer,
    env: Layer,
    file: Layer,
    ci: CiContext,
    cwd: &Workdir,
) -> Result<Settings, SettingsError> {
    // A run id from CI names the workflow run, which every matrix leg shares:
    // the leg is appended so that legs do not collide.
    let run_id_given = flags.run_id.is_some() || env.run_id.is_some() || file.run_id.is_some();
    if file.access_key.is_some() {
        return Err(SettingsError::AccessKeyInFile);
    }
    if file.notify.is_some() {
        return Err(SettingsError::NotifyInFile);
    }
    let m = flags.over(env).over(file).over(ci.layer);
    let variant = m.variant.as_deref().and_then(variant::label);
    let run_id = match (m.run_id, &variant) {
        (Some(id), Some(v)) if !run_id_given => Some(format!("{id}-{}", variant::slug(v))),
        (id, _) => id,
    };
    let target = target(
        m.bucket,
        m.local_dir,
        m.sse,
        m.sse_kms_key_id,
        m.region,
        m.s3_endpoint,
    )?;
    let source = match m.report {
        Some(report) => Source::Report(report),
        None => Source::Results(m.results.unwrap_or_else(|| PathBuf::from(DEFAULT_RESULTS))),
    };
    let concurrency = m.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
    if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
        return Err(SettingsError::Concurrency);
    }
    let mut target = target;
    if let Target::S3(opts) = &mut target {
        opts.uploads_at_once = concurrency;
    }
    let meta = layer::meta_map(m.meta);
    if let Some(key) = meta
        .keys()
        .find(|k| k.is_empty() || RESERVED_KEYS.contains(&k.as_str()))
    {
        return Err(SettingsError::MetaKey(key.clone()));
    }
    let cloudfront = m
        .cloudfront
        .as_deref()
        .map(|url| {
            SiteUrl::parse(url).map_err(|problem| SettingsError::CloudFront {
                url: url.to_string(),
                problem,
            })
        })
        .transpose()?;
    let context_url = m
        .context_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .map(|url| {
            WebLink::parse(url).map_err(|problem| SettingsError::ContextUrl {
                url: url.to_string(),
                problem,
            })
        })
        .transpose()?;
    // An allurerc in the working directory means the project runs Allure 3.
    let engine = match m.allure_version {
        Some(major) => Engine::try_from(major)?,
        None if cwd.allurerc.is_some() => Engine::Allure3,
        None => Engine::Allure2,
    };
    let single_file = m.single_file.unwrap_or(false);
    if single_file && (engine.is_allure2() || matches!(source, Source::Report(_))) {
        return Err(SettingsError::SingleFile);
    }
    let project = m.project.unwrap_or_else(|| {
        cwd.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "default".into())
    });
    Ok(Settings {
        target,
        place: Place {
            prefix: m.prefix.unwrap_or_else(|| DEFAULT_PREFIX.into()),
            project,
            branch: m.branch.unwrap_or_else(|| DEFAULT_BRANCH.into()),
            run_id,
            variant,
            job: ci.job,
        },
        report: ReportSettings {
            source,
            engine,
            single_file,
            keep_analytics: m.keep_analytics.unwrap_or(false),
            meta,
            commit: m.commit,
            context_url,
        },
        retention: Retention {
            ttl_days: nonzero(m.ttl_days, "--ttl-days")?,
            max_keep_runs: nonzero(m.max_keep_runs, "--max-keep-runs")?,
        },
        tests: test_history(m.test_history, m.flaky_threshold, m.slower_threshold)?,
        access: Access {
            cloudfront,
            access_key: m
                .access_key
                .filter(|k| !k.trim().is_empty())
                .map(|k| k.parse().map_err(SettingsError::AccessKey))
                .transpose()?,
            link_days: match m.link_days.unwrap_or(DEFAULT_LINK_DAYS) {
                d @ 1..=MAX_LINK_DAYS => d,
                _ => return Err(SettingsError::LinkDays),
            },
        },
        ci: CiSettings {
            kind: ci.kind,
            build_url: ci.build_url.as_deref().and_then(|u| WebLink::parse(u).ok()),
            compare_to: m.compare_to.filter(|b| !b.trim().is_empty()),
            mr_note: m.mr_note.unwrap_or(true),
        },
        notify: Notify {
            webhooks: notify::parse_webhooks(m.notify.as_deref().unwrap_or(""))
                .map_err(SettingsError::Notify)?,
            on: notify_on(m.notify_on.as_deref())?,
        },
        concurrency,
        summary_json: m.summary_json,
        accept_unconditional_writes: m.unsafe_no_conditional_writes.unwrap_or(false),
    })
}

fn test_history(
    window: Option<u32>,
    flaky: Option<f64>,
    slower: Option<f64>,
) -> Result<TestHistorySettings, SettingsError> {
    let d = Thresholds::default();
    let window = window.unwrap_or(DEFAULT_WINDOW as u32);
    if window > MAX_TEST_HISTORY {
        return Err(SettingsError::TestHistory);
    }
    let flaky = flaky.unwrap_or(d.flaky);
    if !(0.0..=1.0).contains(&flaky) {
        return Err(SettingsError::FlakyThreshold(flaky));
    }
    let slower = slower.unwrap_or(d.slower);
    if !(slower > 1.0 && slower.is_finite()) {
        return Err(SettingsError::SlowerThreshold(slower));
    }
    Ok(TestHistorySettings {
        window: window as usize,
        thresholds: Thresholds { flaky, slower },
    })
}

fn notify_on(text: Option<&str>) -> Result<NotifyOn, SettingsError> {
    let Some(text) = text else {
        return Ok(NotifyOn::default());
    };
    NotifyOn::parse(text).ok_or_else(|| {
        // A webhook URL set here by mistake must not be printed.
        let word = text.len() <= 20 && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        SettingsError::NotifyOn(match word {
            true => format!("{text:?}"),
            false => "(a value that is not a word)".into(),
        })
    })
}

fn nonzero(v: Option<u32>, name: &'static str) -> Result<Option<NonZeroU32>, SettingsError> {
    match v {
        None => Ok(None),
        Some(n) => NonZeroU32::new(n)
            .map(Some)
            .ok_or(SettingsError::Zero(name)),
    }
}

/// S3 when a bucket is set, else a local directory.
fn target(
    bucket: Option<String>,
    local_dir: Option<PathBuf>,
    sse: Option<String>,
    kms_key: Option<String>,
    region: Option<String>,
    endpoint: Option<String>,
) -> Result<Target, SettingsError> {
    Ok(match (bucket, local_dir) {
        (Some(_), Some(_)) => return Err(SettingsError::BucketAndDir),
        (Some(bucket), None) => Target::S3(S3Options {
            bucket,
            region,
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_string()),
            sse: parse_sse(sse.as_deref(), kms_key)?,
            credentials: None,
            uploads_at_once: 1,
        }),
        (None, Some(dir)) => Target::Local {
            dir,
            defaulted: false,
        },
        (None, None) => Target::Local {
            dir: PathBuf::from(DEFAULT_LOCAL_DIR),
            defaulted: true,
        },
    })
}

/// `--sse` and `--sse-kms-key-id` as one choice; a key alone means KMS.
fn parse_sse(sse: Option<&str>, kms_key: Option<String>) -> Result<Option<Sse>, SettingsError> {
    match (sse, kms_key) {
        (None, None) => Ok(None),
        (None | Some("aws:kms"), key) => Ok(Some(Sse::Kms(key))),
        (Some("AES256"), None) => Ok(Some(Sse::Aes256)),
        (Some("AES256"), Some(_)) => Err(SettingsError::KmsKeyWithoutKms),
        (Some(other), _) => Err(SettingsError::Sse(other.to_string())),
    }
}

/// Gather every layer from the real process (env, file, git) and resolve.
/// Returns the settings and warnings to show.
pub fn load(
    flags: &Layer,
    config: Option<&Path>,
) -> Result<(Settings, Vec<String>), SettingsError> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    load_from(flags, config, &vars)
}

/// `load` with the environment given.
pub fn load_from(
    flags: &Layer,
    config: Option<&Path>,
    vars: &[(String, String)],
) -> Result<(Settings, Vec<String>), SettingsError> {
    let env = env::layer(vars)?;
    let (file, unknown) = file::load(config)?;
    let ci = ci::detect(vars, ci::run_git);
    let warnings = unknown
        .into_iter()
        .map(|k| format!("ignoring unknown key {k:?} in the config file"))
        .collect();
    let cwd = Workdir::current();
    Ok((resolve(flags.clone(), env, file, ci, &cwd)?, warnings))
}

/// The working directory, and the Allure 3 config file in it if any.
pub struct Workdir {
    pub path: PathBuf,
    pub allurerc: Option<PathBuf>,
}

/// The names Allure 3 looks for, in its order.
pub const ALLURERC_NAMES: [&str; 9] = [
    "allurerc.js",
    "allurerc.mjs",
    "allurerc.cjs",
    "allurerc.ts",
    "allurerc.mts",
    "allurerc.cts",
    "allurerc.json",
    "allurerc.yaml",
    "allurerc.yml",
];

impl Workdir {
    pub fn current() -> Self {
        let path = std::env::current_dir().unwrap_or_default();
        let allurerc = ALLURERC_NAMES
            .iter()
            .map(|name| path.join(name))
            .find(|p| p.is_file());
        Self { path, allurerc }
    }

    /// A directory without an Allure 3 config (tests).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            allurerc: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci(branch: Option<&str>) -> CiContext {
        CiContext {
            layer: Layer {
                branch: branch.map(str::to_string),
                run_id: Some("ci-run".into()),
                project: Some("ci-project".into()),
                ..Layer::default()
            },
            kind: Ci::Local,
            build_url: None,
            job: None,
        }
    }

    fn branch(v: &str) -> Layer {
        Layer {
            branch: Some(v.into()),
            ..Layer::default()
        }
    }

    #[test]
    fn precedence_table() {
        // (flag, env, file, ci, expected)
        type Row<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            &'a str,
        );
        let rows: &[Row] = &[
            (Some("flag"), Some("env"), Some("file"), Some("ci"), "flag"),
            (None, Some("env"), Some("file"), Some("ci"), "env"),
            (None, None, Some("file"), Some("ci"), "file"),
            (None, None, None, Some("ci"), "ci"),
            (None, None, None, None, DEFAULT_BRANCH),
            (Some("flag"), None, None, None, "flag"),
            (None, Some("env"), None, Some("ci"), "env"),
        ];
        for (i, (f, e, fi, c, want)) in rows.iter().enumerate() {
            let layer = |v: &Option<&str>| v.map(branch).unwrap_or_default();
            let s = resolve(
                layer(f),
                layer(e),
                layer(fi),
                ci(*c),
                &Workdir::at("/w/shop"),
            )
            .unwrap();
            assert_eq!(s.place.branch, *want, "row {i}");
        }
    }

    #[test]
    fn every_field_takes_the_highest_layer() {
        let flags = Layer {
            bucket: Some("flag-bucket".into()),
            ttl_days: Some(3),
            ..Layer::default()
        };
        let env = Layer {
            bucket: Some("env-bucket".into()),
            prefix: Some("env-prefix".into()),
            max_keep_runs: Some(5),
            ..Layer::default()
        };
        let file = Layer {
            prefix: Some("file-prefix".into()),
            run_id: Some("file-run".into()),
            cloudfront: Some("d1.cloudfront.net".into()),
            ttl_days: Some(30),
            ..Layer::default()
        };
        let s = resolve(flags, env, file, ci(Some("ci-branch")), &Workdir::at("/w")).unwrap();
        assert!(matches!(&s.target, Target::S3(o) if o.bucket == "flag-bucket"));
        assert_eq!(s.place.prefix, "env-prefix");
        assert_eq!(s.place.run_id.as_deref(), Some("file-run"));
        assert_eq!(s.place.project, "ci-project");
        assert_eq!(s.place.branch, "ci-branch");
        assert_eq!(s.retention.ttl_days, NonZeroU32::new(3));
        assert_eq!(s.retention.max_keep_runs, NonZeroU32::new(5));
        assert_eq!(
            s.access.cloudfront.map(|u| u.to_string()).as_deref(),
            Some("https://d1.cloudfront.net")
        );
    }

    #[test]
    fn meta_merges_key_by_key() {
        let m = |pairs: &[(&str, &str)]| Layer {
            meta: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Layer::default()
        };
        let s = resolve(
            m(&[("a", "flag")]),
            m(&[("a", "env"), ("b", "env")]),
            m(&[("c", "file")]),
            ci(None),
            &Workdir::at("/w"),
        )
        .unwrap();
        assert_eq!(s.report.meta["a"], "flag");
        assert_eq!(s.report.meta["b"], "env");
        assert_eq!(s.report.meta["c"], "file");
    }

    #[test]
    fn defaults_publish_locally_and_say_so() {
        let s = resolve(
            Layer::default(),
            Layer::default(),
            Layer::default(),
            ci(None),
            &Workdir::at("/w"),
        )
        .unwrap();
        assert_eq!(
            s.target,
            Target::Local {
                dir: PathBuf::from(DEFAULT_LOCAL_DIR),
                defaulted: true
            }
        );
        assert_eq!(s.place.prefix, DEFAULT_PREFIX);
        assert_eq!(
            s.report.source,
            Source::Results(PathBuf::from(DEFAULT_RESULTS))
        );
        assert_eq!(s.concurrency, DEFAULT_CONCURRENCY);
        assert!(!s.report.keep_analytics);
    }

    #[test]
    fn bad_combinations_are_refused_with_the_fix() {
        let cases = [
            Layer {
                bucket: Some("b".into()),
                local_dir: Some("d".into()),
                ..Layer::default()
            },
            Layer {
                bucket: Some("b".into()),
                sse: Some("rot13".into()),
                ..Layer::default()
            },
            Layer {
                bucket: Some("b".into()),
                sse: Some("AES256".into()),
                sse_kms_key_id: Some("k".into()),
                ..Layer::default()
            },
            Layer {
                concurrency: Some(0),
                ..Layer::default()
            },
            Layer {
                max_keep_runs: Some(0),
                ..Layer::default()
            },
            Layer {
                meta: vec![("run_id".to_string(), "x".to_string())],
                ..Layer::default()
            },
            Layer {
                cloudfront: Some("https://<x>".into()),
                ..Layer::default()
            },
            Layer {
                cloudfront: Some("ftp://x".into()),
                ..Layer::default()
            },
        ];
        for (i, flags) in cases.into_iter().enumerate() {
            assert!(
                resolve(
                    flags,
                    Layer::default(),
                    Layer::default(),
                    ci(None),
                    &Workdir::at("/w")
                )
                .is_err(),
                "case {i}"
            );
        }
    }

    #[test]
    fn matrix_legs_get_their_own_run_id_from_ci() {
        let leg = |v: &str| Layer {
            variant: Some(v.into()),
            ..Layer::default()
        };
        let none = Layer::default;
        let s = resolve(
            leg(r#"{"py": "3.12"}"#),
            none(),
            none(),
            ci(None),
            &Workdir::at("/w"),
        )
        .unwrap();
        assert_eq!(s.place.run_id.as_deref(), Some("ci-run-py-3.12"));
        assert_eq!(s.place.variant.as_deref(), Some("py=3.12"));
        // An explicit run id is the user's choice and stays as given.
        let explicit = Layer {
            run_id: Some("mine".into()),
            ..leg("a")
        };
        let s = resolve(explicit, none(), none(), ci(None), &Workdir::at("/w")).unwrap();
        assert_eq!(s.place.run_id.as_deref(), Some("mine"));
        // No matrix: the CI id alone.
        let s = resolve(leg("null"), none(), none(), ci(None), &Workdir::at("/w")).unwrap();
        assert_eq!(s.place.run_id.as_deref(), Some("ci-run"));
        assert_eq!(s.place.variant, None);
    }

    #[test]
    fn meta_flags_need_an_equals_sign() {
        use clap::Parser;
        let err = crate::cli::Cli::try_parse_from(["allure-host", "publish", "--meta", "novalue"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("KEY=VALUE"), "{err}");
    }
}
