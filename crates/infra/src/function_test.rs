//! CloudFront's own verdict on the function: fixed viewer requests for its
//! `TestFunction` call, and the judging of what it answers (status, redirect,
//! compute utilisation). Pure: `aws` makes the call.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::access::AccessConfig;
use crate::model::access::{AccessKey, LINK_PARAM, Mode, token};
use crate::model::checks::{Row, Status, row};

/// Compute utilisation (percent of CloudFront's time limit) above which a
/// check fails: over it, a slower edge or a longer request risks throttling.
pub const FAIL_OVER: u32 = 70;
/// Above this it warns: the margin is getting thin.
pub const WARN_OVER: u32 = 50;
/// The folder the fixed requests ask for: no report lives there.
pub const CHECK_PATH: &str = "/~allure-host/check/";
const COOKIE: &str = "allure_host_access";
/// A badge where none is: a site that opens its badges lets it through
/// without credentials.
pub const BADGE_CHECK_PATH: &str = "/allure-host-check/project/branch/badge.svg";
/// How long the check's own link opens its (empty) folder.
const LINK_SECS: i64 = 600;

/// What CloudFront answered for one event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub compute_utilization: Option<String>,
    pub error_message: Option<String>,
    /// The event the function returned, as a JSON string.
    pub output: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// Passed on to the bucket for `uri`.
    Request(String),
    /// Answered by the function, never passed on.
    Refused,
    /// Answered with `status` and exactly this Location.
    Redirect(u16, String),
    /// Answered with this status.
    Status(u16),
    /// Anything, as long as a redirect stays on the site.
    StaysOnSite,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub name: &'static str,
    pub event: Vec<u8>,
    expect: Expect,
}

/// The requests that the settings let us judge: a refused request, a valid
/// signed link, a folder URL and a bad path. A case is left out when these
/// settings give it no answer to expect (no address outside the ranges, no
/// key to sign with, no way in that the check can use).
pub fn cases(config: &AccessConfig, now: i64) -> Vec<Case> {
    let open = config.modes == [Mode::Open];
    let key = config
        .modes
        .contains(&Mode::Link)
        .then(|| config.active_key())
        .flatten()
        .map(|id| AccessKey::new(id, &config.keys[id].secret));
    let link = key.as_ref().map(|k| token(k, CHECK_PATH, now + LINK_SECS));
    let mut cases = Vec::new();
    if let Some(ip) = outside(config) {
        let expect = if open {
            Expect::Request(format!("{CHECK_PATH}index.html"))
        } else {
            Expect::Refused
        };
        let uri = format!("{CHECK_PATH}index.html");
        cases.push(case(
            "function: no credentials",
            &uri,
            &ip,
            json!({}),
            json!({}),
            expect,
        ));
    }
    if let Some(t) = &link {
        let query = json!({ LINK_PARAM: { "value": t } });
        let expect = Expect::Redirect(302, CHECK_PATH.to_string());
        cases.push(case(
            "function: signed link",
            CHECK_PATH,
            "192.0.2.1",
            query,
            json!({}),
            expect,
        ));
    }
    let way_in = match (&link, inside(config)) {
        _ if open => Some(("192.0.2.1".to_string(), json!({}))),
        (Some(t), _) => Some(("192.0.2.1".to_string(), json!({ COOKIE: { "value": t } }))),
        (None, Some(ip)) => Some((ip, json!({}))),
        (None, None) => None,
    };
    if let Some((ip, cookies)) = way_in {
        let expect = Expect::Request(format!("{CHECK_PATH}index.html"));
        cases.push(case(
            "function: folder URL",
            CHECK_PATH,
            &ip,
            json!({}),
            cookies,
            expect,
        ));
    }
    if config.public_badges && !open {
        let expect = Expect::Request(BADGE_CHECK_PATH.to_string());
        cases.push(case(
            "function: public badge",
            BADGE_CHECK_PATH,
            "192.0.2.1",
            json!({}),
            json!({}),
            expect,
        ));
    }
    let expect = if open {
        Expect::StaysOnSite
    } else {
        Expect::Status(400)
    };
    cases.push(case(
        "function: bad path",
        "//evil.example/x",
        "192.0.2.1",
        json!({}),
        json!({}),
        expect,
    ));
    cases
}

