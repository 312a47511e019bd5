//! Socket Mode end to end with slack-morphism's listener, and the payload builders
//! against slack-morphism's event types.

use std::time::Duration;

use crate::common::fake_slack::{block_actions, message_event, slash_command};
use tokio::sync::mpsc;

use super::*;

#[test]
fn the_payload_builders_deserialize_into_slack_morphisms_types() {
    let command: SlackCommandEvent = serde_json::from_value(slash_command(
        "U_ALICE",
        "C_INC",
        "/rollback",
        "chatia now",
        "13345224609.738474.abc",
    ))
    .unwrap();
    assert_eq!(command.command.0, "/rollback");
    assert_eq!(command.text.as_deref(), Some("chatia now"));
    assert_eq!(command.user_id.0, "U_ALICE");

    let pressed: SlackInteractionEvent = serde_json::from_value(block_actions(
        "U_BOB",
        "C_INC",
        "1763900000.000100",
        "approve",
        "/approve RUN-7",
    ))
    .unwrap();
    let SlackInteractionEvent::BlockActions(pressed) = pressed else {
        panic!("not block_actions: {pressed:?}");
    };
    let action = &pressed.actions.unwrap()[0];
    assert_eq!(action.action_id.0, "approve");
    assert_eq!(action.value.as_deref(), Some("/approve RUN-7"));
    assert_eq!(pressed.user.unwrap().id.0, "U_BOB");
    assert!(
        pressed.message.is_some(),
        "the message with its blocks parses"
    );

    let event: SlackPushEventCallback = serde_json::from_value(message_event(
        "U_ALICE",
        "C_INC",
        "/status",
        "1763900000.000200",
    ))
    .unwrap();
    let SlackEventCallbackBody::Message(message) = event.event else {
        panic!("not a message event: {:?}", event.event);
    };
    assert_eq!(message.content.unwrap().text.as_deref(), Some("/status"));
    assert_eq!(message.sender.user.unwrap().0, "U_ALICE");
    assert_eq!(message.origin.channel.unwrap().0, "C_INC");
}

#[tokio::test]
async fn a_button_press_is_built_from_the_message_the_bot_posted() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let client = client(&fake);
    let posted = client
        .open_session(&bot_token())
        .chat_post_message(&post_request(
            "C_INC",
            "approve?",
            vec![approve_button("Approve")],
        ))
        .await
        .unwrap();

    let payload = fake.button_press("U_BOB", "C_INC", &posted.ts.0, "approve");

    assert_eq!(payload["actions"][0]["value"], "/approve RUN-7");
    assert_eq!(payload["actions"][0]["style"], "primary");
    assert_eq!(payload["container"]["message_ts"], posted.ts.0.as_str());
    let SlackInteractionEvent::BlockActions(pressed) = serde_json::from_value(payload).unwrap()
    else {
        panic!("not block_actions");
    };
    assert_eq!(
        pressed.message.unwrap().content.text.as_deref(),
        Some("approve?")
    );
}

/// Where the listener's callbacks report to the test.
type Seen = mpsc::UnboundedSender<String>;

async fn seen(state: &SlackClientEventsUserState) -> Seen {
    state
        .read()
        .await
        .get_user_state::<Seen>()
        .expect("the test's channel")
        .clone()
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    seen(&state)
        .await
        .send(format!("command {}", event.command.0))?;
    Ok(
        SlackCommandEventResponse::new(SlackMessageContent::new().with_text("on it".into()))
            .with_response_type(SlackMessageResponseType::Ephemeral),
    )
}

async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    if let SlackInteractionEvent::BlockActions(pressed) = event {
        let action = &pressed.actions.unwrap_or_default()[0];
        seen(&state)
            .await
            .send(format!("button {}", action.action_id.0))?;
    }
    Ok(())
}

