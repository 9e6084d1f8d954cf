//! One source of settings: every field optional, merged by precedence.

use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Layer {
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    pub project: Option<String>,
    pub branch: Option<String>,
    pub run_id: Option<String>,
    pub cloudfront: Option<String>,
    pub results: Option<PathBuf>,
    pub report: Option<PathBuf>,
    pub ttl_days: Option<u32>,
    pub max_keep_runs: Option<u32>,
    pub sse: Option<String>,
    pub sse_kms_key_id: Option<String>,
    pub s3_endpoint: Option<String>,
    pub region: Option<String>,
    pub local_dir: Option<PathBuf>,
    pub concurrency: Option<usize>,
    pub summary_json: Option<PathBuf>,
    pub context_url: Option<String>,
    pub commit: Option<String>,
    pub keep_analytics: Option<bool>,
    /// Which leg of a CI matrix this run is (shown in the runs index).
    pub variant: Option<String>,
    /// Merged key by key: a higher layer wins per key.
    pub meta: BTreeMap<String, String>,
}

macro_rules! prefer {
    ($hi:ident, $lo:ident, $($field:ident),*) => {
        Layer {
            $($field: $hi.$field.or($lo.$field),)*
            meta: {
                let mut meta = $lo.meta;
                meta.extend($hi.meta);
                meta
            },
        }
    };
}

impl Layer {
    /// `self` wins over `lower` field by field.
    pub fn over(self, lower: Layer) -> Layer {
        let (hi, lo) = (self, lower);
        prefer!(
            hi,
            lo,
            bucket,
            prefix,
            project,
            branch,
            run_id,
            cloudfront,
            results,
            report,
            ttl_days,
            max_keep_runs,
            sse,
            sse_kms_key_id,
            s3_endpoint,
            region,
            local_dir,
            concurrency,
            summary_json,
            context_url,
            commit,
            keep_analytics,
            variant
        )
    }
}

/// Parse `KEY=VALUE` items (from flags, or lines of an env var).
pub fn parse_meta<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let Some((k, v)) = item.split_once('=') else {
            return Err(format!("--meta {item:?} has no '='; write KEY=VALUE"));
        };
        out.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(out)
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

/// Builds an environment for tests.
#[cfg(test)]
pub fn test_vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
