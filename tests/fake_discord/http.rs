//! serenity's HTTP client against the fake: messages, edits, history, failures,
//! authentication, and the payload builders against serenity's models.

use super::*;

#[tokio::test]
async fn a_message_with_embeds_buttons_and_allowed_mentions_comes_back_as_a_serenity_message() {
    let fake = FakeDiscord::start().await;
    fake.allow_embed_links(CHANNEL_ID);
    let http = fake.http();
    let builder = CreateMessage::new()
        .content("RUN-7 needs approval from <@42>; cc <@43> and @everyone")
        .embed(
            CreateEmbed::new()
                .title("Rollback webapp")
                .description("dry run: 3 steps")
                .field("step 1", "drain traffic", false),
        )
        .components(vec![CreateActionRow::Buttons(vec![
            CreateButton::new("approve:RUN-7").label("Approve"),
            CreateButton::new("deny:RUN-7")
                .label("Deny")
                .style(ButtonStyle::Danger),
            CreateButton::new_link("https://runbooks.example/webapp").label("Runbook"),
        ])])
        .allowed_mentions(CreateAllowedMentions::new().users([UserId::new(42)]));

    let message = ChannelId::new(CHANNEL_ID)
        .send_message(&http, builder)
        .await
        .expect("Discord accepts it");

    assert_eq!(message.author.id.get(), BOT_USER_ID);
    assert!(message.author.bot);
    assert_eq!(message.channel_id.get(), CHANNEL_ID);
    assert_eq!(message.embeds[0].title.as_deref(), Some("Rollback webapp"));
    assert_eq!(message.embeds[0].kind.as_deref(), Some("rich"));
    assert_eq!(message.components[0].components.len(), 3);
    // Only the allowed user is pinged: not 43, not @everyone.
    let pinged: Vec<u64> = message.mentions.iter().map(|u| u.id.get()).collect();
    assert_eq!(pinged, [42]);
    assert!(!message.mention_everyone);

    let stored = &fake.channel_messages(CHANNEL_ID)[0];
    assert_eq!(stored.id, message.id.get());
    assert_eq!(stored.custom_ids(), ["approve:RUN-7", "deny:RUN-7"]);
    assert_eq!(stored.mentioned_users(), [42]);
    assert_eq!(
        stored.allowed_mentions.as_ref().expect("recorded")["users"],
        json!(["42"])
    );
    let request = &fake.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        format!("/api/v10/channels/{CHANNEL_ID}/messages")
    );
    assert_eq!(request.auth.as_deref(), Some("Bot fake-discord-bot-token"));
    assert!(fake.rejections().is_empty());
}

#[tokio::test]
async fn editing_a_message_updates_it_and_records_the_edit() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let posted = post_buttons(&fake, &http).await;

    let edited = ChannelId::new(CHANNEL_ID)
        .edit_message(
            &http,
            posted.id,
            EditMessage::new()
                .content("RUN-7 approved by <@42>")
                .components(vec![]),
        )
        .await
        .expect("edit accepted");

    assert_eq!(edited.id, posted.id);
    assert_eq!(edited.content, "RUN-7 approved by <@42>");
    assert!(edited.components.is_empty());
    assert!(edited.edited_timestamp.is_some());
    let stored = fake.message(posted.id.get()).expect("stored");
    assert_eq!(stored.content, "RUN-7 approved by <@42>");
    assert_eq!(stored.edits.len(), 1);
    assert_eq!(stored.edits[0]["content"], "RUN-7 approved by <@42>");

    // Discord's refusals: another user's message, an unknown one, an edit to nothing.
    let theirs = fake.add_history(CHANNEL_ID, 42, "hello");
    let error = ChannelId::new(CHANNEL_ID)
        .edit_message(
            &http,
            MessageId::new(theirs),
            EditMessage::new().content("x"),
        )
        .await
        .expect_err("not ours");
    let error = refused(error);
    assert_eq!((error.status_code.as_u16(), error.error.code), (403, 50005));
    let error = refused(
        ChannelId::new(CHANNEL_ID)
            .edit_message(&http, MessageId::new(1), EditMessage::new().content("x"))
            .await
            .expect_err("unknown"),
    );
    assert_eq!((error.status_code.as_u16(), error.error.code), (404, 10008));
    let error = refused(
        http.edit_message(
            ChannelId::new(CHANNEL_ID),
            posted.id,
            &json!({"content": ""}),
            vec![],
        )
        .await
        .expect_err("empty"),
    );
    assert_eq!((error.status_code.as_u16(), error.error.code), (400, 50006));
    assert_eq!(fake.message(posted.id.get()).unwrap().edits.len(), 1);
}

