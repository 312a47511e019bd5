//! Requests slack-morphism never sends, read as Slack reads them: tokens in each
//! place, forms, bad JSON, unknown methods; and `apps.connections.open`.

use serde_json::json;
use slack_morphism::errors::SlackClientError;

use super::*;

#[tokio::test]
async fn tokens_are_read_where_slack_reads_them() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let form = [("channel", "C_INC"), ("text", "hi")];

    let none = answer(raw(&fake, "chat.postMessage").form(&form)).await;
    let wrong = answer(
        raw(&fake, "chat.postMessage")
            .bearer_auth("xoxb-nope")
            .form(&form),
    )
    .await;
    let in_json = answer(
        raw(&fake, "chat.postMessage")
            .json(&json!({"token": BOT_TOKEN, "channel": "C_INC", "text": "hi"})),
    )
    .await;
    let in_query = answer(
        reqwest::Client::new().get(format!("{}/auth.test?token={BOT_TOKEN}", fake.api_url())),
    )
    .await;
    let app_token_elsewhere = answer(
        raw(&fake, "chat.postMessage")
            .bearer_auth(APP_TOKEN)
            .form(&form),
    )
    .await;
    let in_form = answer(raw(&fake, "chat.postMessage").form(&[
        ("token", BOT_TOKEN),
        ("channel", "C_INC"),
        ("text", "hi"),
    ]))
    .await;

    assert_eq!(none["error"], "not_authed");
    assert_eq!(wrong["error"], "invalid_auth");
    assert_eq!(
        in_json["error"], "not_authed",
        "JSON bodies authenticate by header only"
    );
    assert_eq!(
        in_query["error"], "not_authed",
        "query-string tokens are refused to new apps"
    );
    assert_eq!(app_token_elsewhere["error"], "not_allowed_token_type");
    assert_eq!(in_form["ok"], true, "{in_form}");
    assert_eq!(fake.messages("C_INC").len(), 1);
    let last = fake.calls().pop().unwrap();
    assert_eq!(last.token.as_deref(), Some(BOT_TOKEN));
    assert!(
        last.params.get("token").is_none(),
        "a form token is the call's token, not an argument"
    );
}

#[tokio::test]
async fn a_form_post_has_its_blocks_decoded_in_the_record() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]);

    let body = answer(
        raw(&fake, "chat.postMessage")
            .bearer_auth(BOT_TOKEN)
            .form(&[("channel", "C_INC"), ("blocks", &blocks.to_string())]),
    )
    .await;

    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(fake.calls()[0].params["blocks"], blocks);
    assert_eq!(fake.messages("C_INC")[0].blocks, blocks);
    assert_eq!(body["message"]["blocks"], blocks);
}

#[tokio::test]
async fn json_without_a_charset_is_served_with_slacks_warning() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");

    let body = answer(
        raw(&fake, "auth.test")
            .bearer_auth(BOT_TOKEN)
            .header("content-type", "application/json")
            .body("{}"),
    )
    .await;
    let broken = answer(
        raw(&fake, "auth.test")
            .bearer_auth(BOT_TOKEN)
            .header("content-type", "application/json; charset=utf-8")
            .body("{not json"),
    )
    .await;

    assert_eq!(body["ok"], true);
    assert_eq!(body["warning"], "missing_charset");
    assert_eq!(broken["error"], "invalid_json");
}

#[tokio::test]
async fn unknown_methods_are_refused_as_unknown_method() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");

    let body = answer(
        raw(&fake, "chat.postMesage")
            .bearer_auth(BOT_TOKEN)
            .form(&[("channel", "C")]),
    )
    .await;

    assert_eq!(body["error"], "unknown_method");
    assert_eq!(fake.rejections()[0].method, "chat.postMesage");
}

#[tokio::test]
async fn apps_connections_open_refuses_the_bot_token_and_gives_the_app_token_a_websocket_url() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);

    let refused = client
        .open_session(&bot_token())
        .apps_connections_open(&SlackApiAppsConnectionOpenRequest::new())
        .await
        .unwrap_err();
    let opened = client
        .open_session(&app_token())
        .apps_connections_open(&SlackApiAppsConnectionOpenRequest::new())
        .await
        .unwrap();

    assert!(
        matches!(refused, SlackClientError::ApiError(ref e) if e.code == "not_allowed_token_type"),
        "{refused:?}"
    );
    let url = opened.url.0.to_string();
    assert!(
        url.starts_with(&format!("{}?ticket=", fake.socket_url())),
        "{url}"
    );
}
