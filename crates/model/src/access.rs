//! Who may read a site, as publishers and `share` see it: the access modes,
//! the public record of them in the bucket (no secret in it), the access key
//! and the signed links made with it. The viewer-request function checks the
//! same tokens (`crates/infra/src/viewer-request.js`).

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::layout::RESERVED_RUN_SEGMENTS;

/// The query parameter a link carries its token in.
pub const LINK_PARAM: &str = "access";
/// Where the bucket records its site's modes, beside the not-found page.
pub const RECORD_KEY: &str = "~allure-host/access.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Signed links, traded for a cookie scoped to the link's path.
    Link,
    /// HTTP Basic sign-in with generated passwords.
    Basic,
    /// Addresses inside an allowlist of CIDR ranges.
    Ip,
    /// Anyone with the URL.
    Open,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Basic => "basic",
            Self::Ip => "ip",
            Self::Open => "open",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error(
        "unknown access mode {0:?}; use link, basic, ip or open, or several joined by commas (ip,link)"
    )]
    UnknownMode(String),
    #[error("no access mode given; use link, basic, ip or open")]
    NoMode,
    #[error(
        "open lets everyone in, so it cannot be combined with {0}; choose open alone or drop it"
    )]
    OpenWithOthers(String),
    #[error(
        "the access key is not in the form KEYID.SECRET that `allure-host infra setup` printed; copy it again whole"
    )]
    BadKey,
    #[error(
        "{0} is not a page of this site's reports (its path does not start with /{1}); give a report URL or PROJECT/BRANCH/RUN"
    )]
    OutsidePrefix(String, String),
    #[error("{target} does not name a {scope}; pass a narrower --scope or a deeper target")]
    TooShallow { target: String, scope: &'static str },
}

/// Modes from "link", "ip,link", ...: sorted, without repeats.
pub fn parse_modes(text: &str) -> Result<Vec<Mode>, AccessError> {
    let mut modes = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let mode = match word.to_ascii_lowercase().as_str() {
            "link" => Mode::Link,
            "basic" => Mode::Basic,
            "ip" => Mode::Ip,
            "open" => Mode::Open,
            _ => return Err(AccessError::UnknownMode(word.to_string())),
        };
        modes.push(mode);
    }
    modes.sort();
    modes.dedup();
    if modes.is_empty() {
        return Err(AccessError::NoMode);
    }
    if modes.len() > 1 && modes.contains(&Mode::Open) {
        let others: Vec<&str> = modes
            .iter()
            .filter(|m| **m != Mode::Open)
            .map(|m| m.name())
            .collect();
        return Err(AccessError::OpenWithOthers(others.join(",")));
    }
    Ok(modes)
}

pub fn modes_text(modes: &[Mode]) -> String {
    modes.iter().map(|m| m.name()).collect::<Vec<_>>().join(",")
}

/// A signing key's public face: its id and, once rotated out, when it stops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyId {
    pub id: String,
    /// Unix seconds after which links signed with it stop opening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

/// What the bucket records of its site's access (`RECORD_KEY`): no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteAccess {
    pub modes: Vec<Mode>,
    #[serde(default)]
    pub keys: Vec<KeyId>,
    /// The status badges (`<branch>/badge.svg`, `<leg folder>/badge.svg`)
    /// open to anyone, whatever the modes (`infra access set ...
    /// --public-badges`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public_badges: bool,
}

impl SiteAccess {
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut text = serde_json::to_vec_pretty(self).expect("plain data serializes");
        text.push(b'\n');
        text
    }

    /// Readers need a signed link: links are the only way in that a
    /// publisher can hand out.
    pub fn needs_links(&self) -> bool {
        self.modes == [Mode::Link]
    }

    /// Anyone may read the badges: the site is open, or opens them.
    pub fn badges_public(&self) -> bool {
        self.public_badges || self.modes == [Mode::Open]
    }

    /// Whether links signed with key `id` open at `now`.
    pub fn accepts(&self, id: &str, now: i64) -> bool {
        self.keys
            .iter()
            .any(|k| k.id == id && k.until.is_none_or(|u| now < u))
    }
}

