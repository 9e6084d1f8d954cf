//! The checks `infra validate` prints: is the bucket private, and can only
//! our distribution read it, through the OAC, with the index.html function?

use aws_sdk_cloudfront::types::ViewerProtocolPolicy;

use super::access::AccessConfig;
use super::names::Names;
use super::plan::{OWNERSHIP, ObservedAccess, observed_access};
use super::state::{BucketState, DistributionState, Observed};
use super::{bucket_policy, distribution, lifecycle};
use crate::model::checks::{Row, Status, pass_if, row};

pub fn checks(names: &Names, obs: &Observed) -> Vec<Row> {
    let mut rows = Vec::new();
    let Some(bucket) = &obs.bucket else {
        rows.push(row(
            "bucket",
            Status::Fail,
            format!(
                "{} does not exist in {}; run `allure-host infra setup`",
                names.bucket, names.region
            ),
        ));
        return rows;
    };
    rows.push(row(
        "bucket",
        Status::Ok,
        format!("{} in {}", names.bucket, names.region),
    ));
    bucket_rows(bucket, &mut rows);
    let dist_arn = obs.distribution.as_ref().map(|d| d.arn.as_str());
    let scope = bucket_policy::scope(bucket.policy.as_deref(), dist_arn.unwrap_or("-"));
    match &scope {
        Err(e) => rows.push(row("bucket not public", Status::Fail, e.to_string())),
        Ok(s) => {
            let public = bucket.policy_is_public == Some(true) || !s.public.is_empty();
            rows.push(pass_if(
                "bucket not public",
                !public,
                if public {
                    format!("the policy lets anyone read ({})", s.public.join(", "))
                } else {
                    "no statement grants public access".to_string()
                },
            ));
        }
    }

    let Some(dist) = &obs.distribution else {
        rows.push(row(
            "distribution",
            Status::Fail,
            "not found; run `allure-host infra setup`",
        ));
        return rows;
    };
    distribution_rows(names, obs, dist, &scope, &mut rows);
    rows.push(access_row(names, bucket, obs));
    rows.push(lifecycle_row(bucket));
    rows
}

/// Who may read, as the LIVE function enforces it, and whether the bucket's
/// record (what publishers read) agrees.
fn access_row(names: &Names, bucket: &BucketState, obs: &Observed) -> Row {
    use crate::model::access::Mode;
    let config = match observed_access(names, obs) {
        ObservedAccess::Absent => {
            return row(
                "access",
                Status::Fail,
                "no function enforces access; run `allure-host infra setup --adopt`",
            );
        }
        ObservedAccess::Unreadable(e) => return row("access", Status::Fail, e.to_string()),
        ObservedAccess::NoSettings => AccessConfig::open(),
        ObservedAccess::Read(config) => config,
    };
    let summary = super::access::describe(&config);
    let record = config.record().to_json();
    if bucket.access_record.as_deref() != Some(record.as_slice()) {
        return row(
            "access",
            Status::Fail,
            format!(
                "{summary}, but s3://…/{} is missing or says otherwise, so publishers are misinformed; run `allure-host infra setup --adopt`",
                crate::model::access::RECORD_KEY
            ),
        );
    }
    if config.modes.contains(&Mode::Link) && config.active_key().is_none() {
        return row(
            "access",
            Status::Fail,
            format!("{summary}: no active key signs links; run `allure-host infra access rotate`"),
        );
    }
    if config.modes == [Mode::Open] {
        return row(
            "access",
            Status::Warn,
            "open: anyone who has the URL can read every report; run `allure-host infra access set link` to require signed links",
        );
    }
    if config.modes.contains(&Mode::Basic) && config.users.is_empty() {
        return row(
            "access",
            Status::Warn,
            format!("{summary}: nobody can sign in; run `allure-host infra access add-user NAME`"),
        );
    }
    row("access", Status::Ok, summary)
}

