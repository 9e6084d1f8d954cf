//! `allure-host usage`: per project and branch, the runs the manifest lists,
//! and the files and bytes the store holds (one listing per branch).

use anyhow::Result;

use crate::cli::UsageArgs;
use crate::commands::site;
use crate::model::plan::UsageLine;
use crate::output::Output;

pub async fn run(args: &UsageArgs, out: &Output) -> Result<bool> {
    let site = site::open(&args.site, false, out).await?;
    let mut lines = Vec::new();
    for project in &site.projects {
        for branch in site::branches(&site, project).await? {
            let listed = site.store.list(&branch.layout.branch_root()).await?;
            let times = branch.manifest.runs.iter().map(|r| r.time);
            lines.push(UsageLine {
                project: branch.project.clone(),
                branch: branch.name.clone(),
                runs: branch.manifest.runs.len(),
                files: listed.len(),
                bytes: listed.iter().map(|l| l.size).sum(),
                oldest: times.clone().min(),
                newest: times.max(),
            });
        }
    }
    if args.json {
        out.json(&serde_json::to_value(&lines)?)?;
    } else {
        out.usage(&lines);
    }
    Ok(true)
}
