//! The trend files of a run's `history/` folder (Allure 2's JSON, Allure 3's
//! JSONL), carried from the run a new run continues (the newest of its job
//! and leg) so trends go on.

use std::path::Path;

use crate::model::engine::Engine;
use crate::model::layout::Layout;
use crate::model::run_id::RunId;
use crate::storage::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(
        "cannot read the history of run {run} ({key}: {source}); trends would reset, so nothing was published"
    )]
    Read {
        run: String,
        key: String,
        source: StoreError,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Copy the history files `engine` keeps of run `from` into `dir`; returns
/// how many came.
pub async fn carry(
    store: &Store,
    layout: &Layout,
    from: Option<&RunId>,
    dir: &Path,
    engine: Engine,
) -> Result<usize, HistoryError> {
    let write_err = |source| HistoryError::Write {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(write_err)?;
    let Some(run) = from else {
        return Ok(0);
    };
    let mut tasks = tokio::task::JoinSet::new();
    for name in engine.history_files() {
        let key = layout.history_file(run, name);
        let store = store.clone();
        tasks.spawn(async move { (name, key.clone(), store.get(&key).await) });
    }
    let mut carried = 0;
    while let Some(done) = tasks.join_next().await {
        let (name, key, result) = done.expect("a history read does not panic");
        match result {
            Ok(Some(obj)) => {
                std::fs::write(dir.join(name), obj.body).map_err(write_err)?;
                carried += 1;
            }
            Ok(None) => {}
            Err(source) => {
                return Err(HistoryError::Read {
                    run: run.to_string(),
                    key: key.into_string(),
                    source,
                });
            }
        }
    }
    Ok(carried)
}
