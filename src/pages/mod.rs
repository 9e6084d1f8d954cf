//! The small HTML pages we write beside the reports, rendered by minijinja
//! with HTML auto-escaping on, so names and meta values cannot inject markup.
//! Each page carries a revision so an older page never replaces a newer one.

use chrono::{DateTime, Utc};
use minijinja::{Environment, context};
use serde::Serialize;

mod assets;
pub mod chart;
mod runs;
pub mod tests;

pub use assets::files as asset_files;

use crate::model::layout::Layout;
use crate::model::legs::{self, LatestView};
use crate::model::manifest::{Manifest, RunEntry};
use crate::model::pointer::{BranchEntry, ProjectIndex};
use crate::model::stats::Stats;
use crate::report::summary::human_duration;

const STYLE: &str = include_str!("../../templates/style.css");

/// Our stylesheet, inlined as is (escaping would break its quoted names).
fn style() -> minijinja::Value {
    minijinja::Value::from_safe_string(STYLE.to_string())
}

/// HTML-escape what markup needs (`& < > " '`). minijinja's own escaping
/// also turns every `/` into `&#x2f;`, which inside quoted attributes and
/// text only weighs pages down (a runs page of 1,000 runs links 3,000 URLs).
fn escape_formatter(
    out: &mut minijinja::Output<'_>,
    state: &mut minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    let Some(text) = value.as_str().filter(|_| !value.is_safe()) else {
        return minijinja::escape_formatter(out, state, value);
    };
    if matches!(state.auto_escape(), minijinja::AutoEscape::None) {
        return minijinja::escape_formatter(out, state, value);
    }
    for c in text.chars() {
        let piece = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            _ => {
                write!(out, "{c}").map_err(minijinja::Error::from)?;
                continue;
            }
        };
        out.write_str(piece).map_err(minijinja::Error::from)?;
    }
    Ok(())
}

/// The templates, parsed once per process (a publish renders several pages,
/// a prune one per branch it changes).
static ENV: std::sync::LazyLock<Environment<'static>> = std::sync::LazyLock::new(env);

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_formatter(escape_formatter);
    // Names ending in .html are auto-escaped (minijinja's default policy).
    for (name, source) in [
        ("latest.html", include_str!("../../templates/latest.html")),
        ("runs.html", include_str!("../../templates/runs.html")),
        ("project.html", include_str!("../../templates/project.html")),
        ("moved.html", include_str!("../../templates/moved.html")),
        ("site.html", include_str!("../../templates/site.html")),
        ("tests.html", include_str!("../../templates/tests.html")),
    ] {
        env.add_template(name, source)
            .expect("bundled templates are valid");
    }
    env
}

fn render(name: &str, ctx: minijinja::Value) -> String {
    ENV.get_template(name)
        .and_then(|t| t.render(ctx))
        .expect("bundled templates render")
}

/// How a page reaches the project's `~assets/` folder, and the asset names.
fn assets(up_to_project: &str) -> minijinja::Value {
    context! { css => format!("{up_to_project}~assets/{}", assets::css_name()),
    js => format!("{up_to_project}~assets/{}", assets::js_name()) }
}

fn when(epoch: i64) -> String {
    let t = when_short(epoch);
    if t.is_empty() { t } else { format!("{t} UTC") }
}

/// A table cell's time: the column header says UTC.
fn when_short(epoch: i64) -> String {
    DateTime::<Utc>::from_timestamp(epoch, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn duration(ms: Option<u64>) -> String {
    ms.map(human_duration).unwrap_or_default()
}

/// Only http(s) URLs become links; anything else (javascript:, data:) is text.
pub fn safe_link(url: &str) -> Option<&str> {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url.trim())
}

fn meta_content<'h>(html: &'h [u8], name: &str) -> Option<&'h str> {
    let text = std::str::from_utf8(html).ok()?;
    let marker = format!(r#"<meta name="{name}" content=""#);
    let start = text.find(&marker)? + marker.len();
    let end = text[start..].find('"')? + start;
    Some(&text[start..end])
}

