//! The site's access settings with their secrets, kept in the viewer-request
//! function's own code (ADR 6): rendering the function, reading the settings
//! back from the code CloudFront holds, and changing them. Pure, apart from
//! drawing random secrets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::access::{AccessKey, KeyId, Mode, SiteAccess, hex, hmac_hex};
use crate::model::time::utc_minute;

/// The function as written, with the open default.
pub const TEMPLATE: &str = include_str!("viewer-request.js");
const CONFIG_START: &str = "var CONFIG = ";
/// CloudFront Functions' limit on a function's code.
pub const MAX_FUNCTION_BYTES: usize = 10_240;
/// How long links signed with a rotated-out key keep opening, by default.
pub const DEFAULT_GRACE_DAYS: u32 = 7;

/// Unknown fields are refused: settings written by a newer version would
/// otherwise be dropped when this one writes the function back.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningKey {
    pub secret: String,
    /// Unix seconds after which the key stops; None while it is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

/// The secret never reaches a log through Debug.
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("secret", &"***")
            .field("until", &self.until)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub salt: String,
    /// HMAC-SHA256 of the password keyed with the salt, hex.
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    pub modes: Vec<Mode>,
    #[serde(default)]
    pub keys: BTreeMap<String, SigningKey>,
    #[serde(default)]
    pub users: BTreeMap<String, User>,
    #[serde(default)]
    pub ips: Vec<String>,
    /// The status badges open to anyone, whatever the modes. Written only
    /// when on, so the code of a site without it stays as it was; the
    /// function admits them only for a literal `true`.
    #[serde(default, rename = "badges", skip_serializing_if = "std::ops::Not::not")]
    pub public_badges: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "the function would be {0} bytes, over CloudFront's limit of 10240; remove users or address ranges"
    )]
    TooLarge(usize),
    #[error("{0:?} is not a CIDR range; write it like 203.0.113.0/24 or 2001:db8::/32")]
    BadRange(String),
    #[error("ip mode needs at least one range; pass --allow-ip CIDR")]
    NoRanges,
    #[error(
        "user name {0:?} is not allowed; use 1-32 letters, digits, dots, dashes or underscores"
    )]
    BadUser(String),
    #[error("there is no user {0:?}; `allure-host infra access show` lists them")]
    NoSuchUser(String),
}

/// Why a function's settings cannot be read: this version must not act on
/// them, or write them back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

/// Settings with the function code and bucket record made from them.
#[derive(Debug, Clone)]
pub struct Access {
    pub config: AccessConfig,
    pub code: String,
    pub record: Vec<u8>,
}

impl Access {
    pub fn new(config: AccessConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            code: config.render()?,
            record: config.record().to_json(),
            config,
        })
    }

    /// "link (key k2; k1 until 2026-11-30)", for plans and checks.
    pub fn describe(&self) -> String {
        describe(&self.config)
    }
}

pub fn describe(c: &AccessConfig) -> String {
    let mut parts = Vec::new();
    if c.modes.contains(&Mode::Link) {
        let keys: Vec<String> = c
            .keys
            .iter()
            .map(|(id, k)| match k.until {
                None => id.clone(),
                Some(u) => format!("{id} until {}", utc_minute(u)),
            })
            .collect();
        parts.push(format!("keys {}", keys.join(", ")));
    }
    if c.modes.contains(&Mode::Basic) {
        let users: Vec<&str> = c.users.keys().map(String::as_str).collect();
        parts.push(if users.is_empty() {
            "no users yet".to_string()
        } else {
            format!("users {}", users.join(", "))
        });
    }
    if c.modes.contains(&Mode::Ip) {
        parts.push(format!("ranges {}", c.ips.join(", ")));
    }
    if c.public_badges && c.modes != [Mode::Open] {
        parts.push("badges public".to_string());
    }
    let modes = crate::model::access::modes_text(&c.modes);
    if parts.is_empty() {
        modes
    } else {
        format!("{modes} ({})", parts.join("; "))
    }
}

impl AccessConfig {
    /// What a function written before access modes existed enforces.
    pub fn open() -> Self {
        Self {
            modes: vec![Mode::Open],
            keys: BTreeMap::new(),
            users: BTreeMap::new(),
            ips: Vec::new(),
            public_badges: false,
        }
    }

