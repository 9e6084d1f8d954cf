//! The CloudFront Function that setup installs, run under Node with the
//! event shape CloudFront passes it (cloudfront-js-2.0 is ES5.1 plus a few
//! later features, all of which Node has).

use std::process::Command;

use serde_json::{Value, json};

fn handle(uri: &str, querystring: Value) -> Value {
    let code = include_str!("../src/infra/viewer-request.js");
    let script = format!(
        "{code}\nconst event = JSON.parse(process.argv[1]);\nconsole.log(JSON.stringify(handler(event)));"
    );
    let event = json!({"version": "1.0", "request": {"method": "GET", "uri": uri, "querystring": querystring, "headers": {}}});
    let out = Command::new("node")
        .args(["-e", &script, &event.to_string()])
        .output()
        .expect("node is needed for this test (bash .ci/run installs the npm tools)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn folder_urls_are_served_their_index_html() {
    for (uri, served) in [
        ("/", "/index.html"),
        (
            "/reports/web/main/20261122-101500-a1b2c3/",
            "/reports/web/main/20261122-101500-a1b2c3/index.html",
        ),
        (
            "/reports/web/main/latest/",
            "/reports/web/main/latest/index.html",
        ),
    ] {
        assert_eq!(handle(uri, json!({}))["uri"], served, "{uri}");
    }
}

#[test]
fn files_pass_through_untouched() {
    for uri in [
        "/reports/web/main/latest/index.html",
        "/reports/web/main/1/app.js",
        "/reports/web/main/1/data/attachments/4f1c-attachment.woff2",
        "/reports/web/main/1/favicon.ico",
        "/reports/web/main/runs/index.json",
    ] {
        let out = handle(uri, json!({}));
        assert_eq!(out["uri"], uri);
        assert!(out.get("statusCode").is_none(), "{uri}: {out}");
    }
}

#[test]
fn a_folder_without_its_slash_is_redirected_keeping_the_query() {
    for uri in [
        "/reports/web/main/latest",
        "/reports/web/main/9001-1-python-3.12",
    ] {
        let out = handle(uri, json!({}));
        assert_eq!(out["statusCode"], 301, "{uri}: {out}");
        assert_eq!(out["headers"]["location"]["value"], format!("{uri}/"));
    }
    let out = handle(
        "/reports/web/main/latest",
        json!({"tab": {"value": "graphs"}, "x": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]}, "flag": {"value": ""}}),
    );
    assert_eq!(
        out["headers"]["location"]["value"],
        // (the event object reaches the function with its keys sorted)
        "/reports/web/main/latest/?flag&tab=graphs&x=1&x=2"
    );
}
