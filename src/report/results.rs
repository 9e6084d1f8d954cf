//! Checks an `allure-results` directory before anything is generated or
//! written, so bad input fails early with a message that names the file.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error(
        "{0} is not a generated Allure report (it needs index.html and widgets/summary.json from Allure 2, or summary.json from Allure 3); pass the output of `allure generate`, or use --results to generate one"
    )]
    NotAReport(PathBuf),
    #[error(
        "results directory {0} does not exist; run your tests with Allure enabled (e.g. pytest --alluredir={0}) or pass --results DIR"
    )]
    Missing(PathBuf),
    #[error("{0} is not a directory; pass the allure-results directory with --results DIR")]
    NotDir(PathBuf),
    #[error(
        "results directory {0} holds no *-result.json files; did the tests run with the Allure adapter enabled?"
    )]
    Empty(PathBuf),
    #[error(
        "{path} is not valid Allure result JSON ({reason}); remove or regenerate the file, then publish again"
    )]
    Malformed { path: PathBuf, reason: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultsInfo {
    pub results: usize,
    pub containers: usize,
}

/// Count result and container files, parsing each to catch corruption.
pub fn check(dir: &Path) -> Result<ResultsInfo, ResultsError> {
    if !dir.exists() {
        return Err(ResultsError::Missing(dir.to_path_buf()));
    }
    if !dir.is_dir() {
        return Err(ResultsError::NotDir(dir.to_path_buf()));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ResultsError::Io { path, source }
    };
    let mut info = ResultsInfo {
        results: 0,
        containers: 0,
    };
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_result = name.ends_with("-result.json");
        let is_container = name.ends_with("-container.json");
        if !is_result && !is_container {
            continue;
        }
        let path = entry.path();
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ResultsError::Malformed {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if !value.is_object() {
            return Err(ResultsError::Malformed {
                path,
                reason: "expected a JSON object".into(),
            });
        }
        if is_result {
            info.results += 1;
        } else {
            info.containers += 1;
        }
    }
    if info.results == 0 {
        return Err(ResultsError::Empty(dir.to_path_buf()));
    }
    Ok(info)
}

/// A generated report has an index page and the summary widget we read.
pub fn check_report_dir(dir: &Path) -> Result<(), ResultsError> {
    if !dir.join("index.html").is_file() || super::read::engine_of(dir).is_err() {
        return Err(ResultsError::NotAReport(dir.to_path_buf()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_empty_and_malformed_are_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("nope");
        assert!(matches!(check(&missing), Err(ResultsError::Missing(_))));
        assert!(matches!(check(tmp.path()), Err(ResultsError::Empty(_))));
        std::fs::write(tmp.path().join("a-result.json"), "{\"name\":").unwrap();
        let err = check(tmp.path()).unwrap_err();
        assert!(matches!(err, ResultsError::Malformed { .. }));
        assert!(err.to_string().contains("a-result.json"));
        std::fs::write(tmp.path().join("a-result.json"), "{\"name\":\"t\"}").unwrap();
        std::fs::write(tmp.path().join("b-container.json"), "{}").unwrap();
        assert_eq!(
            check(tmp.path()).unwrap(),
            ResultsInfo {
                results: 1,
                containers: 1
            }
        );
    }

    #[test]
    fn bundled_example_is_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/allure-results");
        let info = check(&dir).unwrap();
        assert_eq!(info.results, 9);
    }
}
