//! `allure-host infra` against a moto server (S3, CloudFront, STS), run as
//! a user would: the real binary in a directory of its own.
#![cfg(feature = "integration")]

#[path = "support/proxy.rs"]
mod proxy;
mod support;

use std::path::Path;
use std::process::Output;
use std::sync::Once;

use serde_json::Value;
use support::{failed, moto, moto_python, ok, repo, run_in, unique};

/// Every distribution change stays InProgress for two status reads, so
/// setup and cleanup really wait (moto would report Deployed at once).
fn slow_cloudfront() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let body = r#"{"model_name":"cloudfront::distribution","transition":{"progression":"manual","times":2}}"#;
        let url = format!("{}/moto-api/state-manager/set-transition", moto());
        let post = "import sys, urllib.request; \
                    urllib.request.urlopen(urllib.request.Request(sys.argv[1], sys.argv[2].encode(), method='POST'))";
        let status = std::process::Command::new(support::moto_python())
            .args(["-c", post, &url, body])
            .status()
            .expect("python");
        assert!(status.success());
    });
}

fn infra(dir: &Path, args: &[&str]) -> Output {
    slow_cloudfront();
    let mut full = vec!["infra"];
    full.extend_from_slice(args);
    let needs_aws = !matches!(args[0], "write-config" | "policy");
    if needs_aws {
        full.extend_from_slice(&["--endpoint-url", moto()]);
    }
    run_in(dir, &full)
}

fn setup(dir: &Path, bucket: &str, extra: &[&str]) -> String {
    let mut args = vec!["setup", "--bucket", bucket, "--yes", "--poll-interval", "1"];
    args.extend_from_slice(extra);
    ok(&infra(dir, &args))
}

async fn cloudfront() -> aws_sdk_cloudfront::Client {
    let creds = aws_sdk_cloudfront::config::Credentials::new("test", "test", None, None, "tests");
    let conf = aws_sdk_cloudfront::config::Builder::new()
        .behavior_version(aws_sdk_cloudfront::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudfront::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(moto())
        .build();
    aws_sdk_cloudfront::Client::from_conf(conf)
}

fn env_value(dir: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(dir.join(".infra_env")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("export {key}=")))
        .unwrap_or_else(|| panic!("{key} missing in\n{text}"))
        .to_string()
}

async fn policy(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<Value> {
    match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => Some(serde_json::from_str(out.policy().unwrap()).unwrap()),
        Err(_) => None,
    }
}

fn statements(policy: &Value) -> Vec<Value> {
    policy["Statement"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn setup_from_nothing_builds_a_private_bucket_behind_cloudfront() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("reports");
    let out = setup(
        dir.path(),
        &bucket,
        &["--region", "eu-west-1", "--project", "web"],
    );
    assert!(out.contains("takes 12 step(s)"), "{out}");

    let s3 = support::s3().await;
    let pab = s3
        .get_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(
        [
            pab.block_public_acls(),
            pab.ignore_public_acls(),
            pab.block_public_policy(),
            pab.restrict_public_buckets()
        ],
        [Some(true); 4]
    );
    let enc = s3
        .get_bucket_encryption()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    let own = s3
        .get_bucket_ownership_controls()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.ownership_controls().unwrap().rules()[0]
            .object_ownership()
            .as_str(),
        "BucketOwnerEnforced"
    );
    let rules = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let ttl30 = rules
        .rules()
        .iter()
        .find(|r| r.id() == Some("allure-host-ttl-30-days"))
        .expect("a rule for ttl-days=30");
    let tag = ttl30.filter().unwrap().tag().unwrap();
    assert_eq!((tag.key(), tag.value()), ("ttl-days", "30"));
    assert_eq!(ttl30.expiration().unwrap().days(), Some(30));
    assert!(rules.rules().iter().any(|r| {
        r.abort_incomplete_multipart_upload()
            .is_some_and(|a| a.days_after_initiation().is_some())
    }));
    let page = support::get(&s3, &bucket, "~allure-host/404.html").await;
    assert!(
        String::from_utf8(page)
            .unwrap()
            .contains("Report not found")
    );

    // The distribution: S3 origin through the OAC, HTTPS, compression, the
    // function on viewer request, error pages, the default price class.
    let cf = cloudfront().await;
    let id = env_value(dir.path(), "DISTRIBUTION_ID");
    let got = cf.get_distribution().id(&id).send().await.unwrap();
    let dist = got.distribution().unwrap();
    let config = dist.distribution_config().unwrap();
    let origin = &config.origins().unwrap().items()[0];
    assert_eq!(
        origin.domain_name(),
        format!("{bucket}.s3.eu-west-1.amazonaws.com")
    );
    assert_eq!(
        origin.origin_access_control_id(),
        Some(env_value(dir.path(), "OAC_ID").as_str())
    );
    let behavior = config.default_cache_behavior().unwrap();
    assert_eq!(
        behavior.viewer_protocol_policy().as_str(),
        "redirect-to-https"
    );
    assert_eq!(behavior.compress(), Some(true));
    let assoc = &behavior.function_associations().unwrap().items()[0];
    assert_eq!(assoc.event_type().as_str(), "viewer-request");
    assert!(
        assoc
            .function_arn()
            .ends_with(&format!("function/allure-host-index-{bucket}"))
    );
    assert_eq!(config.default_root_object(), Some("index.html"));
    let errors: Vec<i32> = config
        .custom_error_responses()
        .unwrap()
        .items()
        .iter()
        .map(|e| e.error_code())
        .collect();
    assert_eq!(errors, [403, 404]);
    assert_eq!(config.price_class().unwrap().as_str(), "PriceClass_100");
    assert_eq!(dist.status(), "Deployed");

    // The function was published: its LIVE stage serves index.html.
    let live = cf
        .get_function()
        .name(format!("allure-host-index-{bucket}"))
        .stage(aws_sdk_cloudfront::types::FunctionStage::Live)
        .send()
        .await
        .unwrap();
    let code = String::from_utf8(live.function_code().unwrap().as_ref().to_vec()).unwrap();
    assert!(code.contains("index.html"));

    // Only this distribution may read, by its ARN.
    let doc = policy(&s3, &bucket).await.unwrap();
    let list = statements(&doc);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["Principal"]["Service"], "cloudfront.amazonaws.com");
    assert_eq!(
        list[0]["Condition"]["StringEquals"]["AWS:SourceArn"],
        dist.arn()
    );

    // The files a publish and `source .infra_env` use.
    assert_eq!(env_value(dir.path(), "BUCKET"), bucket);
    assert_eq!(env_value(dir.path(), "CF_DOMAIN"), dist.domain_name());
    let config_file = std::fs::read_to_string(dir.path().join("allure-host.yml")).unwrap();
    assert!(
        config_file.contains(&format!("bucket: {bucket}\n")),
        "{config_file}"
    );
    assert!(config_file.contains(&format!("cloudfront: https://{}\n", dist.domain_name())));
    assert!(config_file.contains("project: web\n"));
    assert!(config_file.contains("aws_region: eu-west-1\n"));
}

