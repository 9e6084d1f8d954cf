//! `executor.json`: tells Allure who built the run, so each trend point links
//! back to its report and its CI build. Pure.
//!
//! A report has exactly one executor. Results that carry their own
//! `executor.json` (many CI setups write one) are given ours instead, which
//! keeps their name, type and build link: Allure 2 would list both and link
//! the trend to whichever it read first.

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

/// `ours`, with the name, type and build URL of `theirs` (the bytes of the
/// results' own executor.json) where it gives them. The report URL, build
/// order and names stay ours, so the trend links to our runs. An
/// unreadable file gives nothing.
pub fn adopt(ours: Executor, theirs: &[u8]) -> Executor {
    let theirs: serde_json::Value = serde_json::from_slice(theirs).unwrap_or_default();
    let given = |field: &str| {
        theirs
            .get(field)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    Executor {
        name: given("name").unwrap_or(ours.name),
        kind: given("type").unwrap_or(ours.kind),
        build_url: given("buildUrl").or(ours.build_url),
        ..ours
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> Executor {
        executor(ExecutorInput {
            ci_name: "allure-host",
            ci_kind: "local",
            project: "shop",
            branch: "main",
            run_id: "r2",
            build_order: 2,
            build_url: None,
            report_url: "https://cdn/r/shop/main/r2/index.html",
        })
    }

    #[test]
    fn their_name_type_and_build_link_are_kept_and_the_rest_is_ours() {
        let theirs = br##"{"name":"Jenkins","type":"jenkins","buildName":"#77","buildOrder":77,
            "buildUrl":"https://ci/job/77/","reportUrl":"https://ci/job/77/allure","reportName":"x"}"##;
        let e = adopt(ours(), theirs);
        assert_eq!(e.name, "Jenkins");
        assert_eq!(e.kind, "jenkins");
        assert_eq!(e.build_url.as_deref(), Some("https://ci/job/77/"));
        assert_eq!(
            Executor {
                name: "allure-host".into(),
                kind: "local".into(),
                build_url: None,
                ..e
            },
            ours()
        );
    }

    #[test]
    fn what_their_file_leaves_out_or_garbles_is_ours() {
        let mut with_build = ours();
        with_build.build_url = Some("https://github.com/o/r/actions/runs/1".into());
        for theirs in [
            &b"{}"[..],
            b"not json",
            b"[1]",
            br#"{"name":"  ","buildUrl":7}"#,
        ] {
            assert_eq!(adopt(with_build.clone(), theirs), with_build);
        }
        let e = adopt(ours(), br#"{"buildUrl":"https://ci/b/1"}"#);
        assert_eq!(
            (e.name.as_str(), e.build_url.as_deref()),
            ("allure-host", Some("https://ci/b/1"))
        );
    }

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
