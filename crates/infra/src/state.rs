//! What exists in AWS, as read by `aws::observe`: plain data that the plans
//! and checks work on.

use aws_sdk_cloudfront::types::DistributionConfig;
use aws_sdk_s3::types::LifecycleRule;

#[derive(Debug, Clone, Default)]
pub struct BucketState {
    /// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets.
    pub public_access_block: [bool; 4],
    /// Default encryption algorithm (AES256, aws:kms, ...).
    pub encryption: Option<String>,
    pub ownership: Option<String>,
    pub policy: Option<String>,
    /// S3's own verdict (GetBucketPolicyStatus); None when it has no policy.
    pub policy_is_public: Option<bool>,
    pub lifecycle: Vec<LifecycleRule>,
    pub not_found_page: Option<Vec<u8>>,
    /// The record of the site's access modes (`model::access::RECORD_KEY`).
    pub access_record: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct OacState {
    pub id: String,
}

#[derive(Debug, Clone)]
pub struct FunctionState {
    pub arn: String,
    pub etag: String,
    /// Code of the DEVELOPMENT stage.
    pub code: Vec<u8>,
    /// Code of the LIVE stage, which distributions run; None if never published.
    pub live_code: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct DistributionState {
    pub id: String,
    pub arn: String,
    pub domain: String,
    /// InProgress or Deployed.
    pub status: String,
    pub etag: String,
    pub config: DistributionConfig,
}

impl DistributionState {
    pub fn deployed(&self) -> bool {
        self.status == "Deployed"
    }
}

#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub account: String,
    pub bucket: Option<BucketState>,
    pub oac: Option<OacState>,
    pub function: Option<FunctionState>,
    pub distribution: Option<DistributionState>,
}

/// Where a bucket name stands, for precheck and setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketProbe {
    Available,
    /// Exists and these credentials can use it.
    Ours {
        region: Option<String>,
    },
    /// Exists, but these credentials may not use it (another account's).
    Taken,
}
