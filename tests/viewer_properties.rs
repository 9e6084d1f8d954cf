//! Tests that search: random requests against the viewer-request function,
//! each batch run under node and njs (which must agree), checked against
//! rules written here in Rust, apart from the JavaScript:
//! - it never lets a request through, and never redirects, without valid
//!   credentials (or, on a site that opens them, to a status badge where
//!   the layout writes one); every redirect stays on the site; the work per
//!   request stays bounded;
//! - its routing agrees with `route()`, which `allure-host serve` uses;
//! - its token check agrees with the Rust signer (`token`, `signed_url`,
//!   `scope_path`).
//!
//! Seeded: VIEWER_SEED=N repeats a run, VIEWER_CASES=N changes its size.
#![cfg(feature = "integration")]

#[path = "support/viewer.rs"]
mod viewer;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Instant;

use allure_host::infra::access::{AccessConfig, SigningKey, User};
use allure_host::model::access::{
    AccessKey, Mode, Scope, hex, hmac_hex, scope_path, signed_url, token,
};
use allure_host::model::layout::Layout;
use allure_host::model::route::{Route, route};
use allure_host::model::segment;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value, json};
use viewer::{Case, Outcome, base64, event};

/// The clock every case runs at.
const NOW: i64 = 1_900_000_000;
const SECRET: &str = "5f1d0c9e8b7a69584736251403f2e1d0c9b8a79685746352413021f0e1d2c3b4";
const STALE_SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const GRACE_SECRET: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
const PASSWORD: &str = "8c1f4e2a9b7d6c5e3f1a0b2c4d6e8f00";
const COOKIE: &str = "allure_host_access";
/// Four cookies and a password, at most: see docs/access.md.
const MAX_HMACS: u64 = 5;
const MAX_HASHED: u64 = 4 * 830 + 300;

fn cases(default: usize) -> usize {
    std::env::var("VIEWER_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn seed() -> u64 {
    std::env::var("VIEWER_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x5eed_0025)
}

/// `n` values of `strategy`, reproducibly from `seed`.
fn sample<S: Strategy>(strategy: S, n: usize, seed: u64) -> Vec<S::Value> {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).expect("a value").current())
        .collect()
}

fn report(name: &str, n: usize, seed: u64, started: Instant) {
    println!(
        "{name}: {n} cases under node and njs, seed {seed}, {} ms",
        started.elapsed().as_millis()
    );
}

// ---- The site every access case runs against. ----

fn key(id: &str) -> AccessKey {
    let secret = match id {
        "k1" => STALE_SECRET,
        "k3" => GRACE_SECRET,
        _ => SECRET,
    };
    AccessKey::new(id, secret)
}

/// k2 active, k1 past its grace, k3 within it; alice; `ranges`.
fn site(modes: Vec<Mode>, ranges: Vec<String>) -> AccessConfig {
    let mut keys = BTreeMap::new();
    for (id, until) in [
        ("k1", Some(NOW - 60)),
        ("k2", None),
        ("k3", Some(NOW + 3600)),
    ] {
        keys.insert(
            id.to_string(),
            SigningKey {
                secret: key(id).secret().to_string(),
                until,
            },
        );
    }
    let mut users = BTreeMap::new();
    users.insert(
        "alice".to_string(),
        User {
            salt: "a1b2".into(),
            hash: hmac_hex("a1b2", PASSWORD),
        },
    );
    AccessConfig {
        modes,
        keys,
        users,
        ips: ranges,
        public_badges: false,
    }
}

// ---- Requests, as abstract recipes made concrete once the URI is known. ----

#[derive(Debug, Clone)]
enum Tok {
    /// Signed with key `id` for the first `depth` segments of the path,
    /// expiring `ttl` seconds from now.
    Signed {
        id: &'static str,
        depth: usize,
        ttl: i64,
    },
    /// The same, one character of the signature changed.
    Forged {
        depth: usize,
    },
    /// The same, the expiry pushed out after signing.
    Stretched {
        depth: usize,
    },
    /// For a scope of `len` bytes (over the 400 a token may carry).
    Long {
        len: usize,
    },
    Raw(String),
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Alice,
    Wrong,
    Stranger,
    Raw(String),
}

