//! Every test's story across runs, end to end through the action on moto:
//! twelve runs on main where one test alternates, one fails from run 8 and
//! one gets three times slower at run 10; then a pull request where the
//! alternating test and a fresh one fail. The history, the tests page (in
//! Chromium), flaky.json, the summary, the comment and `fail-on:
//! new-failures` each say what they should. Then the same story on a local
//! directory with Allure 3, and `allure-host tests` reading it back.
#![cfg(feature = "integration")]

mod support;

use std::path::Path;
use std::process::Command;

use support::action::{MockGitHub, Ran, Step};
use support::*;

/// One Allure result file.
fn result(dir: &Path, run: u32, name: &str, status: &str, ms: u64) {
    let start = 1_700_000_000_000u64 + u64::from(run) * 1_000_000;
    let uuid = format!(
        "{:08x}-0000-4000-8000-{:012x}",
        run,
        name.len() as u64 * 1000 + u64::from(name.as_bytes()[0])
    );
    let message = format!(
        "AssertionError: expected 200 but got {} at /srv/run-{run}/app.py",
        500 + run
    );
    let r = serde_json::json!({
        "uuid": uuid,
        "historyId": format!("hid-{name}"),
        "testCaseId": format!("tc-{name}"),
        "fullName": format!("shop.tests.{name}"),
        "name": name,
        "status": status,
        "statusDetails": if status == "passed" { serde_json::json!({}) } else { serde_json::json!({"message": message}) },
        "stage": "finished",
        "start": start,
        "stop": start + ms,
        "labels": [{"name": "suite", "value": "shop"}],
    });
    std::fs::write(dir.join(format!("{uuid}-result.json")), r.to_string()).unwrap();
}

/// Run `i` (1-based) of main: "alternating" fails on odd runs, "breaks"
/// fails from run 8, "slows" takes 300 ms, then 900 ms from run 10.
fn main_run(dir: &Path, i: u32) {
    result(
        dir,
        i,
        "alternating",
        if i % 2 == 1 { "failed" } else { "passed" },
        50,
    );
    result(
        dir,
        i,
        "breaks",
        if i >= 8 { "failed" } else { "passed" },
        40,
    );
    result(dir, i, "slows", "passed", if i >= 10 { 900 } else { 300 });
    result(dir, i, "steady", "passed", 20);
}

fn on_main(mock: &MockGitHub, bucket: &str, i: u32) -> Ran {
    let step = Step::new(mock)
        .env("GITHUB_RUN_ID", &format!("{}", 7000 + i))
        .env("GITHUB_SHA", &format!("{i:040x}"))
        .input("bucket", bucket)
        .input("project", "shop");
    main_run(&step.allure_results(), i);
    let ran = step.run();
    assert!(ran.output.status.success(), "run {i}: {}", ran.log);
    ran
}

/// The pull request: "alternating" and a fresh test fail, the rest pass.
fn pull_request(
    mock: &MockGitHub,
    bucket: &str,
    run: u32,
    fresh_fails: bool,
    fail_on: &str,
) -> Ran {
    let step = Step::new(mock)
        .pull_request(12, "feat/cart")
        .env("GITHUB_BASE_REF", "main")
        .env("GITHUB_RUN_ID", &format!("{run}"))
        .env("GITHUB_SHA", &format!("{run:040x}"))
        .input("bucket", bucket)
        .input("project", "shop")
        .input("fail-on", fail_on);
    let dir = step.allure_results();
    result(&dir, 99, "alternating", "failed", 50);
    result(&dir, 99, "breaks", "passed", 40);
    result(&dir, 99, "slows", "passed", 300);
    result(&dir, 99, "steady", "passed", 20);
    result(
        &dir,
        99,
        "fresh",
        if fresh_fails { "failed" } else { "passed" },
        10,
    );
    step.run()
}

