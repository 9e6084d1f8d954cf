//! URLs readers follow: the site's base (CloudFront's domain, or the
//! site's own name) and the links CI or the user give (the build, the
//! context of a run). Parsed once, where settings are read, so what is not
//! an http(s) URL with a host is refused there and never reaches a page, a
//! summary or a signed link.

use std::fmt;

use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebError {
    #[error("is not a valid URL ({0})")]
    Invalid(String),
    #[error("must be an http:// or https:// URL")]
    Scheme,
    #[error("must name a host")]
    NoHost,
    #[error("must not carry a query, a fragment, a user or a password")]
    Extra,
}

/// The site's base URL: http(s), a host, maybe a path; no query, fragment
/// or credentials. Shown without a trailing '/', so `{base}/{key}` is the
/// URL of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteUrl(Url);

impl SiteUrl {
    /// `d123.cloudfront.net` (https is assumed), `https://reports.example.com/`
    /// or `http://127.0.0.1:8040/site`.
    pub fn parse(text: &str) -> Result<Self, WebError> {
        let text = text.trim();
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("https://{text}")
        };
        let url = web_url(&with_scheme)?;
        if url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(WebError::Extra);
        }
        Ok(Self(url))
    }

    /// The URL of `key` on the site.
    pub fn key_url(&self, key: &str) -> String {
        format!("{self}/{key}")
    }
}

impl fmt::Display for SiteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

/// A link to a web page (a CI build, a run's context): http(s) with a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebLink(Url);

impl WebLink {
    pub fn parse(text: &str) -> Result<Self, WebError> {
        web_url(text.trim()).map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for WebLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

fn web_url(text: &str) -> Result<Url, WebError> {
    let url = Url::parse(text).map_err(|e| WebError::Invalid(e.to_string()))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(WebError::Scheme);
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(WebError::NoHost);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_domain_is_https_and_a_trailing_slash_goes() {
        let base = SiteUrl::parse("d111.cloudfront.net").unwrap();
        assert_eq!(base.to_string(), "https://d111.cloudfront.net");
        assert_eq!(
            base.key_url("reports/p/main/index.html"),
            "https://d111.cloudfront.net/reports/p/main/index.html"
        );
        let site = SiteUrl::parse(" https://reports.example.com/site/ ").unwrap();
        assert_eq!(site.to_string(), "https://reports.example.com/site");
    }

    #[test]
    fn what_is_not_a_web_url_is_refused() {
        for bad in [
            "https://<x>",
            "ftp://x",
            "javascript:alert(1)",
            "https://",
            "https://a b",
            "https://x/?q=1",
            "https://x/#top",
            "https://user:pw@x",
        ] {
            assert!(SiteUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(WebLink::parse("javascript:alert(1)").is_err());
        assert!(WebLink::parse("data:text/html,hi").is_err());
        assert_eq!(
            WebLink::parse("https://github.com/o/r/actions/runs/1?x=1")
                .unwrap()
                .as_str(),
            "https://github.com/o/r/actions/runs/1?x=1"
        );
    }
}
