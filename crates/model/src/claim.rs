//! The claim on a run folder: written with a conditional create before the
//! first byte of a run is uploaded, so that only one publisher ever writes
//! into a run folder. A claim is a lease: its holder renews it while it
//! works, and a claim not renewed for `LEASE_SECS` (its publisher died) or
//! given up after a failure may be taken over.

use serde::{Deserialize, Serialize};

/// How long a claim holds without renewal.
pub const LEASE_SECS: i64 = 120;
/// How often a holder renews its claim; well inside the lease.
pub const RENEW_SECS: u64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimState {
    /// Its holder is writing the run.
    Uploading,
    /// Its holder failed and gave the run id up.
    Abandoned,
    /// The run is complete and listed.
    Published,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub run_id: String,
    /// Random, per publish: tells the holder apart from everyone else.
    pub token: String,
    pub state: ClaimState,
    /// Epoch seconds.
    pub started: i64,
    pub renewed: i64,
    /// The CI build that holds it, when known (for the message others see).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// What a publisher that wants a run id finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nobody holds it: take it (over `stale`, whose files must go first).
    Free { stale: Option<Claim> },
    /// Another publisher is writing it now.
    Held(Claim),
    /// The run was published already.
    Published,
}

impl Claim {
    pub fn new(run_id: &str, token: &str, by: Option<String>, now: i64) -> Self {
        Self {
            run_id: run_id.to_string(),
            token: token.to_string(),
            state: ClaimState::Uploading,
            started: now,
            renewed: now,
            by,
        }
    }

    /// When the claim lapses unless renewed (epoch seconds).
    pub fn lapses_at(&self) -> i64 {
        self.renewed.saturating_add(LEASE_SECS)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("claim serialises")
    }

    /// Judge the stored claim (`None`: no claim). An unreadable claim is
    /// stale: whoever wrote it left no lease we could honour.
    pub fn judge(stored: Option<&[u8]>, now: i64) -> Verdict {
        let Some(bytes) = stored else {
            return Verdict::Free { stale: None };
        };
        let Ok(claim) = serde_json::from_slice::<Claim>(bytes) else {
            return Verdict::Free { stale: None };
        };
        match claim.state {
            ClaimState::Published => Verdict::Published,
            // Saturating: a renewal time out of range reads as long ago. A
            // renewal more than a lease ahead of our clock is no live
            // publisher's either: held only within a lease either side.
            ClaimState::Uploading
                if now.saturating_sub(claim.renewed).unsigned_abs() < LEASE_SECS.unsigned_abs() =>
            {
                Verdict::Held(claim)
            }
            _ => Verdict::Free { stale: Some(claim) },
        }
    }
}

/// A run id to suggest instead of `taken`: the first `<taken>-N` that is not
/// in `used`.
pub fn alternative(taken: &str, used: impl Fn(&str) -> bool) -> String {
    alternatives(taken)
        .find(|id| !used(id))
        .expect("some suffix is free")
}

/// The ids to suggest instead of `taken`, in order: `<taken>-2`, `-3`, ...
pub fn alternatives(taken: &str) -> impl Iterator<Item = String> + '_ {
    (2u32..).map(move |n| format!("{taken}-{n}"))
}

/// `14:05:09 UTC`: a time within the next minutes, as a claim's lapse is
/// told; the raw number when out of range.
pub fn clock(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%H:%M:%S UTC").to_string())
        .unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(state: ClaimState, renewed: i64) -> Vec<u8> {
        let mut c = Claim::new("42-1", "t", None, 0);
        c.state = state;
        c.renewed = renewed;
        c.to_json()
    }

    #[test]
    fn a_live_claim_holds_and_a_dead_one_is_free() {
        let now = 1_000;
        assert_eq!(Claim::judge(None, now), Verdict::Free { stale: None });
        let live = stored(ClaimState::Uploading, now - LEASE_SECS + 1);
        assert!(matches!(Claim::judge(Some(&live), now), Verdict::Held(_)));
        let dead = stored(ClaimState::Uploading, now - LEASE_SECS);
        assert!(matches!(
            Claim::judge(Some(&dead), now),
            Verdict::Free { stale: Some(_) }
        ));
        let given_up = stored(ClaimState::Abandoned, now);
        assert!(matches!(
            Claim::judge(Some(&given_up), now),
            Verdict::Free { stale: Some(_) }
        ));
        let done = stored(ClaimState::Published, 0);
        assert_eq!(Claim::judge(Some(&done), now), Verdict::Published);
        assert_eq!(
            Claim::judge(Some(b"garbage"), now),
            Verdict::Free { stale: None }
        );
    }

    #[test]
    fn a_claim_lapses_a_lease_after_its_last_renewal() {
        let mut c = Claim::new("42-1", "t", None, 0);
        c.renewed = 1_795_485_900;
        assert_eq!(c.lapses_at(), 1_795_485_900 + LEASE_SECS);
        assert_eq!(clock(c.lapses_at()), "02:07:00 UTC");
        c.renewed = i64::MAX;
        assert_eq!(c.lapses_at(), i64::MAX);
        assert_eq!(clock(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn a_claim_renewed_at_the_start_of_time_is_dead_not_held_forever() {
        // Found by the claim fuzz target: the lease arithmetic overflowed
        // (a panic in debug builds; in release it wrapped, and the claim
        // held the run id for good).
        let ancient = stored(ClaimState::Uploading, i64::MIN);
        assert!(matches!(
            Claim::judge(Some(&ancient), 1_000),
            Verdict::Free { stale: Some(_) }
        ));
    }

    #[test]
    fn a_claim_renewed_far_in_the_future_is_dead_not_held_forever() {
        let now = 1_000;
        let skewed = stored(ClaimState::Uploading, now + LEASE_SECS - 1);
        assert!(matches!(Claim::judge(Some(&skewed), now), Verdict::Held(_)));
        for renewed in [now + LEASE_SECS, i64::MAX] {
            let future = stored(ClaimState::Uploading, renewed);
            assert!(matches!(
                Claim::judge(Some(&future), now),
                Verdict::Free { stale: Some(_) }
            ));
        }
    }

    #[test]
    fn the_suggested_id_is_free() {
        assert_eq!(alternative("42-1", |_| false), "42-1-2");
        assert_eq!(alternative("42-1", |id| id == "42-1-2"), "42-1-3");
    }
}
