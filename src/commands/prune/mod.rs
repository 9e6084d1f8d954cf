//! `allure-host prune`: read the plan, show it, confirm, then per branch the
//! manifest first and the files second (see `apply`).

pub mod apply;
pub mod plan;

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use chrono::Utc;

use crate::cli::PruneArgs;
use crate::commands::site::{self, Site};
use crate::model::layout::Layout;
use crate::model::plan::{PruneAction, PruneLine};
use crate::model::retention::{Reason, Rules};
use crate::model::time::{DAY_SECS, utc_minute};
use crate::output::Output;
use plan::{BranchPlan, Spec, WhyBranch};

pub async fn run(args: &PruneArgs, out: &Output) -> Result<bool> {
    let spec = spec(args)?;
    let site = site::open(&args.site, !args.dry_run, out).await?;
    let plans = plan::plan(&site, &spec, Utc::now().timestamp()).await?;
    if let (Some(name), true) = (&args.branch, plans.is_empty()) {
        bail!(
            "no branch {name:?} in {}: check --branch against `allure-host usage`",
            site.projects.join(", ")
        );
    }
    out.prune_plan(&lines(&plans), args.dry_run);
    if args.dry_run || plans.is_empty() {
        return Ok(true);
    }
    let question = format!(
        "Delete {} objects?",
        plans.iter().map(|p| p.keys.len()).sum::<usize>()
    );
    if !args.yes && !crate::commands::confirm(&question, "--yes", out)? {
        bail!("not confirmed; nothing was deleted");
    }
    execute(&site, &plans, out).await?;
    Ok(true)
}

/// The action's cleanup: remove `branch` now, or mark it to go after
/// `keep_days`; then remove the branches whose kept days are over. Returns
/// what happened, one line per branch.
pub async fn cleanup(
    site: &Site,
    branch: Option<&str>,
    keep_days: u32,
    out: &Output,
) -> Result<Vec<String>> {
    let now = Utc::now().timestamp();
    let mut lines = Vec::new();
    if let Some(name) = branch {
        if keep_days == 0 {
            let spec = Spec {
                branch: Some(name.to_string()),
                ..Spec::default()
            };
            lines.extend(removed(site, &spec, now, out).await?);
        } else {
            lines.extend(mark(site, name, now + i64::from(keep_days) * DAY_SECS).await?);
        }
        if lines.is_empty() {
            lines.push(format!("Branch {name}: no reports to remove"));
        }
    }
    lines.extend(removed(site, &Spec::default(), now, out).await?);
    Ok(lines)
}

/// Carry out `spec` at once; a line per branch removed.
async fn removed(site: &Site, spec: &Spec, now: i64, out: &Output) -> Result<Vec<String>> {
    let plans = plan::plan(site, spec, now).await?;
    execute(site, &plans, out).await?;
    Ok(plans
        .iter()
        .map(|p| {
            format!(
                "Branch {} removed ({}): {} runs, {} objects, {}",
                p.branch,
                why_text(p.whole.unwrap_or(WhyBranch::Asked)),
                p.runs.len(),
                p.keys.len(),
                crate::output::human_bytes(p.bytes())
            )
        })
        .collect())
}

/// Mark `name` in every project to go after `at`.
async fn mark(site: &Site, name: &str, at: i64) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    for project in &site.projects {
        if let Some(b) = site::branch(site, project, name).await? {
            crate::state::manifest::set_remove_after(&site.store, &b.layout, Some(at)).await?;
            lines.push(format!(
                "Branch {} is kept until {}, then removed by the next cleanup or prune",
                b.name,
                utc_minute(at)
            ));
        }
    }
    Ok(lines)
}

/// Carry out the plans, branch by branch, and say what went.
pub async fn execute(site: &Site, plans: &[BranchPlan], out: &Output) -> Result<()> {
    if plans.is_empty() {
        return Ok(());
    }
    let (mut runs, mut objects, mut bytes) = (0, 0, 0);
    for plan in plans {
        let done = apply::apply(&site.store, plan).await?;
        if !done.kept_new.is_empty() {
            out.warning(&format!(
                "{} / {}: run(s) {} were published while the branch was being removed; they and the branch stay",
                plan.project,
                plan.branch,
                done.kept_new.join(", ")
            ));
        }
        if let Some(problem) = &done.history_problem {
            out.warning(&format!(
                "{} / {}: the runs were pruned, but the test history still lists them: {problem}",
                plan.project, plan.branch
            ));
        }
        (runs, objects, bytes) = (runs + done.runs, objects + done.objects, bytes + done.bytes);
    }
    let requests: Vec<String> = site
        .store
        .counts()
        .iter()
        .map(|(op, n)| format!("{op} {n}"))
        .collect();
    out.note(format_args!(
        "Pruned {runs} run(s): {objects} objects, {bytes} bytes deleted ({})",
        requests.join(", ")
    ));
    Ok(())
}

