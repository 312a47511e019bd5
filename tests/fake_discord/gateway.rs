//! serenity's gateway client against the fake: identify, READY, dispatches, heartbeats,
//! resume, re-identify, intents.

use super::*;

/// Forwards the events a test looks at to channels, one per kind, because serenity
/// runs each handler call in its own task (no order across kinds).
struct Forward {
    ready: UnboundedSender<Ready>,
    guilds: UnboundedSender<Guild>,
    interactions: UnboundedSender<(Interaction, Arc<Http>)>,
    messages: UnboundedSender<Message>,
    resumed: UnboundedSender<()>,
}

#[serenity::async_trait]
impl EventHandler for Forward {
    async fn ready(&self, _: Context, ready: Ready) {
        let _ = self.ready.send(ready);
    }

    async fn guild_create(&self, _: Context, guild: Guild, _: Option<bool>) {
        let _ = self.guilds.send(guild);
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let _ = self.interactions.send((interaction, ctx.http.clone()));
    }

    async fn message(&self, _: Context, message: Message) {
        let _ = self.messages.send(message);
    }

    async fn resume(&self, _: Context, _: ResumedEvent) {
        let _ = self.resumed.send(());
    }
}

/// A serenity client running against the fake.
struct Bot {
    shards: Arc<ShardManager>,
    task: tokio::task::JoinHandle<serenity::Result<()>>,
    ready: UnboundedReceiver<Ready>,
    guilds: UnboundedReceiver<Guild>,
    interactions: UnboundedReceiver<(Interaction, Arc<Http>)>,
    messages: UnboundedReceiver<Message>,
    resumed: UnboundedReceiver<()>,
}

impl Bot {
    async fn start(fake: &FakeDiscord, intents: GatewayIntents) -> Bot {
        let (ready, ready_rx) = unbounded_channel();
        let (guilds, guilds_rx) = unbounded_channel();
        let (interactions, interactions_rx) = unbounded_channel();
        let (messages, messages_rx) = unbounded_channel();
        let (resumed, resumed_rx) = unbounded_channel();
        let handler = Forward {
            ready,
            guilds,
            interactions,
            messages,
            resumed,
        };
        // `new_with_http` is how the client gets the proxied Http; `Client::builder`
        // would build one for discord.com.
        let mut client = serenity::client::ClientBuilder::new_with_http(fake.http(), intents)
            .event_handler(handler)
            .await
            .expect("client builds");
        let shards = client.shard_manager.clone();
        let task = tokio::spawn(async move { client.start().await });
        Bot {
            shards,
            task,
            ready: ready_rx,
            guilds: guilds_rx,
            interactions: interactions_rx,
            messages: messages_rx,
            resumed: resumed_rx,
        }
    }

    async fn shutdown(self) {
        self.shards.shutdown_all().await;
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("client stops")
            .expect("client task")
            .expect("client ends cleanly");
    }
}

async fn next<T>(rx: &mut UnboundedReceiver<T>, what: &str) -> T {
    tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .expect("event handler alive")
}

