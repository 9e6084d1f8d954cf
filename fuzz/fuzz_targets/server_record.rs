//! `~allure-host/server/<endpoint>.json`, the measurement of a bucket's
//! server as any writer (or a hand edit) left it: what is accepted names
//! this endpoint and every capability once, is recent, round-trips, and is
//! judged safe only when every binding finding holds.
#![no_main]

use allure_host::model::server::{Capability, Judgement, ServerRecord, judge};
use libfuzzer_sys::fuzz_target;

const ENDPOINT: &str = "http://s3.local:9000";
/// 2026-12-05T00:00:00Z.
const NOW: i64 = 1_796_428_800;

fuzz_target!(|data: &[u8]| {
    let Some(record) = ServerRecord::parse_for(data, ENDPOINT, NOW) else {
        return;
    };
    assert_eq!(
        record.endpoint, ENDPOINT,
        "another endpoint's record is never used"
    );
    for c in Capability::ALL {
        let named = record.findings.iter().filter(|f| f.capability == c).count();
        assert_eq!(named, 1, "{c:?} is named once");
    }
    let again = ServerRecord::parse_for(&record.to_json(), ENDPOINT, NOW);
    assert_eq!(again.as_ref(), Some(&record), "parse(to_json(r)) == r");
    assert!(ServerRecord::parse_for(data, "http://other:9000", NOW).is_none());

    let binding_broken = record
        .findings
        .iter()
        .any(|f| !f.honoured && f.capability != Capability::RacingWriters);
    for accept in [false, true] {
        match judge(&record, accept) {
            Judgement::Safe => assert!(
                record.findings.iter().all(|f| f.honoured),
                "safe only when everything holds"
            ),
            Judgement::Caution(_) => assert!(!binding_broken, "a caution is only of a race"),
            Judgement::Accepted(_) => assert!(accept && binding_broken),
            Judgement::Refused(_) => assert!(binding_broken),
        }
    }
});
