//! `allure-host serve`: a local site over real HTTP, routed like CloudFront,
//! and opened in a real browser (Debian's chromium, headless).
#![cfg(feature = "integration")]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use support::*;

/// (status, headers and body as text) of a GET over a plain socket.
fn http_get(base: &str, path: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let (status, text) = raw_request(
        base,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    (
        status.unwrap_or_else(|| panic!("no answer to {path:?}: {text:?}")),
        text,
    )
}

/// Send `request` as it is (no client in between to normalise the path);
/// the status, if an HTTP answer came, and everything that came back.
fn raw_request(base: &str, request: &[u8]) -> (Option<u16>, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(request).unwrap();
    let mut bytes = Vec::new();
    // A server that closes first may reset the socket; what came is kept.
    let _ = s.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.get(..3))
        .and_then(|c| c.parse().ok());
    (status, text)
}

/// The header `name` of a response, if present (first one).
fn header<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let head = text.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Three runs of the example into a local site.
fn site_with_three_runs(tmp: &Path) -> std::path::PathBuf {
    let site = tmp.join("allure-site");
    let ex = examples();
    for _ in 0..3 {
        ok(&run_in(
            tmp,
            &[
                "publish",
                "--results",
                ex.to_str().unwrap(),
                "--project",
                "example",
                "--branch",
                "main",
            ],
        ));
    }
    site
}

#[test]
fn serve_routes_like_the_distribution() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site_with_three_runs(tmp.path());
    let server = serve(&site);
    let (status, text) = http_get(&server.base, "/reports/example/main/latest");
    assert_eq!(status, 301);
    assert!(
        text.to_ascii_lowercase()
            .contains("location: /reports/example/main/latest/\r\n"),
        "{text}"
    );
    let (status, text) = http_get(&server.base, "/reports/example/main/latest/");
    assert_eq!(status, 200);
    assert!(
        text.contains("content-type: text/html; charset=utf-8"),
        "{text}"
    );
    let (status, text) = http_get(&server.base, "/reports/example/main/runs/index.json");
    assert_eq!(status, 200);
    assert!(text.contains("\"runs\""));
    let (status, text) = http_get(&server.base, "/reports/example/nope.html");
    assert_eq!(status, 404);
    assert!(text.contains("<html"), "the 404 page: {text}");
    let (status, _) = http_get(&server.base, "/.allure-host/");
    assert_eq!(status, 404, "our private folder is not served");
    let (status, text) = http_get(&server.base, "/");
    assert_eq!(status, 200);
    assert!(text.contains("reports/example/index.html"), "{text}");
}

#[test]
fn a_missing_site_or_a_busy_port_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = failed(&run_in(tmp.path(), &["serve", "nowhere"]));
    assert!(err.contains("no site at nowhere"), "{err}");
    let site = site_with_three_runs(tmp.path());
    let server = serve(&site);
    let port = server.base.rsplit(':').next().unwrap();
    let err = failed(&run_in(
        tmp.path(),
        &["serve", site.to_str().unwrap(), "--port", port],
    ));
    assert!(err.contains("choose another port with --port"), "{err}");
}

/// A copy of the example results in which every test passed.
fn passing_results() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(examples()).unwrap() {
        let path = e.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut bytes = std::fs::read(&path).unwrap();
        if name.ends_with("-result.json") {
            let mut r: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            if r["status"] == "failed" || r["status"] == "broken" {
                r["status"] = "passed".into();
            }
            bytes = serde_json::to_vec(&r).unwrap();
        }
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

#[test]
fn pages_work_in_a_browser_and_request_no_other_host() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site_with_three_runs(tmp.path());
    let green = passing_results();
    ok(&run_in(
        tmp.path(),
        &[
            "publish",
            "--results",
            green.path().to_str().unwrap(),
            "--project",
            "example",
            "--branch",
            "main",
        ],
    ));
    let server = serve(&site);
    let seen = browse("browse.mjs", &[&server.base, "/reports/example/"]);
    let host = server.base.trim_start_matches("http://");
    assert_eq!(
        seen["hosts"],
        serde_json::json!([host]),
        "no page requested another host"
    );
    // The latest URL renders the Allure report with its 4-point trend.
    assert_eq!(seen["report"]["failedToFetch"], false);
    assert_eq!(
        seen["report"]["trendPoints"],
        serde_json::json!(["#1", "#2", "#3", "#4"])
    );
    // The runs page: cards, both charts, and filters that hide rows.
    let runs = &seen["runs"];
    assert_eq!(runs["kpis"], 8);
    assert_eq!(runs["lines"], 2, "pass-rate and duration lines");
    assert_eq!(runs["bars"], 3, "the three runs with failures");
    assert_eq!(runs["rows"], 4);
    assert_eq!(runs["afterText"], 1, "filtering by a run id leaves its row");
    assert_eq!(
        runs["afterOnlyFailing"], 3,
        "only failing hides the green run"
    );
    // The project page draws its sparkline.
    assert_eq!(seen["project"]["sparklines"], 1);
}

