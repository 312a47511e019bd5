//! Command registration and Discord's limits on commands and messages, table-driven.

use super::*;

#[tokio::test]
async fn global_commands_with_a_subcommand_and_choices_are_registered_as_discord_returns_them() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let commands = || {
        vec![
            CreateCommand::new("rollback")
                .description("Roll back a release")
                .add_option(
                    CreateCommandOption::new(CommandOptionType::SubCommand, "start", "Start one")
                        .add_sub_option(
                            CreateCommandOption::new(CommandOptionType::String, "env", "Where")
                                .required(true)
                                .add_string_choice("Production", "prod")
                                .add_string_choice("Staging", "staging"),
                        )
                        .add_sub_option(CreateCommandOption::new(
                            CommandOptionType::String,
                            "reason",
                            "Why",
                        )),
                )
                .add_option(CreateCommandOption::new(
                    CommandOptionType::SubCommand,
                    "status",
                    "Show the live rollback",
                )),
            CreateCommand::new("approve")
                .description("Approve a run")
                .add_option(
                    CreateCommandOption::new(CommandOptionType::String, "run", "Run id")
                        .required(true),
                ),
        ]
    };

    let registered = Command::set_global_commands(&http, commands())
        .await
        .expect("valid commands accepted");

    assert_eq!(registered.len(), 2);
    assert_eq!(registered[0].id.get(), command_id("rollback"));
    assert_eq!(registered[0].application_id.get(), APP_ID);
    let start = &registered[0].options[0];
    assert_eq!(start.kind, CommandOptionType::SubCommand);
    assert_eq!(start.options[0].choices.len(), 2);
    assert!(start.options[0].required);
    assert!(!start.options[1].required);
    assert_eq!(fake.registered_commands()[1]["name"], "approve");
    assert_eq!(
        fake.requests()[0].path,
        format!("/api/v10/applications/{APP_ID}/commands")
    );

    // Overwriting with the same set keeps ids and versions, as Discord does.
    let again = Command::set_global_commands(&http, commands())
        .await
        .unwrap();
    assert_eq!(again[0].id, registered[0].id);
    assert_eq!(again[0].version, registered[0].version);
    assert!(fake.rejections().is_empty());
}

#[tokio::test]
async fn a_command_with_an_uppercase_name_is_rejected_with_50035_and_serenity_returns_the_error() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();

    let error = Command::set_global_commands(
        &http,
        vec![CreateCommand::new("Rollback").description("Roll back")],
    )
    .await
    .expect_err("Discord refuses uppercase names");

    let error = refused(error);
    assert_eq!(error.status_code.as_u16(), 400);
    assert_eq!(error.error.code, 50035);
    assert_eq!(error.error.message, "Invalid Form Body");
    assert_eq!(paths(&error), ["0.name"]);
    assert_eq!(
        error.error.errors[0].code,
        "APPLICATION_COMMAND_INVALID_NAME"
    );
    assert_eq!(fake.registered_commands(), json!([]));
    assert_eq!(fake.rejections().len(), 1);
}

fn option(name: &str) -> Value {
    json!({"type": 3, "name": name, "description": "an option"})
}

fn chat(name: &str, options: Value) -> Value {
    json!({"name": name, "description": "a command", "options": options})
}

