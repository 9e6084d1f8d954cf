//! The shared documents of a branch and its project, each changed only by
//! compare-and-swap so concurrent publishers never lose each other's
//! updates: the build counter, the manifest and its runs page, the latest
//! pointer and its page, the project index and its page. Also the files of
//! one run, which retention removes.

pub mod assets;
pub mod badge;
pub mod build_counter;
pub mod claim;
pub mod history;
pub mod latest;
pub mod legacy;
pub mod manifest;
mod page;
pub mod project;
pub mod run_files;
pub mod server;
pub mod site_access;
pub mod test_history;
pub mod test_index;

use crate::model::headers;
use crate::model::manifest::ManifestError;
use crate::storage::cas::CasError;
use crate::storage::{ObjectMeta, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{key} kept changing under us: gave up after {attempts} attempts; publish again")]
    Contended { key: String, attempts: u32 },
    #[error(
        "the manifest {location} is unreadable ({source}); repair or remove it, then publish again"
    )]
    UnreadableManifest {
        location: String,
        source: ManifestError,
    },
    /// Not the error's source: its text already says it, with the fix.
    #[error("the test history {location} is left as it is: {problem}")]
    UnreadableHistory {
        location: String,
        problem: crate::model::test_history::HistoryError,
    },
    #[error(
        "run id {0:?} was published by another publisher while this one ran; choose another --run-id"
    )]
    RunTaken(String),
    #[error(
        "the build numbers of {location} have run out (a counter or manifest at {last}); repair or remove {location}, then publish again"
    )]
    BuildNumbersExhausted { location: String, last: u64 },
}

impl From<std::convert::Infallible> for StateError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl<E: Into<StateError>> From<CasError<E>> for StateError {
    fn from(e: CasError<E>) -> Self {
        match e {
            CasError::Store(e) => e.into(),
            CasError::Contended { key, attempts } => Self::Contended { key, attempts },
            CasError::Refused(e) => e.into(),
        }
    }
}

/// Headers of a document readers must always fetch fresh.
fn no_cache(key: &str) -> ObjectMeta {
    ObjectMeta {
        content_type: headers::content_type(key),
        cache_control: headers::NO_CACHE,
        tagging: None,
    }
}
