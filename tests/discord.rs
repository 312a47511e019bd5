//! `warroom serve` on Discord, against the local fake Discord (HTTP API and
//! gateway): signed HTTP interactions, the gateway, slash commands generated from the
//! catalog, approval buttons restricted to role members, progress edited in place,
//! templates, private replies, and nothing that pings.

mod common;

use common::fake_discord::{
    button_interaction, command_interaction, message_create, ping_interaction, FakeDiscord,
    FakeMessage, CHANNEL_ID, GUILD_ID,
};
use common::serve::{discord_ids::*, eventually, team_env, until, with_discord, Served};
use common::StateDb;
use serde_json::{json, Value};

struct Discord {
    fake: FakeDiscord,
    served: Served,
    next: std::sync::atomic::AtomicU64,
    _commands: tempfile::TempDir,
    _env: common::Env,
}

async fn start(http_mode: bool) -> Discord {
    let fake = FakeDiscord::start().await;
    let (mut env, commands) = team_env(StateDb::Sqlite).await;
    with_discord(&mut env.settings, &fake, http_mode);
    let served = Served::start(env.settings.clone()).await;
    Discord {
        fake,
        served,
        next: std::sync::atomic::AtomicU64::new(5000),
        _commands: commands,
        _env: env,
    }
}

fn text(name: &str, value: &str) -> Value {
    json!({ "name": name, "type": 3, "value": value })
}

