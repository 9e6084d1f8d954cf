//! The CloudFront Function that setup installs, run with the event shape
//! CloudFront passes it under Node and under njs (support/viewer.rs), which
//! must answer every request alike.
#![cfg(feature = "integration")]

#[path = "support/viewer.rs"]
mod viewer;

use serde_json::{Value, json};
use viewer::{Case, TEMPLATE, base64, event};

/// The function as written (open, no settings) on plain GETs.
fn handle_all(uris: &[&str], querystring: Value) -> Vec<Value> {
    let cases: Vec<Case> = uris
        .iter()
        .map(|uri| Case {
            config: None,
            now: now(),
            event: event(
                uri,
                querystring.clone(),
                json!({}),
                json!({}),
                "198.51.100.7",
            ),
        })
        .collect();
    viewer::run(TEMPLATE, &cases)
        .into_iter()
        .map(|o| o.answer)
        .collect()
}

fn handle(uri: &str, querystring: Value) -> Value {
    handle_all(&[uri], querystring).remove(0)
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
use allure_host::model::layout::Layout;
use allure_host::pages::asset_files;

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
    config(modes).render().unwrap()
}

fn config(modes: &[Mode]) -> AccessConfig {
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
        public_badges: false,
    }
}

#[derive(Clone)]
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
    run_all(code, std::slice::from_ref(a)).remove(0)
}

/// Each request as a case of the batch, with the function's own settings.
fn cases(asks: &[Ask]) -> Vec<Case> {
    asks.iter()
        .map(|a| Case {
            config: None,
            now: now(),
            event: event(
                a.uri,
                a.query.clone(),
                a.headers.clone(),
                a.cookies.clone(),
                a.ip,
            ),
        })
        .collect()
}

/// Every request in one batch, under both engines.
fn run_all(code: &str, asks: &[Ask]) -> Vec<Value> {
    viewer::run(code, &cases(asks))
        .into_iter()
        .map(|o| o.answer)
        .collect()
}

fn link(scope: &str, expires: i64) -> Value {
    json!({"access": {"value": token(&key(), scope, expires)}})
}

fn cookie(scope: &str) -> Value {
    json!({"allure_host_access": {"value": token(&key(), scope, now() + 3600)}})
}

/// `t` with the last digit of its signature changed (never to itself).
fn forge(t: &str) -> String {
    let last = if t.ends_with('0') { '1' } else { '0' };
    format!("{}{last}", &t[..t.len() - 1])
}

