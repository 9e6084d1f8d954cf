//! Status badges as publishes write them to a moto bucket: one per branch
//! and per leg, moved with their latest pointer (never to an older run),
//! with the headers of a file that changes, each the renderer's badge of
//! its run; a report file named like them left out; and the badges in
//! headless Chromium, as a README shows them.
#![cfg(feature = "integration")]

mod support;

use std::path::Path;

use allure_host::model::badge::{self, Badge, Color};
use allure_host::model::stats::Stats;
use support::*;

const BRANCH: &str = "reports/p/main/badge.svg";

fn leg_badge(leg: &str) -> String {
    format!("reports/p/main/variants/{leg}/badge.svg")
}

/// Publish the generated report as run `run` of leg `leg`; the summary.
fn publish(dir: &Path, bucket: &str, run: &str, leg: &str) -> serde_json::Value {
    let summary = dir.join(format!("{run}.json"));
    let out = publish_report(dir, moto(), bucket, run)
        .args(["--variant", leg, "--summary-json"])
        .arg(&summary)
        .output()
        .unwrap();
    ok(&out);
    serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap()
}

/// The steps the publish carried out, by name.
fn steps(summary: &serde_json::Value) -> Vec<String> {
    let steps: Vec<allure_host::model::publish_plan::Step> =
        serde_json::from_value(summary["steps"].clone()).unwrap();
    steps.iter().map(|s| s.name().1.to_string()).collect()
}

/// The badge the renderer makes for the run of `summary`.
fn expected(summary: &serde_json::Value, leg: Option<&str>) -> String {
    let stats: Stats = serde_json::from_value(summary["stats"].clone()).unwrap();
    let build = summary["build_order"].as_u64().unwrap();
    Badge::of_run(&stats, None, leg).svg(build)
}

async fn text(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    String::from_utf8(get(client, bucket, key).await).unwrap()
}

#[tokio::test]
async fn each_publish_writes_the_badges_of_the_latest_it_moved() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();

    // Leg py=3.12, build 1: its badge and the branch's.
    let a = publish(tmp.path(), &bucket, "a", "py=3.12");
    assert_eq!(a["build_order"], 1);
    let s = steps(&a);
    let at = |name: &str| s.iter().position(|n| n == name).unwrap();
    assert!(at("leg latest") < at("leg badge") && at("leg badge") < at("latest"));
    assert!(at("latest") < at("badge") && at("badge") < at("project page"));
    for (key, leg) in [
        (BRANCH.to_string(), None),
        (leg_badge("py-3.12"), Some("py=3.12")),
    ] {
        let head = client
            .head_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_type(), Some("image/svg+xml; charset=utf-8"));
        assert_eq!(head.cache_control(), Some("no-cache"), "{key}");
        let svg = text(&client, &bucket, &key).await;
        assert_eq!(svg, expected(&a, leg), "{key}");
        assert!(svg.contains(r#" width=""#) && svg.contains(r#" height="20""#));
        assert_eq!(badge::build_order_of(svg.as_bytes()), Some(1));
    }
    let leg = text(&client, &bucket, &leg_badge("py-3.12")).await;
    assert!(leg.contains("<title>tests · py=3.12: "), "{leg}");

    // Leg py=3.13, build 2: the branch's badge shows the newest run, the
    // other leg's keeps its own.
    let b = publish(tmp.path(), &bucket, "b", "py=3.13");
    assert_eq!(text(&client, &bucket, BRANCH).await, expected(&b, None));
    assert_eq!(
        text(&client, &bucket, &leg_badge("py-3.13")).await,
        expected(&b, Some("py=3.13"))
    );
    assert_eq!(
        text(&client, &bucket, &leg_badge("py-3.12")).await,
        expected(&a, Some("py=3.12"))
    );

    // A branch pointer at a newer build (another publisher's, in a race)
    // does not move: the branch's badge stays. A leg whose pointer moves
    // but whose badge is already a newer build's keeps that badge.
    let mut pointer = get_json(&client, &bucket, "reports/p/main/latest.json").await;
    pointer["build_order"] = 999.into();
    put(
        &client,
        &bucket,
        "reports/p/main/latest.json",
        serde_json::to_vec(&pointer).unwrap(),
    )
    .await;
    let newer = Badge {
        label: "tests".into(),
        message: "newer".into(),
        color: Color::Passed,
    }
    .svg(1000);
    put(
        &client,
        &bucket,
        &leg_badge("py-3.14"),
        newer.clone().into_bytes(),
    )
    .await;
    let c = publish(tmp.path(), &bucket, "c", "py=3.14");
    assert_eq!(c["latest_moved"], false);
    let s = steps(&c);
    assert!(s.contains(&"leg latest".to_string()), "{s:?}");
    assert!(!s.iter().any(|n| n.ends_with("badge")), "{s:?}");
    assert_eq!(text(&client, &bucket, BRANCH).await, expected(&b, None));
    assert_eq!(text(&client, &bucket, &leg_badge("py-3.14")).await, newer);
}