impl Discord {
    fn id(&self) -> u64 {
        self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Delivers a slash command over the signed HTTP endpoint; returns the answer.
    async fn command(&self, user: u64, roles: &[u64], name: &str, options: Value) -> Value {
        let id = self.id();
        let payload = command_interaction(
            id,
            &format!("tok-{id}"),
            user,
            CHANNEL_ID,
            roles,
            name,
            options,
        );
        let (status, answer) = self
            .fake
            .post_interaction(&self.served.url("/discord/interactions"), &payload)
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    async fn press(
        &self,
        user: u64,
        roles: &[u64],
        message: &FakeMessage,
        custom_id: &str,
    ) -> Value {
        let id = self.id();
        let payload = button_interaction(
            id,
            &format!("tok-{id}"),
            user,
            CHANNEL_ID,
            roles,
            custom_id,
            message.json(),
        );
        let (status, answer) = self
            .fake
            .post_interaction(&self.served.url("/discord/interactions"), &payload)
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    fn channel(&self) -> Vec<FakeMessage> {
        self.fake.channel_messages(CHANNEL_ID)
    }

    fn find(&self, needle: &str) -> Option<FakeMessage> {
        self.channel()
            .into_iter()
            .find(|m| text_of(m).contains(needle))
    }

    /// Every follow-up sent to the interaction with `token`.
    fn followup_texts(&self, token: &str) -> String {
        self.fake
            .followups(token)
            .iter()
            .map(text_of)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A message's visible text: content plus embed descriptions.
fn text_of(m: &FakeMessage) -> String {
    let mut out = m.content.clone();
    for e in &m.embeds {
        out.push('\n');
        out.push_str(e["description"].as_str().unwrap_or_default());
    }
    out
}

fn ephemeral_text(answer: &Value) -> String {
    assert_eq!(answer["type"], 4, "{answer}");
    assert_eq!(answer["data"]["flags"], 64, "private: {answer}");
    answer["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn the_interactions_endpoint_answers_ping_and_refuses_bad_or_missing_signatures() {
    let d = start(true).await;
    let url = d.served.url("/discord/interactions");
    let (status, answer) = d.fake.post_interaction(&url, &ping_interaction()).await;
    assert_eq!((status, answer["type"].clone()), (200, json!(1)));

    let body = serde_json::to_vec(&ping_interaction()).unwrap();
    let now = chrono::Utc::now().timestamp().to_string();
    let client = reqwest::Client::new();
    let send = |sig: String, ts: String| {
        client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-signature-ed25519", sig)
            .header("x-signature-timestamp", ts)
            .body(body.clone())
            .send()
    };
    // Signed over other bytes.
    let forged = d.fake.sign(&now, b"{\"type\":1,\"other\":true}");
    assert_eq!(send(forged, now.clone()).await.unwrap().status(), 401);
    // Not hex at all.
    assert_eq!(send("zz".into(), now.clone()).await.unwrap().status(), 401);
    // Correctly signed, but an hour old: a replay.
    let old = (chrono::Utc::now().timestamp() - 3600).to_string();
    let replay = d.fake.sign(&old, &body);
    assert_eq!(send(replay, old).await.unwrap().status(), 401);
    // A timestamp at the edge of i64, correctly signed: refused, not a panic.
    let edge = i64::MIN.to_string();
    let signed = d.fake.sign(&edge, &body);
    assert_eq!(send(signed, edge).await.unwrap().status(), 401);
    // No signature headers.
    let bare = client.post(&url).body(body.clone()).send().await.unwrap();
    assert_eq!(bare.status(), 401);
    d.served.stop().await;
}

#[tokio::test]
async fn a_p1_rollback_runs_on_discord_with_approval_buttons_progress_and_its_template() {
    let d = start(true).await;
    // A typo is answered in the acknowledgement itself, privately.
    let answer = d
        .command(
            ONCALL,
            &[],
            "kanban-selective-off",
            json!([text("reason", "x")]),
        )
        .await;
    assert!(ephemeral_text(&answer).contains("reason"), "{answer}");

    let answer = d
        .command(
            ONCALL,
            &[],
            "kanban-selective-off",
            json!([
                text("reason", "slow drag and drop"),
                {"name": "top", "type": 4, "value": 3},
                text("settle", "1s"),
            ]),
        )
        .await;
    assert!(ephemeral_text(&answer).contains("accepted"), "{answer}");

    until("the approval request", || {
        d.find("needs approval").is_some()
    })
    .await;
    let request = d.find("needs approval").unwrap();
    assert_eq!(request.custom_ids(), ["/approve RUN-1", "/deny RUN-1"]);
    // Paging the DevSecOps lead pings exactly them.
    assert_eq!(request.mentioned_users(), [LEAD]);
    assert!(!request.mentions_everyone());

    // Someone without a deciding role, and the requester themself: each press is
    // acknowledged silently, then refused privately. Nothing changes.
    for (user, why) in [(STRANGER, "only"), (ONCALL, "you requested it")] {
        let token = format!("tok-{}", d.next.load(std::sync::atomic::Ordering::Relaxed));
        let answer = d.press(user, &[], &request, "/approve RUN-1").await;
        assert_eq!(answer["type"], 6, "{answer}");
        until("the refusal", || d.followup_texts(&token).contains(why)).await;
        assert!(d.fake.followups(&token).iter().all(|m| m.is_ephemeral()));
    }
    assert_eq!(d.fake.message(request.id).unwrap().edits.len(), 0);

    // The DevSecOps lead approves: the request turns into progress, then the template.
    let answer = d.press(LEAD, &[], &request, "/approve RUN-1").await;
    assert_eq!(answer["type"], 6, "a silent acknowledgement: {answer}");
    until("the run to succeed", || {
        d.fake
            .message(request.id)
            .is_some_and(|m| text_of(&m).contains("succeeded"))
    })
    .await;
    let progress = d.fake.message(request.id).unwrap();
    assert!(!progress.edits.is_empty(), "edited in place");
    assert!(
        text_of(&progress).contains("Disable Kanban V2 for those companies"),
        "{}",
        text_of(&progress)
    );
    until("the performance template", || {
        d.find("Performance degradation in Kanban V2").is_some()
    })
    .await;
    until("the stakeholder update", || {
        !d.fake.channel_messages(STATUS_CHANNEL).is_empty()
    })
    .await;
    // Nothing posted could ping everyone; nothing was malformed.
    for m in d
        .channel()
        .iter()
        .chain(&d.fake.channel_messages(STATUS_CHANNEL))
    {
        assert!(!m.mentions_everyone(), "{}", text_of(m));
    }
    assert!(d.fake.rejections().is_empty(), "{:#?}", d.fake.rejections());
    let app = d.served.app("discord");
    let run = app.store.run(1).await.unwrap().unwrap();
    assert_eq!(run.state.as_str(), "succeeded");
    let votes = app.store.votes(1).await.unwrap();
    assert_eq!(votes.len(), 1);
    assert_eq!(votes[0].0.user.id, LEAD.to_string());
    // The post-mortem names who took part, as Discord shows them.
    let report = warroom::export::export(
        &app.store,
        &run.incident_id,
        warroom::export::Format::Markdown,
        |_| None,
    )
    .await
    .unwrap();
    assert!(
        report.contains(&format!("- {LEAD}: user{LEAD}")),
        "{report}"
    );
    d.served.stop().await;
}

#[tokio::test]
async fn a_guild_role_grants_its_matrix_role_and_its_absence_refuses() {
    let d = start(true).await;
    let options = json!([text("reason", "orphan tags found")]);
    // DBA by guild role may request a data-corruption command...
    let answer = d
        .command(DBA, &[DBA_ROLE], "kanban-corruption", options.clone())
        .await;
    assert!(ephemeral_text(&answer).contains("accepted"), "{answer}");
    // ... the same person without the role may not.
    let answer = d.command(STRANGER, &[], "kanban-corruption", options).await;
    let refusal = ephemeral_text(&answer);
    assert!(refusal.contains("not allowed"), "{refusal}");
    // The refusal is audited.
    let app = d.served.app("discord").clone();
    eventually("the refusal in the audit log", || {
        let app = app.clone();
        async move {
            app.store
                .commands()
                .await
                .unwrap()
                .iter()
                .any(|(_, outcome, _)| outcome == "denied")
        }
    })
    .await;
    d.served.stop().await;
}

#[tokio::test]
async fn the_gateway_registers_the_catalog_answers_interactions_and_records_the_channel() {
    let d = start(false).await;
    d.fake.wait_ready().await;
    until("the guild commands", || {
        d.fake
            .registered_guild_commands(GUILD_ID)
            .as_array()
            .is_some_and(|c| !c.is_empty())
    })
    .await;
    let commands = d.fake.registered_guild_commands(GUILD_ID);
    let find = |name: &str| {
        commands
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("/{name} not registered"))
            .clone()
    };
    let off = find("kanban-off");
    assert_eq!(off["options"][0]["name"], "reason");
    assert_eq!(off["options"][0]["required"], true);
    let rollback = find("rollback");
    let subs: Vec<&str> = rollback["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert!(
        subs.contains(&"quick") && subs.contains(&"full"),
        "{subs:?}"
    );
    for name in ["approve", "incident", "warroom", "help", "status"] {
        find(name);
    }

    // A command over the gateway is answered through the callback route.
    let id = d.id();
    let token = format!("tok-{id}");
    d.fake
        .dispatch(
            "INTERACTION_CREATE",
            command_interaction(id, &token, ONCALL, CHANNEL_ID, &[], "status", json!([])),
        )
        .await;
    until("the interaction response", || {
        d.fake
            .interaction_responses()
            .iter()
            .any(|(i, _, _)| *i == id)
    })
    .await;
    let (_, _, body) = d
        .fake
        .interaction_responses()
        .into_iter()
        .find(|(i, _, _)| *i == id)
        .unwrap();
    assert_eq!(body["data"]["flags"], 64, "{body}");
    // /status's answer is a private follow-up.
    until("the status reply", || !d.fake.followups(&token).is_empty()).await;

    // Other channels' chatter is none of the post-mortem's business.
    let elsewhere = 1_180_000_000_000_000_777;
    d.fake.add_channel(elsewhere);
    let chatter = message_create(d.id(), elsewhere, IC, "lunch?");
    d.fake.dispatch("MESSAGE_CREATE", chatter).await;
    // What was said before the incident was declared, the lead-up...
    d.fake
        .add_history(CHANNEL_ID, DBA, "replication lag is climbing");
    let declare = json!([text("text", "declare P2 \"Checkout slow\"")]);
    let id = d.id();
    d.fake
        .dispatch(
            "INTERACTION_CREATE",
            command_interaction(
                id,
                &format!("tok-{id}"),
                IC,
                CHANNEL_ID,
                &[],
                "incident",
                declare,
            ),
        )
        .await;
    let app = d.served.app("discord").clone();
    eventually("the incident", || {
        let app = app.clone();
        async move {
            app.store
                .open_incident(&CHANNEL_ID.to_string())
                .await
                .unwrap()
                .is_some()
        }
    })
    .await;
    // ... is fetched when the channel next speaks; what is said is recorded live, once.
    let said = message_create(d.id(), CHANNEL_ID, IC, "rolling back now, dashboards red");
    d.fake.dispatch("MESSAGE_CREATE", said.clone()).await;
    d.fake.dispatch("MESSAGE_CREATE", said).await;
    let texts = || {
        let app = app.clone();
        async move {
            let far = chrono::Utc::now() + chrono::Duration::hours(1);
            let from = far - chrono::Duration::hours(3);
            let mut all = app
                .store
                .messages(&CHANNEL_ID.to_string(), from, far)
                .await
                .unwrap();
            all.extend(
                app.store
                    .messages(&elsewhere.to_string(), from, far)
                    .await
                    .unwrap(),
            );
            all.into_iter().map(|m| m.text).collect::<Vec<_>>()
        }
    };
    eventually("the lead-up and the live message", || async {
        texts().await
            == [
                "replication lag is climbing",
                "rolling back now, dashboards red",
            ]
    })
    .await;
    assert!(d.fake.rejections().is_empty(), "{:#?}", d.fake.rejections());
    d.served.stop().await;
}

#[tokio::test]
async fn what_was_said_while_warroom_was_away_is_backfilled_when_it_reconnects() {
    let fake = FakeDiscord::start().await;
    let (mut env, _commands) = team_env(StateDb::Sqlite).await;
    with_discord(&mut env.settings, &fake, false);
    let served = Served::start(env.settings.clone()).await;
    fake.wait_ready().await;
    let declare = json!([text("text", "declare P1 \"Checkout down\"")]);
    fake.dispatch(
        "INTERACTION_CREATE",
        command_interaction(9001, "tok-9001", IC, CHANNEL_ID, &[], "incident", declare),
    )
    .await;
    let app = served.app("discord").clone();
    eventually("the incident", || {
        let app = app.clone();
        async move {
            !app.store
                .open_incidents("discord")
                .await
                .unwrap()
                .is_empty()
        }
    })
    .await;
    served.stop().await;

    for i in 0..3 {
        fake.add_history(CHANNEL_ID, DBA, &format!("said while away {i}"));
    }
    let served = Served::start(env.settings.clone()).await;
    let app = served.app("discord").clone();
    eventually("the backfilled messages", || {
        let app = app.clone();
        async move {
            let from = chrono::Utc::now() - chrono::Duration::hours(1);
            let to = chrono::Utc::now() + chrono::Duration::hours(1);
            let said = app
                .store
                .messages(&CHANNEL_ID.to_string(), from, to)
                .await
                .unwrap();
            said.len() == 3 && said[0].text == "said while away 0"
        }
    })
    .await;
    assert!(fake.rejections().is_empty(), "{:#?}", fake.rejections());
    served.stop().await;
}

#[tokio::test]
async fn two_approvers_one_by_guild_role_each_update_the_request_in_place() {
    let d = start(true).await;
    let answer = d.command(ONCALL, &[], "kanban-cleanup", json!([])).await;
    assert!(ephemeral_text(&answer).contains("accepted"), "{answer}");
    until("the approval request", || {
        d.find("needs approval").is_some()
    })
    .await;
    let request = d.find("needs approval").unwrap();
    assert!(
        text_of(&request).contains("Still needed: DevSecOps Lead, Database Admin"),
        "{}",
        text_of(&request)
    );

    // The lead's approval shows on the request itself; the DBAs, by their guild
    // role, are still named; the buttons stay.
    let answer = d.press(LEAD, &[], &request, "/approve RUN-1").await;
    assert_eq!(answer["type"], 6, "{answer}");
    until("the lead's approval on the request", || {
        d.fake
            .message(request.id)
            .is_some_and(|m| text_of(&m).contains(&format!("Approved by {LEAD} as DevSecOps Lead")))
    })
    .await;
    let edited = d.fake.message(request.id).unwrap();
    assert!(
        text_of(&edited).contains("Still needed: Database Admin"),
        "{}",
        text_of(&edited)
    );
    assert_eq!(edited.custom_ids(), ["/approve RUN-1", "/deny RUN-1"]);
    assert_eq!(edited.mentioned_roles(), [DBA_ROLE]);

    // A DBA, known to the matrix only through the guild role, completes it.
    d.press(DBA, &[DBA_ROLE], &edited, "/approve RUN-1").await;
    // The demo holds the cleanup's tables (issue 13), so the run goes on to its
    // manual-test checkpoint rather than failing.
    until("the run to start", || {
        d.fake.message(request.id).is_some_and(|m| {
            let t = text_of(&m);
            t.contains("waiting for a checkpoint")
                || t.contains("succeeded")
                || t.contains("failed")
        })
    })
    .await;
    let app = d.served.app("discord");
    let votes = app.store.votes(1).await.unwrap();
    let roles: Vec<&str> = votes.iter().map(|(_, role, _)| role.as_str()).collect();
    assert_eq!(roles, ["DevSecOps Lead", "Database Admin"]);
    assert_eq!(
        votes[1].0.user.groups,
        [DBA_ROLE.to_string()],
        "the role is kept with the vote"
    );
    assert!(d.fake.rejections().is_empty(), "{:#?}", d.fake.rejections());
    d.served.stop().await;
}
