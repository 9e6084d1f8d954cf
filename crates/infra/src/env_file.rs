//! `.infra_env`: what setup made, as shell assignments (`source .infra_env`),
//! read back by validate, cleanup, write-config and policy. The keys are
//! pytest-allure-host's (BUCKET, AWS_REGION, CF_DOMAIN, DISTRIBUTION_ID,
//! OAC_ID) plus ours.

pub const DEFAULT_NAME: &str = ".infra_env";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InfraEnv {
    pub bucket: String,
    pub region: String,
    pub account_id: Option<String>,
    pub distribution_id: Option<String>,
    pub cf_domain: Option<String>,
    pub oac_id: Option<String>,
    pub function_name: Option<String>,
}

/// Every value we write is an AWS name or id; anything else is quoted so the
/// file stays safe to source.
fn shell_value(v: &str) -> String {
    if !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'/'))
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', r"'\''"))
    }
}

impl InfraEnv {
    pub fn render(&self) -> String {
        let mut out =
            String::from("# Written by `allure-host infra setup`. Load with: source .infra_env\n");
        let mut line = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                out.push_str(&format!("export {k}={}\n", shell_value(v)));
            }
        };
        line("BUCKET", Some(&self.bucket));
        line("AWS_REGION", Some(&self.region));
        line("AWS_ACCOUNT_ID", self.account_id.as_deref());
        line("CF_DOMAIN", self.cf_domain.as_deref());
        line("DISTRIBUTION_ID", self.distribution_id.as_deref());
        line("OAC_ID", self.oac_id.as_deref());
        line("FUNCTION_NAME", self.function_name.as_deref());
        out
    }

    /// Reads `KEY=VALUE` lines, with or without `export`, quotes optional.
    /// Unknown keys are ignored (the file may carry the user's own lines).
    pub fn parse(text: &str) -> Result<Self, EnvFileError> {
        let mut env = InfraEnv::default();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line).trim();
            let Some((key, value)) = line.split_once('=') else {
                return Err(EnvFileError::NotKeyValue {
                    line: n + 1,
                    found: raw.to_string(),
                });
            };
            let value = unquote(value.trim());
            let value = (!value.is_empty()).then_some(value);
            match key.trim() {
                "BUCKET" => env.bucket = value.unwrap_or_default(),
                "AWS_REGION" => env.region = value.unwrap_or_default(),
                "AWS_ACCOUNT_ID" => env.account_id = value,
                "CF_DOMAIN" => env.cf_domain = value,
                "DISTRIBUTION_ID" => env.distribution_id = value,
                "OAC_ID" => env.oac_id = value,
                "FUNCTION_NAME" => env.function_name = value,
                _ => {}
            }
        }
        if env.bucket.is_empty() {
            return Err(EnvFileError::NoBucket);
        }
        Ok(env)
    }
}

/// An env file that cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvFileError {
    #[error("line {line}: expected KEY=VALUE, found {found:?}")]
    NotKeyValue { line: usize, found: String },
    #[error("BUCKET is missing")]
    NoBucket,
}

fn unquote(v: &str) -> String {
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        v[1..v.len() - 1].replace(r"'\''", "'")
    } else if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        v[1..v.len() - 1].to_string()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_parse_round_trip() {
        let env = InfraEnv {
            bucket: "reports-b".into(),
            region: "eu-west-1".into(),
            account_id: Some("123456789012".into()),
            distribution_id: Some("E1ABC".into()),
            cf_domain: Some("d111.cloudfront.net".into()),
            oac_id: Some("O1".into()),
            function_name: Some("allure-host-index-reports-b".into()),
        };
        let text = env.render();
        assert!(text.contains("export BUCKET=reports-b\n"));
        assert_eq!(InfraEnv::parse(&text).unwrap(), env);
    }

    #[test]
    fn parses_the_older_plain_format() {
        let env = InfraEnv::parse(
            "BUCKET=\"b1\"\nAWS_REGION='us-east-1'\nCF_DOMAIN=d.cloudfront.net\nMY_OWN=1\n",
        )
        .unwrap();
        assert_eq!(env.bucket, "b1");
        assert_eq!(env.region, "us-east-1");
        assert_eq!(env.cf_domain.as_deref(), Some("d.cloudfront.net"));
        assert!(InfraEnv::parse("AWS_REGION=x").is_err());
        assert!(InfraEnv::parse("BUCKET").is_err());
    }

    #[test]
    fn odd_values_are_quoted() {
        assert_eq!(shell_value("a b'c"), r"'a b'\''c'");
        assert_eq!(unquote(&shell_value("a b'c")), "a b'c");
    }
}