#[tokio::test]
async fn setup_again_changes_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("reports");
    setup(dir.path(), &bucket, &[]);
    let cf = cloudfront().await;
    let id = env_value(dir.path(), "DISTRIBUTION_ID");
    let etag = |out: aws_sdk_cloudfront::operation::get_distribution::GetDistributionOutput| {
        out.e_tag().unwrap().to_string()
    };
    let before = etag(cf.get_distribution().id(&id).send().await.unwrap());
    let env_before = std::fs::read_to_string(dir.path().join(".infra_env")).unwrap();

    // Here: refused without --adopt, a no-op with it.
    let refused = failed(&infra(dir.path(), &["setup", "--yes"]));
    assert!(
        refused.contains(".infra_env already exists") && refused.contains("--adopt"),
        "{refused}"
    );
    let out = setup(dir.path(), &bucket, &["--adopt"]);
    assert!(out.contains("nothing to change"), "{out}");
    assert!(!out.contains("done:"), "{out}");
    assert!(!out.contains("Wrote"), "{out}");
    // In a fresh directory it finds the same resources by name.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = setup(elsewhere.path(), &bucket, &[]);
    assert!(out.contains("nothing to change"), "{out}");
    assert_eq!(env_value(elsewhere.path(), "DISTRIBUTION_ID"), id);

    let after = etag(cf.get_distribution().id(&id).send().await.unwrap());
    assert_eq!(before, after, "the distribution was updated");
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".infra_env")).unwrap(),
        env_before
    );
}

#[tokio::test]
async fn setup_refuses_to_run_unattended_without_yes_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("reports");
    let err = failed(&infra(dir.path(), &["setup", "--bucket", &bucket]));
    assert!(err.contains("--yes") && err.contains("--dry-run"), "{err}");
    let plan = ok(&infra(
        dir.path(),
        &["setup", "--bucket", &bucket, "--dry-run"],
    ));
    assert!(
        plan.contains("would take 12 step(s)") && plan.contains("Dry run"),
        "{plan}"
    );
    let s3 = support::s3().await;
    assert!(
        s3.head_bucket().bucket(&bucket).send().await.is_err(),
        "bucket was created"
    );
    assert!(!dir.path().join(".infra_env").exists());

    let bad = failed(&infra(
        dir.path(),
        &["setup", "--bucket", "Bad_Bucket", "--yes"],
    ));
    assert!(
        bad.contains("not valid") && bad.contains("lowercase"),
        "{bad}"
    );
}

#[tokio::test]
async fn an_existing_bucket_keeps_its_own_policy_statements_and_rules() {
    let s3 = support::s3().await;
    let bucket = support::bucket(&s3).await;
    let foreign = serde_json::json!({
        "Sid": "TeamRead", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/team"},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/docs/*")
    });
    let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [foreign.clone()]});
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(doc.to_string())
        .send()
        .await
        .unwrap();
    let rule = aws_sdk_s3::types::LifecycleRule::builder()
        .id("team-logs")
        .status(aws_sdk_s3::types::ExpirationStatus::Enabled)
        .filter(
            aws_sdk_s3::types::LifecycleRuleFilter::builder()
                .prefix("logs/")
                .build(),
        )
        .expiration(
            aws_sdk_s3::types::LifecycleExpiration::builder()
                .days(3)
                .build(),
        )
        .build()
        .unwrap();
    s3.put_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .lifecycle_configuration(
            aws_sdk_s3::types::BucketLifecycleConfiguration::builder()
                .rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let out = setup(dir.path(), &bucket, &["--ttl-days", "7,30"]);
    assert!(!out.contains("create bucket"), "{out}");
    let list = statements(&policy(&s3, &bucket).await.unwrap());
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0], foreign);
    assert_eq!(list[1]["Sid"], "AllureHostCloudFrontRead");
    let ids = lifecycle_ids(&s3, &bucket).await;
    assert_eq!(
        ids,
        [
            "allure-host-abort-incomplete-uploads",
            "allure-host-ttl-30-days",
            "allure-host-ttl-7-days",
            "team-logs"
        ]
    );

    // Cleanup without --delete-bucket takes back only what was ours.
    ok(&infra(
        dir.path(),
        &["cleanup", "--yes", "--poll-interval", "1"],
    ));
    assert_eq!(statements(&policy(&s3, &bucket).await.unwrap()), [foreign]);
    assert_eq!(lifecycle_ids(&s3, &bucket).await, ["team-logs"]);
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_ok());
}

