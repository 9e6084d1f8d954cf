//! Test counts and duration, read from the generated report's
//! `widgets/summary.json`.

use serde::Deserialize;

use crate::model::stats::Stats;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportSummary {
    pub stats: Stats,
    pub duration_ms: u64,
}

#[derive(Deserialize)]
struct Raw {
    statistic: Stats,
    #[serde(default)]
    time: RawTime,
}

#[derive(Deserialize, Default)]
struct RawTime {
    #[serde(default)]
    duration: Option<u64>,
}

/// A test-run duration for readers: `12.3s`, `1m 05s`.
pub fn human_duration(ms: u64) -> String {
    if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

pub fn parse(bytes: &[u8]) -> Result<ReportSummary, serde_json::Error> {
    let raw: Raw = serde_json::from_slice(bytes)?;
    Ok(ReportSummary {
        stats: raw.statistic,
        duration_ms: raw.time.duration.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_allure_2_summary_widget() {
        let s = parse(br#"{"reportName":"Allure Report","testRuns":[],"statistic":{"failed":1,"broken":1,"skipped":2,"passed":5,"unknown":0,"total":9},"time":{"start":1,"stop":2,"duration":8202}}"#).unwrap();
        assert_eq!(s.stats.passed, 5);
        assert_eq!(s.stats.total, 9);
        assert_eq!(s.duration_ms, 8202);
    }

    #[test]
    fn missing_time_is_zero() {
        let s = parse(br#"{"statistic":{"passed":1,"total":1},"time":{}}"#).unwrap();
        assert_eq!(s.duration_ms, 0);
    }
}
