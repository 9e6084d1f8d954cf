//! Compare the run with the base branch's latest run of the same job and
//! leg (`--compare-to`, or the pull request's base in the action). A base
//! without a run to compare with is one line, not an error.

use anyhow::Result;

use super::prepare::Prepared;
use crate::model::changes::{self, Changes, TestIndex};
use crate::model::layout::Layout;
use crate::model::legs::Line;
use crate::output::Output;
use crate::settings::Settings;
use crate::state;

pub async fn compare(
    settings: &Settings,
    p: &Prepared,
    now: &TestIndex,
    out: &Output,
) -> Result<Option<Changes>> {
    let Some(base_branch) = &settings.compare_to else {
        return Ok(None);
    };
    let base = Layout::new(&settings.prefix, &settings.project, base_branch)?;
    let line = Line {
        job: settings.job.as_deref(),
        variant: settings.variant.as_deref(),
    };
    let Some(found) = state::test_index::read_base(&p.store, &base, line).await? else {
        out.note(format_args!(
            "Nothing to compare with: branch {base_branch:?} has no published run with a test index yet"
        ));
        return Ok(None);
    };
    let c = changes::compare(now, &found.index, base_branch, &found.run_id);
    out.note(format_args!(
        "Since {base_branch} (run {}): {} new failures, {} fixed, {} still failing, {} flaky",
        found.run_id, c.new_failures.total, c.fixed.total, c.still_failing.total, c.flaky.total
    ));
    Ok(Some(c))
}