#[derive(Debug, Clone)]
struct Recipe {
    modes: Vec<Mode>,
    ranges: Vec<String>,
    /// The site opens its badges.
    badges: bool,
    uri: String,
    param: Vec<Tok>,
    extra: Vec<(String, Vec<String>)>,
    cookies: Vec<Tok>,
    auth: Auth,
    ip: &'static str,
}

/// Segments of report addresses.
const PLAIN: &[&str] = &[
    "reports",
    "shop",
    "main",
    "9001-1-e2e",
    "latest",
    "index.html",
    "app.js",
    "py-3.12",
    "~assets",
    "pages-0123456789.css",
    "~allure-host",
    "404.html",
    "%C3%A9",
    "~7E",
    "badge.svg",
    "variants",
];

/// Segments no report address has.
const HOSTILE: &[&str] = &[
    "..",
    ".",
    "",
    "%2e%2e",
    "%2E",
    "%2f",
    "%2F%2Fevil.example",
    "%5c",
    "%5Cevil.example",
    "%0d%0aSet-Cookie:x",
    "%00",
    "%20",
    "%09",
    "\t",
    " ",
    "\r\n",
    "é",
    "%C3%A9",
    "%E0%A4%A",
    "%ZZ",
    "%",
    "%7E",
    "evil.example",
    "\\",
    "//",
    "%ED%A0%80",
    "\u{202e}",
];

fn uri() -> impl Strategy<Value = String> {
    let lead = prop_oneof![
        8 => Just("/"),
        1 => prop::sample::select(vec!["//", "/\\", "", "\\", "/%2F", "/%5C", " /", "\t/"]),
    ];
    let segment = prop_oneof![
        12 => prop::sample::select(PLAIN.to_vec()).prop_map(str::to_string),
        1 => prop::sample::select(HOSTILE.to_vec()).prop_map(str::to_string),
        2 => "[A-Za-z0-9._~-]{1,12}",
        1 => "\\PC{1,6}",
        1 => "\\PC{1,4}".prop_map(|s| s.bytes().map(|b| format!("%{b:02X}")).collect()),
        1 => (1usize..4000).prop_map(|n| "a".repeat(n)),
    ];
    let tail = prop::sample::select(vec![
        "",
        "",
        "/",
        "/index.html",
        ".json",
        "/~assets/pages-0123456789.css",
        "/badge.svg",
        "/badge.svg",
        "/variants/py-3.12/badge.svg",
        "/badge.svg/",
        "/badge.svgx",
    ]);
    (lead, prop::collection::vec(segment, 0..7), tail)
        .prop_map(|(lead, segs, tail)| format!("{lead}{}{tail}", segs.join("/")))
}

fn tok() -> impl Strategy<Value = Tok> {
    let ttl = prop_oneof![Just(-1i64), Just(0), Just(1), -100_000i64..10_000_000];
    prop_oneof![
        4 => (prop::sample::select(vec!["k1", "k2", "k3", "k9"]), 0usize..5, ttl)
            .prop_map(|(id, depth, ttl)| Tok::Signed { id, depth, ttl }),
        1 => (0usize..5).prop_map(|depth| Tok::Forged { depth }),
        1 => (0usize..5).prop_map(|depth| Tok::Stretched { depth }),
        1 => (390usize..420).prop_map(|len| Tok::Long { len }),
        1 => prop_oneof![
            "\\PC{0,40}",
            "[a-z0-9]{1,4}\\.[0-9]{1,13}\\.[0-9a-f]{0,20}\\.[0-9a-f]{60,70}",
            Just("constructor.9999999999.2f.".to_string() + &"0".repeat(64)),
            (1usize..20_000).prop_map(|n| "k2.".to_string() + &"9".repeat(n)),
        ].prop_map(Tok::Raw),
    ]
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        3 => Just(Auth::None),
        2 => Just(Auth::Alice),
        1 => Just(Auth::Wrong),
        1 => Just(Auth::Stranger),
        1 => prop_oneof![
            "\\PC{0,30}",
            Just("Basic !!!".to_string()),
            Just("Basic ".to_string() + &"QUFB".repeat(2000)),
            Just("Bearer abc".to_string()),
        ].prop_map(Auth::Raw),
    ]
}

