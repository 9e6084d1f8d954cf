//! `tests/index.html` of a branch: the lists of its test board (the latest
//! run's new failures, the flakiest, the most failing, the newly slower,
//! the slowest), each row with its score, a strip of its last outcomes
//! linking to each run's report at the test, and its failures. A search box
//! (progressive, `pages.js`) reads `history.json` beside the page only when
//! the reader types, and shows every matching test the same way.

use std::collections::BTreeMap;

use minijinja::context;
use serde::Serialize;

use super::{assets, render};
use crate::model::layout::Layout;
use crate::model::test_board::{Board, Cell, PAGE_ROWS, Row, STRIP};
use crate::model::test_history::Outcome;
use crate::model::test_scores::{MEDIAN_RUNS, SLOWER_BY_MS, Score, Thresholds};
use crate::report::summary::human_duration;

/// Failures shown per row; the rest are counted.
const FAILURES_SHOWN: usize = 3;
/// Matches the search shows at most.
const SEARCH_ROWS: usize = 200;

#[derive(Serialize)]
struct ListView<'b> {
    key: &'static str,
    title: &'static str,
    /// The list reached its length limit: more tests qualify.
    full: bool,
    rows: Vec<RowView<'b>>,
}

#[derive(Serialize)]
struct RowView<'b> {
    name: &'b str,
    /// The name in pieces a line may break after (`<wbr>` between them).
    name_parts: Vec<&'b str>,
    id: &'b str,
    line: &'b str,
    facts: Vec<Fact>,
    strip: Vec<CellView>,
    failures: Vec<FailureView<'b>>,
    more_failures: usize,
}

/// One piece of a row's score: its text and a class for its colour.
#[derive(Serialize, Debug, PartialEq)]
struct Fact {
    class: &'static str,
    text: String,
    /// What a short text means, on hover.
    title: Option<&'static str>,
}

#[derive(Serialize)]
struct CellView {
    class: &'static str,
    href: Option<String>,
    title: String,
}

#[derive(Serialize)]
struct FailureView<'b> {
    count: usize,
    message: &'b str,
    signature: &'b str,
    first_seen: &'b str,
}

/// A test's duration: `340 ms`, `2.4 s`, `1m 05s` (pages.js says the same).
fn ms(ms: u64) -> String {
    match ms {
        0..1000 => format!("{ms} ms"),
        1000..60_000 => format!("{:.1} s", (ms as f64 / 100.0).round() / 10.0),
        _ => human_duration(ms),
    }
}

fn percent(rate: f64) -> String {
    format!("{}%", (rate * 100.0).round() as u64)
}

/// What a score says, in words (pages.js says the same of a searched test).
fn facts(s: &Score) -> Vec<Fact> {
    let fact = |class, text: String| Fact {
        class,
        text,
        title: None,
    };
    let mut out = Vec::new();
    if s.new_failure {
        out.push(fact("b failed", "new failure".into()));
    }
    if s.flaky {
        out.push(fact("b flaky", "flaky".into()));
    }
    if s.rerun_flip {
        out.push(Fact {
            title: Some("failed and passed on one commit"),
            ..fact("b flaky", "re-run flip".into())
        });
    }
    if s.runs > 0 {
        out.push(fact(
            if s.failed > 0 { "failed" } else { "" },
            format!("failed {} of {}", s.failed, s.runs),
        ));
    }
    if s.runs > 1 {
        out.push(fact(
            if s.flaky { "flaky" } else { "" },
            format!("flip rate {}", percent(s.flip_rate)),
        ));
    }
    if let Some(latest) = s.latest_ms {
        out.push(fact("", format!("latest {}", ms(latest))));
    }
    if let Some(median) = s.median_ms {
        out.push(fact("", format!("median {}", ms(median))));
    }
    if let (true, Some(r)) = (s.slower, s.slower_ratio) {
        out.push(fact(
            "slower",
            format!("{:.1}× its median", (r * 10.0).round() / 10.0),
        ));
    }
    out
}

/// `tests/test_cart.py::TestCart::test_pay[visa]` in pieces ending after
/// `/`, `.`, `::`, `[` and `(`: long names wrap there rather than anywhere.
fn name_parts(name: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut chars = name.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let breaks = matches!(c, '/' | '.' | '[' | '(') || (c == ':' && next != Some(':'));
        if breaks && next.is_some() {
            parts.push(&name[start..i + c.len_utf8()]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&name[start..]);
    parts
}

fn outcome_class(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Broken => "broken",
        Outcome::Skipped => "skipped",
        Outcome::Unknown => "unknown",
        Outcome::Absent => "absent",
    }
}

