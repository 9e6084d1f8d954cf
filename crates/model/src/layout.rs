//! Where every object lives. All keys of a publish sit under
//! `<prefix>/<project>/`; nothing here can produce a key outside it.
//!
//! ```text
//! <prefix>/<project>/index.html                 branches page
//! <prefix>/<project>/index.json                 branches list (data for the page)
//! <prefix>/<project>/<branch>/<run>/...         one report per run, written once
//! <prefix>/<project>/<branch>/latest/index.html page that sends readers to the newest run
//! <prefix>/<project>/<branch>/latest.json       pointer to the newest run
//! <prefix>/<project>/<branch>/badge.svg         the newest run's status, as a badge
//! <prefix>/<project>/<branch>/runs/index.json   manifest of runs
//! <prefix>/<project>/<branch>/runs/index.html   table of runs
//! <prefix>/<project>/<branch>/runs/build-order.json  last build number handed out
//! <prefix>/<project>/<branch>/runs/claims/<run>.json  who writes (wrote) a run folder
//! <prefix>/<project>/<branch>/variants/<leg>/latest.json        a matrix leg's newest run
//! <prefix>/<project>/<branch>/variants/<leg>/latest/index.html  page that sends readers to it
//! <prefix>/<project>/<branch>/variants/<leg>/badge.svg          its status, as a badge
//! ```
//!
//! `badge.svg` is the badges' name alone: no run id takes it, and no report
//! file is published under it (a private site may show badges to anyone,
//! and the viewer function tells them apart by their name).
//!
//! pytest-allure-host's project files, read when a bucket is taken over:
//! `<prefix>/<project>/branches/index.json` and `<prefix>/<project>/runs/all/`.

use super::badge;
use super::key::ObjectKey;
use super::run_id::RunId;
use super::segment::{self, SegmentError};
use super::variant;

/// The test index's name inside a run folder (Allure writes no such file).
pub const TEST_INDEX: &str = "allure-host-tests.json";

