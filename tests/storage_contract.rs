//! One contract for every store the publish writes to: a local directory,
//! the in-memory store the schedules use, and S3 (moto over real HTTP).
//! Each behaviour the publish rests on is checked here directly, not only
//! through whole publishes: reads of what is missing, conditional create,
//! update by etag, listing (recursive, and folders by delimiter), streamed
//! bodies, batch deletes past one request's 1,000 keys, and on S3 the
//! headers readers are served.

mod support;

use std::sync::Arc;

use allure_host::storage::s3::{S3Options, S3Store};
use allure_host::storage::{
    LocalStore, MemoryStore, ObjectKey, ObjectMeta, PutMode, Store, StoreError,
};
use support::*;

fn meta() -> ObjectMeta {
    ObjectMeta {
        content_type: "application/json".into(),
        cache_control: "no-cache",
        tagging: Some("ttl-days=3".into()),
    }
}

async fn put(store: &Store, key: &str, body: &str, mode: PutMode) -> Result<(), StoreError> {
    store
        .put_bytes(
            &ObjectKey::outside_layout(key),
            body.as_bytes().to_vec(),
            &meta(),
            mode,
        )
        .await
}

async fn body(store: &Store, key: &str) -> Option<String> {
    let found = store.get(key).await.expect("get");
    found.map(|o| String::from_utf8(o.body).expect("utf-8"))
}

async fn etag(store: &Store, key: &str) -> String {
    store.get(key).await.expect("get").expect("present").etag
}

fn refused(result: Result<(), StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Precondition { .. })),
        "{what}: {result:?}"
    );
}

/// Reads, and the three write modes.
async fn writes(store: &Store) {
    assert!(store.get("w/missing.json").await.unwrap().is_none());

    put(store, "w/a.json", "one", PutMode::Overwrite)
        .await
        .unwrap();
    let first = etag(store, "w/a.json").await;
    assert!(!first.is_empty());
    put(store, "w/a.json", "two", PutMode::Overwrite)
        .await
        .unwrap();
    assert_eq!(body(store, "w/a.json").await.as_deref(), Some("two"));
    let second = etag(store, "w/a.json").await;
    assert_ne!(first, second, "a new body has a new etag");

    put(store, "w/new.json", "made", PutMode::Create)
        .await
        .unwrap();
    refused(
        put(store, "w/new.json", "again", PutMode::Create).await,
        "create over an object",
    );
    assert_eq!(body(store, "w/new.json").await.as_deref(), Some("made"));

    put(store, "w/a.json", "three", PutMode::Update(second.clone()))
        .await
        .unwrap();
    assert_eq!(body(store, "w/a.json").await.as_deref(), Some("three"));
    refused(
        put(store, "w/a.json", "stale", PutMode::Update(second.clone())).await,
        "update with a stale etag",
    );
    assert_eq!(body(store, "w/a.json").await.as_deref(), Some("three"));
    refused(
        put(store, "w/gone.json", "x", PutMode::Update(second)).await,
        "update of a missing object",
    );
    assert!(store.get("w/gone.json").await.unwrap().is_none());
}

/// Recursive listings stay under their prefix; folders are one level.
async fn listings(store: &Store) {
    for (key, text) in [
        ("l/a/1.json", "1"),
        ("l/a/b/2.json", "22"),
        ("l/ab/x.json", "333"),
        ("l/top.json", "4444"),
    ] {
        put(store, key, text, PutMode::Overwrite).await.unwrap();
    }
    let mut listed: Vec<(String, u64)> = store
        .list("l/a/")
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.key, l.size))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("l/a/1.json".to_string(), 1),
            ("l/a/b/2.json".to_string(), 2)
        ]
    );
    assert!(store.list("l/none/").await.unwrap().is_empty());
    let mut folders = store.list_folders("l/").await.unwrap();
    folders.sort();
    assert_eq!(folders, ["a", "ab"]);
    let (keys, pages) = store.list_keys_paged("l/", 1).await.unwrap();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(pages >= 1);
}

