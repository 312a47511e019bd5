//! Posting, updating and ephemerals through slack-morphism, what it puts on the
//! wire, and injected failures as it reports them.

use std::time::Duration;

use crate::common::fake_slack::{user, Failure, BOT_ID, BOT_USER_ID, TEAM_ID};
use serde_json::json;
use slack_morphism::errors::SlackClientError;

use super::*;

#[tokio::test]
async fn auth_test_answers_as_the_warroom_bot() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);

    let me = client.open_session(&bot_token()).auth_test().await.unwrap();

    assert_eq!(me.user_id.0, BOT_USER_ID);
    assert_eq!(me.team_id.0, TEAM_ID);
    assert_eq!(me.bot_id.unwrap().0, BOT_ID);
    let call = &fake.calls_to("auth.test")[0];
    assert_eq!(call.token.as_deref(), Some(BOT_TOKEN));
    assert!(call.ok);
}

#[tokio::test]
async fn a_message_with_blocks_is_posted_then_updated_in_place_and_an_ephemeral_is_kept_apart() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);
    let token = bot_token();
    let session = client.open_session(&token);

    let posted = session
        .chat_post_message(&post_request(
            "C_INC",
            "Run RUN-7 needs approval",
            vec![approve_button("Approve")],
        ))
        .await
        .unwrap();
    assert_eq!(posted.ts.0, "1763900000.000100");
    assert_eq!(posted.channel.0, "C_INC");
    assert_eq!(posted.message.sender.bot_id.unwrap().0, BOT_ID);

    let updated = session
        .chat_update(&SlackApiChatUpdateRequest::new(
            "C_INC".into(),
            SlackMessageContent::new().with_text("RUN-7 approved".into()),
            posted.ts.clone(),
        ))
        .await
        .unwrap();
    assert_eq!(updated.ts, posted.ts);
    assert_eq!(
        updated.message.content.text.as_deref(),
        Some("RUN-7 approved")
    );
    assert!(updated.message.edited.is_some());

    session
        .chat_post_ephemeral(&SlackApiChatPostEphemeralRequest::new(
            "C_INC".into(),
            "U_ALICE".into(),
            SlackMessageContent::new().with_text("only you can see this".into()),
        ))
        .await
        .unwrap();

    let messages = fake.messages("C_INC");
    assert_eq!(messages.len(), 1, "the ephemeral is not channel history");
    let message = &messages[0];
    assert_eq!(message.ts, posted.ts.0);
    assert_eq!(message.text, "RUN-7 approved");
    assert_eq!(
        message.blocks[0]["elements"][0]["action_id"], "approve",
        "text-only update keeps the blocks"
    );
    assert_eq!(message.edits.len(), 1);
    assert_eq!(message.edits[0]["text"], "RUN-7 approved");
    let ephemerals = fake.ephemerals();
    assert_eq!(ephemerals.len(), 1);
    assert_eq!(
        (ephemerals[0].user.as_str(), ephemerals[0].text.as_str()),
        ("U_ALICE", "only you can see this")
    );
    assert!(ephemerals[0].ts > message.ts, "ts keep increasing");
    assert!(fake.rejections().is_empty(), "{:?}", fake.rejections());
}

/// Pins what slack-morphism puts on the wire, so the fake is known to read it.
#[tokio::test]
async fn slack_morphism_gets_with_a_query_and_posts_json_with_the_token_in_the_header() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);
    let token = bot_token();
    let session = client.open_session(&token);
    fake.add_user(user("U_ALICE", "alice", "Alice Martin"));

    session.auth_test().await.unwrap();
    let posted = session
        .chat_post_message(&post_request(
            "C_INC",
            "hello",
            vec![approve_button("Approve")],
        ))
        .await
        .unwrap();
    session
        .chat_update(&SlackApiChatUpdateRequest::new(
            "C_INC".into(),
            SlackMessageContent::new().with_text("bye".into()),
            posted.ts,
        ))
        .await
        .unwrap();
    session
        .chat_post_ephemeral(&SlackApiChatPostEphemeralRequest::new(
            "C_INC".into(),
            "U_ALICE".into(),
            SlackMessageContent::new().with_text("psst".into()),
        ))
        .await
        .unwrap();
    session
        .conversations_history(
            &SlackApiConversationsHistoryRequest::new().with_channel("C_INC".into()),
        )
        .await
        .unwrap();
    session
        .users_info(&SlackApiUsersInfoRequest::new("U_ALICE".into()))
        .await
        .unwrap();
    client
        .open_session(&app_token())
        .apps_connections_open(&SlackApiAppsConnectionOpenRequest::new())
        .await
        .unwrap();

    let wire: Vec<(String, String, Option<String>, Option<String>)> = fake
        .calls()
        .into_iter()
        .map(|c| (c.method, c.http_method, c.content_type, c.token))
        .collect();
    let json = Some("application/json; charset=utf-8".to_string());
    let bot = Some(BOT_TOKEN.to_string());
    assert_eq!(
        wire,
        vec![
            ("auth.test".into(), "GET".into(), None, bot.clone()),
            (
                "chat.postMessage".into(),
                "POST".into(),
                json.clone(),
                bot.clone()
            ),
            (
                "chat.update".into(),
                "POST".into(),
                json.clone(),
                bot.clone()
            ),
            (
                "chat.postEphemeral".into(),
                "POST".into(),
                json.clone(),
                bot.clone()
            ),
            (
                "conversations.history".into(),
                "GET".into(),
                None,
                bot.clone()
            ),
            ("users.info".into(), "GET".into(), None, bot),
            (
                "apps.connections.open".into(),
                "POST".into(),
                json,
                Some(APP_TOKEN.to_string())
            ),
        ]
    );
    let post = &fake.calls_to("chat.postMessage")[0];
    assert!(
        post.params["blocks"].is_array(),
        "JSON blocks arrive as an array: {}",
        post.params
    );
    assert_eq!(
        fake.calls_to("users.info")[0].params,
        json!({"user": "U_ALICE"})
    );
    assert!(fake.rejections().is_empty(), "{:?}", fake.rejections());
}

