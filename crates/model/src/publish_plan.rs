//! A publish as a plan: the steps, in the order that keeps readers safe,
//! made from what the publish found before writing anything. The commit
//! carries them out one by one; `--dry-run` prints them as they are.
//!
//! The order is the promise: the run is claimed, then wholly uploaded, then
//! listed (the manifest and the pages made from it), then latest moves
//! (never backwards), each pointer followed by its badge (written only when
//! the pointer moved to this run), then the project page, then the test history (and the
//! tests page made from it); only then goes what readers no longer need (another tool's copy under `latest/`, the runs retention
//! dropped).

use std::fmt;

use serde::Serialize;

use super::key::ObjectKey;
use super::layout::Layout;
use super::run_id::RunId;

/// What the plan is made from.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub layout: &'a Layout,
    pub run: &'a RunId,
    pub build_order: u64,
    /// The CI matrix leg, when there is one.
    pub leg: Option<&'a str>,
    /// The report's files (the test index included) and their bytes.
    pub files: u64,
    pub bytes: u64,
    /// The runs the manifest would no longer list (retention, gone runs).
    pub dropped: Vec<String>,
    /// True when the branch's latest pointer is not ours (absent, or another
    /// tool's): its copy under `latest/` goes once ours has moved.
    pub foreign_latest: bool,
    /// The branch keeps a test history (`--test-history` above 0).
    pub test_history: bool,
}

/// One step of a publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(any(test, feature = "test-keys"), derive(serde::Deserialize))]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// The run id and its build number, held before anything is written
    /// into the run's folder.
    Claim {
        run: String,
        build_order: u64,
        keys: Vec<ObjectKey>,
    },
    /// Every file of the report, under the claimed folder.
    Upload {
        prefix: String,
        files: u64,
        bytes: u64,
    },
    /// The pages' stylesheet and script, when this version's are missing.
    Assets { prefix: String },
    /// The run listed, the runs retention drops unlisted, and the pages
    /// made from the manifest.
    Manifest {
        keys: Vec<ObjectKey>,
        dropped: Vec<String>,
    },
    /// A latest pointer moved to the run unless a newer one is there: the
    /// leg's, then the branch's.
    Latest { key: ObjectKey, leg: Option<String> },
    /// The status badge beside a latest pointer (the leg's, or the
    /// branch's), when that pointer moved to the run: a newer run's badge is
    /// never replaced.
    Badge { key: ObjectKey, leg: Option<String> },
    /// The branch's row on the project page.
    Project { keys: Vec<ObjectKey> },
    /// The run's tests added to its line's history (the dropped runs
    /// forgotten), and the tests page and flaky list made from it.
    History { keys: Vec<ObjectKey> },
    /// Another tool's report copy under `latest/`, once the branch's
    /// pointer has moved to ours.
    ForeignLatest { prefix: String },
    /// The files of the runs the manifest no longer lists.
    DeleteRuns { runs: Vec<String> },
}

/// The steps of a publish, in order.
pub fn steps(f: &Facts) -> Vec<Step> {
    let l = f.layout;
    let mut steps = vec![
        Step::Claim {
            run: f.run.to_string(),
            build_order: f.build_order,
            keys: vec![l.claim(f.run), l.build_counter()],
        },
        Step::Upload {
            prefix: l.run_root(f.run),
            files: f.files,
            bytes: f.bytes,
        },
        Step::Assets {
            prefix: l.assets_prefix(),
        },
        Step::Manifest {
            keys: manifest_keys(f),
            dropped: f.dropped.clone(),
        },
    ];
    if let Some(leg) = f.leg {
        steps.push(Step::Latest {
            key: l.leg_pointer(leg),
            leg: Some(leg.to_string()),
        });
        steps.push(Step::Badge {
            key: l.leg_badge(leg),
            leg: Some(leg.to_string()),
        });
    }
    steps.push(Step::Latest {
        key: l.latest_pointer(),
        leg: None,
    });
    steps.push(Step::Badge {
        key: l.badge(),
        leg: None,
    });
    steps.push(Step::Project {
        keys: vec![l.project_index(), l.project_page()],
    });
    if f.test_history {
        steps.push(Step::History {
            keys: vec![l.test_history(), l.tests_page(), l.flaky_list()],
        });
    }
    if f.foreign_latest {
        steps.push(Step::ForeignLatest {
            prefix: l.latest_prefix(),
        });
    }
    if !f.dropped.is_empty() {
        steps.push(Step::DeleteRuns {
            runs: f.dropped.clone(),
        });
    }
    steps
}

/// After the manifest is written: the runs it really dropped (another
/// publisher may have listed or dropped runs since the plan was made)
/// replace those planned, in the manifest step and in the deletion.
pub fn dropped_as_listed(steps: &mut Vec<Step>, listed: &[String]) {
    for step in steps.iter_mut() {
        if let Step::Manifest { dropped, .. } = step {
            *dropped = listed.to_vec();
        }
    }
    steps.retain(|s| !matches!(s, Step::DeleteRuns { .. }));
    if !listed.is_empty() {
        steps.push(Step::DeleteRuns {
            runs: listed.to_vec(),
        });
    }
}

fn manifest_keys(f: &Facts) -> Vec<ObjectKey> {
    let l = f.layout;
    let mut keys = vec![l.manifest(), l.runs_page(), l.latest_page()];
    if let Some(leg) = f.leg {
        keys.push(l.leg_latest_page(leg));
    }
    keys
}