#[tokio::test]
async fn command_validation_follows_discords_rules() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let choices = |n: usize, name: &str, value: &str| -> Value {
        (0..n)
            .map(|i| json!({"name": format!("{name}{i}"), "value": format!("{value}{i}")}))
            .collect()
    };
    let many = |n: usize| -> Value { (0..n).map(|i| option(&format!("o{i}"))).collect() };
    let huge = (0..25)
        .map(|i| {
            let mut o = option(&format!("o{i}"));
            o["description"] = "d".repeat(100).into();
            o["choices"] = choices(25, &"n".repeat(97), &"v".repeat(97));
            o
        })
        .collect::<Value>();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "an uppercase name",
            json!([chat("Rollback", json!([]))]),
            "0.name",
        ),
        (
            "a space in a name",
            json!([chat("roll back", json!([]))]),
            "0.name",
        ),
        (
            "a 33-character name",
            json!([chat(&"r".repeat(33), json!([]))]),
            "0.name",
        ),
        (
            "an empty description",
            json!([{"name": "rollback", "description": ""}]),
            "0.description",
        ),
        (
            "a 101-character description",
            json!([{"name": "rollback", "description": "d".repeat(101)}]),
            "0.description",
        ),
        (
            "26 options",
            json!([chat("rollback", many(26))]),
            "0.options",
        ),
        (
            "a required option after an optional one",
            json!([chat(
                "rollback",
                json!([option("a"), {"type": 3, "name": "b", "description": "b", "required": true}])
            )]),
            "0.options",
        ),
        (
            "an uppercase option name",
            json!([chat("rollback", json!([option("Env")]))]),
            "0.options.0.name",
        ),
        (
            "an empty option description",
            json!([chat(
                "rollback",
                json!([{"type": 3, "name": "env", "description": ""}])
            )]),
            "0.options.0.description",
        ),
        (
            "26 choices",
            json!([chat(
                "rollback",
                json!([{"type": 3, "name": "env", "description": "e", "choices": choices(26, "c", "v")}])
            )]),
            "0.options.0.choices",
        ),
        (
            "a 101-character choice name",
            json!([chat(
                "rollback",
                json!([{"type": 3, "name": "env", "description": "e", "choices": [{"name": "n".repeat(101), "value": "v"}]}])
            )]),
            "0.options.0.choices.0.name",
        ),
        (
            "a 101-character choice value",
            json!([chat(
                "rollback",
                json!([{"type": 3, "name": "env", "description": "e", "choices": [{"name": "n", "value": "v".repeat(101)}]}])
            )]),
            "0.options.0.choices.0.value",
        ),
        (
            "a string choice on an integer option",
            json!([chat(
                "rollback",
                json!([{"type": 4, "name": "n", "description": "n", "choices": [{"name": "one", "value": "1"}]}])
            )]),
            "0.options.0.choices.0.value",
        ),
        (
            "choices on a boolean option",
            json!([chat(
                "rollback",
                json!([{"type": 5, "name": "b", "description": "b", "choices": [{"name": "y", "value": "y"}]}])
            )]),
            "0.options.0.choices",
        ),
        (
            "a group inside a sub-command",
            json!([chat(
                "rollback",
                json!([{"type": 1, "name": "start", "description": "s", "options": [{"type": 2, "name": "g", "description": "g"}]}])
            )]),
            "0.options.0.options",
        ),
        (
            "a plain option inside a group",
            json!([chat(
                "rollback",
                json!([{"type": 2, "name": "g", "description": "g", "options": [option("env")]}])
            )]),
            "0.options.0.options",
        ),
        (
            "sub-commands mixed with plain options",
            json!([chat(
                "rollback",
                json!([{"type": 1, "name": "start", "description": "s"}, option("env")])
            )]),
            "0.options",
        ),
        (
            "two options with one name",
            json!([chat("rollback", json!([option("env"), option("env")]))]),
            "0.options",
        ),
        (
            "two commands with one name",
            json!([chat("rollback", json!([])), chat("rollback", json!([]))]),
            "",
        ),
        (
            "101 commands",
            (0..101)
                .map(|i| chat(&format!("c{i}"), json!([])))
                .collect(),
            "",
        ),
        (
            "a command over 8000 characters",
            json!([chat("rollback", huge)]),
            "0",
        ),
    ];
    for (name, body, path) in &cases {
        let error = http
            .create_global_commands(body)
            .await
            .map(|_| ())
            .expect_err(name);
        let error = refused(error);
        assert_eq!(
            (error.status_code.as_u16(), error.error.code),
            (400, 50035),
            "{name}"
        );
        assert!(
            paths(&error).contains(path),
            "{name}: expected an error at {path:?}, got {:?}",
            error.error.errors
        );
    }
    assert_eq!(fake.rejections().len(), cases.len());

    // What Discord accepts: non-Latin lowercase letters, digits, '-', '_', and user
    // commands (type 2) with capitals and spaces.
    let accepted = json!([
        chat("rückgängig", json!([])),
        chat("回滚", json!([])),
        chat("roll-back_2", json!([])),
        {"type": 2, "name": "Open incident", "description": ""},
    ]);
    let registered = http
        .create_global_commands(&accepted)
        .await
        .expect("accepted");
    assert_eq!(registered.len(), 4);
}