#[tokio::test]
async fn history_comes_newest_first_and_pages_with_before_and_after() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let first = fake.add_history(CHANNEL_ID, 42, "first");
    let second = fake.add_history(CHANNEL_ID, 43, "second");
    let third = ChannelId::new(CHANNEL_ID)
        .say(&http, "third")
        .await
        .expect("posted")
        .id
        .get();
    let ids = |messages: Vec<Message>| messages.iter().map(|m| m.id.get()).collect::<Vec<_>>();
    let channel = ChannelId::new(CHANNEL_ID);

    let newest = http.get_messages(channel, None, Some(2)).await.unwrap();
    assert_eq!(ids(newest), [third, second]);
    let before = http
        .get_messages(
            channel,
            Some(MessagePagination::Before(MessageId::new(third))),
            None,
        )
        .await
        .unwrap();
    assert_eq!(ids(before), [second, first]);
    let after = http
        .get_messages(
            channel,
            Some(MessagePagination::After(MessageId::new(first))),
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(ids(after), [second]);
    let error = refused(
        http.get_messages(channel, None, Some(101))
            .await
            .unwrap_err(),
    );
    assert_eq!(paths(&error), ["limit"]);
}

#[tokio::test]
async fn an_injected_429_and_500_are_told_apart_by_status_and_store_nothing() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let channel = ChannelId::new(CHANNEL_ID);

    fake.fail_next(
        "POST /api/v10/channels/",
        Failure::RateLimited { retry_after: 1.5 },
    );
    let limited = refused(channel.say(&http, "hi").await.unwrap_err());
    assert_eq!(limited.status_code.as_u16(), 429);
    // Discord's 429 body has no `code`, so serenity cannot decode it into its error
    // type: the code is -1 and retry_after is lost (serenity keeps no headers either).
    assert_eq!(limited.error.code, -1);
    assert!(
        limited.error.message.contains("Could not decode"),
        "{limited:?}"
    );

    fake.fail_next("/channels/", Failure::ServerError);
    let server = refused(channel.say(&http, "hi").await.unwrap_err());
    assert_eq!((server.status_code.as_u16(), server.error.code), (500, 0));
    fake.fail_next("/channels/", Failure::BadGateway);
    let gateway = refused(channel.say(&http, "hi").await.unwrap_err());
    assert_eq!(
        (gateway.status_code.as_u16(), gateway.error.code),
        (502, -1)
    );

    assert!(
        fake.channel_messages(CHANNEL_ID).is_empty(),
        "failures store nothing"
    );
    assert!(
        fake.rejections().is_empty(),
        "injected failures are not rejections"
    );
    assert!(fake.requests().iter().all(|r| r.injected));

    // What Discord actually sends with a 429, for a client that reads the response.
    fake.fail_next("/channels/", Failure::RateLimited { retry_after: 1.5 });
    let raw = reqwest::Client::new()
        .post(format!(
            "{}/api/v10/channels/{CHANNEL_ID}/messages",
            fake.url()
        ))
        .header("authorization", format!("Bot {TOKEN}"))
        .json(&json!({"content": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 429);
    let header = |name: &str| raw.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("retry-after"), "2");
    assert_eq!(header("x-ratelimit-reset-after"), "1.500");
    assert_eq!(header("x-ratelimit-remaining"), "0");
    assert_eq!(header("x-ratelimit-scope"), "user");
    let body: Value = raw.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false})
    );

    // The next request goes through.
    channel.say(&http, "hi").await.expect("not injected");
}

