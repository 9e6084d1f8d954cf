//! Finding, installing and running the Allure 2 command line, and the
//! helpers both engines' runners share.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use tokio::process::Command;

use super::jvm;
use super::npm_pin::NpmPin;

/// The Allure 2 release installed on first use when none is found:
/// `engines/allure2/package.json` and its lock.
pub const PIN: NpmPin = NpmPin {
    package: "allure-commandline",
    package_json: include_str!("../../engines/allure2/package.json"),
    lock: include_str!("../../engines/allure2/package-lock.json"),
};

#[derive(Debug, Clone)]
pub struct AllureCli {
    pub path: PathBuf,
}

pub(crate) fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Where engines installed on first use live.
pub(crate) fn cache_root() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("allure-host")
}

impl AllureCli {
    /// ALLURE_BIN, then `allure` on PATH, then our cache. Never installs.
    pub fn find() -> Result<Option<Self>> {
        if let Some(bin) = std::env::var_os("ALLURE_BIN").filter(|v| !v.is_empty()) {
            let path = PathBuf::from(bin);
            if !path.is_file() {
                bail!(
                    "ALLURE_BIN points to {}, which is not a file; fix the path or unset ALLURE_BIN",
                    path.display()
                );
            }
            return Ok(Some(Self { path }));
        }
        let cached = Self::install_dir().join("node_modules/.bin/allure");
        Ok(on_path("allure")
            .or_else(|| cached.is_file().then_some(cached))
            .map(|path| Self { path }))
    }

    /// Where `install` puts the pinned release.
    pub fn install_dir() -> PathBuf {
        cache_root().join(format!("allure-commandline-{}", PIN.version()))
    }

    /// `npm ci` of the pin into `install_dir()` (first use).
    pub async fn install() -> Result<Self> {
        let Some(npm) = on_path("npm") else {
            bail!(
                "the Allure 2 CLI was not found: install it (`npm install -g allure-commandline@{}`, needs Java) or set ALLURE_BIN to its path",
                PIN.version()
            );
        };
        let dir = Self::install_dir();
        PIN.install(&npm, &dir, &[])
            .await
            .context("install the Allure CLI yourself or set ALLURE_BIN")?;
        let path = dir.join("node_modules/.bin/allure");
        if !path.is_file() {
            bail!("npm finished but {} is missing", path.display());
        }
        Ok(Self { path })
    }

    pub async fn version(&self) -> Result<String> {
        let out = Command::new(&self.path)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("cannot run {}", self.path.display()))?;
        if !out.status.success() {
            bail!(
                "{} --version failed (is Java installed?): {}",
                self.path.display(),
                tail(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// `allure generate <dirs...> -o <out> --clean`, with the JVM tuned for
    /// a short run (`jvm`).
    pub async fn generate(&self, results: &[&Path], out_dir: &Path) -> Result<()> {
        let archive = ClassArchive::for_cli(&self.path);
        let user_opts = std::env::var("JAVA_OPTS").ok();
        let mut cmd = Command::new(&self.path);
        cmd.env(
            "JAVA_OPTS",
            jvm::java_opts(archive.option(), user_opts.as_deref()),
        )
        .arg("generate");
        for dir in results {
            cmd.arg(dir);
        }
        cmd.arg("-o")
            .arg(out_dir)
            .arg("--clean")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A publish stopped by a signal drops this future: the JVM goes too.
        let out = super::engine_process::output(&mut cmd)
            .await
            .with_context(|| format!("cannot run {}", self.path.display()))?;
        let index = out_dir.join("index.html");
        archive.settle(out.status.success());
        if !out.status.success() || !index.is_file() {
            bail!(
                "allure generate failed (exit {}): {}{}",
                out.status,
                tail(&out.stderr),
                tail(&out.stdout)
            );
        }
        Ok(())
    }
}

/// Where Allure's class-data-sharing archive is: beside an install that
/// carries one (the image builds `/opt/allure/allure.jsa`), else in our
/// cache under a name that changes with Allure's and Java's files, so an
/// upgrade makes a new one.
///
/// Making one costs the run that makes it about a second, which a machine
/// that forgets its cache after every job (a hosted CI runner) would pay
/// on every run. So the first run only leaves a mark; a run that finds the
/// mark, on a machine whose cache persists, makes the archive (aside,
/// renamed into place once the run succeeds); later runs use it.
struct ClassArchive {
    path: PathBuf,
    state: ArchiveState,
}

enum ArchiveState {
    Ready,
    /// This run makes it, into this file.
    Making(PathBuf),
    /// First run here: marked, not made.
    Marked,
}

impl ClassArchive {
    fn for_cli(cli: &Path) -> Self {
        let install = std::fs::canonicalize(cli).unwrap_or_else(|_| cli.to_path_buf());
        let beside = install
            .parent()
            .and_then(Path::parent)
            .map(|d| d.join("allure.jsa"));
        if let Some(path) = beside.filter(|p| p.is_file()) {
            return Self {
                path,
                state: ArchiveState::Ready,
            };
        }
        let java = std::env::var_os("JAVA_HOME")
            .map(|h| PathBuf::from(h).join("bin/java"))
            .filter(|p| p.is_file())
            .or_else(|| on_path("java"));
        let mut key = Sha256::new();
        for file in [Some(install), java].into_iter().flatten() {
            let file = std::fs::canonicalize(&file).unwrap_or(file);
            let modified = std::fs::metadata(&file).and_then(|m| m.modified()).ok();
            key.update(format!("{}\n{modified:?}\n", file.display()));
        }
        let key = crate::model::access::hex(&key.finalize()[..8]);
        let path = cache_root().join("jvm").join(format!("allure-{key}.jsa"));
        let mark = path.with_extension("seen");
        let state = if path.is_file() {
            ArchiveState::Ready
        } else if mark.is_file() {
            ArchiveState::Making(path.with_extension(format!("jsa.{}.part", std::process::id())))
        } else {
            // Best effort: without a writable cache, runs go without one.
            let _ = std::fs::create_dir_all(cache_root().join("jvm"))
                .and_then(|()| std::fs::write(&mark, b""));
            ArchiveState::Marked
        };
        Self { path, state }
    }

    fn option(&self) -> jvm::Archive<'_> {
        match &self.state {
            ArchiveState::Ready => jvm::Archive::Use(&self.path),
            ArchiveState::Making(part) => jvm::Archive::Create(part),
            ArchiveState::Marked => jvm::Archive::Without,
        }
    }

    /// The archive this run made becomes the one runs use if the run
    /// succeeded; a failed run's is dropped (the JVM writes it at exit).
    fn settle(&self, succeeded: bool) {
        if let ArchiveState::Making(part) = &self.state {
            let _ = if succeeded {
                std::fs::rename(part, &self.path)
            } else {
                std::fs::remove_file(part)
            };
        }
    }
}

/// The last lines of a process's output, for error messages.
pub(crate) fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().rev().take(8).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("\n")
}
