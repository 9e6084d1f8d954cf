//! CloudFront's TestFunction: run the function's DEVELOPMENT stage on one
//! event. Thin: the events and the judging are `infra::function_test`.

use anyhow::Result;
use aws_sdk_cloudfront::primitives::Blob;
use aws_sdk_cloudfront::types::FunctionStage;
use aws_sdk_s3::error::ProvideErrorMetadata;

use super::{Aws, failed, status};
use crate::function_test::Outcome;

impl Aws {
    /// What CloudFront answered; None when the endpoint does not implement
    /// TestFunction (an emulator: AWS answers every call it knows).
    pub async fn test_function(
        &self,
        name: &str,
        etag: &str,
        event: &[u8],
    ) -> Result<Option<Outcome>> {
        let sent = self
            .cloudfront
            .test_function()
            .name(name)
            .if_match(etag)
            .stage(FunctionStage::Development)
            .event_object(Blob::new(event))
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) if e.code().is_none() && matches!(status(&e), Some(404 | 501)) => {
                return Ok(None);
            }
            Err(e) => return Err(failed("TestFunction", name, e)),
        };
        let result = out.test_result();
        Ok(Some(Outcome {
            compute_utilization: result
                .and_then(|r| r.compute_utilization())
                .map(str::to_string),
            error_message: result
                .and_then(|r| r.function_error_message())
                .map(str::to_string),
            output: result.and_then(|r| r.function_output()).map(str::to_string),
        }))
    }
}
