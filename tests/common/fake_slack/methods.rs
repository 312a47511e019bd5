//! The Web API methods over the fake's state: who may call each one, the arguments
//! each requires, the refusals Slack answers with, and answers in Slack's shape.

use serde_json::{json, Map, Value};

use super::web_api::Request;
use super::{blocks, Ephemeral, FakeMessage, State};
use super::{APP_ID, APP_TOKEN, BOT_ID, BOT_TOKEN, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID};

/// The clock before the first `ts`: the first message is `1763900000.000100`.
pub(super) const CLOCK_START: u64 = 1_763_900_000_000_000;
/// Slack's ceiling on a message's `text`.
const MAX_TEXT: usize = 40_000;
/// Slack's ceiling on the text of all of a message's blocks together: past it,
/// `msg_blocks_too_long`, whatever each section holds. The figure is the one
/// slackapi/node-slack-sdk publishes for a message's markdown
/// (`packages/types/src/block-kit/blocks.ts`, MarkdownBlock: "Limit 12,000
/// characters"), which Slack applies to the blocks of `chat.postMessage` and
/// `chat.update` alike.
const MAX_BLOCKS_TEXT: usize = 12_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TokenKind {
    Bot,
    App,
}

/// An `ok:false` answer: the code, and for `invalid_blocks` what was wrong where.
struct Refusal {
    error: String,
    errors: Vec<String>,
}

fn refuse(code: &str) -> Refusal {
    Refusal {
        error: code.to_string(),
        errors: Vec::new(),
    }
}

type Outcome = Result<Value, Refusal>;
type Method = fn(&mut State, &Args, &str) -> Outcome;

/// Answers one call, `ok:true` or not, as the JSON body Slack would send.
pub(super) fn call(state: &mut State, socket_url: &str, method: &str, request: &Request) -> Value {
    let (handler, wants): (Method, TokenKind) = match method {
        "auth.test" => (auth_test, TokenKind::Bot),
        "chat.postMessage" => (post_message, TokenKind::Bot),
        "chat.update" => (update, TokenKind::Bot),
        "chat.postEphemeral" => (post_ephemeral, TokenKind::Bot),
        "conversations.history" => (history, TokenKind::Bot),
        "users.info" => (users_info, TokenKind::Bot),
        "conversations.join" => (conversations_join, TokenKind::Bot),
        "conversations.info" => (conversations_info, TokenKind::Bot),
        "usergroups.users.list" => (usergroups_users_list, TokenKind::Bot),
        "apps.connections.open" => (connections_open, TokenKind::App),
        _ => return json!({"ok": false, "error": "unknown_method"}),
    };
    let outcome = authenticate(request.token.as_deref(), wants)
        .map_err(refuse)
        .and_then(|()| handler(state, &Args(&request.params), socket_url));
    match outcome {
        Ok(mut answer) => {
            if !request.warnings.is_empty() {
                answer["warning"] = json!(request.warnings.join(","));
                answer["response_metadata"]["warnings"] = json!(request.warnings);
            }
            answer
        }
        Err(refusal) if refusal.errors.is_empty() => json!({"ok": false, "error": refusal.error}),
        Err(refusal) => json!({
            "ok": false,
            "error": refusal.error,
            "errors": refusal.errors,
            "response_metadata": {
                "messages": refusal.errors.iter().map(|e| format!("[ERROR] {e}")).collect::<Vec<_>>()
            }
        }),
    }
}

fn authenticate(token: Option<&str>, wants: TokenKind) -> Result<(), &'static str> {
    let kind = match token {
        None => return Err("not_authed"),
        Some(BOT_TOKEN) => TokenKind::Bot,
        Some(APP_TOKEN) => TokenKind::App,
        Some(_) => return Err("invalid_auth"),
    };
    if kind == wants {
        Ok(())
    } else {
        Err("not_allowed_token_type")
    }
}

/// Arguments as Slack reads them: a JSON number or boolean counts as its text, and
/// an empty string counts as absent.
struct Args<'a>(&'a Map<String, Value>);

impl Args<'_> {
    fn str(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.str(name).as_deref(), Some("true" | "1"))
    }

    fn required(&self, name: &str, refusal: &str) -> Result<String, Refusal> {
        self.str(name).ok_or_else(|| refuse(refusal))
    }
}

/// A message's content. `blocks` is `None` when the call did not mention blocks, so
/// an update keeps the old ones; an empty array clears them.
struct Content {
    text: Option<String>,
    blocks: Option<Value>,
}

