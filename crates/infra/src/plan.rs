//! Desired state against observed state: the steps setup and cleanup take,
//! in order. Pure, so `--dry-run` prints exactly what a real run would do.

use super::access::{Access, AccessConfig};
use super::bucket_policy;
use super::distribution::{self, Wanted};
use super::lifecycle;
use super::names::{NOT_FOUND_KEY, Names, distribution_arn};
use super::state::Observed;
use crate::model::access::RECORD_KEY;

/// The page readers get for a missing key.
pub const NOT_FOUND_PAGE: &str = include_str!("not-found.html");
pub const OWNERSHIP: &str = "BucketOwnerEnforced";

pub struct Desired<'a> {
    pub names: &'a Names,
    pub price_class: &'a str,
    pub ttl_days: &'a [u32],
    /// Who may read: the function's code and the bucket's record of it.
    pub access: &'a Access,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupStep {
    CreateBucket,
    BlockPublicAccess,
    EnableEncryption,
    EnforceOwnership,
    PutNotFoundPage,
    PutLifecycle,
    CreateOac,
    CreateFunction,
    UpdateFunction,
    PublishFunction,
    PutAccessRecord,
    CreateDistribution,
    UpdateDistribution { changes: Vec<String> },
    PutBucketPolicy,
}

impl SetupStep {
    pub fn describe(&self, d: &Desired) -> String {
        let n = d.names;
        match self {
            Self::CreateBucket => format!("create bucket {} in {}", n.bucket, n.region),
            Self::BlockPublicAccess => {
                format!(
                    "turn on all four Block Public Access settings of {}",
                    n.bucket
                )
            }
            Self::EnableEncryption => {
                format!("turn on default encryption (SSE-S3) of {}", n.bucket)
            }
            Self::EnforceOwnership => {
                format!(
                    "enforce bucket-owner object ownership (no ACLs) on {}",
                    n.bucket
                )
            }
            Self::PutNotFoundPage => {
                format!("write the not-found page s3://{}/{NOT_FOUND_KEY}", n.bucket)
            }
            Self::PutLifecycle => format!(
                "set lifecycle rules: expire objects tagged ttl-days=N after N days for N in {}, abort incomplete uploads",
                d.ttl_days
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Self::CreateOac => format!("create origin access control {}", n.oac),
            Self::CreateFunction => format!(
                "create CloudFront function {} (access: {}; index.html for folder URLs)",
                n.function,
                d.access.describe()
            ),
            Self::UpdateFunction => format!(
                "update the code of CloudFront function {} (access: {})",
                n.function,
                d.access.describe()
            ),
            Self::PutAccessRecord => format!(
                "record the access modes ({}, no secret) in s3://{}/{RECORD_KEY}",
                crate::model::access::modes_text(&d.access.config.modes),
                n.bucket
            ),
            Self::PublishFunction => format!("publish CloudFront function {} to LIVE", n.function),
            Self::CreateDistribution => format!(
                "create a CloudFront distribution for {} ({}, HTTPS only)",
                n.origin_domain(),
                d.price_class
            ),
            Self::UpdateDistribution { changes } => {
                format!("update the distribution: {}", changes.join(", "))
            }
            Self::PutBucketPolicy => format!(
                "add the statement {} (read by this distribution only) to the bucket policy of {}, keeping other statements",
                bucket_policy::SID,
                n.bucket
            ),
        }
    }
}

/// Placeholders for ids that the plan's own earlier steps will create.
const NEW_OAC: &str = "(new origin access control)";
const NEW_FUNCTION: &str = "(new function)";

pub fn setup(d: &Desired, obs: &Observed) -> Vec<SetupStep> {
    use SetupStep::*;
    let mut steps = Vec::new();
    match &obs.bucket {
        None => steps.extend([
            CreateBucket,
            BlockPublicAccess,
            EnableEncryption,
            EnforceOwnership,
        ]),
        Some(b) => {
            if b.public_access_block != [true; 4] {
                steps.push(BlockPublicAccess);
            }
            if b.encryption.is_none() {
                steps.push(EnableEncryption);
            }
            if b.ownership.as_deref() != Some(OWNERSHIP) {
                steps.push(EnforceOwnership);
            }
        }
    }
    let bucket = obs.bucket.as_ref();
    if bucket.and_then(|b| b.not_found_page.as_deref()) != Some(NOT_FOUND_PAGE.as_bytes()) {
        steps.push(PutNotFoundPage);
    }
    if !bucket.is_some_and(|b| lifecycle::is_current(&b.lifecycle, d.ttl_days)) {
        steps.push(PutLifecycle);
    }
    if obs.oac.is_none() {
        steps.push(CreateOac);
    }
    steps.extend(access(d, obs));
    let wanted = Wanted {
        names: d.names,
        oac_id: obs.oac.as_ref().map_or(NEW_OAC, |o| o.id.as_str()),
        function_arn: obs
            .function
            .as_ref()
            .map_or(NEW_FUNCTION, |f| f.arn.as_str()),
        price_class: d.price_class,
    };
    match &obs.distribution {
        None => steps.push(CreateDistribution),
        Some(dist) => {
            let changes = distribution::drift(&dist.config, &wanted);
            if !changes.is_empty() {
                steps.push(UpdateDistribution { changes });
            }
        }
    }
    let policy_current = obs.distribution.as_ref().is_some_and(|dist| {
        let ours = bucket_policy::statement(&d.names.bucket, &dist.arn);
        bucket.is_some_and(|b| bucket_policy::is_current(b.policy.as_deref(), &ours))
    });
    if !policy_current {
        steps.push(PutBucketPolicy);
    }
    steps
}

/// The function and the bucket's record, as `d.access` wants them; what
/// `infra access` changes.
pub fn access(d: &Desired, obs: &Observed) -> Vec<SetupStep> {
    use SetupStep::*;
    let code = d.access.code.as_bytes();
    let mut steps = match &obs.function {
        None => vec![CreateFunction, PublishFunction],
        Some(f) if f.code != code => vec![UpdateFunction, PublishFunction],
        Some(f) if f.live_code.as_deref() != Some(code) => vec![PublishFunction],
        Some(_) => vec![],
    };
    let record = obs.bucket.as_ref().and_then(|b| b.access_record.as_deref());
    if record != Some(d.access.record.as_slice()) {
        steps.push(PutAccessRecord);
    }
    steps
}

/// Who may read, as the observed function says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservedAccess {
    /// No function yet.
    Absent,
    /// A function with no settings at all (from before access modes, or
    /// another tool's): it serves everyone.
    NoSettings,
    Read(AccessConfig),
    /// Settings are there but cannot be read: nothing may act on them.
    Unreadable(UnreadableAccess),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "CloudFront function {function} holds access settings this version of allure-host cannot read ({why}). Nothing was changed. Fix its `var CONFIG` line in the CloudFront console, use the allure-host version that wrote it, or replace the settings with `allure-host infra setup --adopt --reset-access --access MODES` (new keys and passwords: every link and password given out stops working)"
)]
pub struct UnreadableAccess {
    pub function: String,
    pub why: String,
}