#[test]
fn an_allure_3_report_shows_its_trend_and_links_back_in_a_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = examples();
    for run in ["a3-1", "a3-2"] {
        ok(&run_in(
            tmp.path(),
            &[
                "publish",
                "--results",
                ex.to_str().unwrap(),
                "--project",
                "example",
                "--branch",
                "main",
                "--run-id",
                run,
                "--allure",
                "3",
            ],
        ));
    }
    let server = serve(&tmp.path().join("allure-site"));
    let branch = "/reports/example/main/";
    let seen = browse(
        "browse3.mjs",
        &[&server.base, branch, "Checkout charges the card"],
    );
    let host = server.base.trim_start_matches("http://");
    assert_eq!(seen["hosts"], serde_json::json!([host]), "no other host");
    assert_eq!(seen["landed"], "/reports/example/main/a3-2/index.html");
    // Two bars in the trend: run 1 by its date, this run as "Latest".
    let bars = seen["statusDynamics"].as_array().unwrap();
    assert_eq!(bars.len(), 2, "{seen}");
    assert_eq!(bars[1], "Latest");
    // The test's history links to run 1's report.
    let links: Vec<&str> = seen["historyLinks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(links.len(), 1, "{seen}");
    assert!(
        links[0].contains("/reports/example/main/a3-1/index.html#"),
        "{seen}"
    );
}

/// What a file outside every site holds; no answer may contain it.
const SECRET: &str = "SECRET-0f3a9c-outside-the-site";

/// A small hand-made site beside a folder it must not serve, with links
/// from the site to that folder (a file and a folder) and one link that
/// stays inside.
fn site_with_links_out(tmp: &Path) -> std::path::PathBuf {
    let outside = tmp.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
    std::fs::write(outside.join("index.html"), SECRET).unwrap();
    let site = tmp.join("site");
    let run = site.join("reports/p/main/r1");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("index.html"), "<html>run r1</html>").unwrap();
    std::fs::write(run.join("app.js"), "var ok = 1;").unwrap();
    let link = |target: &Path, at: &Path| std::os::unix::fs::symlink(target, at).unwrap();
    link(&outside.join("secret.txt"), &run.join("secret.txt"));
    link(&outside, &run.join("out"));
    link(&outside, &site.join("out"));
    link(&run.join("app.js"), &run.join("alias.js"));
    site
}

#[test]
fn links_out_of_the_site_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site_with_links_out(tmp.path());
    let server = serve(&site);
    for path in [
        "/reports/p/main/r1/secret.txt",
        "/reports/p/main/r1/out/secret.txt",
        "/reports/p/main/r1/out/",
        "/out/secret.txt",
        "/out/",
        "/reports/p/main/r1/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/outside/secret.txt",
    ] {
        let (status, text) = http_get(&server.base, path);
        assert_eq!(status, 404, "{path}: {text}");
        assert!(
            !text.contains(SECRET),
            "{path} served a file outside: {text}"
        );
    }
    // A link that stays inside the site is served.
    let (status, text) = http_get(&server.base, "/reports/p/main/r1/alias.js");
    assert_eq!(status, 200, "{text}");
    assert!(text.ends_with("var ok = 1;"), "{text}");
}

/// True when `location` is a path on this site: one '/', then neither '/'
/// nor '\' (browsers read both `//host` and `/\host` as another host).
fn on_site(location: &str) -> bool {
    location.starts_with('/') && !location[1..].starts_with(['/', '\\'])
}

