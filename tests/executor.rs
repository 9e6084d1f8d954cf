//! One executor per report: results that carry their own `executor.json`
//! (as Allure's docs suggest CI setups write) are published with ours,
//! which keeps their name and build URL, and every trend point links to our
//! run. Real Allure 2 CLI and Allure 3, local site.
#![cfg(feature = "integration")]

mod support;

use std::path::{Path, PathBuf};

use support::*;

const THEIR_REPORT: &str = "https://ci.example/job/77/allure";

/// A copy of the example results with the executor.json a CI job wrote.
fn results_with_their_executor(tmp: &Path) -> PathBuf {
    let dir = tmp.join("results");
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(examples()).unwrap() {
        let path = e.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    let theirs = serde_json::json!({
        "name": "Jenkins",
        "type": "jenkins",
        "buildName": "#77",
        "buildOrder": 77,
        "buildUrl": "https://ci.example/job/77/",
        "reportUrl": THEIR_REPORT,
        "reportName": "their report"
    });
    std::fs::write(dir.join("executor.json"), theirs.to_string()).unwrap();
    dir
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

/// Publish `results` as runs r1, r2, r3 of shop/main into ./allure-site.
fn publish_three(tmp: &Path, results: &Path, extra: &[&str]) -> PathBuf {
    for run in ["r1", "r2", "r3"] {
        let mut args = vec![
            "publish",
            "--results",
            results.to_str().unwrap(),
            "--project",
            "shop",
            "--branch",
            "main",
            "--run-id",
            run,
        ];
        args.extend_from_slice(extra);
        ok(&run_in(tmp, &args));
    }
    tmp.join("allure-site/reports/shop/main")
}

fn our_url(run: &str) -> String {
    format!("http://127.0.0.1:8040/reports/shop/main/{run}/index.html")
}

#[test]
fn allure_2_reports_list_one_executor_and_every_trend_point_links_to_our_run() {
    let tmp = tempfile::tempdir().unwrap();
    let results = results_with_their_executor(tmp.path());
    let before = listing(&results);
    let branch = publish_three(tmp.path(), &results, &[]);
    for (order, run) in [(1, "r1"), (2, "r2"), (3, "r3")] {
        let executors = read_json(&branch.join(run).join("widgets/executors.json"));
        let executors = executors.as_array().unwrap();
        assert_eq!(executors.len(), 1, "{run}: {executors:?}");
        let e = &executors[0];
        assert_eq!(e["reportUrl"], our_url(run), "{run}");
        assert_eq!(e["buildOrder"], order, "{run}");
        // Their name, type and build link are kept.
        assert_eq!(e["name"], "Jenkins");
        assert_eq!(e["type"], "jenkins");
        assert_eq!(e["buildUrl"], "https://ci.example/job/77/");
    }
    let trend = read_json(&branch.join("r3/widgets/history-trend.json"));
    let points = trend.as_array().unwrap();
    assert_eq!(points.len(), 3, "{trend}");
    for point in points {
        let order = point["buildOrder"].as_u64().unwrap();
        assert_eq!(point["reportUrl"], our_url(&format!("r{order}")), "{point}");
    }
    assert_eq!(
        listing(&results),
        before,
        "their results are left as they were"
    );
}

#[test]
fn allure_3_history_entries_link_to_our_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let results = results_with_their_executor(tmp.path());
    let before = listing(&results);
    let branch = publish_three(tmp.path(), &results, &["--allure", "3"]);
    let text = std::fs::read_to_string(branch.join("r3/history/history.jsonl")).unwrap();
    let entries: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 3, "{text}");
    for (entry, run) in entries.iter().zip(["r1", "r2", "r3"]) {
        assert_eq!(entry["url"], our_url(run), "{run}");
        for (id, test) in entry["testResults"].as_object().unwrap() {
            assert_eq!(test["url"], our_url(run), "{run} {id}");
        }
    }
    assert!(!text.contains(THEIR_REPORT), "{text}");
    // The report's own executor is ours, with their name and build link.
    for (order, run) in [(1, "r1"), (2, "r2"), (3, "r3")] {
        let html = std::fs::read_to_string(branch.join(run).join("index.html")).unwrap();
        let e = embedded_executor(&html);
        assert_eq!(e["reportUrl"], our_url(run), "{run}: {e}");
        assert_eq!(e["buildOrder"], order, "{run}: {e}");
        assert_eq!(e["name"], "Jenkins", "{e}");
        assert_eq!(e["buildUrl"], "https://ci.example/job/77/", "{e}");
        assert!(!html.contains(THEIR_REPORT), "{run}");
    }
    assert_eq!(
        listing(&results),
        before,
        "their results are left as they were"
    );
}

/// The `"executor":{...}` Allure 3 embeds in its report page.
fn embedded_executor(html: &str) -> serde_json::Value {
    let at = html
        .find("\"executor\":")
        .unwrap_or_else(|| panic!("no executor in the page"));
    let rest = &html[at + "\"executor\":".len()..];
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
    values.next().unwrap().unwrap()
}
