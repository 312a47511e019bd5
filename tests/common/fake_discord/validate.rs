//! Discord's request validation: message limits (content, embeds, components,
//! allowed mentions) and application commands, answered with Discord's
//! `50035 Invalid Form Body` tree: `{"errors": {"embeds": {"0": {"title":
//! {"_errors": [{"code", "message"}]}}}}}`, which serenity flattens into
//! `DiscordJsonSingleError { path: "embeds.0.title", .. }`.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::rest::Reply;

mod commands;

pub(super) use commands::{command, commands};

/// Discord's nested form-error tree.
#[derive(Default)]
pub(super) struct FormErrors(Map<String, Value>);

impl FormErrors {
    /// Adds an error at a dot-separated path (`""` for the body itself).
    pub fn add(&mut self, path: &str, code: &str, message: impl Into<String>) {
        let mut node = &mut self.0;
        for segment in path.split('.').filter(|s| !s.is_empty()) {
            node = node
                .entry(segment)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("error tree nodes are objects");
        }
        node.entry("_errors")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("_errors is a list")
            .push(json!({"code": code, "message": message.into()}));
    }

    pub fn reply(self) -> Reply {
        Reply::json(
            400,
            json!({"message": "Invalid Form Body", "code": 50035, "errors": self.0}),
        )
    }

    pub fn check(self) -> Result<(), Reply> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.reply())
        }
    }
}

fn at(prefix: &str, segment: impl std::fmt::Display) -> String {
    if prefix.is_empty() {
        segment.to_string()
    } else {
        format!("{prefix}.{segment}")
    }
}

fn chars(value: &Value) -> usize {
    value.as_str().map_or(0, |s| s.chars().count())
}

/// A value that is present and not null.
fn given(value: &Value) -> Option<&Value> {
    (!value.is_null()).then_some(value)
}

/// A string field: wrong types are `STRING_TYPE_CONVERT`; returns its length.
fn string(e: &mut FormErrors, path: &str, value: &Value) -> Option<usize> {
    match given(value)? {
        Value::String(s) => Some(s.chars().count()),
        other => {
            e.add(
                path,
                "STRING_TYPE_CONVERT",
                format!("Could not interpret \"{other}\" as string."),
            );
            None
        }
    }
}

fn max_len(e: &mut FormErrors, path: &str, value: &Value, max: usize) {
    if string(e, path, value).is_some_and(|n| n > max) {
        e.add(
            path,
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {max} or fewer in length."),
        );
    }
}

/// A required string of `min..=max` characters.
fn bounded(e: &mut FormErrors, path: &str, value: &Value, min: usize, max: usize) {
    match string(e, path, value) {
        None if value.is_null() => e.add(path, "BASE_TYPE_REQUIRED", "This field is required"),
        Some(n) if n < min || n > max => e.add(
            path,
            "BASE_TYPE_BAD_LENGTH",
            format!("Must be between {min} and {max} in length."),
        ),
        _ => {}
    }
}

/// A list field; wrong types are `LIST_TYPE_CONVERT`. Null or absent is empty.
fn list<'a>(e: &mut FormErrors, path: &str, value: &'a Value, max: usize) -> &'a [Value] {
    match value {
        Value::Null => &[],
        Value::Array(items) => {
            if items.len() > max {
                e.add(
                    path,
                    "BASE_TYPE_MAX_LENGTH",
                    format!("Must be {max} or fewer in length."),
                );
            }
            items
        }
        _ => {
            e.add(
                path,
                "LIST_TYPE_CONVERT",
                "Only iterables may be used in a ListType",
            );
            &[]
        }
    }
}

fn object(e: &mut FormErrors, path: &str, value: &Value) -> bool {
    let ok = value.is_object();
    if !ok {
        e.add(
            path,
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        );
    }
    ok
}

/// Whether a message body creates a message or edits one (fields optional).
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Mode {
    Create,
    Edit,
}

