//! The workflow run's artifacts: list them through the REST API, pick those
//! whose name matches the `artifact-name` input (a name or a glob), download
//! each zip and unpack it safely, then merge them into one results folder.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::api::{GitHub, body_to_file, redact};
use super::extract::{self, Budget, Merged};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Artifact {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub size_in_bytes: u64,
    #[serde(default)]
    pub expired: bool,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    total_count: u64,
    artifacts: Vec<Artifact>,
}

const PER_PAGE: u64 = 100;

/// Every artifact of the workflow run, following pages.
pub async fn list(gh: &GitHub, repo: &str, run_id: &str) -> Result<Vec<Artifact>> {
    let mut all = Vec::new();
    for page in 1.. {
        let route = format!(
            "/repos/{repo}/actions/runs/{run_id}/artifacts?per_page={PER_PAGE}&page={page}"
        );
        let p: Page = gh
            .get(&route)
            .await
            .with_context(|| format!("cannot list the artifacts of run {run_id} (GET {route})"))?;
        let got = p.artifacts.len() as u64;
        all.extend(p.artifacts);
        if got < PER_PAGE || all.len() as u64 >= p.total_count {
            break;
        }
    }
    Ok(all)
}

/// The artifacts matching `pattern` (exact name or glob), oldest id first.
pub fn select(all: &[Artifact], pattern: &str) -> Result<Vec<Artifact>> {
    let glob = glob::Pattern::new(pattern)
        .with_context(|| format!("artifact-name {pattern:?} is not a valid glob"))?;
    let mut picked: Vec<Artifact> = all
        .iter()
        .filter(|a| a.name == pattern || glob.matches(&a.name))
        .cloned()
        .collect();
    picked.sort_by_key(|a| a.id);
    if picked.is_empty() {
        let names: Vec<&str> = all.iter().map(|a| a.name.as_str()).collect();
        bail!(
            "no artifact of this workflow run matches artifact-name {pattern:?} (found: {}); \
             upload the results with actions/upload-artifact first, or fix the name",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        );
    }
    if let Some(a) = picked.iter().find(|a| a.expired) {
        bail!("artifact {:?} has expired; run the tests again", a.name);
    }
    Ok(picked)
}

/// One artifact as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    pub name: String,
    /// Bytes of the zip downloaded.
    pub downloaded: u64,
    pub files: u64,
    /// Bytes unpacked.
    pub unpacked: u64,
}

/// What `fetch_into` did: each artifact, then the merge.
#[derive(Debug)]
pub struct Fetched {
    pub artifacts: Vec<Unpacked>,
    pub merged: Merged,
}

/// Download and unpack `artifacts`, then merge them into `results`. Nothing
/// lands in `results` unless every artifact downloaded and unpacked.
pub async fn fetch_into(
    gh: &GitHub,
    repo: &str,
    artifacts: &[Artifact],
    results: &Path,
    budget: Budget,
) -> Result<Fetched> {
    let parent = match results.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)?;
    // Beside the target, so the final moves are renames on one filesystem.
    let work = tempfile::Builder::new()
        .prefix(".allure-host-artifacts-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot create a work folder in {}", parent.display()))?;
    let mut budget = budget;
    let mut sources = Vec::new();
    let mut unpacked = Vec::new();
    for (i, a) in artifacts.iter().enumerate() {
        let route = format!("/repos/{repo}/actions/artifacts/{}/zip", a.id);
        let target = gh
            .redirect_target(&route)
            .await
            .with_context(|| format!("cannot download artifact {:?}", a.name))?;
        let resp = gh
            .get_plain(&target, None)
            .await
            .with_context(|| format!("cannot download artifact {:?}", a.name))?;
        let zip_path = work.path().join(format!("{i}.zip"));
        let mut file = std::fs::File::create(&zip_path)?;
        let bytes = body_to_file(resp, &mut file, budget.bytes_left())
            .await
            .with_context(|| {
                format!(
                    "cannot download artifact {:?} from {}",
                    a.name,
                    redact(&target)
                )
            })?;
        drop(file);
        let dir = work.path().join(format!("{i}"));
        let got = extract::unzip(&zip_path, &dir, &mut budget)
            .with_context(|| format!("artifact {:?}", a.name))?;
        std::fs::remove_file(&zip_path)?;
        unpacked.push(Unpacked {
            name: a.name.clone(),
            downloaded: bytes,
            files: got.files,
            unpacked: got.bytes,
        });
        sources.push((a.name.clone(), dir));
    }
    let merged = extract::merge(&sources, results)?;
    Ok(Fetched {
        artifacts: unpacked,
        merged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(id: u64, name: &str) -> Artifact {
        Artifact {
            id,
            name: name.into(),
            size_in_bytes: 1,
            expired: false,
        }
    }

    #[test]
    fn select_by_name_or_glob() {
        let all = [
            a(3, "allure-results-b"),
            a(1, "allure-results-a"),
            a(2, "coverage"),
        ];
        let names = |v: Vec<Artifact>| v.into_iter().map(|a| a.name).collect::<Vec<_>>();
        assert_eq!(
            names(select(&all, "allure-results-*").unwrap()),
            ["allure-results-a", "allure-results-b"]
        );
        assert_eq!(names(select(&all, "coverage").unwrap()), ["coverage"]);
        let err = select(&all, "nothing-*").unwrap_err().to_string();
        assert!(
            err.contains("coverage") && err.contains("upload-artifact"),
            "{err}"
        );
    }
}
