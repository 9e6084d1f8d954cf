//! The same layout checks against a local directory (`--local-dir`, and the
//! embedded default `./allure-site`).
#![cfg(feature = "integration")]

mod support;

use std::path::Path;

use support::*;

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

#[test]
fn default_target_is_allure_site_and_trends_continue() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = examples();
    for run in ["one", "two"] {
        let out = run_in(
            tmp.path(),
            &[
                "publish",
                "--results",
                ex.to_str().unwrap(),
                "--project",
                "shop",
                "--branch",
                "feat/x",
                "--run-id",
                run,
            ],
        );
        let stdout = ok(&out);
        assert!(String::from_utf8_lossy(&out.stderr).contains("No bucket configured"));
        assert!(
            stdout.contains("Run URL:    http://127.0.0.1:8040/reports/shop/feat~2Fx/"),
            "{stdout}"
        );
        assert!(
            stdout.contains("View it:    allure-host serve "),
            "{stdout}"
        );
    }
    let branch = tmp.path().join("allure-site/reports/shop/feat~2Fx");
    let trend = read_json(&branch.join("two/history/history-trend.json"));
    assert_eq!(trend.as_array().unwrap().len(), 2);
    let manifest = read_json(&branch.join("runs/index.json"));
    assert_eq!(manifest["runs"].as_array().unwrap().len(), 2);
    assert_eq!(manifest["branch"], "feat/x");
    assert_eq!(read_json(&branch.join("latest.json"))["run_id"], "two");
    let latest = std::fs::read_to_string(branch.join("latest/index.html")).unwrap();
    assert!(latest.contains("url=../two/index.html"));
    assert!(branch.join("runs/index.html").is_file());
    assert!(
        tmp.path()
            .join("allure-site/reports/shop/index.html")
            .is_file()
    );
    let index = std::fs::read_to_string(branch.join("two/index.html")).unwrap();
    assert!(!index.contains("googletagmanager"));
    // Nothing half-written is left where readers look.
    let leftovers: Vec<_> = walkdir::WalkDir::new(tmp.path().join("allure-site/reports"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn local_dir_handles_concurrency_retention_and_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let site_s = site.to_str().unwrap().to_string();
    let report = generated_report().to_str().unwrap().to_string();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (site, report, dir) = (site_s.clone(), report.clone(), tmp.path().to_path_buf());
            std::thread::spawn(move || {
                run_in(
                    &dir,
                    &[
                        "publish",
                        "--local-dir",
                        &site,
                        "--report",
                        &report,
                        "--project",
                        "p",
                        "--run-id",
                        &format!("r{i}"),
                    ],
                )
            })
        })
        .collect();
    for h in handles {
        ok(&h.join().unwrap());
    }
    let branch = site.join("reports/p/main");
    let manifest = read_json(&branch.join("runs/index.json"));
    assert_eq!(manifest["runs"].as_array().unwrap().len(), 8);
    let latest = read_json(&branch.join("latest.json"));
    assert_eq!(latest["build_order"], 8);
    assert_eq!(latest["run_id"], manifest["runs"][0]["run_id"]);

    let err = failed(&run_in(
        tmp.path(),
        &[
            "publish",
            "--local-dir",
            &site_s,
            "--report",
            &report,
            "--project",
            "p",
            "--run-id",
            "r0",
        ],
    ));
    assert!(err.contains("already published"), "{err}");

    ok(&run_in(
        tmp.path(),
        &[
            "publish",
            "--local-dir",
            &site_s,
            "--report",
            &report,
            "--project",
            "p",
            "--run-id",
            "last",
            "--max-keep-runs",
            "3",
        ],
    ));
    let manifest = read_json(&branch.join("runs/index.json"));
    let kept: Vec<String> = manifest["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept.len(), 3);
    assert_eq!(kept[0], "last");
    let dirs: Vec<String> = std::fs::read_dir(&branch)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('r') && n != "runs" || n == "last")
        .collect();
    assert_eq!(dirs.len(), 3, "pruned run folders are gone: {dirs:?}");
}

#[test]
fn config_file_and_env_are_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let report = generated_report().to_str().unwrap();
    std::fs::write(
        tmp.path().join("allure-host.yml"),
        "project: from-file\nbranch: file-branch\nrun_id: file-run\nlocal_dir: out\n",
    )
    .unwrap();
    ok(&run_in(
        tmp.path(),
        &["publish", "--report", report, "--branch", "flag-branch"],
    ));
    assert!(
        tmp.path()
            .join("out/reports/from-file/flag-branch/file-run/index.html")
            .is_file()
    );
}

