//! Where a publish is announced (chat webhooks, a generic receiver) and
//! when (`notify-on`). A webhook URL is a secret: its path or query is the
//! credential, so it is parsed here once and only its kind and host are
//! ever shown (`Debug` and `Display` included).

use std::fmt;

use url::{Host, Url};

/// The services a message is shaped for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Slack incoming webhook: Block Kit.
    Slack,
    /// Microsoft Teams workflow (Power Automate) webhook: an Adaptive Card.
    Teams,
    /// Google Chat space webhook: a card (cardsV2).
    GoogleChat,
    /// Any receiver: the publish summary JSON (docs/summary.schema.json).
    Webhook,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Slack, Kind::Teams, Kind::GoogleChat, Kind::Webhook];

    /// How a person calls it.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Slack => "Slack",
            Kind::Teams => "Teams",
            Kind::GoogleChat => "Google Chat",
            Kind::Webhook => "generic",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Slack => "slack",
            Kind::Teams => "teams",
            Kind::GoogleChat => "google-chat",
            Kind::Webhook => "webhook",
        }
    }

    fn parse(text: &str) -> Option<Kind> {
        let text = text.trim().to_ascii_lowercase();
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == text)
            .or_else(|| (text == "gchat").then_some(Kind::GoogleChat))
    }

    /// The service a URL's host belongs to; anything else is a generic
    /// receiver. Only these hosts are ever shown: another host (a tunnel,
    /// a function URL) can itself be the secret.
    fn of_host(host: &str) -> Kind {
        let host = host.to_ascii_lowercase();
        let under = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
        if host == "hooks.slack.com" {
            Kind::Slack
        } else if under("webhook.office.com")
            || under("logic.azure.com")
            || under("powerautomate.com")
            || under("powerplatform.com")
        {
            Kind::Teams
        } else if host == "chat.googleapis.com" {
            Kind::GoogleChat
        } else {
            Kind::Webhook
        }
    }
}

/// One webhook: its kind and its URL, which only `secret_url` reveals.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    pub kind: Kind,
    /// Its place in `notify`, from 1.
    pub number: usize,
    url: Url,
}

impl Webhook {
    /// The full URL, credential included: for the request only.
    pub fn secret_url(&self) -> &str {
        self.url.as_str()
    }

    /// The host, when it is one of the services' own (safe to show).
    pub fn known_host(&self) -> Option<&str> {
        let host = self.url.host_str()?;
        (Kind::of_host(host) != Kind::Webhook).then_some(host)
    }

    /// Texts that would give the secret away, to cut from anything shown:
    /// the URL, its path, its query and each path segment, and a host that
    /// is not a service's. Longest first.
    pub fn secret_parts(&self) -> Vec<String> {
        let u = &self.url;
        let mut parts: Vec<String> = [Some(u.as_str()), Some(u.path()), u.query()]
            .into_iter()
            .flatten()
            .chain(u.path_segments().into_iter().flatten())
            .map(str::to_string)
            .collect();
        parts.extend(u.query_pairs().map(|(_, v)| v.into_owned()));
        if self.known_host().is_none() {
            parts.extend(u.host_str().map(str::to_string));
        }
        parts.retain(|p| p.len() >= 4);
        parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
        parts
    }
}

impl fmt::Display for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.known_host() {
            Some(host) => write!(f, "{} webhook at {host}", self.kind.title()),
            None => write!(f, "{} webhook #{}", self.kind.title(), self.number),
        }
    }
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Webhook({self}, URL hidden)")
    }
}

/// A `notify` value that cannot be used. Never holds the URL itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error(
        "entry {0} is not a URL; write https://... or KIND:https://... (KIND: slack, teams, google-chat, webhook)"
    )]
    NotUrl(usize),
    #[error("entry {0} names an unknown kind; use slack, teams, google-chat or webhook")]
    Kind(usize),
    #[error(
        "entry {0} (host {1}) is not https; a webhook URL carries its secret, so only https is sent to (http only to this machine)"
    )]
    Insecure(usize, String),
    #[error(
        "entry {0} (host {1}) carries a user or password; put the credential in the URL's path or query as the service gives it"
    )]
    Credentials(usize, String),
    #[error("more than {MAX_WEBHOOKS} webhooks; send to fewer, or to one receiver that fans out")]
    TooMany,
}

/// Messages per publish: each is a request with retries at the end of a job.
pub const MAX_WEBHOOKS: usize = 8;

/// Parse `notify`: URLs separated by commas, spaces or new lines, each
/// optionally `KIND:` first. Entries are numbered from 1 in errors.
pub fn parse_webhooks(text: &str) -> Result<Vec<Webhook>, NotifyError> {
    let entries: Vec<&str> = entries(text).collect();
    if entries.len() > MAX_WEBHOOKS {
        return Err(NotifyError::TooMany);
    }
    entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| webhook(i + 1, e))
        .collect()
}

