//! What a publish promises about runs and trends: a run folder is written by
//! one publisher only, every job and matrix leg continues its own trend, a
//! damaged pointer never resets a trend silently, and a bucket written by
//! pytest-allure-host 2.1.8 (the real tool, against the same test server) is
//! taken over whole.
#![cfg(feature = "integration")]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::*;

fn s3_publish(dir: &Path, bucket: &str, extra: &[&str]) -> Command {
    let mut args = vec!["publish", "--bucket", bucket, "--s3-endpoint", moto()];
    args.extend_from_slice(extra);
    command_in(dir, &args)
}

fn output(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run allure-host")
}

/// Everything the command printed, for messages that may go to either stream.
fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A copy of the example results with only the first `n` test results, so
/// two publishers of one run id produce reports that can be told apart.
fn results_subset(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut results = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(examples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with("-result.json") {
            results += 1;
            if results > n {
                continue;
            }
        }
        std::fs::copy(&f, dir.path().join(&name)).unwrap();
    }
    dir
}

/// Publish `results` as run `run` of project "p", branch "main".
fn run_of_p_main<'a>(results: &'a str, run: &'a str) -> [&'a str; 8] {
    [
        "--results",
        results,
        "--project",
        "p",
        "--branch",
        "main",
        "--run-id",
        run,
    ]
}

fn total(summary: &Value) -> u64 {
    summary["statistic"]["total"].as_u64().unwrap()
}

/// Start both publishers at once; return (winner, loser) outputs.
fn race(a: Command, b: Command) -> (Output, Output) {
    let spawn = |mut c: Command| {
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(a), spawn(b));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        a.status.success() != b.status.success(),
        "exactly one publisher of a run id wins:\nA: {}\nB: {}",
        printed(&a),
        printed(&b)
    );
    if a.status.success() { (a, b) } else { (b, a) }
}

fn assert_loser_named_another_id(loser: &Output, run: &str) {
    let text = printed(loser);
    assert!(
        text.contains(&format!("--run-id {run}-2")) || text.contains("already published"),
        "the loser says which id to use instead:\n{text}"
    );
}

/// Three rounds of two publishers racing for one run id, into the store
/// that `target` (flags) names; `read` and `count` look at what landed
/// (keys relative to the store's root).
fn race_three_rounds(
    target: &[&str],
    read: impl Fn(&str) -> Vec<u8>,
    count: impl Fn(&str) -> usize,
) {
    let tmp = tempfile::tempdir().unwrap();
    let (full, part) = (examples(), results_subset(4));
    for round in 0..3 {
        let run = format!("race-{round}");
        let cmd = |results: &Path| {
            let mut args = vec!["publish"];
            args.extend_from_slice(target);
            let results = results.to_str().unwrap();
            args.extend(run_of_p_main(results, &run));
            command_in(tmp.path(), &args)
        };
        let (_, loser) = race(cmd(&full), cmd(part.path()));
        assert_loser_named_another_id(&loser, &run);
        let json = |key: &str| serde_json::from_slice::<Value>(&read(key)).unwrap();
        let manifest = json("reports/p/main/runs/index.json");
        let row = manifest["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["run_id"] == run.as_str())
            .expect("the winner's run is listed")
            .clone();
        let summary = json(&format!("reports/p/main/{run}/widgets/summary.json"));
        assert_eq!(
            row["total"].as_u64(),
            Some(total(&summary)),
            "round {round}: row and folder agree"
        );
        let files = count(&format!("reports/p/main/{run}/"));
        assert_eq!(
            files as u64,
            row["files"].as_u64().unwrap(),
            "round {round}: no file of the loser"
        );
        let claim = json(&format!("reports/p/main/runs/claims/{run}.json"));
        assert_eq!(claim["state"], "published");
    }
}

#[test]
fn two_publishers_of_one_run_id_never_mix_a_folder_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    race_three_rounds(
        &["--local-dir", site.to_str().unwrap()],
        |key| std::fs::read(site.join(key)).unwrap(),
        |prefix| {
            walkdir::WalkDir::new(site.join(prefix))
                .into_iter()
                .filter(|e| e.as_ref().unwrap().file_type().is_file())
                .count()
        },
    );
}