/// Read the revision a page carries.
pub fn revision_of(html: &[u8]) -> Option<u64> {
    meta_content(html, "allure-host-revision")?.parse().ok()
}

/// What a page's revision counts (absent: the page's own document). Latest
/// pages once counted build numbers and now count manifest revisions;
/// revisions of different bases are not compared.
pub fn basis_of(html: &[u8]) -> Option<&str> {
    meta_content(html, "allure-host-basis")
}

#[derive(Serialize)]
struct Target<'a> {
    run_id: &'a str,
    segment: String,
}

#[derive(Serialize)]
struct Choice<'a> {
    job: Option<&'a str>,
    variant: Option<&'a str>,
    /// The leg's own latest page, relative to the branch folder.
    leg_page: Option<String>,
    run_id: &'a str,
    segment: Option<String>,
    build_order: Option<u64>,
    time: String,
    status: &'static str,
    #[serde(flatten)]
    stats: Stats,
}

fn target(run: &RunEntry) -> Option<Target<'_>> {
    Some(Target {
        run_id: &run.run_id,
        segment: Layout::run_segment(&run.run_id).ok()?,
    })
}

fn choice(run: &RunEntry) -> Choice<'_> {
    Choice {
        job: run.job.as_deref(),
        variant: run.variant.as_deref(),
        leg_page: run.variant.as_deref().map(runs::leg_page),
        run_id: &run.run_id,
        segment: Layout::run_segment(&run.run_id).ok(),
        build_order: run.build_order,
        time: when(run.time),
        status: run.stats.status(),
        stats: run.stats,
    }
}

/// `latest/index.html` of the branch, derived from its manifest: straight to
/// the newest run when the branch has one trend line, else the newest run of
/// each job and leg. None while the branch has no run.
pub fn branch_latest(m: &Manifest) -> Option<String> {
    let (target, choices) = match legs::latest_view(m) {
        LatestView::Empty => return None,
        LatestView::Redirect(run) => (target(run), Vec::new()),
        LatestView::Choose(runs) => (None, runs.into_iter().map(choice).collect()),
    };
    let jobs = choices.iter().any(|c: &Choice| c.job.is_some());
    Some(render(
        "latest.html",
        context! { project => &m.project, branch => &m.branch, leg => None::<&str>,
        revision => m.revision, up => minijinja::Value::from_safe_string("../".into()), target => minijinja::value::Serde(&target),
        choices => minijinja::value::Serde(&choices), jobs, assets => assets("../../") },
    ))
}

/// `variants/<leg>/latest/index.html`: straight to the leg's newest run.
pub fn leg_latest(m: &Manifest, leg: &str) -> Option<String> {
    let target = target(legs::newest_of_leg(m, Some(leg))?)?;
    Some(render(
        "latest.html",
        context! { project => &m.project, branch => &m.branch, leg,
        revision => m.revision, up => minijinja::Value::from_safe_string("../../../".into()), target => minijinja::value::Serde(&target),
        assets => assets("../../../../") },
    ))
}

/// The root of a local site served by `allure-host serve`: its projects
/// (keys of their pages).
pub fn site_index(project_pages: &[String]) -> String {
    render(
        "site.html",
        context! { pages => project_pages.to_vec(), style => style() },
    )
}

/// A page that sends readers on to `href` (relative), with and without
/// JavaScript.
pub fn moved(href: &str, what: &str) -> String {
    render("moved.html", context! { href, what })
}

pub use runs::runs;

#[derive(Serialize)]
struct BranchRow<'a> {
    branch: &'a str,
    segment: &'a str,
    run_id: &'a str,
    build_order: u64,
    time: String,
    status: &'static str,
    failing: bool,
    pass_rate: String,
    spark: String,
    runs: u64,
    #[serde(flatten)]
    stats: Stats,
}

