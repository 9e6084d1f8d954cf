//! Reading what exists. "Not there" answers become None, never errors.

use anyhow::Result;
use aws_sdk_cloudfront::types::FunctionStage;

use super::{Aws, BucketProbe, failed, is_code, missing};
use crate::model::access::RECORD_KEY;
use crate::names::{NOT_FOUND_KEY, Names};
use crate::state::{BucketState, DistributionState, FunctionState, OacState, Observed};

impl Aws {
    /// Everything setup manages for `names`. `distribution_id` (from
    /// `.infra_env` or a flag) wins over finding ours by its comment.
    pub async fn observe(&self, names: &Names, distribution_id: Option<&str>) -> Result<Observed> {
        let account = self.identity().await?.account;
        let bucket = match self.probe_bucket(&names.bucket).await? {
            BucketProbe::Available => None,
            BucketProbe::Taken => anyhow::bail!(
                "bucket {} exists but belongs to another account (or these credentials may not use it); choose another --bucket",
                names.bucket
            ),
            BucketProbe::Ours { region } => {
                if let Some(r) = region.filter(|r| r != &names.region) {
                    anyhow::bail!(
                        "bucket {} is in {r}, not {}; pass --region {r}",
                        names.bucket,
                        names.region
                    );
                }
                Some(self.bucket_state(&names.bucket).await?)
            }
        };
        let id = match distribution_id {
            Some(id) => Some(id.to_string()),
            None => self.find_distribution(&names.comment).await?,
        };
        let distribution = match id {
            Some(id) => self.distribution(&id).await?,
            None => None,
        };
        Ok(Observed {
            account,
            bucket,
            oac: self.find_oac(&names.oac).await?,
            function: self.function(&names.function).await?,
            distribution,
        })
    }

