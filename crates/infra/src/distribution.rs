//! The distribution setup wants, what differs from it, and the update that
//! fixes only what we own. Pure: SDK types are plain data here.
//!
//! We own the S3 origin (`allure-host-s3`), the default cache behaviour, the
//! default root object, the error responses, the comment, the price class and
//! `Enabled`. Everything else a user added (aliases, certificate, logging,
//! WAF, other origins and behaviours) is carried over untouched on update.

use aws_sdk_cloudfront::types::{
    AllowedMethods, CachedMethods, CustomErrorResponse, CustomErrorResponses, DefaultCacheBehavior,
    DistributionConfig, EventType, FunctionAssociation, FunctionAssociations, HttpVersion, Method,
    Origin, Origins, PriceClass, S3OriginConfig, ViewerProtocolPolicy,
};

use super::names::{NOT_FOUND_KEY, Names, ORIGIN_ID};

/// AWS's managed cache policy "UseOriginCacheControlHeaders": CloudFront
/// keeps what the publisher's Cache-Control says (no-cache pages are
/// revalidated, immutable assets cached a year) and compresses.
pub const CACHE_POLICY_ID: &str = "83da9c7e-98b4-4e11-a168-04f0df8e2c65";
pub const DEFAULT_ROOT_OBJECT: &str = "index.html";
/// Error answers are cached briefly, so a report published a moment after a
/// miss shows up at once.
const ERROR_CACHING_SECONDS: i64 = 10;
pub const PRICE_CLASSES: &[&str] = &["PriceClass_100", "PriceClass_200", "PriceClass_All"];

/// What setup needs to know to describe the distribution.
pub struct Wanted<'a> {
    pub names: &'a Names,
    pub oac_id: &'a str,
    pub function_arn: &'a str,
    pub price_class: &'a str,
}

fn origin(w: &Wanted) -> Origin {
    Origin::builder()
        .id(ORIGIN_ID)
        .domain_name(w.names.origin_domain())
        .origin_path("")
        // Empty: access goes through the OAC, not a legacy OAI.
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .origin_access_control_id(w.oac_id)
        .build()
        .expect("id and domain are set")
}

fn methods(items: &[Method]) -> AllowedMethods {
    AllowedMethods::builder()
        .quantity(items.len() as i32)
        .set_items(Some(items.to_vec()))
        .cached_methods(
            CachedMethods::builder()
                .quantity(items.len() as i32)
                .set_items(Some(items.to_vec()))
                .build()
                .expect("quantity and items are set"),
        )
        .build()
        .expect("quantity and items are set")
}

fn viewer_request(function_arn: &str) -> FunctionAssociation {
    FunctionAssociation::builder()
        .function_arn(function_arn)
        .event_type(EventType::ViewerRequest)
        .build()
        .expect("arn and event type are set")
}

/// Our viewer-request function plus any function the user associated with
/// other events.
fn associations(
    current: Option<&DefaultCacheBehavior>,
    function_arn: &str,
) -> FunctionAssociations {
    let mut items: Vec<FunctionAssociation> = current
        .and_then(DefaultCacheBehavior::function_associations)
        .map(|a| a.items().to_vec())
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.event_type() != &EventType::ViewerRequest)
        .collect();
    items.push(viewer_request(function_arn));
    FunctionAssociations::builder()
        .quantity(items.len() as i32)
        .set_items(Some(items))
        .build()
        .expect("quantity is set")
}

fn default_behavior(w: &Wanted, current: Option<&DefaultCacheBehavior>) -> DefaultCacheBehavior {
    DefaultCacheBehavior::builder()
        .target_origin_id(ORIGIN_ID)
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .allowed_methods(methods(&[Method::Get, Method::Head]))
        .compress(true)
        .cache_policy_id(CACHE_POLICY_ID)
        .function_associations(associations(current, w.function_arn))
        .set_response_headers_policy_id(
            current.and_then(|c| c.response_headers_policy_id().map(str::to_string)),
        )
        .build()
        .expect("origin and protocol policy are set")
}

