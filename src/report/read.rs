//! What a publish reads back from a generated report, whichever Allure
//! wrote it: the engine is told by the report's own files.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::allure3::output as allure3;
use super::summary::{self, ReportSummary};
use super::{failures, test_index};
use crate::model::changes::TestIndex;
use crate::model::engine::Engine;
use crate::model::quality_gate::QualityGate;
use crate::model::summary::FailedTest;

/// Allure 2's counts.
const ALLURE2_SUMMARY: &str = "widgets/summary.json";
const QUALITY_GATE: &str = "quality-gate.json";

pub struct ReadReport {
    pub engine: Engine,
    pub summary: ReportSummary,
    pub tests: TestIndex,
    /// The first few failed tests, and how many failed or broke in all.
    pub failed_tests: Vec<FailedTest>,
    pub failed_tests_total: usize,
    /// Allure 3's quality gate, when the project's allurerc has rules.
    pub quality_gate: Option<QualityGate>,
}

/// Allure 2 writes `widgets/summary.json`, Allure 3 `summary.json`.
pub fn engine_of(dir: &Path) -> Result<Engine> {
    if dir.join(ALLURE2_SUMMARY).is_file() {
        Ok(Engine::Allure2)
    } else if dir.join(allure3::SUMMARY).is_file() {
        Ok(Engine::Allure3)
    } else {
        bail!(
            "{} is not an Allure report: it has neither {ALLURE2_SUMMARY} (Allure 2) nor {} (Allure 3); pass the folder `allure generate` wrote",
            dir.display(),
            allure3::SUMMARY
        )
    }
}

pub fn read(dir: &Path, failed_listed: usize) -> Result<ReadReport> {
    let engine = engine_of(dir)?;
    let summary_file = match engine {
        Engine::Allure2 => ALLURE2_SUMMARY,
        Engine::Allure3 => allure3::SUMMARY,
    };
    let bytes = std::fs::read(dir.join(summary_file))
        .with_context(|| format!("cannot read the report's {summary_file}"))?;
    let parsed = match engine {
        Engine::Allure2 => summary::parse(&bytes),
        Engine::Allure3 => allure3::parse_summary(&bytes),
    };
    let summary = parsed.with_context(|| format!("the report's {summary_file} is not valid"))?;
    let (tests, (failed_tests, failed_tests_total)) = match engine {
        Engine::Allure2 => (test_index::read(dir), failures::read(dir, failed_listed)),
        Engine::Allure3 => (
            allure3::read_test_index(dir),
            allure3::read_failing(dir, failed_listed),
        ),
    };
    Ok(ReadReport {
        engine,
        summary,
        tests,
        failed_tests,
        failed_tests_total,
        quality_gate: quality_gate(dir, engine)?,
    })
}

fn quality_gate(dir: &Path, engine: Engine) -> Result<Option<QualityGate>> {
    let path = dir.join(QUALITY_GATE);
    if engine.is_allure2() || !path.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    allure3::parse_quality_gate(&bytes)
        .with_context(|| format!("the report's {QUALITY_GATE} is not valid"))
}
