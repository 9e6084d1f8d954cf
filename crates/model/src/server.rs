//! What an S3 server was measured to honour, and what that allows. Every
//! promise of a publish (a run claimed before it is written, manifest rows
//! never lost, latest never moving backwards) rests on conditional writes;
//! prune rests on listings and batch deletes. The probe (`state::server`)
//! measures them once per bucket and endpoint; this module judges the
//! answers and words the refusal.

use super::key::ObjectKey;
use serde::{Deserialize, Serialize};

/// Where measurements are kept, beside the site's other records: one per
/// endpoint, so a bucket reached through two endpoints (a proxy, an
/// internal name) keeps both instead of measuring again at each switch.
pub const RECORD_PREFIX: &str = "~allure-host/server/";

/// The key of `endpoint`'s record: the endpoint in characters a key reads
/// well with (`https://s3.example.com:9000` -> `https-s3.example.com-9000`).
/// Two endpoints that read alike share a key, and the record, which names
/// its endpoint, is then measured again; nothing else follows.
pub fn record_key(endpoint: &str) -> ObjectKey {
    let mut slug = String::new();
    for c in endpoint.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' => slug.push(c),
            _ if !slug.ends_with('-') => slug.push('-'),
            _ => {}
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(200).collect();
    ObjectKey::laid_out(format!("{RECORD_PREFIX}{slug}.json"))
}
/// Scratch keys of a probe live under here, one folder per probe.
pub const PROBE_PREFIX: &str = "~allure-host/probe/";

/// A key the probe may write: one inside its scratch space, nothing else.
pub fn scratch_key(key: &str) -> Option<ObjectKey> {
    let inside = key.strip_prefix(PROBE_PREFIX).is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .split('/')
                .all(|p| !p.is_empty() && p != "." && p != "..")
    });
    inside.then(|| ObjectKey::laid_out(key.to_string()))
}
/// The setting that accepts a server without conditional writes.
pub const OPT_IN: &str = "--unsafe-no-conditional-writes (ALLURE_UNSAFE_NO_CONDITIONAL_WRITES=true, the action's unsafe-no-conditional-writes input)";

const FORMAT: u32 = 1;
/// A measurement is trusted this long, then taken again: a server upgraded
/// (or downgraded) under the same endpoint is noticed within a week.
pub const RECORD_DAYS: i64 = 7;

/// How far ahead of this machine's clock a record may be dated (another
/// writer's clock a little fast), in seconds: S3 itself refuses requests
/// signed further off than this.
const CLOCK_SKEW: i64 = 15 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// `If-None-Match: *` on an existing key is refused (412 or 409).
    ConditionalCreate,
    /// `If-Match` with a stale ETag is refused; the right ETag is accepted.
    ConditionalUpdate,
    /// Of writers racing on one key with either condition, one wins (a
    /// server that checks, then writes, lets several through).
    RacingWriters,
    /// A listing pages with advancing tokens, no page repeated, nothing
    /// outside the prefix.
    Paging,
    /// DeleteObjects reports every key, and the keys are gone.
    BatchDelete,
}

impl Capability {
    pub const ALL: [Capability; 5] = [
        Capability::ConditionalCreate,
        Capability::ConditionalUpdate,
        Capability::RacingWriters,
        Capability::Paging,
        Capability::BatchDelete,
    ];

    /// The row name in a check table.
    pub fn row_name(self) -> &'static str {
        match self {
            Capability::ConditionalCreate => "conditional create",
            Capability::ConditionalUpdate => "conditional update",
            Capability::RacingWriters => "racing writers",
            Capability::Paging => "listing pages",
            Capability::BatchDelete => "batch delete",
        }
    }

    /// Conditions can be given up for a single writer; a listing or delete
    /// that cannot be trusted cannot.
    fn waivable(self) -> bool {
        matches!(
            self,
            Capability::ConditionalCreate | Capability::ConditionalUpdate
        )
    }

    /// A race lost is told, not refused: the conditions hold for writers
    /// that do not meet within milliseconds, and a race won proves nothing
    /// either way, so it cannot be the line between safe and refused.
    fn advisory(self) -> bool {
        self == Capability::RacingWriters
    }
}

