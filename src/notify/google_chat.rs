//! Google Chat: a space webhook's message with one card (`cardsV2`), pure.
//! Card texts take a small HTML subset, so names are HTML-escaped; a
//! message may be up to 32,000 bytes, and ours stays far below.

use serde_json::{Value, json};

use super::message::{List, Message};

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Plain text (the notification's text, the card's header): `<users/all>`
/// would mention the whole space, so no `<` reaches it.
fn plain(text: &str) -> String {
    text.replace('<', "‹")
}

fn list(heading: &str, l: &List) -> Option<Value> {
    if l.total == 0 {
        return None;
    }
    let mut lines: Vec<String> = l
        .named
        .iter()
        .map(|t| match &t.note {
            Some(note) => format!("• <b>{}</b> · <i>{}</i>", escape(&t.name), escape(note)),
            None => format!("• <b>{}</b>", escape(&t.name)),
        })
        .collect();
    if l.total > l.named.len() {
        lines.push(format!("…and {} more", l.total - l.named.len()));
    }
    Some(json!({
        "header": format!("{} ({})", escape(heading), l.total),
        "widgets": [{"textParagraph": {"text": lines.join("<br>")}}],
    }))
}

pub fn payload(m: &Message) -> Value {
    let mut facts = Vec::new();
    if let Some(rate) = m.pass_rate {
        facts.push(
            json!({"decoratedText": {"topLabel": "Pass rate", "text": format!("{rate:.0}%")}}),
        );
    }
    if let Some((verdict, failed)) = &m.gate {
        let rules: Vec<String> = failed.iter().map(|r| escape(r)).collect();
        let text = std::iter::once(verdict.to_string())
            .chain(rules)
            .collect::<Vec<_>>()
            .join("<br>");
        facts.push(
            json!({"decoratedText": {"topLabel": "Quality gate", "text": text, "wrapText": true}}),
        );
    }
    if let Some(flaky) = m.flaky.filter(|n| *n > 0) {
        facts.push(json!({"decoratedText": {"topLabel": "Flaky", "text": format!("{flaky} in the branch's history")}}));
    }
    let mut sections = Vec::new();
    if !facts.is_empty() {
        sections.push(json!({"widgets": facts}));
    }
    let base = m.base.as_deref().unwrap_or("");
    if let Some(s) = m
        .new_failures
        .as_ref()
        .and_then(|l| list(&format!("New failures {base}"), l))
    {
        sections.push(s);
    }
    if let Some(s) = m
        .fixed
        .as_ref()
        .and_then(|l| list(&format!("Fixed {base}"), l))
    {
        sections.push(s);
    }
    let last = match &m.links {
        Some(links) => json!({"buttonList": {"buttons": [
            {"text": format!("Report #{}", links.build), "onClick": {"openLink": {"url": links.run}}},
            {"text": "Latest", "onClick": {"openLink": {"url": links.latest}}},
        ]}}),
        None => json!({"textParagraph": {"text": m.no_links}}),
    };
    sections.push(json!({"widgets": [last, {"textParagraph": {"text": format!("<font color=\"#80868b\">allure-host · {}</font>", m.reason)}}]}));
    json!({
        "text": plain(&m.title()),
        "cardsV2": [{
            "cardId": "allure-host",
            "card": {
                "header": {"title": plain(&m.title()), "subtitle": m.counts},
                "sections": sections,
            }
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
        let card = &p["cardsV2"][0]["card"];
        assert_eq!(
            card["header"]["title"], "❌ Failed: payments · feat/‹b>|x (py=3.12)",
            "no `<users/all>` can mention anyone"
        );
        assert_eq!(p["text"], card["header"]["title"]);
        let text = serde_json::to_string(&p).unwrap();
        assert!(text.contains("• <b>Login &lt;admin&gt;</b>"), "{text}");
        assert!(text.contains("\"text\":\"Report #7\""), "{text}");
    }
}
