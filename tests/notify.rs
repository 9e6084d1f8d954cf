//! Notifications through the real binary to a local stand-in for Slack,
//! Teams, Google Chat and a generic receiver (tests/support/mock_webhooks.py):
//! the payloads have each service's shape, a receiver's failure is a
//! warning, retries are bounded, and no webhook URL is ever printed.
#![cfg(feature = "integration")]

mod support;

use std::path::Path;
use std::process::Output;

use support::mock::Mock;
use support::*;

const SECRET: &str = "T0SECRET/B0SECRET/XYZSECRET";

/// Example results with the given statuses by file number.
fn results(dir: &Path, statuses: &[(&str, &str)]) -> String {
    let out = dir.join("allure-results");
    let _ = std::fs::remove_dir_all(&out);
    example_results(&out);
    set_statuses(&out, statuses);
    out.to_string_lossy().into_owned()
}

const GREEN: &[(&str, &str)] = &[("09", "passed"), ("10", "passed")];
const RED: &[(&str, &str)] = &[("09", "failed"), ("10", "passed")];
const REDDER: &[(&str, &str)] = &[("09", "failed"), ("10", "broken")];

fn publish(
    dir: &Path,
    branch: &str,
    statuses: &[(&str, &str)],
    env: &[(&str, &str)],
    extra: &[&str],
) -> Output {
    let results = results(dir, statuses);
    let mut args = vec![
        "publish",
        "--results",
        &results,
        "--local-dir",
        "site",
        "--project",
        "shop",
        "--branch",
        branch,
    ];
    args.extend_from_slice(extra);
    let mut cmd = command_in(dir, &args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run allure-host")
}

fn posts_to<'a>(requests: &'a [serde_json::Value], path_start: &str) -> Vec<&'a serde_json::Value> {
    requests
        .iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with(path_start))
        .collect()
}

#[test]
fn every_service_hears_of_a_publish_and_a_failing_receiver_is_a_warning() {
    let hooks = Mock::start("mock_webhooks.py", &[]);
    let tmp = tempfile::tempdir().unwrap();
    ok(&publish(tmp.path(), "main", GREEN, &[], &[]));

    let u = &hooks.url;
    let notify = format!(
        "slack:{u}/ok/slack/{SECRET}, teams:{u}/ok/teams/{SECRET}\n\
         google-chat:{u}/ok/chat/{SECRET} {u}/ok/generic/{SECRET}\n\
         webhook:{u}/fail/{SECRET},slack:{u}/flaky/{SECRET},{u}/echo/{SECRET}"
    );
    let out = publish(
        tmp.path(),
        "feat/pay",
        RED,
        &[("ALLURE_NOTIFY", &notify)],
        &["--compare-to", "main", "--summary-json", "summary.json"],
    );
    let stdout = ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let log = format!("{stdout}{stderr}");
    let summary = std::fs::read_to_string(tmp.path().join("summary.json")).unwrap();
    for shown in [&log, &summary] {
        assert!(
            !shown.contains("SECRET"),
            "a webhook URL was shown:\n{shown}"
        );
    }
    assert!(log.contains("Notified the Slack webhook #1\n"), "{log}");
    assert!(
        log.contains("Notified the Slack webhook #6 after 2 tries"),
        "{log}"
    );
    assert!(
        log.contains(
            "the generic webhook #5 was not notified: the receiver answered 500 Internal Server Error, 3 times"
        ),
        "{log}"
    );
    assert!(
        log.contains(
            "the generic webhook #7 was not notified: the receiver answered 400 Bad Request\n"
        ),
        "{log}"
    );

    let requests = hooks.requests();
    assert_eq!(
        posts_to(&requests, "/fail/").len(),
        3,
        "tries are bounded at 3"
    );
    assert_eq!(
        posts_to(&requests, "/flaky/").len(),
        2,
        "a 503 is tried again"
    );
    assert_eq!(
        posts_to(&requests, "/echo/").len(),
        1,
        "a 400 is not tried again"
    );
    for r in &requests {
        assert_eq!(r["content_type"], "application/json");
        assert!(
            r["user_agent"]
                .as_str()
                .unwrap()
                .starts_with("allure-host/")
        );
    }

    let slack = &posts_to(&requests, "/ok/slack/")[0]["body"];
    assert_eq!(slack["blocks"][0]["type"], "header");
    assert_eq!(
        slack["blocks"][0]["text"]["text"],
        "❌ Failed: shop · feat/pay"
    );
    let slack_text = slack.to_string();
    assert!(
        slack_text.contains("*New failures since main* (1)"),
        "{slack_text}"
    );
    assert!(
        slack_text.contains("`Checkout charges the card` · _"),
        "{slack_text}"
    );
    let teams = &posts_to(&requests, "/ok/teams/")[0]["body"];
    assert_eq!(teams["type"], "message");
    let card = &teams["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["actions"][0]["type"], "Action.OpenUrl");
    let chat = &posts_to(&requests, "/ok/chat/")[0]["body"];
    assert_eq!(
        chat["cardsV2"][0]["card"]["header"]["title"],
        "❌ Failed: shop · feat/pay"
    );

    // The generic receiver gets the summary JSON, valid against its schema.
    let generic = &posts_to(&requests, "/ok/generic/")[0]["body"];
    assert_eq!(generic["branch"], "feat/pay");
    assert_eq!(generic["changes"]["new_failures"]["total"], 1);
    let body_file = tmp.path().join("generic.json");
    std::fs::write(&body_file, generic.to_string()).unwrap();
    let check = std::process::Command::new(repo().join(".venv/bin/check-jsonschema"))
        .arg("--schemafile")
        .arg(repo().join("docs/summary.schema.json"))
        .arg(&body_file)
        .arg(tmp.path().join("summary.json"))
        .output()
        .expect("run check-jsonschema from .venv");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // The bodies, for the services' own validators (tests/support/payloads.mjs).
    let dir = tmp.path().join("payloads");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, body) in [("slack", slack), ("teams", teams), ("google-chat", chat)] {
        std::fs::write(dir.join(format!("{name}.json")), body.to_string()).unwrap();
    }
    let validated = std::process::Command::new("node")
        .arg(repo().join("tests/support/payloads.mjs"))
        .arg("chat")
        .arg(&dir)
        .output()
        .expect("run node");
    assert!(
        validated.status.success(),
        "{}{}",
        String::from_utf8_lossy(&validated.stdout),
        String::from_utf8_lossy(&validated.stderr)
    );
}

