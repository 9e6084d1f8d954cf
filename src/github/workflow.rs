//! Workflow commands (`::group::`, `::error::`, `::add-mask::`), escaped as
//! the runner expects so a message cannot end a command early or start one.

/// Escape a command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a command property value (`title=...`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn group(title: &str) -> String {
    format!("::group::{}", escape_data(title))
}

pub fn end_group() -> &'static str {
    "::endgroup::"
}

pub fn error(title: &str, message: &str) -> String {
    format!(
        "::error title={}::{}",
        escape_property(title),
        escape_data(message)
    )
}

pub fn warning(title: &str, message: &str) -> String {
    format!(
        "::warning title={}::{}",
        escape_property(title),
        escape_data(message)
    )
}

/// Ask the runner to hide `secret` in every later log line. Multi-line
/// secrets are masked line by line.
pub fn mask(secret: &str) -> Vec<String> {
    secret
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("::add-mask::{}", escape_data(l)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_cannot_inject_commands() {
        assert_eq!(
            error("a: b, c", "line1\n::add-mask::x 100%"),
            "::error title=a%3A b%2C c::line1%0A::add-mask::x 100%25"
        );
        assert_eq!(group("x\ny"), "::group::x%0Ay");
        assert_eq!(mask("ab\ncd"), ["::add-mask::ab", "::add-mask::cd"]);
        assert!(mask("  ").is_empty());
    }
}