/// A missing key answers 403 from a private bucket (no ListBucket) and 404
/// otherwise; both land on the not-found page, with status 404.
fn error_responses() -> CustomErrorResponses {
    let items: Vec<CustomErrorResponse> = [403, 404]
        .into_iter()
        .map(|code| {
            CustomErrorResponse::builder()
                .error_code(code)
                .response_page_path(format!("/{NOT_FOUND_KEY}"))
                .response_code("404")
                .error_caching_min_ttl(ERROR_CACHING_SECONDS)
                .build()
                .expect("error code is set")
        })
        .collect();
    CustomErrorResponses::builder()
        .quantity(items.len() as i32)
        .set_items(Some(items))
        .build()
        .expect("quantity is set")
}

/// A new distribution. `caller_reference` must be unique per creation.
pub fn new_config(w: &Wanted, caller_reference: &str) -> DistributionConfig {
    DistributionConfig::builder()
        .caller_reference(caller_reference)
        .comment(&w.names.comment)
        .enabled(true)
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin(w))
                .build()
                .expect("quantity is set"),
        )
        .default_cache_behavior(default_behavior(w, None))
        .default_root_object(DEFAULT_ROOT_OBJECT)
        .custom_error_responses(error_responses())
        .price_class(PriceClass::from(w.price_class))
        .http_version(HttpVersion::Http2and3)
        .is_ipv6_enabled(true)
        .build()
        .expect("caller reference, comment, enabled, origins and behaviour are set")
}

/// `current` with our parts set as wanted and the rest carried over.
pub fn reconciled(current: &DistributionConfig, w: &Wanted) -> DistributionConfig {
    let mut origins: Vec<Origin> = current
        .origins()
        .map(|o| o.items().to_vec())
        .unwrap_or_default()
        .into_iter()
        .filter(|o| o.id() != ORIGIN_ID)
        .collect();
    origins.insert(0, origin(w));
    with_enabled_and(current, true, |b| {
        b.comment(&w.names.comment)
            .origins(
                Origins::builder()
                    .quantity(origins.len() as i32)
                    .set_items(Some(origins))
                    .build()
                    .expect("quantity is set"),
            )
            .default_cache_behavior(default_behavior(w, current.default_cache_behavior()))
            .default_root_object(DEFAULT_ROOT_OBJECT)
            .custom_error_responses(error_responses())
            .price_class(PriceClass::from(w.price_class))
    })
}

/// `current`, disabled (the first step of deleting it).
pub fn disabled(current: &DistributionConfig) -> DistributionConfig {
    with_enabled_and(current, false, |b| b)
}

/// A copy of `current` with `enabled` set and `edit` applied to the builder.
fn with_enabled_and(
    current: &DistributionConfig,
    enabled: bool,
    edit: impl FnOnce(
        aws_sdk_cloudfront::types::builders::DistributionConfigBuilder,
    ) -> aws_sdk_cloudfront::types::builders::DistributionConfigBuilder,
) -> DistributionConfig {
    let c = current;
    let b = DistributionConfig::builder()
        .caller_reference(c.caller_reference())
        .set_aliases(c.aliases().cloned())
        .set_default_root_object(c.default_root_object().map(str::to_string))
        .set_origins(c.origins().cloned())
        .set_origin_groups(c.origin_groups().cloned())
        .set_default_cache_behavior(c.default_cache_behavior().cloned())
        .set_cache_behaviors(c.cache_behaviors().cloned())
        .set_custom_error_responses(c.custom_error_responses().cloned())
        .comment(c.comment())
        .set_logging(c.logging().cloned())
        .set_price_class(c.price_class().cloned())
        .enabled(enabled)
        .set_viewer_certificate(c.viewer_certificate().cloned())
        .set_restrictions(c.restrictions().cloned())
        .set_web_acl_id(c.web_acl_id().map(str::to_string))
        .set_http_version(c.http_version().cloned())
        .set_is_ipv6_enabled(c.is_ipv6_enabled())
        .set_continuous_deployment_policy_id(
            c.continuous_deployment_policy_id().map(str::to_string),
        )
        .set_staging(c.staging())
        .set_anycast_ip_list_id(c.anycast_ip_list_id().map(str::to_string))
        .set_tenant_config(c.tenant_config().cloned())
        .set_connection_mode(c.connection_mode().cloned())
        .set_viewer_mtls_config(c.viewer_mtls_config().cloned())
        .set_connection_function_association(c.connection_function_association().cloned())
        .set_cache_tag_config(c.cache_tag_config().cloned());
    edit(b)
        .build()
        .expect("built from a complete configuration")
}

