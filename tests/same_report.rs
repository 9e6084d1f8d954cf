//! allure-host's Allure 2 makes the report the stock CLI makes: the same
//! `data/` and `widgets/` for the same results. With ALLURE_HOST_IMAGE set,
//! the publish runs in the action's image (its cut Java runtime, its trimmed
//! plugins, its class archive, which the JVM is told it must use); without,
//! on this machine with allure-host's JVM options. Allure names test cases and attachments by random uids and
//! writes some lists in hash order, so both reports are normalised first.
#![cfg(feature = "integration")]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::*;

/// A JUnit XML file beside the Allure results, so the readers the image
/// keeps are exercised too.
const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="cart.CartTest" tests="2" failures="1" time="0.5">
  <testcase classname="cart.CartTest" name="adds_an_item" time="0.2"/>
  <testcase classname="cart.CartTest" name="removes_an_item" time="0.3">
    <failure message="expected 0 items, found 1">AssertionError: expected 0 items, found 1</failure>
  </testcase>
</testsuite>
"#;

#[test]
fn allure_hosts_allure_2_report_has_the_stock_clis_data_and_widgets() {
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    std::fs::create_dir(&results).unwrap();
    for entry in std::fs::read_dir(examples()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, results.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(results.join("TEST-cart.xml"), JUNIT).unwrap();

    let ours = publish(work.path());
    // The stock CLI gets the executor our publish gave Allure.
    let executors = read_json(&ours.join("widgets/executors.json"));
    std::fs::write(results.join("executor.json"), executors[0].to_string()).unwrap();
    let stock = work.path().join("stock");
    let out = Command::new(allure_bin())
        .arg("generate")
        .arg(&results)
        .arg("-o")
        .arg(&stock)
        .arg("--clean")
        .env_remove("JAVA_OPTS")
        .output()
        .unwrap();
    ok(&out);

    let (ours, stock) = (normalised(&ours), normalised(&stock));
    for file in [
        "data/behaviors.json",
        "data/packages.json",
        "widgets/executors.json",
    ] {
        assert!(stock.contains_key(file), "the stock report has {file}");
    }
    let results = std::fs::read_dir(examples()).unwrap();
    let example_tests = results
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with("-result.json")
        })
        .count();
    let cases = stock["data/test-cases/UID.json"].len();
    assert_eq!(
        cases,
        example_tests + 2,
        "the examples' tests and the JUnit file's"
    );
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        stock.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (file, contents) in &stock {
        for (a, b) in ours[file].iter().zip(contents) {
            assert!(a == b, "{file} differs:\nours  {a}\nstock {b}");
        }
        assert_eq!(ours[file].len(), contents.len(), "{file}");
    }
}

/// Publish the results to a local site with allure-host, in the image when
/// there is one; the run's report folder.
fn publish(work: &Path) -> PathBuf {
    let image = std::env::var("ALLURE_HOST_IMAGE").ok();
    let dir = if image.is_some() {
        Path::new("/data")
    } else {
        work
    };
    let arg = |rel: &str| dir.join(rel).display().to_string();
    let args = [
        "publish".to_string(),
        "--results".into(),
        arg("results"),
        "--local-dir".into(),
        arg("site"),
        "--project".into(),
        "same".into(),
        "--branch".into(),
        "main".into(),
        "--summary-json".into(),
        arg("summary.json"),
    ];
    let out: Output = match &image {
        // -Xshare:on: the JVM fails rather than run without the image's
        // class archive.
        Some(image) => action::in_image(
            image,
            "/data",
            &[(work, "/data")],
            &[("JAVA_OPTS".into(), "-Xshare:on".into())],
        )
        .arg("/entrypoint.sh")
        .args(&args)
        .output()
        .unwrap(),
        None => run_in(work, &args.iter().map(String::as_str).collect::<Vec<_>>()),
    };
    let log = ok(&out) + &String::from_utf8_lossy(&out.stderr);
    if image.is_some() {
        assert!(
            log.contains("/opt/allure/bin/allure"),
            "the image's Allure ran: {log}"
        );
    }
    let run = read_json(&work.join("summary.json"))["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    work.join("site/reports/same/main").join(run)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `data/` and `widgets/` by path with uids replaced (so files named by
/// uid share a path), each file's content with uids replaced, JSON with its
/// keys and lists sorted, CSV with its rows sorted.
fn normalised(report: &Path) -> BTreeMap<String, Vec<String>> {
    let mut uids: Vec<String> = ["data/test-cases", "data/attachments"]
        .iter()
        .flat_map(|d| std::fs::read_dir(report.join(d)).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .map(|name| name.split('.').next().unwrap().to_string())
        .collect();
    uids.sort_by_key(|u| std::cmp::Reverse(u.len()));
    let unuid = |text: &str| {
        uids.iter()
            .fold(text.to_string(), |t, u| t.replace(u, "UID"))
    };
    let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for top in ["data", "widgets"] {
        for entry in walkdir::WalkDir::new(report.join(top)) {
            let entry = entry.unwrap();
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry.path().strip_prefix(report).unwrap().to_string_lossy();
            let content = match String::from_utf8(std::fs::read(entry.path()).unwrap()) {
                Ok(text) => canonical_text(&rel, &unuid(&text)),
                Err(e) => format!("{:x?}", e.as_bytes()),
            };
            files.entry(unuid(&rel)).or_default().push(content);
        }
    }
    files.values_mut().for_each(|contents| contents.sort());
    files
}

fn canonical_text(path: &str, text: &str) -> String {
    if path.ends_with(".json") {
        canonical(&serde_json::from_str(text).unwrap())
    } else if path.ends_with(".csv") {
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1..].sort();
        lines.join("\n")
    } else {
        text.to_string()
    }
}

/// JSON with object keys in order (serde_json's map is sorted) and list
/// items sorted: Allure fills some lists from hash maps.
fn canonical(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let mut items: Vec<String> = items.iter().map(canonical).collect();
            items.sort();
            format!("[{}]", items.join(","))
        }
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), canonical(v)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        other => other.to_string(),
    }
}
