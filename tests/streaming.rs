//! A report uploaded while Allure makes it: an engine killed halfway leaves
//! nothing listed or left in the run folder, and the same run id publishes
//! at once after; every published file is the report's own (no file under
//! the folder Allure 3 moves to the root, none missing); Allure 3's
//! single-file report gives the same summary, test index, test history,
//! quality gate and PR comment as its folder report, and opens with its
//! trend in Chromium. Real moto S3, real Allure engines.
#![cfg(feature = "integration")]

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

/// Deterministic results big enough that Allure takes a few seconds.
fn big_results(dir: &Path) -> PathBuf {
    let out = dir.join("big-results");
    let status = Command::new("python3")
        .arg(repo().join("bench/gen_results.py"))
        .arg(&out)
        .arg("3000")
        .status()
        .expect("python3 runs bench/gen_results.py");
    assert!(status.success());
    out
}

fn publish_args<'a>(
    bucket: &'a str,
    results: &'a str,
    run: &'a str,
    allure: &'a str,
) -> Vec<&'a str> {
    vec![
        "publish",
        "--bucket",
        bucket,
        "--s3-endpoint",
        moto(),
        "--results",
        results,
        "--project",
        "p",
        "--branch",
        "main",
        "--run-id",
        run,
        "--allure",
        allure,
        "--summary-json",
        "summary.json",
    ]
}

/// The processes whose command line names `marker`, but `except`.
fn processes_naming(marker: &str, except: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let line = String::from_utf8_lossy(&raw).replace('\0', " ");
        if pid != except && line.contains(marker) {
            found.push((pid, line));
        }
    }
    found
}

async fn run_keys(client: &aws_sdk_s3::Client, bucket: &str, run: &str) -> Vec<String> {
    let prefix = format!("reports/p/main/{run}/");
    keys(client, bucket)
        .await
        .into_iter()
        .filter(|k| k.starts_with(&prefix))
        .collect()
}

/// Kill the engine (`engine` names its process) once some of the run's
/// files are in the store; the publish's exit and output.
fn kill_halfway(
    rt: &tokio::runtime::Runtime,
    client: &aws_sdk_s3::Client,
    mut child: Child,
    bucket: &str,
    run: &str,
    marker: &str,
    engine: impl Fn(&str) -> bool,
) -> (Option<i32>, String, usize) {
    let t = Instant::now();
    let landed = loop {
        let landed = rt.block_on(run_keys(client, bucket, run)).len();
        if landed >= 30 {
            break landed;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the publish ended before 30 files landed"
        );
        assert!(t.elapsed() < Duration::from_secs(120), "no file landed");
        std::thread::sleep(Duration::from_millis(20));
    };
    let victims: Vec<u32> = processes_naming(marker, child.id())
        .into_iter()
        .filter(|(_, line)| engine(line))
        .map(|(pid, _)| pid)
        .collect();
    assert!(!victims.is_empty(), "the engine is running");
    for pid in victims {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text, landed)
}

