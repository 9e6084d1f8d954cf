//! The GitHub Action end to end: the environment action.yml sets, a mock
//! GitHub API over HTTP (artifacts with a 302 to storage that refuses the
//! token, PR comments, the OIDC token endpoint) and moto (S3, STS).
#![cfg(feature = "integration")]

mod support;

use std::collections::BTreeMap;

use support::action::{MockGitHub, Step, inputs_of_action, outputs_of_action, render_env};
use support::{bucket, get_json, keys, s3};

fn assert_ok(r: &support::action::Ran) {
    assert!(r.output.status.success(), "action failed:\n{}", r.log);
}

#[test]
fn every_input_reaches_a_setting_and_every_output_is_declared() {
    // A distinctive, well-typed value per input.
    let sample = |name: &str| -> String {
        match name {
            "max-keep-runs" => "41".into(),
            "ttl-days" => "42".into(),
            "link-days" => "43".into(),
            "keep-days" => "44".into(),
            "test-history" => "45".into(),
            "flaky-threshold" => "0.46".into(),
            "slower-threshold" => "4.7".into(),
            "allure-version" => "3".into(),
            "mode" => "cleanup".into(),
            "access-key" => format!("k7.{}", "c".repeat(64)),
            "pr-comment" | "summary" => "false".into(),
            "check-run" => "true".into(),
            "notify" => "https://hooks.example.com/v-notify".into(),
            "notify-on" => "change".into(),
            "unsafe-no-conditional-writes" | "single-file" => "true".into(),
            "fail-on" => "broken".into(),
            "sse" => "aws:kms".into(),
            "variant" => r#"{"leg":"v-variant"}"#.into(),
            "meta" => "team=v-meta\nsuite=smoke".into(),
            other => format!("v-{other}"),
        }
    };
    let mut inputs = BTreeMap::new();
    for (name, spec) in inputs_of_action() {
        assert!(
            spec["description"].as_str().is_some_and(|d| !d.is_empty()),
            "input {name} has no description"
        );
        assert!(spec.get("default").is_some(), "input {name} has no default");
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "input {name} is not kebab-case"
        );
        inputs.insert(name.clone(), sample(&name));
    }
    let env = render_env(&inputs, "null");
    let layer = allure_host::settings::env::layer(&env).unwrap();
    let action = allure_host::github::context::ActionInputs::from_vars(&env).unwrap();
    let seen = format!("{layer:?} {action:?}");
    for (name, value) in &inputs {
        let shown = match name.as_str() {
            "pr-comment" => "pr_comment: false".to_string(),
            "summary" => "summary: false".to_string(),
            "check-run" => "check_run: true".to_string(),
            "fail-on" => "fail_on: Broken".to_string(),
            "mode" => "mode: Cleanup".to_string(),
            "allure-version" => "allure_version: Some(3)".to_string(),
            "single-file" => "single_file: Some(true)".to_string(),
            "test-history" => "test_history: Some(45)".to_string(),
            "flaky-threshold" => "flaky_threshold: Some(0.46)".to_string(),
            "slower-threshold" => "slower_threshold: Some(4.7)".to_string(),
            "unsafe-no-conditional-writes" => {
                "unsafe_no_conditional_writes: Some(true)".to_string()
            }
            "variant" => "v-variant".to_string(),
            "meta" => "(\"team\", \"v-meta\")".to_string(),
            _ => value.clone(),
        };
        assert!(
            seen.contains(&shown),
            "input {name} ({value}) reaches no setting:\n{seen}"
        );
    }
    // The runner's INPUT_* fallbacks name the same variables as action.yml.
    let mut table: Vec<(String, String)> = allure_host::github::context::input_vars()
        .iter()
        .map(|(i, v)| (i.to_string(), v.to_string()))
        .collect();
    table.sort();
    let mut from_yml: Vec<(String, String)> = support::action::action_yml()["runs"]["env"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let input = v
                .as_str()
                .unwrap()
                .trim_start_matches("${{ inputs.")
                .trim_end_matches(" }}");
            (input.to_string(), k.as_str().unwrap().to_string())
        })
        .collect();
    from_yml.sort();
    assert_eq!(table, from_yml);
    // Outputs: what the binary writes is exactly what action.yml declares.
    let mut declared = outputs_of_action();
    declared.sort();
    let mut written = allure_host::commands::action::OUTPUT_NAMES.to_vec();
    written.sort();
    assert_eq!(declared, written);
}

