//! Two octocrab clients: one that carries the token, for the REST API, and a
//! plain one without any Authorization header, for the storage URLs that
//! artifact downloads redirect to (they refuse a second credential) and for
//! the OIDC token endpoint (which takes its own bearer token).

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use http::StatusCode;
use http::header::{HeaderMap, HeaderValue, LOCATION, USER_AGENT};
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use octocrab::Octocrab;
use serde::de::DeserializeOwned;

pub type Response = http::Response<BoxBody<Bytes, octocrab::Error>>;

const AGENT: &str = concat!("allure-host/", env!("CARGO_PKG_VERSION"));

pub struct GitHub {
    api: Octocrab,
    plain: Octocrab,
}

/// The HTTP status of a failed call, when the API answered.
pub fn status_of(e: &octocrab::Error) -> Option<StatusCode> {
    match e {
        octocrab::Error::GitHub { source, .. } => Some(source.status_code),
        _ => None,
    }
}

fn builder() -> octocrab::OctocrabBuilder<
    octocrab::NoSvc,
    octocrab::DefaultOctocrabBuilderConfig,
    octocrab::NoAuth,
    octocrab::NotLayerReady,
> {
    Octocrab::builder()
        .add_header(USER_AGENT, AGENT.to_string())
        .set_connect_timeout(Some(Duration::from_secs(15)))
        .set_read_timeout(Some(Duration::from_secs(120)))
}

impl GitHub {
    pub fn new(api_url: &str, token: Option<&str>) -> Result<Self> {
        let mut api = builder()
            .base_uri(api_url)
            .with_context(|| format!("GITHUB_API_URL {api_url:?} is not a valid URL"))?;
        if let Some(token) = token {
            api = api.personal_token(token.to_string());
        }
        Ok(Self {
            api: api.build().context("cannot set up the GitHub API client")?,
            plain: builder().build().context("cannot set up the HTTP client")?,
        })
    }

    pub async fn get<T: DeserializeOwned>(&self, route: &str) -> octocrab::Result<T> {
        self.api.get(route, None::<&()>).await
    }

    pub async fn post<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        route: &str,
        body: &B,
    ) -> octocrab::Result<T> {
        self.api.post(route, Some(body)).await
    }

    pub async fn patch<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        route: &str,
        body: &B,
    ) -> octocrab::Result<T> {
        self.api.patch(route, Some(body)).await
    }

    pub async fn delete(&self, route: &str) -> octocrab::Result<()> {
        let resp = self.api._delete(route, None::<&()>).await?;
        octocrab::map_github_error(resp).await.map(drop)
    }

    /// GET an API route that answers with a redirect, and return the target
    /// without following it (so the token never travels to the target).
    pub async fn redirect_target(&self, route: &str) -> Result<String> {
        let resp = self
            .api
            ._get(route)
            .await
            .with_context(|| format!("GET {route}"))?;
        let status = resp.status();
        if status.is_redirection() {
            return resp
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .ok_or_else(|| anyhow!("GET {route}: {status} without a Location header"));
        }
        let err = octocrab::map_github_error(resp).await.err();
        Err(match err {
            Some(e) => anyhow!(e).context(format!("GET {route}")),
            None => anyhow!("GET {route}: expected a redirect, got {status}"),
        })
    }

    /// GET an absolute URL with no credentials (or only `headers`).
    pub async fn get_plain(&self, url: &str, headers: Option<HeaderMap>) -> Result<Response> {
        let resp = self
            .plain
            ._get_with_headers(url, headers)
            .await
            .with_context(|| format!("GET {}", redact(url)))?;
        octocrab::map_github_error(resp)
            .await
            .with_context(|| format!("GET {}", redact(url)))
    }
}

/// A bearer header for `get_plain`.
pub fn bearer(token: &str) -> Result<HeaderMap> {
    let mut h = HeaderMap::new();
    let mut v = HeaderValue::from_str(&format!("Bearer {token}"))
        .context("the request token holds characters a header cannot carry")?;
    v.set_sensitive(true);
    h.insert(http::header::AUTHORIZATION, v);
    Ok(h)
}

/// Drop the query (signed URLs carry their signature there) before printing.
pub fn redact(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_string(),
    }
}

/// Stream a response body into `out`, refusing more than `max` bytes.
pub async fn body_to_file(resp: Response, out: &mut std::fs::File, max: u64) -> Result<u64> {
    use std::io::Write;
    let mut body = resp.into_body();
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.context("the download broke off")?;
        if let Ok(data) = frame.into_data() {
            total += data.len() as u64;
            if total > max {
                anyhow::bail!("the download is larger than the {max}-byte limit");
            }
            out.write_all(&data)?;
        }
    }
    Ok(total)
}

/// Read a small response body as JSON.
pub async fn body_json<T: DeserializeOwned>(resp: Response) -> Result<T> {
    let bytes = resp
        .into_body()
        .collect()
        .await
        .context("the response broke off")?
        .to_bytes();
    serde_json::from_slice(&bytes).context("the response is not the JSON expected")
}

#[cfg(test)]
mod tests {
    #[test]
    fn signed_urls_lose_their_query_when_printed() {
        assert_eq!(
            super::redact("https://blob.example/a.zip?sig=secret"),
            "https://blob.example/a.zip?…"
        );
    }
}
