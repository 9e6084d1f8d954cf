//! `runs/build-order.json`: the branch's build numbers, unique even when
//! publishers race.

use super::{StateError, no_cache};
use crate::model::layout::Layout;
use crate::model::pointer::BuildCounter;
use crate::storage::Store;
use crate::storage::cas::{self, Step};

/// The number the next publish would get, without taking it (for plans).
/// `floor` is the highest build order the manifest already lists.
pub async fn peek(store: &Store, layout: &Layout, floor: u64) -> Result<u64, StateError> {
    let last = match store.get(&layout.build_counter()).await? {
        Some(obj) => BuildCounter::parse(&obj.body).unwrap_or_default().last,
        None => 0,
    };
    Ok(last.max(floor) + 1)
}

/// Take the branch's next build number.
pub async fn reserve(store: &Store, layout: &Layout, floor: u64) -> Result<u64, StateError> {
    let key = layout.build_counter();
    let next = cas::update(store, &key, &no_cache(&key), |current| {
        let last = current
            .and_then(BuildCounter::parse)
            .unwrap_or_default()
            .last
            .max(floor);
        let next = BuildCounter { last: last + 1 };
        Ok::<_, std::convert::Infallible>(Step::Write(next.to_json(), next.last))
    })
    .await?;
    Ok(next)
}
