//! Block Kit and text limits: what Slack refuses, the fake refuses, with Slack's
//! error and JSON pointer.

use serde_json::json;
use slack_morphism::errors::SlackClientError;

use super::*;

#[tokio::test]
async fn a_button_with_a_76_character_label_is_refused_as_invalid_blocks() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);

    let err = client
        .open_session(&bot_token())
        .chat_post_message(&post_request(
            "C_INC",
            "approve?",
            vec![approve_button(&"x".repeat(76))],
        ))
        .await
        .unwrap_err();

    match err {
        SlackClientError::ApiError(api) => {
            assert_eq!(api.code, "invalid_blocks");
            let errors = api.errors.unwrap_or_default();
            assert!(
                errors
                    .iter()
                    .any(|e| e.contains("must be less than 76 characters")
                        && e.contains("[json-pointer:/blocks/0/elements/0/text/text]")),
                "{errors:?}"
            );
        }
        other => panic!("expected invalid_blocks, got {other:?}"),
    }
    assert!(fake.messages("C_INC").is_empty());
    assert_eq!(fake.rejections().len(), 1);
}

/// Each case is blocks Slack refuses; the fake must refuse every one.
#[tokio::test]
async fn malformed_blocks_are_refused_as_slack_refuses_them() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let button = |extra: Value| {
        let mut b = json!({"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "go"});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let section = |text: Value| json!([{"type": "section", "text": text}]);
    let actions = |element: Value| json!([{"type": "actions", "elements": [element]}]);
    // (case, blocks, what Slack's `errors` line says, ending in its JSON pointer)
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "blocks not an array",
            json!({"type": "divider"}),
            "must be an array [json-pointer:/blocks]",
        ),
        (
            "a block that is not an object",
            json!(["divider"]),
            "must be an object [json-pointer:/blocks/0]",
        ),
        (
            "51 blocks",
            Value::Array(vec![json!({"type": "divider"}); 51]),
            "at most 50 items [json-pointer:/blocks]",
        ),
        (
            "a block without a type",
            json!([{"text": {"type": "mrkdwn", "text": "x"}}]),
            "[json-pointer:/blocks/0/type]",
        ),
        (
            "an unknown block type",
            json!([{"type": "sectoin", "text": {"type": "mrkdwn", "text": "x"}}]),
            "[json-pointer:/blocks/0/type]",
        ),
        (
            "section text of 3001 characters",
            section(json!({"type": "mrkdwn", "text": "x".repeat(3001)})),
            "less than 3001 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            "section text of another type",
            section(json!({"type": "markdown", "text": "x"})),
            "[json-pointer:/blocks/0/text/type]",
        ),
        (
            "empty section text",
            section(json!({"type": "mrkdwn", "text": ""})),
            "more than 0 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            "26 buttons in one actions block",
            json!([{"type": "actions", "elements": vec![button(json!({})); 26]}]),
            "at most 25 items [json-pointer:/blocks/0/elements]",
        ),
        (
            "an empty actions block",
            json!([{"type": "actions", "elements": []}]),
            "at least 1 items [json-pointer:/blocks/0/elements]",
        ),
        (
            "a button without text",
            actions(json!({"type": "button", "action_id": "go"})),
            "[json-pointer:/blocks/0/elements/0/text]",
        ),
        (
            "a button with mrkdwn text",
            actions(button(json!({"text": {"type": "mrkdwn", "text": "Go"}}))),
            "[json-pointer:/blocks/0/elements/0/text/type]",
        ),
        (
            "a button without an action_id",
            actions(json!({"type": "button", "text": {"type": "plain_text", "text": "Go"}})),
            "[json-pointer:/blocks/0/elements/0/action_id]",
        ),
        (
            "an action_id of 256 characters",
            actions(button(json!({"action_id": "a".repeat(256)}))),
            "less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
        ),
        (
            "a value of 2001 characters",
            actions(button(json!({"value": "v".repeat(2001)}))),
            "less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
        ),
        (
            "a style that is not primary or danger",
            actions(button(json!({"style": "secondary"}))),
            "[json-pointer:/blocks/0/elements/0/style]",
        ),
        (
            "a header of 151 characters",
            json!([{"type": "header", "text": {"type": "plain_text", "text": "h".repeat(151)}}]),
            "less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            "an image without alt_text",
            json!([{"type": "image", "image_url": "https://example.com/a.png"}]),
            "[json-pointer:/blocks/0/alt_text]",
        ),
        (
            "a duplicate block_id",
            json!([{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}]),
            "[json-pointer:/blocks/1/block_id]",
        ),
    ];
    for (case, blocks, expected) in &cases {
        let body = answer(
            raw(&fake, "chat.postMessage")
                .bearer_auth(BOT_TOKEN)
                .json(&json!({"channel": "C_INC", "text": "t", "blocks": blocks})),
        )
        .await;
        assert_eq!(body["ok"], false, "{case}: {body}");
        assert_eq!(body["error"], "invalid_blocks", "{case}: {body}");
        let errors = body["errors"].to_string();
        assert!(
            errors.contains(expected),
            "{case}: expected {expected:?} in {errors}"
        );
    }
    assert_eq!(fake.rejections().len(), cases.len());
    assert!(fake.messages("C_INC").is_empty());

    let fine = json!([
        {"type": "header", "text": {"type": "plain_text", "text": "RUN-7"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*step 1*"}, "fields": [{"type": "plain_text", "text": "ok"}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "by <@U_ALICE>"}]},
        {"type": "divider"},
        {"type": "actions", "elements": [button(json!({"value": "v".repeat(2000), "style": "danger"}))]},
        {"type": "rich_text", "elements": []},
        {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "chart"}
    ]);
    let body = answer(
        raw(&fake, "chat.postMessage")
            .bearer_auth(BOT_TOKEN)
            .json(&json!({"channel": "C_INC", "blocks": fine})),
    )
    .await;
    assert_eq!(body["ok"], true, "{body}");
}

#[tokio::test]
async fn missing_text_and_overlong_text_are_refused() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let post = |body: Value| {
        let request = reqwest::Client::new()
            .post(format!("{}/chat.postMessage", fake.api_url()))
            .bearer_auth(BOT_TOKEN)
            .json(&body);
        answer(request)
    };

    assert_eq!(post(json!({"channel": "C_INC"})).await["error"], "no_text");
    assert_eq!(
        post(json!({"channel": "C_INC", "blocks": []})).await["error"],
        "no_text"
    );
    assert_eq!(
        post(json!({"channel": "C_INC", "text": "x".repeat(40_001)})).await["error"],
        "msg_too_long"
    );
    assert_eq!(
        post(json!({"text": "hi"})).await["error"],
        "channel_not_found"
    );
    assert_eq!(
        post(json!({"channel": "C_INC", "text": "x".repeat(40_000)})).await["ok"],
        true
    );
}
