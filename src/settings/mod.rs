//! Flags, environment, `allure-host.yml` and CI context, merged into one
//! validated `Settings`. Precedence: flag > env > file > CI context > default.

pub mod ci;
pub mod env;
pub mod file;
pub mod layer;
pub mod variant;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::cli::PublishArgs;
use crate::model::manifest::RESERVED_KEYS;
use crate::report::executor::CiKind;
use crate::storage::s3::S3Options;

pub use ci::CiContext;
pub use layer::Layer;

pub const DEFAULT_PREFIX: &str = "reports";
pub const DEFAULT_BRANCH: &str = "main";
pub const DEFAULT_RESULTS: &str = "allure-results";
pub const DEFAULT_LOCAL_DIR: &str = "allure-site";
pub const DEFAULT_CONCURRENCY: usize = 64;
pub const MAX_CONCURRENCY: usize = 1024;

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

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub target: Target,
    pub prefix: String,
    pub project: String,
    pub branch: String,
    /// None: draw a timestamp id at publish time.
    pub run_id: Option<String>,
    pub cloudfront: Option<String>,
    pub source: Source,
    pub ttl_days: Option<u32>,
    pub max_keep_runs: Option<u32>,
    pub concurrency: usize,
    pub summary_json: Option<PathBuf>,
    pub context_url: Option<String>,
    pub commit: Option<String>,
    pub meta: BTreeMap<String, String>,
    pub keep_analytics: bool,
    /// The CI matrix leg (`python-version=3.12`), when there is one.
    pub variant: Option<String>,
    pub ci: CiKind,
    pub build_url: Option<String>,
}

impl Layer {
    pub fn from_flags(a: &PublishArgs) -> Result<Layer, String> {
        Ok(Layer {
            bucket: a.bucket.clone(),
            prefix: a.prefix.clone(),
            project: a.project.clone(),
            branch: a.branch.clone(),
            run_id: a.run_id.clone(),
            cloudfront: a.cloudfront.clone(),
            results: a.results.clone(),
            report: a.report.clone(),
            ttl_days: a.ttl_days,
            max_keep_runs: a.max_keep_runs,
            sse: a.sse.clone(),
            sse_kms_key_id: a.sse_kms_key_id.clone(),
            s3_endpoint: a.s3_endpoint.clone(),
            region: a.region.clone(),
            local_dir: a.local_dir.clone(),
            concurrency: a.concurrency,
            summary_json: a.summary_json.clone(),
            context_url: a.context_url.clone(),
            commit: None,
            keep_analytics: a.keep_analytics.then_some(true),
            variant: a.variant.clone(),
            meta: layer::parse_meta(a.meta.iter().map(String::as_str))?,
        })
    }
}

/// Merge the layers and validate. Pure: the caller gathers the layers.
pub fn resolve(flags: Layer, env: Layer, file: Layer, ci: CiContext) -> Result<Settings, String> {
    // A run id from CI names the workflow run, which every matrix leg shares:
    // the leg is appended so that legs do not collide.
    let run_id_given = flags.run_id.is_some() || env.run_id.is_some() || file.run_id.is_some();
    let m = flags.over(env).over(file).over(ci.layer);
    let variant = m.variant.as_deref().and_then(variant::label);
    let run_id = match (m.run_id, &variant) {
        (Some(id), Some(v)) if !run_id_given => Some(format!("{id}-{}", variant::slug(v))),
        (id, _) => id,
    };
    let nonzero = |v: Option<u32>, name: &str| match v {
        Some(0) => Err(format!("{name} must be at least 1")),
        other => Ok(other),
    };
    let target = match (m.bucket, m.local_dir) {
        (Some(_), Some(_)) => {
            return Err(
                "both a bucket and a local directory are set; choose one (--bucket or --local-dir)"
                    .into(),
            );
        }
        (Some(bucket), None) => {
            let (sse, kms) = match (m.sse.as_deref(), m.sse_kms_key_id) {
                (None | Some("aws:kms"), kms) => (m.sse.clone(), kms),
                (Some("AES256"), None) => (m.sse.clone(), None),
                (Some("AES256"), Some(_)) => {
                    return Err("--sse-kms-key-id needs --sse aws:kms, not AES256".into());
                }
                (Some(other), _) => {
                    return Err(format!(
                        "--sse {other:?} is not supported; use AES256 or aws:kms"
                    ));
                }
            };
            Target::S3(S3Options {
                bucket,
                region: m.region,
                endpoint: m.s3_endpoint.map(|e| e.trim_end_matches('/').to_string()),
                sse,
                sse_kms_key_id: kms,
                credentials: None,
            })
        }
        (None, Some(dir)) => Target::Local {
            dir,
            defaulted: false,
        },
        (None, None) => Target::Local {
            dir: PathBuf::from(DEFAULT_LOCAL_DIR),
            defaulted: true,
        },
    };
    let source = match m.report {
        Some(report) => Source::Report(report),
        None => Source::Results(m.results.unwrap_or_else(|| PathBuf::from(DEFAULT_RESULTS))),
    };
    let concurrency = m.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
    if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
        return Err(format!(
            "--concurrency must be between 1 and {MAX_CONCURRENCY}"
        ));
    }
    for key in m.meta.keys() {
        if key.is_empty() || RESERVED_KEYS.contains(&key.as_str()) {
            return Err(format!(
                "--meta key {key:?} is empty or a manifest field; pick another key name"
            ));
        }
    }
    let cloudfront = match m.cloudfront {
        Some(url) => Some(normalize_base_url(&url)?),
        None => None,
    };
    let project = match m.project {
        Some(p) => p,
        None => std::env::current_dir()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "default".into()),
    };
    Ok(Settings {
        target,
        prefix: m.prefix.unwrap_or_else(|| DEFAULT_PREFIX.into()),
        project,
        branch: m.branch.unwrap_or_else(|| DEFAULT_BRANCH.into()),
        run_id,
        cloudfront,
        source,
        ttl_days: nonzero(m.ttl_days, "--ttl-days")?,
        max_keep_runs: nonzero(m.max_keep_runs, "--max-keep-runs")?,
        concurrency,
        summary_json: m.summary_json,
        context_url: m.context_url,
        commit: m.commit,
        meta: m.meta,
        keep_analytics: m.keep_analytics.unwrap_or(false),
        variant,
        ci: ci.kind,
        build_url: ci.build_url,
    })
}