/// Validates a message body (channel message, interaction reply, follow-up or edit).
pub(super) fn message(body: &Value, mode: Mode) -> Result<(), Reply> {
    let mut e = FormErrors::default();
    if !object(&mut e, "", body) {
        return e.check();
    }
    max_len(&mut e, "content", &body["content"], 2000);
    embeds(&mut e, &body["embeds"]);
    components(&mut e, &body["components"], &body["flags"]);
    allowed_mentions(&mut e, &body["allowed_mentions"]);
    if !list(&mut e, "attachments", &body["attachments"], 10).is_empty() {
        e.add(
            "attachments",
            "FAKE_NOT_MODELLED",
            "fake Discord: attachments are not modelled",
        );
    }
    e.check()?;
    let has = |key: &str| body[key].as_array().is_some_and(|a| !a.is_empty());
    let has_content = body["content"]
        .as_str()
        .is_some_and(|c| !c.trim().is_empty());
    if mode == Mode::Create
        && !has_content
        && !has("embeds")
        && !has("components")
        && !has("sticker_ids")
        && body["poll"].is_null()
    {
        return Err(Reply::error(400, 50006, "Cannot send an empty message"));
    }
    Ok(())
}

fn embeds(e: &mut FormErrors, value: &Value) {
    let mut total = 0;
    for (i, embed) in list(e, "embeds", value, 10).iter().enumerate() {
        let path = at("embeds", i);
        if !object(e, &path, embed) {
            continue;
        }
        for (key, max) in [("title", 256), ("description", 4096)] {
            max_len(e, &at(&path, key), &embed[key], max);
            total += chars(&embed[key]);
        }
        if let Some(colour) = embed["color"].as_i64() {
            if !(0..=0xFF_FF_FF).contains(&colour) {
                e.add(
                    &at(&path, "color"),
                    "NUMBER_TYPE_MAX",
                    "int value should be less than or equal to 16777215.",
                );
            }
        }
        for (key, field, max) in [("footer", "text", 2048), ("author", "name", 256)] {
            if given(&embed[key]).is_some() {
                let p = at(&at(&path, key), field);
                bounded(e, &p, &embed[key][field], 1, max);
                total += chars(&embed[key][field]);
            }
        }
        let fields_path = at(&path, "fields");
        for (j, field) in list(e, &fields_path, &embed["fields"], 25)
            .iter()
            .enumerate()
        {
            let p = at(&fields_path, j);
            bounded(e, &at(&p, "name"), &field["name"], 1, 256);
            bounded(e, &at(&p, "value"), &field["value"], 1, 1024);
            total += chars(&field["name"]) + chars(&field["value"]);
        }
    }
    if total > 6000 {
        e.add(
            "embeds",
            "MAX_EMBED_SIZE_EXCEEDED",
            "Embed size exceeds maximum size of 6000",
        );
    }
}

fn components(e: &mut FormErrors, value: &Value, flags: &Value) {
    if flags.as_u64().unwrap_or(0) & (1 << 15) != 0 {
        e.add(
            "flags",
            "FAKE_NOT_MODELLED",
            "fake Discord: Components V2 (IS_COMPONENTS_V2) is not modelled",
        );
        return;
    }
    let mut seen = HashSet::new();
    for (i, row) in list(e, "components", value, 5).iter().enumerate() {
        let path = at("components", i);
        if row["type"] != 1 {
            e.add(
                &at(&path, "type"),
                "UNION_TYPE_CHOICES",
                "Value of field \"type\" must be one of (1,).",
            );
            continue;
        }
        let children_path = at(&path, "components");
        let children = list(e, &children_path, &row["components"], usize::MAX);
        if children.is_empty() || children.len() > 5 {
            e.add(
                &children_path,
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 5 in length.",
            );
        }
        let selects = children.iter().filter(|c| c["type"] != 2).count();
        if selects > 0 && children.len() > 1 {
            e.add(
                &children_path,
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            );
        }
        for (j, child) in children.iter().enumerate() {
            let p = at(&children_path, j);
            match child["type"].as_u64() {
                Some(2) => button(e, &p, child),
                Some(3 | 5 | 6 | 7 | 8) => select(e, &p, child),
                _ => e.add(
                    &at(&p, "type"),
                    "UNION_TYPE_CHOICES",
                    "Value of field \"type\" must be one of (2, 3, 5, 6, 7, 8).",
                ),
            }
            if let Some(id) = child["custom_id"].as_str() {
                if !seen.insert(id.to_string()) {
                    e.add(
                        &at(&p, "custom_id"),
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    );
                }
            }
        }
    }
}

