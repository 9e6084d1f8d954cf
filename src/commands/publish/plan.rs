//! The publish's plan: what `prepare` and `stage` found, and the runs
//! retention would drop (read from the store), made into steps by the pure
//! `model::publish_plan`. The commit carries the plan out; `--dry-run`
//! prints it with what the deletions would free.

use std::collections::BTreeSet;

use anyhow::Result;

use super::prepare::Prepared;
use super::stage::Staged;
use crate::model::plan::PublishPlan;
use crate::model::pointer::LatestPointer;
use crate::model::publish_plan::{self, Facts, Step};
use crate::model::retention::Rules;
use crate::model::run_id::RunId;
use crate::settings::{Retention, Settings};
use crate::state;

/// The steps of this publish, and the listed runs whose folders are gone
/// (read once: the manifest step drops them too).
pub async fn steps(
    settings: &Settings,
    p: &Prepared,
    s: &Staged,
) -> Result<(Vec<Step>, BTreeSet<String>)> {
    let gone = state::run_files::gone(&p.store, &p.layout, &p.manifest).await?;
    let dropped = p
        .manifest
        .would_prune(&s.entry, &rules(&settings.retention), s.entry.time, &gone)
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    let steps = publish_plan::steps(&Facts {
        layout: &p.layout,
        run: &p.run,
        build_order: p.build_order,
        leg: settings.place.variant.as_deref(),
        files: s.entry.files,
        bytes: s.entry.size,
        dropped,
        foreign_latest: p
            .branch_pointer
            .pointer()
            .is_none_or(LatestPointer::is_foreign),
        test_history: settings.tests.on(),
    });
    Ok((steps, gone))
}

/// Retention at publish: `--max-keep-runs`, plus expired and gone runs.
pub fn rules(retention: &Retention) -> Rules {
    Rules {
        keep: retention.max_keep_runs.map(std::num::NonZeroU32::get),
        max_age_days: None,
    }
}

/// `--dry-run`: the steps, and the objects and bytes the deletion of
/// dropped runs would free.
pub async fn dry_run(settings: &Settings, p: &Prepared, s: &Staged) -> Result<PublishPlan> {
    let (steps, _) = steps(settings, p, s).await?;
    let (mut objects, mut bytes) = (0u64, 0u64);
    for step in &steps {
        if let Step::DeleteRuns { runs } = step {
            for id in runs {
                let Ok(run) = RunId::new(id.clone()) else {
                    continue;
                };
                let listed = state::run_files::list(&p.store, &p.layout, &run).await?;
                objects += listed.len() as u64;
                bytes += listed.iter().map(|l| l.size).sum::<u64>();
            }
        }
    }
    Ok(PublishPlan {
        steps,
        freed: (objects, bytes),
        run_url: p.urls.run.clone(),
        latest_url: p.urls.latest.clone(),
        runs_index_url: p.urls.runs_index.clone(),
    })
}
