//! `allure-host prune` and `usage` against the test S3 server and a local
//! directory: by count, age and branch, branches gone from the remote, dry
//! runs that match the real run, TTL expiry, and a prune racing a publish.
#![cfg(feature = "integration")]

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::*;

/// Where a test publishes: a bucket on the test server, or a directory.
enum Site {
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
    },
    Local(tempfile::TempDir),
}

impl Site {
    async fn s3() -> Self {
        let client = s3().await;
        let bucket = bucket(&client).await;
        Site::S3 { client, bucket }
    }

    fn local() -> Self {
        Site::Local(tempfile::tempdir().unwrap())
    }

    /// The flags that point a command at this site.
    fn flags(&self) -> Vec<String> {
        match self {
            Site::S3 { bucket, .. } => vec![
                "--bucket".into(),
                bucket.clone(),
                "--s3-endpoint".into(),
                moto().into(),
            ],
            Site::Local(dir) => vec!["--local-dir".into(), dir.path().display().to_string()],
        }
    }

    fn run(&self, command: &str, extra: &[&str]) -> std::process::Output {
        let mut args = vec![command.to_string()];
        args.extend(self.flags());
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_in(&std::env::temp_dir(), &args)
    }

    fn command(&self, command: &str, extra: &[&str]) -> std::process::Command {
        let mut args = vec![command.to_string()];
        args.extend(self.flags());
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        command_in(&std::env::temp_dir(), &args)
    }

    /// Publish the pre-generated report as `run` on `branch` of project shop.
    fn publish(&self, branch: &str, run: &str, extra: &[&str]) {
        let report = generated_report().display().to_string();
        let mut args = vec![
            "--report",
            &report,
            "--project",
            "shop",
            "--branch",
            branch,
            "--run-id",
            run,
        ];
        args.extend_from_slice(extra);
        ok(&self.run("publish", &args));
    }

    async fn keys(&self) -> BTreeSet<String> {
        match self {
            Site::S3 { client, bucket } => keys(client, bucket).await.into_iter().collect(),
            Site::Local(dir) => walkdir::WalkDir::new(dir.path())
                .into_iter()
                .map(|e| e.unwrap())
                .filter(|e| e.file_type().is_file())
                .map(|e| {
                    let rel = e.path().strip_prefix(dir.path()).unwrap();
                    rel.to_string_lossy().into_owned()
                })
                .filter(|k| !k.starts_with(".allure-host"))
                .collect(),
        }
    }

    async fn read(&self, key: &str) -> Vec<u8> {
        match self {
            Site::S3 { client, bucket } => get(client, bucket, key).await,
            Site::Local(dir) => std::fs::read(dir.path().join(key)).unwrap(),
        }
    }

    async fn json(&self, key: &str) -> Value {
        serde_json::from_slice(&self.read(key).await).unwrap()
    }

    async fn write(&self, key: &str, body: Vec<u8>) {
        match self {
            Site::S3 { client, bucket } => {
                client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(body.into())
                    .send()
                    .await
                    .unwrap();
            }
            Site::Local(dir) => std::fs::write(dir.path().join(key), body).unwrap(),
        }
    }

    async fn delete_prefix(&self, prefix: &str) {
        let doomed: Vec<String> = self
            .keys()
            .await
            .into_iter()
            .filter(|k| k.starts_with(prefix))
            .collect();
        assert!(!doomed.is_empty(), "nothing under {prefix}");
        for key in doomed {
            match self {
                Site::S3 { client, bucket } => {
                    client
                        .delete_object()
                        .bucket(bucket)
                        .key(&key)
                        .send()
                        .await
                        .unwrap();
                }
                Site::Local(dir) => std::fs::remove_file(dir.path().join(&key)).unwrap(),
            }
        }
    }

