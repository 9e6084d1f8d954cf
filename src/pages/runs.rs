//! `runs/index.html` of a branch: how it is doing (KPI cards, a pass-rate
//! and failures chart, a duration chart), then every run, newest first,
//! with a filter, "only failing" and a leg filter (progressive).

use minijinja::context;
use serde::Serialize;

use super::chart::{self, Chart};
use super::{assets, duration, render, safe_link, when};
use crate::model::layout::Layout;
use crate::model::manifest::{Manifest, RunEntry};
use crate::model::stats::Stats;
use crate::report::summary::human_duration;

/// Runs the charts and the median duration look back over.
pub const TREND_RUNS: usize = 30;

#[derive(Debug, Serialize, PartialEq)]
pub struct Kpi {
    pub label: &'static str,
    pub value: String,
    pub class: &'static str,
    pub detail: Option<String>,
    pub detail_class: &'static str,
}

#[derive(Serialize)]
struct RunRow {
    run_id: String,
    segment: Option<String>,
    build_order: Option<u64>,
    time: String,
    status: &'static str,
    failing: bool,
    pass_rate: String,
    size: String,
    #[serde(flatten)]
    stats: Stats,
    duration: String,
    commit: Option<String>,
    context_link: Option<String>,
    context_text: Option<String>,
    /// "run 123, attempt 2" for GitHub Actions links, else "build".
    context_label: String,
    variant: Option<String>,
    meta: Vec<(String, String)>,
}

/// A short name for a CI link: GitHub run URLs name the workflow run.
fn context_label(url: &str) -> String {
    let Some((_, tail)) = url.split_once("/actions/runs/") else {
        return "build".into();
    };
    let mut parts = tail.split('/');
    let run = parts.next().unwrap_or_default();
    let attempt = match (parts.next(), parts.next()) {
        (Some("attempts"), Some(n)) => format!(", attempt {n}"),
        _ => String::new(),
    };
    if run.is_empty() || !run.bytes().all(|b| b.is_ascii_digit()) {
        return "build".into();
    }
    format!("run {run}{attempt}")
}

/// A leg's latest page relative to the branch folder.
pub(super) fn leg_page(leg: &str) -> String {
    format!("{}latest/index.html", Layout::leg_folder(leg))
}

fn row(r: &RunEntry) -> RunRow {
    let context = r.context_url.clone().unwrap_or_default();
    RunRow {
        run_id: r.run_id.clone(),
        segment: Layout::run_segment(&r.run_id).ok(),
        build_order: r.build_order,
        time: super::when_short(r.time),
        status: r.stats.status(),
        failing: r.stats.failing() > 0,
        pass_rate: r
            .stats
            .pass_rate()
            .map_or(String::new(), |p| format!("{p:.1}%")),
        size: human_size(r.size),
        stats: r.stats,
        duration: duration(r.duration_ms),
        commit: r.commit.clone(),
        context_link: safe_link(&context).map(str::to_string),
        context_text: (!context.is_empty()).then_some(context.clone()),
        context_label: context_label(&context),
        variant: r.variant.clone(),
        meta: r.meta_strings(),
    }
}

fn kpi(label: &'static str, value: String, class: &'static str) -> Kpi {
    Kpi {
        label,
        value,
        class,
        detail: None,
        detail_class: "",
    }
}