#[test]
fn a_claim_left_by_a_dead_or_failed_publisher_is_taken_over_and_a_live_one_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let ex = examples();
    let publish = |run: &str| {
        command_in(
            tmp.path(),
            &[
                &["publish", "--local-dir", site.to_str().unwrap()][..],
                &run_of_p_main(ex.to_str().unwrap(), run),
            ]
            .concat(),
        )
    };
    let branch = site.join("reports/p/main");
    std::fs::create_dir_all(branch.join("runs/claims")).unwrap();
    let now = chrono::Utc::now().timestamp();
    let claim = |run: &str, renewed: i64| {
        let doc = serde_json::json!({"run_id": run, "token": "other", "state": "uploading",
            "started": renewed, "renewed": renewed});
        std::fs::write(
            branch.join(format!("runs/claims/{run}.json")),
            doc.to_string(),
        )
        .unwrap();
    };

    // A publisher died mid-upload ten minutes ago: its lease ran out.
    claim("dead", now - 600);
    std::fs::create_dir_all(branch.join("dead/data")).unwrap();
    std::fs::write(branch.join("dead/data/stray.json"), "{}").unwrap();
    let out = output(publish("dead"));
    assert!(out.status.success(), "{}", printed(&out));
    assert!(
        printed(&out).contains("earlier publish stopped"),
        "{}",
        printed(&out)
    );
    assert!(
        !branch.join("dead/data/stray.json").exists(),
        "the dead publisher's files went first"
    );
    assert!(branch.join("dead/index.html").exists());

    // Another publisher holds "busy" right now.
    claim("busy", now);
    let out = output(publish("busy"));
    assert!(!out.status.success());
    let text = printed(&out);
    assert!(
        text.contains("is claimed by a publish that started"),
        "{text}"
    );
    assert!(
        text.contains("lapses in 1") && text.contains(" UTC"),
        "{text}"
    );
    assert!(text.contains("use a free id: --run-id busy-2"), "{text}");
    assert!(
        !branch.join("busy").exists(),
        "nothing written into its folder"
    );

    // A publish that fails gives its run id up: the rerun completes it at once.
    let mut failing = publish("retry");
    failing.env("ALLURE_BIN", "/bin/false");
    let out = output(failing);
    assert!(!out.status.success(), "{}", printed(&out));
    let claim: Value =
        serde_json::from_slice(&std::fs::read(branch.join("runs/claims/retry.json")).unwrap())
            .unwrap();
    assert_eq!(claim["state"], "abandoned");
    let out = output(publish("retry"));
    assert!(out.status.success(), "{}", printed(&out));
}

