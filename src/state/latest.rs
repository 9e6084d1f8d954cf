//! Latest pointers: `latest.json` of the branch (its newest run of any leg,
//! for tools and pytest-allure-host readers) and `variants/<leg>/latest.json`
//! of each matrix leg. A pointer never moves backwards by build order. The
//! pages readers open are derived from the manifest (see `manifest`).

use super::{StateError, no_cache};
use crate::model::pointer::LatestPointer;
use crate::storage::cas::{self, Step};
use crate::storage::{ObjectKey, Store};

/// A pointer as found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Absent,
    Shown(LatestPointer),
    /// Present but unreadable (truncated, hand-written, another format).
    Damaged {
        key: String,
        reason: String,
    },
}

impl Found {
    pub fn pointer(&self) -> Option<&LatestPointer> {
        match self {
            Found::Shown(p) => Some(p),
            _ => None,
        }
    }
}

pub async fn read(store: &Store, key: &str) -> Result<Found, StateError> {
    Ok(match store.get(key).await? {
        None => Found::Absent,
        Some(obj) => match LatestPointer::parse(&obj.body) {
            Ok(p) => Found::Shown(p),
            Err(e) => Found::Damaged {
                key: key.to_string(),
                reason: e.to_string(),
            },
        },
    })
}

/// Point `key` at `pointer`'s run unless a newer build is shown; a damaged
/// pointer is replaced. Returns true when the pointer moved.
pub async fn advance(
    store: &Store,
    key: &ObjectKey,
    pointer: &LatestPointer,
) -> Result<bool, StateError> {
    let moved = cas::update(store, key, &no_cache(key), |current| {
        let shown = current.and_then(|b| LatestPointer::parse(b).ok());
        Ok::<_, std::convert::Infallible>(match shown {
            Some(p) if p.build_order >= pointer.build_order => Step::Keep(false),
            _ => Step::Write(pointer.to_json(), true),
        })
    })
    .await?;
    Ok(moved)
}