#[test]
fn an_engine_killed_halfway_leaves_nothing_listed_and_the_same_run_id_publishes_after() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(s3());
    let bucket = rt.block_on(bucket(&client));
    let tmp = tempfile::tempdir().unwrap();
    let results = big_results(tmp.path());
    let results = results.to_str().unwrap();
    for allure in ["2", "3"] {
        let run = format!("killed-{allure}");
        // Our own temporary folder: the engine's command line names it.
        let scratch = tmp.path().join(format!("scratch-{allure}"));
        std::fs::create_dir(&scratch).unwrap();
        let args = publish_args(&bucket, results, &run, allure);
        let mut cmd = command_in(tmp.path(), &args);
        cmd.env("TMPDIR", &scratch)
            .args(["--concurrency", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd.spawn().unwrap();
        let marker = scratch.to_str().unwrap();
        let (exit, text, landed) =
            kill_halfway(&rt, &client, child, &bucket, &run, marker, engine(allure));
        assert_eq!(
            exit,
            Some(2),
            "Allure {allure}: an engine that fails is an error\n{text}"
        );
        assert!(
            text.contains("was not published")
                && text.contains("files it had uploaded were removed"),
            "Allure {allure}: says what became of the {landed} files sent\n{text}"
        );
        let left = rt.block_on(run_keys(&client, &bucket, &run));
        assert!(
            left.is_empty(),
            "Allure {allure}: left in the run folder: {left:?}"
        );
        let listed = rt.block_on(listed_runs(&client, &bucket));
        assert!(
            !listed.contains(&run),
            "Allure {allure}: listed after the kill"
        );
        // The same run id, at once.
        ok(&run_in(tmp.path(), &args));
        let summary = summary_of(tmp.path());
        let stored = rt.block_on(run_keys(&client, &bucket, &run));
        assert_eq!(
            stored.len() as u64,
            summary["report_files"].as_u64().unwrap(),
            "Allure {allure}: the rerun's files, all of them and nothing else"
        );
        assert!(rt.block_on(listed_runs(&client, &bucket)).contains(&run));
    }
}

/// How each engine's process is told apart: Java, or our Allure 3 driver.
fn engine(allure: &str) -> fn(&str) -> bool {
    match allure {
        "2" => |line| line.starts_with("java") || line.contains("/java "),
        _ => |line| line.contains("allure-host-generate.mjs"),
    }
}

async fn listed_runs(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let key = "reports/p/main/runs/index.json";
    if !keys(client, bucket).await.iter().any(|k| k == key) {
        return Vec::new();
    }
    let manifest = get_json(client, bucket, key).await;
    manifest["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect()
}

fn summary_of(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn allure_3_files_sent_while_it_works_are_the_reports_own() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(s3());
    let bucket = rt.block_on(bucket(&client));
    let tmp = tempfile::tempdir().unwrap();
    let ex = examples();
    let args = publish_args(&bucket, ex.to_str().unwrap(), "whole", "3");
    let out = run_in(tmp.path(), &args);
    let text = ok(&out);
    let summary = summary_of(tmp.path());
    let files = summary["report_files"].as_u64().unwrap();
    assert!(
        text.contains("report files were sent while the report was made")
            || String::from_utf8_lossy(&out.stderr).contains("were sent while the report was made"),
        "files went while Allure worked:\n{text}"
    );
    let stored = rt.block_on(run_keys(&client, &bucket, "whole"));
    assert_eq!(stored.len() as u64, files, "{stored:?}");
    // Allure moves its plugin's folder to the root at the end: nothing of
    // that folder is left, and the root summary is the report's own.
    assert!(
        stored.iter().all(|k| !k.contains("/whole/awesome/")),
        "{stored:?}"
    );
    let root = rt.block_on(get_json(
        &client,
        &bucket,
        "reports/p/main/whole/summary.json",
    ));
    assert_eq!(root["stats"]["total"], summary["stats"]["total"], "{root}");
    // The test index names the same tests as the report's own list.
    let listed = rt.block_on(get_json(
        &client,
        &bucket,
        "reports/p/main/whole/test-results.json",
    ));
    let index = rt.block_on(get_json(
        &client,
        &bucket,
        "reports/p/main/whole/allure-host-tests.json",
    ));
    assert_eq!(
        index["tests"].as_array().unwrap().len(),
        listed["byId"].as_object().unwrap().len()
    );
}

/// A project whose allurerc has a quality gate rule its tests break.
fn project_with_gate(dir: &Path) {
    std::fs::write(
        dir.join("allurerc.mjs"),
        "export default { name: \"Shop\", qualityGate: { rules: [{ maxFailures: 0 }] } };\n",
    )
    .unwrap();
}

/// Publish the example to `branch` (twice: the history grows) with or
/// without --single-file; the second summary.
fn publish_twice(dir: &Path, bucket: &str, branch: &str, extra: &[&str]) -> Value {
    let ex = examples();
    for run in ["one", "two"] {
        let mut args = vec![
            "publish",
            "--bucket",
            bucket,
            "--s3-endpoint",
            moto(),
            "--results",
            ex.to_str().unwrap(),
            "--project",
            "p",
            "--branch",
            branch,
            "--run-id",
            run,
            "--allure",
            "3",
            "--summary-json",
            "summary.json",
        ];
        args.extend_from_slice(extra);
        let out = command_in(dir, &args).output().unwrap();
        // The gate fails the run: exit 1 or 0 as fail-on says; it is published.
        assert!(
            out.status.code() == Some(0) || out.status.code() == Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    summary_of(dir)
}

#[test]
fn a_single_file_report_gives_what_its_folder_report_gives() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(s3());
    let bucket = rt.block_on(bucket(&client));
    let tmp = tempfile::tempdir().unwrap();
    project_with_gate(tmp.path());
    let folder = publish_twice(tmp.path(), &bucket, "folder", &[]);
    let single = publish_twice(tmp.path(), &bucket, "single", &["--single-file"]);
    for field in [
        "stats",
        "failed_tests",
        "failed_tests_total",
        "quality_gate",
        "allure",
        "tests",
    ] {
        let (a, b) = (&folder[field], &single[field]);
        let b = serde_json::to_string(b)
            .unwrap()
            .replace("/single/", "/folder/");
        assert_eq!(serde_json::to_string(a).unwrap(), b, "{field}");
    }
    assert!(!folder["quality_gate"].is_null(), "the gate ran: {folder}");
    // The single-file run: its page, the summaries, the history, our index.
    let stored: BTreeSet<String> = rt
        .block_on(run_keys_of(&client, &bucket, "single", "two"))
        .into_iter()
        .collect();
    let names: BTreeSet<&str> = stored
        .iter()
        .map(|k| k.trim_start_matches("reports/p/single/two/"))
        .collect();
    for name in [
        "index.html",
        "summary.json",
        "history/history.jsonl",
        "allure-host-tests.json",
    ] {
        assert!(names.contains(name), "{name} in {names:?}");
    }
    assert!(names.len() <= 8, "a handful of files: {names:?}");
    // The same tests, statuses, durations and failures in both indexes.
    let index = |branch: &str| {
        let key = format!("reports/p/{branch}/two/allure-host-tests.json");
        rt.block_on(get_json(&client, &bucket, &key))
    };
    assert_eq!(index("folder"), index("single"));
    // The same test history on both branches, but for the run links.
    let history = |branch: &str| {
        let key = format!("reports/p/{branch}/tests/history.json");
        let h = rt.block_on(get_json(&client, &bucket, &key));
        serde_json::to_string(&h["lines"]).unwrap()
    };
    let strip_times = |s: String| {
        let v: Value = serde_json::from_str(&s).unwrap();
        normalised(v).to_string()
    };
    assert_eq!(
        strip_times(history("folder")),
        strip_times(history("single"))
    );
    // Allure's own history: two entries, the first linking to run one.
    let jsonl = rt.block_on(get(
        &client,
        &bucket,
        "reports/p/single/two/history/history.jsonl",
    ));
    let entries: Vec<Value> = String::from_utf8(jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 2);
    assert!(
        entries[0]["url"]
            .as_str()
            .unwrap_or("")
            .contains("/single/one/"),
        "{}",
        entries[0]["url"]
    );
}

/// A history with its times and commit-free run stamps set aside.
fn normalised(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| k != "time")
                .map(|(k, v)| (k, normalised(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalised).collect()),
        other => other,
    }
}

async fn run_keys_of(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    branch: &str,
    run: &str,
) -> Vec<String> {
    let prefix = format!("reports/p/{branch}/{run}/");
    keys(client, bucket)
        .await
        .into_iter()
        .filter(|k| k.starts_with(&prefix))
        .collect()
}

#[test]
fn a_single_file_report_opens_with_its_trend_in_a_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = examples();
    for run in ["s-1", "s-2"] {
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
                "--single-file",
            ],
        ));
    }
    let server = serve(&tmp.path().join("allure-site"));
    let seen = browse(
        "browse3.mjs",
        &[
            &server.base,
            "/reports/example/main/",
            "Checkout charges the card",
        ],
    );
    let host = server.base.trim_start_matches("http://");
    assert_eq!(seen["hosts"], serde_json::json!([host]), "no other host");
    assert_eq!(seen["landed"], "/reports/example/main/s-2/index.html");
    let bars = seen["statusDynamics"].as_array().unwrap();
    assert_eq!(bars.len(), 2, "two runs in the trend: {seen}");
    assert_eq!(bars[1], "Latest");
    let links: Vec<&str> = seen["historyLinks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(links.len(), 1, "{seen}");
    assert!(
        links[0].contains("/reports/example/main/s-1/index.html#"),
        "{seen}"
    );
}
