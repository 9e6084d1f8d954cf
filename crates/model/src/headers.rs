//! Content-Type and Cache-Control policy for every object we write. Pure.

use crate::engine::Engine;

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

/// Cache-Control of a file in a run's folder. Allure 2's report never
/// changes once uploaded; of Allure 3's, only the files whose names carry
/// their content hash (`app-<hash>.js`) are immutable, as Allure intends,
/// and the rest revalidate (a 304 costs no body).
pub fn run_file_cache_control(engine: Engine, key: &str) -> &'static str {
    match engine {
        Engine::Allure2 => cache_control(key, true),
        Engine::Allure3 if is_content_hashed(key) => IMMUTABLE,
        Engine::Allure3 => NO_CACHE,
    }
}

/// `app-b3323b2606f19801ef1b.js`, `app-<hash>.js.LICENSE.txt`: a name whose
/// part after the last `-` and before the first `.` is 16 or more hex digits.
fn is_content_hashed(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    let stem = name.split('.').next().unwrap_or(name);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() >= 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
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

    /// A badge changes with every run, so it is never cached for good
    /// (nor is anything else outside a run's folder).
    #[test]
    fn a_badge_is_an_svg_that_is_always_revalidated() {
        let l = crate::layout::Layout::new("r", "p", "main").unwrap();
        for key in [l.badge(), l.leg_badge("py=3.12")] {
            assert_eq!(content_type(&key), "image/svg+xml; charset=utf-8");
            assert_eq!(cache_control(&key, l.is_in_run(&key)), NO_CACHE);
        }
    }

    #[test]
    fn allure_3_caches_only_content_hashed_files_for_good() {
        let policy = |k| run_file_cache_control(Engine::Allure3, k);
        assert_eq!(policy("r/p/b/1/app-b3323b2606f19801ef1b.js"), IMMUTABLE);
        assert_eq!(
            policy("r/p/b/1/app-b3323b2606f19801ef1b.js.LICENSE.txt"),
            IMMUTABLE
        );
        assert_eq!(policy("r/p/b/1/index.html"), NO_CACHE);
        assert_eq!(policy("r/p/b/1/summary.json"), NO_CACHE);
        assert_eq!(policy("r/p/b/1/widgets/tree.json"), NO_CACHE);
        assert_eq!(policy("r/p/b/1/data/test-results/625b1c90.json"), NO_CACHE);
        assert_eq!(policy("r/p/b/1/data/pre-release.json"), NO_CACHE);
        assert_eq!(
            run_file_cache_control(Engine::Allure2, "r/p/b/1/app.js"),
            IMMUTABLE
        );
    }
}
