//! The `allure-host.yml` layer. Keys are pytest-allure-host's, plus ours.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::layer::Layer;

pub const DEFAULT_NAME: &str = "allure-host.yml";

#[derive(Debug, Default, Deserialize)]
struct FileConfig {
    bucket: Option<String>,
    prefix: Option<String>,
    project: Option<String>,
    branch: Option<String>,
    run_id: Option<String>,
    cloudfront: Option<String>,
    #[serde(alias = "results_dir")]
    results: Option<PathBuf>,
    #[serde(alias = "report_dir")]
    report: Option<PathBuf>,
    ttl_days: Option<u32>,
    max_keep_runs: Option<u32>,
    sse: Option<String>,
    sse_kms_key_id: Option<String>,
    s3_endpoint: Option<String>,
    #[serde(alias = "region")]
    aws_region: Option<String>,
    local_dir: Option<PathBuf>,
    concurrency: Option<usize>,
    summary_json: Option<PathBuf>,
    context_url: Option<String>,
    keep_analytics: Option<bool>,
    variant: Option<String>,
    #[serde(default)]
    meta: BTreeMap<String, serde_norway::Value>,
    /// Written by infra setup; read by later commands.
    #[allow(dead_code)]
    cloudfront_distribution_id: Option<String>,
    #[serde(flatten)]
    unknown: BTreeMap<String, serde_norway::Value>,
}

/// Parsed layer plus the unknown keys (reported as warnings, not errors, so a
/// file written for another version still works).
pub fn parse(text: &str, path: &Path) -> Result<(Layer, Vec<String>), String> {
    if text.trim().is_empty() {
        return Ok((Layer::default(), Vec::new()));
    }
    let f: FileConfig = serde_norway::from_str(text).map_err(|e| {
        format!(
            "{}: {e}; fix the YAML or pass --config PATH",
            path.display()
        )
    })?;
    let meta = f
        .meta
        .into_iter()
        .map(|(k, v)| {
            let s = match v {
                serde_norway::Value::String(s) => s,
                other => serde_norway::to_string(&other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            (k, s)
        })
        .collect();
    let layer = Layer {
        bucket: f.bucket,
        prefix: f.prefix,
        project: f.project,
        branch: f.branch,
        run_id: f.run_id,
        cloudfront: f.cloudfront,
        results: f.results,
        report: f.report,
        ttl_days: f.ttl_days,
        max_keep_runs: f.max_keep_runs,
        sse: f.sse,
        sse_kms_key_id: f.sse_kms_key_id,
        s3_endpoint: f.s3_endpoint,
        region: f.aws_region,
        local_dir: f.local_dir,
        concurrency: f.concurrency,
        summary_json: f.summary_json,
        context_url: f.context_url,
        commit: None,
        keep_analytics: f.keep_analytics,
        variant: f.variant,
        meta,
    };
    Ok((layer, f.unknown.into_keys().collect()))
}

/// Read the layer from `--config PATH` (must exist) or `./allure-host.yml`
/// (optional).
pub fn load(explicit: Option<&Path>) -> Result<(Layer, Vec<String>), String> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_NAME), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            Ok((Layer::default(), Vec::new()))
        }
        Err(e) => Err(format!("cannot read config {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pytest_allure_host_keys_including_branch_and_run_id() {
        let text = "bucket: b\nprefix: r\nproject: shop\nbranch: dev\nrun_id: '42'\naws_region: eu-west-1\n\
                    cloudfront: https://d.cloudfront.net\ncloudfront_distribution_id: E1\nttl_days: 7\nmeta:\n  team: core\n  shard: 2\n";
        let (l, unknown) = parse(text, Path::new("x.yml")).unwrap();
        assert_eq!(l.branch.as_deref(), Some("dev"));
        assert_eq!(l.run_id.as_deref(), Some("42"));
        assert_eq!(l.region.as_deref(), Some("eu-west-1"));
        assert_eq!(l.ttl_days, Some(7));
        assert_eq!(l.meta["shard"], "2");
        assert!(unknown.is_empty());
    }

    #[test]
    fn unknown_keys_are_reported_and_bad_yaml_names_the_file() {
        let (_, unknown) = parse("bucket: b\nbuckett: c\n", Path::new("x.yml")).unwrap();
        assert_eq!(unknown, ["buckett"]);
        let err = parse("ttl_days: [", Path::new("conf.yml")).unwrap_err();
        assert!(err.contains("conf.yml"), "{err}");
    }
}
