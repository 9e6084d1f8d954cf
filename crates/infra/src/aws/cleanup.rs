//! Carrying out cleanup's steps: CloudFront first (a distribution must be
//! disabled and deployed before it can be deleted; the function and OAC only
//! once no distribution uses them), then our parts of the bucket.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::{Aws, Wait, failed, missing};
use crate::distribution;
use crate::model::access::RECORD_KEY;
use crate::names::{NOT_FOUND_KEY, Names};
use crate::plan::CleanupStep;
use crate::state::{DistributionState, Observed};
use crate::{bucket_policy, lifecycle};

/// S3 deletes at most 1000 keys per DeleteObjects call.
const DELETE_BATCH: usize = 1000;

impl Aws {
    pub async fn apply_cleanup(
        &self,
        step: &CleanupStep,
        names: &Names,
        obs: &mut Observed,
        wait: Wait,
        progress: impl FnMut(&DistributionState, Duration),
    ) -> Result<()> {
        match step {
            CleanupStep::DisableDistribution => self.disable_distribution(obs).await,
            CleanupStep::WaitUntilDisabled => {
                let id = obs
                    .distribution
                    .as_ref()
                    .context("no distribution")?
                    .id
                    .clone();
                obs.distribution = Some(self.wait_for(&id, false, wait, progress).await?);
                Ok(())
            }
            CleanupStep::DeleteDistribution => self.delete_distribution(obs).await,
            CleanupStep::DeleteFunction => self.delete_function(names, obs).await,
            CleanupStep::DeleteOac => self.delete_oac(obs).await,
            CleanupStep::RemovePolicyStatement => self.remove_policy_statement(names).await,
            CleanupStep::RemoveLifecycleRules => self.remove_lifecycle_rules(names, obs).await,
            CleanupStep::DeleteNotFoundPage => self.delete_object(names, NOT_FOUND_KEY).await,
            CleanupStep::DeleteAccessRecord => self.delete_object(names, RECORD_KEY).await,
            CleanupStep::EmptyBucket => {
                let bucket = names.bucket.as_str();
                self.empty_bucket(bucket).await
            }
            CleanupStep::DeleteBucket => self.delete_bucket(names, obs).await,
        }
    }

    async fn disable_distribution(&self, obs: &mut Observed) -> Result<()> {
        let cf = &self.cloudfront;
        let d = self.fresh(obs).await?;
        cf.update_distribution()
            .id(&d.id)
            .if_match(&d.etag)
            .distribution_config(distribution::disabled(&d.config))
            .send()
            .await
            .map_err(|e| failed("UpdateDistribution", &d.id, e))?;
        Ok(())
    }

    async fn delete_distribution(&self, obs: &mut Observed) -> Result<()> {
        let cf = &self.cloudfront;
        // The ETag changes when the disable finishes deploying.
        let d = self.fresh(obs).await?;
        cf.delete_distribution()
            .id(&d.id)
            .if_match(&d.etag)
            .send()
            .await
            .map_err(|e| failed("DeleteDistribution", &d.id, e))?;
        obs.distribution = None;
        Ok(())
    }

    async fn delete_function(&self, names: &Names, obs: &mut Observed) -> Result<()> {
        let cf = &self.cloudfront;
        let described = cf
            .describe_function()
            .name(&names.function)
            .send()
            .await
            .map_err(|e| failed("DescribeFunction", &names.function, e))?;
        cf.delete_function()
            .name(&names.function)
            .if_match(missing(described.e_tag(), "an ETag")?)
            .send()
            .await
            .map_err(|e| failed("DeleteFunction", &names.function, e))?;
        obs.function = None;
        Ok(())
    }

    async fn delete_oac(&self, obs: &mut Observed) -> Result<()> {
        let cf = &self.cloudfront;
        let id = obs.oac.as_ref().context("no OAC")?.id.clone();
        let got = cf
            .get_origin_access_control()
            .id(&id)
            .send()
            .await
            .map_err(|e| failed("GetOriginAccessControl", &id, e))?;
        cf.delete_origin_access_control()
            .id(&id)
            .set_if_match(got.e_tag().map(str::to_string))
            .send()
            .await
            .map_err(|e| failed("DeleteOriginAccessControl", &id, e))?;
        obs.oac = None;
        Ok(())
    }

