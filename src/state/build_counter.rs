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
    next_after(store, layout, last.max(floor))
}

/// The number after `last`; one written by another tool may be the largest.
fn next_after(store: &Store, layout: &Layout, last: u64) -> Result<u64, StateError> {
    last.checked_add(1)
        .ok_or_else(|| StateError::BuildNumbersExhausted {
            location: store.location(&layout.build_counter()),
            last,
        })
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
        let next = BuildCounter {
            last: next_after(store, layout, last)?,
        };
        Ok::<_, StateError>(Step::Write(next.to_json(), next.last))
    })
    .await?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::storage::memory::MemoryStore;
    use crate::storage::{ObjectMeta, PutMode};

    #[tokio::test]
    async fn a_counter_at_the_largest_number_is_refused_not_wrapped() {
        let store = Store::memory(Arc::new(MemoryStore::new()));
        let layout = Layout::new("reports", "p", "b").expect("layout");
        let full = BuildCounter { last: u64::MAX };
        let meta = ObjectMeta {
            content_type: "application/json".into(),
            cache_control: "no-cache",
            tagging: None,
        };
        store
            .put_bytes(
                &layout.build_counter(),
                full.to_json(),
                &meta,
                PutMode::Overwrite,
            )
            .await
            .expect("written");
        for err in [
            reserve(&store, &layout, 0).await.expect_err("reserve"),
            peek(&store, &layout, 0).await.expect_err("peek"),
        ] {
            assert!(
                matches!(err, StateError::BuildNumbersExhausted { .. }),
                "{err}"
            );
        }
        assert_eq!(
            reserve(&Store::memory(Arc::new(MemoryStore::new())), &layout, 7)
                .await
                .ok(),
            Some(8)
        );
    }
}
