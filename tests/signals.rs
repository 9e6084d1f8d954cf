//! A publish stopped by SIGTERM or SIGINT at random moments (seeded; the seed
//! is printed, and ALLURE_SIGNAL_SEED replays it): it exits 143 / 130 (or 0
//! when it had finished), within a bounded time, the manifest and latest
//! show only complete runs, and a rerun of the same id right after
//! completes. Under `kill -9` the rerun's refusal tells the truth.
//! The real binary against moto over HTTP.
#![cfg(feature = "integration")]

#[path = "support/proxy.rs"]
mod proxy;
mod support;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use support::action;

use serde_json::Value;
use support::*;

const MOMENTS_PER_SIGNAL: usize = 8;
/// The stop must end within this (the publish's own bound is about 10 s).
const STOP_BOUND: Duration = Duration::from_secs(12);

fn publish(dir: &Path, bucket: &str, run: &str) -> Command {
    publish_via(dir, moto(), bucket, run)
}

fn publish_via(dir: &Path, endpoint: &str, bucket: &str, run: &str) -> Command {
    let mut cmd = publish_report(dir, endpoint, bucket, run);
    // Fewer uploads at once stretch the upload over more moments.
    cmd.args(["--concurrency", "2"]);
    cmd
}

fn start(mut cmd: Command, log: &Path) -> Child {
    let file = std::fs::File::create(log).unwrap();
    cmd.stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .expect("start allure-host")
}

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal}");
}

