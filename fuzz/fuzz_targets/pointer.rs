//! `latest.json` pointers (ours, a leg's, pytest-allure-host's) and the
//! build counter `runs/build-order.json`.
#![no_main]

use allure_host::model::pointer::{BuildCounter, LatestPointer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = LatestPointer::parse(data) {
        let again = LatestPointer::parse(&p.to_json()).expect("our own pointer parses");
        assert_eq!(again, p, "parse(to_json(p)) == p");
        assert_eq!(p.is_foreign(), p.build_order == 0);
    }
    if let Some(c) = BuildCounter::parse(data) {
        assert_eq!(BuildCounter::parse(&c.to_json()), Some(c));
    }
});
