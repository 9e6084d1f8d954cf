//! `allure-host.yml`, as pytest-allure-host users and `infra setup` write
//! it: parse, then resolve into settings as a publish would.
#![no_main]

use std::path::Path;

use allure_host::settings::ci::{Ci, CiContext};
use allure_host::settings::layer::Layer;
use allure_host::settings::{Workdir, file, resolve};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("allure-host.yml");
    let Ok((layer, _unknown)) = file::parse(text, path) else {
        return;
    };
    let key_in_file = layer.access_key.is_some();
    let ci = CiContext {
        layer: Layer::default(),
        kind: Ci::Local,
        build_url: None,
        job: None,
    };
    let resolved = resolve(
        Layer::default(),
        Layer::default(),
        layer,
        ci,
        &Workdir::at("/work/fuzz-project"),
    );
    // The access key is a secret: a committed file never supplies it.
    assert!(
        !(key_in_file && resolved.is_ok()),
        "access key taken from the file"
    );
});