#[tokio::test]
async fn single_job_publishes_and_writes_outputs_and_summary() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let mock = MockGitHub::start(0.0);
    let r = Step::new(&mock)
        .with_example_results()
        .input("bucket", &bucket)
        .input("project", "shop")
        .input("cloudfront", "https://reports.example.com")
        .run();
    assert_ok(&r);
    // Every declared output, in the delimited form.
    for name in outputs_of_action() {
        assert!(
            r.outputs.contains_key(&name),
            "output {name} missing:\n{}",
            r.outputs_raw
        );
    }
    assert!(r.outputs_raw.contains("<<ghadelimiter_"));
    assert_eq!(r.outputs["run-id"], "9001-1-report");
    assert_eq!(
        r.outputs["run-url"],
        "https://reports.example.com/reports/shop/main/9001-1-report/index.html"
    );
    assert_eq!(r.outputs["status"], "failed");
    assert_eq!(
        (
            &*r.outputs["passed"],
            &*r.outputs["failed"],
            &*r.outputs["broken"],
            &*r.outputs["skipped"],
            &*r.outputs["total"]
        ),
        ("5", "1", "1", "2", "9")
    );
    // Summary: counts, links, the failed tests.
    assert!(
        r.summary.contains("| **failed** | 5 | 1 | 1 | 2 | 9 |"),
        "{}",
        r.summary
    );
    assert!(r.summary.contains("Checkout charges the card"));
    assert!(
        r.summary
            .contains("(https://reports.example.com/reports/shop/main/latest/index.html)")
    );
    assert!(r.summary.len() < 1024 * 1024);
    assert!(
        r.log
            .contains("::error title=failed test%3A Checkout charges the card::AssertionError"),
        "{}",
        r.log
    );
    assert!(r.log.contains("::group::Publish") && r.log.contains("::endgroup::"));
    if std::env::var_os("ALLURE_HOST_IMAGE").is_some() {
        assert!(
            r.log.contains("/opt/allure/bin/allure"),
            "the image's Allure CLI ran"
        );
    }
    let keys = keys(&client, &bucket).await;
    assert!(keys.contains(&"reports/shop/main/9001-1-report/index.html".to_string()));
    let manifest = get_json(&client, &bucket, "reports/shop/main/runs/index.json").await;
    assert_eq!(
        manifest["runs"][0]["context_url"],
        "https://github.com/octo/shop/actions/runs/9001/attempts/1"
    );
    // A push event: no pull request comment.
    assert!(mock.comments().is_empty());
}

#[tokio::test]
async fn split_jobs_merge_every_matching_artifact() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let mock = MockGitHub::start(0.0);
    // Two legs' results (the example set split in two), and an unrelated artifact.
    let examples = support::examples();
    let mut files: Vec<_> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for (i, f) in files.iter().enumerate() {
        let name = f.file_name().unwrap();
        let is_shared = !name.to_string_lossy().contains("-result");
        // Shared files (attachments, categories) go to both; results alternate.
        if is_shared || i % 2 == 0 {
            std::fs::copy(f, a.path().join(name)).unwrap();
        }
        if is_shared || i % 2 == 1 {
            std::fs::copy(f, b.path().join(name)).unwrap();
        }
    }
    mock.add_artifact_dir("allure-results-linux", a.path());
    mock.add_artifact_dir("allure-results-macos", b.path());
    mock.add_artifact("coverage", &[("lcov.info", b"TN:")]);
    let r = Step::new(&mock)
        .input("bucket", &bucket)
        .input("project", "shop")
        .input("artifact-name", "allure-results-*")
        .run();
    assert_ok(&r);
    assert_eq!(
        r.outputs["total"], "9",
        "every leg's results are in:\n{}",
        r.log
    );
    // The zip came from storage without the token; the API call carried it.
    let reqs = mock.requests();
    let blob: Vec<_> = reqs
        .iter()
        .filter(|q| q["path"].as_str().unwrap().starts_with("/blob/"))
        .collect();
    assert_eq!(blob.len(), 2);
    assert!(blob.iter().all(|q| q["authorization"].is_null()));
    assert!(
        reqs.iter()
            .any(|q| q["path"].as_str().unwrap().ends_with("/zip")
                && q["authorization"] == "Bearer gh-token")
    );
    assert!(!r.log.contains("sig=secret"), "signed URLs are not printed");
}