/// `d123.cloudfront.net` or `https://reports.example.com/` -> `https://host`.
fn normalize_base_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let with_scheme = if url.starts_with("https://") || url.starts_with("http://") {
        url.to_string()
    } else if url.contains("://") {
        return Err(format!("--cloudfront {url:?} must be an https:// URL"));
    } else {
        format!("https://{url}")
    };
    let host = with_scheme.split("://").nth(1).unwrap_or_default();
    if host.is_empty() || host.contains(['<', '>', '"', '\'', ' ', '\\']) {
        return Err(format!("--cloudfront {url:?} is not a valid URL"));
    }
    Ok(with_scheme)
}

/// Gather every layer from the real process (env, file, git) and resolve.
/// Returns the settings and warnings to show.
pub fn load(args: &PublishArgs) -> Result<(Settings, Vec<String>), String> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    load_from(args, &vars)
}

/// `load` with the environment given.
pub fn load_from(
    args: &PublishArgs,
    vars: &[(String, String)],
) -> Result<(Settings, Vec<String>), String> {
    let flags = Layer::from_flags(args)?;
    let env = env::layer(vars)?;
    let (file, unknown) = file::load(args.config.as_deref())?;
    let ci = ci::detect(vars, ci::run_git);
    let warnings = unknown
        .into_iter()
        .map(|k| format!("ignoring unknown key {k:?} in the config file"))
        .collect();
    Ok((resolve(flags, env, file, ci)?, warnings))
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
            kind: CiKind::LOCAL,
            build_url: None,
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
            let s = resolve(layer(f), layer(e), layer(fi), ci(*c)).unwrap();
            assert_eq!(s.branch, *want, "row {i}");
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
        let s = resolve(flags, env, file, ci(Some("ci-branch"))).unwrap();
        assert!(matches!(&s.target, Target::S3(o) if o.bucket == "flag-bucket"));
        assert_eq!(s.prefix, "env-prefix");
        assert_eq!(s.run_id.as_deref(), Some("file-run"));
        assert_eq!(s.project, "ci-project");
        assert_eq!(s.branch, "ci-branch");
        assert_eq!(s.ttl_days, Some(3));
        assert_eq!(s.max_keep_runs, Some(5));
        assert_eq!(s.cloudfront.as_deref(), Some("https://d1.cloudfront.net"));
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
        )
        .unwrap();
        assert_eq!(s.meta["a"], "flag");
        assert_eq!(s.meta["b"], "env");
        assert_eq!(s.meta["c"], "file");
    }

    #[test]
    fn defaults_publish_locally_and_say_so() {
        let s = resolve(
            Layer::default(),
            Layer::default(),
            Layer::default(),
            ci(None),
        )
        .unwrap();
        assert_eq!(
            s.target,
            Target::Local {
                dir: PathBuf::from(DEFAULT_LOCAL_DIR),
                defaulted: true
            }
        );
        assert_eq!(s.prefix, DEFAULT_PREFIX);
        assert_eq!(s.source, Source::Results(PathBuf::from(DEFAULT_RESULTS)));
        assert_eq!(s.concurrency, DEFAULT_CONCURRENCY);
        assert!(!s.keep_analytics);
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
                meta: [("run_id".to_string(), "x".to_string())].into(),
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
                resolve(flags, Layer::default(), Layer::default(), ci(None)).is_err(),
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
        let s = resolve(leg(r#"{"py": "3.12"}"#), none(), none(), ci(None)).unwrap();
        assert_eq!(s.run_id.as_deref(), Some("ci-run-py-3.12"));
        assert_eq!(s.variant.as_deref(), Some("py=3.12"));
        // An explicit run id is the user's choice and stays as given.
        let explicit = Layer {
            run_id: Some("mine".into()),
            ..leg("a")
        };
        let s = resolve(explicit, none(), none(), ci(None)).unwrap();
        assert_eq!(s.run_id.as_deref(), Some("mine"));
        // No matrix: the CI id alone.
        let s = resolve(leg("null"), none(), none(), ci(None)).unwrap();
        assert_eq!(s.run_id.as_deref(), Some("ci-run"));
        assert_eq!(s.variant, None);
    }

    #[test]
    fn meta_flags_need_an_equals_sign() {
        let args = PublishArgs {
            meta: vec!["novalue".into()],
            ..PublishArgs::default()
        };
        assert!(Layer::from_flags(&args).unwrap_err().contains("KEY=VALUE"));
    }
}
