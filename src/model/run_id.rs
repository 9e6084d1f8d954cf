//! Default run ids when neither the user nor the CI gives one.

use chrono::{DateTime, Utc};

/// `YYYYMMDD-HHMMSS-xxxxxx`: sorts by time like pytest-allure-host's ids, and
/// the 24 random bits keep two publishes in the same second apart. (A clash
/// with a published run is still detected and a new id drawn.)
pub fn generate(now: DateTime<Utc>, random: u32) -> String {
    format!("{}-{:06x}", now.format("%Y%m%d-%H%M%S"), random & 0xff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_in_the_same_second_differ_by_their_random_part() {
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 4, 12, 0).unwrap();
        assert_eq!(generate(t, 0xabcdef), "20261122-041200-abcdef");
        assert_ne!(generate(t, 1), generate(t, 2));
    }
}
