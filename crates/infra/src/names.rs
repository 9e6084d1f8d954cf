//! Names and ARNs of everything setup creates, derived from the bucket, and
//! the bucket-name rules checked before anything is asked of AWS.

use sha2::{Digest, Sha256};

/// Every rule and resource we own carries this prefix, so merges can tell
/// ours from a user's own.
pub const OWNER_PREFIX: &str = "allure-host-";

/// Origin id inside the distribution.
pub const ORIGIN_ID: &str = "allure-host-s3";

/// The page readers land on for a missing key (outside every report prefix:
/// `~` never starts a key segment of the layout).
pub const NOT_FOUND_KEY: &str = "~allure-host/404.html";

/// CloudFront limits OAC and function names to 64 characters.
const MAX_NAME: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub bucket: String,
    pub region: String,
    /// Origin Access Control name.
    pub oac: String,
    /// CloudFront Function name.
    pub function: String,
    /// Distribution comment: how setup and cleanup recognise our distribution.
    pub comment: String,
}

/// A bucket or region name AWS would refuse, with the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error(
        "bucket name {name:?} is not valid: {why}. Use 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
    )]
    Bucket { name: String, why: String },
    #[error("region {0:?} is not an AWS region name; pass --region like eu-west-1")]
    Region(String),
}

impl Names {
    pub fn new(bucket: &str, region: &str) -> Result<Self, NameError> {
        validate_bucket(bucket)?;
        validate_region(region)?;
        Ok(Self {
            bucket: bucket.to_string(),
            region: region.to_string(),
            oac: bounded(&format!("{OWNER_PREFIX}{bucket}")),
            function: bounded(&format!("{OWNER_PREFIX}index-{}", bucket.replace('.', "-"))),
            comment: format!("allure-host reports in s3://{bucket}"),
        })
    }

    /// The bucket's regional REST endpoint, the origin CloudFront reads from
    /// (the regional name avoids 307 redirects while a new bucket's DNS settles).
    pub fn origin_domain(&self) -> String {
        format!("{}.s3.{}.amazonaws.com", self.bucket, self.region)
    }

    pub fn bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.bucket)
    }
}

pub fn distribution_arn(account: &str, distribution_id: &str) -> String {
    format!("arn:aws:cloudfront::{account}:distribution/{distribution_id}")
}

/// Long names are cut and end in a hash of the whole, so they stay unique.
fn bounded(name: &str) -> String {
    if name.len() <= MAX_NAME {
        return name.to_string();
    }
    let hash = Sha256::digest(name.as_bytes());
    let tag: String = hash[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{tag}", &name[..MAX_NAME - 9])
}

/// S3's general-purpose bucket naming rules.
pub fn validate_bucket(name: &str) -> Result<(), NameError> {
    let fail = |why: &str| {
        Err(NameError::Bucket {
            name: name.to_string(),
            why: why.to_string(),
        })
    };
    if !(3..=63).contains(&name.len()) {
        return fail("it must be 3 to 63 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return fail("it may hold only lowercase letters, digits, dots and hyphens");
    }
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge_ok(name.as_bytes()[0]) || !edge_ok(name.as_bytes()[name.len() - 1]) {
        return fail("it must start and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return fail("dots may not be doubled or touch a hyphen");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return fail("it may not look like an IP address");
    }
    for reserved in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(reserved) {
            return fail(&format!("the prefix {reserved:?} is reserved"));
        }
    }
    for reserved in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(reserved) {
            return fail(&format!("the suffix {reserved:?} is reserved"));
        }
    }
    Ok(())
}

fn validate_region(region: &str) -> Result<(), NameError> {
    let ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && region.contains('-');
    if ok {
        Ok(())
    } else {
        Err(NameError::Region(region.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_rules() {
        for good in ["abc", "my-reports-1", "a1b", "my.reports", &"a".repeat(63)] {
            assert!(validate_bucket(good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "My-Bucket",
            "-abc",
            "abc-",
            "a_b",
            "192.168.5.4",
            "xn--abc",
            "abc-s3alias",
        ] {
            let err = validate_bucket(bad).unwrap_err().to_string();
            assert!(err.contains("Use 3-63 lowercase"), "{bad}: {err}");
        }
    }

    #[test]
    fn names_are_derived_and_bounded() {
        let n = Names::new("team-reports", "eu-west-1").unwrap();
        assert_eq!(n.oac, "allure-host-team-reports");
        assert_eq!(n.function, "allure-host-index-team-reports");
        assert_eq!(n.origin_domain(), "team-reports.s3.eu-west-1.amazonaws.com");
        let long = "b".repeat(63);
        let n = Names::new(&long, "us-east-1").unwrap();
        assert!(n.oac.len() <= 64 && n.function.len() <= 64);
        assert_ne!(n.oac, Names::new(&"c".repeat(63), "us-east-1").unwrap().oac);
        assert!(Names::new("ok-name", "EU").is_err());
    }

    #[test]
    fn distribution_arns() {
        assert_eq!(
            distribution_arn("123456789012", "E1ABC"),
            "arn:aws:cloudfront::123456789012:distribution/E1ABC"
        );
    }
}
