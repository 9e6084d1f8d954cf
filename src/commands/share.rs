//! `allure-host share`: a signed link that opens a report of a private site.

use anyhow::{Context, Result, bail};
use chrono::Utc;

use crate::cli::ShareArgs;
use crate::model::access::{Scope, scope_path, signed_url};
use crate::model::layout::Layout;
use crate::model::run_id::RunId;
use crate::model::time::utc_minute;
use crate::output::Output;
use crate::settings::{self, MAX_LINK_DAYS, Settings};

pub fn run(args: &ShareArgs, out: &Output) -> Result<bool> {
    let (settings, warnings) = settings::load(&args.settings, args.config.as_deref())?;
    for w in warnings {
        out.warning(&w);
    }
    let key = settings.access.access_key.as_ref().context(
        "no access key: set ALLURE_ACCESS_KEY to the key `allure-host infra setup` (or `infra access rotate`) printed",
    )?;
    let days = args.days.unwrap_or(settings.access.link_days);
    if !(1..=MAX_LINK_DAYS).contains(&days) {
        bail!("--days must be between 1 and {MAX_LINK_DAYS}");
    }
    let (url, path) = target_url(&args.target, &settings)?;
    let scope = args.scope.as_deref().map(|s| match s {
        "run" => Scope::Run,
        "branch" => Scope::Branch,
        "project" => Scope::Project,
        _ => Scope::All,
    });
    let scope = scope_path(&path, &settings.place.prefix, scope)?;
    let expires = Utc::now() + chrono::Duration::days(i64::from(days));
    out.note(format_args!(
        "Opens {scope} until {} (key {})",
        utc_minute(expires.timestamp()),
        key.id
    ));
    out.line(signed_url(&url, key, &scope, expires.timestamp()));
    Ok(true)
}

/// The URL to sign and its path: a URL as given (without query or
/// fragment), or PROJECT/BRANCH[/RUN] on the configured site.
fn target_url(target: &str, settings: &Settings) -> Result<(String, String)> {
    if let Some(rest) = target
        .strip_prefix("https://")
        .or_else(|| target.strip_prefix("http://"))
    {
        let url = target
            .split(['?', '#'])
            .next()
            .unwrap_or(target)
            .to_string();
        let path = match rest.split(['?', '#']).next().unwrap_or("").find('/') {
            Some(i) => rest[i..]
                .split(['?', '#'])
                .next()
                .unwrap_or("/")
                .to_string(),
            None => "/".to_string(),
        };
        return Ok((url, path));
    }
    let base = settings.access.cloudfront.as_ref().context(
        "no site URL to put the link on: give a full report URL, or set --cloudfront (allure-host.yml from `infra setup` has it)",
    )?;
    let parts: Vec<&str> = target.split('/').filter(|p| !p.is_empty()).collect();
    let key = match parts.as_slice() {
        [project] => Layout::new(&settings.place.prefix, project, "main")?
            .project_page()
            .into_string(),
        [project, branch] => Layout::new(&settings.place.prefix, project, branch)?
            .latest_page()
            .into_string(),
        [project, branch, run] => {
            Layout::new(&settings.place.prefix, project, branch)?.run_root(&RunId::new(*run)?)
        }
        _ => bail!("{target:?} is neither a URL nor PROJECT/BRANCH[/RUN]"),
    };
    let key = key.strip_suffix("index.html").unwrap_or(&key).to_string();
    Ok((format!("{base}/{key}"), format!("/{key}")))
}