fn spec(args: &PruneArgs) -> Result<Spec> {
    let live = match (&args.branches_except, &args.git_remote) {
        (Some(list), _) => Some(branch_list(list)?),
        (None, Some(remote)) => Some(remote_branches(remote)?),
        (None, None) => None,
    };
    Ok(Spec {
        rules: Rules {
            keep: args.keep,
            max_age_days: args.max_age_days,
        },
        runs: args.branch.is_none(),
        branch: args.branch.clone(),
        live: live.map(|names| segments(&names)).transpose()?,
    })
}

/// `a,b,c`, or `@FILE` with one name per line.
fn branch_list(list: &str) -> Result<Vec<String>> {
    let text = match list.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the branch list {path}"))?,
        None => list.replace(',', "\n"),
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// The branches and tags `remote` has, from `git ls-remote`.
fn remote_branches(remote: &str) -> Result<Vec<String>> {
    let output = std::process::Command::new("git")
        .args(["ls-remote", "--", remote, "refs/heads/*", "refs/tags/*"])
        .output()
        .context("cannot run git for --git-remote; install git or pass --branches-except")?;
    if !output.status.success() {
        bail!(
            "git ls-remote {remote} failed: {}; check the remote name or URL (run inside the repository), or pass --branches-except",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(parse_ls_remote(&String::from_utf8_lossy(&output.stdout)))
}

fn parse_ls_remote(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split('\t').nth(1))
        .filter_map(|r| {
            r.strip_prefix("refs/heads/")
                .or_else(|| r.strip_prefix("refs/tags/"))
        })
        .map(|r| r.trim_end_matches("^{}").to_string())
        .collect()
}

/// Branch names as folder names; an empty list is refused, since it would
/// remove every branch.
fn segments(names: &[String]) -> Result<BTreeSet<String>> {
    if names.is_empty() {
        bail!(
            "the list of live branches is empty, which would remove every branch; check --branches-except or --git-remote"
        );
    }
    names
        .iter()
        .map(|n| Ok(Layout::branch_segment_of(n)?))
        .collect()
}

/// The plan as printed lines.
pub fn lines(plans: &[BranchPlan]) -> Vec<PruneLine> {
    plans.iter().map(line).collect()
}

fn line(p: &BranchPlan) -> PruneLine {
    let (action, detail) = match p.whole {
        Some(why) => (PruneAction::RemoveBranch, why_text(why)),
        None => (PruneAction::DropRuns, reasons(p)),
    };
    PruneLine {
        project: p.project.clone(),
        branch: p.branch.clone(),
        action,
        detail,
        runs: p.runs.len(),
        kept: p.kept,
        objects: p.keys.len(),
        bytes: p.bytes(),
    }
}

fn why_text(why: WhyBranch) -> String {
    match why {
        WhyBranch::Asked => "named by --branch".into(),
        WhyBranch::NotInRepository => "no longer in the repository".into(),
        WhyBranch::Due(at) => format!("closed; kept until {}", utc_minute(at)),
    }
}

/// `ttl-days expired: r1, r2; beyond --keep: r3`.
fn reasons(p: &BranchPlan) -> String {
    let mut by: Vec<(Reason, Vec<&str>)> = Vec::new();
    for d in &p.runs {
        match by.iter_mut().find(|(r, _)| *r == d.reason) {
            Some((_, ids)) => ids.push(&d.run_id),
            None => by.push((d.reason, vec![&d.run_id])),
        }
    }
    by.iter()
        .map(|(r, ids)| format!("{}: {}", r.describe(), ids.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_remote_gives_branches_and_tags() {
        let text = "a1\trefs/heads/main\nb2\trefs/heads/feat/x\nc3\trefs/tags/v1\nc4\trefs/tags/v1^{}\nd5\trefs/pull/1/head\n";
        assert_eq!(parse_ls_remote(text), ["main", "feat/x", "v1", "v1"]);
    }

    #[test]
    fn branch_lists_take_commas_and_files() {
        assert_eq!(branch_list("main, dev,,").unwrap(), ["main", "dev"]);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("live.txt");
        std::fs::write(&file, "# live\nmain\n\nfeat/x\n").unwrap();
        let list = branch_list(&format!("@{}", file.display())).unwrap();
        assert_eq!(list, ["main", "feat/x"]);
        assert!(branch_list("@/no/such/file").is_err());
    }

    #[test]
    fn an_empty_live_list_is_refused() {
        assert!(segments(&[]).is_err());
        let s = segments(&["feat/x".into()]).unwrap();
        assert_eq!(s.len(), 1);
        assert!(!s.contains("feat/x"), "names become folder segments");
    }
}