/// The entries of a `notify` value: separated by commas, spaces or new lines.
fn entries(text: &str) -> impl Iterator<Item = &str> + Clone {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
}

/// What to mask of a `notify` value before anything could print it, even
/// one that does not parse: the whole, each entry, and each entry's URL
/// without its `KIND:`.
pub fn secret_texts(text: &str) -> Vec<&str> {
    let urls = entries(text).filter_map(|e| {
        e.find("://")
            .and_then(|i| e[..i].rfind(':').map(|k| &e[k + 1..]))
    });
    std::iter::once(text.trim())
        .chain(entries(text))
        .chain(urls)
        .filter(|s| !s.is_empty())
        .collect()
}

fn webhook(n: usize, entry: &str) -> Result<Webhook, NotifyError> {
    let lower = entry.to_ascii_lowercase();
    let (kind, url_text) = if lower.starts_with("http://") || lower.starts_with("https://") {
        (None, entry)
    } else {
        let (kind, rest) = entry.split_once(':').ok_or(NotifyError::NotUrl(n))?;
        if rest.starts_with("//") {
            // Another scheme (ftp://...), not a kind.
            return Err(NotifyError::NotUrl(n));
        }
        let kind = Kind::parse(kind).ok_or(NotifyError::Kind(n))?;
        (Some(kind), rest)
    };
    let url = Url::parse(url_text).map_err(|_| NotifyError::NotUrl(n))?;
    let host = url.host_str().ok_or(NotifyError::NotUrl(n))?.to_string();
    match url.scheme() {
        "https" => {}
        "http" if loopback(&url) => {}
        "http" => return Err(NotifyError::Insecure(n, host)),
        _ => return Err(NotifyError::NotUrl(n)),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(NotifyError::Credentials(n, host));
    }
    Ok(Webhook {
        kind: kind.unwrap_or_else(|| Kind::of_host(&host)),
        number: n,
        url,
    })
}

fn loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `notify-on`: which publishes send a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NotifyOn {
    /// Every publish.
    #[default]
    Always,
    /// A run with failed or broken tests, or a failed quality gate.
    Failure,
    /// The trend line went red or green, or new failures appeared.
    Change,
}

impl NotifyOn {
    pub fn name(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Failure => "failure",
            Self::Change => "change",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "always" => Some(Self::Always),
            "failure" | "failures" => Some(Self::Failure),
            "change" | "changes" => Some(Self::Change),
            _ => None,
        }
    }
}

/// What a rule looks at: this run and the run its trend line had before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Failed or broken tests, or a failed quality gate.
    pub red: bool,
    /// The previous run of the same job and leg on this branch: red or not;
    /// None when this is the line's first run.
    pub was_red: Option<bool>,
    /// Tests failing now that did not fail in that previous run.
    pub newly_failing: usize,
}

