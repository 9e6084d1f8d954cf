//! Content-Type and Cache-Control policy for every object we write. Pure.

/// Files in a run prefix never change once written.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Anything a later publish may replace, and every entry page.
pub const NO_CACHE: &str = "no-cache";

/// Content-Type for a key, with a charset on text.
pub fn content_type(key: &str) -> String {
    let mime = mime_guess::from_path(key).first_or_octet_stream();
    let textual = mime.type_() == mime_guess::mime::TEXT
        || matches!(
            mime.essence_str(),
            "application/json" | "application/javascript" | "image/svg+xml" | "application/xml"
        );
    if textual {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_string()
    }
}

/// Cache-Control: entry pages and everything outside run prefixes must be
/// revalidated; the rest of a run is immutable.
pub fn cache_control(key: &str, in_run: bool) -> &'static str {
    let is_index = key == "index.html" || key.ends_with("/index.html");
    if in_run && !is_index {
        IMMUTABLE
    } else {
        NO_CACHE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_carry_charset_on_text() {
        let cases = [
            ("a/index.html", "text/html; charset=utf-8"),
            ("a/app.js", "text/javascript; charset=utf-8"),
            ("a/styles.css", "text/css; charset=utf-8"),
            ("a/data/x.json", "application/json; charset=utf-8"),
            ("a/data/attachments/1.txt", "text/plain; charset=utf-8"),
            ("a/x.svg", "image/svg+xml; charset=utf-8"),
            ("a/data/attachments/1.png", "image/png"),
            ("a/favicon.ico", "image/x-icon"),
            ("a/data/attachments/blob", "application/octet-stream"),
        ];
        for (key, want) in cases {
            assert_eq!(content_type(key), want, "{key}");
        }
    }

    #[test]
    fn cache_policy() {
        assert_eq!(cache_control("r/p/b/1/index.html", true), NO_CACHE);
        assert_eq!(cache_control("r/p/b/1/app.js", true), IMMUTABLE);
        assert_eq!(
            cache_control("r/p/b/1/widgets/summary.json", true),
            IMMUTABLE
        );
        assert_eq!(cache_control("r/p/b/latest.json", false), NO_CACHE);
        assert_eq!(cache_control("r/p/b/runs/index.json", false), NO_CACHE);
    }
}