async fn on_push(
    event: SlackPushEventCallback,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    if let SlackEventCallbackBody::Message(message) = event.event {
        let text = message.content.and_then(|c| c.text).unwrap_or_default();
        seen(&state).await.send(format!("message {text}"))?;
    }
    Ok(())
}

/// slack-morphism's Socket Mode listener on one connection, started without
/// `serve()`, which would wait for SIGTERM.
async fn listen(
    fake: &FakeSlack,
    config: SlackClientSocketModeConfig,
) -> (
    SlackClientSocketModeListener<SlackClientHyperHttpsConnector>,
    mpsc::UnboundedReceiver<String>,
) {
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let environment =
        Arc::new(SlackClientEventsListenerEnvironment::new(client(fake)).with_user_state(tx));
    let callbacks = SlackSocketModeListenerCallbacks::new()
        .with_command_events(on_command)
        .with_interaction_events(on_interaction)
        .with_push_events(on_push);
    let listener = SlackClientSocketModeListener::new(&config, environment, callbacks);
    listener.listen_for(&app_token()).await.unwrap();
    listener.start().await;
    (listener, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a callback within 10 s")
        .expect("the listener is alive")
}

#[tokio::test]
async fn socket_mode_delivers_commands_buttons_and_messages_to_slack_morphism_and_gets_acks() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    let (listener, mut seen) = listen(
        &fake,
        SlackClientSocketModeConfig::new().with_max_connections_count(1),
    )
    .await;
    fake.wait_for_connections(1).await;

    let ack = fake
        .send_envelope(
            "slash_commands",
            slash_command("U_ALICE", "C_INC", "/rollback", "chatia", "1.2.abc"),
        )
        .await;
    assert_eq!(next(&mut seen).await, "command /rollback");
    assert_eq!(ack["payload"]["text"], "on it");
    assert_eq!(ack["payload"]["response_type"], "ephemeral");

    let ack = fake
        .send_envelope(
            "interactive",
            block_actions(
                "U_BOB",
                "C_INC",
                "1763900000.000100",
                "approve",
                "/approve RUN-7",
            ),
        )
        .await;
    assert_eq!(next(&mut seen).await, "button approve");
    assert!(
        ack.get("payload").is_none(),
        "a button press is acked bare: {ack}"
    );

    let event = message_event("U_ALICE", "C_INC", "/status", "1763900000.000200");
    let ack = fake.send_envelope("events_api", event.clone()).await;
    assert_eq!(next(&mut seen).await, "message /status");
    let envelope_id = ack["envelope_id"].as_str().unwrap().to_string();

    fake.disconnect().await;
    fake.wait_for_connections(2).await;
    assert_eq!(
        fake.connections(),
        2,
        "the listener reconnected after disconnect"
    );

    // Slack redelivers an event it thinks was lost; the new connection acks it again.
    let again = fake.send_retry("events_api", event, &envelope_id, 1).await;
    assert_eq!(again["envelope_id"], envelope_id.as_str());
    assert_eq!(next(&mut seen).await, "message /status");
    assert_eq!(fake.acks().len(), 4);

    listener.shutdown().await;
    fake.wait_for_live_connections(0).await;
    assert_eq!(fake.connections(), 2, "no reconnect after shutdown");
}

#[tokio::test]
async fn the_socket_listener_keeps_its_connection_because_pings_are_answered() {
    let fake = FakeSlack::start().await;
    fake.invite("C_INC");
    // A ping a second, and the client gives up after 2 s without a pong.
    let config = SlackClientSocketModeConfig::new()
        .with_max_connections_count(1)
        .with_ping_interval_in_seconds(1)
        .with_ping_failure_threshold_times(2);
    let (listener, _seen) = listen(&fake, config).await;
    fake.wait_for_connections(1).await;

    tokio::time::sleep(Duration::from_millis(3500)).await;

    assert!(fake.pings() >= 2, "pings: {}", fake.pings());
    assert_eq!(fake.connections(), 1, "the client never had to reconnect");
    listener.shutdown().await;
}
