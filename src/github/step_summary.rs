//! The Markdown job summary (`GITHUB_STEP_SUMMARY`): status, counts,
//! duration, links and up to ten failed tests. Every value from tests or
//! users is escaped and shortened, so the summary renders as intended and
//! stays far below GitHub's 1 MiB limit per step.

use crate::model::changes::Changes;
use crate::model::quality_gate::QualityGate;
use crate::model::summary::{PublishSummary, QUALITY_GATE_FAILED};
pub use crate::report::summary::human_duration as duration;

/// The report links, signed when there is a key; on a site that opens only
/// with signed links and no key, a note instead of links that would ask for
/// access.
fn links_line(s: &PublishSummary) -> String {
    if s.private_without_links() {
        return format!(
            "> This site opens only with signed links, and this job has no access key, so no links are posted. Pass the `access-key` input (the key `allure-host infra setup` printed), or make a link with `allure-host share`. Run {}, build #{}.\n",
            md(&s.run_id, MAX_NAME),
            s.build_order
        );
    }
    let u = s.reader_urls();
    let latest = if s.variant.is_some() {
        format!(
            "[Latest of this leg]({}) · [Latest of each leg]({})",
            link(u.latest),
            link(u.branch_latest)
        )
    } else {
        format!("[Latest report]({})", link(u.latest))
    };
    let until = s
        .links
        .as_ref()
        .map(|l| {
            format!(
                " · links open until {}",
                l.expires.replace('T', " ").replace('Z', " UTC")
            )
        })
        .unwrap_or_default();
    format!(
        "[Report of this run]({}) · {latest} · [All runs]({}) · run {}, build #{}{until}\n",
        link(u.run),
        link(u.runs_index),
        md(&s.run_id, MAX_NAME),
        s.build_order
    )
}

/// GitHub refuses a step summary over 1 MiB.
pub const MAX_BYTES: usize = 1024 * 1024;
const MAX_NAME: usize = 200;
const MAX_MESSAGE: usize = 300;

/// Turns test and user text into Markdown that shows it as text: `md`, or
/// a forge's stricter variant (`sticky::gitlab_md`).
pub type Escape = fn(&str, usize) -> String;

/// Allure 3's quality gate: the verdict, and each rule with its message.
pub fn quality_gate(gate: &QualityGate) -> String {
    quality_gate_with(gate, md)
}

/// `quality_gate`, with text escaped by `md`.
pub fn quality_gate_with(gate: &QualityGate, md: Escape) -> String {
    let mut out = format!(
        "**Quality gate: {} {}**\n\n| | Rule | Result |\n|---|---|---|\n",
        icon(gate.verdict()),
        gate.verdict()
    );
    for r in &gate.rules {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            if r.success { "✅" } else { "❌" },
            md(&r.rule, MAX_NAME),
            md(&r.message, MAX_MESSAGE)
        ));
    }
    out.push('\n');
    out
}

pub fn icon(status: &str) -> &'static str {
    match status {
        "passed" => "✅",
        "failed" | QUALITY_GATE_FAILED => "❌",
        "broken" => "⚠️",
        _ => "➖",
    }
}

