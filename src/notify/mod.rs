//! Telling chat and other receivers of a publish: which webhooks hear of
//! it (`notify-on`), the message each service takes, and its delivery with
//! bounded retries. A notification that fails is a warning: the report is
//! out either way. Webhook URLs are secrets: nothing printed holds one.

pub mod google_chat;
pub mod message;
pub mod slack;
pub mod teams;

use std::time::Duration;

use http::StatusCode;
use serde_json::Value;

use crate::http::{Client, Reply, headers};
use crate::model::notify::{self, Kind, Outcome, Webhook};
use crate::model::summary::PublishSummary;
use crate::output::Output;
use crate::settings::Notify;
use message::Message;

/// Tries per webhook: the first and two retries.
const ATTEMPTS: u32 = 3;
/// Each request's bound, connect to last byte.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `Retry-After` honoured; a longer one ends the retries.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// The largest body each service accepts (Teams: 28 KB; Google Chat:
/// 32,000 bytes; Slack: 50 blocks of at most 3,000 characters, and our
/// blocks are fewer than ten). A generic receiver gets the summary as is.
pub fn max_bytes(kind: Kind) -> usize {
    match kind {
        Kind::Slack => 40_000,
        Kind::Teams => 28 * 1024,
        Kind::GoogleChat => 32_000,
        Kind::Webhook => usize::MAX,
    }
}

/// The body for one webhook, fitted to its service's limit by naming fewer
/// tests (the counts stay whole).
pub fn body(kind: Kind, summary: &PublishSummary, reason: &'static str) -> Value {
    let render = |m: &Message| match kind {
        Kind::Slack => slack::payload(m),
        Kind::Teams => teams::payload(m),
        Kind::GoogleChat => google_chat::payload(m),
        Kind::Webhook => serde_json::to_value(summary).unwrap_or_default(),
    };
    let mut m = Message::of(summary, reason);
    loop {
        let body = render(&m);
        let size = serde_json::to_vec(&body).map(|b| b.len()).unwrap_or(0);
        if size <= max_bytes(kind) || !m.name_fewer() {
            return body;
        }
    }
}

/// What `notify-on` says of this publish.
pub fn reason(n: &Notify, s: &PublishSummary) -> Option<&'static str> {
    let outcome = Outcome {
        red: s.red(),
        was_red: s.previous.as_ref().map(|p| p.red),
        new_failures: s.changes.as_ref().map_or(0, |c| c.new_failures.total),
    };
    notify::reason(n.on, outcome)
}

/// Send to every webhook `notify-on` lets through; each failure is a warning.
pub async fn send_all(n: &Notify, summary: &PublishSummary, out: &Output) {
    if n.webhooks.is_empty() {
        return;
    }
    let Some(reason) = reason(n, summary) else {
        out.line(format_args!(
            "Notifications: none sent (notify-on: {}, and this run is not one it sends for)",
            n.on.name()
        ));
        return;
    };
    let client = match Client::new() {
        Ok(c) => c.with_timeout(TIMEOUT),
        Err(e) => {
            out.warning_titled("allure-host: notification", &format!("{e:#}"));
            return;
        }
    };
    for hook in &n.webhooks {
        match deliver(&client, hook, &body(hook.kind, summary, reason)).await {
            Ok(1) => out.line(format_args!("Notified the {hook}")),
            Ok(tries) => out.line(format_args!("Notified the {hook} after {tries} tries")),
            Err(why) => out.warning_titled(
                "allure-host: notification",
                &format!("the {hook} was not notified: {}", hide(&why, hook)),
            ),
        }
    }
}

/// POST `body`, retrying a refused or broken exchange (429, 5xx, no
/// answer) up to `ATTEMPTS` times. Ok: the tries it took.
async fn deliver(client: &Client, hook: &Webhook, body: &Value) -> Result<u32, String> {
    let h = headers(&[]).map_err(|e| e.to_string())?;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let wait = match client.post_json(hook.secret_url(), &h, body).await {
            Ok(reply) if reply.status.is_success() => return Ok(attempt),
            Ok(reply) if retryable(reply.status) => {
                last = refused(&reply);
                retry_after(&reply).unwrap_or(Duration::from_secs(u64::from(attempt)))
            }
            Ok(reply) => return Err(refused(&reply)),
            Err(e) => {
                last = format!("{e:#}");
                Duration::from_secs(u64::from(attempt))
            }
        };
        if attempt == ATTEMPTS || wait > MAX_WAIT {
            break;
        }
        tokio::time::sleep(wait).await;
    }
    Err(format!("{last} (after {ATTEMPTS} tries at most)"))
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn refused(reply: &Reply) -> String {
    format!(
        "the receiver answered {}: {}",
        reply.status,
        reply.excerpt()
    )
}

fn retry_after(reply: &Reply) -> Option<Duration> {
    reply
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// A receiver's answer could quote the URL it was sent to: cut it out.
fn hide(text: &str, hook: &Webhook) -> String {
    let url = hook.secret_url();
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("");
    let mut text = text.replace(url, "(the webhook URL)");
    if path.len() > 1 {
        text = text.replace(path, "/…");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::step_summary::tests::sample;
    use crate::model::changes::Listed;
    use proptest::prelude::*;

    #[test]
    fn an_answer_quoting_the_url_is_cut() {
        let hook = &notify::parse_webhooks("https://h.example/hook/s3cret?t=1").unwrap()[0];
        let shown = hide(
            "bad: https://h.example/hook/s3cret?t=1 and /hook/s3cret?t=1",
            hook,
        );
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever the names, each service's body is within its limit and
        /// still names the run's counts.
        #[test]
        fn bodies_fit_their_service(name in "[&<>*_`\\[\\]a-z ]{0,400}", n in 0usize..40) {
            let mut s = sample();
            s.branch = name.repeat(3);
            let changes = s.changes.as_mut().unwrap();
            changes.new_failures = Listed { total: n + 100, tests: vec![name.clone(); 10] };
            changes.fixed = Listed { total: n, tests: vec![name.clone(); 10] };
            for kind in Kind::ALL {
                let body = body(kind, &s, "every publish");
                let text = serde_json::to_string(&body).unwrap();
                prop_assert!(text.len() <= max_bytes(kind), "{kind:?}: {}", text.len());
                let counts = if kind == Kind::Webhook { "\"passed\":5" } else { "5 passed" };
                prop_assert!(text.contains(counts), "{kind:?}");
            }
        }
    }
}
