//! `allure-host serve`: a local site over real HTTP, routed like CloudFront,
//! and opened in a real browser (Debian's chromium, headless).

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use support::*;

/// A running `allure-host serve` on a free port; stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn serve(site: &Path) -> Server {
    let mut child = command_in(
        site.parent().unwrap(),
        &["serve", site.to_str().unwrap(), "--port", "0"],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut first = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut first).unwrap();
    // Keep reading, so the server never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .trim_end_matches('/')
        .to_string();
    Server { child, base }
}

/// (status, headers and body as text) of a GET over a plain socket.
fn http_get(base: &str, path: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, text)
}

/// Run a browser script of tests/support with `args`; what it saw, as JSON.
fn browse(script: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new("node")
        .arg(repo().join("tests/support").join(script))
        .args(args)
        .output()
        .expect(
            "node runs the browser script (bash .ci/run installs playwright-core and chromium)",
        );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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
