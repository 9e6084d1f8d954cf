//! What each S3-compatible server the tests run really honours, and the
//! listing faults the proxy injects, seen with the raw SDK. The `harness_*`
//! tests prove the harness itself; listings are walked by hand, never with
//! the SDK paginator, which stops quietly on a repeated token.
#![cfg(feature = "integration")]

#[path = "support/proxy.rs"]
mod proxy;
mod support;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use proxy::Proxy;
use support::*;

/// One answer of a ListObjectsV2 walk.
#[derive(Debug)]
struct Page {
    /// The continuation-token this page was asked with.
    asked_with: Option<String>,
    keys: Vec<String>,
    truncated: bool,
    next: Option<String>,
}

/// Walks a listing page by page, following NextContinuationToken while the
/// answer says IsTruncated, for at most `limit` pages.
async fn walk(
    client: &Client,
    bucket: &str,
    prefix: &str,
    max_keys: Option<i32>,
    limit: usize,
) -> Vec<Page> {
    let mut pages: Vec<Page> = Vec::new();
    let mut token = None;
    while pages.len() < limit {
        let out = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_max_keys(max_keys)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("list {bucket}/{prefix}: {}", DisplayErrorContext(&e)));
        let page = Page {
            asked_with: token,
            keys: out
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string))
                .collect(),
            truncated: out.is_truncated() == Some(true),
            next: out.next_continuation_token().map(str::to_string),
        };
        token = page.next.clone();
        let more = page.truncated && token.is_some();
        pages.push(page);
        if !more {
            break;
        }
    }
    pages
}

async fn put(client: &Client, bucket: &str, key: &str, body: &str) {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {}", DisplayErrorContext(&e)));
}

/// A bucket on `server` holding `run/0` .. `run/{n-1}` and one key outside `run/`.
async fn bucket_with_keys(server: &Server, n: usize) -> (Client, String) {
    let client = s3_client(server).await;
    let bucket = bucket_on(&client).await;
    for i in 0..n {
        put(&client, &bucket, &format!("run/{i}"), "x").await;
    }
    put(&client, &bucket, "other/key", "x").await;
    (client, bucket)
}

fn status<E>(result: &Result<impl Sized, SdkError<E>>) -> Option<u16> {
    result
        .as_ref()
        .err()
        .and_then(|e| e.raw_response())
        .map(|r| r.status().as_u16())
}

/// The HTTP statuses of a create-only write and of a write against a wrong
/// ETag, both to a key holding "first", and what the key holds afterwards.
async fn conditional_writes(server: &Server) -> (Option<u16>, Option<u16>, Vec<u8>) {
    let client = s3_client(server).await;
    let bucket = bucket_on(&client).await;
    put(&client, &bucket, "marker", "first").await;
    let create = client
        .put_object()
        .bucket(&bucket)
        .key("marker")
        .if_none_match("*")
        .body(ByteStream::from_static(b"second"))
        .send()
        .await;
    let swap = client
        .put_object()
        .bucket(&bucket)
        .key("marker")
        .if_match("\"wrong\"")
        .body(ByteStream::from_static(b"third"))
        .send()
        .await;
    let now = get(&client, &bucket, "marker").await;
    (status(&create), status(&swap), now)
}

#[tokio::test]
async fn harness_s3rver_ignores_conditional_writes() {
    // Both writes land: the conditions are not checked at all.
    assert_eq!(
        conditional_writes(&Server::s3rver()).await,
        (None, None, b"third".to_vec())
    );
}

#[tokio::test]
async fn harness_s3s_and_moto_refuse_failed_conditions() {
    for server in [Server::s3s(), Server::moto()] {
        assert_eq!(
            conditional_writes(&server).await,
            (Some(412), Some(412), b"first".to_vec()),
            "{} should refuse both failed conditions",
            server.name
        );
    }
}

#[tokio::test]
async fn harness_s3rver_checks_the_access_key_not_the_signature() {
    let right = Server::s3rver();
    let wrong_secret = Server {
        secret_key: "not-the-secret",
        ..right.clone()
    };
    let client = s3_client(&wrong_secret).await;
    bucket_on(&client).await;
    let wrong_key = Server {
        access_key: "NOT-S3RVER",
        ..right
    };
    let refused = s3_client(&wrong_key)
        .await
        .create_bucket()
        .bucket(support::unique("reports"))
        .send()
        .await;
    assert_eq!(status(&refused), Some(403));
}

#[tokio::test]
async fn harness_s3s_checks_signatures() {
    let wrong_secret = Server {
        secret_key: "not-the-secret",
        ..Server::s3s()
    };
    let refused = s3_client(&wrong_secret)
        .await
        .create_bucket()
        .bucket(support::unique("reports"))
        .send()
        .await;
    assert_eq!(status(&refused), Some(403));
}

#[tokio::test]
async fn harness_every_server_pages_a_listing() {
    for server in [Server::s3rver(), Server::s3s(), Server::moto()] {
        let (client, bucket) = bucket_with_keys(&server, 3).await;
        let pages = walk(&client, &bucket, "run/", Some(1), 10).await;
        let keys: Vec<Vec<String>> = pages.iter().map(|p| p.keys.clone()).collect();
        assert_eq!(
            keys,
            [["run/0"], ["run/1"], ["run/2"]],
            "{}: {pages:?}",
            server.name
        );
        assert!(pages[0].truncated && pages[1].truncated && !pages[2].truncated);
        let tokens: Vec<&String> = pages.iter().filter_map(|p| p.next.as_ref()).collect();
        assert_eq!(tokens.len(), 2, "{}: {pages:?}", server.name);
        assert_ne!(tokens[0], tokens[1], "{}: tokens advance", server.name);
    }
}

