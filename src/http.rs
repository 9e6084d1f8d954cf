//! JSON over HTTP(S) to any URL (a forge's API, a chat webhook), on the
//! hyper client octocrab already brings: no second HTTP stack.
//!
//! Small on purpose: `get_json`, `post_json`, `put_json`, `delete`, each
//! answering a [`Reply`] (status, headers, body) whatever the status, so the
//! caller decides what a 404 or a 500 means. Every request is bounded
//! (connect, read, and the whole exchange), follows no redirect, is never
//! retried, and carries only the headers given. Errors name the method and
//! the URL's origin only: a webhook's path and a query can be the secret,
//! and header values (tokens) are never put in an error.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use http::{Method, StatusCode, Uri};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;

const AGENT: &str = concat!("allure-host/", env!("CARGO_PKG_VERSION"));
/// The whole exchange, connect to the last byte, unless `with_timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// A larger answer is refused: these are small API documents.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// What a server answered.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).context("the answer is not the JSON expected")
    }

    /// A header's value as text, when present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The start of the body on one line, for an error message.
    pub fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut cut: String = one_line.chars().take(200).collect();
        if one_line.chars().count() > 200 {
            cut.push('…');
        }
        cut
    }
}

/// One client, reused for the requests of a task (it keeps connections).
pub struct Client {
    inner: Octocrab,
    timeout: Duration,
}

/// Headers from name and value pairs, every value marked sensitive (hyper
/// never shows it). A value a header cannot carry is refused without being
/// echoed.
pub fn headers(pairs: &[(&str, &str)]) -> Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| anyhow!("{name:?} is not a header name"))?;
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| anyhow!("the value of header {name} holds characters a header cannot"))?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

/// `scheme://host[:port]` of a URL, the only part an error shows.
pub fn origin(url: &str) -> String {
    match url.parse::<Uri>() {
        Ok(u) => match (u.scheme_str(), u.authority()) {
            (Some(s), Some(a)) => format!("{s}://{}", a.as_str().rsplit('@').next().unwrap_or("")),
            _ => "(a URL without a host)".into(),
        },
        Err(_) => "(not a URL)".into(),
    }
}

impl Client {
    pub fn new() -> Result<Self> {
        let inner = Octocrab::builder()
            .add_header(USER_AGENT, AGENT.to_string())
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(DEFAULT_TIMEOUT))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Self {
            inner,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Bound each exchange to `timeout` instead of `DEFAULT_TIMEOUT`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub async fn get_json(&self, url: &str, headers: &HeaderMap) -> Result<Reply> {
        self.send(Method::GET, url, headers, None::<&()>).await
    }

    pub async fn post_json<B: Serialize + ?Sized>(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: &B,
    ) -> Result<Reply> {
        self.send(Method::POST, url, headers, Some(body)).await
    }

    pub async fn put_json<B: Serialize + ?Sized>(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: &B,
    ) -> Result<Reply> {
        self.send(Method::PUT, url, headers, Some(body)).await
    }

    pub async fn delete(&self, url: &str, headers: &HeaderMap) -> Result<Reply> {
        self.send(Method::DELETE, url, headers, None::<&()>).await
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: &str,
        headers: &HeaderMap,
        body: Option<&B>,
    ) -> Result<Reply> {
        let what = format!("{method} {}/…", origin(url));
        let uri: Uri = url.parse().map_err(|_| anyhow!("{what}: not a URL"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            bail!("{what}: only http(s) URLs with a host are reached");
        }
        let mut builder = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(ACCEPT, "application/json")
            // Per request: octocrab's default agent would replace the client's.
            .header(USER_AGENT, AGENT);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let exchange = async {
            let request = self
                .inner
                .build_request(builder, body)
                .map_err(|_| anyhow!("the request could not be built"))?;
            let resp = self
                .inner
                .execute(request)
                .await
                .map_err(|e| anyhow!("{}", transport(&e)))?;
            let (parts, mut stream) = resp.into_parts();
            let mut body = Vec::new();
            while let Some(frame) = stream.frame().await {
                let frame =
                    frame.map_err(|e| anyhow!("the answer broke off: {}", transport(&e)))?;
                if let Ok(data) = frame.into_data() {
                    body.extend_from_slice(&data);
                    if body.len() > MAX_BODY {
                        bail!("the answer is larger than {MAX_BODY} bytes");
                    }
                }
            }
            Ok(Reply {
                status: parts.status,
                headers: parts.headers,
                body: body.into(),
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(reply) => reply.with_context(|| what.clone()),
            Err(_) => bail!("{what}: no answer within {} s", self.timeout.as_secs()),
        }
    }
}

/// A transport error's causes, which name no URL or header.
fn transport(e: &octocrab::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_show_only_the_origin() {
        assert_eq!(
            origin("https://hooks.example.com/services/T0/B0/secret?x=1"),
            "https://hooks.example.com"
        );
        assert_eq!(
            origin("http://user:pw@127.0.0.1:8080/a"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(origin("not a url"), "(not a URL)");
    }

    #[test]
    fn header_values_are_sensitive_and_never_echoed() {
        let h = headers(&[("PRIVATE-TOKEN", "glpat-123")]).unwrap();
        assert!(h["private-token"].is_sensitive());
        let err = headers(&[("PRIVATE-TOKEN", "bad\nglpat-123")]).unwrap_err();
        assert!(!format!("{err:#}").contains("glpat"), "{err:#}");
    }

    #[tokio::test]
    async fn an_unreachable_server_is_an_error_naming_the_origin_only() {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/hook/secret-path");
        let h = headers(&[("PRIVATE-TOKEN", "glpat-secret")]).unwrap();
        let err = Client::new()
            .unwrap()
            .post_json(&url, &h, &serde_json::json!({"a": 1}))
            .await
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.starts_with(&format!("POST http://127.0.0.1:{port}/…")),
            "{text}"
        );
        assert!(!text.contains("secret"), "{text}");
    }
}
