//! Measure what a server honours, with a handful of requests under a
//! scratch folder of its own (`~allure-host/probe/<random>/`), removed
//! afterwards: a create of an existing key must be refused, an update with
//! a stale ETag refused and with the current one accepted, a small listing
//! must page cleanly, a batch delete must report every key.

use crate::model::server::{Capability, Finding, PROBE_PREFIX};

use super::{ObjectMeta, PutMode, Store, StoreError};

/// The findings, one per capability. An error only when the server could
/// not be asked at all (unreachable, denied, no bucket).
pub async fn probe(store: &Store) -> Result<Vec<Finding>, StoreError> {
    let scratch = format!("{PROBE_PREFIX}{:016x}/", fastrand::u64(..));
    let findings = measure(store, &scratch).await;
    // Whatever the measurement found, its scratch keys go.
    let swept = sweep(store, &scratch).await;
    let findings = findings?;
    swept?;
    Ok(findings)
}

async fn measure(store: &Store, scratch: &str) -> Result<Vec<Finding>, StoreError> {
    let key = written(scratch).remove(0);
    Ok(vec![
        conditional_create(store, &key).await?,
        conditional_update(store, &key).await?,
        paging(store, scratch).await?,
        batch_delete(store, scratch).await?,
    ])
}

fn meta() -> ObjectMeta {
    ObjectMeta {
        content_type: "text/plain".into(),
        cache_control: crate::report::headers::NO_CACHE,
        tagging: None,
    }
}

async fn put(store: &Store, key: &str, body: &str, mode: PutMode) -> Result<(), StoreError> {
    store.put_bytes(key, body.into(), &meta(), mode).await
}

/// An answer that says something about the server; anything else (no
/// bucket, no access, no network) means it could not be asked.
fn answer(result: Result<(), StoreError>) -> Result<Result<(), StoreError>, StoreError> {
    match result {
        Ok(()) => Ok(Ok(())),
        Err(
            e @ (StoreError::Precondition { .. }
            | StoreError::Other { .. }
            | StoreError::Listing { .. }),
        ) => Ok(Err(e)),
        Err(e) => Err(e),
    }
}

async fn conditional_create(store: &Store, key: &str) -> Result<Finding, StoreError> {
    let c = Capability::ConditionalCreate;
    if let Err(e) = answer(put(store, key, "first", PutMode::Create).await)? {
        return Ok(Finding::broken(
            c,
            format!("a create of a new key with If-None-Match: * failed ({e})"),
        ));
    }
    Ok(
        match answer(put(store, key, "second", PutMode::Create).await)? {
            Err(StoreError::Precondition { .. }) => {
                Finding::honoured(c, "a second create of one key was refused")
            }
            Ok(()) => Finding::broken(
                c,
                "a second create of one key with If-None-Match: * succeeded, overwriting it",
            ),
            Err(e) => Finding::broken(c, format!("a second create failed with {e}, not 412")),
        },
    )
}

async fn conditional_update(store: &Store, key: &str) -> Result<Finding, StoreError> {
    let c = Capability::ConditionalUpdate;
    let stale = PutMode::Update(STALE_ETAG.into());
    match answer(put(store, key, "stale", stale).await)? {
        Err(StoreError::Precondition { .. }) => {}
        Ok(()) => {
            return Ok(Finding::broken(
                c,
                "a write with a stale ETag in If-Match succeeded, overwriting it",
            ));
        }
        Err(e) => {
            return Ok(Finding::broken(
                c,
                format!("a write with a stale ETag failed with {e}, not 412"),
            ));
        }
    }
    let Some(current) = store.get(key).await? else {
        return Ok(Finding::broken(
            c,
            "the key just written cannot be read back",
        ));
    };
    Ok(
        match answer(put(store, key, "current", PutMode::Update(current.etag)).await)? {
            Ok(()) => Finding::honoured(c, "a stale ETag was refused and the current one accepted"),
            Err(e) => Finding::broken(c, format!("a write with the current ETag failed ({e})")),
        },
    )
}

