//! GitLab merge requests end to end: the real binary publishing in a merge
//! request pipeline's environment to a local site, against a mock GitLab
//! notes API (`tests/support/mock_gitlab.py`): one note per project, a row
//! per leg, edited in place, the token never shown, and a failing API only
//! a warning.
#![cfg(feature = "integration")]

mod support;

use std::path::Path;
use std::process::Output;

use support::gitlab::{MockGitLab, PROJECT_ID, TOKEN, pipeline_env};
use support::{command_in, generated_report};

const MARKER: &str = "<!-- allure-host:mr-note project=shop -->";
const IID: u64 = 7;

/// `allure-host publish` of the generated report into `site`, as leg `leg`
/// of a job of merge request !7's pipeline.
fn publish(mock: &MockGitLab, site: &Path, leg: &str, extra: &[(&str, &str)]) -> Output {
    let report = generated_report().to_str().unwrap();
    let site_dir = site.to_str().unwrap();
    let mut cmd = command_in(
        site.parent().unwrap(),
        &["publish", "--report", report, "--local-dir", site_dir],
    );
    cmd.envs(pipeline_env(&mock.api_url(), IID, "feat/cart"))
        .env("GITLAB_TOKEN", TOKEN)
        .env("ALLURE_VARIANT", leg);
    for (k, v) in extra {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    cmd.output().expect("run allure-host")
}

fn log(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_ok(out: &Output) -> String {
    let text = log(out);
    assert!(out.status.success(), "publish failed:\n{text}");
    assert!(!text.contains(TOKEN), "the token was printed:\n{text}");
    text
}

/// Our notes on merge request !7.
fn ours(mock: &MockGitLab) -> Vec<serde_json::Value> {
    mock.notes()
        .into_iter()
        .filter(|n| n["mr"] == IID && n["body"].as_str().unwrap().starts_with(MARKER))
        .collect()
}

#[test]
fn legs_share_one_note_that_reruns_edit_in_place() {
    // 230 notes of reviewers first, served 50 a page: ours is on page 5,
    // found only by following X-Next-Page. Latency widens the legs' races.
    let mock = MockGitLab::start(&["--noise", "230", "--per-page-cap", "50", "--latency", "0.2"]);
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let legs = ["py=3.11", "py=3.12 @ana !3 #4 ~bug"];

    // First round: both legs at once.
    let outs: Vec<Output> = std::thread::scope(|s| {
        let handles: Vec<_> = legs
            .iter()
            .map(|leg| s.spawn(|| publish(&mock, &site, leg, &[])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for out in &outs {
        let text = assert_ok(out);
        assert!(
            text.contains(&format!("Merge request !{IID}: note ")),
            "{text}"
        );
    }
    let notes = ours(&mock);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    let first_id = notes[0]["id"].clone();
    let body = notes[0]["body"].as_str().unwrap();
    assert!(body.contains("| py=3.11 |"), "{body}");
    // The second leg's name pings and links no one.
    assert!(
        body.contains("py=3.12 @\u{200B}ana \\!\u{200B}3 \\#\u{200B}4 \\~\u{200B}bug"),
        "{body}"
    );
    assert!(!body.contains("@ana"), "{body}");
    assert_eq!(body.matches("[build #").count(), 2, "{body}");

    // Second round, one leg after the other: the same note, edited.
    for leg in legs {
        assert_ok(&publish(&mock, &site, leg, &[]));
    }
    let notes = ours(&mock);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(notes[0]["id"], first_id, "a new note instead of an edit");
    let body = notes[0]["body"].as_str().unwrap();
    assert_eq!(body.matches("[build #").count(), 2, "{body}");
    for build in ["[build #3]", "[build #4]"] {
        assert!(body.contains(build), "{build} missing:\n{body}");
    }
    // The reviewers' notes are untouched.
    let all = mock.notes();
    assert_eq!(all.len(), 231);

    let requests = mock.requests();
    assert!(
        requests.iter().all(|r| r["token_ok"] == true),
        "{requests:#?}"
    );
    assert!(
        requests.iter().all(|r| r["authorization"].is_null()),
        "the token goes only in PRIVATE-TOKEN"
    );
    let notes_path = format!("/api/v4/projects/{PROJECT_ID}/merge_requests/{IID}/notes");
    assert!(
        requests
            .iter()
            .all(|r| r["path"].as_str().unwrap().starts_with(&notes_path)),
        "{requests:#?}"
    );
    let count = |method: &str| requests.iter().filter(|r| r["method"] == method).count();
    // Two legs may both create before either lists: the younger goes
    // (each leg that sees it may ask, the second is told 404).
    assert!((1..=2).contains(&count("POST")), "{requests:#?}");
    assert!(count("DELETE") >= count("POST") - 1, "{requests:#?}");
    assert!(count("PUT") >= 2, "{requests:#?}");
    assert!(
        requests
            .iter()
            .filter(|r| r["method"] == "GET")
            .all(|r| r["query"].as_str().unwrap().contains("per_page=100")),
        "{requests:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r["query"].as_str().unwrap().contains("page=5")),
        "X-Next-Page not followed: {requests:#?}"
    );
}

#[test]
fn a_failing_api_is_a_warning_and_the_publish_succeeds() {
    let mock = MockGitLab::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    mock.fail(500, -1);
    let out = publish(&mock, &site, "py=3.11", &[]);
    let text = assert_ok(&out);
    assert!(
        text.contains("warning: merge request note: GitLab answered 500"),
        "{text}"
    );
    assert!(site.join("reports/shop/feat~2Fcart/latest.json").is_file());
    assert!(mock.notes().is_empty());

    // A token GitLab refuses: the same, and said so, without the token.
    let mock = MockGitLab::start(&[]);
    let out = publish(&mock, &site, "py=3.11", &[("GITLAB_TOKEN", "glpat-wrong")]);
    let text = assert_ok(&out);
    assert!(text.contains("not a valid token"), "{text}");
    assert!(!text.contains("glpat-wrong"), "{text}");

    // An API nothing answers on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}/api/v4");
    let out = publish(&mock, &site, "py=3.11", &[("CI_API_V4_URL", &dead)]);
    let text = assert_ok(&out);
    assert!(text.contains("warning: merge request note:"), "{text}");
}

#[test]
fn without_a_token_one_line_says_how_and_mr_note_false_is_silent() {
    let mock = MockGitLab::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let out = publish(&mock, &site, "py=3.11", &[("GITLAB_TOKEN", "")]);
    let text = assert_ok(&out);
    assert_eq!(text.matches("GITLAB_TOKEN").count(), 1, "{text}");
    assert!(text.contains("api scope"), "{text}");
    assert!(!text.contains("warning"), "{text}");

    let out = publish(&mock, &site, "py=3.11", &[("ALLURE_MR_NOTE", "false")]);
    let text = assert_ok(&out);
    assert!(!text.contains("Merge request"), "{text}");
    // Outside a merge request pipeline, nothing either.
    let out = publish(&mock, &site, "py=3.11", &[("CI_MERGE_REQUEST_IID", "")]);
    let text = assert_ok(&out);
    assert!(!text.contains("Merge request"), "{text}");
    assert!(mock.requests().is_empty(), "{:#?}", mock.requests());
}
