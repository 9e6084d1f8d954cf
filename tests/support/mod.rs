//! Test harness: real S3 servers on free loopback ports (one of each per test
//! binary, started on first use: moto, s3rver, s3s-fs), the real Allure CLI,
//! and helpers to run the real binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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
        let port = free_port();
        let server = repo().join("tests/support/moto_server.py");
        let port_arg = port.to_string();
        start_watched(
            "moto",
            &[
                python.as_os_str(),
                server.as_os_str(),
                "-H".as_ref(),
                "127.0.0.1".as_ref(),
                "-p".as_ref(),
                port_arg.as_ref(),
            ],
            None,
            port,
        )
    })
}

/// s3rver's base URL, started on first use with its own data directory: a
/// real S3-compatible server that ignores If-None-Match / If-Match. It knows
/// one key pair (S3RVER / S3RVER) and does not check SigV4 signatures.
pub fn s3rver() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let script = repo().join("node_modules/s3rver/bin/s3rver.js");
        assert!(
            script.is_file(),
            "s3rver missing at {}: run `npm ci` in {} (bash .ci/run does)",
            script.display(),
            repo().display()
        );
        let node_ok = Command::new("node")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(node_ok, "s3rver needs `node` (Node.js 20) on PATH");
        let data = data_dir("s3rver");
        let port = free_port();
        let port_arg = port.to_string();
        // Node 17+ refuses the DES cipher s3rver seals its continuation tokens
        // with; without the legacy provider every truncated listing is a 500.
        start_watched(
            "s3rver",
            &[
                "node".as_ref(),
                "--openssl-legacy-provider".as_ref(),
                script.as_os_str(),
                "-d".as_ref(),
                data.as_os_str(),
                "-a".as_ref(),
                "127.0.0.1".as_ref(),
                "-p".as_ref(),
                port_arg.as_ref(),
                "--silent".as_ref(),
            ],
            Some(&data),
            port,
        )
    })
}

/// The s3s-fs server's base URL (bench/s3-server), started on first use with
/// its own root directory: honours conditional writes, checks signatures.
pub fn s3s() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let bin = repo().join("bench/s3-server/target/release/bench-s3-server");
        assert!(
            bin.is_file(),
            "the s3s-fs server is missing at {}: run `cargo build --release --locked \
             --manifest-path bench/s3-server/Cargo.toml` (bash .ci/run does)",
            bin.display()
        );
        let root = data_dir("s3s");
        let port = free_port();
        let port_arg = port.to_string();
        start_watched(
            "s3s-fs",
            &[
                bin.as_os_str(),
                port_arg.as_ref(),
                root.as_os_str(),
                S3S_ACCESS_KEY.as_ref(),
                S3S_SECRET_KEY.as_ref(),
            ],
            Some(&root),
            port,
        )
    })
}

const S3S_ACCESS_KEY: &str = "s3s-test-key";
const S3S_SECRET_KEY: &str = "s3s-test-secret";

/// A free loopback port (free when asked; the server binds it right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A fresh, empty directory for one server's data.
fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(&format!("allure-host-{name}-data")));
    std::fs::create_dir_all(&dir).expect("create a server data directory");
    dir
}

/// Runs `argv` under a watchdog shell that stops it (and removes `data`)
/// when this test process exits; returns its URL once `port` accepts.
fn start_watched(name: &str, argv: &[&std::ffi::OsStr], data: Option<&Path>, port: u16) -> String {
    let script = format!(
        "data=$1; shift; \"$@\" >/dev/null 2>&1 & child=$!; \
         while kill -0 {parent} 2>/dev/null; do sleep 1; done; \
         {{ kill $child; wait $child; }} 2>/dev/null; [ -z \"$data\" ] || rm -rf -- \"$data\"",
        parent = std::process::id()
    );
    let data = data.map(Path::as_os_str).unwrap_or_default();
    // The watchdog outlives this function by design; it exits with us.
    let watchdog = Command::new("sh")
        .args(["-c".as_ref(), script.as_ref(), "sh".as_ref(), data])
        .args(argv)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    std::mem::forget(watchdog);
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{name} did not start on {url}; run it by hand to see why: {argv:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    url
}

/// An S3-compatible server the tests run: where it listens and the one key
/// pair it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub name: &'static str,
    pub url: String,
    pub access_key: &'static str,
    pub secret_key: &'static str,
}