/// Block Public Access, encryption and ownership.
fn bucket_rows(bucket: &BucketState, rows: &mut Vec<Row>) {
    let off: Vec<&str> = [
        "BlockPublicAcls",
        "IgnorePublicAcls",
        "BlockPublicPolicy",
        "RestrictPublicBuckets",
    ]
    .iter()
    .zip(bucket.public_access_block)
    .filter(|(_, on)| !on)
    .map(|(name, _)| *name)
    .collect();
    rows.push(pass_if(
        "block public access",
        off.is_empty(),
        if off.is_empty() {
            "all four settings on".to_string()
        } else {
            format!(
                "off: {}; run `allure-host infra setup --adopt` to turn them on",
                off.join(", ")
            )
        },
    ));
    rows.push(pass_if(
        "encryption",
        bucket.encryption.is_some(),
        bucket
            .encryption
            .clone()
            .unwrap_or_else(|| "no default encryption".into()),
    ));
    rows.push(pass_if(
        "object ownership",
        bucket.ownership.as_deref() == Some(OWNERSHIP),
        bucket
            .ownership
            .clone()
            .unwrap_or_else(|| "not set (ACLs in use)".into()),
    ));
}

/// The distribution, its OAC, the policy scope and the function.
fn distribution_rows(
    names: &Names,
    obs: &Observed,
    dist: &DistributionState,
    scope: &Result<bucket_policy::Scope, bucket_policy::PolicyError>,
    rows: &mut Vec<Row>,
) {
    let https = dist
        .config
        .default_cache_behavior()
        .is_some_and(|b| b.viewer_protocol_policy() == &ViewerProtocolPolicy::RedirectToHttps);
    let healthy = dist.config.enabled() && dist.deployed() && https;
    rows.push(pass_if(
        "distribution",
        healthy,
        format!(
            "{} {} ({}, {}{})",
            dist.id,
            dist.domain,
            dist.status,
            if dist.config.enabled() {
                "enabled"
            } else {
                "DISABLED"
            },
            if https {
                ", HTTPS redirect"
            } else {
                ", HTTP allowed"
            }
        ),
    ));
    let attached = distribution::attached_oac(&dist.config);
    let lossy = distribution::lossy_server(&dist.config);
    const UNREPORTED: &str =
        "this endpoint does not report it (an emulator such as moto); not checked";
    rows.push(match (&obs.oac, attached) {
        (Some(_), _) if lossy => row("origin access control", Status::Warn, UNREPORTED),
        (Some(oac), Some(id)) if oac.id == id => row(
            "origin access control",
            Status::Ok,
            format!("{id} attached"),
        ),
        (None, _) => row(
            "origin access control",
            Status::Fail,
            format!("{} not found", names.oac),
        ),
        (Some(oac), other) => row(
            "origin access control",
            Status::Fail,
            format!(
                "{} is not attached (origin uses {})",
                oac.id,
                other.unwrap_or("none")
            ),
        ),
    });
    if let Ok(s) = &scope {
        let ok = s.grants_distribution && s.loose_cloudfront.is_empty();
        rows.push(pass_if(
            "bucket policy",
            ok,
            if ok {
                format!("read only by {}", dist.id)
            } else if !s.grants_distribution {
                format!(
                    "no statement {} for {}; run `allure-host infra setup --adopt`",
                    bucket_policy::SID,
                    dist.id
                )
            } else {
                format!(
                    "CloudFront may read without naming this distribution: {}",
                    s.loose_cloudfront.join(", ")
                )
            },
        ));
    }
    let associated = distribution::viewer_request_function(&dist.config);
    rows.push(match &obs.function {
        None => row("viewer function", Status::Fail, format!("{} not found", names.function)),
        Some(_) if lossy => row("viewer function", Status::Warn, UNREPORTED),
        Some(f) if associated != Some(f.arn.as_str()) => row(
            "viewer function",
            Status::Fail,
            format!("{} is not associated with the default behaviour", names.function),
        ),
        Some(f) if !f.live_code.as_deref().is_some_and(AccessConfig::is_current) => row(
            "viewer function",
            Status::Warn,
            "associated, but its LIVE code is not this version's; run `allure-host infra setup --adopt`",
        ),
        Some(_) => row("viewer function", Status::Ok, format!("{} on viewer request", names.function)),
    });
}

