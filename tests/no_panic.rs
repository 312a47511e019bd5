//! No input panics: random lines (quotes, escapes, unicode, control characters,
//! mentions, shell and SQL syntax) through the parser, binding, escaping and
//! placeholders, and a sample through the whole pipeline. Deterministic seed.

mod common;

use common::{say, Env, StateDb};
use warroom::app::Outcome;

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const PIECES: &[&str] = &[
    "/",
    "/kanban-off",
    "/warroom",
    "/approve",
    "/incident",
    "/check",
    "/assess",
    "/help",
    "/rollback",
    " ",
    "  ",
    "\t",
    "\n",
    "\"",
    "'",
    "“",
    "”",
    "‘",
    "’",
    "\\",
    "=",
    "reason=",
    "top=",
    "dry-run=",
    "RUN-1",
    "RUN-",
    "-",
    "_",
    "$(id)",
    "`ls`",
    ";",
    "|",
    "&&",
    "'; DROP TABLE x;--",
    "@channel",
    "<!here>",
    "<@U1>",
    "{args.reason}",
    "{{",
    "}}",
    "{now:%Y}",
    "🙂",
    "ü",
    "\u{200B}",
    "\u{0}",
    "\u{7f}",
    "P0",
    "declare",
    "full",
    "42",
    "-1",
    "99999999999999999999",
    "1e3",
    "%",
    "..",
];

fn line(rng: &mut Rng) -> String {
    let n = 1 + rng.next() % 12;
    (0..n).map(|_| rng.pick(PIECES)).collect()
}

#[test]
fn random_lines_never_panic_the_parser_binding_or_escaping() {
    let (catalog, problems) = warroom::command::catalog::Catalog::load(
        &common::repo().join("commands"),
        warroom::app::handlers::NAMES,
    );
    assert!(problems.is_empty());
    let catalog = catalog.unwrap();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for _ in 0..50_000 {
        let text = line(&mut rng);
        let _ = warroom::render::escape::markdown(&text);
        let _ = warroom::render::escape::inline_code(&text);
        let _ = warroom::actions::placeholder::names(&text);
        let _ = warroom::assess::facts(&warroom::command::parse::CommandLine::default());
        if let Ok(parsed) = warroom::command::parse::parse(&text) {
            if let warroom::command::catalog::Lookup::Spec { spec, rest } = catalog.lookup(&parsed)
            {
                let _ = spec.bind(&parsed, &rest);
            }
            let _ = warroom::assess::facts(&parsed);
        }
    }
}

#[tokio::test]
async fn random_lines_through_the_whole_pipeline_get_an_answer_and_never_panic() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    let mut rng = Rng(0x00DD_BA11_5EED);
    for i in 0..300 {
        let text = line(&mut rng);
        chat.clear();
        let out = say(
            &app,
            if i % 2 == 0 { "U_ONCALL" } else { "U_STRANGER" },
            &text,
        )
        .await;
        assert_ne!(out, Outcome::Internal, "{text:?} -> {}", chat.transcript());
        assert!(
            !chat.posts().is_empty() || out == Outcome::Duplicate,
            "{text:?} got no answer"
        );
        assert!(
            !chat.transcript().contains("@channel") && !chat.transcript().contains("<!here>"),
            "{text:?}"
        );
    }
}
