//! Interaction responses (`POST /interactions/{id}/{token}/callback`) and the
//! interaction webhook (`/webhooks/{app}/{token}...`): the original response and
//! follow-ups, with Discord's ordering, once-only and expiry rules.

use serde_json::Value;

use super::rest::{edit, snowflake, unknown_message, Answer, Reply};
use super::{messages, validate, State, APP_ID, BOT_USER_ID};

/// Flags an interaction message may carry: ephemeral, suppress embeds, suppress
/// notifications.
const INTERACTION_FLAGS: u64 = 64 | 4 | 4096;
/// "Bot is thinking...": set on a deferred original until its first edit.
const LOADING: u64 = 128;

fn unknown_interaction() -> Reply {
    Reply::error(404, 10062, "Unknown interaction")
}

fn unknown_webhook() -> Reply {
    Reply::error(404, 10015, "Unknown Webhook")
}

fn invalid_token() -> Reply {
    Reply::error(401, 50027, "Invalid Webhook Token")
}

/// Answers an interaction response, from the callback route or from the body of the
/// bot's answer to an HTTP-delivered interaction.
pub(super) fn callback(state: &mut State, id: u64, token: &str, body: &Value) -> Reply {
    respond(state, id, token, body).unwrap_or_else(|e| e)
}

fn respond(state: &mut State, id: u64, token: &str, body: &Value) -> Answer {
    let deadline = state.ack_deadline;
    let interaction = state
        .interactions
        .get(&id)
        .ok_or_else(unknown_interaction)?;
    if interaction.token != token {
        return Err(invalid_token());
    }
    if interaction.response.is_some() {
        return Err(Reply::error(
            400,
            40060,
            "Interaction has already been acknowledged.",
        ));
    }
    // Past the deadline Discord has already shown "The application did not respond".
    if deadline.is_some_and(|d| interaction.created.elapsed() > d) {
        return Err(unknown_interaction());
    }
    let allowed: &[u64] = match interaction.kind {
        1 => &[1],
        2 => &[4, 5],
        3 | 5 => &[4, 5, 6, 7],
        _ => &[],
    };
    let mut errors = validate::FormErrors::default();
    let kind = match body["type"].as_u64() {
        Some(kind) if allowed.contains(&kind) => kind,
        Some(_) => {
            let list = allowed
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            errors.add(
                "type",
                "BASE_TYPE_CHOICES",
                format!("Value must be one of {{{list}}}."),
            );
            return Err(errors.reply());
        }
        None => {
            errors.add("type", "BASE_TYPE_REQUIRED", "This field is required");
            return Err(errors.reply());
        }
    };
    let data = &body["data"];
    let (channel_id, interaction_kind) = (interaction.channel_id, interaction.kind);
    let original = match kind {
        1 => None,
        4 | 5 => {
            if kind == 4 {
                validate::message(data, validate::Mode::Create)?;
            } else if data.is_object() {
                validate::message(data, validate::Mode::Edit)?;
            }
            let message_id = state.snowflake();
            let mut message = messages::new_message(message_id, channel_id, BOT_USER_ID, "");
            // Slash-command replies are type 20 (CHAT_INPUT_COMMAND).
            message.kind = if interaction_kind == 2 { 20 } else { 0 };
            message.interaction_token = Some(token.to_string());
            if kind == 4 {
                messages::apply_fields(&mut message, data, INTERACTION_FLAGS);
            } else {
                message.flags = LOADING | (data["flags"].as_u64().unwrap_or(0) & 64);
            }
            state.messages.insert(message_id, message);
            Some(message_id)
        }
        6 | 7 => {
            let message_id = component_message(state, id)?;
            if kind == 7 {
                validate::message(data, validate::Mode::Edit)?;
                let current = state.messages[&message_id].clone();
                let edited = edit(current, data, 4)?;
                state.messages.insert(message_id, edited);
            }
            Some(message_id)
        }
        _ => unreachable!("checked against the allowed types"),
    };
    let interaction = state.interactions.get_mut(&id).expect("found above");
    interaction.response = Some(kind);
    interaction.original = original;
    state
        .interaction_responses
        .push((id, token.to_string(), body.clone()));
    Ok(Reply::no_content())
}

/// The stored id of the message a component interaction came from, storing the
/// interaction's copy when the fake has not seen that message.
fn component_message(state: &mut State, interaction_id: u64) -> Result<u64, Reply> {
    let payload = state.interactions[&interaction_id].message.clone();
    let message = payload
        .as_ref()
        .and_then(messages::message_from_json)
        .ok_or_else(|| {
            Reply::error(
                400,
                0,
                "fake Discord: this interaction carries no message to update",
            )
        })?;
    let id = message.id;
    state.messages.entry(id).or_insert(message);
    Ok(id)
}

/// The interaction behind an interaction webhook, with Discord's checks: the app, a
/// known token, not expired, and already responded to (the webhook exists from then).
fn webhook(state: &State, app: &str, token: &str) -> Result<u64, Reply> {
    if snowflake("webhook_id", app)? != APP_ID {
        return Err(unknown_webhook());
    }
    let id = *state.tokens.get(token).ok_or_else(unknown_webhook)?;
    let interaction = &state.interactions[&id];
    if interaction.expired {
        return Err(invalid_token());
    }
    if interaction.response.is_none() {
        return Err(unknown_webhook());
    }
    Ok(id)
}

pub(super) fn followup(state: &mut State, app: &str, token: &str, body: &Value) -> Answer {
    let interaction_id = webhook(state, app, token)?;
    validate::message(body, validate::Mode::Create)?;
    let id = state.snowflake();
    let channel_id = state.interactions[&interaction_id].channel_id;
    let mut message = messages::new_message(id, channel_id, BOT_USER_ID, "");
    message.interaction_token = Some(token.to_string());
    messages::apply_fields(&mut message, body, INTERACTION_FLAGS);
    let json = message.json();
    state.messages.insert(id, message);
    state
        .interactions
        .get_mut(&interaction_id)
        .expect("found above")
        .followups
        .push(id);
    Ok(Reply::ok(json))
}

pub(super) fn webhook_message(
    state: &mut State,
    method: &str,
    app: &str,
    token: &str,
    message: &str,
    body: &Value,
) -> Answer {
    let interaction_id = webhook(state, app, token)?;
    let interaction = &state.interactions[&interaction_id];
    let id = if message == "@original" {
        interaction.original.ok_or_else(unknown_message)?
    } else {
        let id = snowflake("message_id", message)?;
        if interaction.original != Some(id) && !interaction.followups.contains(&id) {
            return Err(unknown_message());
        }
        id
    };
    let current = state
        .messages
        .get(&id)
        .filter(|m| !m.deleted)
        .cloned()
        .ok_or_else(unknown_message)?;
    match method {
        "GET" => Ok(Reply::ok(current.json())),
        "DELETE" => {
            state.messages.get_mut(&id).expect("found above").deleted = true;
            Ok(Reply::no_content())
        }
        "PATCH" => {
            validate::message(body, validate::Mode::Edit)?;
            let was_loading = current.flags & LOADING != 0;
            let mut edited = edit(current, body, 4)?;
            // The first edit of a deferred reply replaces "thinking..." with content.
            if was_loading {
                edited.flags &= !LOADING;
            }
            let json = edited.json();
            state.messages.insert(id, edited);
            Ok(Reply::ok(json))
        }
        _ => Err(Reply::error(405, 0, "405: Method Not Allowed")),
    }
}
