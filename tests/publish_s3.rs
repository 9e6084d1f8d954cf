//! `allure-host publish` against a real moto S3 server, with the real Allure CLI.
#![cfg(feature = "integration")]

#[path = "support/proxy.rs"]
mod proxy;
mod support;

use support::*;

fn s3_args<'a>(bucket: &'a str, endpoint: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["publish", "--bucket", bucket, "--s3-endpoint", endpoint];
    args.extend_from_slice(extra);
    args
}

/// Publish to `bucket` on the test server from `dir`, with `extra` flags.
fn publish(dir: &std::path::Path, bucket: &str, extra: &[&str]) -> std::process::Output {
    run_in(dir, &s3_args(bucket, moto(), extra))
}

#[tokio::test]
async fn two_publishes_continue_the_trend_with_correct_headers() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let ex = examples();
    let ex = ex.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for run in ["run-1", "run-2"] {
        ok(&publish(
            tmp.path(),
            &bucket,
            &[
                "--results",
                ex,
                "--project",
                "shop",
                "--branch",
                "main",
                "--run-id",
                run,
                "--cloudfront",
                "https://d111.cloudfront.net",
                "--summary-json",
                "summary.json",
            ],
        ));
    }
    let trend = get_json(
        &client,
        &bucket,
        "reports/shop/main/run-2/history/history-trend.json",
    )
    .await;
    assert_eq!(trend.as_array().unwrap().len(), 2, "{trend}");
    let executors = get_json(
        &client,
        &bucket,
        "reports/shop/main/run-2/widgets/executors.json",
    )
    .await;
    assert_eq!(executors[0]["buildOrder"], 2);
    assert_eq!(
        executors[0]["reportUrl"],
        "https://d111.cloudfront.net/reports/shop/main/run-2/index.html"
    );

    let manifest = get_json(&client, &bucket, "reports/shop/main/runs/index.json").await;
    assert_eq!(manifest["schema"], 1);
    let runs = manifest["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["run_id"], "run-2");
    assert_eq!(runs[0]["passed"], 5);
    assert_eq!(runs[0]["failed"], 1);
    assert_eq!(runs[0]["broken"], 1);
    assert_eq!(runs[0]["skipped"], 2);
    assert_eq!(runs[0]["total"], 9);
    assert_eq!(runs[0]["build_order"], 2);

    let latest = get_json(&client, &bucket, "reports/shop/main/latest.json").await;
    assert_eq!(latest["run_id"], "run-2");
    assert_eq!(
        latest["latest_url"],
        "https://d111.cloudfront.net/reports/shop/main/latest/index.html"
    );
    let page =
        String::from_utf8(get(&client, &bucket, "reports/shop/main/latest/index.html").await)
            .unwrap();
    assert!(page.contains("url=../run-2/index.html"));
    // The script that keeps the #fragment is the project's own asset.
    let script = page
        .split("<script src=\"../../")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page loads the pages script");
    let js =
        String::from_utf8(get(&client, &bucket, &format!("reports/shop/{script}")).await).unwrap();
    assert!(js.contains("location.hash"));
    let project =
        String::from_utf8(get(&client, &bucket, "reports/shop/index.html").await).unwrap();
    assert!(project.contains("main/latest/index.html"));

    // Headers: charset on text, no-cache on entry pages and mutable files,
    // immutable on the rest of a run.
    let head = |key: String| {
        let client = client.clone();
        let bucket = bucket.clone();
        async move {
            client
                .head_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap()
        }
    };
    let h = head("reports/shop/main/run-2/index.html".into()).await;
    assert_eq!(h.content_type(), Some("text/html; charset=utf-8"));
    assert_eq!(h.cache_control(), Some("no-cache"));
    // Allure's app bundle, named by its content (assets/index-<hash>.js).
    let app = keys(&client, &bucket)
        .await
        .into_iter()
        .find(|k| k.starts_with("reports/shop/main/run-2/assets/index-") && k.ends_with(".js"));
    let h = head(app.expect("the app bundle")).await;
    assert_eq!(
        h.cache_control(),
        Some("public, max-age=31536000, immutable")
    );
    assert!(
        h.content_type()
            .unwrap()
            .ends_with("javascript; charset=utf-8")
    );
    for key in [
        "reports/shop/main/latest.json",
        "reports/shop/main/runs/index.json",
        "reports/shop/main/runs/index.html",
        "reports/shop/main/latest/index.html",
        "reports/shop/index.html",
    ] {
        assert_eq!(
            head(key.into()).await.cache_control(),
            Some("no-cache"),
            "{key}"
        );
    }
    let png = keys(&client, &bucket)
        .await
        .into_iter()
        .find(|k| k.starts_with("reports/shop/main/run-2/data/attachments/") && k.ends_with(".png"))
        .unwrap();
    let h = client
        .head_object()
        .bucket(&bucket)
        .key(&png)
        .send()
        .await
        .unwrap();
    assert_eq!(h.content_type(), Some("image/png"));

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["run_url"],
        "https://d111.cloudfront.net/reports/shop/main/run-2/index.html"
    );
    assert_eq!(summary["stats"]["total"], 9);
    assert_eq!(summary["bucket"], bucket.as_str());
    assert!(
        summary["requests"]["PutObject"].as_u64().unwrap()
            >= summary["report_files"].as_u64().unwrap()
    );
    for t in [
        "history", "generate", "upload", "manifest", "latest", "total",
    ] {
        assert!(summary["timings"][t].is_number(), "{t}");
    }
}