#[tokio::test]
async fn a_hostile_artifact_is_refused_and_nothing_lands() {
    let mock = MockGitHub::start(0.0);
    mock.add_artifact(
        "allure-results",
        &[("ok-result.json", b"{}"), ("../../escape.txt", b"x")],
    );
    let step = Step::new(&mock)
        .input("bucket", "unused")
        .input("artifact-name", "allure-results");
    let r = step.run();
    assert!(!r.output.status.success());
    assert!(r.log.contains("::error"), "{}", r.log);
    assert!(r.log.contains("outside the results folder"), "{}", r.log);
    assert!(
        !step.workspace.path().join("allure-results").exists(),
        "nothing half-written"
    );
    assert!(
        !step
            .workspace
            .path()
            .parent()
            .unwrap()
            .join("escape.txt")
            .exists()
    );
    // A name that matches nothing lists what exists.
    let r = Step::new(&mock)
        .input("bucket", "b")
        .input("artifact-name", "nope-*")
        .run();
    assert!(!r.output.status.success());
    assert!(r.log.contains("found: allure-results"), "{}", r.log);
}

#[tokio::test]
async fn artifacts_of_more_entries_than_the_limit_are_refused_and_nothing_lands() {
    let mock = MockGitHub::start(0.0);
    // Two artifacts: eight files, then six files, two of them in folder
    // `sub`, which counts too: fifteen in all.
    let first: Vec<(String, &[u8])> = (0..8)
        .map(|i| (format!("{i}-result.json"), b"{}" as &[u8]))
        .collect();
    let first: Vec<(&str, &[u8])> = first.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    mock.add_artifact("allure-results-a", &first);
    mock.add_artifact(
        "allure-results-b",
        &[
            ("b1-result.json", b"{}"),
            ("b2-result.json", b"{}"),
            ("b3-result.json", b"{}"),
            ("b4-result.json", b"{}"),
            ("sub/x.txt", b"x"),
            ("sub/y.txt", b"y"),
        ],
    );
    let step = Step::new(&mock)
        .env("ALLURE_MAX_ARTIFACT_ENTRIES", "14")
        .input("bucket", "unused")
        .input("artifact-name", "allure-results-*");
    let r = step.run();
    assert!(!r.output.status.success());
    assert!(r.log.contains("::error"), "{}", r.log);
    assert!(
        r.log
            .contains("more than 14 files and folders (max-artifact-entries)")
            && r.log.contains("raise ALLURE_MAX_ARTIFACT_ENTRIES"),
        "{}",
        r.log
    );
    assert!(
        !step.workspace.path().join("allure-results").exists(),
        "nothing half-written"
    );
    let work_left: Vec<_> = std::fs::read_dir(step.workspace.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".allure-host-artifacts-"))
        .collect();
    assert!(
        work_left.is_empty(),
        "the work folder is removed: {work_left:?}"
    );
    // Fifteen fit a limit of 15.
    let r = Step::new(&mock)
        .env("ALLURE_MAX_ARTIFACT_ENTRIES", "15")
        .input("bucket", "unused")
        .input("artifact-name", "allure-results-*")
        .run();
    assert!(!r.log.contains("max-artifact-entries"), "{}", r.log);
    assert!(r.log.contains("Artifact \"allure-results-b\""), "{}", r.log);
}