fn case(
    name: &'static str,
    uri: &str,
    ip: &str,
    querystring: Value,
    cookies: Value,
    expect: Expect,
) -> Case {
    let event = json!({
        "version": "1.0",
        "context": { "eventType": "viewer-request" },
        "viewer": { "ip": ip },
        "request": {
            "method": "GET",
            "uri": uri,
            "querystring": querystring,
            "headers": { "host": { "value": "example.cloudfront.net" } },
            "cookies": cookies,
        },
    });
    Case {
        name,
        event: event.to_string().into_bytes(),
        expect,
    }
}

/// An address no range lets in, if the settings leave one among the
/// documentation addresses.
fn outside(config: &AccessConfig) -> Option<String> {
    ["192.0.2.1", "198.51.100.1", "203.0.113.1"]
        .into_iter()
        .find(|ip| !config.modes.contains(&Mode::Ip) || !config.ips.iter().any(|r| contains(r, ip)))
        .map(str::to_string)
}

/// The first range's own network address, which it lets in.
fn inside(config: &AccessConfig) -> Option<String> {
    if !config.modes.contains(&Mode::Ip) {
        return None;
    }
    let (addr, _) = config.ips.first()?.split_once('/')?;
    Some(addr.parse::<IpAddr>().ok()?.to_string())
}

fn contains(range: &str, ip: &str) -> bool {
    let Some((net, bits)) = range.split_once('/') else {
        return false;
    };
    match (
        net.parse::<IpAddr>(),
        bits.parse::<u32>(),
        ip.parse::<IpAddr>(),
    ) {
        (Ok(IpAddr::V4(net)), Ok(bits), Ok(IpAddr::V4(ip))) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(net) & mask == u32::from(ip) & mask
        }
        _ => false,
    }
}

/// One row for one case: the function's answer as expected, within the
/// compute budget. Report bytes, redirects and tokens are never echoed.
pub fn judge(case: &Case, outcome: &Outcome) -> Row {
    if let Some(e) = outcome.error_message.as_deref().filter(|e| !e.is_empty()) {
        return row(case.name, Status::Fail, format!("the function failed: {e}"));
    }
    let answer = match outcome.output.as_deref().map(Answer::parse) {
        Some(Ok(a)) => a,
        Some(Err(why)) => return row(case.name, Status::Fail, why),
        None => return row(case.name, Status::Fail, "CloudFront returned no output"),
    };
    if let Err(why) = answer.meets(&case.expect) {
        return row(
            case.name,
            Status::Fail,
            format!("{why} (got {})", answer.describe()),
        );
    }
    let (status, compute) = compute(outcome.compute_utilization.as_deref());
    row(
        case.name,
        status,
        format!("{}; {compute}", answer.describe()),
    )
}

/// The check could not run: never a pass.
pub fn not_run(why: &str) -> Row {
    row(
        "function test",
        Status::Warn,
        format!("CloudFront's TestFunction could not run: {why}; the live function was not tested"),
    )
}

fn compute(value: Option<&str>) -> (Status, String) {
    let Some(n) = value.and_then(|v| v.trim().parse::<u32>().ok()) else {
        return (Status::Warn, "no compute utilization reported".into());
    };
    let status = if n > FAIL_OVER {
        Status::Fail
    } else if n > WARN_OVER {
        Status::Warn
    } else {
        Status::Ok
    };
    let limit = match status {
        Status::Fail => format!(", over the {FAIL_OVER} allowed"),
        Status::Warn => format!(", over {WARN_OVER}"),
        Status::Ok => String::new(),
    };
    (status, format!("compute utilization {n}{limit}"))
}

/// What the function returned: a request passed on, or its own response.
#[derive(Debug)]
enum Answer {
    Request {
        uri: String,
    },
    Response {
        status: u16,
        location: Option<String>,
    },
}