fn recipe() -> impl Strategy<Value = Recipe> {
    use Mode::*;
    let modes = prop::sample::select(vec![
        vec![Open],
        vec![Link],
        vec![Basic],
        vec![Ip],
        vec![Link, Basic],
        vec![Link, Ip],
        vec![Basic, Ip],
        vec![Link, Basic, Ip],
    ]);
    let range = prop::sample::select(vec![
        "203.0.113.0/24",
        "2001:db8:aa::/48",
        "10.0.0.0",
        "10.0.0.0/-1",
        "0.0.0.0/x",
        "::/",
        "192.0.2.0/33",
        "8.8.8.8/32x",
    ])
    .prop_map(str::to_string);
    let param = prop_oneof![3 => Just(vec![]), 3 => tok().prop_map(|t| vec![t]), 1 => prop::collection::vec(tok(), 2..4)];
    let name = prop_oneof![
        prop::sample::select(vec![
            "tab",
            "x",
            "__proto__",
            "constructor",
            "access2",
            "x y",
            "%0d%0a",
            ""
        ])
        .prop_map(str::to_string),
        "\\PC{1,5}",
    ];
    let extra = prop::collection::vec((name, prop::collection::vec("\\PC{0,6}", 1..3)), 0..3);
    let ip = prop::sample::select(vec![
        "203.0.113.5",
        "203.0.114.1",
        "8.8.8.8",
        "10.1.2.3",
        "2001:db8:aa::1",
        "2001:db8:ab::1",
        "::ffff:203.0.113.9",
        "",
        "garbage",
        "1.2.3",
    ]);
    (
        (modes, prop::bool::ANY),
        prop::collection::vec(range, 0..3),
        uri(),
        param,
        extra,
        prop::collection::vec(tok(), 0..8),
        auth(),
        ip,
    )
        .prop_map(
            |((modes, badges), ranges, uri, param, extra, cookies, auth, ip)| Recipe {
                modes,
                ranges,
                badges,
                uri,
                param,
                extra,
                cookies,
                auth,
                ip,
            },
        )
}

/// The first `depth` segments of the decoded path, as a scope ("/a/b/").
fn scope_of(uri: &str, depth: usize) -> String {
    let path = decode(uri).unwrap_or_else(|| uri.to_string());
    let segs: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .take(depth)
        .collect();
    if segs.is_empty() {
        "/".to_string()
    } else {
        format!("/{}/", segs.join("/"))
    }
}

fn make(t: &Tok, uri: &str) -> String {
    match t {
        Tok::Signed { id, depth, ttl } => token(&key(id), &scope_of(uri, *depth), NOW + ttl),
        Tok::Forged { depth } => {
            let t = token(&key("k2"), &scope_of(uri, *depth), NOW + 60);
            let last = if t.ends_with('0') { "1" } else { "0" };
            format!("{}{last}", &t[..t.len() - 1])
        }
        Tok::Stretched { depth } => {
            let t = token(&key("k2"), &scope_of(uri, *depth), NOW - 60);
            let p: Vec<&str> = t.split('.').collect();
            format!("{}.{}.{}.{}", p[0], NOW + 9999, p[2], p[3])
        }
        Tok::Long { len } => token(&key("k2"), &format!("/{}/", "l".repeat(len - 2)), NOW + 60),
        Tok::Raw(s) => s.clone(),
    }
}

fn values(list: &[String]) -> Value {
    let mut v = json!({"value": list[0]});
    if list.len() > 1 {
        v["multiValue"] = list.iter().map(|x| json!({"value": x})).collect();
    }
    v
}

impl Recipe {
    fn query(&self) -> Value {
        let mut q = Map::new();
        for (name, vals) in &self.extra {
            q.insert(name.clone(), values(vals));
        }
        if !self.param.is_empty() {
            let list: Vec<String> = self.param.iter().map(|t| make(t, &self.uri)).collect();
            q.insert("access".into(), values(&list));
        }
        Value::Object(q)
    }

    fn cookies(&self) -> Value {
        if self.cookies.is_empty() {
            return json!({});
        }
        let list: Vec<String> = self.cookies.iter().map(|t| make(t, &self.uri)).collect();
        json!({ COOKIE: values(&list) })
    }

    fn header(&self) -> Option<String> {
        let basic = |pair: &str| format!("Basic {}", base64(pair));
        match &self.auth {
            Auth::None => None,
            Auth::Alice => Some(basic(&format!("alice:{PASSWORD}"))),
            Auth::Wrong => Some(basic("alice:nope")),
            Auth::Stranger => Some(basic(&format!("mallory:{PASSWORD}"))),
            Auth::Raw(s) => Some(s.clone()),
        }
    }

