//! The matrix leg a run belongs to. GitHub hands it over as the matrix
//! serialised to JSON (`{"python-version": "3.12"}`), users as plain text.

use serde_json::Value;

/// Longest slug appended to a run id; the run id segment has its own cap.
const MAX_SLUG: usize = 60;

/// The label shown to readers: `python-version=3.12, os=linux` for a JSON
/// object, the text itself otherwise; None for an empty or null matrix.
pub fn label(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let label = match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Ok(Value::Null) => String::new(),
        Ok(Value::String(s)) => s,
        _ => raw.to_string(),
    };
    (!label.trim().is_empty()).then(|| label.trim().to_string())
}

/// A run-id friendly form: letters, digits, `.` and `_` kept, anything else
/// one `-`.
pub fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    let cut = out
        .char_indices()
        .nth(MAX_SLUG)
        .map_or(out.len(), |(i, _)| i);
    let out = out[..cut].trim_end_matches('-');
    if out.is_empty() {
        "leg".into()
    } else {
        out.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_json_becomes_key_value_pairs() {
        assert_eq!(
            label(r#"{"python-version": "3.12", "shard": 2}"#).as_deref(),
            Some("python-version=3.12, shard=2")
        );
        assert_eq!(label("null"), None);
        assert_eq!(label("{}"), None);
        assert_eq!(label("  "), None);
        assert_eq!(label("linux / chrome").as_deref(), Some("linux / chrome"));
    }

    #[test]
    fn slugs_are_safe_and_short() {
        assert_eq!(
            slug("python-version=3.12, shard=2"),
            "python-version-3.12-shard-2"
        );
        assert_eq!(slug("<script>"), "script");
        assert_eq!(slug("///"), "leg");
        assert!(slug(&"x".repeat(500)).len() <= MAX_SLUG);
    }
}
