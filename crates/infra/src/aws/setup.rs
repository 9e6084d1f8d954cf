//! Carrying out setup's steps. Each step records what it made in `obs`, so
//! later steps (the distribution needs the OAC and function; the policy needs
//! the distribution) use the real ids.

use anyhow::{Context, Result};
use aws_sdk_cloudfront::primitives::Blob;
use aws_sdk_cloudfront::types::{
    FunctionConfig, FunctionRuntime, OriginAccessControlConfig, OriginAccessControlOriginTypes,
    OriginAccessControlSigningBehaviors, OriginAccessControlSigningProtocols,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};

use aws_sdk_s3::error::ProvideErrorMetadata;

use super::{Aws, failed, is_code, missing, status};
use crate::distribution::{self, Wanted};
use crate::model::access::RECORD_KEY;
use crate::names::NOT_FOUND_KEY;
use crate::plan::{Desired, NOT_FOUND_PAGE, SetupStep};
use crate::state::{BucketState, FunctionState, OacState, Observed};
use crate::{bucket_policy, lifecycle};

impl Aws {
    /// Carry out one step; Ok(Some(text)) is a warning for the user.
    pub async fn apply_setup(
        &self,
        step: &SetupStep,
        d: &Desired<'_>,
        obs: &mut Observed,
    ) -> Result<Option<String>> {
        let done = match step {
            SetupStep::PublishFunction => return self.publish_function(d, obs).await,
            SetupStep::CreateBucket => self.create_bucket(d, obs).await,
            SetupStep::BlockPublicAccess => self.block_public_access(d).await,
            SetupStep::EnableEncryption => self.enable_encryption(d).await,
            SetupStep::EnforceOwnership => self.enforce_ownership(d).await,
            SetupStep::PutNotFoundPage => self.put_not_found_page(d).await,
            SetupStep::PutAccessRecord => self.put_access_record(d, obs).await,
            SetupStep::PutLifecycle => self.put_lifecycle(d, obs).await,
            SetupStep::CreateOac => self.create_oac(d, obs).await,
            SetupStep::CreateFunction => self.create_function(d, obs).await,
            SetupStep::UpdateFunction => self.update_function(d, obs).await,
            SetupStep::CreateDistribution => self.create_distribution(d, obs).await,
            SetupStep::UpdateDistribution { .. } => self.update_distribution(d, obs).await,
            SetupStep::PutBucketPolicy => self.put_bucket_policy(d, obs).await,
        };
        done.map(|()| None)
    }