#[test]
fn allure_2_makes_its_class_archive_where_the_cache_persists_and_uses_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let ex = examples();
    let publish = |run: &str| {
        let args = [
            "publish",
            "--results",
            ex.to_str().unwrap(),
            "--project",
            "shop",
            "--run-id",
            run,
        ];
        let out = command_in(tmp.path(), &args)
            .env("XDG_CACHE_HOME", &cache)
            .env("JAVA_OPTS", "-Xmx512m")
            .output()
            .unwrap();
        ok(&out);
    };
    let jvm = cache.join("allure-host/jvm");
    let files = |ext: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&jvm)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(ext))
            .collect();
        names.sort();
        names
    };
    // A first run only marks: a cache that is gone by the next job never
    // costs the second it takes to make the archive.
    publish("one");
    assert_eq!(files(".jsa"), Vec::<String>::new());
    assert_eq!(files(".seen").len(), 1);
    publish("two");
    let made = files(".jsa");
    assert_eq!(made.len(), 1, "the second run makes it: {made:?}");
    publish("three");
    assert_eq!(files(".jsa"), made, "later runs use it");
    assert!(files(".part").is_empty());
    // Every run shows the same tests, and the trend goes on.
    let site = tmp.path().join("allure-site/reports/shop/main");
    for run in ["one", "two", "three"] {
        let summary = read_json(&site.join(run).join("widgets/summary.json"));
        assert_eq!(summary["statistic"]["total"], 9, "{run}");
    }
    let trend = read_json(&site.join("three/history/history-trend.json"));
    assert_eq!(trend.as_array().unwrap().len(), 3);
}

#[test]
fn first_use_installs_the_pinned_allure_2_with_npm_ci_once() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let ex = examples();
    // No Allure on PATH or in ALLURE_BIN: only npm (and Java) are there.
    let path = std::env::var_os("PATH").unwrap();
    let path = std::env::join_paths(
        std::env::split_paths(&path).filter(|dir| !dir.join("allure").is_file()),
    )
    .unwrap();
    let publish = || {
        let out = command_in(
            tmp.path(),
            &[
                "publish",
                "--results",
                ex.to_str().unwrap(),
                "--local-dir",
                "site",
            ],
        )
        .env_remove("ALLURE_BIN")
        .env("PATH", &path)
        .env("XDG_CACHE_HOME", &cache)
        .output()
        .unwrap();
        ok(&out);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let first = publish();
    let version = read_json(&repo().join("engines/allure2/package.json"))["dependencies"]
        ["allure-commandline"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        first.contains(&format!(
            "installing allure-commandline@{version} with npm ci"
        )),
        "{first}"
    );
    let home = cache.join(format!("allure-host/allure-commandline-{version}"));
    assert!(home.join("node_modules/.bin/allure").is_file());
    // Built aside and renamed: besides it only the JVM's archive folder.
    let mut left: Vec<_> = std::fs::read_dir(cache.join("allure-host"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [format!("allure-commandline-{version}"), "jvm".into()]
    );
    let second = publish();
    assert!(!second.contains("installing"), "{second}");
    assert!(second.contains(&home.display().to_string()), "{second}");
}

/// The plan `--dry-run` prints, one line per step.
fn printed_plan(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("Plan (dry run"))
        .skip(1)
        .take_while(|l| l.starts_with("  ") && !l.starts_with("  The dropped"))
        .map(|l| l.trim().to_string())
        .collect()
}

/// The steps a publish carried out, from its summary JSON, as printed.
fn carried_out(summary: &Path) -> Vec<String> {
    let steps: Vec<allure_host::model::publish_plan::Step> =
        serde_json::from_value(read_json(summary)["steps"].clone()).unwrap();
    steps.iter().map(ToString::to_string).collect()
}

#[test]
fn a_dry_run_prints_the_steps_the_publish_then_carries_out() {
    let tmp = tempfile::tempdir().unwrap();
    let report = generated_report().to_str().unwrap().to_string();
    let summary = tmp.path().join("summary.json");
    // A leg's first run on the branch (latest is no one's yet, so a copy
    // another tool kept there would go), then one that retention makes the
    // only one kept.
    let runs: [&[&str]; 2] = [
        &["--run-id", "a", "--variant", "py=3.12"],
        &[
            "--run-id",
            "b",
            "--variant",
            "py=3.12",
            "--max-keep-runs",
            "1",
        ],
    ];
    for extra in runs {
        let mut args = vec![
            "publish",
            "--report",
            &report,
            "--local-dir",
            "site",
            "--project",
            "shop",
        ];
        args.extend_from_slice(extra);
        let planned = printed_plan(&ok(&run_in(
            tmp.path(),
            &[args.as_slice(), &["--dry-run"]].concat(),
        )));
        ok(&run_in(
            tmp.path(),
            &[
                args.as_slice(),
                &["--summary-json", summary.to_str().unwrap()],
            ]
            .concat(),
        ));
        assert!(planned.len() >= 6, "{planned:#?}");
        assert_eq!(carried_out(&summary), planned);
    }
    let last = carried_out(&summary);
    assert!(last[0].starts_with("claim  run id"), "{last:#?}");
    assert!(
        last.iter().any(|l| l.starts_with("move   leg latest")),
        "{last:#?}"
    );
    assert_eq!(
        last.last().unwrap(),
        "delete dropped runs    1 run(s): a",
        "{last:#?}"
    );
    assert!(!tmp.path().join("site/reports/shop/main/a").exists());
}
