//! The chat command language: turns one line of chat text into a [`CommandLine`].
//!
//! Forms: `/name [sub] [positional...] [key=value] [key="quoted value"]`, and the
//! same behind the umbrella `/warroom name ...`. This module knows only syntax; which
//! names exist and what their arguments mean is `spec`'s business.

use std::fmt;

/// The name of the umbrella command that reaches every other command.
pub const UMBRELLA: &str = "warroom";

/// A syntactically valid command line, before it is checked against any spec.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandLine {
    /// The command name, lower-cased, without the slash.
    pub name: String,
    /// Bare words and quoted strings, in order. The first one may be a subcommand.
    pub positional: Vec<String>,
    /// `key=value` pairs in the order typed; keys are lower-cased and unique.
    pub named: Vec<(String, String)>,
}

impl CommandLine {
    /// The value given for `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.named
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a line could not be parsed. `column` is 1-based, counted in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub column: usize,
    pub kind: ParseErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    Empty,
    MissingSlash,
    BadName(String),
    /// The quote that closes it: `"` or `'` (curly quotes close with their kind).
    UnterminatedQuote(char),
    EmptyKey,
    BadKey(String),
    DuplicateKey(String),
    TooLong(usize),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ParseErrorKind::*;
        match &self.kind {
            Empty => write!(f, "empty command; type /help to see what you can run"),
            MissingSlash => write!(f, "commands start with `/`, for example /help"),
            BadName(n) if n.is_empty() => write!(
                f,
                "`/` alone is not a command: type its name right after it, for example /help \
                 (which lists what you can run)"
            ),
            BadName(n) => write!(
                f,
                "`{n}` is not a command name (letters, digits and `-` only), at column {}",
                self.column
            ),
            UnterminatedQuote(close) => write!(
                f,
                "the quote opened at column {} is never closed; close it with `{close}`",
                self.column
            ),
            EmptyKey => write!(f, "`=` without a name before it, at column {}", self.column),
            BadKey(k) => write!(
                f,
                "`{k}` is not an argument name (letters, digits, `_` and `-`), at column {}",
                self.column
            ),
            DuplicateKey(k) => write!(f, "`{k}` is given twice, at column {}", self.column),
            TooLong(max) => write!(f, "the command is longer than {max} characters"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Longest line accepted; nothing in a runbook needs more, and it bounds the work.
pub const MAX_LEN: usize = 4000;

/// Parses one command line. Smart quotes (“…”, ‘…’), which chat clients substitute
/// for straight ones, are read as straight quotes.
pub fn parse(input: &str) -> Result<CommandLine, ParseError> {
    if input.chars().count() > MAX_LEN {
        return Err(err(1, ParseErrorKind::TooLong(MAX_LEN)));
    }
    let tokens = tokenize(input)?;
    let mut iter = tokens.into_iter();
    let first = iter.next().ok_or(err(1, ParseErrorKind::Empty))?;
    let Token::Word {
        text,
        column,
        quoted: false,
    } = first
    else {
        return Err(err(1, ParseErrorKind::MissingSlash));
    };
    let Some(raw_name) = text.strip_prefix('/') else {
        return Err(err(column, ParseErrorKind::MissingSlash));
    };
    let mut name = check_name(raw_name, column)?;
    let mut rest: Vec<Token> = iter.collect();
    if name == UMBRELLA {
        if let Some(Token::Word {
            text,
            column,
            quoted: false,
        }) = rest
            .first()
            .filter(|t| !matches!(t, Token::Word { text, .. } if text.contains('=')))
        {
            let text = text.strip_prefix('/').unwrap_or(text);
            name = check_name(text, *column)?;
            rest.remove(0);
        }
    }
    let mut line = CommandLine {
        name,
        ..Default::default()
    };
    for token in rest {
        match token {
            Token::Word {
                text,
                quoted: false,
                column,
            } if text.contains('=') => {
                let (key, value) = text.split_once('=').expect("contains '='");
                named(&mut line, key, value.to_string(), column)?;
            }
            Token::Word { text, .. } => line.positional.push(text),
            Token::Pair { key, value, column } => named(&mut line, &key, value, column)?,
        }
    }
    Ok(line)
}

fn named(
    line: &mut CommandLine,
    key: &str,
    value: String,
    column: usize,
) -> Result<(), ParseError> {
    if key.is_empty() {
        return Err(err(column, ParseErrorKind::EmptyKey));
    }
    let valid = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(err(column, ParseErrorKind::BadKey(key.to_string())));
    }
    // `dry-run` and `dry_run` are the same key; names are stored with `_` so templates
    // can read them as `args.affected_users`.
    let key = key.to_ascii_lowercase().replace('-', "_");
    if line.get(&key).is_some() {
        return Err(err(column, ParseErrorKind::DuplicateKey(key)));
    }
    line.named.push((key, value));
    Ok(())
}

fn check_name(raw: &str, column: usize) -> Result<String, ParseError> {
    let valid = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err(err(column, ParseErrorKind::BadName(raw.to_string())))
    }
}

fn err(column: usize, kind: ParseErrorKind) -> ParseError {
    ParseError { column, kind }
}

#[derive(Debug, PartialEq)]
enum Token {
    /// A bare or fully quoted word.
    Word {
        text: String,
        quoted: bool,
        column: usize,
    },
    /// `key="quoted value"`: the quote makes the `=` inside the value literal.
    Pair {
        key: String,
        value: String,
        column: usize,
    },
}

fn is_quote(c: char) -> Option<char> {
    match c {
        '"' | '“' | '”' | '„' => Some('"'),
        '\'' | '‘' | '’' => Some('\''),
        _ => None,
    }
}

fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let mut text = String::new();
        let mut quoted = false;
        let mut key: Option<String> = None;
        while i < chars.len() && !chars[i].is_whitespace() {
            let c = chars[i];
            match is_quote(c) {
                // A quote opens a quoted section only at the start of a token or
                // right after `key=`; an apostrophe inside a word (don't) is literal.
                Some(kind) if text.is_empty() || (key.is_none() && text.ends_with('=')) => {
                    if !text.is_empty() {
                        text.pop();
                        key = Some(std::mem::take(&mut text));
                    }
                    let open = i;
                    i += 1;
                    let mut closed = false;
                    while i < chars.len() {
                        let c = chars[i];
                        // Inside quotes, `\"` is a quote and `\\` a backslash.
                        let escapable = |n: char| is_quote(n).is_some() || n == '\\';
                        if c == '\\' && i + 1 < chars.len() && escapable(chars[i + 1]) {
                            text.push(chars[i + 1]);
                            i += 2;
                            continue;
                        }
                        if is_quote(c) == Some(kind) {
                            closed = true;
                            break;
                        }
                        text.push(c);
                        i += 1;
                    }
                    if !closed {
                        return Err(err(open + 1, ParseErrorKind::UnterminatedQuote(kind)));
                    }
                    quoted = true;
                    i += 1;
                    break;
                }
                _ => {
                    text.push(c);
                    i += 1;
                }
            }
        }
        let column = start + 1;
        tokens.push(match key {
            Some(key) => Token::Pair {
                key,
                value: text,
                column,
            },
            None => Token::Word {
                text,
                quoted,
                column,
            },
        });
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, pos: &[&str], kv: &[(&str, &str)]) -> CommandLine {
        CommandLine {
            name: name.into(),
            positional: pos.iter().map(|s| s.to_string()).collect(),
            named: kv
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn valid_lines_parse_into_name_positionals_and_pairs() {
        let table: &[(&str, CommandLine)] = &[
            ("/help", line("help", &[], &[])),
            ("  /help  ", line("help", &[], &[])),
            ("/HELP", line("help", &[], &[])),
            ("/help kanban-off", line("help", &["kanban-off"], &[])),
            ("/kanban-off", line("kanban-off", &[], &[])),
            ("/rollback full", line("rollback", &["full"], &[])),
            ("/rollback   quick", line("rollback", &["quick"], &[])),
            (
                "/rollback\tpartial\tA",
                line("rollback", &["partial", "A"], &[]),
            ),
            (
                "/kill-switch on reason=\"prod down\"",
                line("kill-switch", &["on"], &[("reason", "prod down")]),
            ),
            (
                "/kanban-off reason=\"socket.io down\"",
                line("kanban-off", &[], &[("reason", "socket.io down")]),
            ),
            (
                "/kanban-off reason=down",
                line("kanban-off", &[], &[("reason", "down")]),
            ),
            ("/x a=b=c", line("x", &[], &[("a", "b=c")])),
            ("/x a=", line("x", &[], &[("a", "")])),
            ("/x a=\"\"", line("x", &[], &[("a", "")])),
            (
                "/x top=20 dry-run=true",
                line("x", &[], &[("top", "20"), ("dry_run", "true")]),
            ),
            ("/x dry_run=true", line("x", &[], &[("dry_run", "true")])),
            ("/x Reason=a", line("x", &[], &[("reason", "a")])),
            ("/x \"a b\"", line("x", &["a b"], &[])),
            ("/x 'a b'", line("x", &["a b"], &[])),
            ("/x \"a=b\"", line("x", &["a=b"], &[])),
            ("/x “smart quotes”", line("x", &["smart quotes"], &[])),
            (
                "/x reason=“smart quotes”",
                line("x", &[], &[("reason", "smart quotes")]),
            ),
            (
                "/x reason=‘single smart’",
                line("x", &[], &[("reason", "single smart")]),
            ),
            ("/x don't", line("x", &["don't"], &[])),
            (
                "/x reason=\"say \\\"hi\\\"\"",
                line("x", &[], &[("reason", "say \"hi\"")]),
            ),
            (
                "/x reason=\"a 'b' c\"",
                line("x", &[], &[("reason", "a 'b' c")]),
            ),
            (
                r#"/x reason="back\\slash and \" quote""#,
                line("x", &[], &[("reason", r#"back\slash and " quote"#)]),
            ),
            (
                r#"/x reason=C:\dir"#,
                line("x", &[], &[("reason", r#"C:\dir"#)]),
            ),
            ("/x \"\"", line("x", &[""], &[])),
            (
                "/x reason=\"$(rm -rf /)\"",
                line("x", &[], &[("reason", "$(rm -rf /)")]),
            ),
            (
                "/x reason=\"'; DROP TABLE x;--\"",
                line("x", &[], &[("reason", "'; DROP TABLE x;--")]),
            ),
            ("/x a;b", line("x", &["a;b"], &[])),
            ("/x @channel", line("x", &["@channel"], &[])),
            (
                "/x reason=\"ünïcödé ✓\"",
                line("x", &[], &[("reason", "ünïcödé ✓")]),
            ),
            ("/x RUN-7", line("x", &["RUN-7"], &[])),
            ("/approve RUN-7", line("approve", &["RUN-7"], &[])),
            (
                "/incident declare P0 \"db down\"",
                line("incident", &["declare", "P0", "db down"], &[]),
            ),
            ("/warroom kanban-off", line("kanban-off", &[], &[])),
            ("/warroom /kanban-off", line("kanban-off", &[], &[])),
            ("/warroom rollback full", line("rollback", &["full"], &[])),
            ("/WARROOM Rollback full", line("rollback", &["full"], &[])),
            ("/warroom", line("warroom", &[], &[])),
            (
                "/warroom reason=x",
                line("warroom", &[], &[("reason", "x")]),
            ),
            ("/x 1 2 3", line("x", &["1", "2", "3"], &[])),
            ("/x a=1 b", line("x", &["b"], &[("a", "1")])),
            ("/x b a=1", line("x", &["b"], &[("a", "1")])),
            (
                "/x key-with-dash=1",
                line("x", &[], &[("key_with_dash", "1")]),
            ),
            (
                "/x url=http://h/p?a=b",
                line("x", &[], &[("url", "http://h/p?a=b")]),
            ),
            ("/a1", line("a1", &[], &[])),
            ("/1a", line("1a", &[], &[])),
            ("/x\u{a0}y", line("x", &["y"], &[])),
            ("/x a\nb", line("x", &["a", "b"], &[])),
        ];
        for (input, want) in table {
            assert_eq!(parse(input).as_ref(), Ok(want), "input: {input:?}");
        }
    }

    /// Issue 12: an unclosed `'` said "close it with `\"`", and `/` alone said
    /// "`` is not a command name".
    #[test]
    fn errors_say_what_to_type() {
        let table: &[(&str, &str)] = &[
            (
                "/kanban-off reason='Socket down",
                "the quote opened at column 20 is never closed; close it with `'`",
            ),
            (
                "/kanban-off reason=\"Socket down",
                "the quote opened at column 20 is never closed; close it with `\"`",
            ),
            (
                "/",
                "`/` alone is not a command: type its name right after it, for example /help",
            ),
        ];
        for (input, want) in table {
            let got = parse(input).expect_err(input).to_string();
            assert!(got.starts_with(want), "{input:?}: {got}");
        }
    }

    #[test]
    fn invalid_lines_say_what_is_wrong_and_where() {
        use ParseErrorKind::*;
        let table: &[(&str, usize, ParseErrorKind)] = &[
            ("", 1, Empty),
            ("   ", 1, Empty),
            ("help", 1, MissingSlash),
            ("\"/help\"", 1, MissingSlash),
            ("/", 1, BadName("".into())),
            ("/-x", 1, BadName("-x".into())),
            ("/x_y", 1, BadName("x_y".into())),
            ("/x.y", 1, BadName("x.y".into())),
            ("/x$(id)", 1, BadName("x$(id)".into())),
            ("/x;ls", 1, BadName("x;ls".into())),
            ("/warroom $x", 10, BadName("$x".into())),
            ("/x \"abc", 4, UnterminatedQuote('"')),
            ("/x reason=\"abc", 11, UnterminatedQuote('"')),
            ("/x 'abc", 4, UnterminatedQuote('\'')),
            ("/x “abc", 4, UnterminatedQuote('"')),
            ("/x =v", 4, EmptyKey),
            ("/x =\"v\"", 4, EmptyKey),
            ("/x 1a=v", 4, BadKey("1a".into())),
            ("/x a.b=v", 4, BadKey("a.b".into())),
            ("/x $(a)=v", 4, BadKey("$(a)".into())),
            ("/x a=1 a=2", 8, DuplicateKey("a".into())),
            ("/x a=1 A=2", 8, DuplicateKey("a".into())),
            ("/x dry-run=1 dry_run=2", 14, DuplicateKey("dry_run".into())),
        ];
        for (input, column, kind) in table {
            let got = parse(input).expect_err(input);
            assert_eq!((got.column, &got.kind), (*column, kind), "input: {input:?}");
        }
    }

    #[test]
    fn overlong_input_is_refused_before_any_work() {
        let input = format!("/x {}", "a".repeat(MAX_LEN));
        assert_eq!(
            parse(&input).unwrap_err().kind,
            ParseErrorKind::TooLong(MAX_LEN)
        );
    }

    #[test]
    fn error_messages_point_at_the_column_and_the_fix() {
        let e = parse("/x reason=\"abc").unwrap_err();
        assert_eq!(
            e.to_string(),
            "the quote opened at column 11 is never closed; close it with `\"`"
        );
        assert!(parse("help").unwrap_err().to_string().contains("/help"));
    }

    #[test]
    fn no_input_panics() {
        let samples = [
            "/\"",
            "/x \\",
            "/x \"\\",
            "/x \"\\\"",
            "/x a=\"",
            "\u{0}",
            "/\u{0}",
            "/x ''''",
            "/x '",
            "/x =",
            "/x ==",
            "/🙂",
            "/x 🙂=1",
            "/x a=🙂",
            "//",
            "/ /",
            "/warroom \"x\"",
        ];
        for s in samples {
            let _ = parse(s);
        }
    }
}
