//! The pages' stylesheet and script, served from the site itself (so a
//! strict Content-Security-Policy allows them) under names that carry a
//! hash of their content: written once, cached for good.

use sha2::{Digest, Sha256};

pub const CSS: &str = include_str!("../../templates/pages.css");
pub const JS: &str = include_str!("../../templates/pages.js");

/// The hash of both files, taken once per process.
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let digest = Sha256::digest(format!("{CSS}\0{JS}").as_bytes());
    digest[..5].iter().map(|b| format!("{b:02x}")).collect()
});

fn version() -> &'static str {
    &VERSION
}

/// File names under the project's `~assets/` folder.
pub fn css_name() -> String {
    format!("pages-{}.css", version())
}
pub fn js_name() -> String {
    format!("pages-{}.js", version())
}

/// (name, content) of every asset.
pub fn files() -> [(String, &'static str); 2] {
    [(css_name(), CSS), (js_name(), JS)]
}