#[tokio::test]
async fn oidc_role_is_assumed_and_credentials_are_masked() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let mock = MockGitHub::start(0.0);
    let role = "arn:aws:iam::123456789012:role/allure-publisher";
    let r = Step::new(&mock)
        .with_example_results()
        .without_env("AWS_ACCESS_KEY_ID")
        .without_env("AWS_SECRET_ACCESS_KEY")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &format!("{}/oidc/token?api-version=2.0", mock.url),
        )
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            support::action::OIDC_REQUEST_TOKEN,
        )
        .input("bucket", &bucket)
        .input("project", "shop")
        .input("role-to-assume", role)
        .run();
    assert_ok(&r);
    assert!(r.log.contains(&format!("Assumed role {role}")));
    let masks: Vec<&str> = r
        .log
        .lines()
        .filter_map(|l| l.strip_prefix("::add-mask::"))
        .collect();
    assert!(
        masks.len() >= 4,
        "token, key id, secret and session token are masked:\n{}",
        r.log
    );
    // Each masked value appears nowhere else in the log.
    for m in &masks {
        assert_eq!(r.log.matches(m).count(), 1, "{m} leaked into the log");
    }
    let oidc = mock
        .requests()
        .into_iter()
        .find(|q| q["path"] == "/oidc/token")
        .expect("the token endpoint was called");
    assert!(
        oidc["query"]
            .as_str()
            .unwrap()
            .contains("audience=sts.amazonaws.com")
    );
    assert!(
        keys(&client, &bucket)
            .await
            .iter()
            .any(|k| k.ends_with("9001-1-report/index.html"))
    );

    // Without `id-token: write` the runner sets no request URL: say so.
    let r = Step::new(&mock)
        .with_example_results()
        .input("bucket", &bucket)
        .input("role-to-assume", role)
        .run();
    assert!(!r.output.status.success());
    assert!(r.log.contains("id-token: write"), "{}", r.log);
}

#[tokio::test]
async fn matrix_legs_publish_side_by_side_and_share_one_pr_comment() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    // Latency on comment writes makes the legs' edits overlap.
    let mock = MockGitHub::start(0.2);
    let legs = ["3.11", "3.12", "3.13"];
    let steps: Vec<Step> = legs
        .iter()
        .map(|py| {
            Step::new(&mock)
                .with_example_results()
                .pull_request(7, "feat/cart")
                .matrix(&format!("{{\n  \"python-version\": \"{py}\"\n}}"))
                .input("bucket", &bucket)
                .input("project", "shop")
        })
        .collect();
    let runs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = steps.iter().map(|st| s.spawn(|| st.run())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (r, py) in runs.iter().zip(legs) {
        assert_ok(r);
        assert!(
            r.outputs["latest-url"].ends_with(&format!(
                "feat~2Fcart/variants/python-version-{py}/latest/index.html"
            )),
            "each leg's latest-url is its own: {}",
            r.outputs["latest-url"]
        );
    }
    // (a) Every leg kept under its own run, named by its matrix values.
    let manifest = get_json(&client, &bucket, "reports/shop/feat~2Fcart/runs/index.json").await;
    let mut ids: Vec<String> = manifest["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "9001-1-report-python-version-3.11",
            "9001-1-report-python-version-3.12",
            "9001-1-report-python-version-3.13"
        ]
    );
    let page = String::from_utf8(
        support::get(&client, &bucket, "reports/shop/feat~2Fcart/runs/index.html").await,
    )
    .unwrap();
    for py in legs {
        assert!(
            page.contains(&format!("python-version={py}")),
            "leg {py} shown"
        );
    }
    assert!(page.contains("run 9001, attempt 1"));
    // One comment, with a section per leg, none lost.
    let comments = mock.comments();
    assert_eq!(comments.len(), 1, "{comments:#?}");
    let body = comments[0]["body"].as_str().unwrap();
    assert!(body.starts_with("<!-- allure-host:pr-comment project=shop -->"));
    for py in legs {
        assert!(
            body.contains(&format!("python-version=3.1{}", &py[3..])),
            "section {py} missing:\n{body}"
        );
    }
    let first_id = comments[0]["id"].clone();

    // A later run edits the same comment in place.
    let r = Step::new(&mock)
        .with_example_results()
        .pull_request(7, "feat/cart")
        .env("GITHUB_RUN_ID", "9002")
        .matrix(r#"{"python-version": "3.12"}"#)
        .input("bucket", &bucket)
        .input("project", "shop")
        .run();
    assert_ok(&r);
    let comments = mock.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0]["id"], first_id);
    assert!(
        comments[0]["body"]
            .as_str()
            .unwrap()
            .contains("9002-1-report-python-version-3.12")
    );
}

