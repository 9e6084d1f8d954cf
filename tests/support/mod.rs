//! Test harness: a real moto server on a free loopback port (one per test
//! binary), the real Allure CLI, and helpers to run the real binary.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn examples() -> PathBuf {
    repo().join("examples/allure-results")
}

pub fn allure_bin() -> PathBuf {
    let bin = std::env::var_os("ALLURE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("engines/allure2/node_modules/.bin/allure"));
    assert!(
        bin.is_file(),
        "Allure CLI missing at {}: run `npm ci --prefix engines/allure2` (bash .ci/run does)",
        bin.display()
    );
    bin
}

/// Allure 3 as `npm ci` installs it from engines/allure3 (with Node.js 22).
pub fn allure3_home() -> PathBuf {
    let home = std::env::var_os("ALLURE3_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("engines/allure3"));
    assert!(
        home.join("node_modules/allure/package.json").is_file(),
        "Allure 3 missing in {}: run `npm ci --prefix engines/allure3` (bash .ci/run does)",
        home.display()
    );
    home
}

/// The moto server's base URL, started on first use. A watchdog shell stops
/// it when this test process exits. It is moto with the CloudFront rules AWS
/// enforces and moto leaves out (`tests/support/moto_server.py`).
pub fn moto() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let python = moto_python();
        assert!(
            python.is_file(),
            "the venv with moto is missing at {}: run bash .ci/run",
            python.display()
        );
        let server = format!(
            "{} {}",
            python.display(),
            repo().join("tests/support/moto_server.py").display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let script = format!(
            "{} -H 127.0.0.1 -p {port} >/dev/null 2>&1 & child=$!; \
             while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $child",
            server,
            parent = std::process::id()
        );
        // The watchdog outlives this function by design; it exits with us.
        let watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .spawn()
            .expect("start moto");
        std::mem::forget(watchdog);
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start on {url}");
            std::thread::sleep(Duration::from_millis(100));
        }
        url
    })
}

/// The venv's Python, which has moto.
pub fn moto_python() -> PathBuf {
    std::env::var_os("MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/python"))
}

pub fn unique(name: &str) -> String {
    format!("{name}-{:08x}", fastrand::u32(..))
}

/// An S3 client for checking what the binary wrote.
pub async fn s3() -> aws_sdk_s3::Client {
    let creds = aws_sdk_s3::config::Credentials::new("test", "test", None, None, "tests");
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(moto())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

pub async fn bucket(client: &aws_sdk_s3::Client) -> String {
    let name = unique("reports");
    client.create_bucket().bucket(&name).send().await.unwrap();
    name
}

pub async fn keys(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        out.extend(
            page.unwrap()
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
    }
    out.sort();
    out
}

pub async fn get(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e:?}"));
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

pub async fn get_json(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> serde_json::Value {
    serde_json::from_slice(&get(client, bucket, key).await).unwrap()
}

/// `allure-host <args>` in `dir`, with a clean CI-free environment.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    command_in(dir, args).output().expect("run allure-host")
}

/// The command `run_in` runs, to start several at once.
pub fn command_in(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_allure-host"));
    cmd.args(args).current_dir(dir).stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("GITHUB_")
            || k.starts_with("ALLURE_")
            || k.starts_with("AWS_")
            || k == "GIT_BRANCH"
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("ALLURE_BIN", allure_bin())
        .env("ALLURE3_HOME", allure3_home())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

pub fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "allure-host failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

pub fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected failure, got success:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `allure-host publish` of the generated report to `bucket` at `endpoint`
/// (moto, or a proxy in front of it), as run `run` of project "p", branch "main".
pub fn publish_report(dir: &Path, endpoint: &str, bucket: &str, run: &str) -> Command {
    let report = generated_report().to_str().unwrap();
    command_in(
        dir,
        &[
            "publish",
            "--bucket",
            bucket,
            "--s3-endpoint",
            endpoint,
            "--report",
            report,
            "--project",
            "p",
            "--branch",
            "main",
            "--run-id",
            run,
        ],
    )
}

/// Generate a report once with the real Allure CLI (for --report tests).
pub fn generated_report() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(unique("allure-host-report"));
        let status = Command::new(allure_bin())
            .arg("generate")
            .arg(examples())
            .arg("-o")
            .arg(&dir)
            .arg("--clean")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        dir
    })
}
pub mod action;