#[tokio::test]
async fn an_injected_429_surfaces_as_a_rate_limit_error_with_its_retry_after() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);
    fake.fail_next(
        "chat.postMessage",
        Failure::RateLimited {
            retry_after_secs: 7,
        },
    );

    let err = client
        .open_session(&bot_token())
        .chat_post_message(&post_request("C_INC", "hello", vec![]))
        .await
        .unwrap_err();

    match err {
        SlackClientError::RateLimitError(limited) => {
            assert_eq!(limited.retry_after, Some(Duration::from_secs(7)));
            assert_eq!(limited.code.as_deref(), Some("ratelimited"));
        }
        other => panic!("expected a rate limit error, got {other:?}"),
    }
    assert!(
        fake.messages("C_INC").is_empty(),
        "a failed call stores nothing"
    );
    let call = &fake.calls()[0];
    assert_eq!((call.status, call.ok, call.injected), (429, false, true));
    assert!(
        fake.rejections().is_empty(),
        "injected failures are not rejections"
    );
}

#[tokio::test]
async fn an_injected_500_surfaces_as_an_http_error() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);
    fake.fail_next("chat.update", Failure::ServerError);

    let err = client
        .open_session(&bot_token())
        .chat_update(&SlackApiChatUpdateRequest::new(
            "C_INC".into(),
            SlackMessageContent::new().with_text("x".into()),
            "1763900000.000100".into(),
        ))
        .await
        .unwrap_err();

    match err {
        SlackClientError::HttpError(http) => assert_eq!(http.status_code.as_u16(), 500),
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_injected_api_error_surfaces_with_its_code_and_only_the_next_call_fails() {
    let fake = FakeSlack::start().await;
    fake.invite("C_GONE");
    let client = client(&fake);
    let token = bot_token();
    let session = client.open_session(&token);
    fake.fail_next("chat.postMessage", Failure::Api("channel_not_found".into()));

    let err = session
        .chat_post_message(&post_request("C_GONE", "hello", vec![]))
        .await
        .unwrap_err();
    match err {
        SlackClientError::ApiError(api) => assert_eq!(api.code, "channel_not_found"),
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(fake.messages("C_GONE").is_empty());

    session
        .chat_post_message(&post_request("C_GONE", "hello again", vec![]))
        .await
        .expect("the failure was for one call only");
    assert_eq!(fake.messages("C_GONE").len(), 1);
}

#[tokio::test]
async fn updating_a_message_the_bot_never_posted_is_refused() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);
    fake.set_history(
        "C_INC",
        vec![
            json!({"type": "message", "user": "U_ALICE", "text": "hi", "ts": "1763000000.000100"}),
        ],
    );
    let update = |ts: &str| {
        SlackApiChatUpdateRequest::new(
            "C_INC".into(),
            SlackMessageContent::new().with_text("x".into()),
            ts.into(),
        )
    };
    let token = bot_token();
    let session = client.open_session(&token);

    let unknown = session
        .chat_update(&update("1763999999.000100"))
        .await
        .unwrap_err();
    let someone_elses = session
        .chat_update(&update("1763000000.000100"))
        .await
        .unwrap_err();

    assert!(
        matches!(unknown, SlackClientError::ApiError(ref e) if e.code == "message_not_found"),
        "{unknown:?}"
    );
    assert!(
        matches!(someone_elses, SlackClientError::ApiError(ref e) if e.code == "cant_update_message"),
        "{someone_elses:?}"
    );
}
