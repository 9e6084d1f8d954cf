//! The results folder as Allure should read it: everything but the
//! `executor.json` the results brought, which ours replaces (a report has
//! one executor). The folder itself is left as it is, since it may be the
//! user's: Allure reads a folder of hard links to its files instead, which
//! costs one link per file and no copying (a copy where links cannot be
//! made, as across file systems).

use std::fs;
use std::path::{Path, PathBuf};

/// The executor file Allure reads from a results folder.
pub const EXECUTOR_JSON: &str = "executor.json";

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot link or copy {from} into {to}: {source}")]
    Link {
        from: PathBuf,
        to: PathBuf,
        source: std::io::Error,
    },
}

/// What Allure is given in place of the results folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The folder to read: `results` itself when it holds no executor.json.
    pub dir: PathBuf,
    /// The bytes of the results' own executor.json, if there was one.
    pub their_executor: Option<Vec<u8>>,
}

/// `results` without its executor.json, as a new folder `at` (which must
/// not exist) when there is one to leave out.
pub fn without_executor(results: &Path, at: &Path) -> Result<View, ViewError> {
    let theirs = results.join(EXECUTOR_JSON);
    if !theirs.is_file() {
        return Ok(View {
            dir: results.to_path_buf(),
            their_executor: None,
        });
    }
    let bytes = fs::read(&theirs).map_err(read(&theirs))?;
    fs::create_dir(at).map_err(read(at))?;
    for entry in fs::read_dir(results).map_err(read(results))? {
        let entry = entry.map_err(read(results))?;
        if entry.file_name() == EXECUTOR_JSON {
            continue;
        }
        let from = entry.path();
        let to = at.join(entry.file_name());
        link(&from, &to).map_err(|source| ViewError::Link { from, to, source })?;
    }
    Ok(View {
        dir: at.to_path_buf(),
        their_executor: Some(bytes),
    })
}

fn read(path: &Path) -> impl FnOnce(std::io::Error) -> ViewError + '_ {
    move |source| ViewError::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// A hard link (a link to a link stays one); a folder, which neither
/// engine lists but Allure 2 may read attachments from, as a symbolic
/// link; a copy where a hard link cannot be made.
fn link(from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    if meta.is_dir() {
        // A link's target is read from where the link is: a relative
        // --results would point nowhere.
        return symlink_dir(&std::path::absolute(from)?, to);
    }
    if fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    fs::copy(from, to).map(drop)
}

#[cfg(unix)]
fn symlink_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(from, to)
}

#[cfg(not(unix))]
fn symlink_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_dir(from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_without_an_executor_are_read_as_they_are() {
        let results = tempfile::tempdir().unwrap();
        fs::write(results.path().join("a-result.json"), "{}").unwrap();
        let at = results.path().join("never");
        let view = without_executor(results.path(), &at).unwrap();
        assert_eq!(view.dir, results.path());
        assert_eq!(view.their_executor, None);
        assert!(!at.exists());
    }

    #[test]
    fn their_executor_is_left_out_of_a_linked_view_and_their_folder_is_untouched() {
        let results = tempfile::tempdir().unwrap();
        let r = results.path();
        fs::write(r.join("a-result.json"), "{\"a\":1}").unwrap();
        fs::write(r.join("b-attachment.txt"), "log").unwrap();
        fs::write(r.join(EXECUTOR_JSON), "{\"name\":\"Jenkins\"}").unwrap();
        fs::create_dir(r.join("shots")).unwrap();
        fs::write(r.join("shots/1.png"), "png").unwrap();
        let work = tempfile::tempdir().unwrap();
        let at = work.path().join("results");
        let view = without_executor(r, &at).unwrap();
        assert_eq!(view.dir, at);
        assert_eq!(
            view.their_executor.as_deref(),
            Some(&b"{\"name\":\"Jenkins\"}"[..])
        );
        let mut names: Vec<_> = fs::read_dir(&at)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a-result.json", "b-attachment.txt", "shots"]);
        assert_eq!(fs::read(at.join("a-result.json")).unwrap(), b"{\"a\":1}");
        assert_eq!(fs::read(at.join("shots/1.png")).unwrap(), b"png");
        // Files are plain files to whoever lists the view (Allure 3 skips
        // symbolic links to files).
        assert!(
            fs::symlink_metadata(at.join("a-result.json"))
                .unwrap()
                .is_file()
        );
        // Removing the view leaves their folder whole.
        fs::remove_dir_all(&at).unwrap();
        assert!(r.join(EXECUTOR_JSON).is_file());
        assert_eq!(fs::read(r.join("shots/1.png")).unwrap(), b"png");
        assert_eq!(fs::read_dir(r).unwrap().count(), 4);
    }
}
