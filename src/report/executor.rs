//! `executor.json`: tells Allure who built the run, so each trend point links
//! back to its report and its CI build. Pure.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Executor {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub build_name: String,
    pub build_order: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_url: Option<String>,
    pub report_url: String,
    pub report_name: String,
}

pub struct ExecutorInput<'a> {
    /// The CI's name, and its type as Allure names executor types (it has
    /// icons for them).
    pub ci_name: &'a str,
    pub ci_kind: &'a str,
    pub project: &'a str,
    pub branch: &'a str,
    pub run_id: &'a str,
    pub build_order: u64,
    pub build_url: Option<&'a str>,
    pub report_url: &'a str,
}

pub fn executor(input: ExecutorInput<'_>) -> Executor {
    Executor {
        name: input.ci_name.to_string(),
        kind: input.ci_kind.to_string(),
        build_name: format!(
            "{} / {} #{} ({})",
            input.project, input.branch, input.build_order, input.run_id
        ),
        build_order: input.build_order,
        build_url: input.build_url.map(str::to_string),
        report_url: input.report_url.to_string(),
        report_name: format!("{} ({})", input.project, input.branch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executor_json_has_the_fields_allure_reads() {
        let e = executor(ExecutorInput {
            ci_name: "GitHub Actions",
            ci_kind: "github",
            project: "shop",
            branch: "main",
            run_id: "77-1",
            build_order: 7,
            build_url: Some("https://github.com/o/shop/actions/runs/77"),
            report_url: "https://cdn/r/shop/main/77-1/index.html",
        });
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["name"], "GitHub Actions");
        assert_eq!(v["type"], "github");
        assert_eq!(v["buildOrder"], 7);
        assert_eq!(v["buildName"], "shop / main #7 (77-1)");
        assert_eq!(v["buildUrl"], "https://github.com/o/shop/actions/runs/77");
        assert_eq!(v["reportUrl"], "https://cdn/r/shop/main/77-1/index.html");
        assert_eq!(v["reportName"], "shop (main)");
    }
}