    /// The settings a function's code carries. Ok(None) only for code that
    /// never mentions CONFIG (another tool's, or from before access modes);
    /// settings that are there but cannot be read exactly as this version
    /// writes them are an error, never taken as open.
    pub fn from_code(code: &[u8]) -> Result<Option<Self>, Unreadable> {
        let bad = |why: String| Err(Unreadable(why));
        let Ok(text) = std::str::from_utf8(code) else {
            return bad("the code is not UTF-8".into());
        };
        if !text.contains("CONFIG") {
            return Ok(None);
        }
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(CONFIG_START))
            .collect();
        let line = match lines[..] {
            [line] => line,
            [] => return bad(format!("no line starts with `{CONFIG_START}`")),
            _ => return bad(format!("{} lines start with `{CONFIG_START}`", lines.len())),
        };
        let Some(json) = line[CONFIG_START.len()..].strip_suffix(';') else {
            return bad("the `var CONFIG` line does not end with `;`".into());
        };
        let config: Self = serde_json::from_str(json).map_err(|e| {
            Unreadable(format!(
                "the `var CONFIG` line does not parse: {}",
                redacted(&e.to_string(), json)
            ))
        })?;
        config.check().map_err(Unreadable)?;
        Ok(Some(config))
    }

    /// What this version would have written: known, consistent modes, valid
    /// ranges, names, secrets and hashes.
    fn check(&self) -> Result<(), String> {
        if self.modes.is_empty() {
            return Err("no access mode is set".into());
        }
        if self.modes.len() > 1 && self.modes.contains(&Mode::Open) {
            return Err("open is combined with other modes".into());
        }
        if self.modes.contains(&Mode::Ip) && self.ips.is_empty() {
            return Err("ip mode has no ranges".into());
        }
        for range in &self.ips {
            check_range(range).map_err(|e| e.to_string())?;
        }
        for (id, key) in &self.keys {
            // The function takes an end of 0 as none: never ours to read.
            if key.until.is_some_and(|u| u <= 0) {
                return Err(format!("signing key {id:?} has an end time before 1970"));
            }
            if !(valid_name(id) && is_hex(&key.secret, 32)) {
                return Err(format!(
                    "signing key {id:?} has a malformed id or secret (secret not shown)"
                ));
            }
        }
        for (name, user) in &self.users {
            if !(valid_name(name)
                && is_hex(&user.salt, 1)
                && user.hash.len() == 64
                && is_hex(&user.hash, 64))
            {
                return Err(format!("user {name:?} has a malformed name, salt or hash"));
            }
        }
        Ok(())
    }

    /// The function's code for these settings: the template without its
    /// full-line comments and indentation, CONFIG filled in.
    pub fn render(&self) -> Result<String, ConfigError> {
        let config = serde_json::to_string(self).expect("plain data serializes");
        let mut code = String::with_capacity(TEMPLATE.len());
        for line in TEMPLATE.lines().map(str::trim_start) {
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            if line.starts_with(CONFIG_START) {
                code.push_str(&format!("{CONFIG_START}{config};"));
            } else {
                code.push_str(line);
            }
            code.push('\n');
        }
        if code.len() > MAX_FUNCTION_BYTES {
            return Err(ConfigError::TooLarge(code.len()));
        }
        Ok(code)
    }

    /// Whether `code` is this version's function (whatever its settings).
    pub fn is_current(code: &[u8]) -> bool {
        Self::from_code(code)
            .ok()
            .flatten()
            .and_then(|c| c.render().ok())
            .is_some_and(|r| r.as_bytes() == code)
    }

    /// The public record of these settings.
    pub fn record(&self) -> SiteAccess {
        SiteAccess {
            modes: self.modes.clone(),
            keys: self
                .keys
                .iter()
                .map(|(id, k)| KeyId {
                    id: id.clone(),
                    until: k.until,
                })
                .collect(),
            public_badges: self.public_badges,
        }
    }

    /// Switch modes; ip mode needs ranges. A first signing key is made when
    /// links are asked for and there is none: it is returned to print once.
    /// `ips` replaces the ranges; empty keeps them.
    pub fn set_modes(
        &mut self,
        modes: Vec<Mode>,
        ips: &[String],
    ) -> Result<Option<AccessKey>, ConfigError> {
        if !ips.is_empty() {
            for range in ips {
                check_range(range)?;
            }
            self.ips = ips.to_vec();
        }
        if modes.contains(&Mode::Ip) && self.ips.is_empty() {
            return Err(ConfigError::NoRanges);
        }
        self.modes = modes;
        let needs_key = self.modes.contains(&Mode::Link) && self.active_key().is_none();
        Ok(needs_key.then(|| self.add_key()))
    }

    /// The key new links are signed with.
    pub fn active_key(&self) -> Option<&String> {
        self.keys
            .iter()
            .find(|(_, k)| k.until.is_none())
            .map(|(id, _)| id)
    }

    fn add_key(&mut self) -> AccessKey {
        let next = self
            .keys
            .keys()
            .filter_map(|id| id.strip_prefix('k')?.parse::<u32>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        let key = AccessKey::new(&format!("k{next}"), &random_hex(32));
        self.keys.insert(
            key.id.clone(),
            SigningKey {
                secret: key.secret().to_string(),
                until: None,
            },
        );
        key
    }

    /// A new active key; the ones before it keep opening links until
    /// `now + grace_secs`.
    pub fn rotate(&mut self, now: i64, grace_secs: i64) -> AccessKey {
        for k in self.keys.values_mut().filter(|k| k.until.is_none()) {
            k.until = Some(now + grace_secs);
        }
        self.add_key()
    }

    /// Drop keys past their grace period; returns their ids.
    pub fn drop_retired(&mut self, now: i64) -> Vec<String> {
        let gone: Vec<String> = self
            .keys
            .iter()
            .filter(|(_, k)| k.until.is_some_and(|u| u <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in &gone {
            self.keys.remove(id);
        }
        gone
    }

    /// Add (or reset) a user with a generated password, returned to print once.
    pub fn add_user(&mut self, name: &str) -> Result<String, ConfigError> {
        if !valid_name(name) {
            return Err(ConfigError::BadUser(name.to_string()));
        }
        let password = random_hex(16);
        let salt = random_hex(8);
        let hash = hmac_hex(&salt, &password);
        self.users.insert(name.to_string(), User { salt, hash });
        Ok(password)
    }

    pub fn remove_user(&mut self, name: &str) -> Result<(), ConfigError> {
        self.users
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| ConfigError::NoSuchUser(name.to_string()))
    }
}

/// A user name or key id: 1-32 letters, digits, dots, dashes or underscores;
/// not `__proto__`, which in the function's object literal sets a prototype
/// instead of adding an entry.
fn valid_name(name: &str) -> bool {
    name != "__proto__"
        && !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// `message` with every string of `json` 16 characters or longer (secrets,
/// salts, hashes, wherever a format puts them) shown as `***`: serde quotes
/// a value of the wrong type, and the message reaches logs.
fn redacted(message: &str, json: &str) -> String {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k.clone());
                walk(v, out);
            }),
            _ => {}
        }
    }
    let mut strings = Vec::new();
    // Text that is not JSON fails on its syntax, and those messages quote
    // nothing.
    if let Ok(value) = serde_json::from_str(json) {
        walk(&value, &mut strings);
    }
    let mut message = message.to_string();
    for s in strings.iter().filter(|s| s.len() >= 16) {
        // serde quotes a string as Rust's Debug escapes it.
        let quoted = format!("{s:?}");
        message = message
            .replace(&quoted[1..quoted.len() - 1], "***")
            .replace(s.as_str(), "***");
    }
    message
}