fn cell(c: &Cell) -> CellView {
    let mut title = format!("{}: {}", c.run, c.outcome.word());
    if let (Some(d), true) = (c.ms, c.outcome != Outcome::Absent) {
        title.push_str(&format!(", {}", ms(d)));
    }
    CellView {
        class: outcome_class(c.outcome),
        href: c.link.as_ref().map(|l| format!("../{l}")),
        title,
    }
}

fn row(r: &Row) -> RowView<'_> {
    RowView {
        name: &r.name,
        name_parts: name_parts(&r.name),
        id: &r.id,
        line: &r.line,
        facts: facts(&r.score),
        strip: r.strip.iter().map(cell).collect(),
        failures: r
            .failures
            .iter()
            .filter(|f| f.count > 0)
            .take(FAILURES_SHOWN)
            .map(|f| FailureView {
                count: f.count,
                message: &f.message,
                signature: &f.signature,
                first_seen: &f.first_seen,
            })
            .collect(),
        more_failures: r
            .failures
            .iter()
            .filter(|f| f.count > 0)
            .count()
            .saturating_sub(FAILURES_SHOWN),
    }
}

/// The runs on the board whose folder is not their id, and that folder
/// (None: it has none to link to), for the search's links. pages.js encodes
/// any other id as a segment is encoded; a long id's shortened folder
/// carries a hash it does not make.
fn run_folders(board: &Board) -> BTreeMap<&str, Option<String>> {
    board
        .lists()
        .iter()
        .flat_map(|(_, _, rows)| rows.iter())
        .flat_map(|r| r.strip.iter())
        .map(|c| (c.run.as_str(), Layout::run_segment(&c.run).ok()))
        .filter(|(id, folder)| folder.as_deref() != Some(*id))
        .collect()
}

/// `<branch>/tests/index.html`, made from the branch's test board.
pub fn page(board: &Board, project: &str, branch: &str, thresholds: &Thresholds) -> String {
    let lists: Vec<ListView> = board
        .lists()
        .into_iter()
        .map(|(key, title, rows)| ListView {
            key,
            title,
            full: rows.len() >= PAGE_ROWS,
            rows: rows.iter().map(row).collect(),
        })
        .collect();
    let folders = serde_json::to_string(&run_folders(board)).expect("run folders serialise");
    render(
        "tests.html",
        context! { project, branch, revision => board.revision, tests => board.tests,
        lines => board.lines, flaky_total => board.flaky_total,
        lists => minijinja::value::Serde(&lists), page_rows => PAGE_ROWS, strip => STRIP,
        folders, flaky => thresholds.flaky, slower => thresholds.slower,
        median_runs => MEDIAN_RUNS, slower_by => SLOWER_BY_MS, search_rows => SEARCH_ROWS,
        flaky_percent => percent(thresholds.flaky), assets => assets("../../") },
    )
}

#[cfg(test)]
mod checks {
    use super::*;
    use crate::model::changes::{TestEntry, TestIndex};
    use crate::model::engine::Engine;
    use crate::model::signature;
    use crate::model::status::TestStatus;
    use crate::model::test_board::board;
    use crate::model::test_history::{LineKey, RunRef, TestHistory};
    use crate::pages::{basis_of, revision_of};

    const EVIL: &str = "<script>alert(1)</script>\"'";

    /// Twelve runs of one line: "alt" alternates, "breaks" fails from run
    /// 8, "slows" takes three times longer from run 10, EVIL passes, and
    /// run 12's id needs escaping in a folder name.
    fn history(job: Option<&str>) -> TestHistory {
        let mut h = TestHistory::default();
        for i in 1..=12u64 {
            let e = |id: &str, failing: bool, ms: u64| TestEntry {
                id: id.into(),
                name: id.into(),
                status: if failing {
                    TestStatus::Failed
                } else {
                    TestStatus::Passed
                },
                duration_ms: Some(ms),
                uid: Some(format!("u{i}")),
                failure: failing.then(|| signature::of(Some(&format!("boom {i} <b>")))),
                ..TestEntry::default()
            };
            let tests = vec![
                e("alt", i % 2 == 0, 50),
                e("breaks", i >= 8, 40),
                e("slows", false, if i >= 10 { 900 } else { 300 }),
                e(EVIL, false, 10),
            ];
            let run = RunRef {
                id: if i == 12 {
                    "12/a".into()
                } else {
                    format!("{i}-1")
                },
                build_order: i,
                commit: None,
                time: 0,
                allure: Engine::Allure2,
            };
            let key = LineKey { job, variant: None };
            h.record(key, run, &TestIndex::new(tests), 50);
        }
        h
    }