async fn lifecycle_ids(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let mut ids: Vec<String> = out
        .rules()
        .iter()
        .filter_map(|r| r.id().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn validate_catches_public_access_and_a_removed_statement() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("reports");
    setup(dir.path(), &bucket, &[]);
    let table = ok(&infra(dir.path(), &["validate"]));
    for check in [
        "block public access",
        "bucket policy",
        "origin access control",
        "viewer function",
        "encryption",
        "bucket not public",
    ] {
        let line = table
            .lines()
            .find(|l| l.starts_with(check))
            .unwrap_or_else(|| panic!("{table}"));
        assert!(line.contains(" ok "), "{line}");
    }

    let s3 = support::s3().await;
    s3.delete_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let line = failing_row(dir.path(), "block public access");
    assert!(
        line.contains("FAIL") && line.contains("BlockPublicAcls"),
        "{line}"
    );

    // setup --adopt repairs it; then the statement goes missing.
    let out = setup(dir.path(), &bucket, &["--adopt"]);
    assert!(
        out.contains("takes 1 step(s)") && out.contains("Block Public Access"),
        "{out}"
    );
    ok(&infra(dir.path(), &["validate"]));
    s3.delete_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let line = failing_row(dir.path(), "bucket policy");
    assert!(
        line.contains("FAIL") && line.contains("AllureHostCloudFrontRead"),
        "{line}"
    );

    // A statement that lets any distribution read is not scoped.
    let loose = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "AllureHostCloudFrontRead", "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")
    }]});
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(loose.to_string())
        .send()
        .await
        .unwrap();
    let line = failing_row(dir.path(), "bucket policy");
    assert!(line.contains("FAIL"), "{line}");
}

/// Runs validate, which must fail, and returns the row of `check`.
fn failing_row(dir: &Path, check: &str) -> String {
    let out = infra(dir, &["validate"]);
    failed(&out);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    table
        .lines()
        .find(|l| l.starts_with(check))
        .unwrap_or_else(|| panic!("no {check} row in\n{table}"))
        .to_string()
}

#[tokio::test]
async fn cleanup_removes_everything_setup_created() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("reports");
    setup(dir.path(), &bucket, &[]);
    let s3 = support::s3().await;
    // Versions and delete markers must go too, or the bucket cannot be deleted.
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    ok(&run_in(
        dir.path(),
        &[
            "publish",
            "--results",
            support::examples().to_str().unwrap(),
            "--project",
            "web",
            "--branch",
            "main",
            "--s3-endpoint",
            moto(),
        ],
    ));
    s3.delete_object()
        .bucket(&bucket)
        .key("reports/web/main/latest.json")
        .send()
        .await
        .unwrap();

    let err = failed(&infra(dir.path(), &["cleanup", "--delete-bucket"]));
    assert!(err.contains("--yes"), "{err}");
    let id = env_value(dir.path(), "DISTRIBUTION_ID");
    let plan = ok(&infra(
        dir.path(),
        &["cleanup", "--delete-bucket", "--dry-run"],
    ));
    assert!(
        plan.contains(&format!("disable distribution {id}")),
        "{plan}"
    );
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_ok());

    let out = ok(&infra(
        dir.path(),
        &[
            "cleanup",
            "--yes",
            "--delete-bucket",
            "--poll-interval",
            "1",
        ],
    ));
    assert!(out.contains("is InProgress"), "cleanup did not wait: {out}");
    let cf = cloudfront().await;
    let gone = cf.get_distribution().id(&id).send().await.unwrap_err();
    assert!(format!("{gone:?}").contains("NoSuchDistribution"));
    let function = cf
        .describe_function()
        .name(format!("allure-host-index-{bucket}"))
        .send()
        .await;
    assert!(function.is_err(), "function left behind");
    let oacs = cf.list_origin_access_controls().send().await.unwrap();
    let left = oacs
        .origin_access_control_list()
        .map(|l| {
            l.items()
                .iter()
                .any(|o| o.name() == format!("allure-host-{bucket}"))
        })
        .unwrap_or(false);
    assert!(!left, "OAC left behind");
    assert!(
        s3.head_bucket().bucket(&bucket).send().await.is_err(),
        "bucket left behind"
    );
    assert!(!dir.path().join(".infra_env").exists());
}

#[tokio::test]
async fn cleanup_stops_on_a_version_listing_that_gives_no_new_marker() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("reports");
    setup(dir.path(), &bucket, &[]);
    let s3 = support::s3().await;
    for key in ["a", "b", "c"] {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    // Said to be truncated, with the request's own markers as the next ones.
    let proxy = proxy::Proxy::start(0, &[&format!("versionsrepeat:/{bucket}:-1")]);
    slow_cloudfront();
    let args = [
        "infra",
        "cleanup",
        "--yes",
        "--delete-bucket",
        "--poll-interval",
        "1",
        "--endpoint-url",
        &proxy.url,
    ];
    let err = failed(&run_in(dir.path(), &args));
    assert!(err.contains("gave no new marker"), "{err}");
    assert!(err.contains("was not deleted"), "{err}");
    assert!(proxy.stats()["versionsrepeat"].as_u64().unwrap() >= 1);
    assert!(
        s3.head_bucket().bucket(&bucket).send().await.is_ok(),
        "the bucket stays"
    );
}

