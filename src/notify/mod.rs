//! Telling chat and other receivers of a publish: which webhooks hear of
//! it (`notify-on`), the message each service takes, and its delivery with
//! bounded retries. A notification that fails is a warning: the report is
//! out either way. Webhook URLs are secrets: nothing printed holds one.

pub mod google_chat;
pub mod message;
pub mod slack;
pub mod teams;

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use serde_json::Value;
use tokio::task::JoinSet;

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
/// `Retry-After` is honoured between these bounds.
const MIN_WAIT: Duration = Duration::from_secs(1);
const MAX_WAIT: Duration = Duration::from_secs(10);
/// Every webhook is done within this, the retries included.
const DEADLINE: Duration = Duration::from_secs(30);

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
        newly_failing: s
            .previous
            .as_ref()
            .and_then(|p| p.newly_failing)
            .unwrap_or(0),
    };
    notify::reason(n.on, outcome)
}

/// Send to every webhook `notify-on` lets through, all at once and within
/// `DEADLINE`; each failure is a warning.
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
    // The client's own bound is above ours, so a timeout is known to be ours.
    let client = match Client::new() {
        Ok(c) => Arc::new(c.with_timeout(TIMEOUT + Duration::from_secs(5))),
        Err(e) => {
            out.warning_titled("allure-host: notification", &format!("{e:#}"));
            return;
        }
    };
    let mut sending = JoinSet::new();
    for (i, hook) in n.webhooks.iter().enumerate() {
        let (client, hook, body) = (
            client.clone(),
            hook.clone(),
            body(hook.kind, summary, reason),
        );
        sending.spawn(async move {
            let sent = tokio::time::timeout(DEADLINE, deliver(&client, &body, &hook)).await;
            let sent =
                sent.unwrap_or_else(|_| Err(format!("not done within {} s", DEADLINE.as_secs())));
            (i, sent.map_err(|why| hide(&why, &hook)))
        });
    }
    let mut results: Vec<(usize, Result<u32, String>)> = sending.join_all().await;
    results.sort_by_key(|(i, _)| *i);
    for (i, sent) in results {
        let hook = &n.webhooks[i];
        match sent {
            Ok(1) => out.line(format_args!("Notified the {hook}")),
            Ok(tries) => out.line(format_args!("Notified the {hook} after {tries} tries")),
            Err(why) => out.warning_titled(
                "allure-host: notification",
                &format!("the {hook} was not notified: {why}"),
            ),
        }
    }
}

/// POST `body`: a 429 or 5xx answer, or a connection that could not be
/// made, is tried again, up to `ATTEMPTS` times; a request that got no
/// answer in time is not (it may have arrived). Ok: the tries it took.
async fn deliver(client: &Client, body: &Value, hook: &Webhook) -> Result<u32, String> {
    let h = headers(&[]).map_err(|e| e.to_string())?;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let post = client.post_json(hook.secret_url(), &h, body);
        let wait = match tokio::time::timeout(TIMEOUT, post).await {
            Err(_) => {
                return Err(format!(
                    "no answer within {} s (not sent again: it may have arrived)",
                    TIMEOUT.as_secs()
                ));
            }
            Ok(Ok(reply)) if reply.status.is_success() => return Ok(attempt),
            Ok(Ok(reply)) if retryable(reply.status) => {
                last = refused(&reply);
                retry_after(&reply).unwrap_or(Duration::from_secs(u64::from(attempt)))
            }
            Ok(Ok(reply)) => return Err(refused(&reply)),
            Ok(Err(e)) => {
                last = format!("it could not be reached ({})", e.root_cause());
                Duration::from_secs(u64::from(attempt))
            }
        };
        if attempt < ATTEMPTS {
            tokio::time::sleep(wait.clamp(MIN_WAIT, MAX_WAIT)).await;
        }
    }
    Err(format!("{last}, {ATTEMPTS} times"))
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The status, and the answer only when it is an error code like Slack's
/// (`invalid_token`, `no_service`): free text from a receiver could quote
/// the URL in any encoding, or carry terminal escapes.
fn refused(reply: &Reply) -> String {
    let text = String::from_utf8_lossy(&reply.body);
    let code = text.trim();
    let is_code =
        (1..=40).contains(&code.len()) && code.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    match is_code {
        true => format!("the receiver answered {} ({code})", reply.status),
        false => format!("the receiver answered {}", reply.status),
    }
}

fn retry_after(reply: &Reply) -> Option<Duration> {
    reply
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Cut whatever could give the webhook away (`Webhook::secret_parts`),
/// as written and percent-decoded, in any case.
fn hide(text: &str, hook: &Webhook) -> String {
    let mut text = text.to_string();
    for part in hook.secret_parts() {
        let decoded = percent_decode(&part);
        for form in [part, decoded] {
            text = replace_any_case(&text, &form, "…");
        }
    }
    text
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn replace_any_case(text: &str, needle: &str, with: &str) -> String {
    if needle.is_empty() {
        return text.to_string();
    }
    let (lower, needle) = (text.to_lowercase(), needle.to_lowercase());
    if lower.len() != text.len() {
        // Case folding changed lengths: drop the text rather than risk it.
        return match lower.contains(&needle) {
            true => "(an answer that quoted the webhook)".into(),
            false => text.to_string(),
        };
    }
    let mut out = String::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(&needle) {
        out.push_str(&text[at..at + i]);
        out.push_str(with);
        at += i + needle.len();
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::step_summary::tests::sample;
    use crate::model::changes::Listed;
    use proptest::prelude::*;

    #[test]
    fn anything_quoting_the_url_is_cut() {
        let hook =
            &notify::parse_webhooks("https://tok3n.example/hook/s3cret%2Fx?t=abcd").unwrap()[0];
        for quoted in [
            "bad: https://tok3n.example/hook/s3cret%2Fx?t=abcd",
            "no hook /hook/s3cret/x",
            "no such hook S3CRET%2FX",
            "token abcd refused",
            "dns error for tok3n.example",
        ] {
            let shown = hide(quoted, hook);
            for secret in ["s3cret", "S3CRET", "abcd", "tok3n"] {
                assert!(!shown.contains(secret), "{quoted} -> {shown}");
            }
        }
    }

    #[test]
    fn only_an_error_code_of_an_answer_is_shown() {
        let reply = |body: &str| Reply {
            status: StatusCode::FORBIDDEN,
            headers: Default::default(),
            body: body.to_string().into_bytes().into(),
        };
        assert_eq!(
            refused(&reply("invalid_token")),
            "the receiver answered 403 Forbidden (invalid_token)"
        );
        assert_eq!(
            refused(&reply("no hook /services/SECRET \u{1b}]0;x")),
            "the receiver answered 403 Forbidden"
        );
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