#[tokio::test]
async fn every_leg_continues_only_its_own_trend_and_has_its_own_latest() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    let ex = examples();
    let legs = ["python=3.10", "python=3.11", "python=3.12"];
    let slug = |leg: &str| leg.replace('=', "-");
    for round in 1..=2 {
        for leg in legs {
            let run = format!("r{round}-{}", slug(leg));
            let summary = tmp.path().join(format!("{run}.json"));
            let out = output(s3_publish(
                tmp.path(),
                &bucket,
                &[
                    "--results",
                    ex.to_str().unwrap(),
                    "--project",
                    "shop",
                    "--branch",
                    "main",
                    "--run-id",
                    &run,
                    "--variant",
                    leg,
                    "--cloudfront",
                    "https://cdn.example",
                    "--summary-json",
                    summary.to_str().unwrap(),
                ],
            ));
            assert!(out.status.success(), "{}", printed(&out));
            let s: Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
            assert_eq!(
                s["latest_url"],
                format!(
                    "https://cdn.example/reports/shop/main/variants/{}/latest/index.html",
                    slug(leg)
                )
            );
            assert_eq!(
                s["branch_latest_url"],
                "https://cdn.example/reports/shop/main/latest/index.html"
            );
        }
    }
    for leg in legs {
        let own = |round: u32| {
            format!(
                "https://cdn.example/reports/shop/main/r{round}-{}/index.html",
                slug(leg)
            )
        };
        let run = format!("r2-{}", slug(leg));
        let trend = get_json(
            &client,
            &bucket,
            &format!("reports/shop/main/{run}/history/history-trend.json"),
        )
        .await;
        let urls: Vec<&str> = trend
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["reportUrl"].as_str().unwrap())
            .collect();
        assert_eq!(
            urls,
            [own(2), own(1)],
            "{leg}: a 2-point trend of its own runs only"
        );
        let executors = get_json(
            &client,
            &bucket,
            &format!("reports/shop/main/{run}/widgets/executors.json"),
        )
        .await;
        assert_eq!(executors[0]["reportUrl"], own(2));
        let pointer = get_json(
            &client,
            &bucket,
            &format!("reports/shop/main/variants/{}/latest.json", slug(leg)),
        )
        .await;
        assert_eq!(pointer["run_id"], run.as_str());
        assert_eq!(pointer["variant"], leg);
        let page = String::from_utf8(
            get(
                &client,
                &bucket,
                &format!("reports/shop/main/variants/{}/latest/index.html", slug(leg)),
            )
            .await,
        )
        .unwrap();
        assert!(
            page.contains(&format!("url=../../../{run}/index.html")),
            "{leg}'s latest opens its newest run:\n{page}"
        );
    }
    // The branch's latest lists the newest run of each leg.
    let page =
        String::from_utf8(get(&client, &bucket, "reports/shop/main/latest/index.html").await)
            .unwrap();
    assert!(!page.contains("http-equiv=\"refresh\""), "{page}");
    for leg in legs {
        assert!(
            page.contains(&format!("../r2-{}/index.html", slug(leg))),
            "{page}"
        );
        assert!(!page.contains(&format!("../r1-{}/index.html", slug(leg))));
    }
    let runs = String::from_utf8(get(&client, &bucket, "reports/shop/main/runs/index.html").await)
        .unwrap();
    assert!(
        runs.contains(r#"href="../variants/python-3.10/latest/index.html""#),
        "runs page links each leg's latest"
    );
}

#[tokio::test]
async fn a_damaged_latest_pointer_warns_and_the_trend_goes_on() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    let ex = examples();
    let publish = |run: &str| {
        output(s3_publish(
            tmp.path(),
            &bucket,
            &run_of_p_main(ex.to_str().unwrap(), run),
        ))
    };
    assert!(publish("run-1").status.success());
    client
        .put_object()
        .bucket(&bucket)
        .key("reports/p/main/latest.json")
        .body(br#"{"run_id": "run-1", "run_url": "#.to_vec().into())
        .send()
        .await
        .unwrap();
    let out = publish("run-2");
    assert!(out.status.success(), "{}", printed(&out));
    let text = printed(&out);
    assert!(
        text.contains(&format!(
            "s3://{bucket}/reports/p/main/latest.json is unreadable"
        )),
        "one warning names the key:\n{text}"
    );
    assert!(text.contains("trends continue from run run-1"), "{text}");
    let trend = get_json(
        &client,
        &bucket,
        "reports/p/main/run-2/history/history-trend.json",
    )
    .await;
    assert_eq!(trend.as_array().unwrap().len(), 2, "{trend}");
    let pointer = get_json(&client, &bucket, "reports/p/main/latest.json").await;
    assert_eq!(pointer["run_id"], "run-2", "the pointer is repaired");
}