#[tokio::test]
async fn published_reports_make_no_third_party_requests() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    let report = generated_report().to_str().unwrap();
    ok(&publish(
        tmp.path(),
        &bucket,
        &["--report", report, "--project", "p", "--run-id", "r1"],
    ));
    ok(&publish(
        tmp.path(),
        &bucket,
        &[
            "--report",
            report,
            "--project",
            "p",
            "--run-id",
            "r2",
            "--keep-analytics",
        ],
    ));
    let original = std::fs::read_to_string(generated_report().join("index.html")).unwrap();
    assert!(
        original.contains("googletagmanager"),
        "Allure still ships the tracker; this test guards its removal"
    );
    for key in keys(&client, &bucket)
        .await
        .iter()
        .filter(|k| k.starts_with("reports/p/main/r1/") && k.ends_with(".html"))
    {
        let html = String::from_utf8(get(&client, &bucket, key).await).unwrap();
        // No element may load anything from another origin.
        for attr in ["src=\"http", "src='http", "href=\"http", "src=\"//"] {
            assert!(!html.contains(attr), "{key} loads a third party: {html}");
        }
        assert!(!html.contains("gtag("), "{key}");
    }
    let kept =
        String::from_utf8(get(&client, &bucket, "reports/p/main/r2/index.html").await).unwrap();
    assert!(
        kept.contains("googletagmanager"),
        "--keep-analytics opts out"
    );
}

#[tokio::test]
async fn retention_prunes_manifest_then_objects() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let report = generated_report().to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for run in ["old-1", "old-2", "new-3"] {
        ok(&publish(
            tmp.path(),
            &bucket,
            &[
                "--report",
                report,
                "--project",
                "p",
                "--run-id",
                run,
                "--max-keep-runs",
                "2",
            ],
        ));
    }
    let manifest = get_json(&client, &bucket, "reports/p/main/runs/index.json").await;
    let ids: Vec<&str> = manifest["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["new-3", "old-2"]);
    let all = keys(&client, &bucket).await;
    assert!(
        !all.iter().any(|k| k.starts_with("reports/p/main/old-1/")),
        "old-1 objects deleted"
    );
    assert!(all.iter().any(|k| k.starts_with("reports/p/main/old-2/")));
}

