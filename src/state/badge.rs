//! The status badges (`badge.svg` of a branch and of each leg): each
//! replaced only by a newer run's, by build order, as the latest pointer it
//! sits beside; a badge that is not ours (no build number in it) is
//! replaced.

use super::StateError;
use super::page::write_unless_newer;
use crate::model::badge::{self, Badge};
use crate::storage::{ObjectKey, Store};

/// Write `badge` of build `build_order` at `key` unless a badge of that
/// build or a newer one is there. Returns true when it was written.
pub async fn write(
    store: &Store,
    key: &ObjectKey,
    badge: &Badge,
    build_order: u64,
) -> Result<bool, StateError> {
    let svg = badge.svg(build_order).into_bytes();
    write_unless_newer(store, key, svg, build_order, badge::build_order_of).await
}
