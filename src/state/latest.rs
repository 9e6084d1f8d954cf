//! `latest.json` and `latest/index.html`: which run readers of the branch
//! see. Latest never moves backwards by build order.

use super::page::write_if_newer;
use super::{StateError, no_cache};
use crate::model::layout::Layout;
use crate::model::pointer::LatestPointer;
use crate::model::run_id::RunId;
use crate::pages;
use crate::storage::Store;
use crate::storage::cas::{self, Step};

/// The pointer as stored; None when absent or unreadable.
pub async fn read(store: &Store, layout: &Layout) -> Result<Option<LatestPointer>, StateError> {
    Ok(match store.get(&layout.latest_pointer()).await? {
        Some(obj) => LatestPointer::parse(&obj.body),
        None => None,
    })
}

/// Point latest at `run` unless a newer build is shown; then its page.
/// Returns true when the pointer moved.
pub async fn advance(
    store: &Store,
    layout: &Layout,
    pointer: &LatestPointer,
    run: &RunId,
) -> Result<bool, StateError> {
    let key = layout.latest_pointer();
    let moved = cas::update(store, &key, &no_cache(&key), |current| {
        let shown = current.and_then(LatestPointer::parse);
        Ok::<_, std::convert::Infallible>(match shown {
            Some(p) if p.build_order >= pointer.build_order => Step::Keep(false),
            _ => Step::Write(pointer.to_json(), true),
        })
    })
    .await?;
    let page = pages::latest(&pages::LatestPage {
        project: &pointer.project,
        branch: &pointer.branch,
        run_id: run.as_str(),
        segment: run.segment(),
        build_order: pointer.build_order,
    });
    write_if_newer(store, &layout.latest_page(), page, pointer.build_order).await?;
    Ok(moved)
}
