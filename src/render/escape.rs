//! Escaping user text for chat, so it can neither mention (`@channel`, `<!here>`,
//! `@everyone`) nor break the surrounding formatting.

/// U+200B ZERO WIDTH SPACE: placed after `@` it stops every platform's mention parser
/// while reading the same to a person.
const ZWSP: char = '\u{200B}';

/// Escapes a user-supplied value for Markdown (console, Discord, the text the Slack
/// adapter converts, and the exported post-mortem). Newlines become spaces and a
/// leading `#`, `>`, `-`, `+` or `=` is escaped, so a value can start neither a
/// heading nor a bullet item nor a quote; bidirectional controls are replaced, so it
/// cannot reorder what is shown around it.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let chars: Vec<char> = s.chars().collect();
    let lead = chars.iter().take_while(|c| c.is_whitespace()).count();
    // The character that would open a heading, a bullet item or a setext
    // underline at the start of a line. (`1.` is left alone: step names and
    // checklist items are numbered, and a numbered line spoofs nothing.)
    let opens_block = matches!(chars.get(lead), Some('#' | '-' | '+' | '=')).then_some(lead);
    for (i, &c) in chars.iter().enumerate() {
        // `_` inside a word (U_ONCALL, company_id) formats nothing; only at a word
        // edge can it open or close emphasis.
        let inner_underscore = c == '_'
            && i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        match c {
            '_' if inner_underscore => out.push(c),
            '\\' | '*' | '_' | '`' | '~' | '|' | '<' | '>' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c if opens_block == Some(i) => {
                out.push('\\');
                out.push(c);
            }
            c if is_bidi_control(c) => out.push(REPLACEMENT),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    neutralize_mentions(&out)
}

/// U+FFFD REPLACEMENT CHARACTER, shown where a bidirectional control was.
const REPLACEMENT: char = '\u{FFFD}';

/// The embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069):
/// they reorder how the text around them is displayed ("txt.exe" shown as
/// "exe.txt").
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Breaks every mention form (`@x`, `<!x>`, `<@x>`, `<#x>`) and replaces
/// bidirectional controls, without otherwise changing the text. Every post passes
/// through it, whatever its source (step output, SQL rows, program output).
/// Idempotent.
pub fn neutralize_mentions(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if is_bidi_control(c) {
            out.push(REPLACEMENT);
            continue;
        }
        out.push(c);
        let is_mention_start =
            c == '@' || (c == '<' && matches!(chars.peek(), Some('!' | '@' | '#')));
        if is_mention_start && chars.peek() != Some(&ZWSP) {
            out.push(ZWSP);
        }
    }
    out
}

/// A user value quoted inside a bot-authored message: shortened, on one line, no
/// backticks, no mentions.
pub fn inline_code(s: &str) -> String {
    let mut one_line: String = s
        .chars()
        .map(|c| if c.is_control() || c == '`' { ' ' } else { c })
        .take(80)
        .collect();
    if s.chars().count() > 80 {
        one_line.push('…');
    }
    neutralize_mentions(&one_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (security review): `what_happened="# Fake heading"` became a
    /// heading in stakeholder posts, and U+202E passed into posts and exports.
    #[test]
    fn a_value_can_start_no_heading_list_or_quote_and_cannot_reorder_text() {
        let cases = [
            ("# Fake heading", "\\# Fake heading"),
            ("  ## two", "  \\## two"),
            ("- item", "\\- item"),
            ("+ item", "\\+ item"),
            ("1. Health endpoint", "1. Health endpoint"),
            ("=== rule", "\\=== rule"),
            ("> quote", "\\> quote"),
            ("a - b # c 1. d", "a - b # c 1. d"),
            ("2026 was fine", "2026 was fine"),
            ("invoice\u{202E}fdp.exe", "invoice\u{FFFD}fdp.exe"),
            ("\u{2066}x\u{2069}", "\u{FFFD}x\u{FFFD}"),
        ];
        for (raw, want) in cases {
            assert_eq!(markdown(raw), want, "{raw:?}");
        }
        assert_eq!(neutralize_mentions("a\u{202D}b"), "a\u{FFFD}b");
    }

    #[test]
    fn mentions_never_survive_escaping() {
        let attacks = [
            "@channel",
            "@here",
            "@everyone",
            "<!channel>",
            "<!here>",
            "<@U123>",
            "<#C123>",
            "hey @channel look",
            "@\u{200B}channel",
        ];
        for a in attacks {
            for out in [markdown(a), neutralize_mentions(a), inline_code(a)] {
                for bad in ["@channel", "@here", "@everyone", "<!", "<@", "<#"] {
                    assert!(
                        !out.contains(bad),
                        "{a:?} escaped to {out:?} still has {bad}"
                    );
                }
            }
        }
    }

    #[test]
    fn formatting_cannot_be_broken() {
        assert_eq!(markdown("**bold** _x_"), "\\*\\*bold\\*\\* \\_x\\_");
        assert_eq!(markdown("a\n- fake item\r\n"), "a - fake item  ");
        assert_eq!(markdown("`code`"), "\\`code\\`");
        assert_eq!(markdown("[link](http://x)"), "\\[link\\](http://x)");
        assert_eq!(markdown("plain text, 12.5% (ok)"), "plain text, 12.5% (ok)");
        assert_eq!(markdown("U_ONCALL company_id"), "U_ONCALL company_id");
        assert_eq!(markdown("_lead_ x_"), "\\_lead\\_ x\\_");
    }

    #[test]
    fn neutralizing_is_idempotent() {
        let once = neutralize_mentions("@here <!channel>");
        assert_eq!(neutralize_mentions(&once), once);
    }

    #[test]
    fn inline_code_shortens_and_flattens() {
        let long = "x".repeat(100);
        assert_eq!(inline_code(&long).chars().count(), 81);
        assert_eq!(inline_code("a`b\nc"), "a b c");
    }
}
