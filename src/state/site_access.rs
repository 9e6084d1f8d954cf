//! The site's access modes as the bucket records them (no secret), read by
//! publishers so they know whether plain links open.

use crate::model::access::{RECORD_KEY, SiteAccess};
use crate::storage::Store;

/// None for a local site, a site set up before access modes, or a publisher
/// not allowed to read the record: then nothing is claimed about access.
pub async fn read(store: &Store) -> Option<SiteAccess> {
    if store.is_local() {
        return None;
    }
    let object = store.get(RECORD_KEY).await.ok()??;
    SiteAccess::parse(&object.body)
}
