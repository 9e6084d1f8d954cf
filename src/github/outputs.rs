//! Step outputs, appended to the `GITHUB_OUTPUT` file in the multi-line form
//! `name<<DELIM` ... `DELIM` with a random delimiter, so no value (a branch
//! name, a URL) can end its entry early or forge another output.

use std::path::Path;

use anyhow::Result;

/// A delimiter that occurs in none of the values.
pub fn delimiter(values: &[&str]) -> String {
    loop {
        let d = format!(
            "ghadelimiter_{:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..)
        );
        if values.iter().all(|v| !v.contains(&d)) {
            return d;
        }
    }
}

/// The text appended to the outputs file.
pub fn render(outputs: &[(&str, String)], delimiter: &str) -> String {
    let mut out = String::new();
    for (name, value) in outputs {
        out.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    out
}

/// Append `outputs` to `path` in one write.
pub fn append(path: &Path, outputs: &[(&str, String)]) -> Result<()> {
    let values: Vec<&str> = outputs.iter().map(|(_, v)| v.as_str()).collect();
    super::append_file(path, &render(outputs, &delimiter(&values)), "GITHUB_OUTPUT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_random_and_absent_from_values() {
        let a = delimiter(&["x"]);
        let b = delimiter(&["x"]);
        assert_ne!(a, b);
        assert!(a.starts_with("ghadelimiter_") && a.len() == 13 + 32);
    }

    #[test]
    fn snapshot() {
        let text = render(
            &[
                (
                    "run-url",
                    "https://d1.cloudfront.net/reports/p/main/1-1/index.html".into(),
                ),
                ("status", "failed".into()),
                ("branch", "evil\nstatus=passed".into()),
            ],
            "ghadelimiter_TEST",
        );
        insta::assert_snapshot!(text);
    }
}
