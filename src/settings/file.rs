//! The `allure-host.yml` layer. Keys are pytest-allure-host's, plus ours
//! (declared in `layer`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::SettingsError;
use super::layer::Layer;

pub const DEFAULT_NAME: &str = "allure-host.yml";

#[derive(Debug, Default, Deserialize)]
struct FileConfig {
    #[serde(flatten)]
    layer: Layer,
    /// Written by infra setup; read by later commands.
    #[allow(dead_code)]
    cloudfront_distribution_id: Option<String>,
    #[serde(flatten)]
    unknown: BTreeMap<String, serde_norway::Value>,
}

/// Parsed layer plus the unknown keys (reported as warnings, not errors, so a
/// file written for another version still works).
pub fn parse(text: &str, path: &Path) -> Result<(Layer, Vec<String>), SettingsError> {
    if text.trim().is_empty() {
        return Ok((Layer::default(), Vec::new()));
    }
    let f: FileConfig = serde_norway::from_str(text).map_err(|e| SettingsError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok((f.layer, f.unknown.into_keys().collect()))
}

/// Read the layer from `--config PATH` (must exist) or `./allure-host.yml`
/// (optional).
pub fn load(explicit: Option<&Path>) -> Result<(Layer, Vec<String>), SettingsError> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_NAME), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            Ok((Layer::default(), Vec::new()))
        }
        Err(source) => Err(SettingsError::ReadFile { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_file_infra_setup_writes() {
        use crate::infra::config_file::{PublishConfig, cloudfront_url};
        let text = PublishConfig {
            bucket: "reports-b".into(),
            prefix: Some("reports".into()),
            project: None,
            aws_region: "eu-west-1".into(),
            cloudfront: Some(cloudfront_url("d111.cloudfront.net")),
            cloudfront_distribution_id: Some("E1".into()),
        }
        .render()
        .unwrap();
        let (layer, unknown) = parse(&text, Path::new("allure-host.yml")).unwrap();
        assert!(unknown.is_empty(), "{unknown:?}");
        assert_eq!(layer.bucket.as_deref(), Some("reports-b"));
        assert_eq!(
            layer.cloudfront.as_deref(),
            Some("https://d111.cloudfront.net")
        );
    }

    #[test]
    fn reads_pytest_allure_host_keys_including_branch_and_run_id() {
        let text = "bucket: b\nprefix: r\nproject: shop\nbranch: dev\nrun_id: '42'\naws_region: eu-west-1\n\
                    cloudfront: https://d.cloudfront.net\ncloudfront_distribution_id: E1\nttl_days: 7\nmeta:\n  team: core\n  shard: 2\n";
        let (l, unknown) = parse(text, Path::new("x.yml")).unwrap();
        assert_eq!(l.branch.as_deref(), Some("dev"));
        assert_eq!(l.run_id.as_deref(), Some("42"));
        assert_eq!(l.region.as_deref(), Some("eu-west-1"));
        assert_eq!(l.ttl_days, Some(7));
        assert_eq!(crate::settings::layer::meta_map(l.meta)["shard"], "2");
        assert!(unknown.is_empty(), "{unknown:?}");
    }

    #[test]
    fn unknown_keys_are_reported_and_bad_yaml_names_the_file() {
        let (_, unknown) = parse("bucket: b\nbuckett: c\n", Path::new("x.yml")).unwrap();
        assert_eq!(unknown, ["buckett"]);
        let err = parse("ttl_days: [", Path::new("conf.yml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("conf.yml"), "{err}");
    }
}