impl Server {
    /// moto: honours conditional writes; any key pair, signatures unchecked.
    pub fn moto() -> Self {
        Self {
            name: "moto",
            url: moto().to_string(),
            access_key: "test",
            secret_key: "test",
        }
    }

    /// s3rver: ignores conditional writes; SigV4 signatures unchecked.
    pub fn s3rver() -> Self {
        Self {
            name: "s3rver",
            url: s3rver().to_string(),
            access_key: "S3RVER",
            secret_key: "S3RVER",
        }
    }

    /// s3s-fs: honours conditional writes, checks signatures.
    pub fn s3s() -> Self {
        Self {
            name: "s3s-fs",
            url: s3s().to_string(),
            access_key: S3S_ACCESS_KEY,
            secret_key: S3S_SECRET_KEY,
        }
    }

    /// The same server's credentials reached at another URL (a proxy in front).
    pub fn behind(&self, url: &str) -> Self {
        Self {
            url: url.to_string(),
            ..self.clone()
        }
    }

    /// Sets this server's key pair on `cmd` (a `command_in` command).
    pub fn credentials_on<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("AWS_ACCESS_KEY_ID", self.access_key)
            .env("AWS_SECRET_ACCESS_KEY", self.secret_key)
    }
}

/// `command_in` with `server`'s key pair, to run the binary against it
/// (the endpoint still goes in the arguments, e.g. `--s3-endpoint`).
pub fn command_on(server: &Server, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = command_in(dir, args);
    server.credentials_on(&mut cmd);
    cmd
}

/// A path-style S3 client for `server`, with checksums only where S3
/// requires them (as the binary does), which every server here accepts.
pub async fn s3_client(server: &Server) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
    let creds = aws_sdk_s3::config::Credentials::new(
        server.access_key,
        server.secret_key,
        None,
        None,
        "tests",
    );
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(&server.url)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
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
    bucket_on(client).await
}

/// A new bucket on `client`'s server; "reports-" and 8 hex digits fit every
/// server's naming rule (s3rver wants 3 to 63 characters).
pub async fn bucket_on(client: &aws_sdk_s3::Client) -> String {
    let name = unique("reports");
    if let Err(e) = client.create_bucket().bucket(&name).send().await {
        panic!(
            "create bucket {name}: {}",
            aws_sdk_s3::error::DisplayErrorContext(&e)
        );
    }
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

pub async fn put(client: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
}

/// The bundled example results, copied into `dest`.
pub fn example_results(dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for e in std::fs::read_dir(examples()).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dest.join(p.file_name().unwrap())).unwrap();
    }
}

/// Set the status of example results in `dir` by their file number
/// (`("04", "failed")` changes `...000000000004-result.json`).
pub fn set_statuses(dir: &Path, statuses: &[(&str, &str)]) {
    for (n, status) in statuses {
        let path = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(&format!("{n}-result.json")))
            .unwrap_or_else(|| panic!("no example result {n}"));
        let mut r: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        r["status"] = (*status).into();
        std::fs::write(&path, serde_json::to_vec(&r).unwrap()).unwrap();
    }
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
pub mod gitlab;
pub mod mock;

/// Run a browser script of tests/support with `args`; what it saw, as JSON.
pub fn browse(script: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new("node")
        .arg(repo().join("tests/support").join(script))
        .args(args)
        .output()
        .expect(
            "node runs the browser script (bash .ci/run installs playwright-core and chromium)",
        );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A running `allure-host serve` on a free port; stopped when dropped.
pub struct Served {
    child: Child,
    pub base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

pub fn serve(site: &Path) -> Served {
    serve_with(site, &[])
}

pub fn serve_with(site: &Path, extra: &[&str]) -> Served {
    let mut args = vec!["serve", site.to_str().unwrap(), "--port", "0"];
    args.extend_from_slice(extra);
    let mut child = command_in(site.parent().unwrap(), &args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut first).unwrap();
    // Keep reading, so the server never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .trim_end_matches('/')
        .to_string();
    Served { child, base }
}