/// No report file is published under the badges' name: a private site
/// that opens its badges opens every path so named.
#[test]
fn a_report_file_named_like_the_badges_is_left_out() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("report");
    copy_dir(generated_report(), &report);
    std::fs::write(report.join("badge.svg"), "<svg/>").unwrap();
    std::fs::write(report.join("data/badge.svg"), "<svg/>").unwrap();
    let out = run_in(
        tmp.path(),
        &[
            "publish",
            "--local-dir",
            "site",
            "--report",
            report.to_str().unwrap(),
            "--project",
            "p",
            "--run-id",
            "r1",
        ],
    );
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("left out of the report: badge.svg, data/badge.svg"),
        "{stderr}"
    );
    let run = tmp.path().join("site/reports/p/main/r1");
    assert!(run.join("index.html").is_file());
    assert!(!run.join("badge.svg").exists() && !run.join("data/badge.svg").exists());
    // The branch's own badge is there.
    let svg = std::fs::read(tmp.path().join("site/reports/p/main/badge.svg")).unwrap();
    assert_eq!(badge::build_order_of(&svg), Some(1));
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// In Chromium, as an <img>: each badge loads at its own size, asks for
/// nothing, and shows the grey label beside its verdict's colour.
/// `BADGE_SHOTS=DIR` keeps a screenshot of each.
#[test]
fn badges_render_in_chromium_at_their_size_and_colour() {
    let tmp = tempfile::tempdir().unwrap();
    let s = |passed, failed, broken| Stats {
        passed,
        failed,
        broken,
        total: passed + failed + broken,
        ..Stats::default()
    };
    let cases = [
        ("badge-passed", Badge::of_run(&s(120, 0, 0), None, None)),
        ("badge-failed", Badge::of_run(&s(98, 2, 0), None, None)),
        (
            "badge-leg-broken",
            Badge::of_run(&s(19, 0, 1), None, Some("python-version=3.12")),
        ),
        ("badge-no-tests", Badge::of_run(&s(0, 0, 0), None, None)),
        (
            "badge-hostile",
            Badge {
                label: "<script>alert(1)</script>".into(),
                message: "\"quoted\" & 'ampersand' <b>".into(),
                color: Color::Failed,
            },
        ),
    ];
    let mut args = vec![std::env::var("BADGE_SHOTS").unwrap_or_else(|_| "-".into())];
    let mut widths = Vec::new();
    for (name, b) in &cases {
        let svg = b.svg(7);
        let width: u32 = svg
            .split(r#" width=""#)
            .nth(1)
            .and_then(|w| w.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        widths.push(width);
        let path = tmp.path().join(format!("{name}.svg"));
        std::fs::write(&path, svg).unwrap();
        args.push(format!("{name}={}", path.display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let seen = browse("badge.mjs", &args);
    assert_eq!(seen["hosts"], serde_json::json!(["badge.test"]), "{seen}");
    let close = |rgb: &serde_json::Value, hex: &str| {
        let hex = hex.trim_start_matches('#');
        let want: Vec<i64> = if hex.len() == 3 {
            hex.chars()
                .map(|c| i64::from_str_radix(&format!("{c}{c}"), 16).unwrap())
                .collect()
        } else {
            (0..3)
                .map(|i| i64::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect()
        };
        let got: Vec<i64> = rgb
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        // The gradient lightens the top by a tenth at most.
        got.iter().zip(&want).all(|(g, w)| (g - w).abs() <= 30)
    };
    for ((name, b), width) in cases.iter().zip(widths) {
        let seen = &seen["badges"][name];
        assert_eq!(seen["loaded"], true, "{name}: {seen}");
        assert_eq!(seen["width"], width, "{name}: {seen}");
        assert_eq!(seen["height"], 20, "{name}: {seen}");
        assert!(close(&seen["label"], "#555"), "{name}: {seen}");
        assert!(close(&seen["message"], b.color.hex()), "{name}: {seen}");
    }
}
