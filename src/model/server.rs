//! What an S3 server was measured to honour, and what that allows. Every
//! promise of a publish (a run claimed before it is written, manifest rows
//! never lost, latest never moving backwards) rests on conditional writes;
//! prune rests on listings and batch deletes. The probe (`state::server`)
//! measures them once per bucket and endpoint; this module judges the
//! answers and words the refusal.

use serde::{Deserialize, Serialize};

/// Where the measurement is kept, beside the site's other records.
pub const RECORD_KEY: &str = "~allure-host/server.json";
/// Scratch keys of a probe live under here, one folder per probe.
pub const PROBE_PREFIX: &str = "~allure-host/probe/";
/// The setting that accepts a server without conditional writes.
pub const OPT_IN: &str = "--unsafe-no-conditional-writes (ALLURE_UNSAFE_NO_CONDITIONAL_WRITES=true, the action's unsafe-no-conditional-writes input)";

const FORMAT: u32 = 1;
/// A measurement is trusted this long, then taken again: a server upgraded
/// (or downgraded) under the same endpoint is noticed within a week.
pub const RECORD_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// `If-None-Match: *` on an existing key is refused (412 or 409).
    ConditionalCreate,
    /// `If-Match` with a stale ETag is refused; the right ETag is accepted.
    ConditionalUpdate,
    /// A listing pages with advancing tokens, no page repeated, nothing
    /// outside the prefix.
    Paging,
    /// DeleteObjects reports every key, and the keys are gone.
    BatchDelete,
}

impl Capability {
    pub const ALL: [Capability; 4] = [
        Capability::ConditionalCreate,
        Capability::ConditionalUpdate,
        Capability::Paging,
        Capability::BatchDelete,
    ];

    /// The row name in a check table.
    pub fn row_name(self) -> &'static str {
        match self {
            Capability::ConditionalCreate => "conditional create",
            Capability::ConditionalUpdate => "conditional update",
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

/// The measurement as the bucket keeps it (`RECORD_KEY`).
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
        let recent = at <= now && now - at < RECORD_DAYS * 24 * 3600;
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
    /// The writer must not start.
    Refused(Refusal),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{endpoint} does not honour conditional writes ({what}; measured {measured}). On it, two publishers of one run id can both claim the run and mix their files in one folder, and concurrent publishes or prunes can lose each other's manifest rows or move latest backwards. Nothing was written. Use a server that honours If-None-Match and If-Match (docs/publishing.md lists them; a server changed since is measured again {RECORD_DAYS} days after that, or at once once {RECORD_KEY} is removed), or, if only one publisher or prune ever writes to this bucket at a time, pass {OPT_IN}"
    )]
    Conditions {
        endpoint: String,
        what: String,
        measured: String,
    },
    #[error(
        "{endpoint} cannot be trusted to list or delete ({what}; measured {measured}). Prune and publish find what to remove by listing, so a listing that pages wrongly could make them remove the wrong objects or keep half of a run. Nothing was written. Fix or replace the server: `allure-host publish --check` measures it without recording, and writers measure it again {RECORD_DAYS} days after that, or at once once {RECORD_KEY} is removed"
    )]
    Listing {
        endpoint: String,
        what: String,
        measured: String,
    },
}

/// Judge `record` for a writer; `accept_unconditional` is the opt-in.
pub fn judge(record: &ServerRecord, accept_unconditional: bool) -> Judgement {
    let (waivable, lasting): (Vec<&Finding>, Vec<&Finding>) =
        record.broken().partition(|f| f.capability.waivable());
    let measured = record.measured.clone();
    let endpoint = record.endpoint.clone();
    if !lasting.is_empty() {
        return Judgement::Refused(Refusal::Listing {
            endpoint,
            what: describe(&lasting),
            measured,
        });
    }
    if waivable.is_empty() {
        return Judgement::Safe;
    }
    let what = describe(&waivable);
    if !accept_unconditional {
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
        // From the future (a clock set wrong, a forged record): measured again.
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
