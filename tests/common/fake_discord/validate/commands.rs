//! Application command rules: names, descriptions, counts, option order, sub-command
//! nesting, choices and the 8000-character command size.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::Value;

use super::super::rest::Reply;
use super::{at, bounded, chars, given, list, object, FormErrors};

/// Chat-input command and option names: Discord's pattern, and lowercase wherever a
/// character has a lowercase form.
fn chat_input_name(e: &mut FormErrors, path: &str, value: &Value) {
    static PATTERN: OnceLock<regex::Regex> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        regex::Regex::new(r"^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$")
            .expect("Discord's name pattern compiles")
    });
    bounded(e, path, value, 1, 32);
    if let Some(name) = value.as_str() {
        if (1..=32).contains(&name.chars().count())
            && (!pattern.is_match(name) || name.to_lowercase() != name)
        {
            e.add(
                path,
                "APPLICATION_COMMAND_INVALID_NAME",
                "Command name is invalid",
            );
        }
    }
}

/// A bulk overwrite body: a list of at most 100 commands with unique names per type.
pub(in super::super) fn commands(body: &Value) -> Result<(), Reply> {
    let mut e = FormErrors::default();
    if !body.is_array() {
        e.add(
            "",
            "LIST_TYPE_CONVERT",
            "Only iterables may be used in a ListType",
        );
        return e.check();
    }
    let commands = list(&mut e, "", body, 100);
    let mut names = HashSet::new();
    for (i, command) in commands.iter().enumerate() {
        check_command(&mut e, &i.to_string(), command);
        let key = (
            command["type"].as_u64().unwrap_or(1),
            command["name"].clone(),
        );
        if !names.insert(key) {
            e.add(
                "",
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            );
        }
    }
    e.check()
}

/// One command (create or edit).
pub(in super::super) fn command(body: &Value) -> Result<(), Reply> {
    let mut e = FormErrors::default();
    check_command(&mut e, "", body);
    e.check()
}

fn check_command(e: &mut FormErrors, path: &str, command: &Value) {
    if !object(e, path, command) {
        return;
    }
    let kind = command["type"].as_u64().unwrap_or(1);
    match kind {
        1 => {
            chat_input_name(e, &at(path, "name"), &command["name"]);
            bounded(e, &at(path, "description"), &command["description"], 1, 100);
            options(e, &at(path, "options"), &command["options"], Level::Command);
        }
        2 | 3 => {
            bounded(e, &at(path, "name"), &command["name"], 1, 32);
            if !list(e, &at(path, "options"), &command["options"], usize::MAX).is_empty() {
                e.add(
                    &at(path, "options"),
                    "APPLICATION_COMMAND_OPTIONS_NOT_ALLOWED",
                    "Only chat input commands can have options",
                );
            }
        }
        4 => bounded(e, &at(path, "name"), &command["name"], 1, 32),
        _ => e.add(
            &at(path, "type"),
            "BASE_TYPE_CHOICES",
            "Value must be one of {1, 2, 3, 4}.",
        ),
    }
    if size(command) > 8000 {
        e.add(
            path,
            "APPLICATION_COMMAND_TOO_LARGE",
            "Command exceeds maximum size (8000)",
        );
    }
}

/// Discord's command size: names, descriptions and choice names and values.
fn size(value: &Value) -> usize {
    let own = chars(&value["name"]) + chars(&value["description"]);
    let choices: usize = value["choices"].as_array().map_or(0, |cs| {
        cs.iter()
            .map(|c| {
                chars(&c["name"])
                    + match &c["value"] {
                        Value::String(s) => s.chars().count(),
                        other => other.to_string().len(),
                    }
            })
            .sum()
    });
    let options: usize = value["options"]
        .as_array()
        .map_or(0, |os| os.iter().map(size).sum());
    own + choices + options
}

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Command,
    Group,
    Subcommand,
}

const SUBCOMMAND: u64 = 1;
const GROUP: u64 = 2;

