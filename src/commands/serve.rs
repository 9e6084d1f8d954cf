//! `allure-host serve [DIR]`: a local site over HTTP on 127.0.0.1, routed
//! like the CloudFront distribution (folder URL -> its index.html, a folder
//! without its slash -> 301, anything missing -> the 404 page). An Allure
//! report cannot load its data from `file://`; over HTTP it can.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;

use crate::infra::names::NOT_FOUND_KEY;
use crate::model::pointer::ProjectIndex;
use crate::model::route::{Route, route};
use crate::output::Output;
use crate::report::headers;
use crate::storage::LocalStore;

/// Where `serve` listens unless told otherwise; local publishes print URLs
/// on it.
pub const DEFAULT_PORT: u16 = 8040;
/// The site a publish without a bucket writes.
pub const DEFAULT_SITE: &str = "allure-site";

const NOT_FOUND_PAGE: &str = include_str!("../infra/not-found.html");

type Body = Full<Bytes>;

pub struct Site {
    root: PathBuf,
    store: LocalStore,
}

/// Serve `dir` until the process is stopped.
pub async fn run(dir: &Path, port: u16, open: bool, out: &Output) -> Result<()> {
    if !dir.is_dir() {
        bail!(
            "no site at {}: publish one first (allure-host publish --results allure-results), or name the folder: allure-host serve DIR",
            dir.display()
        );
    }
    let store = LocalStore::open_read_only(dir)?;
    let site = Arc::new(Site {
        root: store.root().to_path_buf(),
        store,
    });
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .with_context(|| {
            format!("cannot listen on 127.0.0.1:{port}; choose another port with --port (0 picks a free one)")
        })?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut banner = format!("Serving {} at {base}/ (Ctrl-C stops)", site.root.display());
    for page in project_pages(&site.root) {
        banner.push_str(&format!("\n  {base}/{page}"));
    }
    out.line(banner);
    if open {
        open_browser(&format!("{base}/"), out);
    }
    loop {
        let (stream, _) = listener.accept().await?;
        let site = site.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| answer(site.clone(), req));
            // A client that hangs up mid-response is not our error.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(site: Arc<Site>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD only"));
    }
    let Some(path) = percent_decode(req.uri().path()) else {
        return Ok(plain(StatusCode::BAD_REQUEST, "bad percent-encoding"));
    };
    let mut response = match route(&path, req.uri().query()) {
        Route::Redirect(location) => Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header(header::LOCATION, location)
            .body(Body::default())
            .expect("valid response"),
        Route::Object(key) => object(&site, &key).await,
    };
    if head {
        *response.body_mut() = Body::default();
    }
    Ok(response)
}

async fn object(site: &Site, key: &str) -> Response<Body> {
    if let Ok(Some(obj)) = site.store.get(key).await {
        return file(StatusCode::OK, key, obj.body);
    }
    if key == "index.html" {
        let html = crate::pages::site_index(&project_pages(&site.root));
        return file(StatusCode::OK, key, html.into_bytes());
    }
    let page = match site.store.get(NOT_FOUND_KEY).await {
        Ok(Some(obj)) => obj.body,
        _ => NOT_FOUND_PAGE.as_bytes().to_vec(),
    };
    file(StatusCode::NOT_FOUND, NOT_FOUND_KEY, page)
}

fn file(status: StatusCode, key: &str, body: Vec<u8>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, headers::content_type(key))
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from(body))
        .expect("valid response")
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(text))
        .expect("valid response")
}

/// `%XX` -> byte; None for a broken escape or bytes that are not UTF-8.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The project pages in the site (`<prefix>/<project>/index.html` beside a
/// project index), as keys.
fn project_pages(root: &Path) -> Vec<String> {
    let mut pages: Vec<String> = walkdir::WalkDir::new(root)
        .max_depth(4)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "index.json")
        .filter(|e| {
            std::fs::read(e.path())
                .ok()
                .and_then(|b| ProjectIndex::parse(&b))
                .is_some()
        })
        .filter_map(|e| {
            let dir = e.path().parent()?.strip_prefix(root).ok()?;
            let parts: Vec<_> = dir
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect();
            Some(format!("{}/index.html", parts.join("/")))
        })
        .collect();
    pages.dedup();
    pages
}

fn open_browser(url: &str, out: &Output) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener).arg(url).spawn() {
        out.warning(&format!(
            "cannot open a browser ({opener}: {e}); open {url} yourself"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_decode_and_broken_ones_are_refused() {
        assert_eq!(
            percent_decode("/a%20b/c~2Fd").as_deref(),
            Some("/a b/c~2Fd")
        );
        assert_eq!(percent_decode("/bad%zz"), None);
        assert_eq!(percent_decode("/cut%2"), None);
    }
}
