//! The viewer-request function on two JavaScript engines: Node, and njs
//! (nginx's engine, of the same family as CloudFront's cloudfront-js-2.0
//! runtime). A batch of CloudFront events runs as one process per engine,
//! and both engines must give the same answer to every event.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use allure_host::infra::access::AccessConfig;
use serde_json::{Value, json};

/// The function as written (the open default, comments kept).
pub const TEMPLATE: &str = include_str!("../../crates/infra/src/viewer-request.js");
const RUNNER: &str = include_str!("viewer_runner.js");
pub const ENGINES: [&str; 2] = ["node", "njs"];

/// One request: the site's settings (None: the code's own), the clock in
/// Unix seconds, and CloudFront's event.
#[derive(Debug, Clone)]
pub struct Case {
    pub config: Option<AccessConfig>,
    pub now: i64,
    pub event: Value,
}

/// What the function did with one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub answer: Value,
    pub hmacs: u64,
    pub hashed: u64,
}

/// A viewer-request event as CloudFront builds it.
pub fn event(uri: &str, query: Value, headers: Value, cookies: Value, ip: &str) -> Value {
    json!({"version": "1.0", "viewer": {"ip": ip}, "request": {
        "method": "GET", "uri": uri, "querystring": query, "headers": headers, "cookies": cookies}})
}

/// Run every case under both engines; panics, naming the case, where they
/// disagree or where the function throws.
pub fn run(code: &str, cases: &[Case]) -> Vec<Outcome> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let script = dir.path().join("viewer.js");
    std::fs::write(&script, format!("{code}\n{RUNNER}")).expect("write the script");
    let batch: Vec<Value> = cases
        .iter()
        .map(|c| json!({"config": c.config, "now": c.now, "event": c.event}))
        .collect();
    let input = dir.path().join("batch.json");
    std::fs::write(&input, serde_json::to_vec(&batch).expect("json")).expect("write the batch");
    let (node, njs) = std::thread::scope(|s| {
        let node = s.spawn(|| engine("node", &script, &input));
        let njs = engine("njs", &script, &input);
        (node.join().expect("the node run"), njs)
    });
    assert_eq!(
        node.len(),
        cases.len(),
        "node answered {} cases",
        node.len()
    );
    assert_eq!(njs.len(), cases.len(), "njs answered {} cases", njs.len());
    let mut out = Vec::with_capacity(cases.len());
    for ((case, a), b) in cases.iter().zip(node).zip(njs) {
        assert_eq!(
            a,
            b,
            "node and njs disagree on {}",
            serde_json::to_string(&case.event).unwrap_or_default()
        );
        assert!(
            a.answer.get("thrown").is_none(),
            "the function threw on {}: {}",
            case.event,
            a.answer
        );
        out.push(a);
    }
    out
}

fn engine(name: &str, script: &Path, input: &Path) -> Vec<Outcome> {
    let out = Command::new(name).arg(script).arg(input).output();
    let out = match out {
        Ok(out) => out,
        Err(e) => panic!(
            "{name} is needed to test the viewer function ({e}); install it: \
             apt-get install nodejs njs (bash .ci/run does)"
        ),
    };
    assert!(
        out.status.success(),
        "{name} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let written = input.with_extension(format!("json.{name}"));
    let text = std::fs::read(&written).unwrap_or_default();
    let results: Vec<Value> = serde_json::from_slice(&text).unwrap_or_else(|e| {
        panic!(
            "{name} wrote no JSON answers ({e}): {}",
            String::from_utf8_lossy(&text)
        )
    });
    results
        .into_iter()
        .map(|r| Outcome {
            hmacs: r["hmacs"].as_u64().unwrap_or(u64::MAX),
            hashed: r["hashed"].as_u64().unwrap_or(u64::MAX),
            answer: r["answer"].clone(),
        })
        .collect()
}

/// Standard base64 with padding, as browsers send Basic credentials.
pub fn base64(text: &str) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ABC[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}