fn options(e: &mut FormErrors, path: &str, value: &Value, level: Level) {
    let options = list(e, path, value, 25);
    let kinds: Vec<u64> = options
        .iter()
        .map(|o| o["type"].as_u64().unwrap_or(0))
        .collect();
    let nested = kinds.iter().filter(|k| matches!(k, 1 | 2)).count();
    match level {
        Level::Command if nested > 0 && nested < kinds.len() => e.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all other types",
        ),
        Level::Group if kinds.iter().any(|k| *k != SUBCOMMAND) => e.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "A sub-command group can only contain sub-commands",
        ),
        Level::Subcommand if nested > 0 => e.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "A sub-command cannot contain sub-commands or groups",
        ),
        _ => {}
    }
    let mut optional_seen = false;
    let mut names = HashSet::new();
    for (i, option) in options.iter().enumerate() {
        let p = at(path, i);
        if !object(e, &p, option) {
            continue;
        }
        let required = option["required"].as_bool().unwrap_or(false);
        if required && optional_seen {
            e.add(
                path,
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            );
        }
        optional_seen |= !required;
        if !names.insert(option["name"].clone()) {
            e.add(
                path,
                "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME",
                "Option names must be unique",
            );
        }
        check_option(e, &p, option);
    }
}

fn check_option(e: &mut FormErrors, path: &str, option: &Value) {
    let kind = option["type"].as_u64().unwrap_or(0);
    if !(1..=11).contains(&kind) {
        e.add(
            &at(path, "type"),
            "BASE_TYPE_CHOICES",
            "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.",
        );
    }
    chat_input_name(e, &at(path, "name"), &option["name"]);
    bounded(e, &at(path, "description"), &option["description"], 1, 100);
    match kind {
        SUBCOMMAND => options(
            e,
            &at(path, "options"),
            &option["options"],
            Level::Subcommand,
        ),
        GROUP => options(e, &at(path, "options"), &option["options"], Level::Group),
        _ if !list(e, &at(path, "options"), &option["options"], usize::MAX).is_empty() => e.add(
            &at(path, "options"),
            "APPLICATION_COMMAND_OPTIONS_NOT_ALLOWED",
            "Only sub-commands and groups can have options",
        ),
        _ => {}
    }
    let choices_path = at(path, "choices");
    let choices = list(e, &choices_path, &option["choices"], 25);
    if !choices.is_empty() {
        if !matches!(kind, 3 | 4 | 10) {
            e.add(
                &choices_path,
                "APPLICATION_COMMAND_OPTION_CHOICES_NOT_ALLOWED",
                "Only string, integer and number options can have choices",
            );
        }
        if option["autocomplete"] == true {
            e.add(
                &at(path, "autocomplete"),
                "APPLICATION_COMMAND_AUTOCOMPLETE_CHOICES",
                "Autocomplete cannot be enabled on an option with choices",
            );
        }
    }
    for (k, choice) in choices.iter().enumerate() {
        let p = at(&choices_path, k);
        bounded(e, &at(&p, "name"), &choice["name"], 1, 100);
        let value_path = at(&p, "value");
        let value = &choice["value"];
        match kind {
            3 => bounded(e, &value_path, value, 1, 100),
            4 if value.as_i64().is_none_or(|v| v.abs() > 1 << 53) => e.add(
                &value_path,
                "NUMBER_TYPE_COERCE",
                format!("Value \"{value}\" is not int."),
            ),
            10 if !value.is_number() => e.add(
                &value_path,
                "NUMBER_TYPE_COERCE",
                format!("Value \"{value}\" is not a valid number."),
            ),
            _ => {}
        }
    }
    for (key, limit) in [("min_length", 6000), ("max_length", 6000)] {
        if let Some(n) = given(&option[key]) {
            if kind != 3 || n.as_u64().is_none_or(|n| n > limit) {
                e.add(
                    &at(path, key),
                    "BASE_TYPE_BAD_VALUE",
                    "Only string options take a length between 0 and 6000",
                );
            }
        }
    }
    for key in ["min_value", "max_value"] {
        if given(&option[key]).is_some() && !matches!(kind, 4 | 10) {
            e.add(
                &at(path, key),
                "BASE_TYPE_BAD_VALUE",
                "Only integer and number options take a value range",
            );
        }
    }
    if let (Some(min), Some(max)) = (option["min_value"].as_f64(), option["max_value"].as_f64()) {
        if min > max {
            e.add(
                &at(path, "min_value"),
                "BASE_TYPE_BAD_VALUE",
                "min_value must not exceed max_value",
            );
        }
    }
}
