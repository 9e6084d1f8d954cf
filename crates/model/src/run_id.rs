//! Run ids: the id a reader sees and the key segment it is stored under,
//! and the default id when neither the user nor the CI gives one.

use chrono::{DateTime, Utc};

use super::layout::{Layout, LayoutError};

/// A run id with its key segment, checked once against the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunId {
    id: String,
    segment: String,
}

impl RunId {
    pub fn new(id: impl Into<String>) -> Result<Self, LayoutError> {
        let id = id.into();
        let segment = Layout::run_segment(&id)?;
        Ok(Self { id, segment })
    }
    pub fn as_str(&self) -> &str {
        &self.id
    }
    /// The folder name under the branch (`~`-encoded where needed).
    pub fn segment(&self) -> &str {
        &self.segment
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)
    }
}

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

    #[test]
    fn a_run_id_carries_its_segment() {
        let r = RunId::new("a/b").unwrap();
        assert_eq!(r.as_str(), "a/b");
        assert_eq!(r.segment(), Layout::run_segment("a/b").unwrap());
        assert!(RunId::new("latest").is_err());
    }
}
