//! Allure 2 writes a Google Tag Manager loader into the report's index.html,
//! so every viewer's browser calls a third party. We remove it (pure text
//! transform) unless the user opts out.

/// Remove every `<script>` element that loads or configures Google Tag
/// Manager / gtag. Anything else is left byte for byte.
pub fn strip(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let Some(end_rel) = rest[start..].find("</script>") else {
            break;
        };
        let end = start + end_rel + "</script>".len();
        let element = &rest[start..end];
        out.push_str(&rest[..start]);
        if is_tracker(element) {
            // Drop the element and the indentation/newline it leaves behind.
            let trimmed = out.trim_end_matches([' ', '\t']).len();
            out.truncate(trimmed);
            rest = rest[end..].strip_prefix('\n').unwrap_or(&rest[end..]);
        } else {
            out.push_str(element);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

fn is_tracker(element: &str) -> bool {
    [
        "googletagmanager.com",
        "google-analytics.com",
        "gtag(",
        "dataLayer",
    ]
    .iter()
    .any(|needle| element.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The end of Allure 2.46.1's index.html.
    const ALLURE_INDEX: &str = r#"<body>
    <script src="assets/index-CqG5t6J2.js"></script>
    <script>
        if (typeof window.__allureResolveCoreLoaded === "function") {
            window.__allureResolveCoreLoaded([]);
        }
    </script>
    <!-- allure-core-body:end -->
    <script async src="https://www.googletagmanager.com/gtag/js?id=G-FVWC4GKEYS"></script>
    <script>
        window.dataLayer = window.dataLayer || [];
        function gtag(){dataLayer.push(arguments);}
        gtag('js', new Date());
        gtag('config', 'G-FVWC4GKEYS', {
          'allureVersion': '2.46.1',
          'reportUuid': 'cb0160f9-6d55-4f47-b7a0-f26999e2c6a1',
          'single_file': false
        });
    </script>
</body>
"#;

    #[test]
    fn removes_the_tag_manager_and_keeps_the_app() {
        let out = strip(ALLURE_INDEX);
        assert!(!out.contains("googletagmanager"));
        assert!(!out.contains("gtag"));
        let kept = ALLURE_INDEX.split("    <script async").next().unwrap();
        assert_eq!(out, format!("{kept}</body>\n"));
    }

    #[test]
    fn pages_without_trackers_are_unchanged() {
        let page = "<html><script>var a = 1;</script><script src=x.js></script></html>";
        assert_eq!(strip(page), page);
        assert_eq!(strip("<script>unterminated"), "<script>unterminated");
    }
}
