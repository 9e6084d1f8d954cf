//! The claim on a run folder, judged when another publisher wants the id.
#![no_main]

use allure_host::model::claim::{Claim, ClaimState, LEASE_SECS, Verdict};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let parsed: Option<Claim> = serde_json::from_slice(data).ok();
    if let Some(c) = &parsed {
        let again: Claim = serde_json::from_slice(&c.to_json()).expect("our own claim parses");
        assert_eq!(&again, c, "parse(to_json(c)) == c");
    }
    for now in [NOW, NOW + LEASE_SECS * 1000] {
        let verdict = Claim::judge(Some(data), now);
        match (&parsed, &verdict) {
            (None, v) => assert_eq!(v, &Verdict::Free { stale: None }, "unreadable is stale"),
            (Some(c), Verdict::Published) => assert_eq!(c.state, ClaimState::Published),
            (Some(c), Verdict::Held(h)) => {
                assert_eq!(h, c);
                assert_eq!(c.state, ClaimState::Uploading);
                // A live lease was renewed less than LEASE_SECS ago.
                assert!(i128::from(now) - i128::from(c.renewed) < i128::from(LEASE_SECS));
            }
            (Some(c), Verdict::Free { stale }) => {
                assert_eq!(stale.as_ref(), Some(c));
                assert_ne!(c.state, ClaimState::Published);
            }
        }
    }
});