impl Answer {
    fn parse(output: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(output)
            .map_err(|e| format!("CloudFront's FunctionOutput is not JSON: {e}"))?;
        if let Some(r) = v.get("response").filter(|r| r.is_object()) {
            let status = r["statusCode"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .ok_or("the function's response has no statusCode")?;
            let location = r["headers"]["location"]["value"]
                .as_str()
                .map(str::to_string);
            return Ok(Self::Response { status, location });
        }
        match v.get("request").and_then(|r| r["uri"].as_str()) {
            Some(uri) => Ok(Self::Request {
                uri: uri.to_string(),
            }),
            None => {
                Err("CloudFront's FunctionOutput holds neither a request nor a response".into())
            }
        }
    }

    fn meets(&self, expect: &Expect) -> Result<(), &'static str> {
        let ok = match (expect, self) {
            (Expect::Request(want), Self::Request { uri }) => uri == want,
            (Expect::Refused, Self::Response { status, .. }) => matches!(status, 401 | 403),
            (Expect::Redirect(want, to), Self::Response { status, location }) => {
                status == want && location.as_deref() == Some(to.as_str())
            }
            (Expect::Status(want), Self::Response { status, .. }) => status == want,
            (
                Expect::StaysOnSite,
                Self::Response {
                    location: Some(l), ..
                },
            ) => on_site(l),
            (Expect::StaysOnSite, _) => true,
            _ => false,
        };
        if ok {
            return Ok(());
        }
        Err(match expect {
            Expect::Request(_) => "expected the request passed on for its index.html",
            Expect::Refused => "expected a refusal (401 or 403) without report bytes",
            Expect::Redirect(..) => "expected a 302 to the same folder without the token",
            Expect::Status(_) => "expected 400 for an address no report has",
            Expect::StaysOnSite => "a redirect leaves the site",
        })
    }

    /// Status and path only: a Location's query could hold a token.
    fn describe(&self) -> String {
        match self {
            Self::Request { uri } => format!("passed on for {uri}"),
            Self::Response {
                status,
                location: None,
            } => format!("answered {status}"),
            Self::Response {
                status,
                location: Some(l),
            } => {
                let path = l.split('?').next().unwrap_or_default();
                format!("answered {status} to {path}")
            }
        }
    }
}

