//! `allure-host serve [DIR]`: a local site over HTTP on 127.0.0.1, routed
//! like the CloudFront distribution (folder URL -> its index.html, a folder
//! without its slash -> 301, anything missing -> the 404 page). An Allure
//! report cannot load its data from `file://`; over HTTP it can.
//!
//! A developer's reports are private: a web page the developer visits must
//! not read them. So the server answers only requests addressed to the
//! names it is bound to (DNS rebinding is refused), serves only files whose
//! real path is inside the site (links out are not followed), and every
//! redirect it makes stays on the site.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;

use crate::cli::ServeArgs;
use crate::infra::names::NOT_FOUND_KEY;
use crate::model::headers;
use crate::model::pointer::ProjectIndex;
use crate::model::route::{Route, route};
use crate::output::Output;
use crate::storage::LocalStore;

/// The names of this machine's loopback interface, always answered.
const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

const NOT_FOUND_PAGE: &str = crate::infra::plan::NOT_FOUND_PAGE;

type Body = Full<Bytes>;

pub struct Site {
    root: PathBuf,
    /// `root` with every link resolved: what a served file must be under.
    real_root: PathBuf,
    store: LocalStore,
    hosts: Hosts,
}

/// The `Host` header values the server answers: each name with its port.
#[derive(Debug, Clone)]
pub struct Hosts {
    names: Vec<String>,
    port: u16,
}

impl Hosts {
    /// The loopback names and `extra`, for `port`. A name is a host name or
    /// an IP address (IPv6 in brackets), without a port.
    pub fn new(extra: &[String], port: u16) -> Result<Self> {
        let mut names: Vec<String> = LOOPBACK_NAMES.iter().map(|n| n.to_string()).collect();
        for name in extra {
            let name = name.trim().to_ascii_lowercase();
            if !valid_host_name(&name) {
                bail!(
                    "--allow-host {name:?} is not a host name: give a name such as my-laptop.local or an address such as 192.168.1.20 or [fe80::1], without a port or scheme"
                );
            }
            names.push(name);
        }
        Ok(Self { names, port })
    }

