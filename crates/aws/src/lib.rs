//! One way to AWS: the SDK config (region, credentials, retries) every
//! client is built from, the clients, and SDK failures told apart by their
//! kind (unreachable endpoint, missing credentials) rather than their text.

use std::error::Error as StdError;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{
    Credentials, ProvideCredentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_types::service_config::ServiceConfigKey;

/// The region when neither a flag nor the AWS config names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Attempts per request (the first plus retries with jittered backoff) on
/// 5xx, throttling (SlowDown), connection errors and timeouts.
const MAX_ATTEMPTS: u32 = 8;

/// Time to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Time from sending a request with a small body to the first byte of its
/// answer. S3 answers in well under a second; a server silent this long has
/// stalled, and the attempt is cut off and retried, so a publish never
/// hangs on a stalled connection. A stalled body is caught sooner by the
/// SDK's stalled-stream protection.
pub const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(20);

/// The slowest uplink a large body is given time for (bytes per second);
/// uploads sent at once share it (`timeouts` of their bodies' sum).
const SLOWEST_UPLOAD: u64 = 128 * 1024;

/// The time to first byte for a request whose body has `len` bytes: the
/// body's upload at the slowest rate allowed for, then `FIRST_BYTE_TIMEOUT`.
pub fn read_timeout(len: u64) -> Duration {
    FIRST_BYTE_TIMEOUT + Duration::from_secs(len / SLOWEST_UPLOAD)
}

/// Connect and first-byte limits for a request whose body has `len` bytes.
pub fn timeouts(len: u64) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(read_timeout(len))
        .build()
}

/// Which credentials the clients sign with.
#[derive(Debug, Clone)]
pub enum Signing {
    /// The default AWS chain (environment, profile, SSO, instance role...).
    Chain,
    /// These keys (from OIDC).
    Given(Credentials),
    /// Unsigned calls (AssumeRoleWithWebIdentity needs none).
    Anonymous,
}

/// A failure to reach AWS at all, as opposed to an answer from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreachable {
    #[error("cannot reach {endpoint} ({reason}); {hint}")]
    Network {
        endpoint: String,
        reason: String,
        hint: String,
    },
    #[error(
        "no AWS credentials found: {detail}. Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or use OIDC (role-to-assume) in GitHub Actions"
    )]
    Credentials { detail: String },
}

/// The SDK config for `region` (default: the AWS config's, else us-east-1).
pub async fn config(region: Option<&str>, signing: Signing) -> SdkConfig {
    let region = RegionProviderChain::first_try(region.map(|r| Region::new(r.to_string())))
        .or_default_provider()
        .or_else(Region::from_static(DEFAULT_REGION));
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(region)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(10)),
        )
        .timeout_config(timeouts(0));
    let loader = match signing {
        Signing::Chain => loader,
        Signing::Given(creds) => loader.credentials_provider(creds),
        Signing::Anonymous => loader.no_credentials(),
    };
    loader.load().await
}

/// The region `config` settled on.
pub fn region(config: &SdkConfig) -> String {
    config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| DEFAULT_REGION.into())
}

/// Make sure credentials exist before any work starts.
pub async fn require_credentials(config: &SdkConfig) -> Result<(), Unreachable> {
    let provider = config
        .credentials_provider()
        .ok_or_else(|| Unreachable::Credentials {
            detail: "no credentials provider is configured".into(),
        })?;
    provider
        .provide_credentials()
        .await
        .map(|_| ())
        .map_err(|e| Unreachable::Credentials {
            detail: DisplayErrorContext(&e).to_string(),
        })
}

/// The S3 endpoint requests go to: `given`, else one the SDK takes from
/// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or a profile's `endpoint_url`.
/// None only for AWS S3 itself.
pub fn s3_endpoint(config: &SdkConfig, given: Option<&str>) -> Option<String> {
    if let Some(url) = given {
        return Some(url.to_string());
    }
    let key = ServiceConfigKey::builder()
        .service_id("S3")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .expect("every field of the key is set");
    config
        .service_config()
        .and_then(|c| c.load_config(key))
        .or_else(|| config.endpoint_url().map(str::to_string))
}

/// An S3 client; `endpoint` is an S3-compatible server (path-style).
pub fn s3(config: &SdkConfig, endpoint: Option<&str>) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config)
        // Checksums only where S3 requires them: plain uploads stream with a
        // known length and work with every S3-compatible server.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint).force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

