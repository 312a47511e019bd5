//! Interaction responses and the interaction webhook, over the callback route and
//! over HTTP delivery to the bot's own endpoint.

use super::*;

#[tokio::test]
async fn an_interaction_is_answered_once_and_the_second_answer_is_refused_with_40060() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let payload = command_interaction(101, "tok-101", 42, CHANNEL_ID, &[], "status", Value::Null);
    fake.register_interaction(&payload);
    let Interaction::Command(command) = serde_json::from_value(payload).unwrap() else {
        panic!("a command interaction");
    };
    let reply = |text: &str| {
        CreateInteractionResponse::Message(
            CreateInteractionResponseMessage::new()
                .content(text)
                .ephemeral(true),
        )
    };

    command
        .create_response(&http, reply("No live run in this channel"))
        .await
        .expect("first answer accepted");

    let (id, token, body) = &fake.interaction_responses()[0];
    assert_eq!((*id, token.as_str()), (101, "tok-101"));
    assert_eq!(body["type"], 4);
    assert_eq!(body["data"]["flags"], 64);
    let original = fake.original("tok-101").expect("the reply");
    assert!(original.is_ephemeral());
    assert_eq!(original.content, "No live run in this channel");
    assert!(
        fake.channel_messages(CHANNEL_ID).is_empty(),
        "ephemeral replies are not in the channel"
    );
    let fetched = command.get_response(&http).await.expect("original");
    assert_eq!(fetched.content, "No live run in this channel");

    let error = refused(
        command
            .create_response(&http, reply("again"))
            .await
            .expect_err("a second answer"),
    );
    assert_eq!((error.status_code.as_u16(), error.error.code), (400, 40060));
    assert_eq!(
        error.error.message,
        "Interaction has already been acknowledged."
    );
    assert_eq!(fake.interaction_responses().len(), 1);
}

#[tokio::test]
async fn a_deferred_update_acknowledges_a_button_and_editing_the_original_edits_the_clicked_message(
) {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let posted = post_buttons(&fake, &http).await;
    let clicked = fake.message(posted.id.get()).unwrap().json();
    let payload = button_interaction(
        102,
        "tok-102",
        42,
        CHANNEL_ID,
        &[7],
        "approve:RUN-7",
        clicked,
    );
    fake.register_interaction(&payload);
    let Interaction::Component(button) = serde_json::from_value(payload).unwrap() else {
        panic!("a component interaction");
    };

    button
        .create_response(&http, CreateInteractionResponse::Acknowledge)
        .await
        .expect("type 6 accepted");
    let edited = button
        .edit_response(
            &http,
            EditInteractionResponse::new()
                .content("RUN-7 approved by <@42>")
                .components(vec![]),
        )
        .await
        .expect("edit of @original accepted");

    assert_eq!(fake.interaction_responses()[0].2["type"], 6);
    assert_eq!(edited.id, posted.id);
    let stored = fake.message(posted.id.get()).unwrap();
    assert_eq!(stored.content, "RUN-7 approved by <@42>");
    assert!(stored.components.is_empty());
    assert_eq!(stored.edits.len(), 1);
    assert_eq!(fake.original("tok-102").unwrap().id, posted.id.get());
    let route = fake.requests().last().unwrap().path.clone();
    assert_eq!(
        route,
        format!("/api/v10/webhooks/{APP_ID}/tok-102/messages/@original")
    );
}

#[tokio::test]
async fn a_deferred_reply_then_an_ephemeral_followup_are_recorded_and_only_the_reply_is_in_the_channel(
) {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let payload = command_interaction(103, "tok-103", 42, CHANNEL_ID, &[], "rollback", Value::Null);
    fake.register_interaction(&payload);
    let Interaction::Command(command) = serde_json::from_value(payload).unwrap() else {
        panic!("a command interaction");
    };

    // A follow-up before any answer: the interaction's webhook does not exist yet.
    let error = refused(
        command
            .create_followup(
                &http,
                CreateInteractionResponseFollowup::new().content("early"),
            )
            .await
            .expect_err("too early"),
    );
    assert_eq!((error.status_code.as_u16(), error.error.code), (404, 10015));

    command.defer(&http).await.expect("type 5 accepted");
    let thinking = fake.original("tok-103").unwrap();
    assert_eq!(thinking.flags & 128, 128, "deferred replies are loading");
    let followup = command
        .create_followup(
            &http,
            CreateInteractionResponseFollowup::new()
                .content("Only you can see this")
                .ephemeral(true),
        )
        .await
        .expect("follow-up accepted");
    let reply = command
        .edit_response(
            &http,
            EditInteractionResponse::new().content("RUN-8 started"),
        )
        .await
        .expect("deferred reply filled in");

    assert_eq!(followup.flags.map(|f| f.bits()), Some(64));
    assert_eq!(followup.webhook_id.map(|w| w.get()), Some(APP_ID));
    let followups = fake.followups("tok-103");
    assert_eq!(followups.len(), 1);
    assert!(followups[0].is_ephemeral());
    assert_eq!(reply.content, "RUN-8 started");
    assert_eq!(fake.original("tok-103").unwrap().flags & 128, 0);
    let channel: Vec<String> = fake
        .channel_messages(CHANNEL_ID)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(channel, ["RUN-8 started"]);
}