/// Report size for a table cell: `2.4 MB`.
fn human_size(bytes: u64) -> String {
    match bytes {
        0 => String::new(),
        b if b < 1024 * 1024 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Newest runs in a row with no failed or broken test.
fn healthy_streak(m: &Manifest) -> usize {
    m.runs.iter().take_while(|r| r.stats.failing() == 0).count()
}

/// Mean pass rate of the newest `n` runs that ran tests.
fn average_rate(m: &Manifest, n: usize) -> Option<f64> {
    let rates: Vec<f64> = m
        .runs
        .iter()
        .take(n)
        .filter_map(|r| r.stats.pass_rate())
        .collect();
    (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
}

fn median(mut v: Vec<u64>) -> Option<u64> {
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

/// The cards above the charts, from the newest run and the recent ones.
pub fn kpis(m: &Manifest) -> Vec<Kpi> {
    let Some(latest) = m.runs.first() else {
        return vec![kpi("Runs", "0".into(), "")];
    };
    let rate = latest.stats.pass_rate();
    let mut pass = kpi(
        "Pass rate",
        rate.map_or("–".into(), |r| format!("{r:.1}%")),
        latest.stats.status(),
    );
    if let (Some(now), Some(before)) = (rate, m.runs.get(1).and_then(|r| r.stats.pass_rate())) {
        let delta = now - before;
        pass.detail = Some(match delta {
            d if d > 0.05 => format!("▲ {d:.1} pts"),
            d if d < -0.05 => format!("▼ {:.1} pts", -d),
            _ => "= previous run".into(),
        });
        pass.detail_class = if delta > 0.05 {
            "up"
        } else if delta < -0.05 {
            "down"
        } else {
            ""
        };
    }
    let failing = latest.stats.failing();
    let recent: Vec<u64> = m
        .runs
        .iter()
        .take(TREND_RUNS)
        .filter_map(|r| r.duration_ms)
        .collect();
    let mut latest_card = kpi("Latest run", latest.run_id.clone(), "id");
    latest_card.detail = Some(when(latest.time));
    vec![
        pass,
        kpi(
            "Failed + broken",
            failing.to_string(),
            if failing > 0 { "failed" } else { "passed" },
        ),
        kpi("Tests", latest.stats.total.to_string(), ""),
        kpi("Runs", m.runs.len().to_string(), ""),
        kpi(
            "Avg pass rate, last 10",
            average_rate(m, 10).map_or("–".into(), |r| format!("{r:.1}%")),
            "",
        ),
        kpi("Healthy streak", plural(healthy_streak(m), "run"), ""),
        kpi(
            "Median duration",
            median(recent).map_or("–".into(), human_duration),
            "",
        ),
        latest_card,
    ]
}

/// The last `TREND_RUNS` runs, oldest first: (pass rate and failures, durations).
pub fn charts(m: &Manifest) -> (Chart, Chart) {
    let recent: Vec<&RunEntry> = m.runs.iter().take(TREND_RUNS).rev().collect();
    let rates: Vec<Option<f64>> = recent.iter().map(|r| r.stats.pass_rate()).collect();
    let failing: Vec<u64> = recent.iter().map(|r| r.stats.failing()).collect();
    let titles: Vec<String> = recent
        .iter()
        .map(|r| {
            format!(
                "{}: {} failed, {} broken",
                r.run_id, r.stats.failed, r.stats.broken
            )
        })
        .collect();
    let ms: Vec<Option<u64>> = recent.iter().map(|r| r.duration_ms).collect();
    (
        chart::trend(&rates, &failing, &titles),
        chart::durations(&ms, human_duration),
    )
}

/// `runs/index.html`: the branch at a glance, then the table of its runs.
pub fn runs(m: &Manifest) -> String {
    let rows: Vec<RunRow> = m.runs.iter().map(row).collect();
    let mut legs: Vec<String> = m.runs.iter().filter_map(|r| r.variant.clone()).collect();
    legs.sort_unstable();
    legs.dedup();
    let legs: Vec<(String, String)> = legs
        .into_iter()
        .map(|l| {
            let page = leg_page(&l);
            (l, page)
        })
        .collect();
    let (trend, durations) = charts(m);
    let shown = m.runs.len().min(TREND_RUNS);
    render(
        "runs.html",
        context! { project => &m.project, branch => &m.branch, revision => m.revision,
        updated => when(m.updated), runs => minijinja::value::Serde(&rows),
        kpis => minijinja::value::Serde(&kpis(m)), trend => minijinja::value::Serde(&trend),
        durations => minijinja::value::Serde(&durations), shown, legs,
        width => chart::WIDTH, height => chart::HEIGHT, assets => assets("../../") },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_run_links_name_the_run_and_attempt() {
        assert_eq!(
            context_label("https://github.com/o/r/actions/runs/42/attempts/2"),
            "run 42, attempt 2"
        );
        assert_eq!(
            context_label("https://github.com/o/r/actions/runs/42"),
            "run 42"
        );
        assert_eq!(context_label("https://jenkins.example/job/x/7/"), "build");
        assert_eq!(context_label("https://x/actions/runs/<b>/"), "build");
    }

    fn entry(id: &str, passed: u64, failed: u64, ms: u64) -> RunEntry {
        RunEntry {
            stats: Stats {
                passed,
                failed,
                total: passed + failed,
                ..Stats::default()
            },
            duration_ms: Some(ms),
            ..RunEntry::example(id)
        }
    }

    #[test]
    fn kpis_show_the_latest_run_and_its_change() {
        let mut m = Manifest::empty("p", "b");
        m.runs = vec![
            entry("3", 9, 1, 3000),
            entry("2", 8, 2, 1000),
            entry("1", 10, 0, 2000),
        ];
        let k = kpis(&m);
        assert_eq!(k[0].value, "90.0%");
        assert_eq!(k[0].detail.as_deref(), Some("▲ 10.0 pts"));
        assert_eq!(k[0].detail_class, "up");
        assert_eq!((k[1].value.as_str(), k[1].class), ("1", "failed"));
        assert_eq!(k[2].value, "10");
        assert_eq!(k[3].value, "3");
        assert_eq!(k[4].value, "90.0%", "the mean of 90, 80 and 100");
        assert_eq!(k[5].value, "0 runs", "the newest run has a failure");
        assert_eq!(
            k[6].value,
            human_duration(2000),
            "the median of 1, 2 and 3 s"
        );
        let (trend, durations) = charts(&m);
        assert_eq!(trend.bars.len(), 2, "runs without failures draw no bar");
        assert_eq!(trend.line.split(' ').count(), 3);
        assert!(!durations.line.is_empty());
    }

    #[test]
    fn an_empty_branch_has_one_card() {
        assert_eq!(kpis(&Manifest::empty("p", "b")).len(), 1);
    }
}