#[test]
fn write_config_uses_the_env_file_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".infra_env"),
        "export BUCKET=team-reports\nexport AWS_REGION=eu-west-1\nexport CF_DOMAIN=d111.cloudfront.net\nexport DISTRIBUTION_ID=E1ABC\n",
    )
    .unwrap();
    ok(&infra(
        dir.path(),
        &["write-config", "--prefix", "qa", "--project", "web"],
    ));
    let written = std::fs::read_to_string(dir.path().join("allure-host.yml")).unwrap();
    assert_eq!(
        written,
        "# Written by `allure-host infra`; regenerate with `allure-host infra write-config --force`.\n\
         bucket: team-reports\nprefix: qa\nproject: web\naws_region: eu-west-1\n\
         cloudfront: https://d111.cloudfront.net\ncloudfront_distribution_id: E1ABC\n"
    );
    let err = failed(&infra(dir.path(), &["write-config"]));
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("allure-host.yml")).unwrap(),
        written
    );
    let err = failed(&infra(
        dir.path(),
        &["write-config", "--force", "--bucket", "other-bucket"],
    ));
    assert!(err.contains("disagrees"), "{err}");
    ok(&infra(
        dir.path(),
        &[
            "write-config",
            "--force",
            "--cloudfront",
            "https://reports.example.com",
        ],
    ));
    let rewritten = std::fs::read_to_string(dir.path().join("allure-host.yml")).unwrap();
    assert!(
        rewritten.contains("cloudfront: https://reports.example.com\n"),
        "{rewritten}"
    );
}

#[test]
fn policy_is_valid_json_scoped_to_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&infra(
        dir.path(),
        &[
            "policy",
            "--bucket",
            "team-reports",
            "--project",
            "web app",
            "--repo",
            "octo-org/web",
            "--account-id",
            "123456789012",
            "--distribution-id",
            "E1ABC",
        ],
    ));
    let doc: Value = serde_json::from_str(&out).unwrap();
    let perms = statements(&doc["PermissionsPolicy"]);
    assert_eq!(perms[0]["Action"], "s3:ListBucket");
    assert_eq!(
        perms[0]["Condition"]["StringLike"]["s3:prefix"],
        serde_json::json!(["reports/web~20app/", "reports/web~20app/*"])
    );
    assert_eq!(
        perms[1]["Resource"],
        "arn:aws:s3:::team-reports/reports/web~20app/*"
    );
    for s in &perms {
        let resources = match &s["Resource"] {
            serde_json::Value::Array(many) => many.iter().map(|r| r.as_str().unwrap()).collect(),
            one => vec![one.as_str().unwrap()],
        };
        for resource in resources {
            assert!(!resource.ends_with(":::team-reports/*"), "bucket-wide: {s}");
            assert_ne!(resource, "*");
        }
    }
    // Outside the project: the site's access modes, read only, and the
    // server's scratch folder and record.
    assert_eq!(
        perms[2]["Resource"],
        "arn:aws:s3:::team-reports/~allure-host/access.json"
    );
    assert_eq!(perms[2]["Action"], "s3:GetObject");
    assert_eq!(
        perms[4]["Resource"],
        serde_json::json!([
            "arn:aws:s3:::team-reports/~allure-host/probe/*",
            "arn:aws:s3:::team-reports/~allure-host/server/*"
        ])
    );
    assert_eq!(
        perms[5]["Resource"],
        "arn:aws:cloudfront::123456789012:distribution/E1ABC"
    );
    let trust = &doc["TrustPolicy"]["Statement"][0];
    assert_eq!(
        trust["Principal"]["Federated"],
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    );
    assert_eq!(
        trust["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"],
        "repo:octo-org/web:*"
    );

    // Without --repo: just the permissions document, ready for put-role-policy.
    let plain: Value = serde_json::from_str(&ok(&infra(
        dir.path(),
        &["policy", "--bucket", "team-reports", "--project", "web"],
    )))
    .unwrap();
    assert_eq!(plain["Version"], "2012-10-17");
    assert_eq!(statements(&plain).len(), 5);
    let err = failed(&infra(
        dir.path(),
        &[
            "policy",
            "--bucket",
            "team-reports",
            "--project",
            "web",
            "--repo",
            "octo-org/web",
        ],
    ));
    assert!(err.contains("--account-id"), "{err}");
}

#[test]
fn precheck_reports_the_bucket_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("reports");
    let table = ok(&infra(dir.path(), &["precheck", "--bucket", &bucket]));
    assert!(table.contains("account 123456789012"), "{table}");
    assert!(table.contains("available: setup will create it"), "{table}");
    let out = infra(dir.path(), &["precheck", "--bucket", "x"]);
    failed(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 to 63"));
}

/// The function's DEVELOPMENT code, as CloudFront holds it.
async fn function_code(cf: &aws_sdk_cloudfront::Client, bucket: &str) -> (String, String) {
    let name = format!("allure-host-index-{bucket}");
    let got = cf.get_function().name(&name).send().await.unwrap();
    let code = String::from_utf8(got.function_code.unwrap().into_inner()).unwrap();
    let described = cf.describe_function().name(&name).send().await.unwrap();
    let arn = described
        .function_summary()
        .unwrap()
        .function_metadata()
        .unwrap()
        .function_arn()
        .to_string();
    (code, arn)
}

/// The settings the function's code carries, read as setup reads them.
fn config_of(code: &str) -> Value {
    let config = allure_host::infra::access::AccessConfig::from_code(code.as_bytes())
        .expect("the function carries its settings");
    serde_json::to_value(config).unwrap()
}

async fn record(s3: &aws_sdk_s3::Client, bucket: &str) -> Value {
    support::get_json(s3, bucket, "~allure-host/access.json").await
}

