//! Block Kit checks on a message's `blocks`, with Slack's limits, reported as Slack
//! reports them: one line per problem ending in `[json-pointer:/blocks/...]`.
//!
//! Modelled block types: `section`, `actions`, `context`, `divider`, `header`,
//! `rich_text`, `image`. Elements are checked in full for buttons and text objects;
//! other interactive elements only for their type and `action_id`.

use std::collections::HashSet;

use serde_json::{Map, Value};

const MAX_BLOCKS: usize = 50;
const MAX_BLOCK_ID: usize = 255;
const MAX_SECTION_TEXT: usize = 3000;
const MAX_FIELDS: usize = 10;
const MAX_FIELD_TEXT: usize = 2000;
const MAX_HEADER_TEXT: usize = 150;
const MAX_ACTIONS: usize = 25;
const MAX_CONTEXT: usize = 10;
const MAX_BUTTON_TEXT: usize = 75;
const MAX_ACTION_ID: usize = 255;
const MAX_BUTTON_VALUE: usize = 2000;
const MAX_URL: usize = 3000;
const MAX_ALT_TEXT: usize = 2000;

/// Interactive elements Slack allows in an actions block or a section accessory,
/// besides buttons, which are checked in full.
const OTHER_ELEMENTS: &[&str] = &[
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "multi_channels_select",
    "overflow",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "checkboxes",
    "radio_buttons",
    "workflow_button",
];

/// Characters of text in `blocks`, as counted against a message's total: every
/// `text` string (sections, fields, headers, buttons' labels) and button `value`.
pub(super) fn text_chars(blocks: &Value) -> usize {
    match blocks {
        Value::Object(map) => map
            .iter()
            .map(|(key, v)| match (key.as_str(), v) {
                ("text" | "value", Value::String(s)) => s.chars().count(),
                _ => text_chars(v),
            })
            .sum(),
        Value::Array(list) => list.iter().map(text_chars).sum(),
        _ => 0,
    }
}

/// `Ok` if Slack would take these blocks, else every problem found.
pub(super) fn check(blocks: &Value) -> Result<(), Vec<String>> {
    let mut found = Problems::default();
    match blocks.as_array() {
        None => found.add("/blocks", "must be an array"),
        Some(list) => {
            if list.len() > MAX_BLOCKS {
                found.add("/blocks", &format!("must have at most {MAX_BLOCKS} items"));
            }
            let mut block_ids = HashSet::new();
            for (i, block) in list.iter().enumerate() {
                check_block(&mut found, &format!("/blocks/{i}"), block, &mut block_ids);
            }
        }
    }
    if found.0.is_empty() {
        Ok(())
    } else {
        Err(found.0)
    }
}

#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, pointer: &str, problem: &str) {
        self.0.push(format!("{problem} [json-pointer:{pointer}]"));
    }
}

fn check_block(found: &mut Problems, at: &str, block: &Value, ids: &mut HashSet<String>) {
    let Some(block) = block.as_object() else {
        found.add(at, "must be an object");
        return;
    };
    if let Some(id) = block.get("block_id") {
        match id.as_str() {
            Some(id) if id.is_empty() || chars(id) > MAX_BLOCK_ID => found.add(
                &format!("{at}/block_id"),
                &format!("must be 1 to {MAX_BLOCK_ID} characters"),
            ),
            Some(id) if !ids.insert(id.to_string()) => found.add(
                &format!("{at}/block_id"),
                "duplicate block_id in the message",
            ),
            Some(_) => {}
            None => found.add(&format!("{at}/block_id"), "must be a string"),
        }
    }
    match block.get("type").and_then(Value::as_str) {
        Some("section") => section(found, at, block),
        Some("actions") => {
            let elements = list(found, at, block, "elements", 1, MAX_ACTIONS);
            for (i, element) in elements.iter().enumerate() {
                interactive(found, &format!("{at}/elements/{i}"), element);
            }
        }
        Some("context") => {
            let elements = list(found, at, block, "elements", 1, MAX_CONTEXT);
            for (i, element) in elements.iter().enumerate() {
                let at = format!("{at}/elements/{i}");
                match element.get("type").and_then(Value::as_str) {
                    Some("image") => image(found, &at, element),
                    _ => text_object(found, &at, Some(element), TextRule::any(MAX_SECTION_TEXT)),
                }
            }
        }
        Some("divider") => {}
        Some("header") => text_object(
            found,
            &format!("{at}/text"),
            block.get("text"),
            TextRule::plain(MAX_HEADER_TEXT),
        ),
        Some("rich_text") => {
            list(found, at, block, "elements", 0, usize::MAX);
        }
        Some("image") => {
            image(found, at, &Value::Object(block.clone()));
            if let Some(title) = block.get("title") {
                text_object(
                    found,
                    &format!("{at}/title"),
                    Some(title),
                    TextRule::plain(MAX_ALT_TEXT),
                );
            }
        }
        Some(other) => found.add(
            &format!("{at}/type"),
            &format!("block type {other:?} is not modelled by the fake Slack"),
        ),
        None => found.add(&format!("{at}/type"), "missing required field: type"),
    }
}