/// A file is streamed in, and read back whole.
async fn streamed(store: &Store) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("big.bin");
    let bytes: Vec<u8> = (0..6 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let key = ObjectKey::outside_layout("f/big.bin");
    store.put_file(&key, &path, &meta()).await.unwrap();
    let got = store.get("f/big.bin").await.unwrap().expect("present");
    assert_eq!(got.body.len(), bytes.len());
    assert!(got.body == bytes, "the body reads back as written");
    let listed = store.list("f/").await.unwrap();
    assert_eq!(listed[0].size, bytes.len() as u64);
}

/// Deletes take more keys than one S3 request does, and keys that are
/// not there.
async fn deletes(store: &Store) {
    let keys: Vec<String> = (0..1001).map(|i| format!("d/{i:04}.json")).collect();
    let mut writes = tokio::task::JoinSet::new();
    for chunk in keys.chunks(64) {
        let (store, chunk) = (store.clone(), chunk.to_vec());
        writes.spawn(async move {
            for key in chunk {
                put(&store, &key, "x", PutMode::Overwrite).await.unwrap();
            }
        });
    }
    writes.join_all().await;
    put(store, "d-kept/1.json", "k", PutMode::Overwrite)
        .await
        .unwrap();
    let mut doomed = keys.clone();
    doomed.push("d/never-written.json".into());
    store.delete(doomed).await.unwrap();
    assert!(store.list("d/").await.unwrap().is_empty());
    assert_eq!(body(store, "d-kept/1.json").await.as_deref(), Some("k"));

    let two = vec!["r/1.json".to_string(), "r/2.json".to_string()];
    for key in &two {
        put(store, key, "x", PutMode::Overwrite).await.unwrap();
    }
    let mut reported = store.delete_reporting(&two).await.unwrap();
    reported.sort();
    assert_eq!(reported, two);
    assert!(store.list("r/").await.unwrap().is_empty());
}

/// Eight writers create one key at once: exactly one wins. (moto checks
/// and then writes, so it is measured by the probe instead of held to it.)
async fn one_create_wins(store: &Store) {
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..8 {
        let store = store.clone();
        racers.spawn(
            async move { put(&store, "c/claim.json", &format!("{i}"), PutMode::Create).await },
        );
    }
    let results = racers.join_all().await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for r in results.into_iter().filter(Result::is_err) {
        refused(r, "a losing create");
    }
}

async fn contract(store: &Store) {
    writes(store).await;
    listings(store).await;
    streamed(store).await;
    deletes(store).await;
    let counts = store.counts();
    for op in ["GetObject", "PutObject", "ListObjectsV2", "DeleteObjects"] {
        assert!(counts.get(op).copied().unwrap_or(0) > 0, "{op}: {counts:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_local_directory_keeps_the_contract() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::local(LocalStore::open(tmp.path()).unwrap());
    contract(&store).await;
    one_create_wins(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_memory_store_keeps_the_contract() {
    let store = Store::memory(Arc::new(MemoryStore::new()));
    contract(&store).await;
    one_create_wins(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(feature = "integration"),
    ignore = "needs moto: cargo test --features integration"
)]
async fn s3_on_moto_keeps_the_contract_and_serves_the_headers() {
    let client = s3().await;
    let bucket = bucket(&client).await;
    let store = Store::s3(
        S3Store::connect(S3Options {
            bucket: bucket.clone(),
            region: Some("us-east-1".into()),
            endpoint: Some(moto().into()),
            credentials: Some(aws_sdk_s3::config::Credentials::new(
                "test", "test", None, None, "tests",
            )),
            uploads_at_once: 8,
            ..S3Options::default()
        })
        .await
        .unwrap(),
    );
    contract(&store).await;
    for key in ["w/a.json", "f/big.bin"] {
        let head = client
            .head_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_type(), Some("application/json"), "{key}");
        assert_eq!(head.cache_control(), Some("no-cache"), "{key}");
        let tags = client
            .get_object_tagging()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        let tag = &tags.tag_set()[0];
        assert_eq!((tag.key(), tag.value()), ("ttl-days", "3"), "{key}");
    }
}
