//! What the fake refuses about where and how much the bot posts, with the published
//! source of each rule: membership (`not_in_channel`), the blocks' total
//! (`msg_blocks_too_long`), `conversations.info` and `usergroups.users.list`.

use crate::common::fake_slack::FakeSlack;
use serde_json::{json, Value};
use slack_morphism::errors::SlackClientError;

use super::*;

fn code(err: SlackClientError) -> String {
    match err {
        SlackClientError::ApiError(api) => api.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn section(text: &str) -> SlackBlock {
    serde_json::from_value(json!({
        "type": "section", "text": {"type": "mrkdwn", "text": text}
    }))
    .unwrap()
}

/// slackapi/slack-api-specs `web-api/slack_web_openapi_v2.json`: `not_in_channel` is
/// one of `chat.postMessage`'s errors; `chat.postEphemeral` lists `channel_not_found`
/// for a channel it cannot post in.
#[tokio::test]
async fn posting_where_the_bot_is_not_a_member_is_refused_until_it_joins_or_is_invited() {
    let fake = FakeSlack::start().await;
    let client = client(&fake);
    let token = bot_token();
    let session = client.open_session(&token);

    let err = session
        .chat_post_message(&post_request("C_PUBLIC", "hello", vec![]))
        .await
        .unwrap_err();
    assert_eq!(code(err), "not_in_channel");
    let err = session
        .chat_post_message(&post_request("G_PRIVATE", "hello", vec![]))
        .await
        .unwrap_err();
    assert_eq!(code(err), "channel_not_found");
    let ephemeral = SlackApiChatPostEphemeralRequest::new(
        "C_PUBLIC".into(),
        "U_ONCALL".into(),
        SlackMessageContent::new().with_text("psst".into()),
    );
    let err = session.chat_post_ephemeral(&ephemeral).await.unwrap_err();
    assert_eq!(code(err), "channel_not_found");

    // A public channel can be joined; a private one only invited to.
    session
        .conversations_join(&SlackApiConversationsJoinRequest::new("C_PUBLIC".into()))
        .await
        .unwrap();
    session
        .chat_post_message(&post_request("C_PUBLIC", "hello", vec![]))
        .await
        .expect("a member now");
    let err = session
        .conversations_join(&SlackApiConversationsJoinRequest::new("G_PRIVATE".into()))
        .await
        .unwrap_err();
    assert_eq!(code(err), "channel_not_found");
    fake.invite("G_PRIVATE");
    session
        .chat_post_message(&post_request("G_PRIVATE", "hello", vec![]))
        .await
        .expect("invited");
}

/// 12,000 characters of block text per message: the limit slackapi/node-slack-sdk
/// publishes (`packages/types/src/block-kit/blocks.ts`, "Limit 12,000 characters"),
/// answered `msg_blocks_too_long` although each section is within its 3,000.
#[tokio::test]
async fn blocks_over_twelve_thousand_characters_in_all_are_msg_blocks_too_long() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);
    let token = bot_token();
    let session = client.open_session(&token);
    let at_limit: Vec<SlackBlock> = (0..4).map(|_| section(&"x".repeat(3000))).collect();
    session
        .chat_post_message(&post_request("C_INC", "t", at_limit))
        .await
        .expect("12,000 exactly");
    let over: Vec<SlackBlock> = (0..5).map(|_| section(&"x".repeat(2401))).collect();
    let err = session
        .chat_post_message(&post_request("C_INC", "t", over.clone()))
        .await
        .unwrap_err();
    assert_eq!(code(err), "msg_blocks_too_long");
    let posted = &fake.messages("C_INC")[0];
    let update = SlackApiChatUpdateRequest::new(
        "C_INC".into(),
        SlackMessageContent::new().with_blocks(over),
        posted.ts.clone().into(),
    );
    let err = session.chat_update(&update).await.unwrap_err();
    assert_eq!(code(err), "msg_blocks_too_long");
}

/// `conversations.info` (spec: scopes `channels:read`, `groups:read`) says whether the
/// bot is a member; a private channel it is not in does not exist for it.
#[tokio::test]
async fn conversations_info_tells_membership_and_hides_private_channels_the_bot_is_not_in() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let info = |channel: &str| {
        let fake = fake.clone();
        let channel = channel.to_string();
        async move {
            let body: Value = raw(&fake, "conversations.info")
                .bearer_auth(BOT_TOKEN)
                .form(&[("channel", channel.as_str())])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body
        }
    };
    assert_eq!(info("C_INC").await["channel"]["is_member"], true);
    assert_eq!(info("C_OTHER").await["channel"]["is_member"], false);
    assert_eq!(info("G_SECRET").await["error"], "channel_not_found");
    fake.invite("G_SECRET");
    assert_eq!(info("G_SECRET").await["channel"]["is_private"], true);
}

/// `usergroups.users.list` (spec: scope `usergroups:read`) lists a group's user ids.
#[tokio::test]
async fn a_user_groups_members_are_listed_by_id() {
    let fake = FakeSlack::start().await;
    fake.add_user_group("S0DBA", &["U_DBA", "U_LEAD"]);
    let list = |group: &'static str| {
        let fake = fake.clone();
        async move {
            let body: Value = raw(&fake, "usergroups.users.list")
                .bearer_auth(BOT_TOKEN)
                .form(&[("usergroup", group)])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body
        }
    };
    assert_eq!(list("S0DBA").await["users"], json!(["U_DBA", "U_LEAD"]));
    assert_eq!(list("S0NONE").await["error"], "no_such_subteam");
}
