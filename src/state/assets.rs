//! The pages' stylesheet and script in the project's `~assets/` folder.
//! Their names carry a hash of their content, so they are written once per
//! version and cached for good.

use super::StateError;
use crate::model::headers;
use crate::model::layout::Layout;
use crate::pages;
use crate::storage::{ObjectMeta, PutMode, Store};

/// Write the assets of this version unless they are there.
pub async fn ensure(store: &Store, layout: &Layout) -> Result<(), StateError> {
    let files = pages::asset_files();
    let first = layout.asset(&files[0].0);
    if store.get(&first).await?.is_some() {
        return Ok(());
    }
    // The stylesheet last: its presence says both are there.
    for (name, body) in files.iter().rev() {
        let key = layout.asset(name);
        let meta = ObjectMeta {
            content_type: headers::content_type(&key),
            cache_control: headers::IMMUTABLE,
            tagging: None,
        };
        store
            .put_bytes(&key, body.as_bytes().to_vec(), &meta, PutMode::Overwrite)
            .await?;
    }
    Ok(())
}