/// The function answered itself: no object is fetched, so no report bytes.
fn refused(out: &Value, status: u64, case: &str) {
    assert_eq!(out["statusCode"], status, "{case}: {out}");
    assert!(out.get("uri").is_none(), "{case}: {out}");
    let body = out["body"]["data"].as_str().unwrap_or_default();
    let heading = if status == 400 {
        "This address is not valid"
    } else {
        "This report is private"
    };
    assert!(body.contains(heading), "{case}: {body}");
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
    let asks: Vec<Ask> = cases.iter().map(|(_, a, _)| a.clone()).collect();
    for ((case, _, status), out) in cases.iter().zip(run_all(&code, &asks)) {
        refused(&out, *status, case);
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
    // Credentials that do not sign in are asked for again: a browser keeps
    // sending what it was given until a 401 with the prompt tells it to
    // drop them, so a 403 would lock out a reader who mistyped.
    for (headers, case) in [
        (auth("alice", "wrong"), "wrong password"),
        (auth("mallory", PASSWORD), "unknown user"),
        (
            json!({"authorization": {"value": "Basic !!!"}}),
            "garbage header",
        ),
    ] {
        let out = run_on(
            &basic,
            &Ask {
                headers,
                ..ask(PAGE)
            },
        );
        refused(&out, 401, case);
        assert!(
            out["headers"]["www-authenticate"]["value"]
                .as_str()
                .is_some_and(|p| p.starts_with("Basic realm=")),
            "{case}: {out}"
        );
    }
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
    let css = format!("/reports/shop/~assets/{}", asset_files()[0].0);
    for public in ["/~allure-host/404.html", css.as_str()] {
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

// ---- Defects found by trying the function as an attacker would. ----

/// Every way in, for a path: none, a cookie and a link for the whole site,
/// an allowed address, alice's password.
fn every_credential(uri: &str) -> Vec<Ask<'_>> {
    let all = token(&key(), "/", now() + 3600);
    vec![
        ask(uri),
        Ask {
            cookies: json!({"allure_host_access": {"value": all}}),
            ..ask(uri)
        },
        Ask {
            query: json!({"access": {"value": all}}),
            ..ask(uri)
        },
        Ask {
            ip: "203.0.113.5",
            ..ask(uri)
        },
        Ask {
            headers: alice(),
            ..ask(uri)
        },
    ]
}

fn alice() -> Value {
    json!({"authorization": {"value": format!("Basic {}", base64(&format!("alice:{PASSWORD}")))}})
}

const EVERY_MODE: [&[Mode]; 6] = [
    &[Mode::Open],
    &[Mode::Link],
    &[Mode::Basic],
    &[Mode::Ip],
    &[Mode::Link, Mode::Basic],
    &[Mode::Link, Mode::Basic, Mode::Ip],
];

#[test]
fn every_redirect_stays_on_the_site_in_every_mode() {
    let hostile = [
        "//evil.example/x",
        "///evil.example/x",
        "/\\evil.example/x",
        "/%2F%2Fevil.example/x",
        "/%2fevil.example/x",
        "/%5Cevil.example/x",
        "/%5cevil.example",
        "/\t/evil.example/x",
        "/%09/evil.example/x",
        "/ /evil.example/x",
        "/x%0d%0aLocation:%20//evil.example/x",
    ];
    for modes in EVERY_MODE {
        let code = site(modes);
        let asks: Vec<Ask> = hostile.iter().flat_map(|u| every_credential(u)).collect();
        for (a, out) in asks.iter().zip(run_all(&code, &asks)) {
            refused(&out, 400, &format!("{modes:?} {:?}", a.uri));
        }
    }
    // The folder redirect and the link hand-over still work, on the site.
    let open = run_on(&site(&[Mode::Open]), &ask("/reports/shop/main/latest"));
    assert_eq!(open["statusCode"], 301, "{open}");
    assert_eq!(
        open["headers"]["location"]["value"],
        "/reports/shop/main/latest/"
    );
    let handed = run_on(
        &site(&[Mode::Link]),
        &every_credential("/reports/shop/main/latest")[2],
    );
    assert_eq!(handed["statusCode"], 302, "{handed}");
    assert_eq!(
        handed["headers"]["location"]["value"],
        "/reports/shop/main/latest/"
    );
}

#[test]
fn a_malformed_range_admits_nobody() {
    let malformed = [
        "10.0.0.0",
        "10.0.0.0/",
        "10.0.0.0/-1",
        "10.0.0.0/x",
        "10.0.0.0/+8",
        "10.0.0.0/ 8",
        "10.0.0.0/8.0",
        "10.0.0.0/1e1",
        "10.0.0.0/33",
        "10.0.0.0/8/8",
        "10.0.0/8",
        "/8",
        "2001:db8::",
        "2001:db8::/129",
        "2001:db8::/-1",
    ];
    let strangers = ["8.8.8.8", "10.1.2.3", "2001:db8::1", "2606:4700::1"];
    let with = |ranges: &[&str]| {
        let mut c = config(&[Mode::Ip]);
        c.ips = ranges.iter().map(|r| r.to_string()).collect();
        c.render().unwrap()
    };
    for range in malformed {
        let asks: Vec<Ask> = strangers.iter().map(|ip| Ask { ip, ..ask(PAGE) }).collect();
        for (a, out) in asks.iter().zip(run_all(&with(&[range]), &asks)) {
            refused(&out, 403, &format!("range {range:?}, viewer {}", a.ip));
        }
    }
    // Well-formed ranges, the edges of their lengths included, still admit
    // what they hold, beside a malformed one.
    for (range, inside, outside) in [
        ("10.0.0.0/8", "10.255.0.1", "11.0.0.1"),
        ("0.0.0.0/0", "8.8.8.8", "2001:db8::1"),
        ("198.51.100.7/32", "198.51.100.7", "198.51.100.8"),
        ("2001:db8::/32", "2001:db8:ffff::1", "2001:db9::1"),
        ("::/0", "2606:4700::1", "8.8.8.8"),
    ] {
        let code = with(&["10.0.0.0/-1", range]);
        let out = run_all(
            &code,
            &[
                Ask {
                    ip: inside,
                    ..ask(RUN)
                },
                Ask {
                    ip: outside,
                    ..ask(RUN)
                },
            ],
        );
        assert_eq!(out[0]["uri"], PAGE, "{range} {inside}: {}", out[0]);
        refused(&out[1], 403, &format!("{range} {outside}"));
    }
}

#[test]
fn with_basic_on_a_reader_without_authorization_is_always_asked_to_sign_in() {
    let code = site(&[Mode::Link, Mode::Basic]);
    // k1's grace ended a minute ago: its cookie no longer opens anything.
    let stale = token(&AccessKey::new("k1", OLD_SECRET), RUN, now() + 3600);
    let stale_cookie = json!({"allure_host_access": {"value": stale}});
    let forged = forge(&token(&key(), RUN, now() + 3600));
    let asks = vec![
        Ask {
            cookies: stale_cookie.clone(),
            ..ask(PAGE)
        },
        Ask {
            cookies: json!({"allure_host_access": {"value": forged}}),
            ..ask(PAGE)
        },
        Ask {
            query: link(RUN, now() - 1),
            ..ask(PAGE)
        },
        Ask {
            query: json!({"access": {"value": "nonsense"}}),
            ..ask(PAGE)
        },
        Ask {
            query: link("/reports/other/", now() + 60),
            ..ask(PAGE)
        },
    ];
    for (i, out) in run_all(&code, &asks).iter().enumerate() {
        refused(out, 401, &format!("case {i}"));
        let prompt = out["headers"]["www-authenticate"]["value"].as_str();
        assert!(
            prompt.is_some_and(|p| p.starts_with("Basic realm=")),
            "case {i}: {out}"
        );
    }
    // The password then opens the page, stale cookie or not; a wrong one
    // is asked for again.
    let wrong = json!({"authorization": {"value": format!("Basic {}", base64("alice:nope"))}});
    let out = run_all(
        &code,
        &[
            Ask {
                headers: alice(),
                cookies: stale_cookie.clone(),
                ..ask(RUN)
            },
            Ask {
                headers: wrong,
                cookies: stale_cookie.clone(),
                ..ask(RUN)
            },
        ],
    );
    assert_eq!(out[0]["uri"], PAGE, "{}", out[0]);
    refused(&out[1], 401, "wrong password");
    assert!(out[1]["headers"].get("www-authenticate").is_some());
    // Without basic there is no prompt to give: a stale cookie is refused.
    let out = run_on(
        &site(&[Mode::Link]),
        &Ask {
            cookies: stale_cookie,
            ..ask(PAGE)
        },
    );
    refused(&out, 403, "link only, stale cookie");
    assert!(out["headers"].get("www-authenticate").is_none());
}

/// The most one request costs: four cookies and one password, each one
/// HMAC over at most 830 bytes (a token's signed part) or 300 (a password).
const MAX_HMACS: u64 = 5;
const MAX_HASHED: u64 = 4 * 830 + 300;

#[test]
fn the_work_per_request_is_bounded() {
    let code = site(&[Mode::Link]);
    let good = token(&key(), RUN, now() + 3600);
    // Right key, scope and shape; one digit of the signature changed.
    let forged = |i: usize| forge(&token(&key(), RUN, now() + 3600 + i as i64));
    let jar = |values: Vec<String>| {
        let list: Vec<Value> = values.iter().map(|v| json!({"value": v})).collect();
        json!({"allure_host_access": {"value": values[0], "multiValue": list}})
    };
    let many = |n: usize, at: usize| {
        let mut values: Vec<String> = (0..n).map(forged).collect();
        values.insert(at, good.clone());
        Ask {
            cookies: jar(values),
            ..ask(PAGE)
        }
    };
    // A 401-byte scope: signed with the right key, still too long.
    let long_scope = format!("/{}/", "a".repeat(399));
    let asks = [
        many(190, 190),
        many(190, 3),
        many(190, 4),
        Ask {
            cookies: json!({"allure_host_access": {"value": token(&key(), &long_scope, now() + 60)}}),
            ..ask(PAGE)
        },
        Ask {
            cookies: json!({"allure_host_access": {"value": "k2.1.2f.".to_string() + &"0".repeat(100_000)}}),
            ..ask(PAGE)
        },
        Ask {
            query: json!({"access": {"value": "x".repeat(100_000)}}),
            ..ask(PAGE)
        },
    ];
    let out = viewer::run(&code, &cases(&asks));
    refused(&out[0].answer, 403, "a good cookie after 190 forged ones");
    assert_eq!(out[0].hmacs, 4, "190 forged cookies");
    assert_eq!(out[1].answer["uri"], PAGE, "the 4th cookie is checked");
    refused(&out[2].answer, 403, "the 5th cookie is not");
    for (i, o) in out[3..].iter().enumerate() {
        refused(&o.answer, 403, &format!("over-long token {i}"));
        assert_eq!(o.hmacs, 0, "over-long token {i} was hashed");
    }
    // No S3 key is longer than 1,024 bytes: a longer address is refused
    // before any pattern runs over it.
    let long = format!("/{}", "%41".repeat(1025));
    refused(
        &run_on(&code, &ask(&long)),
        400,
        "an address over 1,024 bytes",
    );
    // The worst request: forged cookies of the longest shape and a wrong
    // password of the longest header.
    let longest = format!("/{}/", "b".repeat(398));
    let worst = Ask {
        cookies: jar((0..50)
            .map(|i| forge(&token(&key(), &longest, now() + 60 + i)))
            .collect()),
        headers: json!({"authorization": {"value": format!("Basic {}", base64(&format!("alice:{}", "p".repeat(293))))}}),
        ..ask(PAGE)
    };
    let out = viewer::run(
        &site(&[Mode::Link, Mode::Basic]),
        &[Case {
            config: None,
            now: now(),
            event: event(
                worst.uri,
                worst.query,
                worst.headers,
                worst.cookies,
                worst.ip,
            ),
        }],
    );
    refused(&out[0].answer, 401, "worst case");
    assert_eq!(out[0].hmacs, MAX_HMACS);
    assert!(
        out[0].hashed <= MAX_HASHED,
        "{} bytes hashed",
        out[0].hashed
    );
    assert!(
        out[0].hashed > MAX_HASHED - 100,
        "{} bytes hashed",
        out[0].hashed
    );
}

#[test]
fn only_the_pages_assets_where_the_layout_writes_them_are_public() {
    let code = site(&[Mode::Link]);
    let mut public = Vec::new();
    for prefix in ["reports", "", "a/b.c/d-e_f"] {
        for project in ["shop", "web app é", "~"] {
            let layout = Layout::new(prefix, project, "main").unwrap();
            for (name, _) in asset_files() {
                public.push(format!("/{}{name}", layout.assets_prefix()));
            }
        }
    }
    let asks: Vec<Ask> = public.iter().map(|p| ask(p)).collect();
    for (p, out) in public.iter().zip(run_all(&code, &asks)) {
        assert_eq!(&out["uri"], p, "{out}");
    }
    let css = &asset_files()[0].0;
    let private = [
        "/reports/shop/main/9001-1-e2e/~assets/data.json".to_string(),
        "/reports/shop/main/9001-1-e2e/data/~assets/x.json".to_string(),
        "/reports/shop/~assets/secret.json".to_string(),
        "/reports/shop/~assets/".to_string(),
        format!("/reports/shop/~assets/{css}.map"),
        format!("/reports/shop/~assets/sub/{css}"),
        format!("/reports/shop/~assets/{}", css.to_uppercase()),
        format!("/~assets/{css}"),
        format!("/reports/shop/~assets/~assets/{css}"),
        format!("/re~7Eports/shop/~assets/{css}"),
    ];
    let asks: Vec<Ask> = private.iter().map(|p| ask(p)).collect();
    for (p, out) in private.iter().zip(run_all(&code, &asks)) {
        refused(&out, 401, p);
    }
}

// ---- Status badges: private unless the site opens them. ----

/// Every badge the layout writes, for a few prefixes, projects, branches
/// and legs.
fn badge_paths() -> Vec<String> {
    let mut paths = Vec::new();
    for prefix in ["reports", "", "a/b.c/d-e_f"] {
        for project in ["shop", "web app é", "~"] {
            for branch in ["main", "feat/x", "variants", "runs"] {
                let l = Layout::new(prefix, project, branch).unwrap();
                paths.push(format!("/{}", l.badge()));
                for leg in ["python-version=3.12", "..", "{\"os\": \"linux\"}"] {
                    paths.push(format!("/{}", l.leg_badge(leg)));
                }
            }
        }
    }
    paths
}

fn with_badges(modes: &[Mode]) -> String {
    AccessConfig {
        public_badges: true,
        ..config(modes)
    }
    .render()
    .unwrap()
}

#[test]
fn a_private_site_keeps_its_badges_private_unless_it_opens_them() {
    let paths = badge_paths();
    let asks: Vec<Ask> = paths.iter().map(|p| ask(p)).collect();
    for (modes, status) in [
        (&[Mode::Link][..], 401),
        (&[Mode::Basic][..], 401),
        (&[Mode::Ip][..], 403),
        (&[Mode::Link, Mode::Basic, Mode::Ip][..], 401),
    ] {
        for (p, out) in paths.iter().zip(run_all(&site(modes), &asks)) {
            refused(&out, status, &format!("{modes:?} {p}"));
        }
        for (p, out) in paths.iter().zip(run_all(&with_badges(modes), &asks)) {
            assert_eq!(&out["uri"], p, "{modes:?}: {out}");
            assert!(out.get("statusCode").is_none(), "{modes:?} {p}: {out}");
        }
    }
}

/// With badges open, only the badges are: not a near miss of their name or
/// place, not a folder named like them, not the reports beside them.
#[test]
fn a_site_that_opens_its_badges_opens_nothing_else() {
    let code = with_badges(&[Mode::Link]);
    let long = format!("/{}/shop/main/badge.svg", "a".repeat(1010));
    let private = [
        "/reports/shop/main/badge.svg/",
        "/reports/shop/main/badge.svg/index.html",
        "/reports/shop/main/badge.svg/x",
        "/reports/shop/main/badge.svgx",
        "/reports/shop/main/badge.svg.map",
        "/reports/shop/main/xbadge.svg",
        "/reports/shop/main/badge-svg",
        "/reports/shop/main/Badge.svg",
        "/reports/shop/main/badge.SVG",
        "/reports/shop/main/badge.svg;.html",
        "/reports/shop/main/badge",
        "/shop/badge.svg",
        "/badge.svg",
        "/reports/shop/ma~zz/badge.svg",
        "/reports/shop/main/variants/py~/badge.svg",
        "/re~7Eports/shop/main/badge.svg",
        "/reports/shop/main/index.html",
        "/reports/shop/main/latest/",
        "/reports/shop/main/latest.json",
        "/reports/shop/main/runs/index.json",
        "/reports/shop/main/variants/py-3.12/latest.json",
        "/reports/shop/main/9001-1-e2e/index.html",
        "/reports/shop/main/9001-1-e2e/widgets/summary.json",
        "/reports/shop/index.html",
        &long,
    ];
    let asks: Vec<Ask> = private.iter().map(|p| ask(p)).collect();
    for (p, out) in private.iter().zip(run_all(&code, &asks)) {
        refused(&out, 401, p);
    }
    for bad in [
        "/reports/shop/main/badge%2Esvg",
        "/reports/shop/ma%2Fin/badge.svg",
        "/reports/shop/main/../main/badge.svg",
        "/reports/shop/main//badge.svg",
        "/reports/shop/main/badge.svg%00",
    ] {
        refused(&run_on(&code, &ask(bad)), 400, bad);
    }
    // The badge, asked for with an escape its key does not have, is still
    // the badge (the bucket decodes it too).
    let out = run_on(&code, &ask("/reports/shop/main/badg%65.svg"));
    assert_eq!(out["uri"], "/reports/shop/main/badg%65.svg", "{out}");
}

/// Only a literal `true` opens the badges: a CONFIG without the setting,
/// or with anything else in it, opens nothing new.
#[test]
fn badges_open_only_for_a_literal_true() {
    let code = with_badges(&[Mode::Link]);
    let on = r#","badges":true}"#;
    assert!(code.contains(on), "{code}");
    let paths = badge_paths();
    let asks: Vec<Ask> = paths.iter().map(|p| ask(p)).collect();
    for value in [
        r#"}"#,
        r#","badges":false}"#,
        r#","badges":"true"}"#,
        r#","badges":1}"#,
        r#","badges":[true]}"#,
        r#","badges":{}}"#,
        r#","badges":null}"#,
        r#","badges":"yes"}"#,
    ] {
        let tampered = code.replace(on, value);
        for (p, out) in paths.iter().zip(run_all(&tampered, &asks)) {
            refused(&out, 401, &format!("{value} {p}"));
        }
    }
}