fn content(args: &Args) -> Result<Content, Refusal> {
    let text = args.str("text");
    if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT) {
        return Err(refuse("msg_too_long"));
    }
    let blocks = match args.0.get("blocks") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => {
            Some(serde_json::from_str::<Value>(s).map_err(|_| refuse("invalid_blocks_format"))?)
        }
        Some(other) => Some(other.clone()),
    };
    if let Some(blocks) = &blocks {
        blocks::check(blocks).map_err(|errors| Refusal {
            error: "invalid_blocks".into(),
            errors,
        })?;
        if blocks::text_chars(blocks) > MAX_BLOCKS_TEXT {
            return Err(refuse("msg_blocks_too_long"));
        }
    }
    let has_blocks = blocks
        .as_ref()
        .and_then(Value::as_array)
        .is_some_and(|b| !b.is_empty());
    let has_attachments = args
        .0
        .get("attachments")
        .is_some_and(|a| !a.is_null() && a != "" && a != &json!([]));
    if text.is_none() && !has_blocks && !has_attachments {
        return Err(refuse("no_text"));
    }
    Ok(Content { text, blocks })
}

/// `Null` for "no blocks", as [`FakeMessage::blocks`] has it.
fn stored_blocks(blocks: Value) -> Value {
    match blocks {
        Value::Array(list) if list.is_empty() => Value::Null,
        other => other,
    }
}

fn auth_test(_: &mut State, _: &Args, _: &str) -> Outcome {
    Ok(json!({
        "ok": true,
        "url": format!("https://{TEAM_DOMAIN}.slack.com/"),
        "team": "Warroom Fake",
        "user": "warroom",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": false
    }))
}

/// Whether the bot may post in `channel`. Slack's Web API spec
/// (slackapi/slack-api-specs `web-api/slack_web_openapi_v2.json`) lists
/// `not_in_channel` among `chat.postMessage`'s errors: a public channel the bot is
/// not in. A private one it is not in it cannot even see: `channel_not_found`.
/// A user id (`U…`) posts to the bot's DM with that user, which always works.
fn member(state: &State, channel: &str) -> Result<(), Refusal> {
    if looks_like_user_id(channel) || channel.starts_with('D') || state.is_member(channel) {
        return Ok(());
    }
    Err(refuse(if state.is_private(channel) {
        "channel_not_found"
    } else {
        "not_in_channel"
    }))
}

fn post_message(state: &mut State, args: &Args, _: &str) -> Outcome {
    let channel = args.required("channel", "channel_not_found")?;
    member(state, &channel)?;
    let content = content(args)?;
    let metadata = metadata(args)?;
    let message = FakeMessage {
        metadata,
        channel: channel.clone(),
        ts: state.next_ts(),
        text: content.text.unwrap_or_default(),
        blocks: stored_blocks(content.blocks.unwrap_or(Value::Null)),
        thread_ts: args.str("thread_ts"),
        username: args.str("username"),
        edits: Vec::new(),
        edited_ts: None,
        broadcast: args.flag("reply_broadcast"),
    };
    let answer = json!({
        "ok": true,
        "channel": channel,
        "ts": message.ts,
        "message": shape(&message)
    });
    state.messages.push(message);
    Ok(answer)
}

/// `metadata`: a JSON object, or a JSON string of one, with a string `event_type`
/// and an object `event_payload`; `Null` when not given.
fn metadata(args: &Args) -> Result<Value, Refusal> {
    let value = match args.0.get("metadata") {
        None | Some(Value::Null) => return Ok(Value::Null),
        Some(Value::String(s)) if s.is_empty() => return Ok(Value::Null),
        Some(Value::String(s)) => {
            serde_json::from_str::<Value>(s).map_err(|_| refuse("invalid_metadata_format"))?
        }
        Some(other) => other.clone(),
    };
    if !value["event_type"].is_string() || !value["event_payload"].is_object() {
        return Err(refuse("invalid_metadata_format"));
    }
    Ok(value)
}

fn update(state: &mut State, args: &Args, _: &str) -> Outcome {
    let channel = args.required("channel", "channel_not_found")?;
    let ts = args.required("ts", "message_not_found")?;
    let Some(index) = state
        .messages
        .iter()
        .position(|m| m.channel == channel && m.ts == ts)
    else {
        // Someone else's message exists but is not the bot's to edit.
        let seeded = state
            .history
            .get(&channel)
            .is_some_and(|h| h.iter().any(|m| m["ts"] == json!(ts)));
        return Err(refuse(if seeded {
            "cant_update_message"
        } else {
            "message_not_found"
        }));
    };
    let content = content(args)?;
    let edited_ts = state.next_ts();
    let message = &mut state.messages[index];
    if let Some(text) = content.text {
        message.text = text;
    }
    if let Some(blocks) = content.blocks {
        message.blocks = stored_blocks(blocks);
    }
    message.edits.push(Value::Object(args.0.clone()));
    message.edited_ts = Some(edited_ts);
    Ok(json!({
        "ok": true,
        "channel": channel,
        "ts": ts,
        "text": message.text,
        "message": shape(message)
    }))
}