#[test]
fn folder_redirects_stay_on_the_site() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site_with_links_out(tmp.path());
    let server = serve(&site);
    let host = server.base.trim_start_matches("http://");
    // Encoded slashes and backslashes stay encoded in the Location.
    for (path, expected) in [
        ("/%2F%2Fevil.example/x", "/%2F%2Fevil.example/x/"),
        ("/%5Cevil.example/x", "/%5Cevil.example/x/"),
        ("/%2F%5Cevil.example/x", "/%2F%5Cevil.example/x/"),
        ("/reports/p/main/r1", "/reports/p/main/r1/"),
        (
            "/reports/p/main/r1?tab=graphs",
            "/reports/p/main/r1/?tab=graphs",
        ),
    ] {
        let (status, text) = http_get(&server.base, path);
        assert_eq!(status, 301, "{path}: {text}");
        assert_eq!(header(&text, "location"), Some(expected), "{path}: {text}");
    }
    // A raw `//` or `/\` path has no same-site redirect: not found.
    for path in [
        "//evil.example/x",
        "//evil.example/x?q=1",
        "/\\evil.example/x",
    ] {
        let (status, text) = raw_request(
            &server.base,
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert!(
            matches!(status, Some(400 | 404)),
            "{path} is refused: {text}"
        );
        assert_eq!(header(&text, "location"), None, "{path}: {text}");
    }
}

#[test]
fn control_characters_in_the_path_are_a_400_and_the_server_keeps_answering() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site_with_links_out(tmp.path());
    let server = serve(&site);
    for path in [
        "/a%0d%0aSet-Cookie:x/b",
        "/a%0aSet-Cookie:x",
        "/a%00b/c",
        "/reports%7f/x",
    ] {
        let (status, text) = http_get(&server.base, path);
        assert_eq!(status, 400, "{path}: {text}");
        assert!(!text.to_ascii_lowercase().contains("set-cookie:"), "{text}");
    }
    let (status, _) = http_get(&server.base, "/reports/p/main/r1/");
    assert_eq!(status, 200, "still answering");
}

fn get_as(base: &str, host_line: &str, target: &str) -> (Option<u16>, String) {
    raw_request(
        base,
        format!("GET {target} HTTP/1.1\r\n{host_line}Connection: close\r\n\r\n").as_bytes(),
    )
}

#[test]
fn only_requests_addressed_to_its_own_names_are_answered() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site_with_links_out(tmp.path());
    let server = serve_with(&site, &["--allow-host", "Reports.Test"]);
    let port = server.base.rsplit(':').next().unwrap().to_string();
    let page = "/reports/p/main/r1/";
    for name in [
        "127.0.0.1",
        "localhost",
        "LOCALHOST",
        "[::1]",
        "reports.test",
    ] {
        let (status, text) = get_as(&server.base, &format!("Host: {name}:{port}\r\n"), page);
        assert_eq!(status, Some(200), "{name}: {text}");
    }
    for host_line in [
        format!("Host: evil.example:{port}\r\n"),
        format!("Host: 127.0.0.1.evil.example:{port}\r\n"),
        "Host: localhost\r\n".to_string(),
        "Host: localhost:1\r\n".to_string(),
        format!("Host: localhost:{port}0\r\n"),
        format!("Host: 127.0.0.1:{port}\r\nHost: evil.example\r\n"),
        String::new(),
    ] {
        let (status, text) = get_as(&server.base, &host_line, page);
        assert_eq!(status, Some(421), "{host_line:?}: {text}");
        assert!(text.contains("--allow-host NAME"), "{text}");
        assert!(!text.contains("run r1"), "{text}");
    }
    // A request line naming another host is refused whatever Host says.
    let (status, text) = get_as(
        &server.base,
        &format!("Host: 127.0.0.1:{port}\r\n"),
        &format!("http://evil.example:{port}{page}"),
    );
    assert_eq!(status, Some(421), "{text}");
    let err = failed(&run_in(
        tmp.path(),
        &["serve", site.to_str().unwrap(), "--allow-host", "http://x/"],
    ));
    assert!(
        err.contains("--allow-host \"http://x/\" is not a host name"),
        "{err}"
    );
}