pub fn cloudfront(config: &SdkConfig, endpoint: Option<&str>) -> aws_sdk_cloudfront::Client {
    let mut builder = aws_sdk_cloudfront::config::Builder::from(config);
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_cloudfront::Client::from_conf(builder.build())
}

/// STS; local S3 emulators (moto, MinIO) serve it at the same endpoint.
pub fn sts(config: &SdkConfig, endpoint: Option<&str>) -> aws_sdk_sts::Client {
    let mut builder = aws_sdk_sts::config::Builder::from(config);
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_sts::Client::from_conf(builder.build())
}

/// `scheme://user:secret@host/...` -> `scheme://host/...`: a secret in an
/// endpoint URL must not reach a log or a key.
pub fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

/// Tell a failure to reach AWS (network, timeout, no credentials) from an
/// answer. `endpoint` is the custom endpoint when the caller knows it,
/// `region` the region when known (else empty), and `endpoint_flag` how the
/// user sets the endpoint of this command.
pub fn unreachable<E: StdError + 'static>(
    err: &SdkError<E, HttpResponse>,
    endpoint: Option<&str>,
    region: &str,
    endpoint_flag: &str,
) -> Option<Unreachable> {
    if !matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    ) {
        return None;
    }
    let source = StdError::source(err)?;
    if let Some(c) = find::<CredentialsError>(Some(source)) {
        return Some(Unreachable::Credentials {
            detail: DisplayErrorContext(c).to_string(),
        });
    }
    let (where_, hint) = match (endpoint, region) {
        (Some(url), _) => (without_userinfo(url), format!("check {endpoint_flag}")),
        (None, "") => (
            "AWS".to_string(),
            format!("check the network, --region and {endpoint_flag}"),
        ),
        (None, region) => (
            format!("AWS in {region}"),
            format!("check the network, --region and {endpoint_flag}"),
        ),
    };
    Some(Unreachable::Network {
        endpoint: where_,
        reason: reason(source),
        hint,
    })
}

/// The first error of type `T` in a source chain.
fn find<'a, T: StdError + 'static>(mut e: Option<&'a (dyn StdError + 'static)>) -> Option<&'a T> {
    while let Some(err) = e {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        e = err.source();
    }
    None
}

/// Why a connection failed, in a few words: the I/O error's kind when there
/// is one ("connection refused"), else the innermost message.
fn reason(e: &(dyn StdError + 'static)) -> String {
    if let Some(io) = find::<std::io::Error>(Some(e)) {
        return match io.kind() {
            std::io::ErrorKind::Other => io.to_string(),
            kind => kind.to_string(),
        };
    }
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

/// A short reason for an AWS answer: its error code and message, or the
/// HTTP status when the server sent no AWS error.
pub fn describe<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    match (err.code(), err.raw_response().map(|r| r.status().as_u16())) {
        (Some(code), _) => match err.message() {
            Some(msg) if !msg.is_empty() => format!("{code}: {msg}"),
            _ => code.to_string(),
        },
        (None, Some(http)) => format!("HTTP {http}"),
        (None, None) => DisplayErrorContext(err).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_and_password_in_an_endpoint_never_name_the_server() {
        let strip = without_userinfo;
        assert_eq!(strip("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(
            strip("https://ak:sk@minio.local:9000/x"),
            "https://minio.local:9000/x"
        );
        assert_eq!(strip("https://a@b:c@host"), "https://host");
        assert_eq!(strip("http://host/p@q"), "http://host/p@q");
        assert_eq!(strip("no-scheme@host"), "no-scheme@host");
    }

    #[test]
    fn large_bodies_get_time_to_upload_small_ones_the_first_byte_limit() {
        assert_eq!(read_timeout(0), FIRST_BYTE_TIMEOUT);
        assert_eq!(read_timeout(100 * 1024), FIRST_BYTE_TIMEOUT);
        assert_eq!(
            read_timeout(128 * 1024 * 1024),
            FIRST_BYTE_TIMEOUT + Duration::from_secs(1024)
        );
        let t = timeouts(0);
        assert_eq!(t.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(t.read_timeout(), Some(FIRST_BYTE_TIMEOUT));
    }
}
