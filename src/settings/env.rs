//! The environment layer: `ALLURE_*` variables (pytest-allure-host's names),
//! read by envy, plus the AWS variables the SDK also honours.

use std::path::PathBuf;

use serde::Deserialize;

use super::layer::{Layer, lookup, parse_meta, read_allure_vars};

#[derive(Debug, Default, Deserialize)]
struct AllureVars {
    bucket: Option<String>,
    prefix: Option<String>,
    project: Option<String>,
    branch: Option<String>,
    run_id: Option<String>,
    cloudfront: Option<String>,
    results_dir: Option<PathBuf>,
    report_dir: Option<PathBuf>,
    ttl_days: Option<u32>,
    max_keep_runs: Option<u32>,
    sse: Option<String>,
    sse_kms_key_id: Option<String>,
    s3_endpoint: Option<String>,
    region: Option<String>,
    local_dir: Option<PathBuf>,
    concurrency: Option<usize>,
    summary_json: Option<PathBuf>,
    context_url: Option<String>,
    meta: Option<String>,
    keep_analytics: Option<bool>,
    variant: Option<String>,
}

/// Build the layer from `vars` (the process environment in production).
/// Empty values count as unset, as CI systems export empty inputs.
pub fn layer(vars: &[(String, String)]) -> Result<Layer, String> {
    let get = |name: &str| lookup(vars, name);
    let v: AllureVars = read_allure_vars(vars)
        .map_err(|msg| format!("environment: {msg}; fix or unset the variable"))?;
    let meta = match &v.meta {
        Some(text) => parse_meta(text.lines()).map_err(|e| format!("ALLURE_META: {e}"))?,
        None => Default::default(),
    };
    Ok(Layer {
        bucket: v.bucket,
        prefix: v.prefix,
        project: v.project,
        branch: v.branch,
        run_id: v.run_id,
        cloudfront: v.cloudfront,
        results: v.results_dir,
        report: v.report_dir,
        ttl_days: v.ttl_days,
        max_keep_runs: v.max_keep_runs,
        sse: v.sse,
        sse_kms_key_id: v.sse_kms_key_id,
        s3_endpoint: v.s3_endpoint.or_else(|| get("AWS_ENDPOINT_URL")),
        region: v
            .region
            .or_else(|| get("AWS_REGION"))
            .or_else(|| get("AWS_DEFAULT_REGION")),
        local_dir: v.local_dir,
        concurrency: v.concurrency,
        summary_json: v.summary_json,
        context_url: v.context_url,
        commit: None,
        keep_analytics: v.keep_analytics,
        variant: v.variant,
        meta,
    })
}

#[cfg(test)]
mod tests {
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
        assert_eq!(l.meta["suite"], "smoke");
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
        let err = layer(&vars(&[("ALLURE_TTL_DAYS", "soon")])).unwrap_err();
        assert!(err.contains("ALLURE_TTL_DAYS"), "{err}");
    }
}