#[tokio::test]
async fn requests_without_the_bot_token_are_refused_but_interaction_webhooks_need_none() {
    let fake = FakeDiscord::start().await;
    let raw = reqwest::get(format!("{}/api/v10/users/@me", fake.url()))
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 401);
    assert_eq!(
        raw.json::<Value>().await.unwrap(),
        json!({"message": "401: Unauthorized", "code": 0})
    );
    let stranger = HttpBuilder::new("someone-elses-token")
        .proxy(fake.url())
        .ratelimiter_disabled(true)
        .application_id(APP_ID.into())
        .build();
    let error = refused(stranger.get_current_user().await.unwrap_err());
    assert_eq!((error.status_code.as_u16(), error.error.code), (401, 0));

    // Interaction callbacks are authenticated by the token in the path.
    fake.register_interaction(&command_interaction(
        106,
        "tok-106",
        42,
        CHANNEL_ID,
        &[],
        "status",
        Value::Null,
    ));
    stranger
        .create_interaction_response(
            InteractionId::new(106),
            "tok-106",
            &json!({"type": 4, "data": {"content": "ok"}}),
            vec![],
        )
        .await
        .expect("no bot token needed");

    let http = fake.http();
    let me = http.get_current_user().await.expect("bot user");
    assert_eq!(me.id.get(), BOT_USER_ID);
    assert!(me.bot);
    let app = http.get_current_application_info().await.expect("app");
    assert_eq!(app.id.get(), APP_ID);
    assert_eq!(app.verify_key, fake.verify_key());
    assert_eq!(http.get_gateway().await.unwrap().url, fake.gateway_url());
    assert_eq!(http.get_bot_gateway().await.unwrap().shards, 1);
}

#[test]
fn the_builders_deserialize_into_serenitys_models() {
    let command = command_interaction(
        11,
        "tok-cmd",
        42,
        CHANNEL_ID,
        &[7],
        "rollback",
        json!([{"name": "env", "type": 3, "value": "prod"}]),
    );
    let Interaction::Command(command) = serde_json::from_value(command).expect("command") else {
        panic!("not a command interaction");
    };
    assert_eq!(command.data.name, "rollback");
    assert_eq!(command.data.id.get(), command_id("rollback"));
    assert_eq!(command.user.id.get(), 42);
    assert_eq!(command.member.as_ref().unwrap().roles[0].get(), 7);
    assert_eq!(command.guild_id.unwrap().get(), GUILD_ID);
    assert_eq!(command.data.options[0].name, "env");
    assert_eq!(command.data.options[0].value.as_str(), Some("prod"));

    let posted = message_create(12, CHANNEL_ID, 42, "hello <@43>");
    let message: Message = serde_json::from_value(posted.clone()).expect("message");
    assert_eq!(message.content, "hello <@43>");
    assert_eq!(message.mentions[0].id.get(), 43);
    assert_eq!(message.guild_id.unwrap().get(), GUILD_ID);

    let button = button_interaction(13, "tok-btn", 42, CHANNEL_ID, &[], "approve:RUN-1", posted);
    let Interaction::Component(button) = serde_json::from_value(button).expect("component") else {
        panic!("not a component interaction");
    };
    assert_eq!(button.data.custom_id, "approve:RUN-1");
    assert_eq!(button.message.id.get(), 12);
    assert_eq!(button.user.id.get(), 42);

    assert!(matches!(
        serde_json::from_value(ping_interaction()).expect("ping"),
        Interaction::Ping(_)
    ));

    let guild: serenity::all::GuildCreateEvent =
        serde_json::from_value(guild_create(&[CHANNEL_ID])).expect("guild");
    assert_eq!(guild.guild.id.get(), GUILD_ID);
    assert!(guild
        .guild
        .channels
        .contains_key(&ChannelId::new(CHANNEL_ID)));
    let user: serenity::all::User = serde_json::from_value(user_json(BOT_USER_ID)).unwrap();
    assert!(user.bot);
}
