//! Microsoft Teams: a workflow webhook's message holding one Adaptive Card
//! (version 1.4, which Teams renders), pure. Teams refuses a message over
//! 28 KB; the card's texts are bounded so it stays far below.

use serde_json::{Value, json};

use super::message::{List, Message};

/// Adaptive Card text is Markdown: characters that would format, link or
/// start a list are escaped with a backslash; `<` and `&` are left alone
/// (Teams shows HTML as text), but `<at>` would mention, so `<` becomes `‹`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '*' | '_' | '[' | ']' | '(' | ')' | '`' | '~' | '#' | '>' | '!' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push('‹'),
            c => out.push(c),
        }
    }
    out
}

fn text(t: String) -> Value {
    json!({"type": "TextBlock", "text": t, "wrap": true})
}

fn list(heading: &str, l: &List, blocks: &mut Vec<Value>) {
    if l.total == 0 {
        return;
    }
    let mut heading = text(format!("**{}** ({})", escape(heading), l.total));
    heading["spacing"] = json!("Medium");
    blocks.push(heading);
    let mut lines: Vec<String> = l
        .named
        .iter()
        .map(|t| match &t.note {
            Some(note) => format!("- {} · _{}_", escape(&t.name), escape(note)),
            None => format!("- {}", escape(&t.name)),
        })
        .collect();
    if l.total > l.named.len() {
        lines.push(format!("- …and {} more", l.total - l.named.len()));
    }
    blocks.push(text(lines.join("\r")));
}

pub fn card(m: &Message) -> Value {
    let mut title = text(escape(&m.title()));
    title["weight"] = json!("Bolder");
    title["size"] = json!("Medium");
    title["color"] = json!(if m.red { "Attention" } else { "Good" });
    let mut facts = vec![json!({"title": "Tests", "value": escape(&m.counts)})];
    if let Some(rate) = m.pass_rate {
        facts.push(json!({"title": "Pass rate", "value": format!("{rate:.0}%")}));
    }
    if let Some((verdict, failed)) = &m.gate {
        let mut value = verdict.to_string();
        for rule in failed {
            value.push_str(&format!("; {}", escape(rule)));
        }
        facts.push(json!({"title": "Quality gate", "value": value}));
    }
    if let Some(flaky) = m.flaky.filter(|n| *n > 0) {
        facts.push(json!({"title": "Flaky", "value": format!("{flaky} in the branch's history")}));
    }
    let mut body = vec![title, json!({"type": "FactSet", "facts": facts})];
    let base = m.base.as_deref().unwrap_or("");
    if let Some(l) = &m.new_failures {
        list(&format!("New failures {base}"), l, &mut body);
    }
    if let Some(l) = &m.fixed {
        list(&format!("Fixed {base}"), l, &mut body);
    }
    let actions = match &m.links {
        Some(links) => json!([
            {"type": "Action.OpenUrl", "title": format!("Report #{}", links.build), "url": links.run},
            {"type": "Action.OpenUrl", "title": "Latest", "url": links.latest},
        ]),
        None => {
            body.push(text(m.no_links.into()));
            json!([])
        }
    };
    let mut footer = text(format!("allure-host · {}", escape(m.reason)));
    footer["isSubtle"] = json!(true);
    footer["size"] = json!("Small");
    body.push(footer);
    json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
        "actions": actions,
    })
}

/// The workflow webhook's message: the card as its one attachment.
pub fn payload(m: &Message) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card(m),
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::step_summary::tests::sample;

    #[test]
    fn a_failed_run_as_a_card() {
        let p = payload(&Message::of(&sample(), "every publish"));
        let card = &p["attachments"][0]["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["body"][0]["color"], "Attention");
        let text = serde_json::to_string(&p).unwrap();
        assert!(text.contains("Login ‹admin"), "{text}");
        assert!(text.contains(r"Checkout with \\`expired\\` card"), "{text}");
        assert_eq!(card["actions"][0]["title"], "Report #7");
    }

    #[test]
    fn markdown_cannot_link_or_mention() {
        assert_eq!(
            escape("[x](http://e) <at>me</at>"),
            r"\[x\]\(http://e\) ‹at\>me‹/at\>"
        );
    }
}