/// One capability as measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub capability: Capability,
    pub honoured: bool,
    /// What the server did, in words.
    pub detail: String,
}

impl Finding {
    pub fn honoured(capability: Capability, detail: impl Into<String>) -> Self {
        Self {
            capability,
            honoured: true,
            detail: detail.into(),
        }
    }

    pub fn broken(capability: Capability, detail: impl Into<String>) -> Self {
        Self {
            capability,
            honoured: false,
            detail: detail.into(),
        }
    }
}

/// The measurement as the bucket keeps it (`record_key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerRecord {
    pub format: u32,
    /// The endpoint measured: a record of another endpoint is measured again.
    pub endpoint: String,
    /// When, as `YYYY-MM-DDTHH:MM:SSZ`.
    pub measured: String,
    /// The allure-host version that measured.
    pub by: String,
    pub findings: Vec<Finding>,
}

impl ServerRecord {
    pub fn new(endpoint: &str, measured: String, findings: Vec<Finding>) -> Self {
        Self {
            format: FORMAT,
            endpoint: endpoint.to_string(),
            measured,
            by: format!("allure-host {}", env!("CARGO_PKG_VERSION")),
            findings,
        }
    }

    /// The record if it is ours, of this format and endpoint, names every
    /// capability once, and was measured in the last `RECORD_DAYS` before
    /// `now` (epoch seconds). Anything else is measured again: an
    /// unreadable record never counts as a server that honours.
    pub fn parse_for(bytes: &[u8], endpoint: &str, now: i64) -> Option<Self> {
        let record: Self = serde_json::from_slice(bytes).ok()?;
        let complete = Capability::ALL.iter().all(|c| {
            record
                .findings
                .iter()
                .filter(|f| f.capability == *c)
                .count()
                == 1
        });
        let at = chrono::DateTime::parse_from_rfc3339(&record.measured)
            .ok()?
            .timestamp();
        let recent = at <= now + CLOCK_SKEW && now - at < RECORD_DAYS * 24 * 3600;
        (record.format == FORMAT && record.endpoint == endpoint && complete && recent)
            .then_some(record)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut text = serde_json::to_vec_pretty(self).expect("plain data serializes");
        text.push(b'\n');
        text
    }

    fn broken(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| !f.honoured)
    }
}

/// What a writer may do on a measured server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Every promise holds.
    Safe,
    /// Conditions are ignored and the user accepted it: one warning.
    Accepted(String),
    /// The conditions hold one request at a time but not under a race:
    /// writing goes on, and the user is told when the server is measured.
    Caution(String),
    /// The writer must not start.
    Refused(Refusal),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{endpoint} does not honour conditional writes ({what}; measured {measured}). On it, two publishers of one run id can both claim the run and mix their files in one folder, and concurrent publishes or prunes can lose each other's manifest rows or move latest backwards. Nothing was written. Use a server that honours If-None-Match and If-Match (docs/publishing.md lists them; a server changed since is measured again {RECORD_DAYS} days after that, or at once once its record under {RECORD_PREFIX} is removed), or, if only one publisher or prune ever writes to this bucket at a time, pass {OPT_IN} (it accepts a server that ignores the conditions; one that answers them with an error cannot be written to either way)"
    )]
    Conditions {
        endpoint: String,
        what: String,
        measured: String,
    },
    #[error(
        "{endpoint} cannot be trusted to list or delete ({what}; measured {measured}). Prune and publish find what to remove by listing, so a listing that pages wrongly could make them remove the wrong objects or keep half of a run. Nothing was written. Fix or replace the server: `allure-host publish --check` measures it without recording, and writers measure it again {RECORD_DAYS} days after that, or at once once its record under {RECORD_PREFIX} is removed"
    )]
    Listing {
        endpoint: String,
        what: String,
        measured: String,
    },
}