/// The OAC id on our origin, if the origin is there.
pub fn attached_oac(config: &DistributionConfig) -> Option<&str> {
    our_origin(config).and_then(Origin::origin_access_control_id)
}

fn our_origin(config: &DistributionConfig) -> Option<&Origin> {
    config
        .origins()
        .and_then(|o| o.items().iter().find(|o| o.id() == ORIGIN_ID))
}

/// The viewer-request function of the default behaviour.
pub fn viewer_request_function(config: &DistributionConfig) -> Option<&str> {
    config
        .default_cache_behavior()
        .and_then(DefaultCacheBehavior::function_associations)
        .and_then(|a| {
            a.items()
                .iter()
                .find(|f| f.event_type() == &EventType::ViewerRequest)
        })
        .map(FunctionAssociation::function_arn)
}

/// True when the server left out parts of our S3 origin: AWS always returns
/// an origin's S3OriginConfig or CustomOriginConfig, so a response with
/// neither comes from an emulator (moto) that also drops the OAC id and the
/// function associations. Those parts cannot be compared there.
pub fn lossy_server(config: &DistributionConfig) -> bool {
    our_origin(config).is_some_and(|o| {
        o.s3_origin_config().is_none()
            && o.custom_origin_config().is_none()
            && o.vpc_origin_config().is_none()
    })
}

/// What differs between `current` and what setup wants, in words; empty
/// when nothing we own needs to change.
pub fn drift(current: &DistributionConfig, w: &Wanted) -> Vec<String> {
    let mut out = Vec::new();
    let lossy = lossy_server(current);
    let mut differs = |ok: bool, what: &str| {
        if !ok {
            out.push(what.to_string());
        }
    };
    differs(current.enabled(), "enabled");
    differs(current.comment() == w.names.comment, "comment");
    let origin = our_origin(current);
    differs(
        origin.is_some_and(|o| o.domain_name() == w.names.origin_domain()),
        "S3 origin",
    );
    differs(
        lossy || attached_oac(current) == Some(w.oac_id),
        "origin access control",
    );
    differs(
        lossy
            || origin
                .and_then(Origin::s3_origin_config)
                .is_some_and(|s| s.origin_access_identity().is_empty()),
        "no legacy origin access identity",
    );
    let behavior = current.default_cache_behavior();
    differs(
        behavior.is_some_and(|b| b.target_origin_id() == ORIGIN_ID),
        "default behaviour targets the S3 origin",
    );
    differs(
        behavior
            .is_some_and(|b| b.viewer_protocol_policy() == &ViewerProtocolPolicy::RedirectToHttps),
        "HTTPS redirect",
    );
    differs(
        behavior.and_then(|b| b.compress()) == Some(true),
        "compression",
    );
    differs(
        behavior.and_then(|b| b.cache_policy_id()) == Some(CACHE_POLICY_ID),
        "cache policy",
    );
    differs(
        lossy || viewer_request_function(current) == Some(w.function_arn),
        "viewer function",
    );
    differs(
        current.default_root_object() == Some(DEFAULT_ROOT_OBJECT),
        "default root object",
    );
    differs(
        error_codes(current) == error_codes_of(&error_responses()),
        "error responses",
    );
    differs(
        current.price_class().map(PriceClass::as_str) == Some(w.price_class),
        "price class",
    );
    out
}

type ErrorCode = (i32, Option<String>, Option<String>);

fn error_codes(config: &DistributionConfig) -> Vec<ErrorCode> {
    config
        .custom_error_responses()
        .map(error_codes_of)
        .unwrap_or_default()
}

