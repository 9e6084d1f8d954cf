//! Which Allure generates a run's report. Stored in the manifest as the
//! major version (`"allure": 3`); manifests written before it say nothing,
//! which means 2.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Engine {
    /// The Java command line (`allure-commandline`).
    #[default]
    Allure2,
    /// The npm package `allure` (TypeScript, plugins).
    Allure3,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Allure {0} is not an engine this version knows; use 2 or 3")]
pub struct UnknownEngine(pub u8);

impl TryFrom<u8> for Engine {
    type Error = UnknownEngine;
    fn try_from(major: u8) -> Result<Self, UnknownEngine> {
        match major {
            2 => Ok(Self::Allure2),
            3 => Ok(Self::Allure3),
            other => Err(UnknownEngine(other)),
        }
    }
}

impl From<Engine> for u8 {
    fn from(engine: Engine) -> u8 {
        engine.major()
    }
}

impl Engine {
    pub fn major(self) -> u8 {
        match self {
            Self::Allure2 => 2,
            Self::Allure3 => 3,
        }
    }

    pub fn is_allure2(&self) -> bool {
        *self == Self::Allure2
    }

    /// The fragment of a report's URL that opens test `uid` (its id in that
    /// run's report): Allure 2 routes `#testresult/<uid>`, Allure 3's
    /// Awesome report `#<id>`.
    pub fn test_link(self, uid: &str) -> String {
        match self {
            Self::Allure2 => format!("#testresult/{uid}"),
            Self::Allure3 => format!("#{uid}"),
        }
    }

    /// The files in a run's `history/` folder that carry its trend to the
    /// next run: Allure 2's trend JSON, or Allure 3's one JSONL file.
    pub fn history_files(self) -> &'static [&'static str] {
        match self {
            Self::Allure2 => &[
                "history.json",
                "history-trend.json",
                "duration-trend.json",
                "categories-trend.json",
                "retry-trend.json",
            ],
            Self::Allure3 => &[HISTORY_JSONL],
        }
    }
}

/// Allure 3's history: one JSON line per run, kept in the run's `history/`.
pub const HISTORY_JSONL: &str = "history.jsonl";

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Allure {}", self.major())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_as_its_major_version() {
        assert_eq!(serde_json::to_string(&Engine::Allure3).unwrap(), "3");
        let e: Engine = serde_json::from_str("2").unwrap();
        assert_eq!(e, Engine::Allure2);
        assert!(serde_json::from_str::<Engine>("4").is_err());
        assert_eq!(Engine::try_from(1), Err(UnknownEngine(1)));
        assert_eq!(Engine::Allure3.to_string(), "Allure 3");
    }
}