fn is_hex(text: &str, min_len: usize) -> bool {
    text.len() >= min_len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `a.b.c.d/n` or an IPv6 range, as the function parses them.
pub fn check_range(range: &str) -> Result<(), ConfigError> {
    let bad = || ConfigError::BadRange(range.to_string());
    let (addr, bits) = range.split_once('/').ok_or_else(bad)?;
    // Digits only: the function must read the same number (no sign, no space).
    if bits.is_empty() || bits.len() > 3 || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let bits: u8 = bits.parse().map_err(|_| bad())?;
    match addr.parse::<std::net::IpAddr>().map_err(|_| bad())? {
        std::net::IpAddr::V4(_) if bits <= 32 => Ok(()),
        // The function reads IPv6 in hex groups only (no dotted tail), and
        // a mapped IPv4 viewer as IPv4.
        std::net::IpAddr::V6(v6)
            if bits <= 128 && !addr.contains('.') && v6.to_ipv4_mapped().is_none() =>
        {
            Ok(())
        }
        _ => Err(bad()),
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the system's random source is available");
    hex(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rendered_function_reads_back_and_fits() {
        let mut c = AccessConfig::open();
        let key = c.set_modes(vec![Mode::Link], &[]).unwrap().unwrap();
        assert_eq!(key.id, "k1");
        let code = c.render().unwrap();
        assert!(!code.contains("\n//") && !code.starts_with("//"));
        assert_eq!(
            AccessConfig::from_code(code.as_bytes()),
            Ok(Some(c.clone()))
        );
        assert!(AccessConfig::is_current(code.as_bytes()));
        assert!(!AccessConfig::is_current(TEMPLATE.as_bytes()));
        assert_eq!(
            AccessConfig::from_code(b"function handler(e) { return e.request; }"),
            Ok(None)
        );
        assert!(code.len() < 9_000, "{} bytes", code.len());
    }

    /// Public badges are written into CONFIG only when on, so a site
    /// without them keeps the code it had; a value that is not a boolean
    /// is unreadable, never taken as on or off.
    #[test]
    fn public_badges_render_only_when_on_and_read_back() {
        let mut c = AccessConfig::open();
        c.set_modes(vec![Mode::Link], &[]).unwrap();
        let private = c.render().unwrap();
        assert!(!private.contains(r#""badges""#), "{private}");
        c.public_badges = true;
        let code = c.render().unwrap();
        assert!(code.contains(r#","badges":true};"#), "{code}");
        assert_eq!(
            AccessConfig::from_code(code.as_bytes()),
            Ok(Some(c.clone()))
        );
        assert!(AccessConfig::is_current(code.as_bytes()));
        assert!(c.record().public_badges);
        assert!(
            describe(&c).ends_with("; badges public)"),
            "{}",
            describe(&c)
        );
        assert!(code.len() < 9_000, "{} bytes", code.len());
        for bad in [r#""badges":"true""#, r#""badges":1"#, r#""badges":null"#] {
            let tampered = code.replace(r#""badges":true"#, bad);
            assert!(
                AccessConfig::from_code(tampered.as_bytes()).is_err(),
                "{bad}"
            );
        }
        // Written off by hand: read as off, but not this version's code.
        let off = code.replace(r#""badges":true"#, r#""badges":false"#);
        let read = AccessConfig::from_code(off.as_bytes()).unwrap().unwrap();
        assert!(!read.public_badges);
        assert!(!AccessConfig::is_current(off.as_bytes()));
    }

    /// Settings that are there but not as this version writes them are
    /// unreadable, never open: a newer mode or field, a reformatted line, a
    /// bad range, a weak key.
    #[test]
    fn settings_that_cannot_be_read_are_an_error_not_open() {
        let mut c = AccessConfig::open();
        c.set_modes(vec![Mode::Link, Mode::Ip], &["10.0.0.0/8".into()])
            .unwrap();
        let code = c.render().unwrap();
        let line = code.lines().find(|l| l.starts_with(CONFIG_START)).unwrap();
        let tampered = |to: &str| code.replace(line, to);
        let json = &line[CONFIG_START.len()..line.len() - 1];
        let cases = [
            tampered(&line.replace(r#"["link","ip"]"#, r#"["link","sso"]"#)),
            tampered(&line.replace("10.0.0.0/8", "10.0.0.0")),
            tampered(&line.replace("10.0.0.0/8", "10.0.0.0/-1")),
            tampered(&line.replace("10.0.0.0/8", "10.0.0.0/ 8")),
            tampered(&line.replace(r#""ips""#, r#""sso":{},"ips""#)),
            tampered(&format!("var CONFIG={json};")),
            tampered(&format!("{CONFIG_START}{json}")),
            tampered(&format!("  {CONFIG_START}{json};")),
            tampered(&format!("{line}\n{line}")),
            tampered(&line.replace(r#""modes":["link","ip"]"#, r#""modes":[]"#)),
            tampered(&line.replace(r#""modes":["link","ip"]"#, r#""modes":["open","link"]"#)),
            tampered(&line.replace(r#""ips":["10.0.0.0/8"]"#, r#""ips":[]"#)),
            tampered(&format!(
                "{CONFIG_START}{};",
                json.replace(&c.keys["k1"].secret, "")
            )),
            // The function takes an end of 0 as no end: an active key this
            // version would call retired.
            tampered(&line.replace(r#""}},"users""#, r#"","until":0}},"users""#)),
            tampered(&line.replace(r#""}},"users""#, r#"","until":-5}},"users""#)),
            tampered(&line.replace(
                r#""users":{}"#,
                r#""users":{"__proto__":{"salt":"00","hash":"00"}}"#,
            )),
        ];
        for code in &cases {
            let got = AccessConfig::from_code(code.as_bytes());
            assert!(got.is_err(), "{got:?} for\n{code}");
            assert!(!AccessConfig::is_current(code.as_bytes()));
        }
        let why = AccessConfig::from_code(cases[0].as_bytes()).unwrap_err().0;
        assert!(why.contains("sso"), "{why}");
        assert!(!format!("{c:?}").contains(&c.keys["k1"].secret));
        assert_eq!(
            AccessConfig::from_code(b"\xff CONFIG"),
            Err(Unreadable("the code is not UTF-8".into()))
        );
    }

    /// Why settings cannot be read reaches the terminal and CI logs, so it
    /// never quotes a secret, salt or hash, wherever a newer format (or a
    /// hand edit) puts one.
    #[test]
    fn why_settings_cannot_be_read_never_quotes_a_secret() {
        let mut c = AccessConfig::open();
        c.set_modes(vec![Mode::Link, Mode::Basic], &[]).unwrap();
        c.add_user("alice").unwrap();
        let code = c.render().unwrap();
        let secret = c.keys["k1"].secret.clone();
        let hash = c.users["alice"].hash.clone();
        let cases = [
            // A newer, compact format: a key as its bare secret.
            code.replace(
                &format!(r#"{{"secret":"{secret}"}}"#),
                &format!(r#""{secret}""#),
            ),
            // A user as one string.
            code.replace(
                &format!(r#"{{"salt":"{}","hash":"{hash}"}}"#, c.users["alice"].salt),
                &format!(r#""{hash}""#),
            ),
            // An expiry written as text.
            code.replace(r#""modes""#, &format!(r#""x":"{secret}","modes""#)),
            code.replace(r#"["link","basic"]"#, &format!(r#"["link","{secret}"]"#)),
        ];
        for bad in &cases {
            assert_ne!(bad, &code);
            let why = AccessConfig::from_code(bad.as_bytes()).unwrap_err().0;
            assert!(!why.contains(&secret) && !why.contains(&hash), "{why}");
            assert!(why.contains("does not parse"), "{why}");
        }
    }

    #[test]
    fn rotation_keeps_the_old_key_for_its_grace_then_drops_it() {
        let mut c = AccessConfig::open();
        c.set_modes(vec![Mode::Link], &[]).unwrap();
        let k2 = c.rotate(1_000, 600);
        assert_eq!(k2.id, "k2");
        assert_eq!(c.keys["k1"].until, Some(1_600));
        assert_eq!(c.keys["k2"].until, None);
        assert!(c.drop_retired(1_599).is_empty());
        assert_eq!(c.drop_retired(1_600), ["k1"]);
        assert_eq!(
            c.record().keys,
            [KeyId {
                id: "k2".into(),
                until: None
            }]
        );
        // Switching back to links keeps the active key.
        assert!(
            c.set_modes(vec![Mode::Link, Mode::Ip], &["10.0.0.0/8".into()])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn users_get_generated_passwords_stored_salted() {
        let mut c = AccessConfig::open();
        let pw = c.add_user("alice").unwrap();
        let u = &c.users["alice"];
        assert_eq!(pw.len(), 32);
        assert_eq!(u.hash, hmac_hex(&u.salt, &pw));
        assert!(!c.render().unwrap().contains(&pw));
        // `__proto__` in the function's object literal sets a prototype
        // instead of adding a user: that user could never sign in.
        for bad in ["bad name", "__proto__"] {
            assert!(
                matches!(c.add_user(bad), Err(ConfigError::BadUser(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            c.remove_user("bob"),
            Err(ConfigError::NoSuchUser(_))
        ));
        c.remove_user("alice").unwrap();
        assert!(c.users.is_empty());
    }

    #[test]
    fn ranges_are_checked_and_ip_mode_needs_one() {
        for ok in ["203.0.113.0/24", "10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0"] {
            check_range(ok).unwrap();
        }
        for bad in [
            "203.0.113.0",
            "10.0.0.0/33",
            "2001:db8::/129",
            "example.com/8",
            "::ffff:1.2.3.4/128",
            "::ffff:102:304/128",
            // The function reads IPv6 in hex groups only.
            "::1.2.3.4/128",
            "64:ff9b::1.2.3.4/96",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/",
            "10.0.0.0/8/8",
        ] {
            assert!(check_range(bad).is_err(), "{bad}");
        }
        let mut c = AccessConfig::open();
        assert_eq!(c.set_modes(vec![Mode::Ip], &[]), Err(ConfigError::NoRanges));
    }

    #[test]
    fn too_many_users_are_refused_before_reaching_cloudfront() {
        let mut c = AccessConfig::open();
        for i in 0..60 {
            c.add_user(&format!("user-{i}")).unwrap();
        }
        assert!(matches!(c.render(), Err(ConfigError::TooLarge(_))));
    }
}
