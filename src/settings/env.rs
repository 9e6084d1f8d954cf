//! The environment layer: `ALLURE_*` variables (pytest-allure-host's names,
//! declared in `layer`), read by envy, plus the AWS variables the SDK also
//! honours.

use super::SettingsError;
use super::layer::{Layer, lookup, read_allure_vars};

/// Build the layer from `vars` (the process environment in production).
/// Empty values count as unset, as CI systems export empty inputs.
pub fn layer(vars: &[(String, String)]) -> Result<Layer, SettingsError> {
    let get = |name: &str| lookup(vars, name);
    let mut layer: Layer = read_allure_vars(vars).map_err(SettingsError::Env)?;
    layer.s3_endpoint = layer.s3_endpoint.or_else(|| get("AWS_ENDPOINT_URL"));
    layer.region = layer
        .region
        .or_else(|| get("AWS_REGION"))
        .or_else(|| get("AWS_DEFAULT_REGION"));
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    use crate::settings::layer::test_vars as vars;

    #[test]
    fn reads_pytest_allure_host_names() {
        let l = layer(&vars(&[
            ("ALLURE_BUCKET", "b"),
            ("ALLURE_BRANCH", "dev"),
            ("ALLURE_RESULTS_DIR", "out/results"),
            ("ALLURE_TTL_DAYS", "30"),
            ("ALLURE_META", "team=core\nsuite = smoke\n"),
            ("ALLURE_PROJECT", ""),
        ]))
        .unwrap();
        assert_eq!(l.bucket.as_deref(), Some("b"));
        assert_eq!(l.branch.as_deref(), Some("dev"));
        assert_eq!(l.results, Some(PathBuf::from("out/results")));
        assert_eq!(l.ttl_days, Some(30));
        assert_eq!(l.project, None, "empty means unset");
        let meta = crate::settings::layer::meta_map(l.meta);
        assert_eq!(meta["suite"], "smoke");
    }

    #[test]
    fn allure_endpoint_beats_aws_endpoint() {
        let l = layer(&vars(&[
            ("AWS_ENDPOINT_URL", "http://aws"),
            ("ALLURE_S3_ENDPOINT", "http://allure"),
        ]))
        .unwrap();
        assert_eq!(l.s3_endpoint.as_deref(), Some("http://allure"));
        let l = layer(&vars(&[("AWS_ENDPOINT_URL", "http://aws")])).unwrap();
        assert_eq!(l.s3_endpoint.as_deref(), Some("http://aws"));
    }

    #[test]
    fn bad_numbers_name_the_variable() {
        let err = layer(&vars(&[("ALLURE_TTL_DAYS", "soon")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ALLURE_TTL_DAYS"), "{err}");
    }
}