/// The secret line `infra setup` / `access rotate` prints once.
fn printed_key(out: &str) -> String {
    let i = out
        .find("Access key")
        .unwrap_or_else(|| panic!("no key in\n{out}"));
    out[i..].lines().nth(1).unwrap().trim().to_string()
}

/// `--public-badges` is written into the live function and the bucket's
/// record, kept by a later `set` without it, and taken back with `=false`.
#[tokio::test]
async fn public_badges_are_opened_kept_and_closed_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("badges");
    let s3 = support::s3().await;
    let cf = cloudfront().await;
    setup(dir.path(), &bucket, &[]);
    let (code, _) = function_code(&cf, &bucket).await;
    assert!(config_of(&code).get("badges").is_none(), "{code}");
    assert!(record(&s3, &bucket).await.get("public_badges").is_none());

    // A badge.svg that no publish wrote (an old run's report file) would
    // open with them: refused until it is gone.
    let stray = "reports/shop/main/41-1/badge.svg";
    support::put(&s3, &bucket, stray, b"<svg/>".to_vec()).await;
    let err = failed(&infra(
        dir.path(),
        &["access", "set", "link", "--public-badges"],
    ));
    assert!(err.contains(&format!("s3://{bucket}/{stray}")), "{err}");
    let (code, _) = function_code(&cf, &bucket).await;
    assert!(
        config_of(&code).get("badges").is_none(),
        "nothing changed: {code}"
    );
    s3.delete_object()
        .bucket(&bucket)
        .key(stray)
        .send()
        .await
        .unwrap();

    let out = ok(&infra(
        dir.path(),
        &["access", "set", "link", "--public-badges"],
    ));
    assert!(out.contains("link (keys k1; badges public)"), "{out}");
    let (code, _) = function_code(&cf, &bucket).await;
    assert_eq!(config_of(&code)["badges"], true);
    assert!(code.contains(r#","badges":true};"#), "{code}");
    assert_eq!(record(&s3, &bucket).await["public_badges"], true);

    // Another change of modes keeps them open.
    ok(&infra(
        dir.path(),
        &["access", "set", "ip,link", "--allow-ip", "203.0.113.0/24"],
    ));
    let (code, _) = function_code(&cf, &bucket).await;
    assert_eq!(config_of(&code)["badges"], true);
    let shown = ok(&infra(dir.path(), &["access", "show"]));
    assert!(shown.contains("badges public"), "{shown}");

    ok(&infra(
        dir.path(),
        &["access", "set", "link", "--public-badges=false"],
    ));
    let (code, _) = function_code(&cf, &bucket).await;
    assert!(config_of(&code).get("badges").is_none(), "{code}");
    assert!(!code.contains(r#""badges""#));
    assert!(record(&s3, &bucket).await.get("public_badges").is_none());
    let err = failed(&infra(
        dir.path(),
        &["access", "set", "link", "--public-badges=yes"],
    ));
    assert!(err.contains("--public-badges"), "{err}");
}

#[tokio::test]
async fn access_modes_are_created_switched_in_place_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("private");
    let s3 = support::s3().await;
    let cf = cloudfront().await;

    // A new site asks for signed links; its first key is printed once.
    let out = setup(dir.path(), &bucket, &[]);
    let key = printed_key(&out);
    assert!(key.starts_with("k1.") && key.len() == 67, "{key}");
    assert_eq!(out.matches(&key).count(), 1, "{out}");
    let (code, arn) = function_code(&cf, &bucket).await;
    let config = config_of(&code);
    assert_eq!(config["modes"], serde_json::json!(["link"]));
    assert_eq!(config["keys"]["k1"]["secret"], key[3..]);
    let rec = record(&s3, &bucket).await;
    assert_eq!(
        rec,
        serde_json::json!({"modes": ["link"], "keys": [{"id": "k1"}]})
    );
    assert!(
        !rec.to_string().contains(&key[3..]),
        "the record holds no secret"
    );
    let checked = ok(&infra(dir.path(), &["validate"]));
    assert!(checked.contains("link (keys k1)"), "{checked}");
    assert!(!checked.contains(&key[3..]));

    // A second setup changes nothing and prints no key.
    let again = setup(dir.path(), &bucket, &["--adopt"]);
    assert!(
        again.contains("nothing to change") && !again.contains("Access key"),
        "{again}"
    );

    // Switching modes updates the same function in place.
    let out = ok(&infra(
        dir.path(),
        &["access", "set", "ip,link", "--allow-ip", "203.0.113.0/24"],
    ));
    assert!(
        out.contains("update the code of CloudFront function"),
        "{out}"
    );
    let (code, same_arn) = function_code(&cf, &bucket).await;
    assert_eq!(same_arn, arn);
    assert_eq!(config_of(&code)["modes"], serde_json::json!(["link", "ip"]));
    assert_eq!(
        config_of(&code)["ips"],
        serde_json::json!(["203.0.113.0/24"])
    );
    assert_eq!(
        record(&s3, &bucket).await["modes"],
        serde_json::json!(["link", "ip"])
    );

    // Users for basic mode: the password is printed once and stored salted.
    let out = ok(&infra(dir.path(), &["access", "add-user", "alice"]));
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("Password for alice (shown once; share it privately): "))
        .unwrap();
    let (code, _) = function_code(&cf, &bucket).await;
    assert!(!code.contains(password));
    assert_eq!(
        config_of(&code)["users"]["alice"]["hash"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    ok(&infra(dir.path(), &["access", "set", "basic"]));
    let shown = ok(&infra(dir.path(), &["access", "show"]));
    assert!(shown.contains("basic (users alice)"), "{shown}");
    ok(&infra(dir.path(), &["access", "remove-user", "alice"]));
    let err = failed(&infra(dir.path(), &["access", "remove-user", "alice"]));
    assert!(err.contains("there is no user \"alice\""), "{err}");

    // Rotation: a new active key, the old one kept for its grace period.
    ok(&infra(dir.path(), &["access", "set", "link"]));
    let out = ok(&infra(
        dir.path(),
        &["access", "rotate", "--grace-days", "2"],
    ));
    let k2 = printed_key(&out);
    assert!(k2.starts_with("k2."), "{out}");
    let keys = record(&s3, &bucket).await["keys"].clone();
    assert_eq!(keys[0]["id"], "k1");
    assert!(keys[0]["until"].as_i64().unwrap() > 0);
    assert_eq!(keys[1], serde_json::json!({"id": "k2"}));

    // A publish with the key posts signed links; without it, says why not.
    let summary = dir.path().join("summary.json");
    let examples = support::examples();
    let publish = [
        "publish",
        "--results",
        examples.to_str().unwrap(),
        "--project",
        "web",
        "--branch",
        "main",
        "--s3-endpoint",
        moto(),
        "--cloudfront",
        "https://d1.example.net",
    ];
    let with_summary = [&publish[..], &["--summary-json", summary.to_str().unwrap()]].concat();
    let mut publish_with_key = support::command_in(dir.path(), &with_summary);
    let out = publish_with_key
        .env("ALLURE_ACCESS_KEY", &k2)
        .output()
        .unwrap();
    let stdout = ok(&out);
    assert!(!stdout.contains(&k2[3..]) && !String::from_utf8_lossy(&out.stderr).contains(&k2[3..]));
    let s: Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert_eq!(s["access"], "link");
    let run_link = s["links"]["run"].as_str().unwrap();
    assert!(
        run_link.starts_with(&format!("{}?access=k2.", s["run_url"].as_str().unwrap())),
        "{run_link}"
    );
    let out = run_in(dir.path(), &publish);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("opens only with signed links"));

    // Open is stated plainly by validate.
    setup(dir.path(), &bucket, &["--adopt", "--access", "open"]);
    let checked = ok(&infra(dir.path(), &["validate"]));
    assert!(
        checked.contains("anyone who has the URL can read every report"),
        "{checked}"
    );

    // Cleanup removes the function (the store of the secrets) and the record.
    ok(&infra(
        dir.path(),
        &["cleanup", "--yes", "--poll-interval", "1"],
    ));
    assert!(
        cf.describe_function()
            .name(format!("allure-host-index-{bucket}"))
            .send()
            .await
            .is_err()
    );
    assert!(
        s3.head_object()
            .bucket(&bucket)
            .key("~allure-host/access.json")
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn setup_with_ip_or_basic_creates_what_the_mode_needs() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("iponly");
    let err = failed(&infra(
        dir.path(),
        &["setup", "--bucket", &bucket, "--yes", "--access", "ip"],
    ));
    assert!(err.contains("ip mode needs at least one range"), "{err}");
    let s3 = support::s3().await;
    assert!(
        s3.head_bucket().bucket(&bucket).send().await.is_err(),
        "nothing is created on bad input"
    );
    let out = setup(
        dir.path(),
        &bucket,
        &[
            "--access",
            "ip",
            "--allow-ip",
            "10.1.0.0/16",
            "--allow-ip",
            "2001:db8::/32",
        ],
    );
    assert!(!out.contains("Access key"), "{out}");
    let (code, _) = function_code(&cloudfront().await, &bucket).await;
    assert_eq!(
        config_of(&code)["ips"],
        serde_json::json!(["10.1.0.0/16", "2001:db8::/32"])
    );
    assert_eq!(
        record(&s3, &bucket).await,
        serde_json::json!({"modes": ["ip"], "keys": []})
    );
    let set = infra(dir.path(), &["access", "set", "basic"]);
    ok(&set);
    let out = failed_or_ok(&set);
    assert!(out.contains("nobody can sign in"), "{out}");
    let checked = failed_or_ok(&infra(dir.path(), &["validate"]));
    assert!(checked.contains("nobody can sign in"), "{checked}");
}

fn failed_or_ok(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Replace the function's code through the API, as someone editing it in
/// the console (or a newer allure-host) would; returns the new ETag.
async fn tamper(cf: &aws_sdk_cloudfront::Client, bucket: &str, code: &str) -> String {
    let name = format!("allure-host-index-{bucket}");
    let described = cf.describe_function().name(&name).send().await.unwrap();
    let config = described
        .function_summary()
        .unwrap()
        .function_config()
        .unwrap()
        .clone();
    let out = cf
        .update_function()
        .name(&name)
        .if_match(described.e_tag().unwrap())
        .function_config(config)
        .function_code(aws_sdk_cloudfront::primitives::Blob::new(code.as_bytes()))
        .send()
        .await
        .unwrap();
    out.e_tag().unwrap().to_string()
}

async fn etag(cf: &aws_sdk_cloudfront::Client, bucket: &str) -> String {
    let name = format!("allure-host-index-{bucket}");
    let described = cf.describe_function().name(&name).send().await.unwrap();
    described.e_tag().unwrap().to_string()
}

#[tokio::test]
async fn settings_this_version_cannot_read_stop_every_writer_and_fail_validate() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("tampered");
    let s3 = support::s3().await;
    let cf = cloudfront().await;
    setup(
        dir.path(),
        &bucket,
        &["--access", "ip,link", "--allow-ip", "10.0.0.0/8"],
    );
    let (code, _) = function_code(&cf, &bucket).await;
    let line = code
        .lines()
        .find(|l| l.starts_with("var CONFIG = "))
        .unwrap()
        .to_string();
    let json = line["var CONFIG = ".len()..line.len() - 1].to_string();
    let record_before = record(&s3, &bucket).await;
    let tampered = [
        (
            "a mode this version does not know",
            code.replace("[\"link\",\"ip\"]", "[\"link\",\"sso\"]"),
        ),
        (
            "a reformatted line",
            code.replace(&line, &format!("var CONFIG={json};")),
        ),
        (
            "a range without a length",
            code.replace("10.0.0.0/8", "10.0.0.0"),
        ),
        (
            "a negative length",
            code.replace("10.0.0.0/8", "10.0.0.0/-1"),
        ),
    ];
    let writers: [&[&str]; 7] = [
        &[
            "setup",
            "--bucket",
            &bucket,
            "--yes",
            "--adopt",
            "--poll-interval",
            "1",
        ],
        &[
            "setup", "--bucket", &bucket, "--yes", "--adopt", "--access", "open",
        ],
        &["access", "set", "link"],
        &["access", "add-user", "alice"],
        &["access", "remove-user", "alice"],
        &["access", "rotate"],
        &["access", "show"],
    ];
    for (what, bad) in &tampered {
        assert_ne!(bad, &code, "{what}");
        let tag = tamper(&cf, &bucket, bad).await;
        let table = infra(dir.path(), &["validate"]);
        failed(&table);
        let stdout = String::from_utf8_lossy(&table.stdout).into_owned();
        let access = stdout
            .lines()
            .find(|l| l.starts_with("access "))
            .unwrap_or_else(|| panic!("{what}: no access row in\n{stdout}"));
        assert!(
            access.contains("FAIL") && access.contains(&format!("allure-host-index-{bucket}")),
            "{what}: {access}"
        );
        for args in writers {
            let out = infra(dir.path(), args);
            let err = failed(&out);
            assert!(
                err.contains("cannot read") && err.contains("Nothing was changed"),
                "{what}, {args:?}: {err}"
            );
            assert!(
                !String::from_utf8_lossy(&out.stdout).contains("done:"),
                "{what}, {args:?}"
            );
            assert_eq!(
                &function_code(&cf, &bucket).await.0,
                bad,
                "{what}, {args:?}"
            );
            assert_eq!(etag(&cf, &bucket).await, tag, "{what}, {args:?}");
            assert_eq!(
                record(&s3, &bucket).await,
                record_before,
                "{what}, {args:?}"
            );
        }
    }

    // The way out: new settings from --access, stated as such.
    let out = setup(
        dir.path(),
        &bucket,
        &["--adopt", "--reset-access", "--access", "link"],
    );
    assert!(printed_key(&out).starts_with("k1."), "{out}");
    let (code, _) = function_code(&cf, &bucket).await;
    assert_eq!(config_of(&code)["modes"], serde_json::json!(["link"]));
    ok(&infra(dir.path(), &["validate"]));
}

/// `allure-host infra ...` as a workflow step runs it.
fn infra_in_actions(dir: &Path, args: &[&str]) -> String {
    slow_cloudfront();
    let mut full = vec!["infra"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--endpoint-url", moto()]);
    let out = support::command_in(dir, &full)
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    ok(&out)
}

/// Each secret is masked on a line of its own before any line shows it.
fn masked_before_shown(out: &str, secret: &str) {
    let lines: Vec<&str> = out.lines().collect();
    let mask = lines
        .iter()
        .position(|l| *l == format!("::add-mask::{secret}"))
        .unwrap_or_else(|| panic!("{secret} is not masked in\n{out}"));
    let shown = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(secret) && !l.starts_with("::add-mask::"))
        .map(|(i, _)| i)
        .collect::<Vec<_>>();
    assert!(shown.iter().all(|i| *i > mask), "{out}");
}

#[tokio::test]
async fn in_a_github_actions_job_new_secrets_are_masked_before_they_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("masked");
    let out = infra_in_actions(
        dir.path(),
        &[
            "setup",
            "--bucket",
            &bucket,
            "--yes",
            "--poll-interval",
            "1",
        ],
    );
    let key = printed_key(&out);
    masked_before_shown(&out, &key[3..]);

    let out = infra_in_actions(dir.path(), &["access", "rotate"]);
    let k2 = printed_key(&out);
    assert!(k2.starts_with("k2."), "{out}");
    masked_before_shown(&out, &k2[3..]);

    let out = infra_in_actions(dir.path(), &["access", "add-user", "alice"]);
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("Password for alice (shown once; share it privately): "))
        .unwrap();
    masked_before_shown(&out, password);

    // Outside a job nothing asks to be masked; no other command or file
    // ever holds a secret.
    let shown = ok(&infra(dir.path(), &["access", "show"]));
    assert!(!shown.contains("::add-mask::") && !shown.contains(&k2[3..]));
    let env_file = std::fs::read_to_string(dir.path().join(".infra_env")).unwrap();
    let config = std::fs::read_to_string(dir.path().join("allure-host.yml")).unwrap();
    for text in [&env_file, &config, &shown] {
        assert!(!text.contains(&key[3..]) && !text.contains(&k2[3..]) && !text.contains(password));
    }
}

/// A stand-in for CloudFront's TestFunction (moto has no JavaScript
/// runtime): it checks the call as the API documents it (POST
/// /2020-05-31/function/NAME/test, If-Match, Stage, a base64 EventObject),
/// runs the event through `code` under Node, and answers a TestResult with
/// the output as a JSON string. `answer` overrides the XML (a bare 404, say).
struct StubCloudFront {
    url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn stub_cloudfront(code: String, answer: Option<(u16, String)>) -> StubCloudFront {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let body = String::from_utf8(body).unwrap();
            seen.lock().unwrap().push(format!("{head}{body}"));
            let (status, xml) = answer
                .clone()
                .unwrap_or_else(|| (200, run_event(&code, &body)));
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{xml}",
                xml.len()
            );
            stream.write_all(reply.as_bytes()).unwrap();
        }
    });
    StubCloudFront { url, requests }
}