async fn paging(store: &Store, scratch: &str) -> Result<Finding, StoreError> {
    let c = Capability::Paging;
    let folder = format!("{scratch}pages/");
    let mut want: Vec<String> = written(scratch).split_off(1);
    for key in &want {
        if let Err(e) = answer(put(store, key, "page", PutMode::Overwrite).await)? {
            return Ok(Finding::broken(c, format!("a plain write failed ({e})")));
        }
    }
    let (mut got, pages) = match store.list_keys_paged(&folder, 1).await {
        Ok(listed) => listed,
        Err(StoreError::Listing { problem, .. }) => {
            return Ok(Finding::broken(c, problem.to_string()));
        }
        Err(e @ StoreError::Other { .. }) => {
            return Ok(Finding::broken(
                c,
                format!("a listing with max-keys 1 failed ({e})"),
            ));
        }
        Err(e) => return Err(e),
    };
    got.sort();
    want.sort();
    Ok(match (got == want, pages) {
        (false, _) => Finding::broken(
            c,
            format!("{PAGED_KEYS} keys were written and {} listed", got.len()),
        ),
        (true, 1) => Finding::honoured(
            c,
            format!("{PAGED_KEYS} keys in one page (the server ignores max-keys)"),
        ),
        (true, n) => Finding::honoured(c, format!("{PAGED_KEYS} keys in {n} pages of max-keys 1")),
    })
}

async fn batch_delete(store: &Store, scratch: &str) -> Result<Finding, StoreError> {
    let c = Capability::BatchDelete;
    // The keys are known, not listed: a listing that misbehaves must not
    // hide what a delete did.
    let mut keys = written(scratch);
    // S3 reports a key that was not there as deleted too.
    keys.push(format!("{scratch}absent"));
    let reported = match store.delete_reporting(&keys).await {
        Ok(reported) => reported,
        Err(e @ StoreError::Other { .. }) => {
            return Ok(Finding::broken(c, format!("DeleteObjects failed ({e})")));
        }
        Err(e) => return Err(e),
    };
    let unreported = keys.iter().filter(|k| !reported.contains(k)).count();
    let mut left = 0;
    for key in &keys {
        left += usize::from(store.get(key).await?.is_some());
    }
    Ok(match (unreported, left) {
        (0, 0) => Finding::honoured(c, format!("{} keys reported deleted and gone", keys.len())),
        (0, n) => Finding::broken(c, format!("{n} keys reported deleted can still be read")),
        (n, _) => Finding::broken(
            c,
            format!(
                "DeleteObjects reported {} of {} keys",
                keys.len() - n,
                keys.len()
            ),
        ),
    })
}

/// Every key the probe writes under `scratch`.
fn written(scratch: &str) -> Vec<String> {
    let mut keys = vec![format!("{scratch}cas")];
    keys.extend((0..PAGED_KEYS).map(|i| format!("{scratch}pages/{i}")));
    keys
}

/// Remove whatever the probe left under `scratch` (deleting a key that is
/// already gone is no error).
async fn sweep(store: &Store, scratch: &str) -> Result<(), StoreError> {
    store.delete(written(scratch)).await
}

/// An ETag no object of the probe can have (the probe's bodies differ).
const STALE_ETAG: &str = "\"00000000000000000000000000000000\"";

/// Keys the paging check lists one a page.
const PAGED_KEYS: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStore;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_store_that_keeps_its_conditions_honours_everything_and_is_left_clean() {
        let memory = Arc::new(MemoryStore::default());
        let store = Store::memory(memory.clone());
        let findings = probe(&store).await.unwrap();
        assert_eq!(
            findings.iter().map(|f| f.capability).collect::<Vec<_>>(),
            Capability::ALL
        );
        assert!(findings.iter().all(|f| f.honoured), "{findings:?}");
        assert!(store.list(PROBE_PREFIX).await.unwrap().is_empty());
    }
}