fn error_codes_of(responses: &CustomErrorResponses) -> Vec<ErrorCode> {
    let mut codes: Vec<ErrorCode> = responses
        .items()
        .iter()
        .map(|r| {
            (
                r.error_code(),
                r.response_page_path().map(str::to_string),
                r.response_code().map(str::to_string),
            )
        })
        .collect();
    codes.sort();
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted<'a>(names: &'a Names, oac: &'a str) -> Wanted<'a> {
        Wanted {
            names,
            oac_id: oac,
            function_arn: "arn:aws:cloudfront::123456789012:function/f",
            price_class: "PriceClass_100",
        }
    }

    #[test]
    fn a_new_config_has_no_drift() {
        let names = Names::new("reports-b", "eu-west-1").unwrap();
        let w = wanted(&names, "OAC1");
        let c = new_config(&w, "ref-1");
        assert!(drift(&c, &w).is_empty(), "{:?}", drift(&c, &w));
        assert_eq!(attached_oac(&c), Some("OAC1"));
        assert_eq!(viewer_request_function(&c), Some(w.function_arn));
        let b = c.default_cache_behavior().unwrap();
        assert_eq!(
            b.viewer_protocol_policy(),
            &ViewerProtocolPolicy::RedirectToHttps
        );
        assert_eq!(c.custom_error_responses().unwrap().items().len(), 2);
    }

    #[test]
    fn drift_names_what_changed_and_reconcile_fixes_it() {
        let names = Names::new("reports-b", "eu-west-1").unwrap();
        let c = new_config(&wanted(&names, "OAC1"), "ref-1");
        let w2 = Wanted {
            price_class: "PriceClass_All",
            ..wanted(&names, "OAC2")
        };
        assert_eq!(drift(&c, &w2), ["origin access control", "price class"]);
        let off = disabled(&c);
        assert!(!off.enabled());
        assert_eq!(drift(&off, &wanted(&names, "OAC1")), ["enabled"]);
        let fixed = reconciled(&off, &w2);
        assert!(drift(&fixed, &w2).is_empty());
        assert_eq!(fixed.caller_reference(), "ref-1");
    }

    #[test]
    fn a_server_that_drops_origin_fields_is_not_asked_for_them() {
        let names = Names::new("reports-b", "eu-west-1").unwrap();
        let w = wanted(&names, "OAC1");
        let sent = new_config(&w, "ref-1");
        let dropped = Origin::builder()
            .id(ORIGIN_ID)
            .domain_name(names.origin_domain())
            .build()
            .unwrap();
        let behavior = DefaultCacheBehavior::builder()
            .target_origin_id(ORIGIN_ID)
            .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
            .compress(true)
            .cache_policy_id(CACHE_POLICY_ID)
            .build()
            .unwrap();
        let echoed = reconciled(&sent, &w);
        let lossy = DistributionConfig::builder()
            .caller_reference("ref-1")
            .comment(&names.comment)
            .enabled(true)
            .origins(
                Origins::builder()
                    .quantity(1)
                    .items(dropped)
                    .build()
                    .unwrap(),
            )
            .default_cache_behavior(behavior)
            .default_root_object(DEFAULT_ROOT_OBJECT)
            .set_custom_error_responses(echoed.custom_error_responses().cloned())
            .price_class(PriceClass::PriceClass100)
            .build()
            .unwrap();
        assert!(lossy_server(&lossy));
        assert!(!lossy_server(&sent));
        assert!(drift(&lossy, &w).is_empty(), "{:?}", drift(&lossy, &w));
    }

    #[test]
    fn reconcile_keeps_what_the_user_added() {
        let names = Names::new("reports-b", "eu-west-1").unwrap();
        let w = wanted(&names, "OAC1");
        let c = new_config(&w, "ref-1");
        let extra = Origin::builder()
            .id("api")
            .domain_name("api.example.com")
            .build()
            .unwrap();
        let user = DistributionConfig::builder()
            .caller_reference("ref-1")
            .comment("renamed")
            .enabled(true)
            .origins(
                Origins::builder()
                    .quantity(2)
                    .items(extra.clone())
                    .items(c.origins().unwrap().items()[0].clone())
                    .build()
                    .unwrap(),
            )
            .set_default_cache_behavior(c.default_cache_behavior().cloned())
            .web_acl_id("arn:aws:wafv2::acl")
            .build()
            .unwrap();
        let fixed = reconciled(&user, &w);
        assert_eq!(fixed.web_acl_id(), Some("arn:aws:wafv2::acl"));
        let ids: Vec<&str> = fixed
            .origins()
            .unwrap()
            .items()
            .iter()
            .map(Origin::id)
            .collect();
        assert_eq!(ids, [ORIGIN_ID, "api"]);
        assert_eq!(fixed.comment(), names.comment);
    }
}
