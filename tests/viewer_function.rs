//! The CloudFront Function that setup installs, run under Node with the
//! event shape CloudFront passes it (cloudfront-js-2.0 is ES5.1 plus a few
//! later features, all of which Node has).

use std::process::Command;

use serde_json::{Value, json};

/// The function as written (open, no settings) on a plain GET.
fn handle(uri: &str, querystring: Value) -> Value {
    run_on(
        include_str!("../src/infra/viewer-request.js"),
        &Ask {
            query: querystring,
            ..ask(uri)
        },
    )
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

// ---- Access: the same function with a site's settings rendered in. ----

use allure_host::infra::access::{AccessConfig, SigningKey, User};
use allure_host::model::access::{AccessKey, Mode, hmac_hex, token};

const SECRET: &str = "5f1d0c9e8b7a69584736251403f2e1d0c9b8a79685746352413021f0e1d2c3b4";
const OLD_SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const PASSWORD: &str = "8c1f4e2a9b7d6c5e3f1a0b2c4d6e8f00";

fn key() -> AccessKey {
    AccessKey::new("k2", SECRET)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// k2 active, k1 rotated out a minute ago; alice's password; one range each
/// of IPv4 and IPv6.
fn site(modes: &[Mode]) -> String {
    let mut keys = std::collections::BTreeMap::new();
    keys.insert(
        "k2".into(),
        SigningKey {
            secret: SECRET.into(),
            until: None,
        },
    );
    keys.insert(
        "k1".into(),
        SigningKey {
            secret: OLD_SECRET.into(),
            until: Some(now() - 60),
        },
    );
    let mut users = std::collections::BTreeMap::new();
    users.insert(
        "alice".into(),
        User {
            salt: "a1b2".into(),
            hash: hmac_hex("a1b2", PASSWORD),
        },
    );
    AccessConfig {
        modes: modes.to_vec(),
        keys,
        users,
        ips: vec!["203.0.113.0/24".into(), "2001:db8:aa::/48".into()],
    }
    .render()
    .unwrap()
}

struct Ask<'a> {
    uri: &'a str,
    query: Value,
    cookies: Value,
    headers: Value,
    ip: &'a str,
}

fn ask(uri: &str) -> Ask<'_> {
    Ask {
        uri,
        query: json!({}),
        cookies: json!({}),
        headers: json!({}),
        ip: "198.51.100.7",
    }
}

