//! Slack: an incoming webhook's Block Kit message (pure). Limits from
//! Slack's reference: a header's text up to 150 characters, a section's
//! up to 3,000, a button's label up to 75, at most 50 blocks.

use serde_json::{Value, json};

use super::message::{List, Message};

const HEADER_CHARS: usize = 150;
pub const SECTION_CHARS: usize = 3000;

/// `mrkdwn` text shows `&`, `<` and `>` only as entities; `<` would
/// otherwise start a link or a mention (`<!channel>`).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A test name as inline code, so `*`, `_` and `~` in it stay literal.
fn code(name: &str) -> String {
    format!("`{}`", escape(&name.replace('`', "'")))
}

/// Cut to `max` characters, ending with an ellipsis when cut.
fn fit(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// `verbatim`: Slack neither links bare URLs nor reads mentions in it.
fn mrkdwn(text: String) -> Value {
    json!({"type": "mrkdwn", "text": text, "verbatim": true})
}

fn section(text: String) -> Value {
    json!({"type": "section", "text": mrkdwn(fit(text, SECTION_CHARS))})
}

fn list(heading: &str, l: &List) -> Option<Value> {
    if l.total == 0 {
        return None;
    }
    let mut text = format!("*{}* ({})", escape(heading), l.total);
    for t in &l.named {
        text.push_str(&format!("\n• {}", code(&t.name)));
        if let Some(note) = &t.note {
            text.push_str(&format!(" · _{}_", escape(note)));
        }
    }
    if l.total > l.named.len() {
        text.push_str(&format!("\n…and {} more", l.total - l.named.len()));
    }
    Some(section(text))
}

pub fn payload(m: &Message) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": fit(m.title(), HEADER_CHARS), "emoji": true}
    })];
    let mut facts = format!("*{}*", escape(&m.counts));
    if let Some(rate) = m.pass_rate {
        facts.push_str(&format!("\nPass rate {rate:.0}%"));
    }
    if let Some(flaky) = m.flaky.filter(|n| *n > 0) {
        facts.push_str(&format!(" · {flaky} flaky in the branch's history"));
    }
    blocks.push(section(facts));
    if let Some((verdict, failed)) = &m.gate {
        let mut text = format!("*Quality gate: {verdict}*");
        for rule in failed {
            text.push_str(&format!("\n• {}", escape(rule)));
        }
        blocks.push(section(text));
    }
    let base = m.base.as_deref().unwrap_or("");
    let lists = [
        m.new_failures
            .as_ref()
            .and_then(|l| list(&format!("New failures {base}"), l)),
        m.fixed
            .as_ref()
            .and_then(|l| list(&format!("Fixed {base}"), l)),
    ];
    blocks.extend(lists.into_iter().flatten());
    match &m.links {
        Some(links) => blocks.push(json!({
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": format!("Report #{}", links.build)}, "url": links.run},
                {"type": "button", "text": {"type": "plain_text", "text": "Latest"}, "url": links.latest},
            ]
        })),
        None => blocks.push(section(m.no_links.into())),
    }
    blocks.push(json!({
        "type": "context",
        "elements": [mrkdwn(format!("allure-host · {}", m.reason))]
    }));
    json!({ "text": escape(&m.title()), "blocks": blocks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::step_summary::tests::sample;

    #[test]
    fn a_failed_run_as_blocks() {
        let p = payload(&Message::of(&sample(), "every publish"));
        let blocks = p["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(
            blocks[0]["text"]["text"],
            "❌ Failed: payments · feat/<b>|x (py=3.12)"
        );
        let text = serde_json::to_string(&p).unwrap();
        assert!(text.contains("*New failures since main* (2)"), "{text}");
        assert!(text.contains("• `Login &lt;admin&gt;` · _passed the last 30 runs on main_"));
        assert!(!text.contains("<admin>"), "{text}");
        let actions = blocks.iter().find(|b| b["type"] == "actions").unwrap();
        assert_eq!(actions["elements"][0]["text"]["text"], "Report #7");
    }
}
