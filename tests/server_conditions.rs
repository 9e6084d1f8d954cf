//! What a server honours, measured and acted on: the real binary against
//! s3rver (ignores conditional writes), s3s-fs and moto (keep them one
//! request at a time; racing writers can both win), and
//! listings broken by the fault proxy in front of moto.
#![cfg(feature = "integration")]

#[path = "support/proxy.rs"]
mod proxy;
mod support;

use std::process::Output;

use proxy::Proxy;
use serde_json::Value;
use support::*;

use allure_host::model::server::{RECORD_PREFIX, record_key};

fn is_record(key: &str) -> bool {
    key.starts_with(RECORD_PREFIX)
}

/// `allure-host <command> ... --bucket B --s3-endpoint URL` against `server`.
fn run_on(server: &Server, bucket: &str, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut all = args.to_vec();
    all.extend(["--bucket", bucket, "--s3-endpoint", &server.url]);
    command_on(server, dir.path(), &all).output().unwrap()
}

/// A publish of the generated report as run `run` of p / main.
fn publish(server: &Server, bucket: &str, run: &str, extra: &[&str]) -> Output {
    let report = generated_report().to_str().unwrap();
    let mut args = vec![
        "publish",
        "--report",
        report,
        "--project",
        "p",
        "--branch",
        "main",
        "--run-id",
        run,
    ];
    args.extend(extra);
    run_on(server, bucket, &args)
}

/// Everything the command printed, stdout then stderr.
fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn succeeded(out: &Output) -> String {
    let text = printed(out);
    assert!(out.status.success(), "{text}");
    text
}

fn refused(out: &Output) -> String {
    let text = printed(out);
    assert!(!out.status.success(), "{text}");
    text
}

async fn fresh_bucket(server: &Server) -> (aws_sdk_s3::Client, String) {
    let client = s3_client(server).await;
    let bucket = bucket_on(&client).await;
    (client, bucket)
}

/// A fresh bucket on moto, and moto behind the fault proxy with `faults`:
/// the client reaches moto straight, the command through the proxy.
async fn moto_behind(faults: &[&str]) -> (aws_sdk_s3::Client, String, Proxy, Server) {
    let (client, bucket) = fresh_bucket(&Server::moto()).await;
    let proxy = Proxy::start(0, faults);
    let server = Server::moto().behind(&proxy.url);
    (client, bucket, proxy, server)
}

/// `(capability, honoured)` as the bucket's record keeps them.
async fn recorded(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<(String, bool)> {
    let records: Vec<String> = keys(client, bucket)
        .await
        .into_iter()
        .filter(|k| is_record(k))
        .collect();
    assert_eq!(records.len(), 1, "one endpoint, one record: {records:?}");
    let record: Value = serde_json::from_slice(&get(client, bucket, &records[0]).await).unwrap();
    record["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["capability"].as_str().unwrap().to_string(),
                f["honoured"].as_bool().unwrap(),
            )
        })
        .collect()
}

const CONDITIONS_IGNORED: &str = "does not honour conditional writes";

/// The status of each capability row `publish --check` printed.
fn check_rows(stdout: &str) -> Vec<(String, String)> {
    [
        "conditional create",
        "conditional update",
        "racing writers",
        "listing pages",
        "batch delete",
    ]
    .iter()
    .map(|name| {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row:\n{stdout}"));
        let status = line[name.len()..].split_whitespace().next().unwrap();
        (name.to_string(), status.to_string())
    })
    .collect()
}