#[tokio::test]
async fn duplicate_run_id_is_refused_and_changes_nothing() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let report = generated_report().to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let args = s3_args(
        &bucket,
        moto(),
        &["--report", report, "--project", "p", "--run-id", "same"],
    );
    ok(&run_in(tmp.path(), &args));
    let before = keys(&client, &bucket).await;
    let manifest_before = get(&client, &bucket, "reports/p/main/runs/index.json").await;
    let err = failed(&run_in(tmp.path(), &args));
    assert!(err.contains("already published"), "{err}");
    assert_eq!(keys(&client, &bucket).await, before);
    assert_eq!(
        get(&client, &bucket, "reports/p/main/runs/index.json").await,
        manifest_before
    );
}

#[tokio::test]
async fn hostile_names_stay_inside_the_project_and_are_escaped() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let report = generated_report().to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let long = "b".repeat(300);
    let cases = [
        ("../../escape", "<script>alert(1)</script>"),
        ("feat/<img src=x onerror=alert(1)>", "../run"),
        ("ünïcödé/ブランチ", "."),
        (long.as_str(), "x y"),
    ];
    // A link that is not a web page is refused before anything is written.
    let err = failed(&publish(
        tmp.path(),
        &bucket,
        &[
            "--report",
            report,
            "--context-url",
            "javascript:alert(document.cookie)",
        ],
    ));
    assert!(
        err.contains("--context-url") && err.contains("http"),
        "{err}"
    );
    assert!(keys(&client, &bucket).await.is_empty());
    for (branch, run) in cases {
        ok(&publish(
            tmp.path(),
            &bucket,
            &[
                "--report",
                report,
                "--project",
                "p",
                "--branch",
                branch,
                "--run-id",
                run,
                "--context-url",
                "https://ci.example.com/run?x=\"><script>alert(1)</script>",
                "--meta",
                "note=<b>bold</b>",
            ],
        ));
    }
    let all = keys(&client, &bucket).await;
    // Beside the reports: the site's record of what its server honours.
    for key in all
        .iter()
        .filter(|k| !k.starts_with("~allure-host/server/"))
    {
        assert!(key.starts_with("reports/p/"), "{key}");
        assert!(
            !key.split('/').any(|part| part == ".." || part == "."),
            "{key}"
        );
        assert!(key.len() < 1024);
    }
    for page in all.iter().filter(|k| {
        k.ends_with("runs/index.html")
            || *k == "reports/p/index.html"
            || k.ends_with("latest/index.html")
    }) {
        let html = String::from_utf8(get(&client, &bucket, page).await).unwrap();
        assert!(!html.contains("<script>alert"), "{page}");
        assert!(!html.contains("<img src=x"), "{page}");
        assert!(!html.contains("<b>bold"), "{page}");
        assert!(!html.contains("href=\"javascript:"), "{page}");
    }
    let manifest_key = all
        .iter()
        .find(|k| k.contains("feat~2F") && k.ends_with("runs/index.json"))
        .unwrap();
    let manifest = get_json(&client, &bucket, manifest_key).await;
    assert_eq!(
        manifest["branch"], "feat/<img src=x onerror=alert(1)>",
        "original names kept"
    );
    assert_eq!(manifest["runs"][0]["run_id"], "../run");
    assert_eq!(manifest["runs"][0]["note"], "<b>bold</b>");
}

#[tokio::test]
async fn sse_and_ttl_apply_to_every_write() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let report = generated_report().to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    ok(&publish(
        tmp.path(),
        &bucket,
        &[
            "--report",
            report,
            "--project",
            "p",
            "--run-id",
            "enc",
            "--sse",
            "AES256",
            "--ttl-days",
            "7",
        ],
    ));
    for key in keys(&client, &bucket).await {
        let head = client
            .head_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            head.server_side_encryption().map(|s| s.as_str()),
            Some("AES256"),
            "{key}"
        );
        if key.starts_with("reports/p/main/enc/") {
            let tags = client
                .get_object_tagging()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .unwrap();
            let tag = tags
                .tag_set()
                .iter()
                .find(|t| t.key() == "ttl-days")
                .map(|t| t.value().to_string());
            assert_eq!(tag.as_deref(), Some("7"), "{key}");
        }
    }
}