#[test]
fn random_requests_never_crash_leave_the_site_or_read_outside_it() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let tmp = tempfile::tempdir().unwrap();
    let site = site_with_links_out(tmp.path());
    let server = serve(&site);
    let own = server.base.trim_start_matches("http://").to_string();
    let port = own.rsplit(':').next().unwrap().to_string();
    // Segments that mean something on this site (so links out and the
    // private folder are actually reached), and noise, joined by slashes or
    // by what might be read as one.
    let segment = prop_oneof![
        3 => prop::sample::select(vec![
            "reports", "p", "main", "r1", "out", "secret.txt", "index.html", "app.js",
            "alias.js", "..", "%2E%2E", ".", "", "evil.example", ".allure-host", "outside",
        ])
        .prop_map(str::to_string),
        1 => prop::collection::vec(
            prop::sample::select(vec![
                "%0d", "%0a", "%00", "%", "%zz", "?", "?q=1", "#", "~", "%7E", "é", "%C3%A9",
                "%FF", " ", "\t", ":", "@", "http:", "%2F", "%5C", "x",
            ]),
            1..4,
        )
        .prop_map(|p| p.concat()),
    ];
    let sep = prop::sample::select(vec!["/", "/", "/", "//", "%2F", "%2f", "\\", "%5C", "/\\"]);
    let built = prop::collection::vec((sep.clone(), segment.clone()), 0..8).prop_map(|parts| {
        let mut path: String = parts
            .iter()
            .map(|(sep, seg)| format!("{sep}{seg}"))
            .collect();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        path
    });
    // The paths that lead out (or would, were links followed), their
    // slashes varied and noise appended.
    let known = prop::sample::select(vec![
        "/out/secret.txt",
        "/out/",
        "/out",
        "/reports/p/main/r1/secret.txt",
        "/reports/p/main/r1/out/secret.txt",
        "/reports/p/main/r1/out/index.html",
        "/reports/p/main/r1/out",
        "/reports/p/main/r1/../../../../../outside/secret.txt",
    ]);
    let slashes = prop::collection::vec(
        prop::sample::select(vec!["/", "/", "/", "/", "//", "%2F", "\\", "%5C"]),
        10,
    );
    let varied = (known, slashes, prop::option::of(segment)).prop_map(|(known, slashes, tail)| {
        let mut path = String::new();
        for (i, part) in known.split('/').enumerate().skip(1) {
            path.push_str(if i == 1 {
                "/"
            } else {
                slashes[i % slashes.len()]
            });
            path.push_str(part);
        }
        path + &tail.unwrap_or_default()
    });
    let path = prop_oneof![built, varied];
    let host = prop::sample::select(vec![
        format!("Host: {own}\r\n"),
        format!("Host: {own}\r\n"),
        format!("Host: localhost:{port}\r\n"),
        format!("Host: [::1]:{port}\r\n"),
        format!("Host: evil.example:{port}\r\n"),
        "Host: evil.example\r\n".to_string(),
        format!("Host: {own}\r\nHost: evil.example\r\n"),
        "Host: \r\n".to_string(),
        String::new(),
    ]);
    let method = prop::sample::select(vec!["GET", "HEAD", "POST"]);
    let config = Config {
        cases: 2000,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let allowed = |h: &str| {
        h == format!("Host: {own}\r\n")
            || h == format!("Host: localhost:{port}\r\n")
            || h == format!("Host: [::1]:{port}\r\n")
    };
    let started = std::time::Instant::now();
    runner
        .run(&(method, path, host), |(method, path, host)| {
            let request = format!("{method} {path} HTTP/1.1\r\n{host}Connection: close\r\n\r\n");
            let (status, text) = raw_request(&server.base, request.as_bytes());
            prop_assert!(
                !text.contains(SECRET),
                "read outside the site: {request:?} -> {text}"
            );
            if let Some(location) = header(&text, "location") {
                prop_assert!(on_site(location), "{request:?} -> Location {location}");
            }
            if status == Some(200) || status == Some(301) {
                prop_assert!(
                    allowed(&host),
                    "{request:?} answered for another host: {text}"
                );
            }
            // Whatever came before, the server still answers.
            let (status, _) = http_get(&server.base, "/reports/p/main/r1/app.js");
            prop_assert_eq!(
                status,
                200,
                "the server stopped answering after {:?}",
                request
            );
            Ok(())
        })
        .unwrap();
    eprintln!("2000 random requests in {:?}", started.elapsed());
}
