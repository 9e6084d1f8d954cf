//! Measure what a server honours, with a handful of requests under a
//! scratch folder of its own (`~allure-host/probe/<random>/`), removed
//! afterwards: a create of an existing key must be refused, an update with
//! a stale ETag refused and with the current one accepted, of writers
//! racing on one key with either condition only one may win; a small
//! listing must page cleanly, a batch delete must report every key.

use crate::model::server::{self, Capability, Finding, PROBE_PREFIX};

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
    let create = conditional_create(store, &key).await?;
    let update = conditional_update(store, scratch, &key).await?;
    let racing = match create.honoured && update.honoured {
        true => racing_writers(store, scratch, &key).await?,
        false => Finding::broken(
            Capability::RacingWriters,
            "not raced: the conditions fail one request at a time",
        ),
    };
    Ok(vec![
        create,
        update,
        racing,
        paging(store, scratch).await?,
        batch_delete(store, scratch).await?,
    ])
}

/// Conditions kept one request at a time must also hold under a race: a
/// server that checks, then writes, lets several writers win.
async fn racing_writers(store: &Store, scratch: &str, key: &str) -> Result<Finding, StoreError> {
    let c = Capability::RacingWriters;
    if let Some(broken) = races_to_create(store, scratch).await? {
        return Ok(Finding::broken(c, broken));
    }
    Ok(match races_to_update(store, key).await? {
        Some(broken) => Finding::broken(c, broken),
        None => Finding::honoured(
            c,
            format!("of {RACERS} writers racing with either condition one won, {RACES} times each"),
        ),
    })
}

/// Racing creates of fresh keys: what went wrong, if anything did.
async fn races_to_create(store: &Store, scratch: &str) -> Result<Option<String>, StoreError> {
    for key in raced_keys(scratch) {
        let won = race(store, &key, PutMode::Create).await?;
        if let Some(broken) = more_than_one("create of one new key", won) {
            return Ok(Some(broken));
        }
    }
    Ok(None)
}

/// Racing updates, each with the key's current ETag.
async fn races_to_update(store: &Store, key: &str) -> Result<Option<String>, StoreError> {
    for _ in 0..RACES {
        let Some(current) = store.get(key).await? else {
            return Ok(Some("the key written cannot be read back".into()));
        };
        let won = race(store, key, PutMode::Update(current.etag)).await?;
        if let Some(broken) = more_than_one("update with one ETag", won) {
            return Ok(Some(broken));
        }
    }
    Ok(None)
}

fn more_than_one(what: &str, won: Result<usize, StoreError>) -> Option<String> {
    match won {
        Ok(0 | 1) => None,
        Ok(n) => Some(format!(
            "{n} of {RACERS} racing writers won a conditional {what}: each overwrote the last"
        )),
        Err(e) => Some(format!(
            "racing writers of a conditional {what} failed ({e})"
        )),
    }
}

/// `RACERS` writes of `key` at once: how many succeeded. An answer other
/// than success or a refused condition is the server's answer (outer Ok);
/// a server that could not be asked is an error.
async fn race(
    store: &Store,
    key: &str,
    mode: PutMode,
) -> Result<Result<usize, StoreError>, StoreError> {
    let mut writers = tokio::task::JoinSet::new();
    for i in 0..RACERS {
        let (store, key, mode) = (store.clone(), key.to_string(), mode.clone());
        writers.spawn(async move { put(&store, &key, &format!("racer {i}"), mode).await });
    }
    // Every writer is heard before anything is concluded: one dropped in
    // flight could land after the sweep.
    let mut results = Vec::new();
    while let Some(done) = writers.join_next().await {
        results.push(done.unwrap_or_else(|e| Err(joined(e))));
    }
    let mut won = 0;
    let mut answer_error = None;
    for result in results {
        match answer(result)? {
            Ok(()) => won += 1,
            Err(StoreError::Precondition { .. }) => {}
            Err(e) => {
                answer_error.get_or_insert(e);
            }
        }
    }
    Ok(answer_error.map_or(Ok(won), Err))
}