#[tokio::test]
async fn dry_run_writes_nothing_and_prints_the_plan() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let report = generated_report().to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    ok(&publish(
        tmp.path(),
        &bucket,
        &["--report", report, "--project", "p", "--run-id", "a"],
    ));
    let before = keys(&client, &bucket).await;
    let out = ok(&publish(
        tmp.path(),
        &bucket,
        &[
            "--report",
            report,
            "--project",
            "p",
            "--run-id",
            "b",
            "--max-keep-runs",
            "1",
            "--dry-run",
        ],
    ));
    assert_eq!(keys(&client, &bucket).await, before);
    let files = before
        .iter()
        .filter(|k| k.starts_with("reports/p/main/a/"))
        .count();
    assert!(out.contains("write  run report"), "{out}");
    assert!(
        out.contains(&format!("deletion would free {files} objects")),
        "{out}"
    );
    assert!(out.contains("1 run(s): a"), "{out}");
    assert!(out.contains("Run URL:"));
}

#[tokio::test]
async fn bad_input_fails_clearly_without_writing() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    let err = failed(&publish(tmp.path(), &bucket, &["--results", "nope"]));
    assert!(
        err.contains("does not exist") && err.contains("--results"),
        "{err}"
    );
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    let err = failed(&publish(tmp.path(), &bucket, &["--results", "empty"]));
    assert!(err.contains("no *-result.json"), "{err}");
    std::fs::create_dir(tmp.path().join("bad")).unwrap();
    std::fs::write(tmp.path().join("bad/x-result.json"), "{not json").unwrap();
    let err = failed(&publish(tmp.path(), &bucket, &["--results", "bad"]));
    assert!(
        err.contains("x-result.json") && err.contains("not valid"),
        "{err}"
    );
    let report = generated_report().to_str().unwrap();
    let err = failed(&run_in(
        tmp.path(),
        &s3_args("no-such-bucket-here", moto(), &["--report", report]),
    ));
    assert!(err.contains("does not exist"), "{err}");
    let err = failed(&publish(
        tmp.path(),
        &bucket,
        &["--report", report, "--run-id", "latest"],
    ));
    assert!(err.contains("reserved"), "{err}");
    assert!(keys(&client, &bucket).await.is_empty());
}

#[tokio::test]
async fn check_reports_public_access_and_fails_when_open() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    let ex = examples();
    let args = s3_args(
        &bucket,
        moto(),
        &["--results", ex.to_str().unwrap(), "--check"],
    );
    let out = run_in(tmp.path(), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("public access block  FAIL"), "{stdout}");
    use aws_sdk_s3::types::PublicAccessBlockConfiguration;
    client
        .put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let stdout = ok(&run_in(tmp.path(), &args));
    for name in [
        "allure cli",
        "results",
        "credentials",
        "bucket",
        "public access block",
        "bucket policy",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(name) && l.contains(" ok ")),
            "{name}: {stdout}"
        );
    }
    assert!(
        keys(&client, &bucket).await.is_empty(),
        "check writes nothing"
    );
}

#[tokio::test]
async fn uploads_retry_on_slowdown_and_server_errors() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let proxy = proxy::Proxy::start(4, &[]);
    let report = generated_report().to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = run_in(
        tmp.path(),
        &s3_args(
            &bucket,
            &proxy.url,
            &["--report", report, "--project", "p", "--run-id", "flaky"],
        ),
    );
    let faults = proxy.stats()["put5xx"].as_u64().unwrap_or(0);
    drop(proxy);
    ok(&out);
    assert!(faults >= 10, "the proxy injected {faults} faults");
    let manifest = get_json(&client, &bucket, "reports/p/main/runs/index.json").await;
    let files = manifest["runs"][0]["files"].as_u64().unwrap();
    let stored = keys(&client, &bucket)
        .await
        .iter()
        .filter(|k| k.starts_with("reports/p/main/flaky/"))
        .count() as u64;
    assert_eq!(stored, files, "every file landed despite the faults");
}
