//! The bucket policy statement that lets only our distribution read, merged
//! into whatever policy the bucket already has. Other statements are kept as
//! they are; ours is recognised by its Sid.

use serde_json::{Value, json};

pub const SID: &str = "AllureHostCloudFrontRead";
const CLOUDFRONT: &str = "cloudfront.amazonaws.com";

pub fn statement(bucket: &str, distribution_arn: &str) -> Value {
    json!({
        "Sid": SID,
        "Effect": "Allow",
        "Principal": {"Service": CLOUDFRONT},
        "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{bucket}/*"),
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}}
    })
}

/// A bucket policy that cannot be read: nothing is written over it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the bucket's policy is not valid JSON ({0})")]
    NotJson(String),
    #[error("the bucket's policy is not a JSON object")]
    NotAnObject,
}

fn parse(policy: &str) -> Result<Value, PolicyError> {
    let doc: Value =
        serde_json::from_str(policy).map_err(|e| PolicyError::NotJson(e.to_string()))?;
    if !doc.is_object() {
        return Err(PolicyError::NotAnObject);
    }
    Ok(doc)
}

/// Statements as a list: a policy may hold one statement object or an array.
fn statements(doc: &Value) -> Vec<Value> {
    match doc.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

fn is_ours(statement: &Value) -> bool {
    statement.get("Sid").and_then(Value::as_str) == Some(SID)
}

/// `existing` with our statement replaced by (or extended with) `ours`.
pub fn merge(existing: Option<&str>, ours: Value) -> Result<Value, PolicyError> {
    let mut doc = match existing {
        Some(text) if !text.trim().is_empty() => parse(text)?,
        _ => json!({"Version": "2012-10-17"}),
    };
    let mut list: Vec<Value> = statements(&doc)
        .into_iter()
        .filter(|s| !is_ours(s))
        .collect();
    list.push(ours);
    doc["Statement"] = Value::Array(list);
    if doc.get("Version").is_none() {
        doc["Version"] = json!("2012-10-17");
    }
    Ok(doc)
}

/// `existing` without our statement; None when nothing else remains (the
/// policy should then be deleted, as S3 refuses an empty one).
pub fn remove(existing: &str) -> Result<Option<Value>, PolicyError> {
    let mut doc = parse(existing)?;
    let rest: Vec<Value> = statements(&doc)
        .into_iter()
        .filter(|s| !is_ours(s))
        .collect();
    if rest.is_empty() {
        return Ok(None);
    }
    doc["Statement"] = Value::Array(rest);
    Ok(Some(doc))
}

/// True when `existing` already equals what `merge` would write.
pub fn is_current(existing: Option<&str>, ours: &Value) -> bool {
    existing
        .and_then(|text| parse(text).ok())
        .is_some_and(|doc| statements(&doc).iter().filter(|s| is_ours(s)).eq([ours]))
}

pub fn has_ours(existing: &str) -> bool {
    parse(existing).is_ok_and(|doc| statements(&doc).iter().any(is_ours))
}

/// What validate reports about a policy.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Our statement is there and names this distribution.
    pub grants_distribution: bool,
    /// Statements that let CloudFront read without naming this distribution.
    pub loose_cloudfront: Vec<String>,
    /// Statements that allow anyone (Principal "*") with no condition.
    pub public: Vec<String>,
}

pub fn scope(policy: Option<&str>, distribution_arn: &str) -> Result<Scope, PolicyError> {
    let Some(text) = policy else {
        return Ok(Scope::default());
    };
    let doc = parse(text)?;
    let mut out = Scope::default();
    for (i, s) in statements(&doc).iter().enumerate() {
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let label = s
            .get("Sid")
            .and_then(Value::as_str)
            .map_or_else(|| format!("statement {}", i + 1), str::to_string);
        let source_arns = source_arns(s);
        if principal_is(s, CLOUDFRONT) {
            if source_arns.iter().any(|a| a == distribution_arn) && source_arns.len() == 1 {
                out.grants_distribution |= is_ours(s);
            } else {
                out.loose_cloudfront.push(label.clone());
            }
        }
        let anyone = matches!(s.get("Principal"), Some(Value::String(p)) if p == "*")
            || s.pointer("/Principal/AWS")
                .is_some_and(|p| one_or_many(p).iter().any(|v| v == "*"));
        if anyone && s.get("Condition").is_none() {
            out.public.push(label);
        }
    }
    Ok(out)
}