/// The TestResult for the request's EventObject, from the function run
/// under Node.
fn run_event(code: &str, request_xml: &str) -> String {
    let event_b64 = request_xml
        .split("<EventObject>")
        .nth(1)
        .and_then(|r| r.split("</EventObject>").next())
        .expect("an EventObject");
    let script = format!(
        "{code}\nvar event = JSON.parse(Buffer.from(process.argv[1], 'base64').toString());\n\
         var r = handler(event);\n\
         process.stdout.write(JSON.stringify(r.statusCode ? {{response: r}} : {{request: r}}));"
    );
    let out = std::process::Command::new("node")
        .args(["-e", &script, event_b64])
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let output = String::from_utf8(out.stdout).unwrap();
    let escaped = output
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<TestResult xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\">\
         <ComputeUtilization>27</ComputeUtilization>\
         <FunctionErrorMessage></FunctionErrorMessage>\
         <FunctionExecutionLogs/>\
         <FunctionOutput>{escaped}</FunctionOutput>\
         <FunctionSummary><Name>f</Name><Status>UNASSOCIATED</Status>\
         <FunctionConfig><Comment>c</Comment><Runtime>cloudfront-js-2.0</Runtime></FunctionConfig>\
         <FunctionMetadata><FunctionARN>arn:aws:cloudfront::123456789012:function/f</FunctionARN>\
         <Stage>DEVELOPMENT</Stage><LastModifiedTime>2026-01-01T00:00:00Z</LastModifiedTime></FunctionMetadata>\
         </FunctionSummary></TestResult>"
    )
}