/// Wait for the exit; its code and how long it took.
fn wait(child: &mut Child, bound: Duration) -> (Option<i32>, Duration) {
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), t.elapsed());
        }
        if t.elapsed() > bound {
            let _ = child.kill();
            panic!("no exit within {bound:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every run the manifest lists has all its files, and latest names one of
/// them. Returns the listed run ids.
fn assert_only_complete_runs(
    rt: &tokio::runtime::Runtime,
    bucket: &str,
    when: &str,
) -> Vec<String> {
    let client = rt.block_on(s3());
    let all = rt.block_on(keys(&client, bucket));
    let manifest_key = "reports/p/main/runs/index.json".to_string();
    if !all.contains(&manifest_key) {
        assert!(
            !all.contains(&"reports/p/main/latest.json".to_string()),
            "{when}: latest without a manifest"
        );
        return Vec::new();
    }
    let manifest = rt.block_on(get_json(&client, bucket, &manifest_key));
    let mut listed = Vec::new();
    for row in manifest["runs"].as_array().unwrap() {
        let id = row["run_id"].as_str().unwrap();
        let prefix = format!("reports/p/main/{id}/");
        let stored = all.iter().filter(|k| k.starts_with(&prefix)).count() as u64;
        assert_eq!(
            Some(stored),
            row["files"].as_u64(),
            "{when}: listed run {id} has all its files"
        );
        listed.push(id.to_string());
    }
    if all.contains(&"reports/p/main/latest.json".to_string()) {
        let pointer = rt.block_on(get_json(&client, bucket, "reports/p/main/latest.json"));
        let id = pointer["run_id"].as_str().unwrap();
        assert!(
            listed.iter().any(|l| l == id),
            "{when}: latest names a listed run"
        );
    }
    listed
}

fn seed() -> u64 {
    std::env::var("ALLURE_SIGNAL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..))
}

/// Wait until the publish says where it publishes: its signal handlers are
/// installed by then (a signal before that point would find the default
/// action, as for any process that has just been started).
fn started(log: &Path) {
    let t = Instant::now();
    while !std::fs::read_to_string(log)
        .unwrap_or_default()
        .contains("Publishing ")
    {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the publish did not start"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// How long an undisturbed publish takes here after it said where it
/// publishes, to spread the moments over (the second one: the first also
/// writes the site's assets).
fn baseline(dir: &Path, bucket: &str) -> Duration {
    generated_report();
    let mut span = Duration::ZERO;
    for run in ["baseline-1", "baseline-2"] {
        let log = dir.join(format!("{run}.log"));
        let mut child = start(publish(dir, bucket, run), &log);
        started(&log);
        let (exit, took) = wait(&mut child, Duration::from_secs(120));
        assert_eq!(exit, Some(0), "{}", std::fs::read_to_string(&log).unwrap());
        span = took;
    }
    span
}

#[test]
fn a_signal_at_any_moment_stops_cleanly_and_the_same_id_reruns_at_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(s3());
    let bucket = rt.block_on(bucket(&client));
    let tmp = tempfile::tempdir().unwrap();
    let seed = seed();
    println!("signal moments: seed {seed} (replay with ALLURE_SIGNAL_SEED={seed})");
    let mut rng = fastrand::Rng::with_seed(seed);
    let span = baseline(tmp.path(), &bucket);
    println!("an undisturbed publish takes {span:?}");
    let mut seen = Vec::new();
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        for k in 0..MOMENTS_PER_SIGNAL {
            let run = format!("{}-{k}", signal.to_lowercase());
            // Stratified: moment k falls in the k-th slice of the publish.
            let slice = span.as_secs_f64() / MOMENTS_PER_SIGNAL as f64;
            let at = Duration::from_secs_f64(slice * (k as f64 + rng.f64()));
            let log = tmp.path().join(format!("{run}.log"));
            let mut child = start(publish(tmp.path(), &bucket, &run), &log);
            started(&log);
            std::thread::sleep(at);
            send(&child, signal);
            let (exit, took) = wait(&mut child, STOP_BOUND);
            let text = std::fs::read_to_string(&log).unwrap();
            let phase = phase(&text, exit);
            println!("SIG{signal} at {at:.2?}: exit {exit:?} after {took:.2?} ({phase})");
            assert!(
                exit == Some(code) || exit == Some(0),
                "SIG{signal} at {at:?}: exit {exit:?}\n{text}"
            );
            let when = format!("after SIG{signal} at {at:?}");
            let listed = assert_only_complete_runs(&rt, &bucket, &when);
            let was_listed = listed.contains(&run);
            assert_eq!(
                was_listed,
                exit == Some(0) || phase == "after listing",
                "{when}: the run is listed exactly when the publish got that far\n{text}"
            );
            // The rerun of the same id, right away.
            let again = publish(tmp.path(), &bucket, &run).output().unwrap();
            if was_listed {
                let err = failed(&again);
                assert!(err.contains("already published"), "{when}: {err}");
            } else {
                ok(&again);
                let listed = assert_only_complete_runs(&rt, &bucket, &when);
                assert!(listed.contains(&run), "{when}: the rerun listed {run}");
            }
            seen.push((phase, took));
        }
    }
    let phases: std::collections::BTreeSet<&str> = seen.iter().map(|(p, _)| *p).collect();
    let slowest = seen.iter().map(|(_, t)| *t).max().unwrap();
    println!(
        "{} moments; phases hit: {phases:?}; slowest stop {slowest:.2?}",
        seen.len()
    );
    assert!(
        phases.len() >= 2,
        "the moments span more than one phase: {phases:?}"
    );
}

/// Which phase the signal found, from the one line the publish printed.
fn phase(text: &str, exit: Option<i32>) -> &'static str {
    if exit == Some(0) {
        return "finished";
    }
    let line = text
        .lines()
        .find(|l| l.starts_with("stopped by SIG"))
        .unwrap_or_else(|| panic!("one line says the publish stopped:\n{text}"));
    if line.contains("before the upload") {
        "before the upload"
    } else if line.contains("while the report was being made") {
        "while the report was made"
    } else if line.contains("during the upload") {
        "during the upload"
    } else if line.contains("after the upload") {
        "after the upload"
    } else if line.contains("was listed") {
        "after listing"
    } else {
        panic!("unknown stop line: {line}")
    }
}

#[test]
fn after_kill_9_the_refusal_tells_when_the_claim_lapses_and_a_free_id() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(s3());
    let bucket = rt.block_on(bucket(&client));
    let tmp = tempfile::tempdir().unwrap();
    // A claim appears before the first upload; kill -9 as soon as it does.
    let log = tmp.path().join("killed.log");
    let mut child = start(publish(tmp.path(), &bucket, "c1"), &log);
    let claim = "reports/p/main/runs/claims/c1.json".to_string();
    let t = Instant::now();
    while !rt.block_on(keys(&client, &bucket)).contains(&claim) {
        assert!(t.elapsed() < Duration::from_secs(30), "no claim appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    send(&child, "KILL");
    child.wait().unwrap();
    // Someone already took c1-2: the suggestion skips claimed ids too.
    let taken = serde_json::json!({"run_id": "c1-2", "token": "x", "state": "uploading",
        "started": chrono::Utc::now().timestamp(), "renewed": chrono::Utc::now().timestamp()});
    rt.block_on(
        client
            .put_object()
            .bucket(&bucket)
            .key("reports/p/main/runs/claims/c1-2.json")
            .body(taken.to_string().into_bytes().into())
            .send(),
    )
    .unwrap();

    let stored: Value = rt.block_on(get_json(&client, &bucket, &claim));
    let renewed = stored["renewed"].as_i64().unwrap();
    let lapses = chrono::DateTime::from_timestamp(renewed + 120, 0)
        .unwrap()
        .format("%H:%M:%S UTC")
        .to_string();
    let out = publish(tmp.path(), &bucket, "c1").output().unwrap();
    let err = failed(&out);
    assert!(err.contains("last renewed its claim"), "{err}");
    assert!(
        err.contains(&format!("at {lapses}")),
        "lapse time {lapses}: {err}"
    );
    let lapses_in = err
        .split("lapses in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or_else(|| panic!("a number of seconds: {err}"));
    assert!((100..=120).contains(&lapses_in), "{err}");
    assert!(err.contains("killed without giving the claim up"), "{err}");
    assert!(
        !err.contains("since"),
        "no 'since N s ago' that reads as a start: {err}"
    );
    assert!(err.contains("use a free id: --run-id c1-3"), "{err}");
    // The suggested id works now.
    ok(&publish(tmp.path(), &bucket, "c1-3").output().unwrap());
}

/// A publish whose report uploads get no answer (through the proxy), signalled
/// once the uploads hang. Returns the child, the log and the client.
fn stalled_publish(
    tmp: &Path,
    bucket: &str,
    run: &str,
    proxy: &proxy::Proxy,
) -> (Child, std::path::PathBuf) {
    let log = tmp.join(format!("{run}.log"));
    let child = start(publish_via(tmp, &proxy.url, bucket, run), &log);
    started(&log);
    let t = Instant::now();
    while proxy.stats()["stall"].as_u64().unwrap_or(0) < 2 {
        assert!(t.elapsed() < Duration::from_secs(30), "no upload stalled");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, log)
}

#[test]
fn uploads_hanging_in_flight_are_cut_off_and_the_stop_stays_bounded() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(s3());
    let bucket = rt.block_on(bucket(&client));
    let tmp = tempfile::tempdir().unwrap();
    generated_report();
    let proxy = proxy::Proxy::start(0, &["stall:/hung/data/:-1:60"]);
    let (mut child, log) = stalled_publish(tmp.path(), &bucket, "hung", &proxy);
    send(&child, "TERM");
    let (exit, took) = wait(&mut child, STOP_BOUND);
    let text = std::fs::read_to_string(&log).unwrap();
    println!("SIGTERM with uploads hanging: exit {exit:?} after {took:.2?}");
    assert_eq!(exit, Some(143), "{text}");
    assert!(
        took >= Duration::from_secs(3) && took <= Duration::from_secs(10),
        "in-flight uploads had their 4 s, then the stop ended: {took:?}\n{text}"
    );
    assert!(text.contains("during the upload"), "{text}");
    let all = rt.block_on(keys(&client, &bucket));
    assert!(
        !all.iter().any(|k| k.starts_with("reports/p/main/hung/")),
        "the uploaded files were removed: {all:?}"
    );
    let claim = rt.block_on(get_json(
        &client,
        &bucket,
        "reports/p/main/runs/claims/hung.json",
    ));
    assert_eq!(claim["state"], "abandoned");
    ok(&publish(tmp.path(), &bucket, "hung").output().unwrap());
}

#[test]
fn a_second_signal_exits_at_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(s3());
    let bucket = rt.block_on(bucket(&client));
    let tmp = tempfile::tempdir().unwrap();
    generated_report();
    let proxy = proxy::Proxy::start(0, &["stall:/twice/data/:-1:60"]);
    let (mut child, log) = stalled_publish(tmp.path(), &bucket, "twice", &proxy);
    send(&child, "INT");
    std::thread::sleep(Duration::from_millis(500));
    send(&child, "INT");
    let (exit, took) = wait(&mut child, STOP_BOUND);
    let text = std::fs::read_to_string(&log).unwrap();
    println!("a second SIGINT: exit {exit:?} after {took:.2?}");
    assert_eq!(exit, Some(130), "{text}");
    assert!(took < Duration::from_secs(1), "at once: {took:?}");
    assert!(text.contains("stopped at once by SIGINT"), "{text}");
    // Its claim stays until the lease lapses; the refusal says so.
    let err = failed(&publish(tmp.path(), &bucket, "twice").output().unwrap());
    assert!(err.contains("lapses in 1"), "{err}");
}

/// The processes whose command line names `marker`, but `except`.
fn processes_naming(marker: &str, except: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let line = String::from_utf8_lossy(&raw).replace('\0', " ");
        if pid != except && line.contains(marker) {
            found.push((pid, line));
        }
    }
    found
}

#[test]
fn a_signal_while_allure_makes_the_report_ends_allure_and_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    // Our own temporary folder: the engine's command line names it.
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let marker = scratch.to_str().unwrap().to_string();
    let results = examples().to_str().unwrap().to_string();
    let args = [
        "publish",
        "--results",
        &results,
        "--local-dir",
        "site",
        "--project",
        "p",
        "--branch",
        "main",
        "--run-id",
        "gen",
    ];
    let mut cmd = command_in(tmp.path(), &args);
    cmd.env("TMPDIR", &scratch);
    let log = tmp.path().join("gen.log");
    let mut child = start(cmd, &log);
    // Signal once Java (the Allure 2 CLI's last process) is at work.
    let t = Instant::now();
    while !processes_naming(&marker, child.id())
        .iter()
        .any(|(_, line)| line.starts_with("java") || line.contains("/java "))
    {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "Allure never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    send(&child, "TERM");
    let (exit, _) = wait(&mut child, STOP_BOUND);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(exit, Some(143), "{text}");
    assert!(
        text.contains("before the upload") || text.contains("while the report was being made"),
        "{text}"
    );
    std::thread::sleep(Duration::from_secs(1));
    let left = processes_naming(&marker, child.id());
    for (pid, _) in &left {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    assert!(left.is_empty(), "Allure outlived the stop: {left:?}");
    let files: Vec<_> = walk(&scratch);
    assert!(files.is_empty(), "left in the temporary folder: {files:?}");
    ok(&run_in(tmp.path(), &args));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        all.push(entry.path());
        if entry.file_type().unwrap().is_dir() {
            all.extend(walk(&entry.path()));
        }
    }
    all
}

#[test]
fn the_action_stopped_by_sigterm_exits_143_and_its_run_id_reruns_at_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(s3());
    let bucket = rt.block_on(bucket(&client));
    let tmp = tempfile::tempdir().unwrap();
    let mock = action::MockGitHub::start(0.0);
    // The action's run id for these runner variables.
    let run = "9001-1-report";
    let proxy = proxy::Proxy::start(0, &[&format!("stall:/{run}/data/:-1:60")]);
    let step = action::Step::new(&mock)
        .with_example_results()
        .input("bucket", &bucket)
        .input("project", "p")
        .input("endpoint-url", &proxy.url);
    let log = tmp.path().join("action.log");
    let mut child = start(step.command(), &log);
    let t = Instant::now();
    while proxy.stats()["stall"].as_u64().unwrap_or(0) < 2 {
        assert!(t.elapsed() < Duration::from_secs(60), "no upload stalled");
        std::thread::sleep(Duration::from_millis(20));
    }
    send(&child, "TERM");
    let (exit, _) = wait(&mut child, STOP_BOUND);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(exit, Some(143), "{text}");
    // The report's files go as Allure writes them: the stop finds them
    // uploading while it works, or after.
    assert!(
        text.contains("stopped by SIGTERM during the upload")
            || text.contains("stopped by SIGTERM while the report was being made"),
        "{text}"
    );
    let again = step.input("endpoint-url", moto()).run();
    assert!(
        again.output.status.success(),
        "the same run id reruns at once:\n{}",
        again.log
    );
    let listed = assert_only_complete_runs(&rt, &bucket, "after the action's rerun");
    assert_eq!(listed, [run]);
}