    /// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy,
    /// RestrictPublicBuckets; all off when there is no configuration.
    pub async fn public_access_block(&self, bucket: &str) -> Result<[bool; 4]> {
        match self
            .s3
            .get_public_access_block()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .public_access_block_configuration()
                .map_or([false; 4], |c| {
                    [
                        c.block_public_acls() == Some(true),
                        c.ignore_public_acls() == Some(true),
                        c.block_public_policy() == Some(true),
                        c.restrict_public_buckets() == Some(true),
                    ]
                })),
            Err(e) if is_code(&e, &["NoSuchPublicAccessBlockConfiguration"]) => Ok([false; 4]),
            Err(e) => Err(failed("GetPublicAccessBlock", bucket, e)),
        }
    }

    /// S3's own verdict on the bucket policy; None when there is no policy.
    pub async fn policy_is_public(&self, bucket: &str) -> Result<Option<bool>> {
        match self
            .s3
            .get_bucket_policy_status()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => Ok(out.policy_status().and_then(|s| s.is_public())),
            Err(e) if is_code(&e, &["NoSuchBucketPolicy"]) => Ok(None),
            Err(e) => Err(failed("GetBucketPolicyStatus", bucket, e)),
        }
    }

    async fn bucket_state(&self, bucket: &str) -> Result<BucketState> {
        let s3 = &self.s3;
        let pab = self.public_access_block(bucket).await?;
        let encryption = match s3.get_bucket_encryption().bucket(bucket).send().await {
            Ok(out) => out
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default())
                .map(|d| d.sse_algorithm().as_str().to_string()),
            Err(e) if is_code(&e, &["ServerSideEncryptionConfigurationNotFoundError"]) => None,
            Err(e) => return Err(failed("GetBucketEncryption", bucket, e)),
        };
        let ownership = match s3
            .get_bucket_ownership_controls()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => out
                .ownership_controls()
                .and_then(|c| c.rules().first())
                .map(|r| r.object_ownership().as_str().to_string()),
            Err(e) if is_code(&e, &["OwnershipControlsNotFoundError"]) => None,
            Err(e) => return Err(failed("GetBucketOwnershipControls", bucket, e)),
        };
        let policy = self.bucket_policy(bucket).await?;
        let policy_is_public = self.policy_is_public(bucket).await?;
        let lifecycle = match s3
            .get_bucket_lifecycle_configuration()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => out.rules().to_vec(),
            Err(e) if is_code(&e, &["NoSuchLifecycleConfiguration"]) => Vec::new(),
            Err(e) => return Err(failed("GetBucketLifecycleConfiguration", bucket, e)),
        };
        let not_found_page = self.object(bucket, NOT_FOUND_KEY).await?;
        let access_record = self.object(bucket, RECORD_KEY).await?;
        Ok(BucketState {
            public_access_block: pab,
            encryption,
            ownership,
            policy,
            policy_is_public,
            lifecycle,
            not_found_page,
            access_record,
        })
    }

    /// An object's bytes; None when it does not exist.
    async fn object(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
        match self.s3.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => Ok(Some(
                out.body
                    .collect()
                    .await
                    .map_err(|e| anyhow::anyhow!("reading s3://{bucket}/{key}: {e}"))?
                    .to_vec(),
            )),
            Err(e) if is_code(&e, &["NoSuchKey"]) => Ok(None),
            Err(e) => Err(failed("GetObject", format!("s3://{bucket}/{key}"), e)),
        }
    }

    /// The bucket's policy document; None when it has none.
    pub async fn bucket_policy(&self, bucket: &str) -> Result<Option<String>> {
        match self.s3.get_bucket_policy().bucket(bucket).send().await {
            Ok(out) => Ok(out.policy().map(str::to_string)),
            Err(e) if is_code(&e, &["NoSuchBucketPolicy"]) => Ok(None),
            Err(e) => Err(failed("GetBucketPolicy", bucket, e)),
        }
    }

    async fn find_oac(&self, name: &str) -> Result<Option<OacState>> {
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .cloudfront
                .list_origin_access_controls()
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| failed("ListOriginAccessControls", "", e))?;
            let Some(list) = out.origin_access_control_list() else {
                return Ok(None);
            };
            if let Some(found) = list.items().iter().find(|o| o.name() == name) {
                return Ok(Some(OacState {
                    id: found.id().to_string(),
                }));
            }
            match list
                .next_marker()
                .filter(|m| !m.is_empty() && list.is_truncated())
            {
                Some(next) => marker = Some(next.to_string()),
                None => return Ok(None),
            }
        }
    }

    async fn find_distribution(&self, comment: &str) -> Result<Option<String>> {
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .cloudfront
                .list_distributions()
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| failed("ListDistributions", "", e))?;
            let Some(list) = out.distribution_list() else {
                return Ok(None);
            };
            if let Some(found) = list.items().iter().find(|d| d.comment() == comment) {
                return Ok(Some(found.id().to_string()));
            }
            match list
                .next_marker()
                .filter(|m| !m.is_empty() && list.is_truncated())
            {
                Some(next) => marker = Some(next.to_string()),
                None => return Ok(None),
            }
        }
    }

    /// A distribution with its config and the ETag that updates need.
    pub async fn distribution(&self, id: &str) -> Result<Option<DistributionState>> {
        let out = match self.cloudfront.get_distribution().id(id).send().await {
            Ok(out) => out,
            Err(e) if is_code(&e, &["NoSuchDistribution"]) => return Ok(None),
            Err(e) => return Err(failed("GetDistribution", id, e)),
        };
        let etag = missing(out.e_tag(), "an ETag")?.to_string();
        let d = missing(out.distribution(), "the distribution")?;
        let config = missing(d.distribution_config(), "the distribution's config")?;
        Ok(Some(DistributionState {
            id: d.id().to_string(),
            arn: d.arn().to_string(),
            domain: d.domain_name().to_string(),
            status: d.status().to_string(),
            etag,
            config: config.clone(),
        }))
    }

    async fn function(&self, name: &str) -> Result<Option<FunctionState>> {
        let described = match self.cloudfront.describe_function().name(name).send().await {
            Ok(out) => out,
            Err(e) if is_code(&e, &["NoSuchFunctionExists"]) => return Ok(None),
            Err(e) => return Err(failed("DescribeFunction", name, e)),
        };
        let etag = missing(described.e_tag(), "an ETag")?.to_string();
        let arn = missing(
            described
                .function_summary()
                .and_then(|s| s.function_metadata())
                .map(|m| m.function_arn()),
            "the function's ARN",
        )?
        .to_string();
        let code = self.function_code(name, FunctionStage::Development).await?;
        let live_code = self.function_code(name, FunctionStage::Live).await?;
        Ok(Some(FunctionState {
            arn,
            etag,
            code: code.unwrap_or_default(),
            live_code,
        }))
    }

    async fn function_code(&self, name: &str, stage: FunctionStage) -> Result<Option<Vec<u8>>> {
        match self
            .cloudfront
            .get_function()
            .name(name)
            .stage(stage)
            .send()
            .await
        {
            Ok(out) => Ok(out.function_code().map(|b| b.as_ref().to_vec())),
            Err(e) if is_code(&e, &["NoSuchFunctionExists"]) => Ok(None),
            Err(e) => Err(failed("GetFunction", name, e)),
        }
    }
}