fn section(found: &mut Problems, at: &str, block: &Map<String, Value>) {
    let text = block.get("text");
    let fields = block.get("fields");
    if text.is_none() && fields.is_none() {
        found.add(at, "must provide either text or fields");
    }
    if text.is_some() {
        text_object(
            found,
            &format!("{at}/text"),
            text,
            TextRule::any(MAX_SECTION_TEXT),
        );
    }
    if fields.is_some() {
        for (i, field) in list(found, at, block, "fields", 1, MAX_FIELDS)
            .iter()
            .enumerate()
        {
            text_object(
                found,
                &format!("{at}/fields/{i}"),
                Some(field),
                TextRule::any(MAX_FIELD_TEXT),
            );
        }
    }
    if let Some(accessory) = block.get("accessory") {
        let at = format!("{at}/accessory");
        match accessory.get("type").and_then(Value::as_str) {
            Some("image") => image(found, &at, accessory),
            _ => interactive(found, &at, accessory),
        }
    }
}

/// The array `block[name]` with `min..=max` items; empty if it is not one.
fn list<'a>(
    found: &mut Problems,
    at: &str,
    block: &'a Map<String, Value>,
    name: &str,
    min: usize,
    max: usize,
) -> &'a [Value] {
    let at = format!("{at}/{name}");
    match block.get(name).and_then(Value::as_array) {
        None => {
            found.add(&at, &format!("missing required field: {name}"));
            &[]
        }
        Some(items) => {
            if items.len() < min {
                found.add(&at, &format!("must have at least {min} items"));
            }
            if items.len() > max {
                found.add(&at, &format!("must have at most {max} items"));
            }
            items
        }
    }
}

fn interactive(found: &mut Problems, at: &str, element: &Value) {
    match element.get("type").and_then(Value::as_str) {
        Some("button") => button(found, at, element),
        Some(kind) if OTHER_ELEMENTS.contains(&kind) => {
            if let Some(action_id) = element.get("action_id") {
                bounded_string(
                    found,
                    &format!("{at}/action_id"),
                    action_id,
                    1,
                    MAX_ACTION_ID,
                );
            }
        }
        Some(kind) => found.add(
            &format!("{at}/type"),
            &format!("{kind:?} is not a valid interactive element"),
        ),
        None => found.add(&format!("{at}/type"), "missing required field: type"),
    }
}

fn button(found: &mut Problems, at: &str, button: &Value) {
    text_object(
        found,
        &format!("{at}/text"),
        button.get("text"),
        TextRule::plain(MAX_BUTTON_TEXT),
    );
    // Slack would invent an action_id; the fake insists, because a press the bot
    // cannot route is a bug.
    match button.get("action_id") {
        None => found.add(
            &format!("{at}/action_id"),
            "missing required field: action_id",
        ),
        Some(id) => bounded_string(found, &format!("{at}/action_id"), id, 1, MAX_ACTION_ID),
    }
    if let Some(value) = button.get("value") {
        bounded_string(found, &format!("{at}/value"), value, 1, MAX_BUTTON_VALUE);
    }
    if let Some(url) = button.get("url") {
        bounded_string(found, &format!("{at}/url"), url, 1, MAX_URL);
    }
    if let Some(style) = button.get("style") {
        if !matches!(style.as_str(), Some("primary" | "danger")) {
            found.add(
                &format!("{at}/style"),
                "must be one of the allowed values [primary, danger]",
            );
        }
    }
}

fn image(found: &mut Problems, at: &str, image: &Value) {
    if image.get("slack_file").is_none() {
        match image.get("image_url") {
            None => found.add(
                &format!("{at}/image_url"),
                "missing required field: image_url",
            ),
            Some(url) => bounded_string(found, &format!("{at}/image_url"), url, 1, MAX_URL),
        }
    }
    match image.get("alt_text") {
        None => found.add(
            &format!("{at}/alt_text"),
            "missing required field: alt_text",
        ),
        Some(alt) => bounded_string(found, &format!("{at}/alt_text"), alt, 1, MAX_ALT_TEXT),
    }
}

/// Which text objects a place takes, and how long they may be.
struct TextRule {
    plain_only: bool,
    max: usize,
}

impl TextRule {
    fn any(max: usize) -> TextRule {
        TextRule {
            plain_only: false,
            max,
        }
    }

    fn plain(max: usize) -> TextRule {
        TextRule {
            plain_only: true,
            max,
        }
    }
}

fn text_object(found: &mut Problems, at: &str, text: Option<&Value>, rule: TextRule) {
    let Some(text) = text else {
        found.add(at, "missing required field: text");
        return;
    };
    let kind = text.get("type").and_then(Value::as_str);
    match kind {
        Some("plain_text") => {
            if text.get("verbatim").is_some() {
                found.add(&format!("{at}/verbatim"), "is not allowed on plain_text");
            }
        }
        Some("mrkdwn") if !rule.plain_only => {
            if text.get("emoji").is_some() {
                found.add(&format!("{at}/emoji"), "is not allowed on mrkdwn");
            }
        }
        _ => {
            let allowed = if rule.plain_only {
                "[plain_text]"
            } else {
                "[plain_text, mrkdwn]"
            };
            found.add(
                &format!("{at}/type"),
                &format!("must be one of the allowed values {allowed}"),
            );
        }
    }
    match text.get("text") {
        None => found.add(&format!("{at}/text"), "missing required field: text"),
        Some(t) => bounded_string(found, &format!("{at}/text"), t, 1, rule.max),
    }
}

/// Slack's wording: "must be more than 0 characters", "must be less than 76
/// characters".
fn bounded_string(found: &mut Problems, at: &str, value: &Value, min: usize, max: usize) {
    let Some(s) = value.as_str() else {
        found.add(at, "must be a string");
        return;
    };
    let n = chars(s);
    if n < min {
        found.add(at, &format!("must be more than {} characters", min - 1));
    }
    if n > max {
        found.add(at, &format!("must be less than {} characters", max + 1));
    }
}

/// Slack counts characters, not bytes.
fn chars(s: &str) -> usize {
    s.chars().count()
}
