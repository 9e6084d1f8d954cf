//! Epoch seconds, as the documents store them, and as people read them.

pub const DAY_SECS: i64 = 86_400;

/// `2026-11-23 14:05 UTC`; the raw number when out of chrono's range.
pub fn utc_minute(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_in_utc() {
        assert_eq!(utc_minute(1_795_485_900), "2026-11-24 02:05 UTC");
        assert_eq!(utc_minute(i64::MAX), i64::MAX.to_string());
    }
}