/// `<project>/index.html`: one row per branch, most recently active first,
/// with its health, pass rate and a sparkline of its recent runs.
pub fn project(p: &ProjectIndex) -> String {
    let mut branches: Vec<&BranchEntry> = p.branches.iter().collect();
    branches.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.branch.cmp(&b.branch)));
    let rows: Vec<BranchRow> = branches
        .into_iter()
        .map(|b| BranchRow {
            branch: &b.branch,
            segment: &b.segment,
            run_id: &b.run_id,
            build_order: b.build_order,
            time: when_short(b.time),
            status: b.stats.status(),
            failing: b.stats.failing() > 0,
            pass_rate: b
                .stats
                .pass_rate()
                .map_or("–".into(), |r| format!("{r:.1}%")),
            spark: chart::sparkline(&b.recent),
            runs: b.runs,
            stats: b.stats,
        })
        .collect();
    render(
        "project.html",
        context! { project => &p.project, revision => p.revision, updated => when(p.updated),
        branches => minijinja::value::Serde(&rows), assets => assets(""),
        spark_w => chart::SPARK_WIDTH as u32, spark_h => chart::SPARK_HEIGHT as u32 },
    )
}

#[cfg(test)]
mod page_tests {
    use super::*;
    use crate::model::manifest::RunEntry;
    use crate::model::pointer::BranchEntry;

    const EVIL: &str = "<script>alert('x')</script>\"";

    fn run(id: &str, context: &str) -> RunEntry {
        RunEntry {
            run_id: id.into(),
            time: 1_763_784_000,
            size: 1,
            files: 1,
            project: EVIL.into(),
            branch: EVIL.into(),
            run_url: String::new(),
            context_url: Some(context.into()),
            stats: Stats {
                passed: 1,
                failed: 2,
                broken: 3,
                skipped: 4,
                unknown: 0,
                total: 10,
            },
            duration_ms: Some(65_000),
            build_order: Some(7),
            commit: Some("0123456789abcdef".into()),
            variant: Some(EVIL.into()),
            job: None,
            expires: None,
            allure: Default::default(),
            quality_gate_failed: false,
            meta: [("team".to_string(), serde_json::Value::String(EVIL.into()))].into(),
        }
    }