/// The secret a publisher signs links with: `KEYID.SECRET`. Never printed:
/// its Debug and Display show the id only.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub id: String,
    secret: String,
}

impl AccessKey {
    pub fn new(id: &str, secret: &str) -> Self {
        Self {
            id: id.to_string(),
            secret: secret.to_string(),
        }
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The whole key, to print once when it is made.
    pub fn reveal(&self) -> String {
        format!("{}.{}", self.id, self.secret)
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessKey({}.***)", self.id)
    }
}

impl FromStr for AccessKey {
    type Err = AccessError;
    fn from_str(text: &str) -> Result<Self, AccessError> {
        let (id, secret) = text.trim().split_once('.').ok_or(AccessError::BadKey)?;
        let id_ok =
            !id.is_empty() && id.len() <= 16 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        let secret_ok = secret.len() >= 32 && secret.bytes().all(|b| b.is_ascii_hexdigit());
        if !id_ok || !secret_ok {
            return Err(AccessError::BadKey);
        }
        Ok(Self::new(id, secret))
    }
}

/// HMAC-SHA256, lowercase hex: what the function computes with `crypto`.
pub fn hmac_hex(key: &str, message: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    hex(&mac.finalize().into_bytes())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `kid.expires.scope.signature`: the scope (a path ending in '/') in hex,
/// the signature over the first three parts.
pub fn token(key: &AccessKey, scope: &str, expires: i64) -> String {
    let signed = format!("{}.{expires}.{}", key.id, hex(scope.as_bytes()));
    let mac = hmac_hex(key.secret(), &signed);
    format!("{signed}.{mac}")
}

/// `url` with a token for `scope` appended.
pub fn signed_url(url: &str, key: &AccessKey, scope: &str, expires: i64) -> String {
    let join = if url.contains('?') { '&' } else { '?' };
    format!("{url}{join}{LINK_PARAM}={}", token(key, scope, expires))
}

/// How much of the site a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Run,
    Branch,
    Project,
    All,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Branch => "branch",
            Self::Project => "project",
            Self::All => "all",
        }
    }

    /// Key segments below the prefix that the scope keeps.
    fn depth(self) -> usize {
        match self {
            Self::Run => 3,
            Self::Branch => 2,
            Self::Project => 1,
            Self::All => 0,
        }
    }
}

/// The path a link for `scope` opens, from the path of a page it should open.
/// `prefix` is the site's key prefix ("reports"). Without a scope, the
/// narrowest that still opens the page: a run's folder, else its branch.
pub fn scope_path(path: &str, prefix: &str, scope: Option<Scope>) -> Result<String, AccessError> {
    let prefix: Vec<&str> = prefix.split('/').filter(|p| !p.is_empty()).collect();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() < prefix.len() || parts[..prefix.len()] != prefix[..] {
        return Err(AccessError::OutsidePrefix(
            path.to_string(),
            prefix.join("/"),
        ));
    }
    let below = &parts[prefix.len()..];
    let scope = scope.unwrap_or(match below {
        [_, _, run, ..] if !is_branch_file(run) => Scope::Run,
        [_, _, ..] => Scope::Branch,
        _ => Scope::Project,
    });
    let run_is_file = scope == Scope::Run && below.get(2).is_some_and(|r| is_branch_file(r));
    if below.len() < scope.depth() || run_is_file {
        return Err(AccessError::TooShallow {
            target: path.to_string(),
            scope: scope.name(),
        });
    }
    let kept: Vec<&str> = prefix
        .iter()
        .chain(&below[..scope.depth()])
        .copied()
        .collect();
    Ok(if kept.is_empty() {
        "/".to_string()
    } else {
        format!("/{}/", kept.join("/"))
    })
}

