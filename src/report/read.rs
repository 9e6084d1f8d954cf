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

/// Where each engine keeps what a publish reads.
struct Reader {
    summary_file: &'static str,
    parse_summary: fn(&[u8]) -> Result<ReportSummary, serde_json::Error>,
    test_index: fn(&Path) -> TestIndex,
    /// (the report, the folder with its tests' details, limit)
    failing: fn(&Path, &Path, usize) -> (Vec<FailedTest>, usize),
}

const ALLURE2: Reader = Reader {
    summary_file: ALLURE2_SUMMARY,
    parse_summary: summary::parse,
    test_index: test_index::read,
    failing: |dir, _, limit| failures::read(dir, limit),
};

const ALLURE3: Reader = Reader {
    summary_file: allure3::SUMMARY,
    parse_summary: allure3::parse_summary,
    test_index: allure3::read_test_index,
    failing: allure3::read_failing,
};

/// `details`: where the tests' own files are (`data/...`); the report
/// folder, except for a single-file report whose tests the driver wrote
/// aside.
pub fn read(dir: &Path, details: &Path, failed_listed: usize) -> Result<ReadReport> {
    let engine = engine_of(dir)?;
    let reader = match engine {
        Engine::Allure2 => ALLURE2,
        Engine::Allure3 => ALLURE3,
    };
    let file = reader.summary_file;
    let bytes = std::fs::read(dir.join(file))
        .with_context(|| format!("cannot read the report's {file}"))?;
    let summary = (reader.parse_summary)(&bytes)
        .with_context(|| format!("the report's {file} is not valid"))?;
    let tests = (reader.test_index)(details);
    let (failed_tests, failed_tests_total) = (reader.failing)(dir, details, failed_listed);
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