/// Publish twice with the real pytest-allure-host 2.1.8, then once with
/// allure-host, into one bucket.
async fn take_over_pytest_allure_host(cloudfront: Option<&str>) {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    let tool = moto_python().with_file_name("publish-allure");
    assert!(
        tool.is_file(),
        "pytest-allure-host missing at {}: run bash .ci/run",
        tool.display()
    );
    let path = format!(
        "{}:{}",
        allure_bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let theirs = ["20240101-000000", "20240102-000000"];
    for run in theirs {
        // It writes history into the results folder, so it gets a copy.
        let results = results_subset(usize::MAX);
        let mut cmd = Command::new(&tool);
        cmd.current_dir(tmp.path())
            .args([
                "--bucket",
                &bucket,
                "--project",
                "shop",
                "--branch",
                "main",
                "--run-id",
                run,
            ])
            .args(["--results", results.path().to_str().unwrap(), "--report"])
            .arg(tmp.path().join(format!("report-{run}")))
            .args(["--s3-endpoint", moto(), "--skip-preflight"])
            .env("PATH", &path)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", moto());
        if let Some(base) = cloudfront {
            cmd.args(["--cloudfront", base]);
        }
        let out = output(cmd);
        assert!(
            out.status.success(),
            "pytest-allure-host: {}",
            printed(&out)
        );
    }
    assert!(
        keys(&client, &bucket)
            .await
            .contains(&"reports/shop/main/latest/LATEST_READY".to_string())
    );
    let pointer = get_json(&client, &bucket, "reports/shop/main/latest.json").await;
    assert_eq!(
        pointer["run_url"].is_null(),
        cloudfront.is_none(),
        "{pointer}"
    );

    let ex = examples();
    let mut args = vec![
        "--results",
        ex.to_str().unwrap(),
        "--project",
        "shop",
        "--branch",
        "main",
        "--run-id",
        "ours",
    ];
    if let Some(base) = cloudfront {
        args.extend(["--cloudfront", base]);
    }
    let out = output(s3_publish(tmp.path(), &bucket, &args));
    assert!(out.status.success(), "{}", printed(&out));
    assert!(
        printed(&out).contains("carried over from run 20240102-000000"),
        "{}",
        printed(&out)
    );

    // Its runs stay listed, ours continues their trend.
    let manifest = get_json(&client, &bucket, "reports/shop/main/runs/index.json").await;
    let ids: Vec<&str> = manifest["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ours", theirs[1], theirs[0]]);
    let trend = get_json(
        &client,
        &bucket,
        "reports/shop/main/ours/history/history-trend.json",
    )
    .await;
    assert_eq!(trend.as_array().unwrap().len(), 3, "{trend}");
    // Its full copy under latest/ is gone; our page sends readers on.
    let all = keys(&client, &bucket).await;
    let latest: Vec<&String> = all
        .iter()
        .filter(|k| k.starts_with("reports/shop/main/latest/"))
        .collect();
    assert_eq!(latest, ["reports/shop/main/latest/index.html"]);
    let page =
        String::from_utf8(get(&client, &bucket, "reports/shop/main/latest/index.html").await)
            .unwrap();
    assert!(page.contains("url=../ours/index.html"), "{page}");
    for run in theirs {
        assert!(
            all.contains(&format!("reports/shop/main/{run}/index.html")),
            "its run {run} is kept"
        );
    }
    // Pages list its runs and its branches.
    let runs = String::from_utf8(get(&client, &bucket, "reports/shop/main/runs/index.html").await)
        .unwrap();
    for run in theirs {
        assert!(runs.contains(&format!("../{run}/index.html")), "{runs}");
    }
    let project = get_json(&client, &bucket, "reports/shop/index.json").await;
    assert_eq!(project["branches"][0]["run_id"], "ours");
    let all_runs =
        String::from_utf8(get(&client, &bucket, "reports/shop/runs/all/index.html").await).unwrap();
    assert!(all_runs.contains("the project page"), "{all_runs}");
    let trend = String::from_utf8(get(&client, &bucket, "reports/shop/main/runs/trend.html").await)
        .unwrap();
    assert!(
        trend.contains("the runs page"),
        "its trend page sends readers to ours: {trend}"
    );
}

#[tokio::test]
async fn a_pytest_allure_host_bucket_without_cloudfront_is_taken_over() {
    take_over_pytest_allure_host(None).await;
}

#[tokio::test]
async fn a_pytest_allure_host_bucket_with_cloudfront_is_taken_over() {
    take_over_pytest_allure_host(Some("https://d111.cloudfront.net")).await;
}
