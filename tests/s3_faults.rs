//! S3 faults beyond a 503 on PUT, through the fault proxy to moto over real
//! HTTP: a connection reset mid-body, a server that stalls past the
//! client's timeout, a 500 on the manifest read, and DeleteObjects answers
//! that report per-key errors.
#![cfg(feature = "integration")]

#[path = "support/proxy.rs"]
mod proxy;
mod support;

use std::time::{Duration, Instant};

use proxy::Proxy;
use serde_json::Value;
use support::*;

fn publish_via(
    dir: &std::path::Path,
    endpoint: &str,
    bucket: &str,
    run: &str,
) -> std::process::Output {
    publish_report(dir, endpoint, bucket, run)
        .output()
        .expect("run allure-host")
}

/// Every run the manifest lists has all its files; the listed ids.
async fn complete_runs(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let all = keys(client, bucket).await;
    let manifest = get_json(client, bucket, "reports/p/main/runs/index.json").await;
    let mut ids = Vec::new();
    for row in manifest["runs"].as_array().unwrap() {
        let id = row["run_id"].as_str().unwrap();
        let prefix = format!("reports/p/main/{id}/");
        let stored = all.iter().filter(|k| k.starts_with(&prefix)).count() as u64;
        assert_eq!(Some(stored), row["files"].as_u64(), "run {id} is complete");
        ids.push(id.to_string());
    }
    ids
}

fn count(stats: &Value, kind: &str) -> u64 {
    stats[kind].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_retried_and_every_file_lands() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(0, &["reset:/reports/p/main/reset/:6"]);
    let out = publish_via(tmp.path(), &proxy.url, &bucket, "reset");
    ok(&out);
    assert_eq!(
        count(&proxy.stats(), "reset"),
        6,
        "six uploads were cut mid-body"
    );
    assert_eq!(complete_runs(&client, &bucket).await, ["reset"]);
}

#[tokio::test]
async fn a_server_stalled_past_the_timeout_is_cut_off_and_the_request_retried() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    // The first upload of this file gets no answer for a minute.
    let proxy = Proxy::start(0, &["stall:/stalled/widgets/summary.json:1:60"]);
    let t = Instant::now();
    let out = publish_via(tmp.path(), &proxy.url, &bucket, "stalled");
    let took = t.elapsed();
    ok(&out);
    assert_eq!(count(&proxy.stats(), "stall"), 1);
    println!("a publish with one stalled upload took {took:?}");
    assert!(
        took >= Duration::from_secs(19) && took < Duration::from_secs(50),
        "the stalled attempt was cut off after the 20 s first-byte timeout, not waited out: {took:?}"
    );
    assert_eq!(complete_runs(&client, &bucket).await, ["stalled"]);
}

#[tokio::test]
async fn a_500_on_the_manifest_read_is_retried_and_never_taken_for_no_manifest() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    ok(&publish_via(tmp.path(), moto(), &bucket, "r1"));

    // A few 500s: retried; the publish adds to the runs already listed.
    let proxy = Proxy::start(0, &["get500:/reports/p/main/runs/index.json:3"]);
    ok(&publish_via(tmp.path(), &proxy.url, &bucket, "r2"));
    assert_eq!(count(&proxy.stats(), "get500"), 3);
    assert_eq!(complete_runs(&client, &bucket).await, ["r2", "r1"]);
    drop(proxy);

    // Nothing but 500s: the publish fails, naming the read, and writes
    // nothing; the manifest is not replaced by a fresh one.
    let before = reports(&client, &bucket).await;
    let proxy = Proxy::start(0, &["get500:/reports/p/main/runs/index.json:-1"]);
    let err = failed(&publish_via(tmp.path(), &proxy.url, &bucket, "r3"));
    assert!(err.contains("GetObject"), "{err}");
    assert!(err.contains("runs/index.json"), "{err}");
    assert!(err.contains("InternalError"), "{err}");
    assert!(
        count(&proxy.stats(), "get500") >= 8,
        "every attempt was made"
    );
    assert_eq!(
        reports(&client, &bucket).await,
        before,
        "nothing was written"
    );
    assert_eq!(complete_runs(&client, &bucket).await, ["r2", "r1"]);
}

/// Every key but the server records (each new proxy is an endpoint of its
/// own, measured once and recorded before the publish starts).
async fn reports(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    keys(client, bucket)
        .await
        .into_iter()
        .filter(|k| !k.starts_with("~allure-host/server/"))
        .collect()
}