#[tokio::test]
async fn fail_on_fails_the_step_after_publishing() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let mock = MockGitHub::start(0.0);
    let r = Step::new(&mock)
        .with_example_results()
        .input("bucket", &bucket)
        .input("project", "gate")
        .input("fail-on", "failed")
        .run();
    assert_eq!(r.output.status.code(), Some(1), "tests failed: {}", r.log);
    assert!(
        r.log
            .contains("::error title=Allure%3A tests failed::1 failed and 1 broken"),
        "{}",
        r.log
    );
    // Published anyway, outputs written.
    assert_eq!(r.outputs["status"], "failed");
    assert!(
        keys(&client, &bucket)
            .await
            .iter()
            .any(|k| k == "reports/gate/main/9001-1-report/index.html")
    );

    let r = Step::new(&mock)
        .with_example_results()
        .env("GITHUB_RUN_ID", "9003")
        .input("bucket", &bucket)
        .input("project", "gate")
        .input("fail-on", "none")
        .run();
    assert_ok(&r);
    assert_eq!(r.output.status.code(), Some(0));
    let r = Step::new(&mock)
        .with_example_results()
        .input("bucket", &bucket)
        .input("fail-on", "sometimes")
        .run();
    assert_eq!(
        r.output.status.code(),
        Some(2),
        "an error of the tool: {}",
        r.log
    );
    assert!(
        r.log
            .contains("none, failed, broken, quality-gate or new-failures"),
        "{}",
        r.log
    );
}

/// A step whose workspace has an allurerc with one quality gate rule (so
/// Allure 3 generates, by default).
fn gated_step(mock: &MockGitHub, bucket: &str, project: &str, max_failures: u32) -> Step {
    let step = Step::new(mock)
        .with_example_results()
        .input("bucket", bucket)
        .input("project", project)
        .input("fail-on", "quality-gate");
    std::fs::write(
        step.workspace.path().join("allurerc.mjs"),
        format!(
            "export default {{ qualityGate: {{ rules: [{{ maxFailures: {max_failures} }}] }} }};\n"
        ),
    )
    .unwrap();
    step
}