/// What Chromium shows of a tests page: each list's test names in order,
/// and what the filter box finds.
fn browse(url: &str, filter: &str) -> serde_json::Value {
    let out = Command::new("node")
        .arg(repo().join("tests/support/tests_page.mjs"))
        .args([url, filter])
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn names(v: &serde_json::Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn twelve_runs_tell_each_tests_story_and_a_pull_request_reads_it() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let mock = MockGitHub::start(0.0);
    let mut last = None;
    for i in 1..=12 {
        last = Some(on_main(&mock, &bucket, i));
    }
    let last = last.unwrap();
    assert_eq!(last.outputs["flaky"], "1", "{:?}", last.outputs);
    assert!(last.outputs["tests-url"].ends_with("/reports/shop/main/tests/index.html"));

    // The history: one line of twelve runs.
    let h = get_json(&client, &bucket, "reports/shop/main/tests/history.json").await;
    assert_eq!(h["lines"].as_array().unwrap().len(), 1);
    assert_eq!(h["lines"][0]["runs"].as_array().unwrap().len(), 12);
    let alt = h["lines"][0]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "alternating")
        .unwrap();
    assert_eq!(alt["s"], "FPFPFPFPFPFP");
    assert_eq!(
        alt["failures"].as_array().unwrap().len(),
        1,
        "one signature across runs: {alt}"
    );

    // flaky.json names the alternating test, with a link into its latest run.
    let flaky = get_json(&client, &bucket, "reports/shop/main/tests/flaky.json").await;
    let flaky_names: Vec<&str> = flaky["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(flaky_names, ["alternating"]);
    assert!(
        flaky["tests"][0]["link"]
            .as_str()
            .unwrap()
            .contains("/index.html#testresult/")
    );

    // The summary JSON of the last run carries the lists with their scores.
    let summary = &last.summary;
    assert!(summary.contains("Tests of this branch"), "{summary}");

    // The tests page, as Chromium shows it (served from a copy of the
    // bucket's objects: moto answers only signed requests).
    let site = tempfile::tempdir().unwrap();
    for key in keys(&client, &bucket).await {
        if key.starts_with("reports/shop/main/tests/") || key.starts_with("reports/shop/~assets/") {
            let path = site.path().join(&key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, get(&client, &bucket, &key).await).unwrap();
        }
    }
    let server = serve(site.path());
    let seen = browse(
        &format!("{}/reports/shop/main/tests/", server.base),
        "break",
    );
    assert_eq!(names(&seen["flakiest"])[0], "alternating", "{seen}");
    assert_eq!(
        names(&seen["failing"])[..2],
        ["alternating", "breaks"],
        "{seen}"
    );
    assert_eq!(names(&seen["slower"]), ["slows"], "{seen}");
    assert_eq!(names(&seen["slowest"])[0], "slows", "{seen}");
    assert!(
        names(&seen["new-failures"]).is_empty(),
        "run 12 broke nothing new: {seen}"
    );
    assert_eq!(names(&seen["filtered"]), ["breaks"], "{seen}");
    assert_eq!(seen["cells"], 12, "{seen}");
    assert!(
        seen["hosts"].as_array().unwrap().len() == 1,
        "no other host: {seen}"
    );

    // The pull request: the alternating test is flaky on main, the fresh
    // one is new; fail-on: new-failures fails the step for the fresh one.
    let pr = pull_request(&mock, &bucket, 9101, true, "new-failures");
    assert!(
        !pr.output.status.success(),
        "a new failure fails the step: {}",
        pr.log
    );
    assert!(
        pr.log.contains(
            "1 new failures not known flaky on main: fresh (new: not run on main lately)"
        ),
        "{}",
        pr.log
    );
    assert!(
        pr.summary
            .contains("- alternating: flaky on main (failed 6 of last 12) ⚠️"),
        "{}",
        pr.summary
    );
    assert!(
        pr.summary.contains("- fresh: new: not run on main lately"),
        "{}",
        pr.summary
    );
    let comments = mock.comments();
    let body = comments.last().unwrap()["body"].as_str().unwrap();
    assert!(
        body.contains("alternating: flaky on main (failed 6 of last 12)"),
        "{body}"
    );
    assert!(
        body.contains("fresh: new: not run on main lately"),
        "{body}"
    );

    // Only the known-flaky test fails: the step passes.
    let pr = pull_request(&mock, &bucket, 9102, false, "new-failures");
    assert!(
        pr.output.status.success(),
        "only a known-flaky test failed: {}",
        pr.log
    );
    assert_eq!(pr.outputs["new-failures"], "1");
}

/// `allure-host <command> --local-dir SITE --project shop <args>` in `dir`.
fn on_site(dir: &Path, command: &str, site: &Path, args: &[&str]) -> std::process::Output {
    let site = site.to_str().unwrap();
    let argv = [&[command, "--local-dir", site, "--project", "shop"], args].concat();
    run_in(dir, &argv)
}

#[test]
fn allure3_on_a_local_directory_keeps_the_history_and_the_cli_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    for i in 1..=4 {
        let results = tmp.path().join(format!("r{i}"));
        std::fs::create_dir_all(&results).unwrap();
        main_run(&results, i);
        let out = on_site(
            tmp.path(),
            "publish",
            &site,
            &[
                "--results",
                results.to_str().unwrap(),
                "--branch",
                "main",
                "--run-id",
                &format!("run-{i}"),
                "--allure",
                "3",
            ],
        );
        ok(&out);
    }
    let branch = site.join("reports/shop/main");
    let h: serde_json::Value =
        serde_json::from_slice(&std::fs::read(branch.join("tests/history.json")).unwrap()).unwrap();
    let line = &h["lines"][0];
    assert_eq!(line["runs"].as_array().unwrap().len(), 4);
    assert!(
        line["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["allure"] == 3)
    );
    let alt = line["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "alternating")
        .unwrap();
    assert_eq!(alt["s"], "FPFP");
    // Allure 3 opens a test at `#<id>`, its id in that run's report.
    let uid = alt["u"][3].as_str().unwrap();
    assert!(
        branch
            .join(format!("run-4/data/test-results/{uid}.json"))
            .is_file(),
        "{uid}"
    );
    assert!(branch.join("tests/index.html").is_file());

    // `allure-host tests` reads the lists back.
    let out = on_site(
        tmp.path(),
        "tests",
        &site,
        &["--branch", "main", "--flaky", "--json"],
    );
    let rows: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(rows[0]["name"], "alternating");
    assert_eq!(rows[0]["flaky"], true);
    let out = on_site(
        tmp.path(),
        "tests",
        &site,
        &["--branch", "main", "--failing"],
    );
    let table = ok(&out);
    assert!(table.contains("Most failing: 1 of 4 tests"), "{table}");
    // A branch without a history is an error that says what to do.
    let out = on_site(tmp.path(), "tests", &site, &["--branch", "nope"]);
    assert!(
        failed(&out).contains("has no test history"),
        "{}",
        failed(&out)
    );

    // A prune forgets the runs it removes.
    let out = on_site(tmp.path(), "prune", &site, &["--keep", "2", "--yes"]);
    ok(&out);
    let h: serde_json::Value =
        serde_json::from_slice(&std::fs::read(branch.join("tests/history.json")).unwrap()).unwrap();
    let ids: Vec<&str> = h["lines"][0]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["run-3", "run-4"]);

    // A history a newer version wrote is left as it is, and does not stop
    // a prune halfway: the run goes, with a warning saying why.
    let path = branch.join("tests/history.json");
    let newer = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("\"schema\":1", "\"schema\":2", 1);
    std::fs::write(&path, &newer).unwrap();
    let out = on_site(tmp.path(), "prune", &site, &["--keep", "1", "--yes"]);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the test history still lists them")
            && stderr.contains("upgrade allure-host"),
        "{stderr}"
    );
    assert!(
        !branch.join("run-3").exists(),
        "the pruned run's files are gone"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        newer,
        "the newer history is untouched"
    );
}