#[tokio::test]
async fn harness_proxy_pages_splits_a_listing_on_moto_and_s3rver() {
    for server in unsigned_servers() {
        let (client, bucket) = bucket_with_keys(&server, 5).await;
        let proxy = Proxy::start_to(&server.url, 0, &[&format!("pages:{bucket}:-1:2")]);
        let through = s3_client(&server.behind(&proxy.url)).await;
        let pages = walk(&through, &bucket, "run/", None, 10).await;
        let sizes: Vec<usize> = pages.iter().map(|p| p.keys.len()).collect();
        assert_eq!(sizes, [2, 2, 1], "{}: {pages:?}", server.name);
        assert_eq!(proxy.stats()["pages"], 3);
        // The same listing straight from the server is one page.
        assert_eq!(walk(&client, &bucket, "run/", None, 10).await.len(), 1);
    }
}

#[tokio::test]
async fn harness_proxy_request_faults_break_s3s_signatures_answer_faults_do_not() {
    let server = Server::s3s();
    let (_, bucket) = bucket_with_keys(&server, 3).await;
    let proxy = Proxy::start_to(&server.url, 0, &[&format!("pages:{bucket}:-1:2")]);
    let through = s3_client(&server.behind(&proxy.url)).await;
    let refused = through
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("run/")
        .send()
        .await;
    assert_eq!(
        status(&refused),
        Some(403),
        "s3s-fs checks the query signed"
    );

    let proxy = Proxy::start_to(&server.url, 0, &[&format!("listforeign:{bucket}:-1")]);
    let through = s3_client(&server.behind(&proxy.url)).await;
    let pages = walk(&through, &bucket, "run/", None, 10).await;
    assert!(pages[0].keys.iter().any(|k| k == "zz-outside/key"));
}

/// The servers whose signatures the request rewrites do not break.
fn unsigned_servers() -> [Server; 2] {
    [Server::moto(), Server::s3rver()]
}

/// A proxy in front of `server` injecting `fault` on listings in a new
/// bucket of `n` keys under `run/`, and a client talking through it.
async fn through_fault(server: &Server, fault: &str, n: usize) -> (Proxy, Client, String) {
    let (_, bucket) = bucket_with_keys(server, n).await;
    let proxy = Proxy::start_to(&server.url, 0, &[&format!("{fault}:{bucket}:-1")]);
    let client = s3_client(&server.behind(&proxy.url)).await;
    (proxy, client, bucket)
}

#[tokio::test]
async fn harness_proxy_listrepeat_repeats_the_token_asked_with() {
    for server in unsigned_servers() {
        let (proxy, client, bucket) = through_fault(&server, "listrepeat", 3).await;
        let pages = walk(&client, &bucket, "run/", None, 4).await;
        assert_eq!(
            pages.len(),
            4,
            "{}: the walk never ends: {pages:?}",
            server.name
        );
        let first = pages[0].next.clone().expect("the first page has a token");
        for page in &pages[1..] {
            assert_eq!(page.asked_with.as_ref(), Some(&first));
            assert_eq!(
                page.next.as_ref(),
                Some(&first),
                "{}: token repeats",
                server.name
            );
            assert!(page.truncated);
        }
        assert_eq!(proxy.stats()["listrepeat"], 4);
    }
}

#[tokio::test]
async fn harness_proxy_listnotoken_drops_the_token_of_a_truncated_page() {
    for server in unsigned_servers() {
        let (proxy, client, bucket) = through_fault(&server, "listnotoken", 3).await;
        let pages = walk(&client, &bucket, "run/", None, 4).await;
        assert_eq!(pages.len(), 1, "{}: {pages:?}", server.name);
        assert!(pages[0].truncated, "IsTruncated stays true");
        assert_eq!(pages[0].next, None);
        assert_eq!(pages[0].keys, ["run/0", "run/1"]);
        assert_eq!(proxy.stats()["listnotoken"], 1);
    }
}

#[tokio::test]
async fn harness_proxy_listloop_repeats_keys_under_new_tokens() {
    for server in unsigned_servers() {
        let (proxy, client, bucket) = through_fault(&server, "listloop", 5).await;
        let pages = walk(&client, &bucket, "run/", None, 6).await;
        assert_eq!(
            pages.len(),
            6,
            "{}: the walk never ends: {pages:?}",
            server.name
        );
        let mut tokens = std::collections::HashSet::new();
        for page in &pages {
            assert_eq!(page.keys, ["run/0", "run/1"], "always the first page");
            assert!(page.truncated);
            let token = page.next.clone().expect("every page has a token");
            assert!(tokens.insert(token), "tokens never repeat: {pages:?}");
        }
        assert_eq!(proxy.stats()["listloop"], 6);
    }
}

#[tokio::test]
async fn harness_proxy_listforeign_adds_a_key_outside_the_prefix() {
    for server in unsigned_servers() {
        let (_, bucket) = bucket_with_keys(&server, 3).await;
        // MATCH is the prefix as the query carries it: URL-encoded.
        let proxy = Proxy::start_to(&server.url, 0, &["listforeign:prefix=run%2F:-1"]);
        let client = s3_client(&server.behind(&proxy.url)).await;
        let pages = walk(&client, &bucket, "run/", None, 4).await;
        assert_eq!(pages.len(), 1, "{}: {pages:?}", server.name);
        assert_eq!(
            pages[0].keys,
            ["run/0", "run/1", "run/2", "zz-outside/key"],
            "{}: one key outside run/ after the real ones",
            server.name
        );
        // A listing of another prefix does not match and is left alone.
        let other = walk(&client, &bucket, "other/", None, 4).await;
        assert_eq!(other[0].keys, ["other/key"]);
        assert_eq!(proxy.stats()["listforeign"], 1);
    }
}