#[tokio::test]
async fn serenity_connects_gets_ready_receives_events_answers_and_resumes_after_a_disconnect() {
    let fake = FakeDiscord::start().await;
    fake.set_heartbeat_interval(250);
    let intents =
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::MESSAGE_CONTENT;
    let mut bot = Bot::start(&fake, intents).await;

    let ready = next(&mut bot.ready, "READY").await;
    assert_eq!(ready.user.id.get(), BOT_USER_ID);
    assert_eq!(ready.application.id.get(), APP_ID);
    assert_eq!(ready.guilds[0].id.get(), GUILD_ID);
    let guild = next(&mut bot.guilds, "GUILD_CREATE").await;
    assert_eq!(guild.id.get(), GUILD_ID);
    fake.wait_ready().await;
    let identify = fake.identify().expect("identified");
    assert_eq!(identify["token"], "Bot fake-discord-bot-token");
    assert_eq!(identify["intents"], intents.bits());
    assert_eq!(identify["shard"], json!([0, 1]));
    assert_eq!(identify["compress"], true);

    let interaction = command_interaction(
        201,
        "tok-201",
        42,
        CHANNEL_ID,
        &[7],
        "rollback",
        json!([{"name": "env", "type": 3, "value": "prod"}]),
    );
    assert!(fake.dispatch("INTERACTION_CREATE", interaction).await);
    let (interaction, http) = next(&mut bot.interactions, "INTERACTION_CREATE").await;
    let Interaction::Command(command) = interaction else {
        panic!("a command interaction");
    };
    assert_eq!(command.data.options[0].value.as_str(), Some("prod"));
    command
        .create_response(
            &http,
            CreateInteractionResponse::Message(
                CreateInteractionResponseMessage::new().content("Rolling back prod"),
            ),
        )
        .await
        .expect("answered through the client's Http");
    assert_eq!(
        fake.original("tok-201").unwrap().content,
        "Rolling back prod"
    );

    assert!(
        fake.dispatch(
            "MESSAGE_CREATE",
            message_create(202, CHANNEL_ID, 42, "/status")
        )
        .await
    );
    assert_eq!(
        next(&mut bot.messages, "MESSAGE_CREATE").await.content,
        "/status"
    );
    fake.wait_for("two heartbeats", |f| f.heartbeats() >= 2)
        .await;

    fake.disconnect();
    // Happens while the bot is away: Discord replays it on resume.
    let away = message_create(203, CHANNEL_ID, 42, "said while you were away");
    assert!(fake.dispatch_now("MESSAGE_CREATE", away));
    next(&mut bot.resumed, "RESUMED").await;
    assert_eq!(
        next(&mut bot.messages, "the replayed message")
            .await
            .content,
        "said while you were away"
    );
    assert_eq!(fake.connections(), 2);
    assert_eq!(fake.identifies(), 1, "resumed, not identified again");
    let resume = &fake.resumes()[0];
    assert_eq!(resume["session_id"], ready.session_id.as_str());
    assert_eq!(
        resume["seq"], 4,
        "READY, GUILD_CREATE and two dispatches seen"
    );
    assert!(
        fake.dispatch(
            "MESSAGE_CREATE",
            message_create(204, CHANNEL_ID, 42, "still there?")
        )
        .await
    );
    assert_eq!(
        next(&mut bot.messages, "a message after resuming")
            .await
            .content,
        "still there?"
    );

    bot.shutdown().await;
    assert!(fake.rejections().is_empty(), "{:?}", fake.rejections());
    let routes: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
        .collect();
    eprintln!("serenity's requests:\n{}", routes.join("\n"));
}

#[tokio::test]
async fn a_lost_session_makes_serenity_identify_again() {
    let fake = FakeDiscord::start().await;
    let mut bot = Bot::start(&fake, GatewayIntents::GUILDS).await;
    next(&mut bot.ready, "READY").await;

    fake.expire_session();
    fake.disconnect();

    next(&mut bot.ready, "a second READY").await;
    assert_eq!(fake.identifies(), 2);
    assert_eq!(fake.resumes().len(), 1, "it tried to resume first");
    assert!(
        fake.dispatch("INTERACTION_CREATE", ping_interaction())
            .await
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn without_message_content_guild_messages_arrive_blank_unless_they_mention_the_bot() {
    let fake = FakeDiscord::start().await;
    let mut bot = Bot::start(
        &fake,
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES,
    )
    .await;
    next(&mut bot.ready, "READY").await;

    assert!(
        fake.dispatch(
            "MESSAGE_CREATE",
            message_create(301, CHANNEL_ID, 42, "/status")
        )
        .await
    );
    assert_eq!(
        next(&mut bot.messages, "a blanked message").await.content,
        ""
    );
    let mention = format!("<@{BOT_USER_ID}> /status");
    assert!(
        fake.dispatch(
            "MESSAGE_CREATE",
            message_create(302, CHANNEL_ID, 42, &mention)
        )
        .await
    );
    assert_eq!(next(&mut bot.messages, "a mention").await.content, mention);
    bot.shutdown().await;

    // Without GUILD_MESSAGES Discord sends no guild messages at all.
    let mut bot = Bot::start(&fake, GatewayIntents::GUILDS).await;
    next(&mut bot.ready, "READY").await;
    assert!(
        !fake
            .dispatch("MESSAGE_CREATE", message_create(303, CHANNEL_ID, 42, "hi"))
            .await
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn a_privileged_intent_the_app_lacks_closes_the_gateway_with_4014() {
    let fake = FakeDiscord::start().await;
    fake.set_privileged_intents(0);
    let bot = Bot::start(
        &fake,
        GatewayIntents::GUILDS | GatewayIntents::MESSAGE_CONTENT,
    )
    .await;

    let ended = tokio::time::timeout(Duration::from_secs(15), bot.task)
        .await
        .expect("the client gives up")
        .expect("client task");

    assert!(
        matches!(
            ended,
            Err(serenity::Error::Gateway(
                serenity::gateway::GatewayError::DisallowedGatewayIntents
            ))
        ),
        "{ended:?}"
    );
    assert_eq!(fake.identifies(), 0);
}