    async fn remove_policy_statement(&self, names: &Names) -> Result<()> {
        let bucket = names.bucket.as_str();
        let s3 = &self.s3;
        let current = self.bucket_policy(bucket).await?;
        let Some(current) = current else {
            return Ok(());
        };
        match bucket_policy::remove(&current).map_err(|e| anyhow::anyhow!("{bucket}: {e}"))? {
            Some(rest) => {
                s3.put_bucket_policy()
                    .bucket(bucket)
                    .policy(rest.to_string())
                    .send()
                    .await
                    .map_err(|e| failed("PutBucketPolicy", bucket, e))?;
            }
            None => {
                s3.delete_bucket_policy()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(|e| failed("DeleteBucketPolicy", bucket, e))?;
            }
        }
        Ok(())
    }

    async fn remove_lifecycle_rules(&self, names: &Names, obs: &mut Observed) -> Result<()> {
        let bucket = names.bucket.as_str();
        let s3 = &self.s3;
        let existing = obs
            .bucket
            .as_ref()
            .map(|b| b.lifecycle.clone())
            .unwrap_or_default();
        let rest = lifecycle::without_ours(&existing);
        if rest.is_empty() {
            s3.delete_bucket_lifecycle()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| failed("DeleteBucketLifecycle", bucket, e))?;
        } else {
            self.put_lifecycle_rules(bucket, rest).await?;
        }
        Ok(())
    }

    async fn delete_object(&self, names: &Names, key: &str) -> Result<()> {
        let bucket = names.bucket.as_str();
        let s3 = &self.s3;
        s3.delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| failed("DeleteObject", format!("s3://{bucket}/{key}"), e))?;
        Ok(())
    }

    async fn delete_bucket(&self, names: &Names, obs: &mut Observed) -> Result<()> {
        let bucket = names.bucket.as_str();
        let s3 = &self.s3;
        s3.delete_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| failed("DeleteBucket", bucket, e))?;
        obs.bucket = None;
        Ok(())
    }

    async fn fresh(&self, obs: &Observed) -> Result<DistributionState> {
        let id = &obs.distribution.as_ref().context("no distribution")?.id;
        self.distribution(id)
            .await?
            .with_context(|| format!("distribution {id} disappeared"))
    }

    /// Every version and delete marker, then any unfinished multipart upload.
    async fn empty_bucket(&self, bucket: &str) -> Result<()> {
        let s3 = &self.s3;
        let mut key_marker: Option<String> = None;
        let mut version_marker: Option<String> = None;
        loop {
            let page = s3
                .list_object_versions()
                .bucket(bucket)
                .set_key_marker(key_marker.clone())
                .set_version_id_marker(version_marker.clone())
                .send()
                .await
                .map_err(|e| failed("ListObjectVersions", bucket, e))?;
            let mut ids: Vec<ObjectIdentifier> = Vec::new();
            for v in page.versions() {
                ids.push(identifier(v.key(), v.version_id())?);
            }
            for m in page.delete_markers() {
                ids.push(identifier(m.key(), m.version_id())?);
            }
            for batch in ids.chunks(DELETE_BATCH) {
                let out = s3
                    .delete_objects()
                    .bucket(bucket)
                    .delete(
                        Delete::builder()
                            .set_objects(Some(batch.to_vec()))
                            .quiet(true)
                            .build()?,
                    )
                    .send()
                    .await
                    .map_err(|e| failed("DeleteObjects", bucket, e))?;
                if let Some(err) = out.errors().first() {
                    anyhow::bail!(
                        "DeleteObjects on {bucket} failed for {} key(s), first {:?}: {}",
                        out.errors().len(),
                        err.key().unwrap_or_default(),
                        err.message().unwrap_or_default()
                    );
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            let next = (
                page.next_key_marker().map(str::to_string),
                page.next_version_id_marker().map(str::to_string),
            );
            // A server that says more follows without a new place to go on
            // from would have this loop forever.
            if next.0.is_none() || next == (key_marker, version_marker) {
                anyhow::bail!(
                    "ListObjectVersions on {bucket} said more versions follow but gave no new marker to list them from; the bucket was not emptied, so it was not deleted. Empty it with the server's own tools, then run the cleanup again"
                );
            }
            (key_marker, version_marker) = next;
        }
        let uploads = s3
            .list_multipart_uploads()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| failed("ListMultipartUploads", bucket, e))?;
        for u in uploads.uploads() {
            if let (Some(key), Some(id)) = (u.key(), u.upload_id()) {
                s3.abort_multipart_upload()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(id)
                    .send()
                    .await
                    .map_err(|e| failed("AbortMultipartUpload", key, e))?;
            }
        }
        Ok(())
    }
}

fn identifier(key: Option<&str>, version: Option<&str>) -> Result<ObjectIdentifier> {
    Ok(ObjectIdentifier::builder()
        .key(missing(key, "a key")?)
        .set_version_id(version.map(str::to_string))
        .build()?)
}
