//! A run's status as a badge (`badge.svg`): a flat, shields.io-like SVG with
//! a label ("tests") and a message ("98% passed · 2 failed"), coloured by
//! the run's verdict. Pure: the SVG is made here whole, with no font,
//! stylesheet, script, link or image from anywhere; every text is cleaned
//! and XML-escaped, and the badge is sized to its text by the advance
//! widths of DejaVu Sans at 11 px (close to Verdana's, which shields.io
//! measures with), each text drawn at that width (`textLength`) whatever
//! font the reader has.
//!
//! The badge carries the build number of the run it shows
//! (`data-build-order`), so a publish replaces it only with a newer run's.

use super::quality_gate::QualityGate;
use super::stats::Stats;
use super::summary::{QUALITY_GATE_FAILED, status};

/// The file name of a branch's and a leg's badge.
pub const FILE: &str = "badge.svg";
/// The label of a branch's badge; a leg's adds the leg.
pub const LABEL: &str = "tests";
/// Longest label or message drawn, in characters (then cut with "…").
pub const MAX_CHARS: usize = 64;
const HEIGHT: u32 = 20;
/// Space either side of a text, in px.
const PADDING: u32 = 5;
const BUILD_ATTR: &str = "data-build-order=\"";

/// The colours of the verdicts (shields.io's palette).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Passed,
    Broken,
    Failed,
    NoTests,
}

impl Color {
    pub fn hex(self) -> &'static str {
        match self {
            Self::Passed => "#4c1",
            Self::Broken => "#fe7d37",
            Self::Failed => "#e05d44",
            Self::NoTests => "#9f9f9f",
        }
    }
}

/// What a badge says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    pub label: String,
    pub message: String,
    pub color: Color,
}

impl Badge {
    /// The badge of a run: its verdict (`summary::status`) as the colour,
    /// its pass rate and failures as the message. `leg`: the matrix leg's
    /// label, for a leg's badge.
    pub fn of_run(stats: &Stats, gate: Option<&QualityGate>, leg: Option<&str>) -> Self {
        let label = match leg {
            Some(leg) => format!("{LABEL} · {leg}"),
            None => LABEL.to_string(),
        };
        let rate = pass_percent(stats);
        // None only when no test ran: then it passed (all skipped).
        let passed = |rest: &str| match rate {
            Some(r) => format!("{r}% passed{rest}"),
            None => "passed".to_string(),
        };
        let (message, color) = match status(stats, gate) {
            QUALITY_GATE_FAILED => ("quality gate failed".to_string(), Color::Failed),
            "failed" => {
                let broken = match stats.broken {
                    0 => String::new(),
                    n => format!(" · {n} broken"),
                };
                let rest = format!(" · {} failed{broken}", stats.failed);
                (passed(&rest), Color::Failed)
            }
            "broken" => (
                passed(&format!(" · {} broken", stats.broken)),
                Color::Broken,
            ),
            "no-tests" => ("no tests".to_string(), Color::NoTests),
            _ => (passed(""), Color::Passed),
        };
        Self {
            label,
            message,
            color,
        }
    }

    /// The SVG, saying it shows build `build_order`.
    pub fn svg(&self, build_order: u64) -> String {
        let label = clean(&self.label);
        let message = clean(&self.message);
        let (lt, mt) = (text_width(&label), text_width(&message));
        // Whole pixels: the text's width rounded up, plus the padding.
        let lw = lt.div_ceil(10) + 2 * PADDING;
        let mw = mt.div_ceil(10) + 2 * PADDING;
        let w = lw + mw;
        let title = escape(&format!("{label}: {message}"));
        let color = self.color.hex();
        let mut svg = format!(
            concat!(
                r##"<svg xmlns="http://www.w3.org/2000/svg" {attr}{build}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{title}">"##,
                r##"<title>{title}</title>"##,
                r##"<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>"##,
                r##"<clipPath id="r"><rect width="{w}" height="{h}" rx="3" fill="#fff"/></clipPath>"##,
                r##"<g clip-path="url(#r)"><rect width="{lw}" height="{h}" fill="#555"/><rect x="{lw}" width="{mw}" height="{h}" fill="{color}"/><rect width="{w}" height="{h}" fill="url(#s)"/></g>"##,
                r##"<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110">"##,
            ),
            w = w,
            h = HEIGHT,
            title = title,
            attr = BUILD_ATTR,
            build = build_order,
            lw = lw,
            mw = mw,
            color = color,
        );
        // Text at ten times the size, scaled down: finer positions.
        text(&mut svg, lw * 5, lt, &label);
        text(&mut svg, lw * 10 + mw * 5, mt, &message);
        svg.push_str("</g></svg>\n");
        svg
    }
}