fn lifecycle_row(bucket: &BucketState) -> Row {
    let days = lifecycle::ttl_days_covered(&bucket.lifecycle);
    let aborts = lifecycle::aborts_incomplete_uploads(&bucket.lifecycle);
    row(
        "lifecycle",
        if days.is_empty() || !aborts {
            Status::Warn
        } else {
            Status::Ok
        },
        format!(
            "ttl-days rules: {}; incomplete uploads {}",
            if days.is_empty() {
                "none (--ttl-days tags expire nothing)".to_string()
            } else {
                days.iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            },
            if aborts { "aborted" } else { "kept" }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::finished;

    fn status_of(rows: &[Row], name: &str) -> Status {
        rows.iter().find(|r| r.name == name).unwrap().status
    }

    #[test]
    fn a_finished_setup_passes_every_check() {
        let names = Names::new("reports-b", "eu-west-1").unwrap();
        let rows = checks(&names, &finished(&names));
        assert!(rows.iter().all(|r| r.status == Status::Ok), "{rows:?}");
        assert_eq!(rows.len(), 11);
    }

    #[test]
    fn unreadable_settings_fail_the_access_row() {
        let names = Names::new("reports-b", "eu-west-1").unwrap();
        let mut obs = finished(&names);
        let f = obs.function.as_mut().unwrap();
        let tampered = String::from_utf8(f.code.clone())
            .unwrap()
            .replace("\"modes\":[\"link\"]", "\"modes\":[\"link\",\"sso\"]");
        f.code = tampered.clone().into_bytes();
        f.live_code = Some(tampered.into_bytes());
        let rows = checks(&names, &obs);
        let access = rows.iter().find(|r| r.name == "access").unwrap();
        assert_eq!(access.status, Status::Fail);
        assert!(
            access.detail.contains(&names.function) && access.detail.contains("sso"),
            "{access:?}"
        );
    }

    #[test]
    fn each_fault_fails_its_own_row() {
        let names = Names::new("reports-b", "eu-west-1").unwrap();
        let mut obs = finished(&names);
        let b = obs.bucket.as_mut().unwrap();
        b.public_access_block[3] = false;
        b.policy_is_public = Some(true);
        b.encryption = None;
        let rows = checks(&names, &obs);
        assert_eq!(status_of(&rows, "block public access"), Status::Fail);
        assert_eq!(status_of(&rows, "bucket not public"), Status::Fail);
        assert_eq!(status_of(&rows, "encryption"), Status::Fail);
        assert_eq!(status_of(&rows, "bucket policy"), Status::Ok);

        let mut obs = finished(&names);
        obs.oac = Some(crate::state::OacState { id: "OTHER".into() });
        obs.function.as_mut().unwrap().arn = "arn:aws:cloudfront::1:function/other".into();
        obs.distribution.as_mut().unwrap().status = "InProgress".into();
        let rows = checks(&names, &obs);
        assert_eq!(status_of(&rows, "origin access control"), Status::Fail);
        assert_eq!(status_of(&rows, "viewer function"), Status::Fail);
        assert_eq!(status_of(&rows, "distribution"), Status::Fail);

        let mut obs = finished(&names);
        obs.bucket.as_mut().unwrap().lifecycle.clear();
        assert_eq!(status_of(&checks(&names, &obs), "lifecycle"), Status::Warn);
        obs.distribution = None;
        assert_eq!(
            status_of(&checks(&names, &obs), "distribution"),
            Status::Fail
        );
    }
}