    fn html_of(h: &TestHistory) -> String {
        let th = Thresholds::default();
        page(&board(h, &th, PAGE_ROWS), "shop", "feat/<x>", &th)
    }

    /// The text of the section of list `key`.
    fn section<'h>(html: &'h str, key: &str) -> &'h str {
        let start = html
            .find(&format!(r#"<section class="list" id="{key}">"#))
            .unwrap_or_else(|| panic!("no list {key}"));
        let end = html[start..].find("</section>").unwrap() + start;
        &html[start..end]
    }

    #[test]
    fn each_list_shows_its_rows_in_order() {
        let h = history(None);
        let b = board(&h, &Thresholds::default(), PAGE_ROWS);
        let html = html_of(&h);
        for (key, _, rows) in b.lists() {
            let text = section(&html, key).replace("<wbr>", "");
            let mut at = 0;
            for r in rows {
                let name = format!("<span class=\"name\">{}</span>", escaped(&r.name));
                let found = text[at..]
                    .find(&name)
                    .unwrap_or_else(|| panic!("{key}: {} out of order", r.name));
                at += found + name.len();
            }
            if rows.is_empty() {
                assert!(text.contains("None"), "{key} says it is empty");
            }
        }
        let slowest = section(&html, "slowest");
        assert!(slowest.find("slows").unwrap() < slowest.find("alt").unwrap());
        assert!(section(&html, "slower").contains("3.0× its median"));
        assert!(section(&html, "flakiest").contains("flip rate 100%"));
        assert!(section(&html, "failing").contains("failed 5 of 12"));
        assert!(html.contains("<b>4</b>"), "the test count");
    }

    fn escaped(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;")
    }

    #[test]
    fn cells_link_to_the_run_at_the_test() {
        let html = html_of(&history(None));
        let breaks = section(&html, "failing");
        assert!(
            breaks.contains(r#"href="../8-1/index.html#testresult/u8""#),
            "{breaks}"
        );
        assert!(breaks.contains(r#"title="8-1: failed, 40 ms""#));
        // A run whose id is not its folder links to its folder, and the
        // search is told so.
        assert!(breaks.contains(r#"href="../12~2Fa/index.html#testresult/u12""#));
        assert!(
            html.contains(r#"data-runs="{&quot;12/a&quot;:&quot;12~2Fa&quot;}""#),
            "only the run whose folder is not its id: {html}"
        );
    }

    #[test]
    fn failures_show_their_count_message_and_first_run() {
        let html = html_of(&history(None));
        let failing = section(&html, "failing");
        assert!(failing.contains("boom &lt;n&gt; &lt;b&gt;"), "{failing}");
        assert!(failing.contains("<b>5×</b>"));
        assert!(failing.contains("since 8-1"));
    }

    #[test]
    fn names_are_escaped_and_the_page_has_no_inline_script_or_handler() {
        let html = html_of(&history(None));
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(
            html.replace("<wbr>", "")
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;")
        );
        assert!(html.contains("feat/&lt;x&gt;"));
        // Every script element is an external file with an empty body.
        for (i, _) in html.match_indices("<script") {
            let tag_end = html[i..].find('>').unwrap() + i;
            assert!(html[i..tag_end].contains(" src="), "{}", &html[i..tag_end]);
            assert!(html[tag_end + 1..].starts_with("</script>"));
        }
        // No attribute named on…: ` on` + letters + `=` anywhere.
        let lower = html.to_ascii_lowercase();
        for (i, _) in lower.match_indices(" on") {
            let rest = &lower[i + 3..];
            let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            assert!(
                letters == 0 || !rest[letters..].starts_with('='),
                "an event handler at {}",
                &html[i..(i + 40).min(html.len())]
            );
        }
        assert!(!html.contains("style="), "no inline style");
    }

    #[test]
    fn the_page_carries_its_revision_and_basis_and_its_assets() {
        let h = history(None);
        let html = html_of(&h);
        assert_eq!(revision_of(html.as_bytes()), Some(h.revision));
        assert_eq!(basis_of(html.as_bytes()), Some("test-history"));
        let [(css, _), (js, _)] = crate::pages::asset_files();
        assert!(html.contains(&format!(r#"href="../../~assets/{css}""#)));
        assert!(html.contains(&format!(r#"src="../../~assets/{js}""#)));
        assert!(html.contains(r#"href="../runs/index.html""#));
        assert!(html.contains(r#"data-history="history.json""#));
    }

    #[test]
    fn the_line_is_named_only_when_there_are_several() {
        let html = html_of(&history(None));
        assert!(!html.contains(r#"class="line""#));
        let mut h = history(Some("unit"));
        let other = history(Some("e2e"));
        h.lines.extend(other.lines.into_iter().map(|mut l| {
            for r in &mut l.runs {
                r.id = format!("e2e-{}", r.id);
            }
            l
        }));
        let html = html_of(&h);
        assert!(html.contains(r#"<span class="line">unit</span>"#));
        assert!(html.contains(r#"<span class="line">e2e</span>"#));
    }

    #[test]
    fn the_runs_and_latest_pages_link_here() {
        use crate::model::manifest::{Manifest, RunEntry};
        let mut m = Manifest::empty("p", "main");
        let leg = |id: &str, v: &str| RunEntry {
            variant: Some(v.into()),
            build_order: Some(1),
            ..RunEntry::example(id)
        };
        m.runs = vec![leg("2-b", "py=3.11"), leg("2-a", "py=3.10")];
        // runs/index.html, latest/index.html (a choice of legs) and
        // variants/<leg>/latest/index.html, each to <branch>/tests/.
        assert!(crate::pages::runs(&m).contains(r#"href="../tests/index.html""#));
        let latest = crate::pages::branch_latest(&m).unwrap();
        assert!(!latest.contains("http-equiv=\"refresh\""));
        assert!(latest.contains(r#"href="../tests/index.html">Tests</a>"#));
        let leg_page = crate::pages::leg_latest(&m, "py=3.10").unwrap();
        assert!(leg_page.contains(r#"href="../../../tests/index.html""#));
    }

    #[test]
    fn an_empty_board_says_so() {
        let html = html_of(&TestHistory::default());
        for (key, _, _) in board(&TestHistory::default(), &Thresholds::default(), 1).lists() {
            assert!(section(&html, key).contains("None"));
        }
    }

    #[test]
    fn long_names_break_after_their_separators() {
        assert_eq!(
            name_parts("tests/test_cart.py::TestCart::test_pay[visa]"),
            [
                "tests/",
                "test_cart.",
                "py::",
                "TestCart::",
                "test_pay[",
                "visa]"
            ]
        );
        assert_eq!(name_parts("plain"), ["plain"]);
        assert_eq!(name_parts("ends."), ["ends."]);
        assert_eq!(name_parts(""), [""]);
    }

    #[test]
    fn durations_and_rates_read_as_pages_js_writes_them() {
        assert_eq!(ms(340), "340 ms");
        assert_eq!(ms(2_449), "2.4 s");
        assert_eq!(ms(2_450), "2.5 s");
        assert_eq!(ms(65_000), "1m 05s");
        assert_eq!(percent(0.125), "13%");
    }

    #[test]
    fn a_board_of_20000_tests_makes_a_bounded_page() {
        let mut h = TestHistory::default();
        for i in 0..20u64 {
            let tests: Vec<TestEntry> = (0..20_000)
                .map(|t| TestEntry {
                    id: format!("t{t}"),
                    name: format!("tests/test_module_{}.py::test_case_{t}", t % 97),
                    status: if (t + i) % 7 == 0 {
                        TestStatus::Failed
                    } else {
                        TestStatus::Passed
                    },
                    duration_ms: Some(t % 1000 + i),
                    uid: Some(format!("{t:016x}")),
                    failure: ((t + i) % 7 == 0)
                        .then(|| signature::of(Some("AssertionError: 1 != 2"))),
                    ..TestEntry::default()
                })
                .collect();
            let run = RunRef {
                id: format!("20261123-0755{i:02}-9338f6"),
                build_order: i,
                commit: None,
                time: 0,
                allure: Engine::Allure2,
            };
            h.record(
                LineKey {
                    job: None,
                    variant: None,
                },
                run,
                &TestIndex::new(tests),
                50,
            );
        }
        let size = html_of(&h).len();
        assert!(size < 1_000_000, "{size} bytes");
    }
}