/// Escape Markdown and HTML so text shows as text, on one line, cut to `max`
/// characters: `@` is followed by a zero-width space (no one is mentioned), and
/// control and direction-override characters are dropped.
pub fn md(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(max).collect();
    if one_line.chars().count() > max {
        cut.push('…');
    }
    let mut out = String::with_capacity(cut.len());
    for c in cut.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '@' => out.push_str("@\u{200B}"),
            c if c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') => {}
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A link target for Markdown. Links are ours (built from validated
/// settings), but a URL may hold `)` or a space.
/// "Since the base branch": counts, then the tests of each list that has any.
pub fn changes(c: &Changes) -> String {
    changes_with(c, md)
}

/// `changes`, with text escaped by `md`.
pub fn changes_with(c: &Changes, md: Escape) -> String {
    let mut out = format!(
        "\n#### Since {} (run {})\n\n| New failures | Fixed | Still failing | Flaky |\n|---:|---:|---:|---:|\n| {} | {} | {} | {} |\n",
        md(&c.base_branch, MAX_NAME),
        md(&c.base_run, MAX_NAME),
        c.new_failures.total,
        c.fixed.total,
        c.still_failing.total,
        c.flaky.total
    );
    for (heading, list) in c.lists() {
        if list.total == 0 {
            continue;
        }
        if heading == "New failures" && !c.new_failures_on_base.is_empty() {
            out.push_str(&new_failures(c, md));
            continue;
        }
        let names: Vec<String> = list.tests.iter().map(|t| md(t, MAX_NAME)).collect();
        let more = list.total - list.tests.len();
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        out.push_str(&format!("\n**{heading}:** {}{more}\n", names.join(", ")));
    }
    out
}

/// Each listed new failure with what the base branch's history says of it.
fn new_failures(c: &Changes, md: Escape) -> String {
    let mut out = String::from("\n**New failures:**\n\n");
    for k in &c.new_failures_on_base {
        let mark = if k.flaky { " ⚠️" } else { "" };
        out.push_str(&format!(
            "- {}: {}{mark}\n",
            md(&k.name, MAX_NAME),
            md(&k.note, MAX_NAME)
        ));
    }
    let more = c.new_failures.total - c.new_failures_on_base.len();
    if more > 0 {
        out.push_str(&format!("- and {more} more\n"));
    }
    let flaky = c.new_failures.total - c.new_failures_not_flaky;
    if flaky > 0 {
        out.push_str(&format!(
            "\n{} of {} known flaky on {}.\n",
            flaky,
            c.new_failures.total,
            md(&c.base_branch, MAX_NAME)
        ));
    }
    out
}

/// The branch's test history: flaky count and the tests page.
fn tests_line(s: &PublishSummary) -> String {
    let Some(t) = &s.tests else {
        return String::new();
    };
    if s.private_without_links() {
        return String::new();
    }
    format!(
        "\n[Tests of this branch]({}): {} tests, {} flaky, {} newly slower · [flaky.json]({})\n",
        link(&t.page_url),
        t.tests,
        t.flaky,
        t.slower.len(),
        link(&t.flaky_url)
    )
}

pub fn link(u: &str) -> String {
    u.replace('(', "%28")
        .replace(')', "%29")
        .replace(' ', "%20")
}

pub fn render(s: &PublishSummary) -> String {
    let st = &s.stats;
    let status = s.status();
    let mut out = format!(
        "### {} Allure report: {} / {}{}\n\n",
        icon(status),
        md(&s.project, MAX_NAME),
        md(&s.branch, MAX_NAME),
        s.variant
            .as_deref()
            .map(|v| format!(" ({})", md(v, MAX_NAME)))
            .unwrap_or_default()
    );
    out.push_str("| Status | Passed | Failed | Broken | Skipped | Total | Duration |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    out.push_str(&format!(
        "| **{status}** | {} | {} | {} | {} | {} | {} |\n\n",
        st.passed,
        st.failed,
        st.broken,
        st.skipped,
        st.total,
        duration(s.duration_ms)
    ));
    if let Some(gate) = &s.quality_gate {
        out.push_str(&quality_gate(gate));
    }
    out.push_str(&links_line(s));
    out.push_str(&tests_line(s));
    if let Some(c) = &s.changes {
        out.push_str(&changes(c));
    }
    if !s.failed_tests.is_empty() {
        out.push_str(&format!(
            "\n#### Failed tests ({} of {})\n\n| Status | Test | Message |\n|---|---|---|\n",
            s.failed_tests.len(),
            s.failed_tests_total
        ));
        for t in &s.failed_tests {
            let name = match &t.full_name {
                Some(full) if full != &t.name => format!(
                    "{}<br><sub>{}</sub>",
                    md(&t.name, MAX_NAME),
                    md(full, MAX_NAME)
                ),
                _ => md(&t.name, MAX_NAME),
            };
            out.push_str(&format!(
                "| {} | {name} | {} |\n",
                t.status,
                md(t.message.as_deref().unwrap_or(""), MAX_MESSAGE)
            ));
        }
    }
    if !s.latest_moved {
        out.push_str("\n_Latest still shows a newer build; this run is in the runs index._\n");
    }
    // Bounded by construction (at most ~10 KB); the guard keeps the promise
    // even if the layout above grows.
    if out.len() > MAX_BYTES {
        let mut end = MAX_BYTES - 64;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push_str("\n\n_(summary truncated)_\n");
    }
    out
}

/// The job summary of the action's cleanup mode.
pub fn cleanup(lines: &[String]) -> String {
    let mut out = String::from("### Allure reports cleaned up\n\n");
    if lines.is_empty() {
        out.push_str("Nothing to remove.\n");
    }
    for line in lines {
        out.push_str(&format!("- {}\n", md(line, 300)));
    }
    out.push('\n');
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::stats::Stats;
    use crate::model::summary::{FailedTest, Timings};

    pub fn sample_changes() -> Changes {
        use crate::model::changes::Listed;
        let list = |names: &[&str], total| Listed {
            total,
            tests: names.iter().map(|n| n.to_string()).collect(),
        };
        Changes {
            base_branch: "main".into(),
            base_run: "8990-1-test".into(),
            new_failures: list(&["Checkout with `expired` card", "Login <admin>"], 2),
            fixed: list(&["Cart total in USD"], 1),
            still_failing: list(&[], 0),
            flaky: list(&["Search suggestions"], 1),
            new_failures_on_base: vec![
                crate::model::changes::Known {
                    name: "Checkout with `expired` card".into(),
                    note: "flaky on main (failed 4 of last 30)".into(),
                    flaky: true,
                },
                crate::model::changes::Known {
                    name: "Login <admin>".into(),
                    note: "passed the last 30 runs on main".into(),
                    flaky: false,
                },
            ],
            new_failures_not_flaky: 1,
        }
    }

    pub fn sample() -> PublishSummary {
        PublishSummary {
            run_id: "9001-1-py-3.12".into(),
            project: "payments".into(),
            branch: "feat/<b>|x".into(),
            build_order: 7,
            run_url: "https://r.example/reports/payments/feat~2Fx/9001-1/index.html".into(),
            latest_url:
                "https://r.example/reports/payments/feat~2Fx/variants/py-3.12/latest/index.html"
                    .into(),
            branch_latest_url: "https://r.example/reports/payments/feat~2Fx/latest/index.html"
                .into(),
            runs_index_url: "https://r.example/reports/payments/feat~2Fx/runs/index.html".into(),
            bucket: Some("b".into()),
            local_dir: None,
            run_prefix: "reports/payments/feat~2Fx/9001-1/".into(),
            latest_prefix: "reports/payments/feat~2Fx/latest/".into(),
            report_files: 50,
            report_size_bytes: 2_500_000,
            stats: Stats {
                passed: 5,
                failed: 1,
                broken: 1,
                skipped: 2,
                unknown: 0,
                total: 9,
            },
            duration_ms: 65_000,
            variant: Some("py=3.12".into()),
            job: Some("test".into()),
            failed_tests: vec![
                FailedTest {
                    name: "Checkout | charges *the* card".into(),
                    full_name: Some("tests.checkout#test_charge".into()),
                    status: "failed".into(),
                    message: Some("AssertionError: expected <201>\ngot 500".into()),
                },
                FailedTest {
                    name: "Order history".into(),
                    full_name: None,
                    status: "broken".into(),
                    message: None,
                },
            ],
            failed_tests_total: 2,
            changes: Some(sample_changes()),
            tests: None,
            latest_moved: true,
            pruned_runs: Vec::new(),
            steps: Vec::new(),
            access: None,
            links: None,
            requests: Default::default(),
            allure: Default::default(),
            quality_gate: None,
            previous: None,
            timings: Timings::default(),
        }
    }

    #[test]
    fn names_mention_no_one_and_cannot_turn_the_text_around() {
        assert_eq!(
            md("@octocat \u{202E}flaky\u{1b}[31m", 100),
            "@\u{200B}octocat flaky\\[31m"
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&sample()));
    }

    #[test]
    fn a_failed_quality_gate_leads_the_summary_with_each_rule() {
        use crate::model::quality_gate::{QualityGate, RuleResult};
        let rule = |name: &str, success, message: &str| RuleResult {
            rule: name.into(),
            success,
            message: message.into(),
            actual: 0.into(),
            expected: 0.into(),
        };
        let mut s = sample();
        s.quality_gate = QualityGate::new(vec![
            rule(
                "maxFailures",
                false,
                "The number of failed tests 2 exceeds 0",
            ),
            rule("minTestsCount", true, "The rule has been passed"),
        ]);
        assert_eq!(s.status(), QUALITY_GATE_FAILED);
        let md = render(&s);
        assert!(md.starts_with("### ❌ Allure report"), "{md}");
        assert!(md.contains("| **quality-gate-failed** | 5 | 1 |"), "{md}");
        assert!(md.contains("**Quality gate: ❌ failed**"), "{md}");
        assert!(md.contains("| ❌ | maxFailures | The number of failed tests 2 exceeds 0 |"));
        assert!(md.contains("| ✅ | minTestsCount | The rule has been passed |"));
        // Without a gate, the status is the tests' own.
        s.quality_gate = None;
        assert_eq!(s.status(), "failed");
        assert!(!render(&s).contains("Quality gate"));
    }

    #[test]
    fn hostile_and_huge_values_stay_small_and_escaped() {
        let mut s = sample();
        let evil = "<img src=x onerror=alert(1)>|".repeat(100_000);
        s.branch = evil.clone();
        s.failed_tests = (0..10)
            .map(|_| FailedTest {
                name: evil.clone(),
                full_name: Some(evil.clone()),
                status: "failed".into(),
                message: Some(evil.clone()),
            })
            .collect();
        let out = render(&s);
        assert!(out.len() < 32 * 1024, "{} bytes", out.len());
        assert!(!out.contains("<img"));
    }
}