/// Judge `record` for a writer; `accept_unconditional` is the opt-in.
pub fn judge(record: &ServerRecord, accept_unconditional: bool) -> Judgement {
    let (advisory, binding): (Vec<&Finding>, Vec<&Finding>) =
        record.broken().partition(|f| f.capability.advisory());
    let (waivable, lasting): (Vec<&Finding>, Vec<&Finding>) =
        binding.into_iter().partition(|f| f.capability.waivable());
    let measured = record.measured.clone();
    let endpoint = record.endpoint.clone();
    if !lasting.is_empty() {
        return Judgement::Refused(Refusal::Listing {
            endpoint,
            what: describe(&lasting),
            measured,
        });
    }
    if !waivable.is_empty() {
        return waive(
            endpoint,
            describe(&waivable),
            measured,
            accept_unconditional,
        );
    }
    match advisory.is_empty() {
        true => Judgement::Safe,
        false => Judgement::Caution(format!(
            "{endpoint} keeps conditional writes one request at a time but not under a race ({}): publishers of one run id started within milliseconds of each other could both claim it, and concurrent manifest updates could lose a row. AWS S3 and servers that lock per key do not race; run one writer at a time here, or use one of those",
            describe(&advisory)
        )),
    }
}

/// Conditions the server ignores: refused, or accepted with the opt-in.
fn waive(endpoint: String, what: String, measured: String, accept: bool) -> Judgement {
    if !accept {
        return Judgement::Refused(Refusal::Conditions {
            endpoint,
            what,
            measured,
        });
    }
    Judgement::Accepted(format!(
        "{endpoint} does not honour conditional writes ({what}); writing anyway because --unsafe-no-conditional-writes is set: run one publisher or prune at a time against this bucket, or runs can mix and manifest rows can be lost"
    ))
}