    /// The manifest's run ids, newest first.
    async fn runs(&self, branch_folder: &str) -> Vec<String> {
        let m = self
            .json(&format!("reports/shop/{branch_folder}/runs/index.json"))
            .await;
        m["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["run_id"].as_str().unwrap().to_string())
            .collect()
    }

    /// Change the manifest's runs in place (what time does to a manifest).
    async fn edit_runs(&self, branch_folder: &str, edit: impl Fn(&str, &mut Value)) {
        let key = format!("reports/shop/{branch_folder}/runs/index.json");
        let mut m = self.json(&key).await;
        for run in m["runs"].as_array_mut().unwrap() {
            let id = run["run_id"].as_str().unwrap().to_string();
            edit(&id, run);
        }
        self.write(&key, serde_json::to_vec(&m).unwrap()).await;
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `Total: N runs, M objects, ...` of a printed plan.
fn planned(stdout: &str) -> (usize, usize) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Total: "))
        .unwrap_or_else(|| panic!("no total in:\n{stdout}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (nums[0], nums[1])
}

fn branch_rows(index: &Value) -> Vec<String> {
    index["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["branch"].as_str().unwrap().to_string())
        .collect()
}

/// A bare git repository with only `branches`, as a remote.
fn remote_with(branches: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let git = |dir: &Path, args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    let bare = tmp.path().join("remote.git");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(
        tmp.path(),
        &["init", "-q", "--bare", bare.to_str().unwrap()],
    );
    git(&work, &["init", "-q"]);
    git(&work, &["commit", "-q", "--allow-empty", "-m", "x"]);
    for b in branches {
        git(
            &work,
            &[
                "push",
                "-q",
                bare.to_str().unwrap(),
                &format!("HEAD:refs/heads/{b}"),
            ],
        );
    }
    (tmp, bare)
}

async fn count_age_and_branch(site: Site) {
    for i in 1..=5 {
        site.publish("main", &format!("m{i}"), &[]);
    }
    site.publish("dev", "d1", &[]);
    site.publish("dev", "d2", &[]);
    site.publish("feat/x", "x1", &[]);

    // A dry run writes nothing; its plan is what the real run deletes.
    let before = site.keys().await;
    let plan = ok(&site.run("prune", &["--project", "shop", "--keep", "2", "--dry-run"]));
    assert!(plan.contains("beyond --keep: m3, m2, m1"), "{plan}");
    assert_eq!(site.keys().await, before, "a dry run deletes nothing");
    let (runs, objects) = planned(&plan);
    assert_eq!(runs, 3);

    // Without a terminal, --yes is required, and nothing goes.
    let refused = failed(&site.run("prune", &["--project", "shop", "--keep", "2"]));
    assert!(refused.contains("pass --yes"), "{refused}");
    assert_eq!(site.keys().await, before);

    ok(&site.run("prune", &["--project", "shop", "--keep", "2", "--yes"]));
    let after = site.keys().await;
    let deleted: Vec<&String> = before.difference(&after).collect();
    assert_eq!(deleted.len(), objects, "plan and deletion agree");
    for key in &deleted {
        let in_old_run = ["m1", "m2", "m3"].iter().any(|r| {
            key.starts_with(&format!("reports/shop/main/{r}/"))
                || *key == &format!("reports/shop/main/runs/claims/{r}.json")
        });
        assert!(in_old_run, "deleted {key}");
    }
    assert!(after.contains("reports/shop/main/m4/index.html"));
    assert_eq!(site.runs("main").await, ["m5", "m4"]);
    let page = String::from_utf8(site.read("reports/shop/main/runs/index.html").await).unwrap();
    assert!(
        page.contains("m4") && !page.contains(">m1<"),
        "runs page follows"
    );
    let index = site.json("reports/shop/index.json").await;
    let rows = index["branches"].as_array().unwrap();
    let main = rows.iter().find(|b| b["branch"] == "main").unwrap();
    assert_eq!(
        (main["branch"].as_str(), main["runs"].as_u64()),
        (Some("main"), Some(2))
    );

    // Age: both dev runs are old, but the newest run of a branch stays.
    site.edit_runs("dev", |_, run| run["time"] = (now() - 40 * 86_400).into())
        .await;
    let out = ok(&site.run(
        "prune",
        &["--project", "shop", "--max-age-days", "30", "--yes"],
    ));
    assert!(out.contains("older than --max-age-days: d1"), "{out}");
    assert_eq!(site.runs("dev").await, ["d2"]);
    assert!(!site.keys().await.contains("reports/shop/dev/d1/index.html"));

    // A whole branch by name: its folder and its project page row.
    let err = failed(&site.run("prune", &["--project", "shop", "--branch", "nope", "--yes"]));
    assert!(err.contains("no branch \"nope\""), "{err}");
    ok(&site.run(
        "prune",
        &["--project", "shop", "--branch", "feat/x", "--yes"],
    ));
    let keys = site.keys().await;
    assert!(
        !keys.iter().any(|k| k.starts_with("reports/shop/feat~2Fx/")),
        "{keys:?}"
    );
    let index = site.json("reports/shop/index.json").await;
    assert_eq!(branch_rows(&index), ["dev", "main"]);
    let page = String::from_utf8(site.read("reports/shop/index.html").await).unwrap();
    assert!(!page.contains("feat/x"));

    // The remote no longer has dev: it goes, main stays.
    let (_keep, remote) = remote_with(&["main", "release"]);
    let out = ok(&site.run(
        "prune",
        &[
            "--project",
            "shop",
            "--git-remote",
            remote.to_str().unwrap(),
            "--yes",
        ],
    ));
    assert!(out.contains("no longer in the repository"), "{out}");
    let keys = site.keys().await;
    assert!(!keys.iter().any(|k| k.starts_with("reports/shop/dev/")));
    assert!(keys.contains("reports/shop/main/m5/index.html"));
    assert_eq!(
        branch_rows(&site.json("reports/shop/index.json").await),
        ["main"]
    );
    let err = failed(&site.run(
        "prune",
        &["--project", "shop", "--git-remote", "/no/such/remote"],
    ));
    assert!(err.contains("git ls-remote"), "{err}");

    // usage agrees with the store.
    let usage: Value =
        serde_json::from_str(&ok(&site.run("usage", &["--project", "shop", "--json"]))).unwrap();
    let rows = usage.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let main_keys = site
        .keys()
        .await
        .into_iter()
        .filter(|k| k.starts_with("reports/shop/main/"))
        .count();
    assert_eq!(rows[0]["runs"], 2);
    assert_eq!(rows[0]["files"].as_u64().unwrap() as usize, main_keys);
}

#[tokio::test]
async fn prune_by_count_age_and_branch_on_s3() {
    count_age_and_branch(Site::s3().await).await;
}

#[tokio::test]
async fn prune_by_count_age_and_branch_in_a_local_directory() {
    count_age_and_branch(Site::local()).await;
}

#[tokio::test]
async fn expired_and_vanished_runs_leave_the_manifest_and_pages() {
    let site = Site::s3().await;
    site.publish("main", "r1", &["--ttl-days", "7"]);
    site.publish("main", "r2", &["--ttl-days", "7"]);
    site.publish("main", "r3", &["--ttl-days", "7"]);
    let m = site.json("reports/shop/main/runs/index.json").await;
    let r1 = &m["runs"][2];
    assert_eq!(
        r1["expires"].as_i64().unwrap() - r1["time"].as_i64().unwrap(),
        7 * 86_400,
        "the manifest records the expiry"
    );

    // r1's expiry passes: the next publish stops listing it.
    site.edit_runs("main", |id, run| {
        if id == "r1" {
            run["expires"] = (now() - 60).into();
        }
    })
    .await;
    site.publish("main", "r4", &["--ttl-days", "7"]);
    assert_eq!(site.runs("main").await, ["r4", "r3", "r2"]);
    let page = String::from_utf8(site.read("reports/shop/main/runs/index.html").await).unwrap();
    assert!(!page.contains("r1/"), "the runs page no longer links r1");
    assert!(
        !site
            .keys()
            .await
            .contains("reports/shop/main/r1/index.html")
    );

    // S3's lifecycle rule removes r2's files: prune finds the folder gone
    // from one listing, not a request per run.
    site.delete_prefix("reports/shop/main/r2/").await;
    let out = ok(&site.run("prune", &["--project", "shop", "--dry-run"]));
    assert!(out.contains("files already gone: r2"), "{out}");
    let out = ok(&site.run("prune", &["--project", "shop", "--yes"]));
    assert_eq!(site.runs("main").await, ["r4", "r3"]);
    let stderr_and_out = out;
    assert!(!stderr_and_out.contains("HeadObject"));
    let page = String::from_utf8(site.read("reports/shop/main/runs/index.html").await).unwrap();
    assert!(!page.contains("r2/") && page.contains("r3/"));
}

#[tokio::test]
async fn a_prune_racing_a_publish_never_loses_the_new_run() {
    let site = Site::s3().await;
    for i in 1..=3 {
        site.publish("main", &format!("old{i}"), &[]);
    }
    let report = generated_report().display().to_string();
    for round in 1..=5 {
        let run = format!("new{round}");
        let mut publish = site.command(
            "publish",
            &[
                "--report",
                &report,
                "--project",
                "shop",
                "--branch",
                "main",
                "--run-id",
                &run,
                "--max-keep-runs",
                "3",
            ],
        );
        let mut prune = site.command("prune", &["--project", "shop", "--keep", "1", "--yes"]);
        let (a, b) = (publish.spawn().unwrap(), prune.spawn().unwrap());
        ok(&a.wait_with_output().unwrap());
        ok(&b.wait_with_output().unwrap());

        let runs = site.runs("main").await;
        assert!(runs.contains(&run), "round {round}: {run} lost: {runs:?}");
        let keys = site.keys().await;
        for listed in &runs {
            assert!(
                keys.contains(&format!("reports/shop/main/{listed}/index.html")),
                "round {round}: the manifest lists {listed} without its index.html"
            );
        }
        assert!(keys.contains(&format!("reports/shop/main/{run}/index.html")));
    }
}

#[tokio::test]
async fn removing_a_branch_spares_a_run_being_published_into_it() {
    let site = Site::local();
    site.publish("feat/x", "done", &[]);
    // Another publisher holds a live claim on run "busy" and has uploaded
    // part of it; the manifest does not list it yet.
    let claim = serde_json::json!({
        "run_id": "busy", "token": "t", "state": "uploading",
        "started": now(), "renewed": now()
    });
    let Site::Local(dir) = &site else {
        unreachable!()
    };
    let branch = dir.path().join("reports/shop/feat~2Fx");
    std::fs::create_dir_all(branch.join("busy")).unwrap();
    std::fs::write(branch.join("busy/index.html"), "partial").unwrap();
    std::fs::write(branch.join("runs/claims/busy.json"), claim.to_string()).unwrap();
    // A dead claim's leftovers go with the branch.
    let dead = serde_json::json!({
        "run_id": "dead", "token": "t", "state": "uploading",
        "started": now() - 3600, "renewed": now() - 3600
    });
    std::fs::create_dir_all(branch.join("dead")).unwrap();
    std::fs::write(branch.join("dead/index.html"), "partial").unwrap();
    std::fs::write(branch.join("runs/claims/dead.json"), dead.to_string()).unwrap();

    ok(&site.run(
        "prune",
        &["--project", "shop", "--branch", "feat/x", "--yes"],
    ));
    let keys = site.keys().await;
    let left: Vec<&String> = keys.iter().filter(|k| k.contains("feat~2Fx")).collect();
    assert_eq!(
        left,
        [
            "reports/shop/feat~2Fx/busy/index.html",
            "reports/shop/feat~2Fx/runs/claims/busy.json"
        ],
        "only the run in flight stays"
    );
}
