//! `allure-host tests --branch B`: what the branch's test history says,
//! read from the store: the flaky tests (default), the most failing, the
//! slowest, the newly slower or the latest run's new failures, as a table
//! or JSON, so a test runner can skip or retry known-flaky tests.

use anyhow::{Result, bail};

use crate::cli::{TestsArgs, TestsList};
use crate::commands::site;
use crate::model::layout::Layout;
use crate::model::test_board::{self, Row, Scored};
use crate::output::Output;
use crate::state;

pub async fn run(args: &TestsArgs, out: &Output) -> Result<bool> {
    if args.site.all_projects {
        bail!(
            "tests reads one branch of one project: drop --all-projects and name the project with --project"
        );
    }
    let site = site::open(&args.site, false, out).await?;
    let project = &site.projects[0];
    let segment = Layout::branch_segment_of(&args.branch)?;
    let layout = Layout::from_segments(&site.settings.place.prefix, project, &segment)?;
    let Some(history) = state::test_history::read(&site.store, &layout).await? else {
        bail!(
            "branch {:?} of project {project:?} has no test history at {}: publish to it with --test-history above 0 (the default keeps 50 runs)",
            args.branch,
            site.store.location(&layout.test_history())
        );
    };
    let board = test_board::board(&history, &history.thresholds, args.limit);
    let rows: Vec<Scored> = pick(&board, args.chosen()).iter().map(Scored::of).collect();
    if args.json {
        out.json(&serde_json::to_value(&rows)?)?;
    } else {
        out.tests(args.chosen().heading(), &rows, board.tests);
    }
    Ok(true)
}

fn pick(board: &test_board::Board, list: TestsList) -> &[Row] {
    match list {
        TestsList::Flaky => &board.flakiest,
        TestsList::Failing => &board.failing,
        TestsList::Slowest => &board.slowest,
        TestsList::Slower => &board.slower,
        TestsList::NewFailures => &board.new_failures,
    }
}
