//! A failure's signature: the first line of its message with what changes
//! from run to run (numbers, hex, UUIDs, paths, quoted values) replaced by
//! placeholders, and a short hash of that, so one failure groups across runs.

use std::sync::LazyLock;

use regex_lite::Regex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest normalised message kept (characters).
pub const MESSAGE_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Failure {
    /// 12 hex digits of the normalised message's SHA-256.
    pub signature: String,
    /// The normalised first line, at most `MESSAGE_CHARS` characters.
    pub message: String,
}

/// The replacements, in order: a UUID holds hex and numbers, a path holds
/// numbers, a quoted value holds anything.
static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // Terminal colours (Allure 2 keeps them, Allure 3 strips them).
        (r"\x1b\[[0-9;?]*[ -/]*[@-~]", ""),
        (r#""[^"]*"|'[^']*'|`[^`]*`"#, "<str>"),
        (
            r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
            "<uuid>",
        ),
        (r"(?:[A-Za-z]:)?(?:[\w.\-~]*[/\\])+[\w.\-~]*", "<path>"),
        (r"(?i)\b0x[0-9a-f]+\b|\b[0-9a-f]*[0-9][0-9a-f]*[a-f][0-9a-f]*\b|\b[0-9a-f]*[a-f][0-9a-f]*[0-9][0-9a-f]*\b", "<hex>"),
        (r"[-+]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?", "<n>"),
    ]
    .into_iter()
    .map(|(re, to)| (Regex::new(re).expect("signature rules compile"), to))
    .collect()
});

/// The first non-blank line of `message`, normalised.
pub fn normalise(message: &str) -> String {
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut text = line.to_string();
    for (re, to) in RULES.iter() {
        text = re.replace_all(&text, *to).into_owned();
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    text.chars().take(MESSAGE_CHARS).collect()
}

/// The failure of a failing test's message; a test without a message has
/// the signature of an empty line.
pub fn of(message: Option<&str>) -> Failure {
    let message = normalise(message.unwrap_or(""));
    let digest = Sha256::digest(message.as_bytes());
    let signature = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    Failure { signature, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_changes_between_runs_is_replaced() {
        let cases = [
            (
                "AssertionError: assert 41 == 42",
                "AssertionError: assert <n> == <n>",
            ),
            (
                "expected 'alice' but got \"bob\"",
                "expected <str> but got <str>",
            ),
            (
                "order 3f2a1c9e-0b1d-4c55-9a53-000000000001 not found",
                "order <uuid> not found",
            ),
            (
                "FileNotFoundError: /tmp/pytest-12/data.csv missing",
                "FileNotFoundError: <path> missing",
            ),
            ("object at 0x7f3a2b1c0d", "object at <hex>"),
            ("commit deadbeef12 is bad", "commit <hex> is bad"),
            ("took 1.25s, limit 1,000 ms", "took <n>s, limit <n> ms"),
            ("Timeout  after\t30 s", "Timeout after <n> s"),
            ("\u{1b}[31mboom\u{1b}[0m 7", "boom <n>"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise(raw), want, "{raw}");
        }
    }

    #[test]
    fn only_the_first_non_blank_line_counts() {
        assert_eq!(
            normalise("\n  ValueError: bad 7\nTraceback line 12"),
            "ValueError: bad <n>"
        );
    }

    #[test]
    fn the_same_failure_groups_across_runs_and_another_does_not() {
        let a = of(Some("AssertionError: 500 != 200 for /api/v1/users/17"));
        let b = of(Some("AssertionError: 502 != 200 for /api/v1/users/99"));
        let c = of(Some("TimeoutError: no answer in 30 s"));
        assert_eq!(a, b);
        assert_ne!(a.signature, c.signature);
        assert_eq!(a.signature.len(), 12);
    }

    #[test]
    fn long_messages_are_cut_and_words_stay_whole_characters() {
        let long = "é".repeat(500);
        assert_eq!(normalise(&long).chars().count(), MESSAGE_CHARS);
        assert_eq!(of(None).message, "");
    }
}
