//! A private site read in a real browser: the viewer-request function runs in
//! a small local edge (`support/edge.mjs`) in front of a published site, the
//! way CloudFront runs it in front of the bucket, and Chromium reads through it.
#![cfg(feature = "integration")]

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use allure_host::infra::access::{AccessConfig, SigningKey};
use allure_host::model::access::{AccessKey, Mode, signed_url};
use serde_json::Value;
use support::*;

const SECRET: &str = "3e9d5c1b7a2f4e6d8c0b1a3f5e7d9c2b4a6f8e0d1c3b5a7f9e2d4c6b8a0f1e3d";

struct Edge(Child);

impl Drop for Edge {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn a_signed_link_opens_the_report_and_nothing_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    for run in ["1", "2"] {
        ok(&run_in(
            dir.path(),
            &[
                "publish",
                "--results",
                examples().to_str().unwrap(),
                "--local-dir",
                site.to_str().unwrap(),
                "--project",
                "web",
                "--branch",
                "main",
                "--run-id",
                run,
            ],
        ));
    }
    let mut keys = BTreeMap::new();
    keys.insert(
        "k1".to_string(),
        SigningKey {
            secret: SECRET.into(),
            until: None,
        },
    );
    let config = AccessConfig {
        modes: vec![Mode::Link],
        keys,
        users: BTreeMap::new(),
        ips: vec![],
        public_badges: false,
    };
    let function = dir.path().join("function.js");
    std::fs::write(&function, config.render().unwrap()).unwrap();

    let mut child = Command::new("node")
        .args([
            repo().join("tests/support/edge.mjs").to_str().unwrap(),
            site.to_str().unwrap(),
            function.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("node");
    let mut base = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut base)
        .unwrap();
    let _edge = Edge(child);
    let base = base.trim().to_string();

    let key = AccessKey::new("k1", SECRET);
    let run = "/reports/web/main/2/";
    let signed = signed_url(&format!("{base}{run}"), &key, run, now() + 3600);
    let short = signed_url(&format!("{base}{run}"), &key, run, now() + 25);
    let mut browse = Command::new("node");
    browse.args([
        repo().join("tests/support/private.mjs").to_str().unwrap(),
        &base,
        run,
        &signed,
        &short,
    ]);
    if let Ok(shots) = std::env::var("SCREENSHOTS") {
        browse.arg(shots);
    }
    let out = browse.current_dir(repo()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();

    // The link opens the report with its trend and every asset, and leaves
    // the address bar without the token.
    let s = &seen["signed"];
    assert_eq!(s["status"], 200, "{seen}");
    assert_eq!(s["path"], run, "{seen}");
    assert_eq!(s["private"], false, "{seen}");
    assert!(s["widgets"].as_u64().unwrap() >= 5, "{seen}");
    assert_eq!(s["trendPoints"], serde_json::json!(["#1", "#2"]), "{seen}");
    assert_eq!(s["failed"], serde_json::json!([]), "{seen}");
    assert!(s["requests"].as_u64().unwrap() >= 10, "{seen}");
    assert_eq!(seen["signedAgain"], true, "{seen}");
    // A fresh profile with the plain URL gets the private page, no report.
    let p = &seen["plain"];
    assert_eq!(
        (
            p["status"].as_u64(),
            p["private"].as_bool(),
            p["widgets"].as_u64()
        ),
        (Some(401), Some(true), Some(0)),
        "{seen}"
    );
    // A short link opens, then stops: the cookie lapses and the link is refused.
    assert_eq!(seen["shortFirst"]["status"], 200, "{seen}");
    assert_eq!(seen["shortLater"]["status"], 401, "{seen}");
    assert_eq!(seen["shortLater"]["private"], true, "{seen}");
    assert_eq!(seen["shortReused"]["status"], 403, "{seen}");
}