impl ObservedAccess {
    /// The settings a command may change: open for a function without any,
    /// None without a function; unreadable ones stop the command.
    pub fn writable(self) -> Result<Option<AccessConfig>, UnreadableAccess> {
        match self {
            Self::Absent => Ok(None),
            Self::NoSettings => Ok(Some(AccessConfig::open())),
            Self::Read(config) => Ok(Some(config)),
            Self::Unreadable(e) => Err(e),
        }
    }
}

/// The settings of the observed function: the LIVE stage's, which readers
/// meet. The DEVELOPMENT stage must be readable too, as writing replaces it.
pub fn observed_access(names: &Names, obs: &Observed) -> ObservedAccess {
    let Some(f) = &obs.function else {
        return ObservedAccess::Absent;
    };
    let unreadable = |stage: &str, e: super::access::Unreadable| {
        ObservedAccess::Unreadable(UnreadableAccess {
            function: names.function.clone(),
            why: format!("{stage} stage: {e}"),
        })
    };
    if let Err(e) = AccessConfig::from_code(&f.code) {
        return unreadable("DEVELOPMENT", e);
    }
    match AccessConfig::from_code(f.live_code.as_deref().unwrap_or(&f.code)) {
        Ok(None) => ObservedAccess::NoSettings,
        Ok(Some(config)) => ObservedAccess::Read(config),
        Err(e) => unreadable("LIVE", e),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CleanupStep {
    DisableDistribution,
    WaitUntilDisabled,
    DeleteDistribution,
    DeleteFunction,
    DeleteOac,
    RemovePolicyStatement,
    RemoveLifecycleRules,
    DeleteNotFoundPage,
    DeleteAccessRecord,
    EmptyBucket,
    DeleteBucket,
}

impl CleanupStep {
    pub fn describe(&self, names: &Names, obs: &Observed) -> String {
        let dist = obs.distribution.as_ref().map_or("", |d| d.id.as_str());
        match self {
            Self::DisableDistribution => format!("disable distribution {dist}"),
            Self::WaitUntilDisabled => {
                format!("wait until distribution {dist} is deployed and disabled")
            }
            Self::DeleteDistribution => format!("delete distribution {dist}"),
            Self::DeleteFunction => format!("delete CloudFront function {}", names.function),
            Self::DeleteOac => format!(
                "delete origin access control {} ({})",
                names.oac,
                obs.oac.as_ref().map_or("", |o| o.id.as_str())
            ),
            Self::RemovePolicyStatement => format!(
                "remove the statement {} from the bucket policy of {}, keeping other statements",
                bucket_policy::SID,
                names.bucket
            ),
            Self::RemoveLifecycleRules => {
                format!(
                    "remove the allure-host-* lifecycle rules of {}",
                    names.bucket
                )
            }
            Self::DeleteNotFoundPage => format!("delete s3://{}/{NOT_FOUND_KEY}", names.bucket),
            Self::DeleteAccessRecord => format!("delete s3://{}/{RECORD_KEY}", names.bucket),
            Self::EmptyBucket => format!(
                "delete every object version and delete marker in {}",
                names.bucket
            ),
            Self::DeleteBucket => format!("delete bucket {}", names.bucket),
        }
    }
}

pub fn cleanup(obs: &Observed, delete_bucket: bool) -> Vec<CleanupStep> {
    use CleanupStep::*;
    let mut steps = Vec::new();
    if let Some(d) = &obs.distribution {
        if d.config.enabled() {
            steps.push(DisableDistribution);
        }
        steps.extend([WaitUntilDisabled, DeleteDistribution]);
    }
    if obs.function.is_some() {
        steps.push(DeleteFunction);
    }
    if obs.oac.is_some() {
        steps.push(DeleteOac);
    }
    let Some(bucket) = &obs.bucket else {
        return steps;
    };
    if delete_bucket {
        steps.extend([EmptyBucket, DeleteBucket]);
        return steps;
    }
    if bucket
        .policy
        .as_deref()
        .is_some_and(bucket_policy::has_ours)
    {
        steps.push(RemovePolicyStatement);
    }
    if bucket.lifecycle.iter().any(lifecycle::is_ours) {
        steps.push(RemoveLifecycleRules);
    }
    if bucket.not_found_page.is_some() {
        steps.push(DeleteNotFoundPage);
    }
    if bucket.access_record.is_some() {
        steps.push(DeleteAccessRecord);
    }
    steps
}

/// The ARN of the observed distribution, for policies.
pub fn observed_distribution_arn(obs: &Observed) -> Option<String> {
    obs.distribution
        .as_ref()
        .map(|d| distribution_arn(&obs.account, &d.id))
}

/// Link mode with one fixed key.
#[cfg(test)]
pub(crate) fn test_access() -> Access {
    let mut config = AccessConfig::open();
    config.modes = vec![crate::model::access::Mode::Link];
    config.keys.insert(
        "k1".into(),
        super::access::SigningKey {
            secret: "ab".repeat(32),
            until: None,
        },
    );
    Access::new(config).unwrap()
}

/// What the world looks like once setup has run.
#[cfg(test)]
pub(crate) fn finished(names: &Names) -> Observed {
    use super::state::{BucketState, DistributionState, FunctionState, OacState};

    let function_arn = "arn:aws:cloudfront::123456789012:function/f".to_string();
    let config = distribution::new_config(
        &Wanted {
            names,
            oac_id: "OAC1",
            function_arn: &function_arn,
            price_class: "PriceClass_100",
        },
        "ref",
    );
    let arn = distribution_arn("123456789012", "E1");
    let policy = bucket_policy::merge(None, bucket_policy::statement(&names.bucket, &arn))
        .unwrap()
        .to_string();
    Observed {
        account: "123456789012".into(),
        bucket: Some(BucketState {
            public_access_block: [true; 4],
            encryption: Some("AES256".into()),
            ownership: Some(OWNERSHIP.into()),
            policy: Some(policy),
            policy_is_public: Some(false),
            lifecycle: lifecycle::desired(&[7, 30]),
            not_found_page: Some(NOT_FOUND_PAGE.as_bytes().to_vec()),
            access_record: Some(test_access().record),
        }),
        oac: Some(OacState { id: "OAC1".into() }),
        function: Some(FunctionState {
            arn: function_arn,
            etag: "e".into(),
            code: test_access().code.into_bytes(),
            live_code: Some(test_access().code.into_bytes()),
        }),
        distribution: Some(DistributionState {
            id: "E1".into(),
            arn,
            domain: "d1.cloudfront.net".into(),
            status: "Deployed".into(),
            etag: "e".into(),
            config,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired<'a>(names: &'a Names, access: &'a Access) -> Desired<'a> {
        Desired {
            names,
            price_class: "PriceClass_100",
            ttl_days: &[7, 30],
            access,
        }
    }

    #[test]
    fn from_nothing_every_step_runs_in_order() {
        let names = Names::new("reports-b", "eu-west-1").unwrap();
        let steps = setup(&desired(&names, &test_access()), &Observed::default());
        use SetupStep::*;
        assert_eq!(
            steps,
            [
                CreateBucket,
                BlockPublicAccess,
                EnableEncryption,
                EnforceOwnership,
                PutNotFoundPage,
                PutLifecycle,
                CreateOac,
                CreateFunction,
                PublishFunction,
                PutAccessRecord,
                CreateDistribution,
                PutBucketPolicy
            ]
        );
    }

    #[test]
    fn when_everything_is_in_place_nothing_runs() {
        let names = Names::new("reports-b", "eu-west-1").unwrap();
        assert_eq!(
            setup(&desired(&names, &test_access()), &finished(&names)),
            []
        );
    }

    #[test]
    fn each_drift_maps_to_its_own_step() {
        let names = Names::new("reports-b", "eu-west-1").unwrap();
        let access = test_access();
        let d = desired(&names, &access);
        let mut obs = finished(&names);
        let bucket = obs.bucket.as_mut().unwrap();
        bucket.public_access_block[2] = false;
        bucket.policy = None;
        obs.function.as_mut().unwrap().live_code = None;
        assert_eq!(
            setup(&d, &obs),
            [
                SetupStep::BlockPublicAccess,
                SetupStep::PublishFunction,
                SetupStep::PutBucketPolicy
            ]
        );
        let mut obs = finished(&names);
        obs.oac = None;
        let steps = setup(&d, &obs);
        assert_eq!(steps[0], SetupStep::CreateOac);
        assert_eq!(
            steps[1],
            SetupStep::UpdateDistribution {
                changes: vec!["origin access control".into()]
            }
        );
    }

    #[test]
    fn only_a_function_without_settings_is_open_and_unreadable_ones_stop_writers() {
        let names = Names::new("reports-b", "eu-west-1").unwrap();
        assert_eq!(
            observed_access(&names, &Observed::default()),
            ObservedAccess::Absent
        );
        let mut obs = finished(&names);
        let read = observed_access(&names, &obs);
        assert_eq!(read, ObservedAccess::Read(test_access().config));
        let f = obs.function.as_mut().unwrap();
        f.live_code = Some(b"function handler(e) { return e.request; }".to_vec());
        f.code = f.live_code.clone().unwrap();
        assert_eq!(
            observed_access(&names, &obs).writable(),
            Ok(Some(AccessConfig::open()))
        );
        for stage in ["LIVE", "DEVELOPMENT"] {
            let mut obs = finished(&names);
            let f = obs.function.as_mut().unwrap();
            let tampered = test_access().code.replace("[\"link\"]", "[\"sso\"]");
            if stage == "LIVE" {
                f.live_code = Some(tampered.into_bytes());
            } else {
                f.code = tampered.into_bytes();
            }
            let err = observed_access(&names, &obs).writable().unwrap_err();
            assert_eq!(err.function, names.function);
            assert!(
                err.why.starts_with(stage) && err.why.contains("sso"),
                "{err}"
            );
            assert!(err.to_string().contains("Nothing was changed"));
        }
    }

    #[test]
    fn cleanup_disables_before_deleting_and_keeps_the_bucket_unless_asked() {
        let names = Names::new("reports-b", "eu-west-1").unwrap();
        let obs = finished(&names);
        use CleanupStep::*;
        assert_eq!(
            cleanup(&obs, false),
            [
                DisableDistribution,
                WaitUntilDisabled,
                DeleteDistribution,
                DeleteFunction,
                DeleteOac,
                RemovePolicyStatement,
                RemoveLifecycleRules,
                DeleteNotFoundPage,
                DeleteAccessRecord
            ]
        );
        let all = cleanup(&obs, true);
        assert_eq!(&all[all.len() - 2..], [EmptyBucket, DeleteBucket]);
        assert_eq!(cleanup(&Observed::default(), true), []);
    }
}