#[tokio::test]
async fn a_quality_gate_sets_status_summary_and_comment_and_fail_on_follows_it() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let mock = MockGitHub::start(0.0);
    let r = gated_step(&mock, &bucket, "gate3", 0)
        .pull_request(9, "feat/gate")
        .run();
    assert!(!r.output.status.success(), "{}", r.log);
    assert!(
        r.log.contains(
            "::error title=Allure%3A quality gate failed::maxFailures: The number of failed tests 2 exceeds the allowed threshold value 0"
        ),
        "{}",
        r.log
    );
    assert_eq!(r.outputs["status"], "quality-gate-failed");
    assert_eq!(r.outputs["quality-gate"], "failed");
    assert_eq!(r.outputs["failed"], "1");
    assert!(
        r.summary.contains("**Quality gate: ❌ failed**"),
        "{}",
        r.summary
    );
    assert!(
        r.summary
            .contains("| ❌ | maxFailures | The number of failed tests 2 exceeds"),
        "{}",
        r.summary
    );
    let comments = mock.comments();
    let body = comments[0]["body"].as_str().unwrap();
    assert!(body.contains("**Quality gate: ❌ failed**"), "{body}");
    // Published anyway: the report is what explains the verdict.
    assert!(
        keys(&client, &bucket)
            .await
            .iter()
            .any(|k| k.starts_with("reports/gate3/feat~2Fgate/")
                && k.ends_with("/quality-gate.json"))
    );

    // A gate that passes lets the step pass, failed tests and all.
    let r = gated_step(&mock, &bucket, "gate3", 5)
        .env("GITHUB_RUN_ID", "9002")
        .run();
    assert_ok(&r);
    assert_eq!(r.outputs["quality-gate"], "passed");
    assert_eq!(r.outputs["status"], "failed");
    assert!(
        r.summary.contains("**Quality gate: ✅ passed**"),
        "{}",
        r.summary
    );

    // Allure 2 has no gate: refused before anything is published.
    let r = gated_step(&mock, &bucket, "gate2", 0)
        .input("allure-version", "2")
        .run();
    assert!(!r.output.status.success());
    assert!(
        r.log.contains("fail-on: quality-gate needs Allure 3"),
        "{}",
        r.log
    );
    assert!(
        !keys(&client, &bucket)
            .await
            .iter()
            .any(|k| k.starts_with("reports/gate2/"))
    );
}

#[tokio::test]
async fn a_pull_request_says_what_changed_since_its_base_branch() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let mock = MockGitHub::start(0.0);
    // main: three failing tests.
    let base = Step::new(&mock)
        .with_example_results()
        .with_statuses(&[("04", "failed"), ("09", "failed"), ("10", "broken")])
        .input("bucket", &bucket)
        .input("project", "shop")
        .run();
    assert_ok(&base);
    assert_eq!(
        base.outputs["new-failures"], "",
        "a push compares with nothing"
    );
    // The pull request fixes one of them and breaks two others.
    let pr = Step::new(&mock)
        .with_example_results()
        .with_statuses(&[
            ("04", "passed"),
            ("09", "failed"),
            ("10", "broken"),
            ("05", "failed"),
            ("07", "failed"),
        ])
        .pull_request(8, "feat/pay")
        .env("GITHUB_BASE_REF", "main")
        .env("GITHUB_RUN_ID", "9002")
        .input("bucket", &bucket)
        .input("project", "shop")
        .run();
    assert_ok(&pr);
    assert_eq!(pr.outputs["new-failures"], "2");
    assert_eq!(pr.outputs["fixed"], "1");
    assert!(
        pr.summary.contains("#### Since main (run 9001-1-report)"),
        "{}",
        pr.summary
    );
    assert!(pr.summary.contains("| 2 | 1 | 2 | 0 |"), "{}", pr.summary);
    // Each new failure says what main's test history says of it.
    for line in [
        "- Cart total in EUR: passed its last run on main",
        "- Login rejects a wrong password: passed its last run on main",
    ] {
        assert!(pr.summary.contains(line), "{line}\n{}", pr.summary);
    }
    assert!(
        pr.summary
            .contains("**Fixed:** Login with valid credentials")
    );
    assert!(
        pr.summary
            .contains("**Still failing:** Checkout charges the card, Order history loads")
    );
    let comments = mock.comments();
    let body = comments[0]["body"].as_str().unwrap();
    assert!(
        body.contains("- Cart total in EUR: passed its last run on main"),
        "{body}"
    );
    assert!(
        body.contains("**Fixed:** Login with valid credentials"),
        "{body}"
    );
    // A base branch with no run is one line, not an error.
    let lone = Step::new(&mock)
        .with_example_results()
        .pull_request(9, "feat/other")
        .env("GITHUB_BASE_REF", "release")
        .env("GITHUB_RUN_ID", "9003")
        .input("bucket", &bucket)
        .input("project", "shop")
        .run();
    assert_ok(&lone);
    assert!(
        lone.log
            .contains("Nothing to compare with: branch \"release\""),
        "{}",
        lone.log
    );
    assert_eq!(lone.outputs["fixed"], "");
}