fn post_ephemeral(state: &mut State, args: &Args, _: &str) -> Outcome {
    let channel = args.required("channel", "channel_not_found")?;
    let user = args.required("user", "user_not_found")?;
    if !looks_like_user_id(&user) {
        return Err(refuse("user_not_found"));
    }
    // The spec's `chat.postEphemeral` errors have no `not_in_channel`: a channel the
    // bot is not in is one it cannot post in at all, `channel_not_found`.
    if member(state, &channel).is_err() {
        return Err(refuse("channel_not_found"));
    }
    let content = content(args)?;
    let ts = state.next_ts();
    state.ephemerals.push(Ephemeral {
        channel,
        user,
        text: content.text.unwrap_or_default(),
        blocks: stored_blocks(content.blocks.unwrap_or(Value::Null)),
        thread_ts: args.str("thread_ts"),
        ts: ts.clone(),
    });
    Ok(json!({"ok": true, "message_ts": ts}))
}

/// The fake keeps no member list, so a user id is accepted if it is shaped like one.
fn looks_like_user_id(id: &str) -> bool {
    id.len() > 1
        && (id.starts_with('U') || id.starts_with('W'))
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn history(state: &mut State, args: &Args, _: &str) -> Outcome {
    let channel = args.required("channel", "channel_not_found")?;
    let limit = match args.str("limit") {
        None => 100,
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| refuse("invalid_arguments"))?,
    };
    // Slack serves at most 999 and treats 0 as "the default".
    let limit = if limit == 0 { 100 } else { limit.min(999) };
    let oldest = ts_arg(args, "oldest", "invalid_ts_oldest")?.unwrap_or(0);
    let latest = ts_arg(args, "latest", "invalid_ts_latest")?.unwrap_or(u64::MAX);
    let inclusive = args.flag("inclusive");
    let start = match args.str("cursor") {
        None => u64::MAX,
        Some(cursor) => decode_cursor(&cursor).ok_or_else(|| refuse("invalid_cursor"))?,
    };

    let seeded = state.history.get(&channel).into_iter().flatten().cloned();
    // Thread replies live in conversations.replies unless broadcast to the channel.
    let with_metadata = args.flag("include_all_metadata");
    let posted = state
        .messages
        .iter()
        .filter(|m| m.channel == channel && (m.thread_ts.is_none() || m.broadcast))
        .map(|m| {
            let mut shaped = shape(m);
            if with_metadata && !m.metadata.is_null() {
                shaped["metadata"] = m.metadata.clone();
            }
            shaped
        });
    let mut all: Vec<(u64, Value)> = seeded
        .chain(posted)
        .filter_map(|m| Some((ts_micros(m["ts"].as_str()?)?, m)))
        .filter(|(ts, _)| {
            if inclusive {
                oldest <= *ts && *ts <= latest
            } else {
                oldest < *ts && *ts < latest
            }
        })
        .filter(|(ts, _)| *ts <= start)
        .collect();
    all.sort_by_key(|(ts, _)| std::cmp::Reverse(*ts));
    let has_more = all.len() > limit;
    let next_cursor = if has_more {
        encode_cursor(all[limit].0)
    } else {
        String::new()
    };
    all.truncate(limit);
    Ok(json!({
        "ok": true,
        "messages": all.into_iter().map(|(_, m)| m).collect::<Vec<_>>(),
        "has_more": has_more,
        "pin_count": 0,
        "channel_actions_ts": null,
        "channel_actions_count": 0,
        "response_metadata": {"next_cursor": next_cursor}
    }))
}

fn ts_arg(args: &Args, name: &str, refusal: &str) -> Result<Option<u64>, Refusal> {
    args.str(name)
        .map(|ts| ts_micros(&ts).ok_or_else(|| refuse(refusal)))
        .transpose()
}

fn users_info(state: &mut State, args: &Args, _: &str) -> Outcome {
    let id = args.required("user", "user_not_found")?;
    let user = state
        .users
        .get(&id)
        .ok_or_else(|| refuse("user_not_found"))?;
    Ok(json!({"ok": true, "user": user}))
}

/// Public channels (`C…`) can be joined; private ones (`G…`, or marked private)
/// and DMs cannot.
fn conversations_join(state: &mut State, args: &Args, _: &str) -> Outcome {
    let channel = args.required("channel", "channel_not_found")?;
    if state.is_private(&channel) {
        // A private channel the bot is not in does not exist for it.
        return Err(refuse(if state.is_member(&channel) {
            "method_not_supported_for_channel_type"
        } else {
            "channel_not_found"
        }));
    }
    if !channel.starts_with('C') {
        return Err(refuse("method_not_supported_for_channel_type"));
    }
    if !state.joined.contains(&channel) {
        state.joined.push(channel.clone());
    }
    let created = state.clock / 1_000_000;
    Ok(json!({
        "ok": true,
        "channel": {
            "id": channel, "name": channel.to_lowercase(), "is_channel": true,
            "is_group": false, "is_im": false, "is_private": false, "is_archived": false,
            "is_general": false, "is_member": true, "created": created,
            "creator": "U_CREATOR", "name_normalized": channel.to_lowercase(),
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "num_members": 3,
        },
    }))
}

