//! Pages derived from a document carry its revision; a page is replaced only
//! by one derived from a newer revision of the same basis.

use super::{StateError, no_cache};
use crate::pages;
use crate::storage::cas::{self, Step};
use crate::storage::{ObjectKey, Store};

/// Write a page unless the stored one already carries `revision` or newer.
pub async fn write_if_newer(
    store: &Store,
    key: &ObjectKey,
    html: String,
    revision: u64,
) -> Result<bool, StateError> {
    let written = cas::update(store, key, &no_cache(key), |current| {
        let basis = pages::basis_of(html.as_bytes());
        let newer_there = current
            .filter(|stored| pages::basis_of(stored) == basis)
            .and_then(pages::revision_of)
            .is_some_and(|r| r >= revision);
        Ok::<_, std::convert::Infallible>(if newer_there {
            Step::Keep(false)
        } else {
            Step::Write(html.clone().into_bytes(), true)
        })
    })
    .await?;
    Ok(written)
}
