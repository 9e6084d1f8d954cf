//! Turning user-supplied names (project, branch, run id) into key segments.
//!
//! Rules: a segment is made only of `[A-Za-z0-9._~-]`; a name already made of
//! `[A-Za-z0-9._-]` (and not `.` or `..`) stays as it is; two different names
//! never share a segment. `~` is the escape character, so it never appears in
//! a name that stays as it is, which keeps the encoding injective.

use sha2::{Digest, Sha256};

/// Longest segment we emit. S3 keys are limited to 1024 bytes and local file
/// names to 255, so long names are shortened with a hash that keeps them unique.
pub const MAX_SEGMENT_LEN: usize = 120;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SegmentError {
    #[error("the {what} is empty; give a non-empty {what}")]
    Empty { what: &'static str },
}

fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

/// Encode `name` into a key segment. `what` names the field in errors.
pub fn encode(name: &str, what: &'static str) -> Result<String, SegmentError> {
    if name.is_empty() {
        return Err(SegmentError::Empty { what });
    }
    let plain = name.bytes().all(is_plain) && name != "." && name != "..";
    let encoded = if plain {
        name.to_string()
    } else {
        // Dots are escaped too when the whole name is "." or "..".
        let escape_dots = name == "." || name == "..";
        let mut out = String::with_capacity(name.len() * 3);
        for b in name.bytes() {
            if is_plain(b) && !(escape_dots && b == b'.') {
                out.push(b as char);
            } else {
                out.push_str(&format!("~{b:02X}"));
            }
        }
        out
    };
    if encoded.len() <= MAX_SEGMENT_LEN {
        return Ok(encoded);
    }
    // `~H` never comes out of escaping (escapes are `~` + two hex digits), so a
    // shortened segment can never equal an unshortened one.
    let digest = Sha256::digest(name.as_bytes());
    let hash: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    let mut keep = MAX_SEGMENT_LEN - 2 - hash.len();
    // Do not cut an escape sequence in half.
    let bytes = encoded.as_bytes();
    if bytes[keep - 1] == b'~' {
        keep -= 1;
    } else if bytes[keep - 2] == b'~' {
        keep -= 2;
    }
    Ok(format!("{}~H{hash}", &encoded[..keep]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        encode(s, "branch").unwrap()
    }

    #[test]
    fn plain_names_stay_as_they_are() {
        for name in ["main", "release-1.2", "feat_x", "a.b", "...", "v1.0.0-rc.1"] {
            assert_eq!(enc(name), name);
        }
    }

    #[test]
    fn unsafe_characters_are_escaped() {
        assert_eq!(enc("feat/x"), "feat~2Fx");
        assert_eq!(enc("feat~x"), "feat~7Ex");
        assert_eq!(enc("<script>"), "~3Cscript~3E");
        assert_eq!(enc("../x"), "..~2Fx");
        assert_eq!(enc("a b"), "a~20b");
        assert_eq!(enc("ünï"), "~C3~BCn~C3~AF");
    }

    #[test]
    fn dot_names_never_become_path_traversal() {
        assert_eq!(enc("."), "~2E");
        assert_eq!(enc(".."), "~2E~2E");
    }

    #[test]
    fn different_names_never_share_a_segment() {
        let names = [
            "feat/x", "feat-x", "feat~2Fx", "feat_x", "feat x", ".", "..", "~2E", "~", "~7E",
        ];
        let mut seen = std::collections::HashSet::new();
        for n in names {
            assert!(seen.insert(enc(n)), "collision for {n}");
        }
    }

    #[test]
    fn only_safe_characters_come_out() {
        for name in [
            "a/b/c",
            "<img src=x onerror=alert(1)>",
            "日本語",
            "\u{0}\n\t",
            "%2e%2e",
        ] {
            let seg = enc(name);
            assert!(
                seg.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b)),
                "{seg}"
            );
        }
    }

    #[test]
    fn long_names_are_shortened_uniquely() {
        let a = "b".repeat(300);
        let b = format!("{}c", "b".repeat(299));
        let (sa, sb) = (enc(&a), enc(&b));
        assert!(sa.len() <= MAX_SEGMENT_LEN && sb.len() <= MAX_SEGMENT_LEN);
        assert_ne!(sa, sb);
        assert!(sa.contains("~H"));
        let unicode = "ü".repeat(200);
        let su = enc(&unicode);
        assert!(su.len() <= MAX_SEGMENT_LEN, "{su}");
        // The cut never leaves half an escape behind.
        let before_hash = su.split("~H").next().unwrap();
        assert!(before_hash.split('~').skip(1).all(|esc| esc.len() >= 2));
    }

    #[test]
    fn empty_names_are_refused() {
        assert_eq!(
            encode("", "project"),
            Err(SegmentError::Empty { what: "project" })
        );
    }
}
