//! `conversations.history` and `users.info` through slack-morphism.

use crate::common::fake_slack::user;
use serde_json::json;
use slack_morphism::errors::SlackClientError;

use super::*;

#[tokio::test]
async fn conversations_history_pages_through_three_pages_of_two_with_a_cursor() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);
    let history: Vec<Value> = (1..=6)
        .map(|i| json!({"type": "message", "user": "U_ALICE", "text": format!("m{i}"), "ts": format!("1763000000.00000{i}")}))
        .collect();
    fake.set_history("C_INC", history);
    let token = bot_token();
    let session = client.open_session(&token);

    let mut pages = Vec::new();
    let mut cursor: Option<SlackCursorId> = None;
    loop {
        let page = session
            .conversations_history(
                &SlackApiConversationsHistoryRequest::new()
                    .with_channel("C_INC".into())
                    .with_limit(2)
                    .opt_cursor(cursor.clone()),
            )
            .await
            .unwrap();
        pages.push((
            page.messages
                .iter()
                .map(|m| m.content.text.clone().unwrap())
                .collect::<Vec<_>>(),
            page.has_more,
        ));
        cursor = page.response_metadata.and_then(|m| m.next_cursor);
        if cursor.is_none() {
            break;
        }
        assert!(pages.len() < 5, "pagination does not end: {pages:?}");
    }

    assert_eq!(
        pages,
        vec![
            (vec!["m6".to_string(), "m5".into()], Some(true)),
            (vec!["m4".to_string(), "m3".into()], Some(true)),
            (vec!["m2".to_string(), "m1".into()], Some(false)),
        ]
    );
    let cursors: Vec<String> = fake
        .calls_to("conversations.history")
        .iter()
        .filter_map(|c| c.params["cursor"].as_str().map(str::to_string))
        .collect();
    assert!(
        cursors.iter().all(|c| c.ends_with('=')),
        "Slack-like base64 cursors: {cursors:?}"
    );
}

#[tokio::test]
async fn conversations_history_honours_oldest_and_latest_and_shows_what_the_bot_posted() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);
    let token = bot_token();
    let session = client.open_session(&token);
    fake.set_history(
        "C_INC",
        (1..=3)
            .map(|i| json!({"type": "message", "user": "U_ALICE", "text": format!("m{i}"), "ts": format!("1763000000.00000{i}")}))
            .collect(),
    );
    let posted = session
        .chat_post_message(&post_request("C_INC", "bot says", vec![]))
        .await
        .unwrap();
    session
        .chat_post_message(
            &post_request("C_INC", "in a thread", vec![]).with_thread_ts(posted.ts.clone()),
        )
        .await
        .unwrap();
    let texts = |r: SlackApiConversationsHistoryResponse| {
        r.messages
            .into_iter()
            .map(|m| m.content.text.unwrap())
            .collect::<Vec<_>>()
    };

    let all = session
        .conversations_history(
            &SlackApiConversationsHistoryRequest::new().with_channel("C_INC".into()),
        )
        .await
        .unwrap();
    let middle = session
        .conversations_history(
            &SlackApiConversationsHistoryRequest::new()
                .with_channel("C_INC".into())
                .with_oldest("1763000000.000001".into())
                .with_latest("1763000000.000003".into()),
        )
        .await
        .unwrap();

    assert_eq!(
        texts(all),
        vec!["bot says", "m3", "m2", "m1"],
        "thread replies stay out of history"
    );
    assert!(
        posted.ts.0.as_str() > "1763000000.000003",
        "the bot posts after the seeded history"
    );
    assert_eq!(texts(middle), vec!["m2"]);
}

#[tokio::test]
async fn users_info_finds_added_users_and_refuses_unknown_ones() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);
    fake.add_user(user("U_ALICE", "alice", "Alice Martin"));
    let token = bot_token();
    let session = client.open_session(&token);

    let alice = session
        .users_info(&SlackApiUsersInfoRequest::new("U_ALICE".into()))
        .await
        .unwrap();
    let nobody = session
        .users_info(&SlackApiUsersInfoRequest::new("U_NOBODY".into()))
        .await
        .unwrap_err();

    assert_eq!(alice.user.name.as_deref(), Some("alice"));
    assert_eq!(alice.user.real_name.as_deref(), Some("Alice Martin"));
    assert!(
        matches!(nobody, SlackClientError::ApiError(ref e) if e.code == "user_not_found"),
        "{nobody:?}"
    );
}