/// A Location on this site: a path, not `//host` or `/\host`.
fn on_site(location: &str) -> bool {
    location.starts_with('/') && !location.starts_with("//") && !location.starts_with("/\\")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_access;

    fn outcome(output: Value, compute: &str) -> Outcome {
        Outcome {
            compute_utilization: Some(compute.into()),
            error_message: None,
            output: Some(output.to_string()),
        }
    }

    fn by_name<'a>(cases: &'a [Case], name: &str) -> &'a Case {
        cases.iter().find(|c| c.name == name).unwrap()
    }

    fn response(status: u16, location: Option<&str>) -> Value {
        let headers = match location {
            Some(l) => json!({ "location": { "value": l } }),
            None => json!({}),
        };
        json!({ "response": { "statusCode": status, "statusDescription": "x", "headers": headers, "cookies": {} } })
    }

    #[test]
    fn link_mode_gets_four_cases_with_a_token_that_the_function_would_accept() {
        let config = test_access().config;
        let cases = cases(&config, 1_000);
        let names: Vec<&str> = cases.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "function: no credentials",
                "function: signed link",
                "function: folder URL",
                "function: bad path"
            ]
        );
        let event: Value =
            serde_json::from_slice(&by_name(&cases, "function: signed link").event).unwrap();
        assert_eq!(event["version"], "1.0");
        assert_eq!(event["context"]["eventType"], "viewer-request");
        let t = event["request"]["querystring"]["access"]["value"]
            .as_str()
            .unwrap();
        let key = AccessKey::new("k1", &config.keys["k1"].secret);
        assert_eq!(t, token(&key, CHECK_PATH, 1_600));
        let folder: Value =
            serde_json::from_slice(&by_name(&cases, "function: folder URL").event).unwrap();
        assert_eq!(folder["request"]["cookies"][COOKIE]["value"], t);
    }

    #[test]
    fn cases_follow_the_modes() {
        let mut c = AccessConfig::open();
        c.set_modes(
            vec![Mode::Ip],
            &["192.0.2.0/24".into(), "198.51.100.0/24".into()],
        )
        .unwrap();
        let cases = cases(&c, 0);
        let none: Value = serde_json::from_slice(&cases[0].event).unwrap();
        assert_eq!(
            none["viewer"]["ip"], "203.0.113.1",
            "an address outside every range"
        );
        let folder: Value =
            serde_json::from_slice(&by_name(&cases, "function: folder URL").event).unwrap();
        assert_eq!(folder["viewer"]["ip"], "192.0.2.0");
        c.set_modes(vec![Mode::Ip], &["0.0.0.0/0".into()]).unwrap();
        assert!(
            super::cases(&c, 0)
                .iter()
                .all(|k| k.name != "function: no credentials")
        );
        c.set_modes(vec![Mode::Basic], &[]).unwrap();
        let names: Vec<&str> = super::cases(&c, 0).iter().map(|k| k.name).collect();
        assert_eq!(names, ["function: no credentials", "function: bad path"]);
        let open = super::cases(&AccessConfig::open(), 0);
        let ok = outcome(
            json!({"request": {"uri": "/~allure-host/check/index.html"}}),
            "5",
        );
        assert_eq!(judge(&open[0], &ok).status, Status::Ok);
    }

    #[test]
    fn public_badges_add_a_case_that_passes_without_credentials() {
        let mut c = AccessConfig::open();
        c.set_modes(vec![Mode::Basic], &[]).unwrap();
        c.public_badges = true;
        let cases = cases(&c, 0);
        let names: Vec<&str> = cases.iter().map(|k| k.name).collect();
        assert_eq!(
            names,
            [
                "function: no credentials",
                "function: public badge",
                "function: bad path"
            ]
        );
        let badge = by_name(&cases, "function: public badge");
        let event: Value = serde_json::from_slice(&badge.event).unwrap();
        assert_eq!(event["request"]["cookies"], json!({}));
        let passed = outcome(json!({"request": {"uri": BADGE_CHECK_PATH}}), "4");
        assert_eq!(judge(badge, &passed).status, Status::Ok);
        assert_eq!(
            judge(badge, &outcome(response(401, None), "4")).status,
            Status::Fail
        );
        // Open: everything passes anyway, no case of its own.
        c.set_modes(vec![Mode::Open], &[]).unwrap();
        assert!(
            super::cases(&c, 0)
                .iter()
                .all(|k| k.name != "function: public badge")
        );
    }

    #[test]
    fn answers_are_judged_on_status_redirect_and_compute() {
        let cases = cases(&test_access().config, 0);
        let refused = by_name(&cases, "function: no credentials");
        assert_eq!(
            judge(refused, &outcome(response(401, None), "12")).status,
            Status::Ok
        );
        let passed = outcome(
            json!({"request": {"uri": "/~allure-host/check/index.html"}}),
            "12",
        );
        let r = judge(refused, &passed);
        assert_eq!(r.status, Status::Fail);
        assert!(r.detail.contains("expected a refusal"), "{r:?}");

        let link = by_name(&cases, "function: signed link");
        let good = response(302, Some(CHECK_PATH));
        assert_eq!(judge(link, &outcome(good.clone(), "30")).status, Status::Ok);
        assert_eq!(
            judge(link, &outcome(good.clone(), "51")).status,
            Status::Warn
        );
        let r = judge(link, &outcome(good.clone(), "71"));
        assert_eq!(r.status, Status::Fail);
        assert!(r.detail.contains("compute utilization 71"), "{r:?}");
        let leaky = response(302, Some("/~allure-host/check/?access=k1.secret-token"));
        let r = judge(link, &outcome(leaky, "10"));
        assert_eq!(r.status, Status::Fail);
        assert!(!r.detail.contains("secret-token"), "{r:?}");
        let mut no_compute = outcome(good, "");
        no_compute.compute_utilization = None;
        assert_eq!(judge(link, &no_compute).status, Status::Warn);

        let bad = by_name(&cases, "function: bad path");
        assert_eq!(
            judge(bad, &outcome(response(400, None), "3")).status,
            Status::Ok
        );
        assert_eq!(
            judge(bad, &outcome(response(301, Some("//evil.example/x/")), "3")).status,
            Status::Fail
        );
        let open_bad = super::cases(&AccessConfig::open(), 0).pop().unwrap();
        for (location, status) in [
            ("//evil.example/x/", Status::Fail),
            ("/\\evil.example/x/", Status::Fail),
            ("/x/", Status::Ok),
        ] {
            assert_eq!(
                judge(&open_bad, &outcome(response(301, Some(location)), "3")).status,
                status,
                "{location}"
            );
        }

        let failing = Outcome {
            error_message: Some("TypeError: x is undefined".into()),
            ..Outcome::default()
        };
        assert!(judge(bad, &failing).detail.contains("TypeError"));
        assert_eq!(
            judge(bad, &outcome(json!("nonsense"), "3")).status,
            Status::Fail
        );
        assert_eq!(judge(bad, &Outcome::default()).status, Status::Fail);
        assert_eq!(not_run("x").status, Status::Warn);
    }
}