fn prune_via(endpoint: &str, bucket: &str) -> std::process::Output {
    run_in(
        &std::env::temp_dir(),
        &[
            "prune",
            "--bucket",
            bucket,
            "--s3-endpoint",
            endpoint,
            "--project",
            "p",
            "--keep",
            "1",
            "--yes",
        ],
    )
}

#[tokio::test]
async fn delete_objects_key_errors_are_retried_then_every_remaining_key_is_named() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let tmp = tempfile::tempdir().unwrap();
    for run in ["d1", "d2"] {
        ok(&publish_via(tmp.path(), moto(), &bucket, run));
    }
    // Each key of d1 fails twice, then goes: the prune retries and completes.
    let files_d1 = keys(&client, &bucket)
        .await
        .iter()
        .filter(|k| k.starts_with("reports/p/main/d1/"))
        .count() as u64;
    let proxy = Proxy::start(0, &[&format!("delete:/main/d1/:{}", files_d1 * 2)]);
    ok(&prune_via(&proxy.url, &bucket));
    assert_eq!(count(&proxy.stats(), "delete"), files_d1 * 2);
    let left = keys(&client, &bucket).await;
    assert!(
        !left.iter().any(|k| k.contains("/main/d1/")),
        "every key of d1 went after the retries: {left:?}"
    );
    assert_eq!(complete_runs(&client, &bucket).await, ["d2"]);
    drop(proxy);

    // Two keys of d2 never go: the prune fails and names both; the rest go.
    ok(&publish_via(tmp.path(), moto(), &bucket, "d3"));
    let stuck = [
        "reports/p/main/d2/index.html",
        "reports/p/main/d2/widgets/summary.json",
    ];
    let proxy = Proxy::start(
        0,
        &[
            "delete:/main/d2/index.html:-1",
            "delete:/main/d2/widgets/summary.json:-1",
        ],
    );
    let err = failed(&prune_via(&proxy.url, &bucket));
    assert!(err.contains("2 keys were not deleted"), "{err}");
    for key in stuck {
        assert!(err.contains(key), "{key} is named: {err}");
    }
    assert!(err.contains("InternalError"), "{err}");
    let left = keys(&client, &bucket).await;
    let d2: Vec<&String> = left.iter().filter(|k| k.contains("/main/d2/")).collect();
    assert_eq!(d2, stuck, "only the keys that failed are left");
}

/// A copy of the generated report with `n` files of `size` bytes in data/.
fn report_with_big_files(tmp: &std::path::Path, n: usize, size: usize) -> std::path::PathBuf {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let dest = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &dest);
            } else {
                std::fs::copy(e.path(), dest).unwrap();
            }
        }
    }
    let report = tmp.join("report");
    copy(generated_report(), &report);
    for i in 0..n {
        let body: Vec<u8> = (0..size).map(|_| fastrand::u8(..)).collect();
        std::fs::write(report.join(format!("data/big-{i}.bin")), body).unwrap();
    }
    report
}

#[test]
fn uploads_sharing_a_slow_uplink_are_waited_for_not_cut_off() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(s3());
    let bucket = rt.block_on(bucket(&client));
    let tmp = tempfile::tempdir().unwrap();
    // 8 x 256 KiB through a 64 KiB/s uplink, all at once: 32 s in all,
    // each file 2 s worth at the slowest rate a lone upload is allowed.
    let report = report_with_big_files(tmp.path(), 8, 256 * 1024);
    let proxy = Proxy::start(0, &["slow:/slowlink/data/big-:-1:64"]);
    let t = Instant::now();
    let out = command_in(
        tmp.path(),
        &[
            "publish",
            "--bucket",
            &bucket,
            "--s3-endpoint",
            &proxy.url,
            "--report",
            report.to_str().unwrap(),
            "--project",
            "p",
            "--branch",
            "main",
            "--run-id",
            "slowlink",
            "--concurrency",
            "16",
        ],
    )
    .output()
    .unwrap();
    println!("a publish over a 64 KiB/s uplink took {:?}", t.elapsed());
    ok(&out);
    assert_eq!(
        count(&proxy.stats(), "slow"),
        8,
        "each big file was sent once, none cut off and sent again"
    );
    assert_eq!(rt.block_on(complete_runs(&client, &bucket)), ["slowlink"]);
}