    #[test]
    fn runs_page_escapes_everything_and_never_links_javascript() {
        let mut m = Manifest::empty(EVIL, EVIL);
        m.revision = 12;
        m.runs = vec![
            run(EVIL, "javascript:alert(1)"),
            run("42-1", "https://ci.example/42"),
        ];
        let html = runs(&m);
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("href=\"javascript:"));
        assert!(html.contains("javascript:alert(1)"), "shown as text");
        // minijinja escapes '/' too; browsers decode it inside attributes.
        assert!(html.contains(r#"href="https://ci.example/42""#));
        assert!(html.contains(r#"href="../42-1/index.html""#));
        assert!(html.contains("<code>0123456789</code>"));
        assert!(html.contains("1m 05s"));
        assert_eq!(revision_of(html.as_bytes()), Some(12));
    }

    #[test]
    fn latest_page_redirects_with_and_without_javascript() {
        let mut m = Manifest::empty("p", "feat/<x>");
        m.revision = 9;
        assert_eq!(branch_latest(&m), None, "no run, no page");
        let mut r = run("20261122-041200-abcdef", "");
        r.variant = None;
        m.runs = vec![r];
        let html = branch_latest(&m).unwrap();
        assert!(html.contains(
            r#"<meta http-equiv="refresh" content="0; url=../20261122-041200-abcdef/index.html">"#
        ));
        assert!(html.contains(
            r#"<meta name="allure-host-target" content="../20261122-041200-abcdef/index.html">"#
        ));
        assert!(
            !html.contains("<script>"),
            "no inline script: a strict CSP allows the page"
        );
        assert!(html.contains("feat/&lt;x&gt;"), "{html}");
        assert_eq!(revision_of(html.as_bytes()), Some(9));
        assert_eq!(basis_of(html.as_bytes()), Some("manifest"));
    }

    #[test]
    fn several_legs_get_a_choice_and_each_leg_its_own_redirect() {
        let mut m = Manifest::empty("p", "main");
        let leg = |id: &str, v: &str| {
            let mut r = run(id, "");
            r.variant = Some(v.into());
            r.job = Some("test".into());
            r
        };
        m.runs = vec![
            leg("2-b", "py=3.11"),
            leg("2-a", "py=3.10"),
            leg("1-a", "py=3.10"),
        ];
        let html = branch_latest(&m).unwrap();
        assert!(!html.contains("http-equiv=\"refresh\""), "{html}");
        assert!(html.contains(r#"href="../2-a/index.html""#));
        assert!(html.contains(r#"href="../2-b/index.html""#));
        assert!(!html.contains("1-a/index.html"));
        assert!(
            html.contains(r#"href="../variants/py-3.10/latest/index.html""#),
            "{html}"
        );
        let leg_page = leg_latest(&m, "py=3.10").unwrap();
        assert!(
            leg_page.contains(r#"content="0; url=../../../2-a/index.html""#),
            "{leg_page}"
        );
        assert_eq!(leg_latest(&m, "py=3.12"), None);
    }

    #[test]
    fn project_page_lists_branches() {
        let mut p = ProjectIndex::empty("shop");
        p.upsert(
            BranchEntry {
                branch: "feat/<b>".into(),
                segment: "feat~2F~3Cb~3E".into(),
                run_id: "1".into(),
                build_order: 1,
                time: 0,
                stats: Stats {
                    passed: 1,
                    total: 1,
                    ..Stats::default()
                },
                recent: vec![50.0, 100.0],
                runs: 2,
            },
            5,
        );
        let html = project(&p);
        assert!(html.contains(r#"href="feat~2F~3Cb~3E/latest/index.html""#));
        assert!(html.contains("feat/&lt;b&gt;"));
        assert_eq!(revision_of(html.as_bytes()), Some(1));
    }

    #[test]
    fn a_runs_page_of_1000_runs_stays_under_500_kb() {
        let mut m = Manifest::empty("payments", "main");
        m.runs = (0..1000)
            .map(|i| {
                let mut r = run(&format!("20261123-07{:04}-9338f6", i), "");
                r.context_url = Some(format!(
                    "https://github.com/acme/payments/actions/runs/1{i:09}/attempts/1"
                ));
                r.project = "payments".into();
                r.branch = "main".into();
                r.variant = Some("python-version=3.12".into());
                r.meta = [("team".to_string(), serde_json::Value::String("core".into()))].into();
                r
            })
            .collect();
        let size = runs(&m).len();
        assert!(size < 500_000, "{size} bytes");
    }

    #[test]
    fn a_project_page_of_500_branches_stays_under_300_kb() {
        let mut p = ProjectIndex::empty("payments");
        for i in 0..500 {
            p.upsert(
                BranchEntry {
                    branch: format!("feature/JIRA-{i}-some-descriptive-name"),
                    segment: format!("feature~2FJIRA-{i}-some-descriptive-name"),
                    run_id: "20261123-075540-9338f6".into(),
                    build_order: 120,
                    time: 1_763_784_000 + i,
                    stats: Stats {
                        passed: 900,
                        failed: 3,
                        broken: 1,
                        total: 910,
                        ..Stats::default()
                    },
                    recent: (0..20).map(|j| 90.0 + f64::from(j % 7)).collect(),
                    runs: 200,
                },
                1,
            );
        }
        let size = project(&p).len();
        assert!(size < 300_000, "{size} bytes");
    }

    #[test]
    fn safe_link_accepts_only_http() {
        assert_eq!(safe_link(" https://x "), Some("https://x"));
        assert_eq!(safe_link("JAVASCRIPT:alert(1)"), None);
        assert_eq!(safe_link("data:text/html,x"), None);
    }
}
