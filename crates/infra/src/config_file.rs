//! The `allure-host.yml` that setup and write-config produce: what publish
//! needs to reach the bucket and print CloudFront links, with no flags.

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PublishConfig {
    pub bucket: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    pub aws_region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudfront: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudfront_distribution_id: Option<String>,
}

impl PublishConfig {
    pub fn render(&self) -> Result<String, serde_norway::Error> {
        let body = serde_norway::to_string(self)?;
        Ok(format!(
            "# Written by `allure-host infra`; regenerate with `allure-host infra write-config --force`.\n{body}"
        ))
    }
}

/// `https://<domain>` for a bare CloudFront domain; URLs pass through.
pub fn cloudfront_url(domain: &str) -> String {
    if domain.starts_with("https://") || domain.starts_with("http://") {
        domain.trim_end_matches('/').to_string()
    } else {
        format!("https://{}", domain.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_yaml_publish_reads() {
        let c = PublishConfig {
            bucket: "reports-b".into(),
            prefix: Some("reports".into()),
            project: None,
            aws_region: "eu-west-1".into(),
            cloudfront: Some(cloudfront_url("d111.cloudfront.net")),
            cloudfront_distribution_id: Some("E1".into()),
        };
        let text = c.render().unwrap();
        insta::assert_snapshot!(text);
    }
}