/// Run ids that would land on the branch's own files.
pub const RESERVED_RUN_SEGMENTS: &[&str] = &[
    "latest",
    "latest.json",
    "runs",
    "tests",
    "variants",
    badge::FILE,
];
/// Branch names that would land on the project's own files.
const RESERVED_BRANCH_SEGMENTS: &[&str] = &["index.html", "index.json"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LayoutError {
    #[error(transparent)]
    Segment(#[from] SegmentError),
    #[error(
        "the prefix part {part:?} is not allowed: use only letters, digits, '.', '_' and '-' between slashes (not '.' or '..')"
    )]
    Prefix { part: String },
    #[error("the {what} {name:?} is reserved by the report layout; choose another {what}")]
    Reserved { what: &'static str, name: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Empty, or parts joined by '/' with a trailing '/'.
    prefix: String,
    project: String,
    branch: String,
}

impl Layout {
    pub fn new(prefix: &str, project: &str, branch: &str) -> Result<Self, LayoutError> {
        let mut clean = String::new();
        for part in prefix.split('/').filter(|p| !p.is_empty()) {
            let ok = part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
                && part != "."
                && part != "..";
            if !ok {
                return Err(LayoutError::Prefix {
                    part: part.to_string(),
                });
            }
            clean.push_str(part);
            clean.push('/');
        }
        let project = segment::encode(project, "project")?;
        let branch = Self::branch_segment_of(branch)?;
        Ok(Self {
            prefix: clean,
            project,
            branch,
        })
    }

    /// A layout over folders found in the store (already key segments, so
    /// not encoded again): what prune and usage walk.
    pub fn from_segments(prefix: &str, project: &str, branch: &str) -> Result<Self, LayoutError> {
        let mut layout = Self::new(prefix, "p", "b")?;
        for (what, seg) in [("project", project), ("branch", branch)] {
            if seg.is_empty() || seg == "." || seg == ".." || seg.contains('/') {
                return Err(LayoutError::Reserved {
                    what,
                    name: seg.to_string(),
                });
            }
        }
        layout.project = project.to_string();
        layout.branch = branch.to_string();
        Ok(layout)
    }

    /// `<prefix>/`: where the projects' folders are.
    pub fn prefix_root(&self) -> &str {
        &self.prefix
    }

    /// The folder of a branch name, refusing names that collide with the
    /// project's files.
    pub fn branch_segment_of(name: &str) -> Result<String, LayoutError> {
        let seg = segment::encode(name, "branch")?;
        if RESERVED_BRANCH_SEGMENTS.contains(&seg.as_str()) {
            return Err(LayoutError::Reserved {
                what: "branch",
                name: seg,
            });
        }
        Ok(seg)
    }

    /// The key segment for a run id, refusing ids that collide with branch files.
    pub fn run_segment(run_id: &str) -> Result<String, LayoutError> {
        let seg = segment::encode(run_id, "run id")?;
        if RESERVED_RUN_SEGMENTS.contains(&seg.as_str()) {
            return Err(LayoutError::Reserved {
                what: "run id",
                name: run_id.to_string(),
            });
        }
        Ok(seg)
    }

    pub fn project_segment(&self) -> &str {
        &self.project
    }

    /// The pull request comment state of this project. `~p` is never made by
    /// segment encoding (`~` is always followed by hex or `H`), so no branch
    /// folder can take this name.
    pub fn pull_request_state(&self, number: u64) -> ObjectKey {
        ObjectKey::laid_out(format!(
            "{}~pull-requests/{number}.json",
            self.project_root()
        ))
    }

    pub fn branch_segment(&self) -> &str {
        &self.branch
    }

    /// `<prefix>/<project>/`: the only subtree a publish may write to.
    pub fn project_root(&self) -> String {
        format!("{}{}/", self.prefix, self.project)
    }
    pub fn project_page(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}index.html", self.project_root()))
    }
    pub fn project_index(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}index.json", self.project_root()))
    }
    pub fn branch_root(&self) -> String {
        format!("{}{}/", self.project_root(), self.branch)
    }
    pub fn run_root(&self, run: &RunId) -> String {
        format!("{}{}/", self.branch_root(), run.segment())
    }
    /// A file of a run's report, `rel` relative to the report's root.
    pub fn run_file(&self, run: &RunId, rel: &str) -> ObjectKey {
        ObjectKey::laid_out(format!("{}{rel}", self.run_root(run)))
    }
    /// One of the trend files Allure writes into `history/` of a report.
    pub fn history_file(&self, run: &RunId, name: &str) -> ObjectKey {
        self.run_file(run, &format!("history/{name}"))
    }
    /// The compact index of a run's tests, beside its report.
    pub fn test_index(&self, run: &RunId) -> ObjectKey {
        self.run_file(run, TEST_INDEX)
    }
    pub fn latest_prefix(&self) -> String {
        format!("{}latest/", self.branch_root())
    }
    pub fn latest_page(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}index.html", self.latest_prefix()))
    }
    pub fn latest_pointer(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}latest.json", self.branch_root()))
    }
    /// `<branch>/badge.svg`: the status of the run the branch's latest
    /// shows, beside its pointer.
    pub fn badge(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}{}", self.branch_root(), badge::FILE))
    }
    pub fn manifest(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}runs/index.json", self.branch_root()))
    }
    pub fn runs_page(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}runs/index.html", self.branch_root()))
    }
    /// `<branch>/tests/`: every test's story across the branch's runs.
    pub fn tests_root(&self) -> String {
        format!("{}tests/", self.branch_root())
    }
    pub fn test_history(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}history.json", self.tests_root()))
    }
    pub fn tests_page(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}index.html", self.tests_root()))
    }
    /// The tests over the flakiness threshold, for test runners to read.
    pub fn flaky_list(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}flaky.json", self.tests_root()))
    }
    pub fn build_counter(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}runs/build-order.json", self.branch_root()))
    }
    /// The claim on a run folder, outside the folder so the report is only
    /// the report.
    pub fn claim(&self, run: &RunId) -> ObjectKey {
        ObjectKey::laid_out(format!("{}{}.json", self.claims_prefix(), run.segment()))
    }
    pub fn claims_prefix(&self) -> String {
        format!("{}runs/claims/", self.branch_root())
    }

    /// `<branch>/variants/<leg>/`: a matrix leg's own latest. The leg is its
    /// label (`python-version=3.12`) as a slug (`python-version-3.12`).
    pub fn leg_root(&self, leg: &str) -> String {
        format!("{}{}", self.branch_root(), Self::leg_folder(leg))
    }
    /// `variants/<leg>/`, relative to the branch folder (pages link it).
    pub fn leg_folder(leg: &str) -> String {
        let slug = variant::slug(leg);
        // A slug is made of plain characters, so only "." and ".." change.
        let seg = segment::encode(&slug, "variant").unwrap_or(slug);
        format!("variants/{seg}/")
    }
    pub fn leg_pointer(&self, leg: &str) -> ObjectKey {
        ObjectKey::laid_out(format!("{}latest.json", self.leg_root(leg)))
    }
    /// `<branch>/variants/<leg>/badge.svg`: the status of the leg's newest run.
    pub fn leg_badge(&self, leg: &str) -> ObjectKey {
        ObjectKey::laid_out(format!("{}{}", self.leg_root(leg), badge::FILE))
    }
    pub fn leg_latest_prefix(&self, leg: &str) -> String {
        format!("{}latest/", self.leg_root(leg))
    }
    pub fn leg_latest_page(&self, leg: &str) -> ObjectKey {
        ObjectKey::laid_out(format!("{}index.html", self.leg_latest_prefix(leg)))
    }

    /// The pages' stylesheet and script (`~` + a letter is never made by
    /// segment encoding, so no branch folder can take this name).
    pub fn assets_prefix(&self) -> String {
        format!("{}~assets/", self.project_root())
    }

    /// One of the pages' stylesheet and script, by its content-hashed name.
    pub fn asset(&self, name: &str) -> ObjectKey {
        ObjectKey::laid_out(format!("{}{name}", self.assets_prefix()))
    }

    /// pytest-allure-host's page of every branch's runs, and its data.
    pub fn legacy_all_runs_page(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}runs/all/index.html", self.project_root()))
    }
    pub fn legacy_all_runs_index(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}runs/all/index.json", self.project_root()))
    }
    /// pytest-allure-host's trend page of a branch.
    pub fn legacy_trend_page(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}runs/trend.html", self.branch_root()))
    }

    /// pytest-allure-host's list of branches, imported into ours once.
    pub fn legacy_branches_index(&self) -> ObjectKey {
        ObjectKey::laid_out(format!("{}branches/index.json", self.project_root()))
    }

    /// True when `key` is inside some run prefix of this branch (not one of the
    /// branch's own mutable files). Drives the cache policy.
    pub fn is_in_run(&self, key: &str) -> bool {
        let Some(rest) = key.strip_prefix(&self.branch_root()) else {
            return false;
        };
        match rest.split_once('/') {
            Some((first, _)) => !RESERVED_RUN_SEGMENTS.contains(&first),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_documented_layout() {
        let l = Layout::new("reports", "shop", "main").unwrap();
        assert_eq!(l.project_root(), "reports/shop/");
        assert_eq!(l.project_page(), "reports/shop/index.html");
        assert_eq!(l.branch_root(), "reports/shop/main/");
        let run = RunId::new("42-1").unwrap();
        assert_eq!(l.run_root(&run), "reports/shop/main/42-1/");
        assert_eq!(
            l.history_file(&run, "history.json"),
            "reports/shop/main/42-1/history/history.json"
        );
        assert_eq!(l.latest_prefix(), "reports/shop/main/latest/");
        assert_eq!(l.latest_page(), "reports/shop/main/latest/index.html");
        assert_eq!(l.latest_pointer(), "reports/shop/main/latest.json");
        assert_eq!(l.badge(), "reports/shop/main/badge.svg");
        assert_eq!(l.manifest(), "reports/shop/main/runs/index.json");
        assert_eq!(l.runs_page(), "reports/shop/main/runs/index.html");
        assert_eq!(l.claim(&run), "reports/shop/main/runs/claims/42-1.json");
        assert_eq!(
            l.leg_latest_page("python-version=3.12"),
            "reports/shop/main/variants/python-version-3.12/latest/index.html"
        );
        assert_eq!(
            l.leg_badge("python-version=3.12"),
            "reports/shop/main/variants/python-version-3.12/badge.svg"
        );
        assert_eq!(
            l.leg_pointer(".."),
            "reports/shop/main/variants/~2E~2E/latest.json"
        );
    }

    #[test]
    fn prefix_is_normalised_and_may_be_empty() {
        assert_eq!(
            Layout::new("/a//b/", "p", "m").unwrap().project_root(),
            "a/b/p/"
        );
        assert_eq!(Layout::new("", "p", "m").unwrap().project_root(), "p/");
    }

    #[test]
    fn hostile_prefix_is_refused() {
        for bad in ["../x", "a/./b", "a b", "<x>"] {
            assert!(
                matches!(Layout::new(bad, "p", "m"), Err(LayoutError::Prefix { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn hostile_names_stay_inside_the_project() {
        for name in ["../x", "..", "/etc/passwd", "a/../../b", "<script>"] {
            let l = Layout::new("reports", "p", name).unwrap();
            let key = l.run_root(&RunId::new(name).unwrap());
            assert!(key.starts_with("reports/p/"));
            let rest = key.strip_prefix("reports/p/").unwrap();
            assert_eq!(rest.matches('/').count(), 2, "{key}");
            assert!(rest.split('/').all(|part| part != ".." && part != "."));
        }
    }

    #[test]
    fn reserved_names_are_refused() {
        for id in ["latest", "runs", "latest.json", "variants", "badge.svg"] {
            assert!(matches!(
                Layout::run_segment(id),
                Err(LayoutError::Reserved { .. })
            ));
        }
        assert!(matches!(
            Layout::new("r", "p", "index.html"),
            Err(LayoutError::Reserved { .. })
        ));
        // A branch called "runs" is fine: it sits beside other branches.
        assert!(Layout::new("r", "p", "runs").is_ok());
    }

    #[test]
    fn run_keys_are_told_apart_from_branch_files() {
        let l = Layout::new("r", "p", "main").unwrap();
        assert!(l.is_in_run("r/p/main/42/index.html"));
        assert!(l.is_in_run("r/p/main/42/data/a.json"));
        assert!(!l.is_in_run("r/p/main/latest/index.html"));
        assert!(!l.is_in_run("r/p/main/runs/index.json"));
        assert!(!l.is_in_run("r/p/main/latest.json"));
        assert!(!l.is_in_run("r/p/main/badge.svg"));
        assert!(!l.is_in_run("r/p/main/variants/py-3.12/badge.svg"));
        assert!(!l.is_in_run("r/p/index.html"));
    }
}