/// Names below a branch that are not a run: the layout's reserved ones, and
/// an index page, which the branch does not have.
fn is_branch_file(segment: &str) -> bool {
    RESERVED_RUN_SEGMENTS.contains(&segment) || segment == "index.html"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AccessKey {
        "k1.00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
            .parse()
            .unwrap()
    }

    #[test]
    fn modes_parse_sorted_and_refuse_open_with_others() {
        assert_eq!(parse_modes("link,ip").unwrap(), [Mode::Link, Mode::Ip]);
        assert_eq!(parse_modes(" Open ").unwrap(), [Mode::Open]);
        assert!(matches!(
            parse_modes("open,link"),
            Err(AccessError::OpenWithOthers(_))
        ));
        assert!(matches!(
            parse_modes("vpn"),
            Err(AccessError::UnknownMode(_))
        ));
        assert_eq!(parse_modes(","), Err(AccessError::NoMode));
    }

    #[test]
    fn a_key_never_shows_its_secret() {
        let k = key();
        assert_eq!(format!("{k:?}"), "AccessKey(k1.***)");
        assert!(k.reveal().ends_with("eeff"));
        assert_eq!("k1".parse::<AccessKey>(), Err(AccessError::BadKey));
        assert_eq!("k1.short".parse::<AccessKey>(), Err(AccessError::BadKey));
    }

    #[test]
    fn a_token_signs_id_expiry_and_scope() {
        let t = token(&key(), "/reports/web/", 1_900_000_000);
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(
            parts[..3],
            ["k1", "1900000000", "2f7265706f7274732f7765622f"]
        );
        assert_eq!(
            parts[3],
            hmac_hex(key().secret(), "k1.1900000000.2f7265706f7274732f7765622f")
        );
        assert_eq!(parts[3].len(), 64);
        let url = signed_url("https://d/reports/web/?tab=x", &key(), "/reports/web/", 1);
        assert!(
            url.starts_with("https://d/reports/web/?tab=x&access=k1.1."),
            "{url}"
        );
    }

    #[test]
    fn hmac_matches_the_rfc_4231_vector() {
        // Test case 2 of RFC 4231 (key "Jefe").
        assert_eq!(
            hmac_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn scopes_come_from_the_page_path() {
        let run = "/reports/web/main/9001-1-e2e/index.html";
        assert_eq!(
            scope_path(run, "reports", None).unwrap(),
            "/reports/web/main/9001-1-e2e/"
        );
        assert_eq!(
            scope_path(run, "reports", Some(Scope::Branch)).unwrap(),
            "/reports/web/main/"
        );
        assert_eq!(
            scope_path(run, "reports", Some(Scope::Project)).unwrap(),
            "/reports/web/"
        );
        assert_eq!(
            scope_path(run, "reports", Some(Scope::All)).unwrap(),
            "/reports/"
        );
        assert_eq!(
            scope_path("/reports/web/main/latest/", "reports", None).unwrap(),
            "/reports/web/main/"
        );
        assert_eq!(
            scope_path("/web/main/1/", "", None).unwrap(),
            "/web/main/1/"
        );
        assert_eq!(scope_path("/x/", "", Some(Scope::All)).unwrap(), "/");
        assert!(matches!(
            scope_path("/other/web/", "reports", None),
            Err(AccessError::OutsidePrefix(..))
        ));
        assert!(matches!(
            scope_path("/reports/web/main/latest/", "reports", Some(Scope::Run)),
            Err(AccessError::TooShallow { .. })
        ));
    }

    #[test]
    fn the_record_says_which_keys_open() {
        let r = SiteAccess {
            modes: vec![Mode::Link],
            keys: vec![
                KeyId {
                    id: "k2".into(),
                    until: None,
                },
                KeyId {
                    id: "k1".into(),
                    until: Some(100),
                },
            ],
            public_badges: false,
        };
        assert!(r.needs_links());
        assert!(!r.badges_public());
        // Records written before badges read as private badges.
        assert!(!String::from_utf8(r.to_json()).unwrap().contains("badges"));
        assert!(r.accepts("k2", 500) && r.accepts("k1", 99));
        assert!(!r.accepts("k1", 100) && !r.accepts("k3", 0));
        assert_eq!(SiteAccess::parse(&r.to_json()), Some(r.clone()));
        let public = SiteAccess {
            public_badges: true,
            ..r
        };
        assert!(public.badges_public());
        assert_eq!(SiteAccess::parse(&public.to_json()), Some(public));
    }
}
