use super::*;
use crate::command::parse::parse;
use crate::command::pattern::compile_anchored;

fn spec(toml_text: &str) -> CommandSpec {
    let file: SpecFile = toml::from_str(toml_text).expect("test spec parses");
    let patterns = file
        .args
        .iter()
        .map(|a| a.pattern.as_deref().map(|p| compile_anchored(p).unwrap()))
        .collect();
    CommandSpec {
        file,
        path: "test.toml".into(),
        patterns,
    }
}

const KANBAN: &str = r#"
    [command]
    name = "kanban-off"
    help = "off"
    scenario = "production-p0"
    [[args]]
    name = "reason"
    pattern = '[\w .,:;()/-]{3,200}'
    required = true
    [[args]]
    name = "top"
    kind = "int"
    default = "20"
    min = 1
    max = 500
    [[args]]
    name = "company"
    positional = true
    pattern = '[A-Za-z0-9_-]{1,64}'
    [[args]]
    name = "mode"
    choices = ["soft", "hard"]
    default = "soft"
    [[args]]
    name = "wait"
    kind = "duration"
    default = "5m"
"#;

fn bind(line: &str) -> Result<Invocation, ArgError> {
    let s = spec(KANBAN);
    let l = parse(line).unwrap();
    s.bind(&l, &l.positional)
}

#[test]
fn arguments_bind_with_defaults_and_kinds() {
    let inv = bind("/kanban-off reason=\"socket down\"").unwrap();
    assert_eq!(inv.args["reason"], ArgValue::Text("socket down".into()));
    assert_eq!(inv.args["top"], ArgValue::Int(20));
    assert_eq!(inv.args["mode"], ArgValue::Text("soft".into()));
    assert_eq!(
        inv.args["wait"],
        ArgValue::Duration(Duration::from_secs(300))
    );
    assert!(!inv.args.contains_key("company"));
    assert!(!inv.dry_run);
    let inv = bind("/kanban-off acme reason=abc top=3 dry-run=true").unwrap();
    assert_eq!(inv.args["company"], ArgValue::Text("acme".into()));
    assert_eq!(inv.args["top"], ArgValue::Int(3));
    assert!(inv.dry_run);
}

#[test]
fn bad_arguments_are_refused_with_the_reason() {
    let table: &[(&str, ArgError)] = &[
        ("/kanban-off", ArgError::Missing("reason".into())),
        (
            "/kanban-off reason=abc nope=1",
            ArgError::Unknown("nope".into()),
        ),
        (
            "/kanban-off reason=abc a b",
            ArgError::ExtraPositional("b".into()),
        ),
        ("/kanban-off reason=ab", invalid("reason")),
        ("/kanban-off reason=\"$(rm -rf /)\"", invalid("reason")),
        (
            "/kanban-off reason=\"a'; DROP TABLE x;--\"",
            invalid("reason"),
        ),
        ("/kanban-off reason=\"ok\nline\"", invalid("reason")),
        ("/kanban-off reason=abc top=0", invalid("top")),
        ("/kanban-off reason=abc top=501", invalid("top")),
        ("/kanban-off reason=abc top=1e3", invalid("top")),
        ("/kanban-off reason=abc mode=medium", invalid("mode")),
        ("/kanban-off reason=abc wait=soon", invalid("wait")),
        ("/kanban-off reason=abc dry-run=maybe", invalid("dry-run")),
        ("/kanban-off reason=abc \"a;b\"", invalid("company")),
        ("/kanban-off reason=abc \"acme\nx\"", invalid("company")),
    ];
    for (line, want) in table {
        let got = bind(line).expect_err(line);
        match (&got, want) {
            (ArgError::Invalid { name, .. }, ArgError::Invalid { name: w, .. }) => {
                assert_eq!(name, w, "{line}")
            }
            _ => assert_eq!(&got, want, "{line}"),
        }
    }
}

fn invalid(name: &str) -> ArgError {
    ArgError::Invalid {
        name: name.into(),
        reason: String::new(),
    }
}