fn button(e: &mut FormErrors, path: &str, button: &Value) {
    let has = |key: &str| given(&button[key]).is_some();
    max_len(e, &at(path, "label"), &button["label"], 80);
    match button["style"].as_u64() {
        Some(1..=4) => {
            if has("url") || has("sku_id") {
                e.add(
                    &at(path, "url"),
                    "BUTTON_COMPONENT_URL_NOT_ALLOWED",
                    "A non-link button cannot have a url",
                );
            }
            bounded(e, &at(path, "custom_id"), &button["custom_id"], 1, 100);
        }
        Some(5) => {
            if has("custom_id") {
                e.add(
                    &at(path, "custom_id"),
                    "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                    "A link button cannot have a custom id",
                );
            }
            bounded(e, &at(path, "url"), &button["url"], 1, 512);
        }
        Some(6) => {
            for key in ["custom_id", "url", "label", "emoji"] {
                if has(key) {
                    e.add(
                        &at(path, key),
                        "BUTTON_COMPONENT_PREMIUM_FIELD_NOT_ALLOWED",
                        "A premium button cannot have this field",
                    );
                }
            }
            if !has("sku_id") {
                e.add(
                    &at(path, "sku_id"),
                    "BASE_TYPE_REQUIRED",
                    "This field is required",
                );
            }
        }
        _ => e.add(
            &at(path, "style"),
            "BASE_TYPE_CHOICES",
            "Value must be one of {1, 2, 3, 4, 5, 6}.",
        ),
    }
    if button["style"] != 6 && !has("label") && !has("emoji") {
        e.add(
            path,
            "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
            "A button must have a label or an emoji",
        );
    }
}

fn select(e: &mut FormErrors, path: &str, select: &Value) {
    bounded(e, &at(path, "custom_id"), &select["custom_id"], 1, 100);
    max_len(e, &at(path, "placeholder"), &select["placeholder"], 150);
    let min = select["min_values"].as_u64().unwrap_or(1);
    let max = select["max_values"].as_u64().unwrap_or(1);
    if min > 25 || !(1..=25).contains(&max) || min > max {
        e.add(
            &at(path, "max_values"),
            "BASE_TYPE_BAD_VALUE",
            "min_values must be 0-25, max_values 1-25, and min_values <= max_values",
        );
    }
    if select["type"] == 3 {
        let options_path = at(path, "options");
        let options = list(e, &options_path, &select["options"], 25);
        if options.is_empty() {
            e.add(
                &options_path,
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 25 in length.",
            );
        }
        for (k, option) in options.iter().enumerate() {
            let p = at(&options_path, k);
            bounded(e, &at(&p, "label"), &option["label"], 1, 100);
            bounded(e, &at(&p, "value"), &option["value"], 1, 100);
            max_len(e, &at(&p, "description"), &option["description"], 100);
        }
    }
}

fn allowed_mentions(e: &mut FormErrors, value: &Value) {
    if given(value).is_none() || !object(e, "allowed_mentions", value) {
        return;
    }
    let parse = list(e, "allowed_mentions.parse", &value["parse"], 3);
    let parsed: Vec<&str> = parse.iter().filter_map(Value::as_str).collect();
    for (i, item) in parse.iter().enumerate() {
        if !matches!(item.as_str(), Some("users" | "roles" | "everyone")) {
            e.add(
                &at("allowed_mentions.parse", i),
                "BASE_TYPE_CHOICES",
                "Value must be one of ('roles', 'users', 'everyone').",
            );
        }
    }
    for kind in ["users", "roles"] {
        let ids = list(e, &at("allowed_mentions", kind), &value[kind], 100);
        if parsed.contains(&kind) && !ids.is_empty() {
            e.add(
                "allowed_mentions",
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                format!("parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive."),
            );
        }
    }
}