/// `conversations.info`: `is_member` and `is_private` as Slack answers them; a
/// private channel the bot is not in is `channel_not_found` (spec error list).
fn conversations_info(state: &mut State, args: &Args, _: &str) -> Outcome {
    let channel = args.required("channel", "channel_not_found")?;
    let private = state.is_private(&channel);
    let is_member = state.is_member(&channel);
    if private && !is_member {
        return Err(refuse("channel_not_found"));
    }
    let created = state.clock / 1_000_000;
    Ok(json!({
        "ok": true,
        "channel": {
            "id": channel, "name": channel.to_lowercase(), "is_channel": !private,
            "is_group": private, "is_im": false, "is_private": private,
            "is_archived": false, "is_general": false, "is_member": is_member,
            "created": created, "creator": "U_CREATOR",
            "name_normalized": channel.to_lowercase(),
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        },
    }))
}

/// `usergroups.users.list`: the user ids of a user group (`S…`). An unknown group is
/// `no_such_subteam`, Slack's answer for it (the spec's list is generic).
fn usergroups_users_list(state: &mut State, args: &Args, _: &str) -> Outcome {
    let group = args.required("usergroup", "no_such_subteam")?;
    let users = state
        .user_groups
        .get(&group)
        .ok_or_else(|| refuse("no_such_subteam"))?;
    Ok(json!({"ok": true, "users": users}))
}

fn connections_open(state: &mut State, _: &Args, socket_url: &str) -> Outcome {
    let ticket = uuid::Uuid::new_v4().to_string();
    state.socket.tickets.insert(ticket.clone());
    Ok(json!({
        "ok": true,
        "url": format!("{socket_url}?ticket={ticket}&app_id={APP_ID}")
    }))
}

/// A bot message in Slack's shape, as `chat.postMessage`, `chat.update` and
/// `conversations.history` return it.
pub(super) fn shape(message: &FakeMessage) -> Value {
    let mut shaped = json!({
        "user": BOT_USER_ID,
        "type": "message",
        "ts": message.ts,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "text": message.text,
        "team": TEAM_ID,
        "bot_profile": {
            "id": BOT_ID,
            "deleted": false,
            "name": "warroom",
            "updated": 1_763_800_000,
            "app_id": APP_ID,
            "user_id": BOT_USER_ID,
            "icons": {
                "image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
                "image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
                "image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png"
            },
            "team_id": TEAM_ID
        }
    });
    if !message.blocks.is_null() {
        shaped["blocks"] = message.blocks.clone();
    }
    if let Some(thread_ts) = &message.thread_ts {
        shaped["thread_ts"] = json!(thread_ts);
        shaped["parent_user_id"] = json!(BOT_USER_ID);
    }
    if let Some(username) = &message.username {
        shaped["username"] = json!(username);
    }
    if let Some(edited_ts) = &message.edited_ts {
        shaped["edited"] = json!({"user": BOT_USER_ID, "ts": edited_ts});
    }
    shaped
}

impl State {
    /// The next `ts`: 100 µs after the latest one handed out or seeded.
    fn next_ts(&mut self) -> String {
        self.clock += 100;
        format_ts(self.clock)
    }
}

/// `1763900000.000100` as microseconds; a bare `1763900000` counts too, as Slack's
/// `oldest=0` does.
pub(super) fn ts_micros(ts: &str) -> Option<u64> {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(secs) || !(frac.is_empty() || digits(frac) && frac.len() <= 6) {
        return None;
    }
    let micros = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse::<u64>().ok()?
    };
    secs.parse::<u64>()
        .ok()?
        .checked_mul(1_000_000)?
        .checked_add(micros)
}

pub(super) fn format_ts(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// Slack's cursors are base64 of `next_ts:<ts>`, padding included, so a client that
/// forgets to URL-encode one breaks here as it would on Slack.
fn encode_cursor(micros: u64) -> String {
    base64(format!("next_ts:{}", format_ts(micros)).as_bytes())
}

fn decode_cursor(cursor: &str) -> Option<u64> {
    let raw = unbase64(cursor)?;
    ts_micros(String::from_utf8(raw).ok()?.strip_prefix("next_ts:")?)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unbase64(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim_end_matches('=');
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in trimmed.bytes() {
        let value = ALPHABET.iter().position(|a| *a == c)? as u32;
        bits = bits << 6 | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count & 0xff) as u8);
        }
    }
    Some(out)
}