#[test]
fn a_signal_while_the_store_does_not_answer_the_claim_still_stops_within_the_bound() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(s3());
    let bucket = rt.block_on(bucket(&client));
    let tmp = tempfile::tempdir().unwrap();
    generated_report();
    let proxy = proxy::Proxy::start(0, &["stall:/runs/claims/:-1:60"]);
    let log = tmp.path().join("claiming.log");
    let mut child = start(
        publish_via(tmp.path(), &proxy.url, &bucket, "claiming"),
        &log,
    );
    let t = Instant::now();
    while proxy.stats()["stall"].as_u64().unwrap_or(0) < 1 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the claim never went out"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    send(&child, "TERM");
    let (exit, took) = wait(&mut child, STOP_BOUND);
    let text = std::fs::read_to_string(&log).unwrap();
    println!("SIGTERM with the claim unanswered: exit {exit:?} after {took:.2?}");
    assert_eq!(exit, Some(143), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("stopped by SIGTERM"))
        .unwrap_or_else(|| panic!("one line says the publish stopped:\n{text}"));
    assert!(line.contains("run id claiming"), "{line}");
    assert!(line.contains("UTC (its lease lapses)"), "{line}");
    assert!(line.contains("or now under another id"), "{line}");
}

#[test]
fn a_signal_while_the_store_does_not_answer_after_listing_still_stops_within_the_bound() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(s3());
    let bucket = rt.block_on(bucket(&client));
    let tmp = tempfile::tempdir().unwrap();
    generated_report();
    // The project page's index is written after the run is listed.
    let proxy = proxy::Proxy::start(0, &["stall:/reports/p/index.json:-1:60"]);
    let log = tmp.path().join("moving.log");
    let mut child = start(publish_via(tmp.path(), &proxy.url, &bucket, "moving"), &log);
    let t = Instant::now();
    while proxy.stats()["stall"].as_u64().unwrap_or(0) < 1 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the index was never written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    send(&child, "TERM");
    let (exit, took) = wait(&mut child, STOP_BOUND);
    let text = std::fs::read_to_string(&log).unwrap();
    println!("SIGTERM with the project index unanswered: exit {exit:?} after {took:.2?}");
    assert_eq!(exit, Some(143), "{text}");
    assert!(text.contains("after run moving was listed"), "{text}");
    let listed = assert_only_complete_runs(&rt, &bucket, "after the stop");
    assert_eq!(listed, ["moving"]);
}
