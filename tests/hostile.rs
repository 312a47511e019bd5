//! One table of hostile inputs, run through every output warroom writes: the posts
//! (incident channel and stakeholders) and the post-mortem export. Anyone in the
//! channel can type these; chat lines, notes and titles are recorded.
//!
//! What must never come out is from the platforms' own rules: Slack's special
//! mentions are `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^ID>` ("Formatting
//! text for app surfaces", api.slack.com); Discord's are `@everyone`, `@here`, `<@id>`
//! (Discord API docs, "Message Formatting"); CommonMark turns `[text](url)` into a
//! link, a leading `#` into a heading, ``` into a code block, and passes raw HTML
//! (`<script>`, `<img onerror>`) through; Unicode's bidirectional controls
//! (U+202A–U+202E, U+2066–U+2069, UAX #9) reorder how text displays.

mod common;

use common::{Env, StateDb};
use warroom::app::Outcome;

/// (what someone types, what must not appear in any output).
const HOSTILE: &[(&str, &str)] = &[
    ("<!channel> wake up", "<!channel>"),
    ("<!subteam^S0123ABC> page them", "<!subteam^"),
    ("@everyone look", "@everyone"),
    (
        "[reset your password](http://evil.example)",
        "[reset your password](http://evil.example)",
    ),
    ("<script>alert(1)</script>", "<script>"),
    ("<img src=x onerror=alert(1)>", "<img "),
    ("```", "\n```"),
    ("# Fake heading", "\n# Fake heading"),
    ("invoice\u{202E}fdp.exe", "\u{202E}"),
];

/// Whether `needle` occurs in `text` with its markup still live: an occurrence
/// right after a backslash is escaped (CommonMark backslash escapes; the Slack
/// adapter turns the escaped `<` into `&lt;`).
fn live(text: &str, needle: &str) -> bool {
    text.match_indices(needle)
        .any(|(i, _)| !text[..i].ends_with('\\'))
}

#[tokio::test]
async fn hostile_text_is_inert_in_every_post_and_in_the_exported_post_mortem() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    for (i, (typed, _)) in HOSTILE.iter().enumerate() {
        let title = format!("t{i} {typed}");
        // Each its own channel, so each opens its own incident.
        let channel = format!("C_HOSTILE_{i}");
        let mut m = common::msg("U_IC", &format!("/incident declare P2 \"{title}\""));
        m.channel = channel.clone();
        assert_eq!(app.handle(&m).await, Outcome::Done, "{typed}");
        let mut note = common::msg("U_IC", &format!("/note \"{typed}\""));
        note.channel = channel.clone();
        assert_eq!(app.handle(&note).await, Outcome::Done, "{typed}");
        app.store
            .record_message(
                "console",
                &channel,
                "U_ANYONE",
                typed,
                chrono::Utc::now(),
                None,
            )
            .await
            .expect("chat line recorded");
    }
    let posts = chat.transcript();
    for (typed, never) in HOSTILE {
        assert!(
            !live(&posts, never),
            "posts carry {never:?} from {typed:?}:\n{posts}"
        );
    }
    for (i, (typed, never)) in HOSTILE.iter().enumerate() {
        let incident = app
            .store
            .open_incident(&format!("C_HOSTILE_{i}"))
            .await
            .unwrap()
            .expect("each hostile title opened its incident");
        let md = warroom::export::export(
            &app.store,
            &incident.id,
            warroom::export::Format::Markdown,
            |_| None,
        )
        .await
        .unwrap();
        assert!(
            !live(&md, never),
            "report.md carries {never:?} from {typed:?}:\n{md}"
        );
        assert!(md.contains(&format!("# Incident Post-Mortem: {}", incident.id)));
        // Nothing was dropped to get there: the note is on its timeline.
        let timeline = app.store.timeline(&incident.id).await.unwrap();
        assert!(timeline.iter().any(|e| e.kind == "note"), "{timeline:#?}");
    }
}

/// The same table as each platform receives it: the core's escaped text rendered
/// by the Slack adapter (Block Kit mrkdwn, where `&`, `<` and `>` must be
/// entities: Slack's "Formatting text for app surfaces", "Escaping text") and by
/// the Discord adapter (content with `allowed_mentions.parse = []`, Discord's
/// "Allowed Mentions Object").
#[test]
fn hostile_text_is_inert_as_slack_and_discord_receive_it() {
    use warroom::chat::{Post, PostKind};
    for (typed, never) in HOSTILE {
        let text = format!("📝 Note: {}", warroom::render::escape::markdown(typed));
        let post = Post::new("C_INC", PostKind::Info, text);
        let slack = format!("{:?}", warroom::chat::slack::blocks::render(&post));
        for live_markup in ["<!channel>", "<!subteam^", "<script>", "<img ", "<http"] {
            assert!(
                !slack.contains(live_markup),
                "Slack gets {live_markup:?} from {typed:?}: {slack}"
            );
        }
        assert!(!slack.contains('\u{202E}'), "{slack}");
        let discord = warroom::chat::discord::render::message(&post);
        assert_eq!(
            discord["allowed_mentions"]["parse"],
            serde_json::json!([]),
            "{discord}"
        );
        let content = discord["content"].as_str().unwrap_or_default();
        assert!(
            !live(content, never),
            "Discord gets {never:?} from {typed:?}: {content}"
        );
    }
}