#[tokio::test]
async fn a_private_site_gets_signed_links_and_never_sees_the_key() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    client
        .put_object()
        .bucket(&bucket)
        .key("~allure-host/access.json")
        .body(br#"{"modes":["link"],"keys":[{"id":"k3"}]}"#.to_vec().into())
        .send()
        .await
        .unwrap();
    let secret = "9".repeat(64);
    let mock = MockGitHub::start(0.0);
    let step = |key: &str, run: &str| {
        Step::new(&mock)
            .input("run-id", run)
            .with_example_results()
            .input("bucket", &bucket)
            .input("project", "shop")
            .input("cloudfront", "https://reports.example.com")
            .input("access-key", key)
            .input("link-days", "7")
            .run()
    };
    let r = step(&format!("k3.{secret}"), "9001-1-report");
    assert_ok(&r);
    let run_link = &r.outputs["run-link"];
    assert!(
        run_link.starts_with(
            "https://reports.example.com/reports/shop/main/9001-1-report/index.html?access=k3."
        ),
        "{run_link}"
    );
    assert!(r.outputs["latest-link"].contains("?access=k3."));
    assert!(
        r.summary.contains(&format!("({run_link})")),
        "{}",
        r.summary
    );
    assert!(r.summary.contains("links open until"), "{}", r.summary);
    // The key is masked first, and appears nowhere else.
    assert_eq!(r.log.matches(&secret).count(), 1, "{}", r.log);
    assert!(r.log.contains(&format!("::add-mask::k3.{secret}")));
    assert!(!r.summary.contains(&secret) && !r.outputs_raw.contains(&secret));

    // Without a key: a note instead of links that would ask for access.
    let r = step("", "9002-1-report");
    assert_ok(&r);
    assert_eq!(r.outputs["run-link"], "");
    assert!(
        r.summary.contains("opens only with signed links"),
        "{}",
        r.summary
    );
    assert!(!r.summary.contains("[Report of this run]"), "{}", r.summary);
    assert!(r.log.contains("opens only with signed links"), "{}", r.log);
}

#[tokio::test]
async fn cleanup_mode_removes_the_closed_pull_requests_branch_and_nothing_else() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let mock = MockGitHub::start(0.0);
    let publish = |step: Step| {
        let r = step
            .with_example_results()
            .input("bucket", &bucket)
            .input("project", "shop")
            .run();
        assert_ok(&r);
    };
    publish(Step::new(&mock));
    publish(Step::new(&mock).pull_request(7, "feat/x"));
    publish(Step::new(&mock).pull_request(8, "feat/y"));
    let all = keys(&client, &bucket).await;
    let under = |keys: &[String], folder: &str| -> Vec<String> {
        let prefix = format!("reports/shop/{folder}/");
        keys.iter()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect()
    };
    assert!(!under(&all, "feat~2Fx").is_empty(), "{all:?}");

    let closed = |n: u64, head: &str| {
        let mut step = Step::new(&mock)
            .pull_request(n, head)
            .input("bucket", &bucket)
            .input("project", "shop")
            .input("mode", "cleanup");
        step.event = serde_json::json!({
            "action": "closed",
            "pull_request": { "number": n, "head": { "ref": head } }
        });
        step
    };
    let r = closed(7, "feat/x").run();
    assert_ok(&r);
    let after = keys(&client, &bucket).await;
    assert!(under(&after, "feat~2Fx").is_empty(), "{after:?}");
    let others: Vec<String> = all
        .iter()
        .filter(|k| !k.starts_with("reports/shop/feat~2Fx/"))
        .filter(|k| !k.starts_with("reports/shop/index."))
        .cloned()
        .collect();
    for k in &others {
        assert!(after.contains(k), "{k} was removed:\n{}", r.log);
    }
    let index = get_json(&client, &bucket, "reports/shop/index.json").await;
    let rows: Vec<&str> = index["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["branch"].as_str().unwrap())
        .collect();
    assert_eq!(rows, ["feat/y", "main"]);
    assert!(r.summary.contains("Branch feat/x removed"), "{}", r.summary);
    assert!(r.log.contains("::group::Cleanup"), "{}", r.log);

    // keep-days: the branch stays readable, marked to go later.
    let r = closed(8, "feat/y").input("keep-days", "3").run();
    assert_ok(&r);
    assert_eq!(
        under(&keys(&client, &bucket).await, "feat~2Fy").len(),
        under(&all, "feat~2Fy").len()
    );
    let manifest = get_json(&client, &bucket, "reports/shop/feat~2Fy/runs/index.json").await;
    let due = manifest["remove_after"].as_i64().expect("marked");
    let in_3_days = chrono_like_now() + 3 * 86_400;
    assert!((due - in_3_days).abs() < 120, "{due} vs {in_3_days}");
    assert!(r.summary.contains("kept until"), "{}", r.summary);

    // An unknown mode is refused before anything happens.
    let r = closed(8, "feat/y").input("mode", "purge").run();
    assert!(!r.output.status.success());
    assert!(r.log.contains("use publish or cleanup"), "{}", r.log);
}