fn joined(e: tokio::task::JoinError) -> StoreError {
    StoreError::Unavailable {
        op: "PutObject",
        target: "a racing write".into(),
        detail: e.to_string(),
    }
}

fn meta() -> ObjectMeta {
    ObjectMeta {
        content_type: "text/plain".into(),
        cache_control: crate::model::headers::NO_CACHE,
        tagging: None,
    }
}

async fn put(store: &Store, key: &str, body: &str, mode: PutMode) -> Result<(), StoreError> {
    let key = server::scratch_key(key).expect("the probe writes only in its scratch folder");
    store.put_bytes(&key, body.into(), &meta(), mode).await
}

/// An answer that says something about the server; anything else (no
/// bucket, no access, no network, a server failing or busy) means it could
/// not be asked, and nothing is concluded.
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
    match answer(put(store, key, FIRST, PutMode::Create).await)? {
        Ok(()) => {}
        // The SDK retries a write whose answer was lost; the retry then
        // meets the write itself. Only the key's body tells.
        Err(StoreError::Precondition { .. }) if holds(store, key, FIRST).await? => {}
        Err(e) => {
            return Ok(Finding::broken(
                c,
                format!("a create of a new key with If-None-Match: * failed ({e})"),
            ));
        }
    }
    Ok(
        match answer(put(store, key, "second", PutMode::Create).await)? {
            Err(StoreError::Precondition { .. }) if !holds(store, key, FIRST).await? => {
                Finding::broken(c, "a second create was answered 412, and landed anyway")
            }
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

async fn conditional_update(
    store: &Store,
    scratch: &str,
    key: &str,
) -> Result<Finding, StoreError> {
    let c = Capability::ConditionalUpdate;
    if let Some(broken) = stale_update(store, key).await? {
        return Ok(Finding::broken(c, broken));
    }
    if let Some(broken) = missing_update(store, scratch).await? {
        return Ok(Finding::broken(c, broken));
    }
    let Some(current) = store.get(key).await? else {
        return Ok(Finding::broken(
            c,
            "the key just written cannot be read back",
        ));
    };
    Ok(
        match answer(put(store, key, CURRENT, PutMode::Update(current.etag)).await)? {
            Ok(()) => Finding::honoured(
                c,
                "a stale ETag and an ETag of a missing key were refused, the current one accepted",
            ),
            Err(StoreError::Precondition { .. }) if holds(store, key, CURRENT).await? => {
                Finding::honoured(
                    c,
                    "a stale ETag and an ETag of a missing key were refused, the current one accepted (on a retry)",
                )
            }
            Err(e) => Finding::broken(c, format!("a write with the current ETag failed ({e})")),
        },
    )
}

/// A write with a stale ETag must be refused, and must not land.
async fn stale_update(store: &Store, key: &str) -> Result<Option<String>, StoreError> {
    let stale = PutMode::Update(STALE_ETAG.into());
    Ok(match answer(put(store, key, "stale", stale).await)? {
        Err(StoreError::Precondition { .. }) if !holds(store, key, FIRST).await? => {
            Some("a write with a stale ETag was answered 412, and landed anyway".into())
        }
        Err(StoreError::Precondition { .. }) => None,
        Ok(()) => Some("a write with a stale ETag in If-Match succeeded, overwriting it".into()),
        Err(e) => Some(format!(
            "a write with a stale ETag failed with {e}, not 412"
        )),
    })
}

/// A write with If-Match on a key that does not exist must be refused (412,
/// or 404 as AWS S3 answers), not create the key.
async fn missing_update(store: &Store, scratch: &str) -> Result<Option<String>, StoreError> {
    let key = missing_key(scratch);
    let stale = PutMode::Update(STALE_ETAG.into());
    Ok(match answer(put(store, &key, "missing", stale).await)? {
        Ok(()) => Some("a write with If-Match on a missing key succeeded, creating it".into()),
        Err(_) if still_there(store, scratch, std::slice::from_ref(&key)).await? > 0 => {
            Some("a write with If-Match on a missing key was refused, and landed anyway".into())
        }
        Err(_) => None,
    })
}

/// Whether `key` holds `body` now.
async fn holds(store: &Store, key: &str, body: &str) -> Result<bool, StoreError> {
    Ok(store
        .get(key)
        .await?
        .is_some_and(|o| o.body == body.as_bytes()))
}

async fn paging(store: &Store, scratch: &str) -> Result<Finding, StoreError> {
    let c = Capability::Paging;
    let folder = format!("{scratch}pages/");
    let mut want = paged_keys(scratch);
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
    let left = still_there(store, scratch, &keys).await?;
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

/// How many of `keys` can still be read. AWS S3 answers a GET of a missing
/// key with 403, not 404, to a caller without ListBucket on it (a publisher
/// whose policy lists only the probe's folder): then the listing of the
/// scratch folder, checked page by page, is asked instead.
async fn still_there(store: &Store, scratch: &str, keys: &[String]) -> Result<usize, StoreError> {
    let mut left = 0;
    for key in keys {
        match store.get(key).await {
            Ok(found) => left += usize::from(found.is_some()),
            Err(StoreError::Denied { .. }) => {
                let listed = store.list(scratch).await?;
                return Ok(keys
                    .iter()
                    .filter(|k| listed.iter().any(|l| &l.key == *k))
                    .count());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(left)
}

/// Every key the probe writes under `scratch`: the compare-and-swap key,
/// the paged keys, then the raced ones.
fn written(scratch: &str) -> Vec<String> {
    let mut keys = vec![format!("{scratch}cas"), missing_key(scratch)];
    keys.extend(paged_keys(scratch));
    keys.extend(raced_keys(scratch));
    keys
}

/// The key an If-Match write must not create.
fn missing_key(scratch: &str) -> String {
    format!("{scratch}missing")
}

fn paged_keys(scratch: &str) -> Vec<String> {
    (0..PAGED_KEYS)
        .map(|i| format!("{scratch}pages/{i}"))
        .collect()
}

/// The fresh keys of the create races.
fn raced_keys(scratch: &str) -> Vec<String> {
    (0..RACES).map(|i| format!("{scratch}race/{i}")).collect()
}

/// Remove whatever the probe left under `scratch` (deleting a key that is
/// already gone is no error).
async fn sweep(store: &Store, scratch: &str) -> Result<(), StoreError> {
    store.delete(written(scratch)).await
}

/// The bodies the compare-and-swap key holds after the create, and after
/// the update with its current ETag: a refused write is told by them.
const FIRST: &str = "first";
const CURRENT: &str = "current";

/// An ETag no object of the probe can have (the probe's bodies differ).
const STALE_ETAG: &str = "\"00000000000000000000000000000000\"";

/// Keys the paging check lists one a page.
const PAGED_KEYS: usize = 3;

/// Writers in one race, and races of each kind: a server that checks, then
/// writes, lets more than one writer through in the first few.
const RACERS: usize = 8;
const RACES: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;
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

    #[tokio::test]
    async fn a_store_that_checks_then_writes_is_caught_racing_and_nothing_else() {
        let memory = Arc::new(MemoryStore::default());
        memory.check_then_write();
        let store = Store::memory(memory.clone());
        let findings = probe(&store).await.unwrap();
        let broken: Vec<_> = findings.iter().filter(|f| !f.honoured).collect();
        assert_eq!(broken.len(), 1, "{findings:?}");
        assert_eq!(broken[0].capability, Capability::RacingWriters);
        assert!(
            broken[0]
                .detail
                .contains(&format!("{RACERS} of {RACERS} racing writers won")),
            "{}",
            broken[0].detail
        );
        assert!(memory.keys().is_empty(), "{:?}", memory.keys());
    }
}
