//! Lifecycle rules: expire objects tagged `ttl-days=N` (what `publish
//! --ttl-days N` writes) after N days, and abort multipart uploads left
//! incomplete. Rules whose ID starts with `allure-host-` are ours; every other
//! rule of the bucket is kept as it is.

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, Tag,
};

use super::names::OWNER_PREFIX;

pub const TTL_TAG: &str = "ttl-days";
/// The N values a rule is made for when setup is not told otherwise.
pub const DEFAULT_TTL_DAYS: &[u32] = &[7, 14, 30, 60, 90, 180, 365];
const ABORT_AFTER_DAYS: i32 = 7;

fn ttl_rule(days: u32) -> LifecycleRule {
    let tag = Tag::builder()
        .key(TTL_TAG)
        .value(days.to_string())
        .build()
        .expect("key and value are set");
    LifecycleRule::builder()
        .id(format!("{OWNER_PREFIX}ttl-{days}-days"))
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().tag(tag).build())
        .expiration(
            LifecycleExpiration::builder()
                .days(i32::try_from(days).unwrap_or(i32::MAX))
                .build(),
        )
        .build()
        .expect("status is set")
}

fn abort_rule() -> LifecycleRule {
    LifecycleRule::builder()
        .id(format!("{OWNER_PREFIX}abort-incomplete-uploads"))
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(ABORT_AFTER_DAYS)
                .build(),
        )
        .build()
        .expect("status is set")
}

/// Our rules for these TTL values, in a stable order.
pub fn desired(ttl_days: &[u32]) -> Vec<LifecycleRule> {
    let mut days: Vec<u32> = ttl_days.to_vec();
    days.sort_unstable();
    days.dedup();
    let mut rules: Vec<LifecycleRule> = days.into_iter().map(ttl_rule).collect();
    rules.push(abort_rule());
    rules
}

pub fn is_ours(rule: &LifecycleRule) -> bool {
    rule.id().is_some_and(|id| id.starts_with(OWNER_PREFIX))
}

/// The user's own rules followed by `ours`.
pub fn merge(existing: &[LifecycleRule], ours: Vec<LifecycleRule>) -> Vec<LifecycleRule> {
    without_ours(existing).into_iter().chain(ours).collect()
}

pub fn without_ours(existing: &[LifecycleRule]) -> Vec<LifecycleRule> {
    existing.iter().filter(|r| !is_ours(r)).cloned().collect()
}

/// What a rule does, ignoring how a server spells it (an empty prefix filter
/// may come back as no filter, fields may be reordered).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Canon {
    id: String,
    enabled: bool,
    tag: Option<(String, String)>,
    prefix: String,
    expire_days: Option<i32>,
    abort_days: Option<i32>,
}

fn canon(rule: &LifecycleRule) -> Canon {
    let filter = rule.filter();
    Canon {
        id: rule.id().unwrap_or_default().to_string(),
        enabled: rule.status() == &ExpirationStatus::Enabled,
        tag: filter
            .and_then(LifecycleRuleFilter::tag)
            .map(|t| (t.key().to_string(), t.value().to_string())),
        prefix: filter
            .and_then(LifecycleRuleFilter::prefix)
            .unwrap_or_default()
            .to_string(),
        expire_days: rule.expiration().and_then(LifecycleExpiration::days),
        abort_days: rule
            .abort_incomplete_multipart_upload()
            .and_then(AbortIncompleteMultipartUpload::days_after_initiation),
    }
}

/// True when the bucket already has exactly our rules for these TTL values.
pub fn is_current(existing: &[LifecycleRule], ttl_days: &[u32]) -> bool {
    let mut have: Vec<Canon> = existing.iter().filter(|r| is_ours(r)).map(canon).collect();
    let mut want: Vec<Canon> = desired(ttl_days).iter().map(canon).collect();
    have.sort();
    want.sort();
    have == want
}

/// The TTL values our rules on the bucket cover (for validate).
pub fn ttl_days_covered(existing: &[LifecycleRule]) -> Vec<u32> {
    let mut days: Vec<u32> = existing
        .iter()
        .filter(|r| is_ours(r))
        .map(canon)
        .filter(|c| c.enabled && c.tag.as_ref().is_some_and(|(k, _)| k == TTL_TAG))
        .filter_map(|c| c.expire_days.and_then(|d| u32::try_from(d).ok()))
        .collect();
    days.sort_unstable();
    days
}

pub fn aborts_incomplete_uploads(existing: &[LifecycleRule]) -> bool {
    existing
        .iter()
        .map(canon)
        .any(|c| c.enabled && c.abort_days.is_some() && c.tag.is_none() && c.prefix.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn foreign() -> LifecycleRule {
        LifecycleRule::builder()
            .id("logs-expire")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
            .expiration(LifecycleExpiration::builder().days(3).build())
            .build()
            .unwrap()
    }

    #[test]
    fn one_rule_per_ttl_value_plus_abort() {
        let rules = desired(&[30, 7, 30]);
        let ids: Vec<&str> = rules.iter().filter_map(|r| r.id()).collect();
        assert_eq!(
            ids,
            [
                "allure-host-ttl-7-days",
                "allure-host-ttl-30-days",
                "allure-host-abort-incomplete-uploads"
            ]
        );
        let tag = rules[0].filter().unwrap().tag().unwrap();
        assert_eq!((tag.key(), tag.value()), ("ttl-days", "7"));
        assert_eq!(rules[0].expiration().unwrap().days(), Some(7));
        assert_eq!(ttl_days_covered(&rules), [7, 30]);
        assert!(aborts_incomplete_uploads(&rules));
    }

    #[test]
    fn merge_keeps_foreign_rules_and_replaces_ours() {
        let before = merge(&[foreign()], desired(&[7]));
        let after = merge(&before, desired(&[7, 90]));
        assert_eq!(after[0], foreign());
        assert_eq!(after.len(), 1 + 3);
        assert!(is_current(&after, &[90, 7]));
        assert!(!is_current(&before, &[7, 90]));
        assert!(!is_current(&[foreign()], &[7]));
        assert_eq!(without_ours(&after), vec![foreign()]);
    }
}