impl Step {
    /// The step's verb and noun, as the plan's first two columns.
    pub fn name(&self) -> (&'static str, &'static str) {
        match self {
            Step::Claim { .. } => ("claim", "run id"),
            Step::Upload { .. } => ("write", "run report"),
            Step::Assets { .. } => ("write", "page assets"),
            Step::Manifest { .. } => ("write", "manifest"),
            Step::Latest { leg: Some(_), .. } => ("move", "leg latest"),
            Step::Latest { leg: None, .. } => ("move", "latest"),
            Step::Badge { leg: Some(_), .. } => ("write", "leg badge"),
            Step::Badge { leg: None, .. } => ("write", "badge"),
            Step::Project { .. } => ("write", "project page"),
            Step::History { .. } => ("write", "test history"),
            Step::ForeignLatest { .. } => ("delete", "old latest copy"),
            Step::DeleteRuns { .. } => ("delete", "dropped runs"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Step::Claim {
                run,
                build_order,
                keys,
            } => format!("{run} as build #{build_order} ({})", keys.join(", ")),
            Step::Upload {
                prefix,
                files,
                bytes,
            } => format!("{files} files, {bytes} bytes, under {prefix}"),
            Step::Assets { prefix } => format!("{prefix} (if this version's are missing)"),
            Step::Manifest { keys, dropped } if dropped.is_empty() => keys.join(", "),
            Step::Manifest { keys, dropped } => {
                format!("{} (unlisting {})", keys.join(", "), dropped.join(", "))
            }
            Step::Latest { key, .. } => format!("{key} (if this run is the newest)"),
            Step::Badge { key, .. } => format!("{key} (if latest moved to this run)"),
            Step::Project { keys } | Step::History { keys } => keys.join(", "),
            Step::ForeignLatest { prefix } => {
                format!("{prefix}* but our page (if latest moved to this run)")
            }
            Step::DeleteRuns { runs } => format!("{} run(s): {}", runs.len(), runs.join(", ")),
        }
    }
}

/// One line of the plan: verb, noun, detail.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (verb, what) = self.name();
        write!(f, "{verb:<6} {what:<15} {}", self.detail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(layout: &'a Layout, run: &'a RunId) -> Facts<'a> {
        Facts {
            layout,
            run,
            build_order: 7,
            leg: None,
            files: 12,
            bytes: 3456,
            dropped: Vec::new(),
            foreign_latest: false,
            test_history: true,
        }
    }

    fn names(steps: &[Step]) -> Vec<&'static str> {
        steps.iter().map(|s| s.name().1).collect()
    }

    #[test]
    fn the_run_is_whole_before_it_is_listed_and_listed_before_latest_moves() {
        let layout = Layout::new("reports", "shop", "main").unwrap();
        let run = RunId::new("r1").unwrap();
        let steps = steps(&facts(&layout, &run));
        assert_eq!(
            names(&steps),
            [
                "run id",
                "run report",
                "page assets",
                "manifest",
                "latest",
                "badge",
                "project page",
                "test history"
            ]
        );
        assert_eq!(
            steps[5],
            Step::Badge {
                key: layout.badge(),
                leg: None
            }
        );
        assert_eq!(
            steps[1],
            Step::Upload {
                prefix: "reports/shop/main/r1/".into(),
                files: 12,
                bytes: 3456
            }
        );
    }

    #[test]
    fn a_leg_moves_its_own_latest_before_the_branch_and_deletions_come_last() {
        let layout = Layout::new("reports", "shop", "main").unwrap();
        let run = RunId::new("r9").unwrap();
        let mut f = facts(&layout, &run);
        f.leg = Some("py=3.12");
        f.dropped = vec!["r1".into(), "r2".into()];
        f.foreign_latest = true;
        let steps = steps(&f);
        assert_eq!(
            names(&steps),
            [
                "run id",
                "run report",
                "page assets",
                "manifest",
                "leg latest",
                "leg badge",
                "latest",
                "badge",
                "project page",
                "test history",
                "old latest copy",
                "dropped runs"
            ]
        );
        assert_eq!(
            steps[5].to_string(),
            "write  leg badge       reports/shop/main/variants/py-3.12/badge.svg (if latest moved to this run)"
        );
        let Step::Manifest { keys, dropped } = &steps[3] else {
            panic!("{:?}", steps[3])
        };
        assert!(
            keys.contains(&layout.leg_latest_page("py=3.12")),
            "{keys:?}"
        );
        assert_eq!(dropped, &["r1", "r2"]);
        assert_eq!(
            steps[11].to_string(),
            "delete dropped runs    2 run(s): r1, r2"
        );
    }

    #[test]
    fn the_deletion_follows_what_the_manifest_really_dropped() {
        let layout = Layout::new("", "p", "b").unwrap();
        let run = RunId::new("x").unwrap();
        let mut f = facts(&layout, &run);
        f.dropped = vec!["a".into()];
        let mut plan = steps(&f);
        dropped_as_listed(&mut plan, &["b".into(), "c".into()]);
        assert!(matches!(&plan[3], Step::Manifest { dropped, .. } if dropped == &["b", "c"]));
        assert_eq!(
            plan.last(),
            Some(&Step::DeleteRuns {
                runs: vec!["b".into(), "c".into()]
            })
        );
        dropped_as_listed(&mut plan, &[]);
        assert!(!plan.iter().any(|s| matches!(s, Step::DeleteRuns { .. })));
    }

    #[test]
    fn a_step_reads_back_as_written() {
        let layout = Layout::new("", "p", "b").unwrap();
        let run = RunId::new("x").unwrap();
        for step in steps(&facts(&layout, &run)) {
            let json = serde_json::to_string(&step).unwrap();
            assert_eq!(serde_json::from_str::<Step>(&json).unwrap(), step, "{json}");
        }
    }
}