/// Why a message goes, or None when `on` says to stay quiet.
pub fn reason(on: NotifyOn, o: Outcome) -> Option<&'static str> {
    match on {
        NotifyOn::Always => Some("notify-on: always"),
        NotifyOn::Failure => o.red.then_some("the run failed (notify-on: failure)"),
        NotifyOn::Change => match (o.was_red, o.red) {
            (None, true) => Some("a first run, and red (notify-on: change)"),
            (Some(false), true) => Some("red since the previous run (notify-on: change)"),
            (Some(true), false) => Some("green since the previous run (notify-on: change)"),
            (Some(true), true) if o.newly_failing > 0 => {
                Some("tests fail that passed the previous run (notify-on: change)")
            }
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever is written around a secret (kinds, schemes, hosts,
        /// separators, junk), parsing never panics and nothing it shows
        /// (the webhook's Display and Debug, or the error) holds the secret.
        #[test]
        fn nothing_shown_holds_the_secret(
            kind in prop::sample::select(vec!["", "slack:", "teams:", "Google-Chat:", "irc:", "https:", ":"]),
            scheme in prop::sample::select(vec!["https://", "http://", "HTTPS://", "ftp://", "", "//"]),
            host in "[a-z0-9.-]{0,20}(:[0-9]{1,5})?",
            user in prop::option::of("[a-z]{1,5}(:[a-z]{1,5})?@"),
            secret in "[A-Za-z]{12}",
            bare in any::<bool>(),
            tail in "[/?#=&%a-z0-9]{0,10}",
            sep in prop::sample::select(vec![",", "\n", " ", ",,", "\t"]),
        ) {
            let secret = format!("Zq{secret}");
            // A URL without its scheme whose secret holds a ':'.
            let entry = if bare { format!("{host}/{secret}:x") } else { format!(
                "{kind}{scheme}{}{host}/services/{secret}{tail}",
                user.unwrap_or_default()
            ) };
            let text = format!("https://ok.example/a{sep}{entry}");
            match parse_webhooks(&text) {
                Ok(hooks) => {
                    for h in &hooks {
                        prop_assert!(!h.to_string().contains(&secret));
                        let debug = format!("{:?}", h);
                        prop_assert!(!debug.contains(&secret));
                        prop_assert!(matches!(h.url.scheme(), "https" | "http"));
                    }
                }
                Err(e) => prop_assert!(!e.to_string().contains(&secret), "{e}"),
            }
        }
    }

    #[test]
    fn kinds_are_inferred_from_the_host_or_given() {
        let hooks = parse_webhooks(
            "https://hooks.slack.com/services/T0/B0/XYZ,\n\
             https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=s\n\
             https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t \
             teams:https://relay.example.com/t  https://ci.example.com/hook",
        )
        .unwrap();
        let kinds: Vec<Kind> = hooks.iter().map(|h| h.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Slack,
                Kind::Teams,
                Kind::GoogleChat,
                Kind::Teams,
                Kind::Webhook
            ]
        );
        assert_eq!(hooks[3].secret_url(), "https://relay.example.com/t");
    }

    #[test]
    fn the_secret_never_shows() {
        let h = &parse_webhooks("https://hooks.slack.com/services/T0/B0/SECRET").unwrap()[0];
        for shown in [format!("{h}"), format!("{h:?}")] {
            assert!(!shown.contains("SECRET"), "{shown}");
            assert!(shown.contains("hooks.slack.com"));
        }
        // A host that is not a service's may be the secret itself.
        let h = &parse_webhooks("https://SECRET.m.pipedream.net/").unwrap()[0];
        assert_eq!(h.to_string(), "generic webhook #1");
        assert!(h.secret_parts().iter().any(|p| p.contains("secret")));
        let err = parse_webhooks("http://hooks.slack.com/services/SECRET").unwrap_err();
        assert!(!err.to_string().contains("SECRET"), "{err}");
        let err = parse_webhooks("slak:https://hooks.slack.com/SECRET").unwrap_err();
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }

    #[test]
    fn every_form_of_each_url_is_masked() {
        assert_eq!(
            secret_texts(" slack:https://h.example/a,\nhttps://h.example/b "),
            [
                "slack:https://h.example/a,\nhttps://h.example/b",
                "slack:https://h.example/a",
                "https://h.example/b",
                "https://h.example/a",
            ]
        );
    }

    #[test]
    fn bad_entries_are_refused_with_their_number() {
        assert_eq!(
            parse_webhooks("https://a.example/x, ftp://b.example/y"),
            Err(NotifyError::NotUrl(2))
        );
        assert_eq!(
            parse_webhooks("http://hooks.example.com/x"),
            Err(NotifyError::Insecure(1, "hooks.example.com".into()))
        );
        assert!(matches!(
            parse_webhooks("https://u:p@hooks.example.com/x"),
            Err(NotifyError::Credentials(1, _))
        ));
        assert_eq!(
            parse_webhooks("irc:https://x.example"),
            Err(NotifyError::Kind(1))
        );
        let many = ["https://a.example/x"; MAX_WEBHOOKS + 1].join(",");
        assert_eq!(parse_webhooks(&many), Err(NotifyError::TooMany));
        assert_eq!(parse_webhooks(" \n ").unwrap(), vec![]);
        assert_eq!(
            parse_webhooks("http://127.0.0.1:9/x").unwrap()[0].kind,
            Kind::Webhook
        );
    }

    #[test]
    fn rules_say_when_a_message_goes() {
        let o = |was_red, red, newly_failing| Outcome {
            red,
            was_red,
            newly_failing,
        };
        assert!(reason(NotifyOn::Always, o(Some(false), false, 0)).is_some());
        assert!(reason(NotifyOn::Failure, o(Some(true), false, 0)).is_none());
        assert!(reason(NotifyOn::Failure, o(Some(true), true, 0)).is_some());
        let change = |was, red, new| reason(NotifyOn::Change, o(was, red, new));
        let said = |was, red, new| change(was, red, new).map(|r| r.split(" (").next().unwrap());
        assert_eq!(
            said(Some(false), true, 1),
            Some("red since the previous run")
        );
        assert_eq!(said(None, true, 0), Some("a first run, and red"));
        assert_eq!(
            said(Some(true), false, 0),
            Some("green since the previous run")
        );
        assert_eq!(
            said(Some(true), true, 2),
            Some("tests fail that passed the previous run")
        );
        assert_eq!(
            said(Some(true), true, 0),
            None,
            "still red, nothing newly failing"
        );
        assert_eq!(said(None, false, 0), None);
        assert_eq!(said(Some(false), false, 0), None);
        assert_eq!(NotifyOn::parse("Failure"), Some(NotifyOn::Failure));
        assert_eq!(NotifyOn::parse("sometimes"), None);
    }
}