async fn aws_at(endpoint: &str) -> allure_host::infra::aws::Aws {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudfront::config::SharedCredentialsProvider::new(
            aws_sdk_cloudfront::config::Credentials::new("test", "test", None, None, "tests"),
        ))
        .build();
    allure_host::infra::aws::Aws {
        s3: allure_host::aws::s3(&config, Some(endpoint)),
        cloudfront: allure_host::aws::cloudfront(&config, Some(endpoint)),
        sts: allure_host::aws::sts(&config, Some(endpoint)),
        region: "us-east-1".into(),
    }
}

#[tokio::test]
async fn test_function_is_called_as_documented_and_cloudfronts_answers_are_judged() {
    use allure_host::infra::access::AccessConfig;
    use allure_host::infra::function_test::{cases, judge};
    use allure_host::model::access::Mode;
    use allure_host::model::checks::Status;

    let mut config = AccessConfig::open();
    config
        .set_modes(vec![Mode::Link, Mode::Ip], &["10.0.0.0/8".into()])
        .unwrap();
    let code = config.render().unwrap();
    let stub = stub_cloudfront(code, None);
    let aws = aws_at(&stub.url).await;
    let cases = cases(&config, chrono::Utc::now().timestamp());
    assert_eq!(cases.len(), 4);
    for case in &cases {
        let outcome = aws
            .test_function("allure-host-index-b", "ETAG1", &case.event)
            .await
            .unwrap()
            .expect("the stub implements TestFunction");
        assert_eq!(outcome.compute_utilization.as_deref(), Some("27"));
        let r = judge(case, &outcome);
        assert_eq!(r.status, Status::Ok, "{r:?}");
    }
    let requests = stub.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 4);
    let first = requests[0].to_ascii_lowercase();
    assert!(
        first.starts_with("post /2020-05-31/function/allure-host-index-b/test "),
        "{first}"
    );
    assert!(first.contains("if-match: etag1"), "{first}");
    assert!(
        requests[0].contains("<Stage>DEVELOPMENT</Stage>"),
        "{}",
        requests[0]
    );

    // A function that lets everyone in fails every case that expects a refusal.
    let stub = stub_cloudfront(AccessConfig::open().render().unwrap(), None);
    let aws = aws_at(&stub.url).await;
    let refused = &cases[0];
    let outcome = aws
        .test_function("f", "E", &refused.event)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(judge(refused, &outcome).status, Status::Fail);

    // An endpoint without TestFunction (moto answers a bare 404): no outcome.
    let stub = stub_cloudfront(String::new(), Some((404, String::new())));
    let aws = aws_at(&stub.url).await;
    assert!(
        aws.test_function("f", "E", &refused.event)
            .await
            .unwrap()
            .is_none()
    );
    // An AWS error is an error, named.
    let denied = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>";
    let stub = stub_cloudfront(String::new(), Some((403, denied.into())));
    let aws = aws_at(&stub.url).await;
    let err = aws
        .test_function("f", "E", &refused.event)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("TestFunction on f failed: AccessDenied"),
        "{err:#}"
    );
}

#[tokio::test]
async fn validate_against_moto_says_the_function_test_could_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("notest");
    let out = setup(dir.path(), &bucket, &[]);
    assert!(
        out.contains("function test") && out.contains("could not run"),
        "{out}"
    );
    let table = ok(&infra(dir.path(), &["validate"]));
    let line = table
        .lines()
        .find(|l| l.starts_with("function test"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        line.contains("warn") && line.contains("does not implement"),
        "{line}"
    );
}
