//! `--dry-run`: what the commit would write and delete, as data.

use anyhow::Result;

use super::prepare::Prepared;
use super::stage::Staged;
use crate::model::plan::{PlanLine, PublishPlan};
use crate::model::run_id::RunId;
use crate::settings::Settings;
use crate::state;

fn latest_objects(settings: &Settings) -> u64 {
    if settings.variant.is_some() { 4 } else { 2 }
}

fn latest_detail(settings: &Settings) -> String {
    let branch = "latest.json, latest/index.html";
    match &settings.variant {
        Some(leg) => format!(
            "{branch}, and this leg's variants/{}/latest.json and latest/index.html (each if this run is the newest)",
            crate::model::variant::slug(leg)
        ),
        None => format!("{branch} (if this run is the newest)"),
    }
}

/// The plan, and the ids of the runs retention would remove.
pub async fn plan(
    settings: &Settings,
    p: &Prepared,
    s: &Staged,
) -> Result<(PublishPlan, Vec<String>)> {
    let gone = state::run_files::gone(&p.store, &p.layout, &p.manifest).await?;
    let pruned = p.manifest.would_prune(
        &s.entry,
        &super::commit::rules(settings),
        s.entry.time,
        &gone,
    );
    let (mut objects, mut bytes) = (0u64, 0u64);
    for entry in &pruned {
        if let Ok(run) = RunId::new(entry.run_id.clone()) {
            let listed = state::run_files::list(&p.store, &p.layout, &run).await?;
            objects += listed.len() as u64;
            bytes += listed.iter().map(|l| l.size).sum::<u64>();
        }
    }
    let ids: Vec<String> = pruned.into_iter().map(|r| r.run_id).collect();
    let l = &p.layout;
    let line = |verb, what, objects, bytes, detail: String| PlanLine {
        verb,
        what,
        objects,
        bytes,
        detail,
    };
    let retention = if ids.is_empty() {
        format!("{} run(s)", ids.len())
    } else {
        format!("{} run(s): {}", ids.len(), ids.join(", "))
    };
    let lines = vec![
        line(
            "write",
            "run report",
            s.entry.files,
            Some(s.entry.size),
            p.store.location(&l.run_root(&p.run)),
        ),
        line("write", "build counter", 1, None, l.build_counter()),
        line(
            "write",
            "manifest",
            2,
            None,
            "runs/index.json, runs/index.html".into(),
        ),
        line(
            "write",
            "latest",
            latest_objects(settings),
            None,
            latest_detail(settings),
        ),
        line(
            "write",
            "project page",
            2,
            None,
            format!("{}, {}", l.project_index(), l.project_page()),
        ),
        line("delete", "retention", objects, Some(bytes), retention),
    ];
    let plan = PublishPlan {
        lines,
        run_url: p.urls.run.clone(),
        latest_url: p.urls.latest.clone(),
        runs_index_url: p.urls.runs_index.clone(),
    };
    Ok((plan, ids))
}