fn chrono_like_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_check_run_is_made_once_and_a_rerun_updates_it() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let mock = MockGitHub::start(0.0);
    let hooks = support::mock::Mock::start("mock_webhooks.py", &[]);
    let secret = "T0SECRET/B0SECRET";
    let step = |attempt: &str| {
        Step::new(&mock)
            .with_example_results()
            .pull_request(7, "feat/cart")
            .env("GITHUB_RUN_ATTEMPT", attempt)
            .input("bucket", &bucket)
            .input("project", "shop")
            .input("check-run", "true")
            .input("cloudfront", "https://reports.example.com")
            .input("fail-on", "failed")
            .input("notify", &format!("slack:{}/fail/{secret}", hooks.url))
    };
    // The first attempt fails its tests; the re-run passes them.
    let first = step("1").run();
    assert!(!first.output.status.success(), "fail-on: failed trips");
    let rerun = step("2")
        .with_statuses(&[("09", "passed"), ("10", "passed")])
        .run();
    assert_ok(&rerun);
    for r in [&first, &rerun] {
        let shown: Vec<&str> = r
            .log
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect();
        assert!(!shown.join("\n").contains("SECRET"), "{}", r.log);
        assert!(r.log.contains("::add-mask::"), "the webhook URL is masked");
        assert!(
            r.log
                .contains("::warning title=allure-host%3A notification::"),
            "{}",
            r.log
        );
    }

    let runs = mock.check_runs();
    assert_eq!(runs.len(), 1, "a re-run updates, never adds: {runs:#?}");
    let run = &runs[0];
    assert_eq!(run["name"], "Allure: shop (report)");
    assert_eq!(
        run["head_sha"],
        support::action::PR_HEAD_SHA,
        "on the pull request's head"
    );
    let bodies = run["bodies"].as_array().unwrap();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["conclusion"], "failure");
    assert_eq!(bodies[1]["conclusion"], "success");
    assert!(bodies[1].get("head_sha").is_none());
    assert!(
        bodies[1]["details_url"]
            .as_str()
            .unwrap()
            .contains("/reports/shop/feat~2Fcart/"),
        "{}",
        bodies[1]["details_url"]
    );
    assert!(
        bodies[0]["output"]["summary"]
            .as_str()
            .unwrap()
            .contains("Checkout charges the card")
    );
    assert!(rerun.log.contains("updated on c0ffee"), "{}", rerun.log);

    // Both bodies as GitHub's OpenAPI description types them.
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let path = dir.path().join(format!("{i}.json"));
            std::fs::write(&path, b.to_string()).unwrap();
            path
        })
        .collect();
    let checked = std::process::Command::new("node")
        .arg(support::repo().join("tests/support/payloads.mjs"))
        .arg("check-run")
        .args(&files)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}
