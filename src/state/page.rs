//! Documents that carry their version (a page the revision of its basis, a
//! badge its run's build order): one is replaced only by a newer version.

use super::{StateError, no_cache};
use crate::pages;
use crate::storage::cas::{self, Step};
use crate::storage::{ObjectKey, Store};

/// Write a page unless the stored one already carries `revision` or newer
/// of the same basis.
pub async fn write_if_newer(
    store: &Store,
    key: &ObjectKey,
    html: String,
    revision: u64,
) -> Result<bool, StateError> {
    let basis = pages::basis_of(html.as_bytes()).map(str::to_string);
    let revision_there = |stored: &[u8]| {
        (pages::basis_of(stored) == basis.as_deref())
            .then(|| pages::revision_of(stored))
            .flatten()
    };
    write_unless_newer(store, key, html.into_bytes(), revision, revision_there).await
}

/// Write `body` of `version` unless what is stored says (`version_of`) it
/// is that version or newer. Returns true when it was written.
pub async fn write_unless_newer(
    store: &Store,
    key: &ObjectKey,
    body: Vec<u8>,
    version: u64,
    version_of: impl Fn(&[u8]) -> Option<u64>,
) -> Result<bool, StateError> {
    let written = cas::update(store, key, &no_cache(key), |current| {
        let newer_there = current.and_then(&version_of).is_some_and(|v| v >= version);
        Ok::<_, std::convert::Infallible>(if newer_there {
            Step::Keep(false)
        } else {
            Step::Write(body.clone(), true)
        })
    })
    .await?;
    Ok(written)
}