    /// True when `host` (a `Host` header value) names this server. Only the
    /// default port 80 may be left out, as browsers leave it out.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let (name, port) = match host.rsplit_once(':') {
            // `[::1]` alone has colons inside its brackets, not a port.
            Some((name, port)) if !port.contains(']') => (name, Some(port)),
            _ => (host.as_str(), None),
        };
        let port_ok = match port {
            Some(p) => p.parse::<u16>().ok() == Some(self.port) && !p.starts_with('+'),
            None => self.port == 80,
        };
        port_ok && self.names.iter().any(|n| n == name)
    }

    fn listed(&self) -> String {
        self.names
            .iter()
            .map(|n| format!("{n}:{}", self.port))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Letters, digits, `-`, `.`, or an IPv6 address in brackets.
fn valid_host_name(name: &str) -> bool {
    if let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Serve `args.dir` until the process is stopped.
pub async fn run(args: &ServeArgs, out: &Output) -> Result<()> {
    let dir = &args.dir;
    if !dir.is_dir() {
        bail!(
            "no site at {}: publish one first (allure-host publish --results allure-results), or name the folder: allure-host serve DIR",
            dir.display()
        );
    }
    let port = args.port;
    // Checked before binding, so a bad name is reported on its own.
    let mut hosts = Hosts::new(&args.allow_host, port)?;
    let store = LocalStore::open_read_only(dir)?;
    let root = store.root().to_path_buf();
    let real_root = std::fs::canonicalize(&root)
        .with_context(|| format!("cannot resolve the site folder {}", root.display()))?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .with_context(|| {
            format!("cannot listen on 127.0.0.1:{port}; choose another port with --port (0 picks a free one)")
        })?;
    let addr = listener.local_addr()?;
    // The port bound (--port 0 picks one) is the one a Host header names.
    hosts.port = addr.port();
    let site = Arc::new(Site {
        hosts,
        root,
        real_root,
        store,
    });
    let base = format!("http://{addr}");
    let mut banner = format!("Serving {} at {base}/ (Ctrl-C stops)", site.root.display());
    for page in project_pages(&site.root) {
        banner.push_str(&format!("\n  {base}/{page}"));
    }
    out.line(banner);
    if args.open {
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
    let mut response = respond(&site, &req).await;
    if head {
        *response.body_mut() = Body::default();
    }
    Ok(response)
}

async fn respond(site: &Site, req: &Request<Incoming>) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD only\n".into());
    }
    if let Some(refusal) = check_host(&site.hosts, req) {
        return refusal;
    }
    let raw = req.uri().path();
    let Some(path) = percent_decode(raw) else {
        return plain(StatusCode::BAD_REQUEST, "bad percent-encoding\n".into());
    };
    if path.chars().any(char::is_control) {
        return plain(
            StatusCode::BAD_REQUEST,
            "control characters in the path\n".into(),
        );
    }
    match route(&path, req.uri().query()) {
        // The decoded path is only for finding a file; a Location copies the
        // raw path, whose escapes (%2F, %5C) a browser keeps as they are.
        Route::Redirect(_) => match same_site_location(raw, req.uri().query()) {
            Some(location) => build(
                StatusCode::MOVED_PERMANENTLY,
                &[(header::LOCATION, location)],
                Body::default(),
            ),
            None => not_found(site).await,
        },
        Route::Object(key) => object(site, &key).await,
    }
}

/// The refusal for a request not addressed to this server: a page on
/// another site that resolves its own name to 127.0.0.1 (DNS rebinding)
/// sends its own name. A request without a name is refused too.
fn check_host(hosts: &Hosts, req: &Request<Incoming>) -> Option<Response<Body>> {
    // Exactly one name: with two, a proxy and this server could each read
    // a different one (RFC 9112 asks for a 400 there; refused either way).
    let mut values = req.headers().get_all(header::HOST).iter();
    let named = match (values.next(), values.next()) {
        (Some(h), None) => h.to_str().ok().map(str::to_string),
        _ => None,
    };
    // An absolute request line (`GET http://name/ HTTP/1.1`) names its host
    // there, and it must be ours too.
    let in_uri = req.uri().authority().map(|a| a.as_str().to_string());
    let ok = named.as_deref().is_some_and(|h| hosts.allows(h))
        && in_uri.as_deref().is_none_or(|h| hosts.allows(h));
    if ok {
        return None;
    }
    Some(plain(
        StatusCode::MISDIRECTED_REQUEST,
        format!(
            "this server answers only for {}; to reach it by another name, start it with --allow-host NAME\n",
            hosts.listed()
        ),
    ))
}

/// `raw` plus the slash and the query, if that stays on this site: one
/// leading '/', not followed by another or by a backslash (browsers read
/// both `//host` and `/\host` as another host). None otherwise.
pub fn same_site_location(raw: &str, query: Option<&str>) -> Option<String> {
    let mut rest = raw.strip_prefix('/')?.chars();
    if matches!(rest.next(), Some('/' | '\\')) {
        return None;
    }
    let location = match query.filter(|q| !q.is_empty()) {
        Some(q) => format!("{raw}/?{q}"),
        None => format!("{raw}/"),
    };
    // A header value is visible ASCII; anything else is not a location.
    location
        .bytes()
        .all(|b| b.is_ascii_graphic())
        .then_some(location)
}

async fn object(site: &Site, key: &str) -> Response<Body> {
    if let Some(body) = read_inside(site, key).await {
        return file(StatusCode::OK, key, body);
    }
    if key == "index.html" {
        let html = crate::pages::site_index(&project_pages(&site.root));
        return file(StatusCode::OK, key, html.into_bytes());
    }
    not_found(site).await
}

async fn not_found(site: &Site) -> Response<Body> {
    let page = read_inside(site, NOT_FOUND_KEY)
        .await
        .unwrap_or_else(|| NOT_FOUND_PAGE.as_bytes().to_vec());
    file(StatusCode::NOT_FOUND, NOT_FOUND_KEY, page)
}

/// The bytes at `key`, if its real path (links resolved) is inside the
/// site; a link to a file outside reads as missing.
async fn read_inside(site: &Site, key: &str) -> Option<Vec<u8>> {
    let (path, real_root) = (site.root.join(key), site.real_root.clone());
    let inside = tokio::task::spawn_blocking(move || {
        std::fs::canonicalize(path).is_ok_and(|real| real.starts_with(&real_root))
    })
    .await
    .unwrap_or(false);
    if !inside {
        return None;
    }
    site.store.get(key).await.ok().flatten().map(|obj| obj.body)
}

fn file(status: StatusCode, key: &str, body: Vec<u8>) -> Response<Body> {
    build(
        status,
        &[
            (header::CONTENT_TYPE, headers::content_type(key)),
            (header::CACHE_CONTROL, "no-cache".into()),
        ],
        Body::from(body),
    )
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    build(
        status,
        &[(header::CONTENT_TYPE, "text/plain; charset=utf-8".into())],
        Body::from(text),
    )
}

/// A response; a header value that cannot be sent makes it a 400 instead
/// of a panic.
fn build(status: StatusCode, fields: &[(HeaderName, String)], body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    for (name, value) in fields {
        let Ok(value) = HeaderValue::from_str(value) else {
            let mut bad = Response::new(Body::from("the request cannot be answered\n"));
            *bad.status_mut() = StatusCode::BAD_REQUEST;
            return bad;
        };
        response.headers_mut().insert(name.clone(), value);
    }
    response
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

    #[test]
    fn only_the_bound_names_with_the_port_are_hosts() {
        let hosts = Hosts::new(&["My-Box.local".into()], 8040).unwrap();
        for ok in [
            "127.0.0.1:8040",
            "localhost:8040",
            "LocalHost:8040",
            "[::1]:8040",
            "my-box.local:8040",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example:8040",
            "localhost",
            "localhost:80",
            "localhost:+8040",
            "localhost:8040:8040",
            "[::1]",
            "127.0.0.1.nip.io:8040",
            "",
        ] {
            assert!(!hosts.allows(bad), "{bad}");
        }
        assert!(Hosts::new(&[], 80).unwrap().allows("localhost"));
        for bad in ["http://x", "x:80", "a b", "", "[nope]", "*"] {
            assert!(Hosts::new(&[bad.into()], 1).is_err(), "{bad}");
        }
    }

    #[test]
    fn locations_stay_on_the_site() {
        assert_eq!(
            same_site_location("/a/%2F%2Fb", Some("q=1")).as_deref(),
            Some("/a/%2F%2Fb/?q=1")
        );
        assert_eq!(
            same_site_location("/%5Cevil", None).as_deref(),
            Some("/%5Cevil/")
        );
        for bad in ["//evil", "/\\evil", "evil", ""] {
            assert_eq!(same_site_location(bad, None), None, "{bad}");
        }
    }
}