#[test]
fn counted_classes_keep_their_meaning_and_stay_small() {
    let p = compile_anchored(r"[\w .,:;()/#%+-]{3,200}").unwrap();
    assert!(p.is_match("Socket.IO não conecta (company 12)"));
    assert!(!p.is_match("ab"), "too short");
    assert!(!p.is_match(&"a".repeat(201)), "too long");
    assert!(p.is_match(&"ã".repeat(200)), "counted in characters");
    assert!(!p.is_match("abc$(id)"));
    let any = compile_anchored("(?s).{1,5}").unwrap();
    assert!(any.is_match("a\nb") && !any.is_match("") && !any.is_match("abcdef"));
    let plain = compile_anchored("v[0-9]+\\.[0-9]+").unwrap();
    assert!(plain.is_match("v3.0") && !plain.is_match("v3.0; rm"));
}

#[test]
fn patterns_are_anchored_even_when_the_author_forgot() {
    let re = compile_anchored("[a-z]+").unwrap();
    assert!(re.is_match("abc"));
    assert!(!re.is_match("abc; rm -rf /"));
    let re = compile_anchored("a|b").unwrap();
    assert!(!re.is_match("ab"));
}

#[test]
fn usage_lists_required_optional_and_choices() {
    assert_eq!(
        spec(KANBAN).usage(),
        "/kanban-off <company> reason=<reason> [top=<top>] [mode=soft|hard] [wait=<wait>] [dry-run=true]"
    );
}

#[test]
fn durations_parse_in_common_units() {
    let table = [
        ("250ms", Some(250)),
        ("30s", Some(30_000)),
        ("30", Some(30_000)),
        ("5m", Some(300_000)),
        ("2h", Some(7_200_000)),
        ("5 m", None),
        ("m", None),
        ("-1s", None),
        ("99999999999999999999h", None),
    ];
    for (s, ms) in table {
        assert_eq!(parse_duration(s).map(|d| d.as_millis() as u64), ms, "{s}");
    }
}

/// Issue 12: `/kanban-off Socket down` said only "`reason` is required"; the words
/// typed were the reason, and the line to type is said.
#[test]
fn words_typed_without_a_name_are_offered_as_the_required_value() {
    let s = spec(
        r#"
[command]
name = "kanban-off"
help = "x"
scenario = "p0"
[[args]]
name = "reason"
pattern = '[\w .,:;()/#%+-]{3,200}'
required = true
"#,
    );
    let line = parse("/kanban-off Socket down").expect("parses");
    let e = s
        .bind(&line, &line.positional)
        .expect_err("reason is missing");
    assert_eq!(
        e.to_string(),
        "`reason` is required, named: type reason=\"Socket down\""
    );
    let line = parse("/kanban-off reason=\"Socket down!\"").expect("parses");
    let e = s
        .bind(&line, &line.positional)
        .expect_err("! is not allowed");
    assert!(
        e.to_string().starts_with(
            "`reason` `Socket down!` cannot hold `!`: it may hold letters, digits, spaces and"
        ) && e.to_string().ends_with(". Try reason=\"Socket down\""),
        "{e}"
    );
}

/// Issue 12: a value refused by a pattern that is not a counted class was answered
/// with the regex. It is answered with the argument's help, in words.
#[test]
fn a_general_pattern_is_explained_by_the_arguments_help() {
    let s = spec(
        r#"
[command]
name = "rollback"
help = "x"
scenario = "p0"
[[args]]
name = "version"
help = "the last stable release tag, like v3.0.0"
pattern = 'v[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}'
required = true
"#,
    );
    let line = parse("/rollback version=3.0").expect("parses");
    let e = s.bind(&line, &line.positional).expect_err("not a tag");
    assert_eq!(
        e.to_string(),
        "`version` `3.0` is not accepted: it must be the last stable release tag, like v3.0.0"
    );
    assert!(!e.to_string().contains("[0-9]"), "{e}");
}