#[test]
fn notify_on_change_speaks_when_the_line_turns() {
    let hooks = Mock::start("mock_webhooks.py", &[]);
    let tmp = tempfile::tempdir().unwrap();
    let notify = format!("{}/ok/line/{SECRET}", hooks.url);
    let env = [
        ("ALLURE_NOTIFY", notify.as_str()),
        ("ALLURE_NOTIFY_ON", "change"),
    ];
    let mut said = Vec::new();
    for statuses in [GREEN, GREEN, RED, RED, REDDER, REDDER, GREEN] {
        let out = publish(tmp.path(), "main", statuses, &env, &[]);
        let stdout = ok(&out);
        said.push(stdout.contains("Notified the generic webhook #1"));
    }
    // Red, still red (quiet), a test more failing, still so (quiet), green.
    assert_eq!(said, [false, false, true, false, true, false, true]);
    let bodies: Vec<serde_json::Value> = hooks
        .requests()
        .into_iter()
        .map(|r| r["body"].clone())
        .collect();
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[0]["previous"]["red"], false);
    assert_eq!(bodies[1]["previous"]["red"], true);
    assert_eq!(bodies[1]["previous"]["newly_failing"], 1);
    assert_eq!(bodies[2]["previous"]["status"], "failed");
    assert_eq!(bodies[2]["stats"]["failed"], 0);
}

#[test]
fn a_webhook_url_in_the_config_file_or_over_http_is_refused_without_showing_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("allure-host.yml"),
        format!("notify: https://hooks.slack.com/services/{SECRET}\n"),
    )
    .unwrap();
    let err = failed(&publish(tmp.path(), "main", GREEN, &[], &[]));
    assert!(err.contains("set ALLURE_NOTIFY"), "{err}");
    assert!(!err.contains("SECRET"), "{err}");
    std::fs::remove_file(tmp.path().join("allure-host.yml")).unwrap();
    let plain = format!("http://hooks.example.com/{SECRET}");
    let err = failed(&publish(
        tmp.path(),
        "main",
        GREEN,
        &[("ALLURE_NOTIFY", &plain)],
        &[],
    ));
    assert!(
        err.contains("entry 1 (host hooks.example.com) is not https"),
        "{err}"
    );
    assert!(!err.contains("SECRET"), "{err}");
}