#[tokio::test]
async fn message_limits_are_enforced_as_discord_enforces_them() {
    let fake = FakeDiscord::start().await;
    fake.allow_embed_links(CHANNEL_ID);
    let http = fake.http();
    let button = |id: &str| json!({"type": 2, "style": 1, "label": "Go", "custom_id": id});
    let rows = |rows: usize, per_row: usize| -> Value {
        (0..rows)
            .map(|r| {
                let buttons: Vec<Value> =
                    (0..per_row).map(|b| button(&format!("b{r}-{b}"))).collect();
                json!({"type": 1, "components": buttons})
            })
            .collect()
    };
    let row = |components: Value| json!({"components": [{"type": 1, "components": components}]});
    let cases: Vec<(&str, Value, u16, isize, &str)> = vec![
        (
            "2001 characters",
            json!({"content": "x".repeat(2001)}),
            400,
            50035,
            "content",
        ),
        (
            "eleven embeds",
            json!({"embeds": vec![json!({"title": "t"}); 11]}),
            400,
            50035,
            "embeds",
        ),
        (
            "a 257-character title",
            json!({"embeds": [{"title": "t".repeat(257)}]}),
            400,
            50035,
            "embeds.0.title",
        ),
        (
            "a 4097-character description",
            json!({"embeds": [{"description": "d".repeat(4097)}]}),
            400,
            50035,
            "embeds.0.description",
        ),
        (
            "26 fields",
            json!({"embeds": [{"fields": vec![json!({"name": "n", "value": "v"}); 26]}]}),
            400,
            50035,
            "embeds.0.fields",
        ),
        (
            "a field without a value",
            json!({"embeds": [{"fields": [{"name": "n", "value": ""}]}]}),
            400,
            50035,
            "embeds.0.fields.0.value",
        ),
        (
            "embeds over 6000 characters in all",
            json!({"embeds": [{"description": "d".repeat(4000)}, {"description": "d".repeat(2001)}]}),
            400,
            50035,
            "embeds",
        ),
        (
            "six action rows",
            json!({"components": rows(6, 1)}),
            400,
            50035,
            "components",
        ),
        (
            "six buttons in a row",
            json!({"components": rows(1, 6)}),
            400,
            50035,
            "components.0.components",
        ),
        (
            "an empty action row",
            row(json!([])),
            400,
            50035,
            "components.0.components",
        ),
        (
            "a button outside an action row",
            json!({"components": [button("a")]}),
            400,
            50035,
            "components.0.type",
        ),
        (
            "an 81-character label",
            row(json!([{"type": 2, "style": 1, "label": "l".repeat(81), "custom_id": "a"}])),
            400,
            50035,
            "components.0.components.0.label",
        ),
        (
            "a 101-character custom_id",
            row(json!([button(&"c".repeat(101))])),
            400,
            50035,
            "components.0.components.0.custom_id",
        ),
        (
            "a duplicated custom_id",
            json!({"components": [{"type": 1, "components": [button("same")]}, {"type": 1, "components": [button("same")]}]}),
            400,
            50035,
            "components.1.components.0.custom_id",
        ),
        (
            "a button without a custom_id",
            row(json!([{"type": 2, "style": 1, "label": "Go"}])),
            400,
            50035,
            "components.0.components.0.custom_id",
        ),
        (
            "a link button without a url",
            row(json!([{"type": 2, "style": 5, "label": "Docs"}])),
            400,
            50035,
            "components.0.components.0.url",
        ),
        (
            "a link button with a custom_id",
            row(
                json!([{"type": 2, "style": 5, "label": "Docs", "url": "https://x.example", "custom_id": "a"}]),
            ),
            400,
            50035,
            "components.0.components.0.custom_id",
        ),
        (
            "a button of style 7",
            row(json!([{"type": 2, "style": 7, "label": "Go", "custom_id": "a"}])),
            400,
            50035,
            "components.0.components.0.style",
        ),
        (
            "parse users and a user list",
            json!({"content": "hi", "allowed_mentions": {"parse": ["users"], "users": ["42"]}}),
            400,
            50035,
            "allowed_mentions",
        ),
        (
            "an unknown parse value",
            json!({"content": "hi", "allowed_mentions": {"parse": ["channels"]}}),
            400,
            50035,
            "allowed_mentions.parse.0",
        ),
        (
            "only whitespace",
            json!({"content": "  \n"}),
            400,
            50006,
            "",
        ),
        (
            "nothing at all",
            json!({"embeds": [], "components": []}),
            400,
            50006,
            "",
        ),
    ];
    for (name, body, status, code, path) in &cases {
        let error = http
            .send_message(ChannelId::new(CHANNEL_ID), vec![], body)
            .await
            .map(|_| ())
            .expect_err(name);
        let error = refused(error);
        assert_eq!(
            (error.status_code.as_u16(), error.error.code),
            (*status, *code),
            "{name}"
        );
        if !path.is_empty() {
            assert!(
                paths(&error).contains(path),
                "{name}: expected an error at {path:?}, got {:?}",
                error.error.errors
            );
        }
    }
    assert!(fake.channel_messages(CHANNEL_ID).is_empty());
    assert_eq!(fake.rejections().len(), cases.len());

    // At the limits exactly, Discord accepts.
    let at_limits = json!({
        "content": "x".repeat(2000),
        "embeds": [{"title": "t".repeat(256), "description": "d".repeat(4096)}],
        "components": rows(5, 5),
    });
    http.send_message(ChannelId::new(CHANNEL_ID), vec![], &at_limits)
        .await
        .expect("at the limits");
    let error = refused(
        http.send_message(ChannelId::new(1), vec![], &json!({"content": "hi"}))
            .await
            .expect_err("no such channel"),
    );
    assert_eq!((error.status_code.as_u16(), error.error.code), (404, 10003));
}