#[tokio::test]
async fn the_probe_tells_the_servers_apart_and_a_check_keeps_nothing() {
    // moto and s3s-fs check, then write: their races may or may not be
    // lost in one probe, and a lost one warns. s3rver is not raced.
    for (server, conditions, races) in [
        (Server::moto(), "ok", ["ok", "warn"]),
        (Server::s3s(), "ok", ["ok", "warn"]),
        (Server::s3rver(), "FAIL", ["FAIL", "FAIL"]),
    ] {
        let (client, bucket) = fresh_bucket(&server).await;
        let report = generated_report().to_str().unwrap();
        let out = run_on(
            &server,
            &bucket,
            &["publish", "--check", "--report", report],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let rows = check_rows(&stdout);
        let want = [
            ("conditional create", [conditions; 2]),
            ("conditional update", [conditions; 2]),
            ("racing writers", races),
            ("listing pages", ["ok"; 2]),
            ("batch delete", ["ok"; 2]),
        ];
        for ((name, status), (want_name, allowed)) in rows.iter().zip(want) {
            assert_eq!(name, want_name);
            assert!(
                allowed.contains(&status.as_str()),
                "{}: {name} {status}, not {allowed:?}:\n{stdout}",
                server.name
            );
        }
        assert!(
            keys(&client, &bucket).await.is_empty(),
            "{}: a check keeps nothing",
            server.name
        );
    }
}

/// moto and s3s-fs check a condition, then write: a race may let two
/// writers through, or may not. What they say of it, either way.
fn race_told(server: &Server, text: &str, record: &[(String, bool)]) {
    let raced = record
        .iter()
        .find(|(c, _)| c == "racing-writers")
        .map(|(_, h)| *h)
        .unwrap_or_else(|| panic!("{}: no racing-writers finding {record:?}", server.name));
    let cautioned = text.contains("not under a race");
    assert_eq!(cautioned, !raced, "{}: {text}", server.name);
    let warnings = text.matches("warning").count();
    assert_eq!(warnings, usize::from(cautioned), "{}: {text}", server.name);
}

#[tokio::test]
async fn servers_that_honour_conditions_publish_warning_at_most_of_a_race() {
    for server in [Server::moto(), Server::s3s()] {
        let (client, bucket) = fresh_bucket(&server).await;
        let text = succeeded(&publish(&server, &bucket, "r1", &[]));
        assert!(text.contains("Measured the server"), "{text}");
        let record = recorded(&client, &bucket).await;
        race_told(&server, &text, &record);
        assert!(
            record
                .iter()
                .filter(|(c, _)| c != "racing-writers")
                .all(|(_, h)| *h),
            "{}: {record:?}",
            server.name
        );
        assert!(
            !keys(&client, &bucket)
                .await
                .iter()
                .any(|k| k.starts_with("~allure-host/probe/")),
            "the probe's scratch keys are removed"
        );
        // The caution is told when the server is measured, not on each write.
        let again = succeeded(&publish(&server, &bucket, "r2", &[]));
        assert!(!again.contains("warning"), "{}: {again}", server.name);
    }
}

#[tokio::test]
async fn on_s3rver_a_publish_refuses_without_the_opt_in_and_writes_no_report() {
    let server = Server::s3rver();
    let (client, bucket) = fresh_bucket(&server).await;
    let text = refused(&publish(&server, &bucket, "r1", &[]));
    for needed in [
        CONDITIONS_IGNORED,
        "a second create of one key with If-None-Match: * succeeded",
        "mix their files",
        "manifest rows",
        "Nothing was written",
        "--unsafe-no-conditional-writes",
    ] {
        assert!(text.contains(needed), "{needed:?} missing:\n{text}");
    }
    // Only the measurement is kept, so the next writer reads it.
    assert_eq!(keys(&client, &bucket).await, [record_key(&server.url)]);
    let findings = recorded(&client, &bucket).await;
    assert_eq!(
        findings,
        [
            ("conditional-create".to_string(), false),
            ("conditional-update".to_string(), false),
            ("racing-writers".to_string(), false),
            ("paging".to_string(), true),
            ("batch-delete".to_string(), true),
        ]
    );
    // A refusal never rests on a record alone: the next one measures again.
    let text = refused(&publish(&server, &bucket, "r1", &[]));
    assert!(text.contains("Measured the server"), "{text}");
    assert_eq!(keys(&client, &bucket).await, [record_key(&server.url)]);
}

#[tokio::test]
async fn with_the_opt_in_s3rver_publishes_with_one_warning_and_is_measured_once() {
    let server = Server::s3rver();
    let (client, bucket) = fresh_bucket(&server).await;
    let first = succeeded(&publish(
        &server,
        &bucket,
        "r1",
        &["--unsafe-no-conditional-writes"],
    ));
    assert_eq!(first.matches(CONDITIONS_IGNORED).count(), 1, "{first}");
    assert!(first.contains("Measured the server"), "{first}");
    let record = client
        .head_object()
        .bucket(&bucket)
        .key(record_key(&server.url))
        .send()
        .await
        .unwrap();

    // The setting from the environment, as the action passes it.
    let dir = tempfile::tempdir().unwrap();
    let report = generated_report().to_str().unwrap();
    let second = command_on(
        &server,
        dir.path(),
        &[
            "publish",
            "--report",
            report,
            "--project",
            "p",
            "--branch",
            "main",
            "--run-id",
            "r2",
            "--bucket",
            &bucket,
            "--s3-endpoint",
            &server.url,
        ],
    )
    .env("ALLURE_UNSAFE_NO_CONDITIONAL_WRITES", "true")
    .output()
    .unwrap();
    let second = succeeded(&second);
    assert_eq!(second.matches(CONDITIONS_IGNORED).count(), 1, "{second}");
    assert!(
        !second.contains("Measured the server"),
        "measured once per bucket: {second}"
    );
    let again = client
        .head_object()
        .bucket(&bucket)
        .key(record_key(&server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(again.e_tag(), record.e_tag(), "the record is not rewritten");
    let manifest = get_json(&client, &bucket, "reports/p/main/runs/index.json").await;
    let runs: Vec<&str> = manifest["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(runs.len(), 2, "{manifest}");
    assert!(runs.contains(&"r1") && runs.contains(&"r2"), "{manifest}");
}

#[tokio::test]
async fn each_endpoint_of_a_bucket_is_measured_once_and_kept() {
    let direct = Server::moto();
    let (client, bucket) = fresh_bucket(&direct).await;
    let proxy = Proxy::start(0, &[]);
    let proxied = Server::moto().behind(&proxy.url);
    let mut measured = Vec::new();
    for (server, run) in [
        (&direct, "r1"),
        (&proxied, "r2"),
        (&direct, "r3"),
        (&proxied, "r4"),
    ] {
        let text = succeeded(&publish(server, &bucket, run, &[]));
        measured.push(text.contains("Measured the server"));
    }
    assert_eq!(measured, [true, true, false, false]);
    let mut records: Vec<String> = keys(&client, &bucket)
        .await
        .into_iter()
        .filter(|k| is_record(k))
        .collect();
    records.sort();
    let mut want = vec![record_key(&direct.url), record_key(&proxy.url)];
    want.sort();
    assert_eq!(records, want);
}

#[tokio::test]
async fn a_missing_key_answered_403_is_measured_through_the_listing() {
    // AWS S3 answers a GET of a missing key with 403 to a publisher whose
    // policy lists only the probe's folder, as `infra policy` prints it.
    let (client, bucket, proxy, server) = moto_behind(&["missing403:allure-host/:-1"]).await;
    let first = succeeded(&publish(&server, &bucket, "r1", &[]));
    assert!(first.contains("Measured the server"), "{first}");
    assert!(proxy.stats()["missing403"].as_u64().unwrap() > 0);
    let record = recorded(&client, &bucket).await;
    assert!(
        record.contains(&("batch-delete".to_string(), true)),
        "{record:?}"
    );
    let second = succeeded(&publish(&server, &bucket, "r2", &[]));
    assert!(!second.contains("Measured the server"), "{second}");
}

#[tokio::test]
async fn a_password_in_the_endpoint_is_never_printed_or_kept() {
    let secret = "SUPERSECRET";
    let moto = Server::moto();
    let (client, bucket) = fresh_bucket(&moto).await;
    let hidden = moto.url.replace("http://", &format!("http://ak:{secret}@"));
    let with_secret = Server::moto().behind(&hidden);
    let report = generated_report().to_str().unwrap();
    let check = run_on(
        &with_secret,
        &bucket,
        &["publish", "--check", "--report", report],
    );
    let published = publish(&with_secret, &bucket, "r1", &[]);
    let nowhere = Server::moto().behind(&format!("http://ak:{secret}@127.0.0.1:1"));
    let unreachable = publish(&nowhere, &bucket, "r2", &[]);
    assert_eq!(unreachable.status.code(), Some(2), "an error of the tool");
    for out in [&check, &published, &unreachable] {
        let text = printed(out);
        assert!(!text.contains(secret), "{text}");
    }
    assert!(printed(&unreachable).contains("http://127.0.0.1:1"));
    for key in keys(&client, &bucket).await {
        assert!(!key.contains(secret), "{key}");
        let body = get(&client, &bucket, &key).await;
        assert!(!String::from_utf8_lossy(&body).contains(secret), "{key}");
    }
}

#[tokio::test]
async fn a_retry_that_meets_its_own_write_is_not_taken_for_a_refusal() {
    // The probe's first create lands, its answer is lost (503), and the
    // SDK's retry is refused by the write itself.
    let (client, bucket, proxy, server) =
        moto_behind(&["putlost:probe%2F:1", "putlost:probe/:1"]).await;
    let text = succeeded(&publish(&server, &bucket, "r1", &[]));
    assert!(text.contains("Measured the server"), "{text}");
    let lost = proxy.stats()["putlost"].as_u64().unwrap_or(0);
    assert!(lost >= 1, "{}", proxy.stats());
    let record = recorded(&client, &bucket).await;
    assert!(
        record.contains(&("conditional-create".to_string(), true)),
        "{record:?}"
    );
}

#[tokio::test]
async fn a_refusal_that_lands_anyway_is_caught() {
    // 412 is answered, but the write went through without its condition.
    let (client, bucket, _proxy, server) = moto_behind(&["put412anyway:/cas:-1"]).await;
    let text = refused(&publish(&server, &bucket, "r1", &[]));
    assert!(text.contains("answered 412, and landed anyway"), "{text}");
    assert!(
        keys(&client, &bucket).await.iter().all(|k| is_record(k)),
        "nothing but the record"
    );
}

#[tokio::test]
async fn a_record_that_would_refuse_is_measured_again_before_it_refuses() {
    // Any writer of the bucket can write the record: one saying the
    // listing pages wrongly must not stop a server that pages well.
    let server = Server::moto();
    let (client, bucket) = fresh_bucket(&server).await;
    succeeded(&publish(&server, &bucket, "r1", &[]));
    let key = record_key(&server.url);
    let mut record: Value = serde_json::from_slice(&get(&client, &bucket, &key).await).unwrap();
    for finding in record["findings"].as_array_mut().unwrap() {
        if finding["capability"] == "paging" {
            finding["honoured"] = Value::Bool(false);
            finding["detail"] = Value::from("forged");
        }
    }
    client
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .body(serde_json::to_vec(&record).unwrap().into())
        .send()
        .await
        .unwrap();
    let text = succeeded(&publish(&server, &bucket, "r2", &[]));
    assert!(text.contains("Measured the server"), "{text}");
    assert!(
        recorded(&client, &bucket)
            .await
            .contains(&("paging".to_string(), true)),
        "the measurement replaced the forged record"
    );
}

#[tokio::test]
async fn an_endpoint_from_the_sdk_environment_is_measured_not_taken_for_aws() {
    // The SDK finds an endpoint without --s3-endpoint in its environment
    // or profile; the server behind it is measured as itself.
    let server = Server::s3rver();
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("aws-config");
    std::fs::write(
        &profile,
        format!("[default]\nendpoint_url = {}\n", server.url),
    )
    .unwrap();
    let profile = profile.to_str().unwrap();
    let ways = [
        ("AWS_ENDPOINT_URL_S3", server.url.as_str()),
        ("AWS_ENDPOINT_URL", server.url.as_str()),
        ("AWS_CONFIG_FILE", profile),
    ];
    for (variable, value) in ways {
        let (client, bucket) = fresh_bucket(&server).await;
        let report = generated_report().to_str().unwrap();
        let args = [
            "publish",
            "--report",
            report,
            "--project",
            "p",
            "--branch",
            "main",
            "--run-id",
            "r1",
            "--bucket",
            &bucket,
        ];
        let out = command_on(&server, dir.path(), &args)
            .env(variable, value)
            .output()
            .unwrap();
        let text = refused(&out);
        let named = format!("{} {CONDITIONS_IGNORED}", server.url);
        assert!(text.contains(&named), "{variable}: {text}");
        assert!(
            keys(&client, &bucket)
                .await
                .iter()
                .all(|k| k.starts_with("~allure-host/")),
            "{variable}: no report is written"
        );
    }
}

#[tokio::test]
async fn a_server_failing_during_the_probe_records_nothing() {
    let (client, bucket, _proxy, server) = moto_behind(&["get500:/cas:-1"]).await;
    let text = refused(&publish(&server, &bucket, "r1", &[]));
    assert!(text.contains("try again later"), "{text}");
    assert!(!text.contains("does not honour"), "{text}");
    assert_eq!(
        keys(&client, &bucket).await,
        Vec::<String>::new(),
        "no record, no scratch key, no report"
    );
}

#[tokio::test]
async fn the_same_id_race_on_s3rver_is_refused_before_any_upload() {
    let server = Server::s3rver();
    let (client, bucket) = fresh_bucket(&server).await;
    let report = generated_report().to_str().unwrap();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let racers: Vec<_> = dirs
        .iter()
        .map(|dir| {
            command_on(
                &server,
                dir.path(),
                &[
                    "publish",
                    "--report",
                    report,
                    "--project",
                    "p",
                    "--branch",
                    "main",
                    "--run-id",
                    "same",
                    "--bucket",
                    &bucket,
                    "--s3-endpoint",
                    &server.url,
                ],
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for racer in racers {
        let out = racer.wait_with_output().unwrap();
        let text = refused(&out);
        assert!(text.contains(CONDITIONS_IGNORED), "{text}");
    }
    let written = keys(&client, &bucket).await;
    assert!(
        written.iter().all(|k| is_record(k)),
        "no folder, no manifest: {written:?}"
    );
}

#[tokio::test]
async fn prune_on_s3rver_refuses_without_the_opt_in() {
    let server = Server::s3rver();
    let (client, bucket) = fresh_bucket(&server).await;
    for run in ["r1", "r2"] {
        succeeded(&publish(
            &server,
            &bucket,
            run,
            &["--unsafe-no-conditional-writes"],
        ));
    }
    let before = keys(&client, &bucket).await;
    let prune = ["prune", "--project", "p", "--keep", "1", "--yes"];
    let text = refused(&run_on(&server, &bucket, &prune));
    assert!(text.contains(CONDITIONS_IGNORED), "{text}");
    assert_eq!(keys(&client, &bucket).await, before, "nothing deleted");

    let mut accepted = prune.to_vec();
    accepted.push("--unsafe-no-conditional-writes");
    let text = succeeded(&run_on(&server, &bucket, &accepted));
    assert_eq!(text.matches(CONDITIONS_IGNORED).count(), 1, "{text}");
    assert!(
        !keys(&client, &bucket)
            .await
            .iter()
            .any(|k| k.starts_with("reports/p/main/r1/")),
        "the older run is pruned"
    );
}

/// Three runs of p / main on moto, published directly.
async fn three_runs() -> (aws_sdk_s3::Client, String) {
    let server = Server::moto();
    let (client, bucket) = fresh_bucket(&server).await;
    for run in ["r1", "r2", "r3"] {
        succeeded(&publish(&server, &bucket, run, &[]));
    }
    (client, bucket)
}

/// Every key with its ETag: what a prune must leave exactly as it was.
async fn snapshot(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for key in keys(client, bucket).await {
        let head = client.head_object().bucket(bucket).key(&key).send().await;
        out.push((key, head.unwrap().e_tag().unwrap_or_default().to_string()));
    }
    out
}

#[tokio::test]
async fn prune_stops_on_a_listing_that_misbehaves_and_deletes_nothing() {
    // The branch's listings go through the fault; the probe's do not.
    let branch = "prefix=reports%2Fp%2Fmain";
    for (fault, said) in [
        ("listrepeat", "repeats the continuation token"),
        ("listnotoken", "gives no continuation token"),
        ("listloop", "repeats the key"),
        ("listforeign", "not under the prefix"),
    ] {
        let (client, bucket) = three_runs().await;
        let proxy = Proxy::start(0, &[&format!("{fault}:{branch}:-1:2")]);
        let before = snapshot(&client, &bucket).await;
        let out = run_on(
            &Server::moto().behind(&proxy.url),
            &bucket,
            &["prune", "--project", "p", "--keep", "1", "--yes"],
        );
        let text = refused(&out);
        assert!(text.contains(said), "{fault}: {text}");
        assert!(
            text.contains("nothing was done with a partial listing"),
            "{text}"
        );
        // The proxy is another endpoint, so the server was measured again.
        let after: Vec<_> = snapshot(&client, &bucket)
            .await
            .into_iter()
            .filter(|(k, _)| !is_record(k))
            .collect();
        let before: Vec<_> = before.into_iter().filter(|(k, _)| !is_record(k)).collect();
        assert_eq!(after, before, "{fault}: prune changed nothing");
        assert!(proxy.stats()[fault].as_u64().unwrap() > 0, "{fault}");
    }
}

#[tokio::test]
async fn a_server_whose_listing_repeats_its_token_is_refused_even_with_the_opt_in() {
    let (client, bucket, _proxy, server) =
        moto_behind(&["listrepeat:allure-host%2Fprobe:-1:1"]).await;
    let text = refused(&publish(
        &server,
        &bucket,
        "r1",
        &["--unsafe-no-conditional-writes"],
    ));
    assert!(
        text.contains("cannot be trusted to list or delete"),
        "{text}"
    );
    assert!(text.contains("listing pages: page 2 repeats"), "{text}");
    let written = keys(&client, &bucket).await;
    assert!(written.iter().all(|k| is_record(k)), "{written:?}");
    let report = generated_report().to_str().unwrap();
    let check = run_on(
        &server,
        &bucket,
        &["publish", "--check", "--report", report],
    );
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        check_rows(&stdout).contains(&("listing pages".into(), "FAIL".into())),
        "{stdout}"
    );
}