#[tokio::test]
async fn unknown_late_expired_and_mistyped_interaction_answers_get_discords_errors() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let answer = json!({"type": 4, "data": {"content": "hi"}});
    let status = |e: serenity::Error| {
        let e = refused(e);
        (e.status_code.as_u16(), e.error.code)
    };

    // Never delivered.
    let e = http
        .create_interaction_response(InteractionId::new(999), "nope", &answer, vec![])
        .await
        .unwrap_err();
    assert_eq!(status(e), (404, 10062));

    // A slash command cannot be answered with "update the message" (type 6 or 7).
    fake.register_interaction(&command_interaction(
        104,
        "tok-104",
        42,
        CHANNEL_ID,
        &[],
        "status",
        Value::Null,
    ));
    let e = http
        .create_interaction_response(
            InteractionId::new(104),
            "tok-104",
            &json!({"type": 7}),
            vec![],
        )
        .await
        .unwrap_err();
    let refusal = refused(e);
    assert_eq!(refusal.error.code, 50035);
    assert_eq!(paths(&refusal), ["type"]);
    // Nor with an empty message.
    let e = http
        .create_interaction_response(
            InteractionId::new(104),
            "tok-104",
            &json!({"type": 4, "data": {"content": ""}}),
            vec![],
        )
        .await
        .unwrap_err();
    assert_eq!(status(e), (400, 50006));

    // Answered, then 15 minutes pass: the token is dead.
    http.create_interaction_response(InteractionId::new(104), "tok-104", &answer, vec![])
        .await
        .expect("answered");
    fake.expire_token("tok-104");
    let e = http
        .get_original_interaction_response("tok-104")
        .await
        .unwrap_err();
    assert_eq!(status(e), (401, 50027));
    let e = http
        .get_original_interaction_response("never-issued")
        .await
        .unwrap_err();
    assert_eq!(status(e), (404, 10015));

    // Later than 3 s: Discord has already told the user the app did not respond.
    fake.set_ack_deadline(Some(Duration::from_millis(20)));
    fake.register_interaction(&command_interaction(
        105,
        "tok-105",
        42,
        CHANNEL_ID,
        &[],
        "status",
        Value::Null,
    ));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let e = http
        .create_interaction_response(InteractionId::new(105), "tok-105", &answer, vec![])
        .await
        .unwrap_err();
    assert_eq!(status(e), (404, 10062));
    assert!(fake.original("tok-105").is_none());
}

#[tokio::test]
async fn http_interactions_are_signed_with_the_application_key_and_the_answer_counts_as_the_response(
) {
    use axum::http::HeaderMap;
    use serenity::interactions_endpoint::Verifier;

    let fake = FakeDiscord::start().await;
    let verifier = Arc::new(Verifier::new(&fake.verify_key()));
    let endpoint = axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
        let verifier = verifier.clone();
        async move {
            let header = |name: &str| headers[name].to_str().unwrap().to_string();
            if verifier
                .verify(
                    &header("x-signature-ed25519"),
                    &header("x-signature-timestamp"),
                    &body,
                )
                .is_err()
            {
                return (axum::http::StatusCode::UNAUTHORIZED, axum::Json(json!({})));
            }
            let reply = match serde_json::from_slice(&body).expect("an interaction") {
                Interaction::Ping(_) => json!({"type": 1}),
                Interaction::Command(c) => {
                    json!({"type": 4, "data": {"content": format!("ran {}", c.data.name)}})
                }
                _ => json!({"type": 6}),
            };
            (axum::http::StatusCode::OK, axum::Json(reply))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/interactions", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            axum::Router::new().route("/interactions", endpoint),
        )
        .await
        .unwrap();
    });

    let (status, pong) = fake.post_interaction(&url, &ping_interaction()).await;
    assert_eq!((status, pong), (200, json!({"type": 1})));
    let payload = command_interaction(107, "tok-107", 42, CHANNEL_ID, &[], "status", Value::Null);
    let (status, _) = fake.post_interaction(&url, &payload).await;
    assert_eq!(status, 200);
    assert_eq!(fake.original("tok-107").unwrap().content, "ran status");
    assert!(fake.rejections().is_empty());

    // A signature over other bytes does not verify.
    let verifier = Verifier::new(&fake.verify_key());
    let signature = fake.sign("1700000000", b"{\"type\":1}");
    assert!(verifier
        .verify(&signature, "1700000000", b"{\"type\":1}")
        .is_ok());
    assert!(verifier
        .verify(&signature, "1700000000", b"{\"type\":2}")
        .is_err());
}
