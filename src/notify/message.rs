//! What every chat message says, before any service's format: the facts of
//! a publish as short plain lines (pure). Each service module escapes them
//! for its own markup and fits them to its limits.

use crate::model::summary::PublishSummary;
use crate::report::summary::human_duration;

/// Characters of one test name in a message.
pub const NAME_CHARS: usize = 150;
/// Tests named per list; the summary itself keeps at most 10.
pub const LISTED: usize = 10;

/// A test named in a message, with what the base branch says of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub name: String,
    pub note: Option<String>,
}

/// A list of tests: the first few named, and how many in all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {
    pub total: usize,
    pub named: Vec<Named>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// "payments · main (py=3.12)".
    pub heading: String,
    /// `PublishSummary::status`: passed, failed, broken, no-tests, quality-gate-failed.
    pub status: &'static str,
    pub red: bool,
    /// "5 passed · 1 failed · 1 broken · 2 skipped · 9 tests in 1m 05s".
    pub counts: String,
    /// Percent of the tests that ran.
    pub pass_rate: Option<f64>,
    /// "since main" when compared with a base branch.
    pub base: Option<String>,
    pub new_failures: Option<List>,
    pub fixed: Option<List>,
    /// Flaky tests in the branch's test history.
    pub flaky: Option<usize>,
    /// "passed" / "failed", and each failed rule's message.
    pub gate: Option<(&'static str, Vec<String>)>,
    /// Run and latest links (signed where the site is private), or None
    /// when the site needs a signed link and the publish had no key.
    pub links: Option<Links>,
    /// Why it was sent (`notify-on`).
    pub reason: &'static str,
    /// Why there are no links, when there are none.
    pub no_links: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Links {
    pub run: String,
    pub latest: String,
    pub build: u64,
}

/// Text on one line: controls and direction overrides dropped, spaces
/// collapsed, cut to `max` characters with an ellipsis.
pub fn one_line(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let joined = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= max {
        return joined;
    }
    let mut cut: String = joined.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

impl Message {
    pub fn of(s: &PublishSummary, reason: &'static str) -> Self {
        let leg = s
            .variant
            .as_deref()
            .map(|v| format!(" ({})", one_line(v, 80)))
            .unwrap_or_default();
        let urls = s.reader_urls();
        Self {
            heading: format!(
                "{} · {}{leg}",
                one_line(&s.project, 80),
                one_line(&s.branch, 100)
            ),
            status: s.status(),
            red: s.red(),
            counts: counts(s),
            pass_rate: s.stats.pass_rate(),
            base: s
                .changes
                .as_ref()
                .map(|c| format!("since {}", one_line(&c.base_branch, 100))),
            new_failures: s.changes.as_ref().map(|c| List {
                total: c.new_failures.total,
                named: c
                    .new_failures
                    .tests
                    .iter()
                    .take(LISTED)
                    .map(|name| Named {
                        name: one_line(name, NAME_CHARS),
                        note: c
                            .new_failures_on_base
                            .iter()
                            .find(|k| &k.name == name)
                            .map(|k| one_line(&k.note, 120)),
                    })
                    .collect(),
            }),
            fixed: s.changes.as_ref().map(|c| List {
                total: c.fixed.total,
                named: c
                    .fixed
                    .tests
                    .iter()
                    .take(LISTED)
                    .map(|name| Named {
                        name: one_line(name, NAME_CHARS),
                        note: None,
                    })
                    .collect(),
            }),
            flaky: s.tests.as_ref().map(|t| t.flaky),
            gate: s.quality_gate.as_ref().map(|g| {
                let failed = g
                    .failed_rules()
                    .take(LISTED)
                    .map(|r| one_line(&format!("{}: {}", r.rule, r.message), 200))
                    .collect();
                (g.verdict(), failed)
            }),
            links: (!s.private_without_links() && web(urls.run) && web(urls.latest)).then(|| {
                Links {
                    run: urls.run.to_string(),
                    latest: urls.latest.to_string(),
                    build: s.build_order,
                }
            }),
            reason,
            no_links: match s.private_without_links() {
                true => {
                    "The site is private and this publish had no access key, so no link is shown."
                }
                false => "No link: the reports have no web address here (set cloudfront).",
            },
        }
    }

    /// Name half as many tests in each list; false when none is left to drop.
    pub fn name_fewer(&mut self) -> bool {
        let mut dropped = false;
        for list in [&mut self.new_failures, &mut self.fixed]
            .into_iter()
            .flatten()
        {
            if !list.named.is_empty() {
                list.named.truncate(list.named.len() / 2);
                dropped = true;
            }
        }
        dropped
    }

    /// "Failed", "Passed", "Quality gate failed", ...
    pub fn status_word(&self) -> &'static str {
        match self.status {
            "passed" => "Passed",
            "failed" => "Failed",
            "broken" => "Broken",
            "no-tests" => "No tests",
            _ => "Quality gate failed",
        }
    }

    /// One line for notifications and previews: "❌ Failed: payments · main".
    pub fn title(&self) -> String {
        let mark = match (self.red, self.status) {
            (true, _) => "❌",
            (false, "passed") => "✅",
            _ => "➖",
        };
        format!("{mark} {}: {}", self.status_word(), self.heading)
    }
}

/// A link a reader can open (an s3:// location is not one).
fn web(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

fn counts(s: &PublishSummary) -> String {
    let st = &s.stats;
    let mut parts = vec![format!("{} passed", st.passed)];
    for (n, word) in [
        (st.failed, "failed"),
        (st.broken, "broken"),
        (st.skipped, "skipped"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    format!(
        "{} · {} tests in {}",
        parts.join(" · "),
        st.total,
        human_duration(s.duration_ms)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::step_summary::tests::sample;

    #[test]
    fn the_facts_of_a_failed_run_compared_with_main() {
        let m = Message::of(&sample(), "every publish");
        assert_eq!(m.heading, "payments · feat/<b>|x (py=3.12)");
        assert_eq!(m.status, "failed");
        assert!(m.red);
        assert_eq!(
            m.counts,
            "5 passed · 1 failed · 1 broken · 2 skipped · 9 tests in 1m 05s"
        );
        let new = m.new_failures.clone().unwrap();
        assert_eq!(new.total, 2);
        assert_eq!(
            new.named[0].note.as_deref(),
            Some("flaky on main (failed 4 of last 30)")
        );
        assert_eq!(m.base.as_deref(), Some("since main"));
        assert_eq!(m.links.as_ref().unwrap().build, 7);
        assert_eq!(m.title(), "❌ Failed: payments · feat/<b>|x (py=3.12)");
    }

    #[test]
    fn one_line_drops_controls_and_cuts() {
        assert_eq!(one_line("a\n\tb \u{202E}c\u{1b}", 10), "a b c");
        assert_eq!(one_line("abcdef", 4), "abc…");
        assert_eq!(one_line("abcd", 4), "abcd");
    }
}