    fn case(&self) -> Case {
        let headers = match self.header() {
            Some(h) => json!({"authorization": {"value": h}, "host": {"value": "d.example"}}),
            None => json!({"host": {"value": "d.example"}}),
        };
        Case {
            config: Some(AccessConfig {
                public_badges: self.badges,
                ..site(self.modes.clone(), self.ranges.clone())
            }),
            now: NOW,
            event: event(&self.uri, self.query(), headers, self.cookies(), self.ip),
        }
    }
}

// ---- The rules, written apart from the function. ----

/// Percent-decoding as decodeURIComponent does it: None for a broken escape
/// or bytes that are not UTF-8.
fn decode(uri: &str) -> Option<String> {
    let b = uri.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = uri.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A path some report could have: what alone may reach the bucket.
fn report_path(uri: &str) -> Option<String> {
    let lower = uri.to_ascii_lowercase();
    let bad = |c: char| c == '\\' || c <= ' ' || c == '\u{7f}';
    if !uri.starts_with('/')
        || uri.encode_utf16().count() > 3073
        || uri.contains(bad)
        || ["%2f", "%5c", "%2e"].iter().any(|e| lower.contains(e))
    {
        return None;
    }
    let path = decode(uri)?;
    let dots = path.split('/').skip(1).any(|s| s == "." || s == "..");
    (!path.contains("//") && !dots && !path.contains(bad)).then_some(path)
}

/// `<prefix parts>/<project segment>/~assets/pages-<10 hex>.css|js`.
fn public(path: &str) -> bool {
    if path == "/~allure-host/404.html" {
        return true;
    }
    let parts: Vec<&str> = path.split('/').collect();
    let n = parts.len();
    if n < 4 || parts[n - 2] != "~assets" {
        return false;
    }
    let file = parts[n - 1];
    let name_ok = file.len() == 19 + usize::from(file.ends_with(".css"))
        && file.starts_with("pages-")
        && file[6..16]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && (file.ends_with(".css") || file.ends_with(".js"));
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    name_ok && encoded(parts[n - 3]) && parts[1..n - 3].iter().all(|p| plain(p))
}

/// A status badge where the layout writes one:
/// `<prefix parts>/<project>/<branch>/badge.svg` or
/// `<prefix parts>/<project>/<branch>/variants/<leg>/badge.svg`, at most
/// 1,025 characters.
fn badge(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let n = parts.len();
    let plain = |s: &&str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    let branch = n >= 4
        && encoded(parts[n - 2])
        && encoded(parts[n - 3])
        && parts[1..n - 3].iter().all(plain);
    let leg = n >= 6
        && parts[n - 3] == "variants"
        && encoded(parts[n - 2])
        && encoded(parts[n - 4])
        && encoded(parts[n - 5])
        && parts[1..n - 5].iter().all(plain);
    path.encode_utf16().count() <= 1025 && parts[n - 1] == "badge.svg" && (branch || leg)
}

/// Whether segment encoding can make `seg`: plain characters and `~XX`
/// escapes, perhaps ended by `~H` and 20 hex digits.
fn encoded(seg: &str) -> bool {
    let (body, hash) = match seg.rfind("~H") {
        Some(i) => (&seg[..i], Some(&seg[i + 2..])),
        None => (seg, None),
    };
    let hash_ok = hash.is_none_or(|h| {
        h.len() == 20
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'~' {
            let upper_hex =
                |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c));
            if !upper_hex(b.get(i + 1)) || !upper_hex(b.get(i + 2)) {
                return false;
            }
            i += 3;
        } else if b[i].is_ascii_alphanumeric() || b"._-".contains(&b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    !body.is_empty() && hash_ok
}

fn ip_allowed(ip: &str, ranges: &[String]) -> bool {
    let norm = |a: IpAddr| match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    };
    let Ok(ip) = ip.parse::<IpAddr>().map(norm) else {
        return false;
    };
    ranges.iter().any(|r| {
        let Some((net, bits)) = r.split_once('/') else {
            return false;
        };
        let (Ok(net), true) = (
            net.parse::<IpAddr>(),
            (1..=3).contains(&bits.len()) && bits.bytes().all(|b| b.is_ascii_digit()),
        ) else {
            return false;
        };
        let bits: u32 = bits.parse().unwrap_or(999);
        match (ip, norm(net)) {
            (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                u32::from(a) & mask == u32::from(n) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                u128::from(a) & mask == u128::from(n) & mask
            }
            _ => false,
        }
    })
}

/// Whether `t` opens `path` at NOW: signed by a key still open, not
/// expired, for a scope holding the path.
fn token_opens(config: &AccessConfig, t: &str, path: &str) -> bool {
    let p: Vec<&str> = t.split('.').collect();
    if p.len() != 4 {
        return false;
    }
    let Some(k) = config.keys.get(p[0]) else {
        return false;
    };
    let (Ok(expires), Some(scope)) = (p[1].parse::<i64>(), unhex(p[2])) else {
        return false;
    };
    let open = k.until.is_none_or(|u| NOW < u);
    let genuine = token(&AccessKey::new(p[0], &k.secret), &scope, expires) == t;
    let root = scope.strip_suffix('/').unwrap_or(&scope);
    let inside = path == root || path.starts_with(&scope);
    open && genuine && NOW < expires && inside && scope.starts_with('/') && scope.ends_with('/')
}

fn unhex(h: &str) -> Option<String> {
    if !h.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Which credentials of the request are valid, by the rules above.
struct Valid {
    any: bool,
    param: bool,
}

fn valid(r: &Recipe, case: &Case) -> Valid {
    let config = case.config.as_ref().expect("settings");
    let req = &case.event["request"];
    let Some(path) = report_path(&r.uri) else {
        return Valid {
            any: false,
            param: false,
        };
    };
    let has = |m: Mode| r.modes.contains(&m);
    let strs = |v: &Value| -> Vec<String> {
        match v.get("multiValue") {
            Some(list) => list
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x["value"].as_str().map(str::to_string))
                .collect(),
            None => v["value"]
                .as_str()
                .map(str::to_string)
                .into_iter()
                .collect(),
        }
    };
    let param_vals = strs(&req["querystring"]["access"]);
    let param =
        has(Mode::Link) && param_vals.len() == 1 && token_opens(config, &param_vals[0], &path);
    let cookie = has(Mode::Link)
        && strs(&req["cookies"][COOKIE])
            .iter()
            .any(|t| token_opens(config, t, &path));
    let basic = has(Mode::Basic)
        && r.header() == Some(format!("Basic {}", base64(&format!("alice:{PASSWORD}"))));
    let any = has(Mode::Open)
        || public(&path)
        || (r.badges && badge(&path))
        || (has(Mode::Ip) && ip_allowed(r.ip, &r.ranges))
        || param
        || cookie
        || basic;
    Valid { any, param }
}

/// A Location a browser resolves to this site: a path, not `//host` or
/// `/\host`, with nothing a browser strips from a URL.
fn on_site(location: &str) -> bool {
    let b = location.as_bytes();
    b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/') | Some(b'\\'))
        && !location.chars().any(|c| c <= ' ' || c == '\u{7f}')
}

fn check(r: &Recipe, case: &Case, o: &Outcome) -> Result<(), String> {
    let a = &o.answer;
    let ok = valid(r, case);
    if o.hmacs > MAX_HMACS || o.hashed > MAX_HASHED {
        return Err(format!("{} HMACs over {} bytes", o.hmacs, o.hashed));
    }
    match a["statusCode"].as_u64() {
        None => {
            if !ok.any {
                return Err("let through without valid credentials".into());
            }
            let uri = a["uri"].as_str().unwrap_or_default();
            if uri != r.uri && uri != format!("{}index.html", r.uri) {
                return Err(format!("fetches {uri:?}"));
            }
            if a["headers"].get("authorization").is_some() || a["cookies"].get(COOKIE).is_some() {
                return Err("credentials passed on to the origin".into());
            }
        }
        Some(s @ (301 | 302)) => {
            let location = a["headers"]["location"]["value"]
                .as_str()
                .unwrap_or_default();
            if !on_site(location) {
                return Err(format!("redirects off the site to {location:?}"));
            }
            if !ok.any || (s == 302 && !ok.param) {
                return Err(format!("{s} without valid credentials"));
            }
        }
        Some(s @ (400 | 401 | 403)) => {
            if a["headers"]["cache-control"]["value"] != "no-store" {
                return Err("a refusal that may be cached".into());
            }
            // With basic on, every refusal but a bad address asks to sign
            // in, so credentials a browser holds are never stuck.
            let prompt = a["headers"].get("www-authenticate").is_some();
            if r.modes.contains(&Mode::Basic) && s != 400 && !(s == 401 && prompt) {
                return Err(format!("{s} without the sign-in prompt in basic mode"));
            }
        }
        Some(s) => return Err(format!("unexpected status {s}")),
    }
    Ok(())
}

/// At most 600 characters of `text`, for a readable failure.
fn short(text: &str) -> String {
    match text.char_indices().nth(600) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

fn shipped() -> String {
    AccessConfig::open().render().expect("the function renders")
}

#[test]
fn no_request_gets_in_or_is_sent_off_the_site_without_valid_credentials() {
    let (n, seed, started) = (cases(3000), seed(), Instant::now());
    let recipes = sample(recipe(), n, seed);
    let batch: Vec<Case> = recipes.iter().map(Recipe::case).collect();
    let outcomes = viewer::run(&shipped(), &batch);
    let mut failures = Vec::new();
    let mut admitted = 0;
    for ((r, c), o) in recipes.iter().zip(&batch).zip(&outcomes) {
        admitted += usize::from(o.answer.get("statusCode").is_none());
        if let Err(why) = check(r, c, o) {
            failures.push(format!(
                "{why}: {}\n  -> {}",
                short(&format!("{r:?}")),
                short(&o.answer.to_string())
            ));
        }
    }
    report("access", n, seed, started);
    println!(
        "  {admitted} let through, {} answered by the function",
        n - admitted
    );
    assert!(
        failures.is_empty(),
        "{} of {n} cases broke a rule (seed {seed}):\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
    // The search reaches both sides: requests let in and requests refused.
    assert!(
        admitted > n / 20 && admitted < n - n / 20,
        "{admitted} of {n} let through"
    );
}

// ---- `route()` and the function's routing. ----

fn clean_uri() -> impl Strategy<Value = (String, Vec<(String, String)>)> {
    let segment = prop_oneof![
        3 => "[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,12}",
        2 => prop::sample::select(vec![
            "py-3.12", "a.json", "x.toolongextension", "v1.2.3", "caf%C3%A9.html", "b.%6Aso",
            "app.J5", "%C3%A9t%C3%A9", "index.html", "latest", ".hidden", "a.", "a.1", "a.b1",
        ]).prop_map(str::to_string),
        1 => "\\PC{1,4}".prop_map(|s| s.bytes().map(|b| format!("%{b:02X}")).collect()),
    ];
    let query = prop::collection::btree_map("[a-z]{1,5}", "[a-z0-9]{0,5}", 0..3)
        .prop_map(|m| m.into_iter().collect::<Vec<_>>());
    (prop::collection::vec(segment, 0..6), prop::bool::ANY, query).prop_map(|(segs, slash, q)| {
        let mut uri = format!("/{}", segs.join("/"));
        if slash && !uri.ends_with('/') {
            uri.push('/');
        }
        (uri, q)
    })
}

#[test]
fn the_function_routes_as_route_does() {
    let (n, seed, started) = (cases(2000), seed(), Instant::now());
    let samples = sample(clean_uri(), n, seed);
    let batch: Vec<Case> = samples
        .iter()
        .map(|(uri, q)| {
            let query: Map<String, Value> = q
                .iter()
                .map(|(k, v)| (k.clone(), json!({"value": v})))
                .collect();
            Case {
                config: None,
                now: NOW,
                event: event(uri, Value::Object(query), json!({}), json!({}), "192.0.2.1"),
            }
        })
        .collect();
    let outcomes = viewer::run(&shipped(), &batch);
    let (mut compared, mut failures) = (0, Vec::new());
    for ((uri, q), o) in samples.iter().zip(&outcomes) {
        let a = &o.answer;
        let Some(path) = report_path(uri) else {
            if a["statusCode"] != 400 {
                failures.push(format!("{uri}: not a report path, yet {a}"));
            }
            continue;
        };
        compared += 1;
        // A query as the function writes it back: `name` alone when empty.
        let raw: Vec<String> = q
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        let raw = raw.join("&");
        let js = match a["statusCode"].as_u64() {
            None => a["uri"]
                .as_str()
                .and_then(decode)
                .map(|u| Route::Object(u[1..].to_string())),
            Some(301) => a["headers"]["location"]["value"]
                .as_str()
                .and_then(decode)
                .map(Route::Redirect),
            _ => None,
        };
        let rust = route(&path, Some(raw.as_str()));
        if js.as_ref() != Some(&rust) {
            failures.push(format!("{uri} ?{raw}: function {js:?}, route() {rust:?}"));
        }
    }
    report("routing", n, seed, started);
    println!("  {compared} report paths compared");
    assert!(compared > n / 2, "only {compared} of {n} were report paths");
    assert!(
        failures.is_empty(),
        "{} disagreements (seed {seed}):\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
}

// ---- The Rust signer and the function's verifier. ----

#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    Page,
    OtherRun,
    OtherBranch,
    OtherProject,
    RunFolder,
    BranchFolder,
    ProjectFolder,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tamper {
    None,
    Signature,
    Expiry,
    Scope,
    KeyId,
    StaleKey,
}

#[derive(Debug, Clone)]
struct Signing {
    prefix: &'static str,
    names: [String; 3],
    page: &'static str,
    scope: Option<Scope>,
    ttl: i64,
    target: Target,
    tamper: Tamper,
}

fn signing() -> impl Strategy<Value = Signing> {
    let name = prop_oneof!["[A-Za-z0-9._-]{1,10}", "\\PC{1,12}"];
    (
        prop::sample::select(vec!["", "reports", "a/b.c"]),
        [name.clone(), name.clone(), name],
        prop::sample::select(vec![
            "",
            "index.html",
            "app.js",
            "data/test-cases/x.json",
            "widgets/",
        ]),
        prop::sample::select(vec![
            None,
            Some(Scope::Run),
            Some(Scope::Branch),
            Some(Scope::Project),
            Some(Scope::All),
        ]),
        prop_oneof![Just(-1i64), Just(0), Just(1), -1_000_000i64..50_000_000],
        prop::sample::select(vec![
            Target::Page,
            Target::OtherRun,
            Target::OtherBranch,
            Target::OtherProject,
            Target::RunFolder,
            Target::BranchFolder,
            Target::ProjectFolder,
        ]),
        prop::sample::select(vec![
            Tamper::None,
            Tamper::None,
            Tamper::None,
            Tamper::Signature,
            Tamper::Expiry,
            Tamper::Scope,
            Tamper::KeyId,
            Tamper::StaleKey,
        ]),
    )
        .prop_map(
            |(prefix, names, page, scope, ttl, target, tamper)| Signing {
                prefix,
                names,
                page,
                scope,
                ttl,
                target,
                tamper,
            },
        )
}

/// The site path of a page: `/<prefix>/<project>/<branch>/<run>/<page>`.
fn page_path(prefix: &str, segs: &[String; 3], page: &str) -> String {
    let root = Layout::new(prefix, "p", "b")
        .expect("a prefix")
        .prefix_root()
        .to_string();
    format!("/{root}{}/{}/{}/{page}", segs[0], segs[1], segs[2])
}

impl Signing {
    fn segments(&self) -> Option<[String; 3]> {
        let project = segment::encode(&self.names[0], "project").ok()?;
        let branch = Layout::branch_segment_of(&self.names[1]).ok()?;
        let run = Layout::run_segment(&self.names[2]).ok()?;
        Some([project, branch, run])
    }

    /// The token (from the URL `signed_url` makes), the path asked for,
    /// and whether it should open.
    fn make(&self) -> Option<(String, String, bool)> {
        let segs = self.segments()?;
        let page = page_path(self.prefix, &segs, self.page);
        let scope = scope_path(&page, self.prefix, self.scope).ok()?;
        let expires = NOW + self.ttl;
        let k = key(if self.tamper == Tamper::StaleKey {
            "k1"
        } else {
            "k2"
        });
        let url = signed_url(
            &format!("https://d.example{page}?tab=graphs"),
            &k,
            &scope,
            expires,
        );
        let mut t = url.split("access=").nth(1)?.to_string();
        let parts: Vec<String> = t.split('.').map(str::to_string).collect();
        match self.tamper {
            Tamper::None | Tamper::StaleKey => {}
            Tamper::Signature => {
                let last = if t.ends_with('a') { "b" } else { "a" };
                t = format!("{}{last}", &t[..t.len() - 1]);
            }
            Tamper::Expiry => t = format!("{}.{}.{}.{}", parts[0], expires + 1, parts[2], parts[3]),
            Tamper::Scope => {
                let wider = hex(scope_path(&page, self.prefix, Some(Scope::All))
                    .ok()?
                    .as_bytes());
                let wider = if wider == parts[2] {
                    hex(b"/x/")
                } else {
                    wider
                };
                t = format!("{}.{}.{wider}.{}", parts[0], parts[1], parts[3]);
            }
            Tamper::KeyId => t = format!("k3.{}.{}.{}", parts[1], parts[2], parts[3]),
        }
        let mut other = segs.clone();
        let target = match self.target {
            Target::Page => page.clone(),
            Target::OtherRun | Target::OtherBranch | Target::OtherProject => {
                let i = match self.target {
                    Target::OtherProject => 0,
                    Target::OtherBranch => 1,
                    _ => 2,
                };
                other[i] = format!("{}x", other[i]);
                page_path(self.prefix, &other, self.page)
            }
            Target::RunFolder => page_path(self.prefix, &segs, ""),
            Target::BranchFolder => {
                format!("/{}{}/{}/", prefix_root(self.prefix), segs[0], segs[1])
            }
            Target::ProjectFolder => format!("/{}{}/", prefix_root(self.prefix), segs[0]),
        };
        let root = scope.strip_suffix('/').unwrap_or(&scope);
        let inside = target == root || target.starts_with(&scope);
        let opens = self.tamper == Tamper::None && self.ttl > 0 && inside;
        Some((t, target, opens))
    }
}

fn prefix_root(prefix: &str) -> String {
    Layout::new(prefix, "p", "b")
        .expect("a prefix")
        .prefix_root()
        .to_string()
}

#[test]
fn the_function_opens_exactly_what_the_rust_signer_signed() {
    let (n, seed, started) = (cases(2000), seed(), Instant::now());
    let made: Vec<(Signing, String, String, bool)> = sample(signing(), n, seed)
        .into_iter()
        .filter_map(|s| s.make().map(|(t, path, opens)| (s, t, path, opens)))
        .collect();
    let batch: Vec<Case> = made
        .iter()
        .map(|(_, t, path, _)| Case {
            config: Some(site(vec![Mode::Link], vec![])),
            now: NOW,
            event: event(
                path,
                json!({"access": {"value": t}}),
                json!({}),
                json!({}),
                "192.0.2.1",
            ),
        })
        .collect();
    let outcomes = viewer::run(&shipped(), &batch);
    let mut failures = Vec::new();
    let opened = made.iter().filter(|m| m.3).count();
    for ((s, t, path, opens), o) in made.iter().zip(&outcomes) {
        let a = &o.answer;
        let got = a["statusCode"] == 302 && a["cookies"][COOKIE]["value"] == t.as_str();
        if got != *opens || (!opens && a["statusCode"] != 403) {
            failures.push(format!(
                "{s:?}\n  {path} {t}: expected opens={opens}, got {a}"
            ));
        }
    }
    report("signing", made.len(), seed, started);
    println!("  {opened} links open, {} refused", made.len() - opened);
    assert!(
        made.len() > n / 2,
        "only {} of {n} cases made a link",
        made.len()
    );
    assert!(opened > made.len() / 10 && opened < made.len() * 9 / 10);
    assert!(
        failures.is_empty(),
        "{} disagreements (seed {seed}):\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
}

#[test]
fn the_rendered_function_is_the_template_with_settings() {
    // The property tests run the rendered function with each case's settings
    // put in CONFIG's place; this checks that stand-in against the real
    // rendering of one site.
    let config = site(
        vec![Mode::Link, Mode::Basic, Mode::Ip],
        vec!["203.0.113.0/24".into()],
    );
    let rendered = config.render().expect("renders");
    let recipes = sample(recipe(), 200, seed());
    let with_config: Vec<Case> = recipes
        .iter()
        .map(|r| Case {
            config: Some(config.clone()),
            ..r.case()
        })
        .collect();
    let own: Vec<Case> = with_config
        .iter()
        .map(|c| Case {
            config: None,
            ..c.clone()
        })
        .collect();
    let a = viewer::run(&shipped(), &with_config);
    let b = viewer::run(&rendered, &own);
    assert_eq!(a, b);
}
