//! Matrix legs and trend lines, read from the manifest.
//!
//! A *leg* is a run's variant (its matrix values); each leg has its own
//! latest. A *trend line* is a leg of one CI job: unit and e2e jobs of one
//! workflow publish to the same branch, and each continues only its own
//! trend. Runs published before jobs were recorded (and other tools' runs)
//! carry no job; they continue the line of their leg.

use super::manifest::{Manifest, RunEntry};

/// The trend line a publish continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    pub job: Option<&'a str>,
    pub variant: Option<&'a str>,
}

impl<'a> Line<'a> {
    pub fn of(run: &'a RunEntry) -> Self {
        Self {
            job: run.job.as_deref(),
            variant: run.variant.as_deref(),
        }
    }

    /// A run with no job recorded belongs to any job's line of its leg.
    fn takes(&self, run: &RunEntry) -> bool {
        run.variant.as_deref() == self.variant
            && (self.job.is_none() || run.job.is_none() || run.job.as_deref() == self.job)
    }
}

/// The run whose history a new run of `line` continues: the newest listed
/// run of the same job and leg (the manifest lists only complete runs,
/// newest first). Runs without a job count once no run of the job exists.
pub fn history_source<'m>(manifest: &'m Manifest, line: Line<'_>) -> Option<&'m RunEntry> {
    let same_job = |r: &&RunEntry| line.job.is_none() || r.job.as_deref() == line.job;
    let candidates = || manifest.runs.iter().filter(|r| line.takes(r));
    candidates()
        .find(same_job)
        .or_else(|| candidates().find(|r| r.job.is_none()))
}

/// The newest run of one leg (any job).
pub fn newest_of_leg<'m>(manifest: &'m Manifest, variant: Option<&str>) -> Option<&'m RunEntry> {
    manifest
        .runs
        .iter()
        .find(|r| r.variant.as_deref() == variant)
}

/// What the branch's latest page shows.
#[derive(Debug, PartialEq)]
pub enum LatestView<'m> {
    /// No run yet.
    Empty,
    /// One trend line: straight to its newest run, as with a single job.
    Redirect(&'m RunEntry),
    /// Several jobs or legs: the newest run of each line, by job then leg,
    /// so a reader sees every leg's state instead of whichever finished last.
    Choose(Vec<&'m RunEntry>),
}

pub fn latest_view(manifest: &Manifest) -> LatestView<'_> {
    let Some(newest) = manifest.runs.first() else {
        return LatestView::Empty;
    };
    let mut lines: Vec<&RunEntry> = Vec::new();
    for run in &manifest.runs {
        let jobless_of_a_known_leg = run.job.is_none()
            && manifest
                .runs
                .iter()
                .any(|o| o.job.is_some() && o.variant == run.variant);
        let seen = lines
            .iter()
            .any(|l| l.job == run.job && l.variant == run.variant);
        if !jobless_of_a_known_leg && !seen {
            lines.push(run);
        }
    }
    if lines.len() <= 1 {
        return LatestView::Redirect(newest);
    }
    lines.sort_by(|a, b| (&a.job, &a.variant).cmp(&(&b.job, &b.variant)));
    LatestView::Choose(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, job: Option<&str>, variant: Option<&str>) -> RunEntry {
        RunEntry {
            variant: variant.map(str::to_string),
            job: job.map(str::to_string),
            ..RunEntry::example(id)
        }
    }

    /// Newest first, as the manifest keeps them.
    fn manifest(runs: Vec<RunEntry>) -> Manifest {
        let mut m = Manifest::empty("p", "b");
        m.runs = runs;
        m
    }

    fn line<'a>(job: Option<&'a str>, variant: Option<&'a str>) -> Line<'a> {
        Line { job, variant }
    }

    #[test]
    fn each_leg_continues_only_its_own_runs() {
        let m = manifest(vec![
            run("3-py311", Some("test"), Some("py=3.11")),
            run("3-py310", Some("test"), Some("py=3.10")),
            run("2-py311", Some("test"), Some("py=3.11")),
        ]);
        let id = |l| history_source(&m, l).map(|r| r.run_id.as_str());
        assert_eq!(id(line(Some("test"), Some("py=3.10"))), Some("3-py310"));
        assert_eq!(id(line(Some("test"), Some("py=3.11"))), Some("3-py311"));
        assert_eq!(
            id(line(Some("test"), Some("py=3.12"))),
            None,
            "a new leg starts"
        );
        assert_eq!(
            id(line(Some("test"), None)),
            None,
            "no variant is a leg too"
        );
    }

    #[test]
    fn jobs_of_one_branch_keep_their_own_trends() {
        let m = manifest(vec![
            run("e2e-2", Some("e2e"), None),
            run("unit-2", Some("unit"), None),
            run("old", None, None),
        ]);
        let id = |l| history_source(&m, l).map(|r| r.run_id.as_str());
        assert_eq!(id(line(Some("unit"), None)), Some("unit-2"));
        assert_eq!(id(line(Some("e2e"), None)), Some("e2e-2"));
        assert_eq!(
            id(line(Some("lint"), None)),
            Some("old"),
            "runs without a job continue any job"
        );
        assert_eq!(
            id(line(None, None)),
            Some("e2e-2"),
            "a laptop continues the newest"
        );
    }

    #[test]
    fn latest_redirects_for_one_line_and_lists_several() {
        let one = manifest(vec![run("2", Some("test"), None), run("1", None, None)]);
        assert!(matches!(latest_view(&one), LatestView::Redirect(r) if r.run_id == "2"));
        assert_eq!(latest_view(&manifest(vec![])), LatestView::Empty);
        let legs = manifest(vec![
            run("4", Some("test"), Some("py=3.12")),
            run("3", Some("test"), Some("py=3.10")),
            run("2", Some("test"), Some("py=3.12")),
            run("1", None, None),
        ]);
        let LatestView::Choose(rows) = latest_view(&legs) else {
            panic!("several legs choose");
        };
        let ids: Vec<_> = rows.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["1", "3", "4"]);
        assert_eq!(newest_of_leg(&legs, Some("py=3.12")).unwrap().run_id, "4");
    }
}