/// `conditional create: a second create succeeded; ...`.
fn describe(findings: &[&Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{}: {}", f.capability.row_name(), f.detail))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(broken: &[Capability]) -> ServerRecord {
        let findings = Capability::ALL
            .iter()
            .map(|c| match broken.contains(c) {
                true => Finding::broken(*c, "ignored"),
                false => Finding::honoured(*c, "ok"),
            })
            .collect();
        ServerRecord::new("http://s3.local", "2026-12-04T00:00:00Z".into(), findings)
    }

    /// 2026-12-05T00:00:00Z: a day after `record` measured.
    const NOW: i64 = 1_796_428_800;

    #[test]
    fn each_endpoint_has_a_readable_key_of_its_own() {
        assert_eq!(
            record_key("https://s3.example.com:9000"),
            "~allure-host/server/https-s3.example.com-9000.json"
        );
        assert_ne!(
            record_key("http://127.0.0.1:9000"),
            record_key("http://127.0.0.1:9001")
        );
        assert_eq!(
            record_key("http://h/a/../../x"),
            "~allure-host/server/http-h-a-..-..-x.json"
        );
        assert!(record_key(&"x".repeat(5000)).len() < 250);
    }

    #[test]
    fn a_server_that_honours_everything_is_safe_with_or_without_the_opt_in() {
        assert_eq!(judge(&record(&[]), false), Judgement::Safe);
        assert_eq!(judge(&record(&[]), true), Judgement::Safe);
    }

    #[test]
    fn ignored_conditions_refuse_unless_accepted() {
        let r = record(&[Capability::ConditionalCreate, Capability::ConditionalUpdate]);
        let Judgement::Refused(refusal) = judge(&r, false) else {
            panic!("must refuse");
        };
        let text = refusal.to_string();
        assert!(text.contains("conditional create: ignored"), "{text}");
        assert!(text.contains("mix their files"), "{text}");
        assert!(text.contains("--unsafe-no-conditional-writes"), "{text}");
        assert!(matches!(judge(&r, true), Judgement::Accepted(w) if w.contains("one publisher")));
    }

    #[test]
    fn a_race_lost_cautions_and_never_outranks_a_refusal() {
        let racy = record(&[Capability::RacingWriters]);
        for accept in [false, true] {
            assert!(
                matches!(judge(&racy, accept), Judgement::Caution(w) if w.contains("not under a race"))
            );
        }
        let r = record(&[Capability::RacingWriters, Capability::ConditionalCreate]);
        assert!(matches!(
            judge(&r, false),
            Judgement::Refused(Refusal::Conditions { .. })
        ));
        assert!(matches!(judge(&r, true), Judgement::Accepted(_)));
        let r = record(&[Capability::RacingWriters, Capability::Paging]);
        assert!(matches!(
            judge(&r, true),
            Judgement::Refused(Refusal::Listing { .. })
        ));
    }

    #[test]
    fn a_broken_listing_refuses_even_with_the_opt_in() {
        for c in [Capability::Paging, Capability::BatchDelete] {
            let r = record(&[c, Capability::ConditionalCreate]);
            let j = judge(&r, true);
            assert!(
                matches!(&j, Judgement::Refused(Refusal::Listing { what, .. }) if what.contains(c.row_name())),
                "{j:?}"
            );
        }
    }

    #[test]
    fn a_record_is_used_only_for_its_endpoint_format_and_whole() {
        let r = record(&[]);
        let json = r.to_json();
        assert_eq!(
            ServerRecord::parse_for(&json, "http://s3.local", NOW),
            Some(r.clone())
        );
        assert_eq!(ServerRecord::parse_for(&json, "http://other", NOW), None);
        let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        v["format"] = 2.into();
        assert_eq!(
            ServerRecord::parse_for(v.to_string().as_bytes(), "http://s3.local", NOW),
            None
        );
        let mut partial = r.clone();
        partial.findings.pop();
        assert_eq!(
            ServerRecord::parse_for(&partial.to_json(), "http://s3.local", NOW),
            None
        );
        let mut doubled = r.clone();
        doubled.findings.push(doubled.findings[0].clone());
        assert_eq!(
            ServerRecord::parse_for(&doubled.to_json(), "http://s3.local", NOW),
            None
        );
        for junk in [&b"{"[..], b"null", b"{\"format\":1}", b""] {
            assert_eq!(ServerRecord::parse_for(junk, "http://s3.local", NOW), None);
        }
        let week = RECORD_DAYS * 24 * 3600;
        assert!(ServerRecord::parse_for(&json, "http://s3.local", NOW + week - 86_401).is_some());
        assert_eq!(
            ServerRecord::parse_for(&json, "http://s3.local", NOW + week),
            None
        );
        // A little ahead (another writer's clock): kept. Far ahead (a clock
        // set wrong, a forged record): measured again.
        let measured = NOW - 86_400;
        assert!(ServerRecord::parse_for(&json, "http://s3.local", measured - CLOCK_SKEW).is_some());
        assert_eq!(
            ServerRecord::parse_for(&json, "http://s3.local", measured - CLOCK_SKEW - 1),
            None
        );
        assert_eq!(
            ServerRecord::parse_for(&json, "http://s3.local", NOW - 2 * 86_400),
            None
        );
        let mut undated = r.clone();
        undated.measured = "last week".into();
        assert_eq!(
            ServerRecord::parse_for(&undated.to_json(), "http://s3.local", NOW),
            None
        );
        let mut extra = serde_json::to_value(&r).unwrap();
        extra["honour_everything"] = true.into();
        assert_eq!(
            ServerRecord::parse_for(extra.to_string().as_bytes(), "http://s3.local", NOW),
            None
        );
    }
}
