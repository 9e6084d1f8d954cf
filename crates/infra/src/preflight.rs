//! `publish --check`'s rows for an S3 target, from what the infra readers
//! returned (each reading may have failed on its own). Pure.

use super::state::BucketProbe;
use crate::model::checks::{Row, Status, row};

/// What the readers returned; errors as text.
pub struct S3Readings {
    pub bucket: String,
    /// `account as arn`.
    pub identity: Result<(String, String), String>,
    pub probe: Result<BucketProbe, String>,
    /// Only read when the bucket is usable.
    pub public_access_block: Option<Result<[bool; 4], String>>,
    pub policy_is_public: Option<Result<Option<bool>, String>>,
}

pub fn rows(r: &S3Readings) -> Vec<Row> {
    let mut rows = vec![match &r.identity {
        Ok((account, arn)) => row(
            "credentials",
            Status::Ok,
            format!("account {account} as {arn}"),
        ),
        Err(e) => row("credentials", Status::Fail, e.clone()),
    }];
    rows.push(match &r.probe {
        Ok(BucketProbe::Ours { .. }) => {
            row("bucket", Status::Ok, format!("{} is reachable", r.bucket))
        }
        Ok(BucketProbe::Available) => row(
            "bucket",
            Status::Fail,
            format!(
                "bucket {:?} does not exist or is in another region; check --bucket and --region, or create it with `allure-host infra setup`",
                r.bucket
            ),
        ),
        Ok(BucketProbe::Taken) => row(
            "bucket",
            Status::Fail,
            format!(
                "{} exists, but HeadBucket was denied: these credentials lack s3:ListBucket on it (publishing may still work with a least-privilege policy)",
                r.bucket
            ),
        ),
        Err(e) => row("bucket", Status::Fail, e.clone()),
    });
    if let Some(pab) = &r.public_access_block {
        rows.push(public_access_block_row(pab));
    }
    if let Some(policy) = &r.policy_is_public {
        rows.push(match policy {
            Ok(Some(true)) => row(
                "bucket policy",
                Status::Fail,
                "the bucket policy makes the bucket public",
            ),
            Ok(Some(false)) => row("bucket policy", Status::Ok, "not public"),
            Ok(None) => row("bucket policy", Status::Ok, "no bucket policy (not public)"),
            Err(e) => row("bucket policy", Status::Warn, e.clone()),
        });
    }
    rows
}

fn public_access_block_row(pab: &Result<[bool; 4], String>) -> Row {
    match pab {
        Ok(all) if all.iter().all(|on| *on) => {
            row("public access block", Status::Ok, "all four settings on")
        }
        Ok(_) => row(
            "public access block",
            Status::Fail,
            "not all four settings are on; run `allure-host infra setup` or enable Block Public Access",
        ),
        Err(e) => row("public access block", Status::Fail, e.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readings() -> S3Readings {
        S3Readings {
            bucket: "b".into(),
            identity: Ok(("123".into(), "arn:aws:iam::123:user/u".into())),
            probe: Ok(BucketProbe::Ours { region: None }),
            public_access_block: Some(Ok([true; 4])),
            policy_is_public: Some(Ok(None)),
        }
    }

    fn status(rows: &[Row], name: &str) -> Status {
        rows.iter().find(|r| r.name == name).unwrap().status
    }

    #[test]
    fn a_private_bucket_passes_every_row() {
        let got = super::rows(&readings());
        assert_eq!(got.len(), 4);
        assert!(got.iter().all(|r| r.status == Status::Ok));
    }

    #[test]
    fn each_problem_fails_its_own_row() {
        let mut r = readings();
        r.public_access_block = Some(Ok([true, true, false, true]));
        r.policy_is_public = Some(Ok(Some(true)));
        let got = super::rows(&r);
        assert_eq!(status(&got, "public access block"), Status::Fail);
        assert_eq!(status(&got, "bucket policy"), Status::Fail);
        assert_eq!(status(&got, "credentials"), Status::Ok);

        let mut r = readings();
        r.probe = Ok(BucketProbe::Available);
        r.public_access_block = None;
        r.policy_is_public = None;
        let got = super::rows(&r);
        assert_eq!(status(&got, "bucket"), Status::Fail);
        assert_eq!(got.len(), 2);
        assert!(got[1].detail.contains("infra setup"));
    }
}