    async fn create_bucket(&self, d: &Desired<'_>, obs: &mut Observed) -> Result<()> {
        let bucket = d.names.bucket.as_str();
        let s3 = &self.s3;
        let mut req = s3
            .create_bucket()
            .bucket(bucket)
            .object_ownership(ObjectOwnership::BucketOwnerEnforced);
        // us-east-1 is the one region that refuses a location constraint.
        if d.names.region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(d.names.region.as_str()))
                    .build(),
            );
        }
        match req.send().await {
            Ok(_) => {}
            Err(e) if is_code(&e, &["BucketAlreadyOwnedByYou"]) => {}
            Err(e) if is_code(&e, &["BucketAlreadyExists"]) => anyhow::bail!(
                "bucket {bucket} was just taken by another account; choose another --bucket"
            ),
            Err(e) => return Err(failed("CreateBucket", bucket, e)),
        }
        obs.bucket = Some(BucketState::default());
        Ok(())
    }

    async fn block_public_access(&self, d: &Desired<'_>) -> Result<()> {
        let bucket = d.names.bucket.as_str();
        let s3 = &self.s3;
        s3.put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| failed("PutPublicAccessBlock", bucket, e))?;
        Ok(())
    }

    async fn enable_encryption(&self, d: &Desired<'_>) -> Result<()> {
        let bucket = d.names.bucket.as_str();
        let s3 = &self.s3;
        let by_default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::Aes256)
            .build()?;
        s3.put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(by_default)
                            .build(),
                    )
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| failed("PutBucketEncryption", bucket, e))?;
        Ok(())
    }

    async fn enforce_ownership(&self, d: &Desired<'_>) -> Result<()> {
        let bucket = d.names.bucket.as_str();
        let s3 = &self.s3;
        s3.put_bucket_ownership_controls()
            .bucket(bucket)
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(
                        OwnershipControlsRule::builder()
                            .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                            .build()?,
                    )
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| failed("PutBucketOwnershipControls", bucket, e))?;
        Ok(())
    }

    async fn put_not_found_page(&self, d: &Desired<'_>) -> Result<()> {
        let bucket = d.names.bucket.as_str();
        let s3 = &self.s3;
        s3.put_object()
            .bucket(bucket)
            .key(NOT_FOUND_KEY)
            .content_type("text/html; charset=utf-8")
            .cache_control("no-cache")
            .body(ByteStream::from_static(NOT_FOUND_PAGE.as_bytes()))
            .send()
            .await
            .map_err(|e| failed("PutObject", format!("s3://{bucket}/{NOT_FOUND_KEY}"), e))?;
        Ok(())
    }

    /// The modes, for publishers (no secret: it is readable by them).
    async fn put_access_record(&self, d: &Desired<'_>, obs: &mut Observed) -> Result<()> {
        let bucket = d.names.bucket.as_str();
        self.s3
            .put_object()
            .bucket(bucket)
            .key(RECORD_KEY)
            .content_type("application/json")
            .cache_control("no-cache")
            .body(ByteStream::from(d.access.record.clone()))
            .send()
            .await
            .map_err(|e| failed("PutObject", format!("s3://{bucket}/{RECORD_KEY}"), e))?;
        if let Some(b) = obs.bucket.as_mut() {
            b.access_record = Some(d.access.record.clone());
        }
        Ok(())
    }

    async fn put_lifecycle(&self, d: &Desired<'_>, obs: &mut Observed) -> Result<()> {
        let bucket = d.names.bucket.as_str();
        let existing = obs
            .bucket
            .as_ref()
            .map(|b| b.lifecycle.clone())
            .unwrap_or_default();
        let rules = lifecycle::merge(&existing, lifecycle::desired(d.ttl_days));
        self.put_lifecycle_rules(bucket, rules).await
    }

    async fn create_oac(&self, d: &Desired<'_>, obs: &mut Observed) -> Result<()> {
        let bucket = d.names.bucket.as_str();
        let cf = &self.cloudfront;
        let out = cf
            .create_origin_access_control()
            .origin_access_control_config(
                OriginAccessControlConfig::builder()
                    .name(&d.names.oac)
                    .description(format!("allure-host: CloudFront reads s3://{bucket}"))
                    .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
                    .signing_behavior(OriginAccessControlSigningBehaviors::Always)
                    .origin_access_control_origin_type(OriginAccessControlOriginTypes::S3)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| failed("CreateOriginAccessControl", &d.names.oac, e))?;
        let id = missing(out.origin_access_control(), "the new OAC")?.id();
        obs.oac = Some(OacState { id: id.to_string() });
        Ok(())
    }

    async fn create_function(&self, d: &Desired<'_>, obs: &mut Observed) -> Result<()> {
        let cf = &self.cloudfront;
        let out = cf
            .create_function()
            .name(&d.names.function)
            .function_config(function_config()?)
            .function_code(Blob::new(d.access.code.as_bytes()))
            .send()
            .await
            .map_err(|e| failed("CreateFunction", &d.names.function, e))?;
        let arn = missing(
            out.function_summary()
                .and_then(|s| s.function_metadata())
                .map(|m| m.function_arn()),
            "the function's ARN",
        )?;
        obs.function = Some(FunctionState {
            arn: arn.to_string(),
            etag: missing(out.e_tag(), "an ETag")?.to_string(),
            code: d.access.code.as_bytes().to_vec(),
            live_code: None,
        });
        Ok(())
    }

    async fn update_function(&self, d: &Desired<'_>, obs: &mut Observed) -> Result<()> {
        let cf = &self.cloudfront;
        let f = obs.function.as_mut().context("no function to update")?;
        let out = cf
            .update_function()
            .name(&d.names.function)
            .if_match(&f.etag)
            .function_config(function_config()?)
            .function_code(Blob::new(d.access.code.as_bytes()))
            .send()
            .await
            .map_err(|e| failed("UpdateFunction", &d.names.function, e))?;
        f.etag = missing(out.e_tag(), "an ETag")?.to_string();
        f.code = d.access.code.as_bytes().to_vec();
        Ok(())
    }

    async fn publish_function(
        &self,
        d: &Desired<'_>,
        obs: &mut Observed,
    ) -> Result<Option<String>> {
        let cf = &self.cloudfront;
        let f = obs.function.as_mut().context("no function to publish")?;
        let warning = match cf
            .publish_function()
            .name(&d.names.function)
            .if_match(&f.etag)
            .send()
            .await
        {
            Ok(_) => None,
            // AWS answers every call it knows; a bare 404 is a server
            // without PublishFunction (moto). Its only stage serves.
            Err(e) if e.code().is_none() && status(&e) == Some(404) => Some(format!(
                "this endpoint does not implement PublishFunction (an emulator such as moto?); {} stays as created",
                d.names.function
            )),
            Err(e) => return Err(failed("PublishFunction", &d.names.function, e)),
        };
        // Publishing issues a new ETag; later deletes need it.
        let described = cf
            .describe_function()
            .name(&d.names.function)
            .send()
            .await
            .map_err(|e| failed("DescribeFunction", &d.names.function, e))?;
        f.etag = missing(described.e_tag(), "an ETag")?.to_string();
        f.live_code = Some(f.code.clone());
        Ok(warning)
    }

    async fn create_distribution(&self, d: &Desired<'_>, obs: &mut Observed) -> Result<()> {
        let bucket = d.names.bucket.as_str();
        let cf = &self.cloudfront;
        let config = distribution::new_config(&wanted(d, obs)?, &caller_reference(bucket));
        let out = cf
            .create_distribution()
            .distribution_config(config)
            .send()
            .await
            .map_err(|e| failed("CreateDistribution", bucket, e))?;
        let id = missing(out.distribution(), "the new distribution")?
            .id()
            .to_string();
        obs.distribution = self.distribution(&id).await?;
        Ok(())
    }

    async fn update_distribution(&self, d: &Desired<'_>, obs: &mut Observed) -> Result<()> {
        let cf = &self.cloudfront;
        let current = obs
            .distribution
            .as_ref()
            .context("no distribution to update")?;
        // Read again: the ETag must be the latest one.
        let fresh = self
            .distribution(&current.id)
            .await?
            .with_context(|| format!("distribution {} disappeared", current.id))?;
        let config = distribution::reconciled(&fresh.config, &wanted(d, obs)?);
        cf.update_distribution()
            .id(&fresh.id)
            .if_match(&fresh.etag)
            .distribution_config(config)
            .send()
            .await
            .map_err(|e| failed("UpdateDistribution", &fresh.id, e))?;
        obs.distribution = self.distribution(&fresh.id).await?;
        Ok(())
    }

    async fn put_bucket_policy(&self, d: &Desired<'_>, obs: &mut Observed) -> Result<()> {
        let bucket = d.names.bucket.as_str();
        let s3 = &self.s3;
        let dist = obs
            .distribution
            .as_ref()
            .context("no distribution for the policy")?;
        // Read again so a statement added since observing is kept.
        let current = self.bucket_policy(bucket).await?;
        let merged = bucket_policy::merge(
            current.as_deref(),
            bucket_policy::statement(bucket, &dist.arn),
        )
        .map_err(|e| {
            anyhow::anyhow!("{bucket}: {e}; fix or delete the policy, then run setup again")
        })?;
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(merged.to_string())
            .send()
            .await
            .map_err(|e| failed("PutBucketPolicy", bucket, e))?;
        Ok(())
    }
}

fn function_config() -> Result<FunctionConfig> {
    Ok(FunctionConfig::builder()
        .comment("allure-host: access, index.html for folder URLs")
        .runtime(FunctionRuntime::CloudfrontJs20)
        .build()?)
}

fn wanted<'a>(d: &'a Desired<'a>, obs: &'a Observed) -> Result<Wanted<'a>> {
    Ok(Wanted {
        names: d.names,
        oac_id: &obs.oac.as_ref().context("the OAC is missing")?.id,
        function_arn: &obs
            .function
            .as_ref()
            .context("the function is missing")?
            .arn,
        price_class: d.price_class,
    })
}

/// Unique per creation, as CloudFront requires.
fn caller_reference(bucket: &str) -> String {
    format!(
        "allure-host-{bucket}-{}-{:08x}",
        chrono::Utc::now().timestamp_millis(),
        fastrand::u32(..)
    )
}
