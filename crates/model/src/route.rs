//! How a site URL maps to a stored object: the rules of the CloudFront
//! Function (`infra/viewer-request.js`), so `allure-host serve` answers a
//! local site exactly as the distribution answers the bucket.

/// What a request path is answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The object at this key (no leading slash).
    Object(String),
    /// 301 to this location (a folder URL without its slash).
    Redirect(String),
}

/// Route a decoded request path (starting with '/') and its raw query.
pub fn route(path: &str, query: Option<&str>) -> Route {
    if path.ends_with('/') {
        return Route::Object(format!("{}index.html", &path[1..]));
    }
    let last = &path[path.rfind('/').map_or(0, |i| i + 1)..];
    if has_extension(last) {
        return Route::Object(path[1..].to_string());
    }
    let query = query.filter(|q| !q.is_empty());
    Route::Redirect(match query {
        Some(q) => format!("{path}/?{q}"),
        None => format!("{path}/"),
    })
}

/// A dot then 1-10 letters or digits, at least one a letter: ".json" and
/// ".woff2" are files, the ".12" of run id "9001-1-python-3.12" is not.
fn has_extension(name: &str) -> bool {
    let Some((_, ext)) = name.rsplit_once('.') else {
        return false;
    };
    (1..=10).contains(&ext.len())
        && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        && ext.bytes().any(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str) -> Route {
        Route::Object(key.into())
    }

    #[test]
    fn folder_urls_are_served_their_index_html() {
        assert_eq!(route("/", None), object("index.html"));
        assert_eq!(
            route("/reports/web/main/latest/", None),
            object("reports/web/main/latest/index.html")
        );
    }

    #[test]
    fn files_pass_through() {
        for path in [
            "/reports/web/main/1/app.js",
            "/reports/web/main/1/data/attachments/4f1c-attachment.woff2",
            "/reports/web/main/runs/index.json",
        ] {
            assert_eq!(route(path, None), object(&path[1..]));
        }
    }

    #[test]
    fn a_folder_without_its_slash_is_redirected_keeping_the_query() {
        assert_eq!(
            route("/reports/web/main/9001-1-python-3.12", None),
            Route::Redirect("/reports/web/main/9001-1-python-3.12/".into())
        );
        assert_eq!(
            route("/reports/web/main/latest", Some("tab=graphs")),
            Route::Redirect("/reports/web/main/latest/?tab=graphs".into())
        );
        assert_eq!(
            route("/x/y.toolongextension", None),
            Route::Redirect("/x/y.toolongextension/".into())
        );
    }
}
