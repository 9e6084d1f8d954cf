//! The base branch's test index, for comparing a run with it.

use super::StateError;
use crate::model::changes::TestIndex;
use crate::model::engine::Engine;
use crate::model::layout::Layout;
use crate::model::legs::{self, Line};
use crate::model::run_id::RunId;
use crate::storage::Store;

/// The base run compared with: the newest run of the same job and leg on
/// `base` (else its newest run) that has a test index.
pub struct Base {
    pub run_id: String,
    pub index: TestIndex,
    /// Test ids are the engine's own, so only runs of one engine compare.
    pub engine: Engine,
}

pub async fn read_base(
    store: &Store,
    base: &Layout,
    line: Line<'_>,
) -> Result<Option<Base>, StateError> {
    let manifest = super::manifest::read(store, base).await?;
    let candidates = legs::history_source(&manifest, line)
        .into_iter()
        .chain(manifest.runs.first());
    for entry in candidates {
        let Ok(run) = RunId::new(entry.run_id.clone()) else {
            continue;
        };
        if let Some(obj) = store.get(&base.test_index(&run)).await?
            && let Some(index) = TestIndex::parse(&obj.body)
        {
            return Ok(Some(Base {
                run_id: entry.run_id.clone(),
                index,
                engine: entry.allure,
            }));
        }
    }
    Ok(None)
}