fn run_on(code: &str, a: &Ask) -> Value {
    let script = format!(
        "{code}\nconst event = JSON.parse(process.argv[1]);\nconsole.log(JSON.stringify(handler(event)));"
    );
    let event = json!({"version": "1.0", "viewer": {"ip": a.ip}, "request": {
        "method": "GET", "uri": a.uri, "querystring": a.query, "headers": a.headers, "cookies": a.cookies}});
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

fn link(scope: &str, expires: i64) -> Value {
    json!({"access": {"value": token(&key(), scope, expires)}})
}

fn cookie(scope: &str) -> Value {
    json!({"allure_host_access": {"value": token(&key(), scope, now() + 3600)}})
}

/// The function answered itself: no object is fetched, so no report bytes.
fn refused(out: &Value, status: u64, case: &str) {
    assert_eq!(out["statusCode"], status, "{case}: {out}");
    assert!(out.get("uri").is_none(), "{case}: {out}");
    let body = out["body"]["data"].as_str().unwrap_or_default();
    assert!(body.contains("This report is private"), "{case}: {body}");
    assert_eq!(
        out["headers"]["cache-control"]["value"], "no-store",
        "{case}"
    );
}

const RUN: &str = "/reports/shop/main/9001-1-e2e/";
const PAGE: &str = "/reports/shop/main/9001-1-e2e/index.html";

#[test]
fn hostile_requests_never_reach_a_report() {
    let code = site(&[Mode::Link]);
    let good = token(&key(), RUN, now() + 3600);
    let parts: Vec<&str> = good.split('.').collect();
    let mut tampered_sig = good.clone();
    let last = if good.ends_with('0') { '1' } else { '0' };
    tampered_sig.replace_range(good.len() - 1.., &last.to_string());
    let tampered_expiry = format!("{}.{}.{}.{}", parts[0], now() + 999_999, parts[2], parts[3]);
    let old_key = token(&AccessKey::new("k1", OLD_SECRET), RUN, now() + 3600);
    let proto = format!("constructor.{}.{}.{}", parts[1], parts[2], parts[3]);
    let q = |t: &str| json!({"access": {"value": t}});
    let cases: Vec<(&str, Ask, u64)> = vec![
        ("no token", ask(PAGE), 401),
        (
            "tampered signature",
            Ask {
                query: q(&tampered_sig),
                ..ask(PAGE)
            },
            403,
        ),
        (
            "tampered expiry",
            Ask {
                query: q(&tampered_expiry),
                ..ask(PAGE)
            },
            403,
        ),
        (
            "expired",
            Ask {
                query: link(RUN, now() - 1),
                ..ask(PAGE)
            },
            403,
        ),
        (
            "project A's token on project B",
            Ask {
                query: link("/reports/shop/", now() + 60),
                ..ask("/reports/admin/main/1/index.html")
            },
            403,
        ),
        (
            "a run's token on another run",
            Ask {
                query: link(RUN, now() + 60),
                ..ask("/reports/shop/main/9002-1-e2e/index.html")
            },
            403,
        ),
        (
            "a branch's token on the project page",
            Ask {
                query: link("/reports/shop/main/", now() + 60),
                ..ask("/reports/shop/")
            },
            403,
        ),
        (
            "a branch's token on a sibling branch with its name as prefix",
            Ask {
                query: link("/reports/shop/main/", now() + 60),
                ..ask("/reports/shop/main2/")
            },
            403,
        ),
        (
            "dot segments out of the scope",
            Ask {
                query: link(RUN, now() + 60),
                ..ask("/reports/shop/main/9001-1-e2e/../../../admin/main/1/index.html")
            },
            400,
        ),
        (
            "encoded dot segments",
            Ask {
                query: link(RUN, now() + 60),
                ..ask("/reports/shop/main/9001-1-e2e/%2e%2e/%2E%2E/x/index.html")
            },
            400,
        ),
        (
            "encoded slash",
            Ask {
                query: link(RUN, now() + 60),
                ..ask("/reports/shop/main/9001-1-e2e%2F..%2F9002/index.html")
            },
            400,
        ),
        (
            "double slash",
            Ask {
                query: link(RUN, now() + 60),
                ..ask("/reports/shop/main/9001-1-e2e//index.html")
            },
            400,
        ),
        (
            "broken percent encoding",
            ask("/reports/shop/main/%E0%A4%A/index.html"),
            400,
        ),
        (
            "token given twice",
            Ask {
                query: json!({"access": {"value": good, "multiValue": [{"value": good}, {"value": tampered_sig}]}}),
                ..ask(PAGE)
            },
            403,
        ),
        (
            "token under another parameter",
            Ask {
                query: json!({"token": {"value": good}}),
                ..ask(PAGE)
            },
            401,
        ),
        (
            "cookie from another run's path",
            Ask {
                cookies: cookie("/reports/shop/main/9002-1-e2e/"),
                ..ask(PAGE)
            },
            403,
        ),
        (
            "cookie with a forged value",
            Ask {
                cookies: json!({"allure_host_access": {"value": tampered_sig}}),
                ..ask(PAGE)
            },
            403,
        ),
        (
            "rotated-out key",
            Ask {
                query: q(&old_key),
                ..ask(PAGE)
            },
            403,
        ),
        (
            "key id from the object prototype",
            Ask {
                query: q(&proto),
                ..ask(PAGE)
            },
            403,
        ),
        (
            "five-part token",
            Ask {
                query: q(&format!("{good}.x")),
                ..ask(PAGE)
            },
            403,
        ),
    ];
    assert!(cases.len() >= 15);
    for (case, a, status) in &cases {
        refused(&run_on(&code, a), *status, case);
    }
}

#[test]
fn basic_and_ip_refuse_strangers() {
    let basic = site(&[Mode::Basic]);
    let auth = |user: &str, pw: &str| json!({"authorization": {"value": format!("Basic {}", base64(&format!("{user}:{pw}")))}});
    let out = run_on(&basic, &ask(PAGE));
    refused(&out, 401, "basic without credentials");
    assert!(
        out["headers"]["www-authenticate"]["value"]
            .as_str()
            .unwrap()
            .starts_with("Basic realm=")
    );
    refused(
        &run_on(
            &basic,
            &Ask {
                headers: auth("alice", "wrong"),
                ..ask(PAGE)
            },
        ),
        403,
        "wrong password",
    );
    refused(
        &run_on(
            &basic,
            &Ask {
                headers: auth("mallory", PASSWORD),
                ..ask(PAGE)
            },
        ),
        403,
        "unknown user",
    );
    refused(
        &run_on(
            &basic,
            &Ask {
                headers: json!({"authorization": {"value": "Basic !!!"}}),
                ..ask(PAGE)
            },
        ),
        403,
        "garbage header",
    );
    let ip = site(&[Mode::Ip]);
    refused(
        &run_on(&ip, &ask(PAGE)),
        403,
        "address outside the allowlist",
    );
    refused(
        &run_on(
            &ip,
            &Ask {
                ip: "2001:db8:ab::1",
                ..ask(PAGE)
            },
        ),
        403,
        "IPv6 outside the allowlist",
    );
    refused(
        &run_on(
            &ip,
            &Ask {
                ip: "203.0.114.1",
                ..ask(PAGE)
            },
        ),
        403,
        "neighbouring range",
    );
    // Right credentials pass, and the credentials stop at the edge.
    let out = run_on(
        &basic,
        &Ask {
            headers: auth("alice", PASSWORD),
            ..ask(RUN)
        },
    );
    assert_eq!(out["uri"], PAGE, "{out}");
    assert!(out["headers"].get("authorization").is_none(), "{out}");
    for inside in ["203.0.113.250", "2001:db8:aa:1::5", "::ffff:203.0.113.9"] {
        assert_eq!(
            run_on(
                &ip,
                &Ask {
                    ip: inside,
                    ..ask(RUN)
                }
            )["uri"],
            PAGE,
            "{inside}"
        );
    }
}

#[test]
fn a_valid_link_becomes_a_cookie_for_its_scope_and_the_token_leaves_the_url() {
    let code = site(&[Mode::Link]);
    let branch = token(&key(), "/reports/shop/main/", now() + 600);
    let out = run_on(
        &code,
        &Ask {
            query: json!({"access": {"value": branch}, "tab": {"value": "graphs"}}),
            ..ask("/reports/shop/main/latest")
        },
    );
    assert_eq!(out["statusCode"], 302, "{out}");
    assert_eq!(
        out["headers"]["location"]["value"],
        "/reports/shop/main/latest/?tab=graphs"
    );
    assert_eq!(out["headers"]["cache-control"]["value"], "no-store");
    let c = &out["cookies"]["allure_host_access"];
    assert_eq!(c["value"], branch);
    let attrs = c["attributes"].as_str().unwrap();
    assert!(
        attrs.starts_with("Path=/reports/shop/main; Max-Age="),
        "{attrs}"
    );
    for a in ["Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(attrs.contains(a), "{attrs}");
    }
    // With the cookie, the page and its assets are served, the cookie stripped.
    let out = run_on(
        &code,
        &Ask {
            cookies: cookie("/reports/shop/main/"),
            ..ask(RUN)
        },
    );
    assert_eq!(out["uri"], PAGE, "{out}");
    assert!(out["cookies"].get("allure_host_access").is_none());
    let out = run_on(
        &code,
        &Ask {
            cookies: cookie("/reports/shop/main/"),
            ..ask("/reports/shop/main/9001-1-e2e/app.js")
        },
    );
    assert_eq!(out["uri"], "/reports/shop/main/9001-1-e2e/app.js");
    // The not-found page and the pages' shared styles stay public.
    for public in [
        "/~allure-host/404.html",
        "/reports/shop/~assets/pages-1a2b3c.css",
    ] {
        assert_eq!(run_on(&code, &ask(public))["uri"], public);
    }
    // ip OR link: a stranger's address with a valid cookie is let in.
    let both = site(&[Mode::Link, Mode::Ip]);
    assert_eq!(
        run_on(
            &both,
            &Ask {
                cookies: cookie(RUN),
                ..ask(RUN)
            }
        )["uri"],
        PAGE
    );
    assert_eq!(
        run_on(
            &both,
            &Ask {
                ip: "203.0.113.5",
                ..ask(RUN)
            }
        )["uri"],
        PAGE
    );
    refused(&run_on(&both, &ask(RUN)), 401, "neither");
}

fn base64(text: &str) -> String {
    let out = Command::new("node")
        .args([
            "-e",
            "process.stdout.write(Buffer.from(process.argv[1]).toString('base64'))",
            text,
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}