fn one_or_many(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn principal_is(statement: &Value, service: &str) -> bool {
    statement
        .pointer("/Principal/Service")
        .is_some_and(|p| one_or_many(p).iter().any(|v| v == service))
}

fn source_arns(statement: &Value) -> Vec<String> {
    let Some(cond) = statement.get("Condition").and_then(Value::as_object) else {
        return Vec::new();
    };
    cond.values()
        .filter_map(Value::as_object)
        .flat_map(|m| m.iter())
        .filter(|(k, _)| k.eq_ignore_ascii_case("AWS:SourceArn"))
        .flat_map(|(_, v)| one_or_many(v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIST: &str = "arn:aws:cloudfront::123456789012:distribution/E1";

    fn foreign() -> Value {
        json!({"Sid": "TeamRead", "Effect": "Allow",
               "Principal": {"AWS": "arn:aws:iam::123456789012:role/team"},
               "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    }

    #[test]
    fn merge_keeps_foreign_statements_and_replaces_ours() {
        let existing = json!({"Version": "2012-10-17", "Statement": foreign()}).to_string();
        let old = statement("b", "arn:aws:cloudfront::123456789012:distribution/OLD");
        let once = merge(Some(&existing), old).unwrap();
        let twice = merge(Some(&once.to_string()), statement("b", DIST)).unwrap();
        let list = twice["Statement"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0], foreign());
        assert_eq!(list[1], statement("b", DIST));
        assert!(is_current(Some(&twice.to_string()), &statement("b", DIST)));
        assert!(!is_current(Some(&once.to_string()), &statement("b", DIST)));
        assert!(!is_current(None, &statement("b", DIST)));
    }

    #[test]
    fn merge_into_nothing_and_remove_back_to_nothing() {
        let doc = merge(None, statement("b", DIST)).unwrap();
        assert_eq!(doc["Version"], "2012-10-17");
        assert_eq!(remove(&doc.to_string()).unwrap(), None);
        let with_foreign = merge(
            Some(&json!({"Statement": [foreign()]}).to_string()),
            statement("b", DIST),
        )
        .unwrap();
        let rest = remove(&with_foreign.to_string()).unwrap().unwrap();
        assert_eq!(rest["Statement"], json!([foreign()]));
        assert!(merge(Some("not json"), statement("b", DIST)).is_err());
    }

    #[test]
    fn scope_names_loose_and_public_grants() {
        let good = merge(None, statement("b", DIST)).unwrap().to_string();
        let s = scope(Some(&good), DIST).unwrap();
        assert!(s.grants_distribution && s.loose_cloudfront.is_empty() && s.public.is_empty());

        let other = scope(Some(&good), "arn:aws:cloudfront::1:distribution/OTHER").unwrap();
        assert!(!other.grants_distribution);
        assert_eq!(other.loose_cloudfront, vec![SID.to_string()]);

        let public = json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Sid": "AnyCloudFront", "Effect": "Allow", "Principal": {"Service": CLOUDFRONT},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
        ]})
        .to_string();
        let s = scope(Some(&public), DIST).unwrap();
        assert_eq!(s.public, vec!["statement 1".to_string()]);
        assert_eq!(s.loose_cloudfront, vec!["AnyCloudFront".to_string()]);
        assert_eq!(scope(None, DIST).unwrap(), Scope::default());
    }
}
