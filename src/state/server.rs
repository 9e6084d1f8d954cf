//! The bucket's record of what its server honours, one per endpoint
//! (`~allure-host/server/<endpoint>.json`): measured by the first writer
//! through that endpoint, then read by every later one (one GET, not the
//! probe). A record of another endpoint, of another
//! format, older than a week or that cannot be read is measured again,
//! never trusted.

use chrono::Utc;

use crate::model::server::{ServerRecord, record_key};
use crate::storage::probe::probe;
use crate::storage::{PutMode, Store, StoreError};

/// What is known of the server behind a store.
#[derive(Debug, Clone)]
pub enum Known {
    /// A local directory or memory: this program keeps the conditions.
    Ours,
    Measured {
        record: ServerRecord,
        /// Measured by this call, not read.
        fresh: bool,
        /// Why the measurement could not be kept in the bucket, if so.
        unrecorded: Option<String>,
    },
    /// AWS S3 refused the probe's requests (a publisher limited to its
    /// project): AWS documents conditional writes, so it is taken at its word.
    AwsDocumented { denied: String },
    /// The probe's requests were refused on another server.
    Unmeasured { denied: String },
}

/// The record in the bucket for this endpoint, if a valid one is there
/// (for plans, which write nothing).
pub async fn read(store: &Store) -> Result<Option<ServerRecord>, StoreError> {
    let Some(s3) = store.s3_server() else {
        return Ok(None);
    };
    let endpoint = s3.endpoint_label();
    Ok(match store.get(&record_key(&endpoint)).await {
        Ok(Some(object)) => {
            ServerRecord::parse_for(&object.body, &endpoint, Utc::now().timestamp())
        }
        Ok(None) => None,
        Err(StoreError::Denied { .. }) => None,
        Err(e) => return Err(e),
    })
}

/// The record if there is one, else a measurement now, recorded.
pub async fn once(store: &Store) -> Result<Known, StoreError> {
    if store.s3_server().is_none() {
        return Ok(Known::Ours);
    }
    match read(store).await? {
        Some(record) => Ok(Known::Measured {
            record,
            fresh: false,
            unrecorded: None,
        }),
        None => measure(store, Keep::Record).await,
    }
}

/// Whether a measurement is kept in the bucket: a check changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Record,
    Nothing,
}

/// Measure the server now; with `Keep::Record`, record the answers.
pub async fn measure(store: &Store, keep: Keep) -> Result<Known, StoreError> {
    let Some(s3) = store.s3_server() else {
        return Ok(Known::Ours);
    };
    let endpoint = s3.endpoint_label();
    let findings = match probe(store).await {
        Ok(findings) => findings,
        Err(e @ StoreError::Denied { .. }) if s3.is_aws() => {
            return Ok(Known::AwsDocumented {
                denied: e.to_string(),
            });
        }
        Err(e @ StoreError::Denied { .. }) => {
            return Ok(Known::Unmeasured {
                denied: e.to_string(),
            });
        }
        Err(e) => return Err(e),
    };
    let measured = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let record = ServerRecord::new(&endpoint, measured, findings);
    let written = match keep {
        Keep::Record => write(store, &record).await,
        Keep::Nothing => Ok(()),
    };
    let unrecorded = match written {
        Ok(()) => None,
        Err(e @ StoreError::Denied { .. }) => Some(e.to_string()),
        Err(e) => return Err(e),
    };
    Ok(Known::Measured {
        record,
        fresh: true,
        unrecorded,
    })
}

async fn write(store: &Store, record: &ServerRecord) -> Result<(), StoreError> {
    let key = record_key(&record.endpoint);
    store
        .put_bytes(
            &key,
            record.to_json(),
            &super::no_cache(&key),
            PutMode::Overwrite,
        )
        .await
}