/// A text and its shadow, centred on `x` (tenths of a px), `width` wide.
fn text(svg: &mut String, x: u32, width: u32, text: &str) {
    let text = escape(text);
    svg.push_str(&format!(
        r##"<text aria-hidden="true" x="{x}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="{width}">{text}</text><text x="{x}" y="140" transform="scale(.1)" textLength="{width}">{text}</text>"##
    ));
}

/// The build number a badge says it shows; None for a file that is not a
/// badge of ours.
pub fn build_order_of(svg: &[u8]) -> Option<u64> {
    // Where `svg` writes it: in the first tag, before any text.
    let head = &svg[..svg.len().min(200)];
    let at = head
        .windows(BUILD_ATTR.len())
        .position(|w| w == BUILD_ATTR.as_bytes())?;
    let rest = &head[at + BUILD_ATTR.len()..];
    let digits = &rest[..rest.iter().position(|&b| b == b'"')?];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Passed among the tests that ran, in whole percent, rounded down (so 100
/// means every test that ran passed); None when none ran.
pub fn pass_percent(stats: &Stats) -> Option<u64> {
    let ran = u128::from(stats.passed) + u128::from(stats.failed) + u128::from(stats.broken);
    (ran > 0).then(|| (u128::from(stats.passed) * 100 / ran) as u64)
}

/// A text as drawn: control characters as spaces, bidirectional controls
/// dropped (they would reorder what the badge shows), what XML cannot hold
/// replaced, blanks folded and trimmed, cut at `MAX_CHARS`.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4 * MAX_CHARS));
    let mut chars = 0;
    for c in text.chars() {
        let c = match c {
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                continue;
            }
            '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            c if c.is_control() || c.is_whitespace() => ' ',
            c => c,
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        if chars == MAX_CHARS {
            let kept = out.trim_end().len();
            out.truncate(kept);
            out.push('…');
            return out;
        }
        out.push(c);
        chars += 1;
    }
    let kept = out.trim_end().len();
    out.truncate(kept);
    out
}

/// `&`, `<`, `>`, `"` and `'` as references.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Advance widths of DejaVu Sans at 11 px, in tenths of a px, of ' '..='~'.
const ASCII_WIDTHS: [u8; 95] = [
    35, 44, 51, 92, 70, 105, 86, 30, 43, 43, 55, 92, 35, 40, 35, 37, // ' '..'/'
    70, 70, 70, 70, 70, 70, 70, 70, 70, 70, // '0'..'9'
    37, 37, 92, 92, 92, 58, 110, // ':'..'@'
    75, 76, 77, 85, 70, 63, 85, 83, 32, 32, 72, 61, 95, 82, 87, 66, 87, 76, 70, 67, 81, 75, 109,
    75, 67, 75, // 'A'..'Z'
    43, 37, 43, 92, 55, 55, // '['..'`'
    67, 70, 61, 70, 68, 39, 70, 70, 31, 31, 64, 31, 107, 70, 67, 70, 70, 45, 57, 43, 70, 65, 90,
    65, 65, 58, // 'a'..'z'
    70, 37, 70, 92, // '{'..'~'
];

/// A text's width at 11 px, in tenths of a px: the table for ASCII, the
/// width of an em for wide (East Asian, emoji) characters, none for
/// combining marks, and a broad letter's for the rest, so a badge is
/// rather too wide than cut.
pub fn text_width(text: &str) -> u32 {
    text.chars().map(char_width).sum()
}

fn char_width(c: char) -> u32 {
    match c {
        ' '..='~' => u32::from(ASCII_WIDTHS[c as usize - 0x20]),
        '·' => 35,
        '\u{0300}'..='\u{036f}' | '\u{200b}'..='\u{200d}' | '\u{fe00}'..='\u{fe0f}' => 0,
        '\u{1100}'..='\u{115f}'
        | '\u{2e80}'..='\u{a4cf}'
        | '\u{ac00}'..='\u{d7a3}'
        | '\u{f900}'..='\u{faff}'
        | '\u{fe30}'..='\u{fe4f}'
        | '\u{ff00}'..='\u{ff60}'
        | '\u{ffe0}'..='\u{ffe6}'
        | '\u{2026}'
        | '\u{1f000}'..='\u{1faff}'
        | '\u{20000}'..='\u{3fffd}' => 110,
        _ => 80,
    }
}

/// Keys named like a badge that no publish of ours wrote: a badge lies
/// beside its branch's or leg's `latest.json`. Public badges would open
/// these too (an older version's report file, another tool's copy), so
/// they are refused until removed.
pub fn strays<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let keys: std::collections::HashSet<&str> = keys.into_iter().collect();
    let mut strays: Vec<String> = keys
        .iter()
        .filter_map(|k| {
            k.strip_suffix(FILE)
                .filter(|f| f.is_empty() || f.ends_with('/'))
                .map(|f| (k, f))
        })
        .filter(|(_, folder)| !keys.contains(format!("{folder}latest.json").as_str()))
        .map(|(k, _)| k.to_string())
        .collect();
    strays.sort();
    strays
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality_gate::{QualityGate, RuleResult};
    use serde_json::Value;

    fn stats(passed: u64, failed: u64, broken: u64, skipped: u64) -> Stats {
        Stats {
            passed,
            failed,
            broken,
            skipped,
            unknown: 0,
            total: passed + failed + broken + skipped,
        }
    }

    fn parse(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}:\n{svg}"))
    }

    fn width(svg: &str) -> u32 {
        parse(svg)
            .root_element()
            .attribute("width")
            .unwrap()
            .parse()
            .unwrap()
    }

    #[test]
    fn the_message_says_the_verdict() {
        let cases = [
            (stats(98, 2, 0, 5), "98% passed · 2 failed", Color::Failed),
            (
                stats(7, 2, 1, 0),
                "70% passed · 2 failed · 1 broken",
                Color::Failed,
            ),
            (stats(19, 0, 1, 0), "95% passed · 1 broken", Color::Broken),
            (stats(120, 0, 0, 3), "100% passed", Color::Passed),
            // 999 of 1,000 is not 100%.
            (stats(999, 1, 0, 0), "99% passed · 1 failed", Color::Failed),
            (stats(0, 0, 0, 4), "passed", Color::Passed),
            (stats(0, 0, 0, 0), "no tests", Color::NoTests),
            (stats(0, 3, 0, 0), "0% passed · 3 failed", Color::Failed),
        ];
        for (s, message, color) in cases {
            let b = Badge::of_run(&s, None, None);
            assert_eq!((b.message.as_str(), b.color), (message, color), "{s:?}");
            assert_eq!(b.label, "tests");
        }
        let huge = Stats {
            passed: u64::MAX,
            failed: u64::MAX,
            ..Stats::default()
        };
        let b = Badge::of_run(&huge, None, None);
        assert!(b.message.starts_with("50% passed · "), "{}", b.message);
    }

    #[test]
    fn a_failed_quality_gate_is_the_message() {
        let gate = QualityGate {
            rules: vec![RuleResult {
                rule: "maxFailures".into(),
                success: false,
                message: String::new(),
                actual: Value::Null,
                expected: Value::Null,
            }],
        };
        let b = Badge::of_run(&stats(10, 0, 0, 0), Some(&gate), Some("py=3.12"));
        assert_eq!(b.message, "quality gate failed");
        assert_eq!(b.color, Color::Failed);
        assert_eq!(b.label, "tests · py=3.12");
    }

    #[test]
    fn the_svg_is_a_sized_badge_made_of_nothing_from_elsewhere() {
        let svg = Badge::of_run(&stats(98, 2, 0, 0), None, None).svg(42);
        let doc = parse(&svg);
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        assert_eq!(root.attribute("height"), Some("20"));
        assert_eq!(root.attribute("role"), Some("img"));
        let title = root.children().find(|n| n.has_tag_name("title")).unwrap();
        assert_eq!(title.text(), Some("tests: 98% passed · 2 failed"));
        // Each text's width, rounded up, plus 10 px of padding.
        assert_eq!(text_width("tests"), 268);
        assert_eq!(text_width("98% passed · 2 failed"), 1185);
        assert_eq!(width(&svg), 37 + 129);
        for node in doc.descendants() {
            let name = node.tag_name().name();
            assert!(!["script", "foreignObject", "image", "a", "style", "use"].contains(&name));
            for a in node.attributes() {
                assert!(!a.name().starts_with("on"), "{}", a.name());
                assert!(a.name() != "href", "{svg}");
            }
        }
        // The namespace is the one URL.
        assert_eq!(svg.matches("http").count(), 1, "{svg}");
        assert!(!svg.contains("@import") && !svg.contains("url(http"));
        assert_eq!(build_order_of(svg.as_bytes()), Some(42));
    }

    #[test]
    fn the_badge_grows_with_its_text() {
        let svg = |label: &str, message: &str| {
            Badge {
                label: label.into(),
                message: message.into(),
                color: Color::Passed,
            }
            .svg(1)
        };
        let short = width(&svg("tests", "passed"));
        assert!(width(&svg("tests · python-version=3.12", "passed")) > short + 100);
        assert!(width(&svg("tests", "98% passed · 20 failed")) > short);
        assert!(width(&svg("tests", "WWWWWW")) > width(&svg("tests", "iiiiii")));
        assert!(width(&svg("tests", "テスト")) > width(&svg("tests", "abc")));
        // Cut, not endless.
        let long = "x".repeat(10_000);
        assert!(width(&svg(&long, &long)) < 2 * (MAX_CHARS as u32 * 9 + 30));
    }

    #[test]
    fn hostile_text_is_escaped_and_cleaned() {
        let b = Badge {
            label: r#"<script>alert("x")</script> & 'y'"#.into(),
            message: "a]]></text><foreignObject/>\u{0}\u{1b}[31m\u{202e}gnp.exe\u{ffff}".into(),
            color: Color::Failed,
        };
        let svg = b.svg(3);
        assert!(!svg.contains("<script") && !svg.contains("<foreignObject"));
        let doc = parse(&svg);
        let texts: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(texts[1], r#"<script>alert("x")</script> & 'y'"#);
        assert_eq!(texts[3], "a]]></text><foreignObject/> [31mgnp.exe\u{fffd}");
        assert_eq!(doc.descendants().filter(|n| n.is_element()).count(), 16);
    }

    #[test]
    fn only_our_badges_say_their_build() {
        assert_eq!(build_order_of(b"<svg/>"), None);
        assert_eq!(build_order_of(b"\xff\xfe"), None);
        assert_eq!(build_order_of(br#"<svg data-build-order="">"#), None);
        assert_eq!(build_order_of(br#"<svg data-build-order="-1">"#), None);
        assert_eq!(
            build_order_of(br#"<svg data-build-order="99999999999999999999999">"#),
            None
        );
        assert_eq!(build_order_of(br#"<svg data-build-order="7">"#), Some(7));
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = String> {
            prop_oneof![any::<String>(), "[<>&\"' a-z/!\\[\\]-]{0,90}", "\\PC{0,80}",]
        }

        proptest! {
            /// Whatever the label and message, the badge parses as XML with
            /// the same elements, and its texts are the cleaned inputs.
            #[test]
            fn any_text_makes_well_formed_xml(label in text(), message in text(), build in any::<u64>()) {
                let svg = Badge { label: label.clone(), message: message.clone(), color: Color::Passed }.svg(build);
                let doc = roxmltree::Document::parse(&svg).map_err(|e| TestCaseError::fail(format!("{e}: {svg}")))?;
                let elements: Vec<&str> = doc.descendants().filter(|n| n.is_element()).map(|n| n.tag_name().name()).collect();
                prop_assert_eq!(elements, ["svg", "title", "linearGradient", "stop", "stop", "clipPath", "rect", "g", "rect", "rect", "rect", "g", "text", "text", "text", "text"]);
                let title = doc.descendants().find(|n| n.has_tag_name("title")).and_then(|n| n.text()).unwrap_or_default().to_string();
                prop_assert_eq!(title, format!("{}: {}", clean(&label), clean(&message)));
                // Every '<' is one of ours: one per tag written.
                prop_assert_eq!(svg.matches('<').count(), 26);
                prop_assert_eq!(build_order_of(svg.as_bytes()), Some(build));
                prop_assert!(clean(&label).chars().count() <= MAX_CHARS + 1);
            }
        }
    }

    #[test]
    fn badges_beside_a_pointer_are_ours_and_the_rest_are_strays() {
        let keys = [
            "reports/shop/main/latest.json",
            "reports/shop/main/badge.svg",
            "reports/shop/main/variants/py/latest.json",
            "reports/shop/main/variants/py/badge.svg",
            "reports/shop/main/42-1/badge.svg",
            "reports/shop/main/latest/badge.svg",
            "reports/shop/main/42-1/data/xbadge.svg",
            "badge.svg",
        ];
        assert_eq!(
            strays(keys),
            [
                "badge.svg",
                "reports/shop/main/42-1/badge.svg",
                "reports/shop/main/latest/badge.svg"
            ]
        );
    }
}