/// Embeds need the bot's *Embed Links* permission (discord/discord-api-docs
/// `developers/topics/permissions.mdx`: `EMBED_LINKS (1 << 14)`); without it Discord
/// answers 403 with code 50013 (`developers/topics/opcodes-and-status-codes.mdx`).
/// Plain content needs no such permission.
#[tokio::test]
async fn embeds_without_the_embed_links_permission_are_refused_with_50013() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let with_embed = json!({"content": "", "embeds": [{"description": "a long report"}]});
    let error = refused(
        http.send_message(ChannelId::new(CHANNEL_ID), vec![], &with_embed)
            .await
            .map(|_| ())
            .expect_err("no Embed Links"),
    );
    assert_eq!((error.status_code.as_u16(), error.error.code), (403, 50013));
    let plain = http
        .send_message(
            ChannelId::new(CHANNEL_ID),
            vec![],
            &json!({"content": "plain"}),
        )
        .await
        .expect("content needs no Embed Links");
    // An edit that adds embeds is refused the same way.
    let edit = http
        .edit_message(ChannelId::new(CHANNEL_ID), plain.id, &with_embed, vec![])
        .await
        .map(|_| ())
        .expect_err("no Embed Links for an edit either");
    assert_eq!(refused(edit).error.code, 50013);
    fake.allow_embed_links(CHANNEL_ID);
    http.send_message(ChannelId::new(CHANNEL_ID), vec![], &with_embed)
        .await
        .expect("granted");
}
