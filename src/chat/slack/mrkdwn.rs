//! The core's Markdown as Slack `mrkdwn`.
//!
//! The core writes one dialect for every platform: `**bold**`, `_italic_`, `` `code` ``,
//! fenced code blocks, `- ` lists and `#` headings, with user text backslash-escaped
//! (`render::escape::markdown`). Slack reads another: `*bold*`, no escapes, no
//! headings, and `&`, `<`, `>` as the only control characters. This module converts
//! one into the other and owns the rules that keep user text inert there:
//!
//! - `&`, `<` and `>` always become entities, so `<!channel>` typed in a reason is
//!   shown, never parsed (the core has already broken it with a zero-width space).
//! - An escaped formatting character (`\*`, `\_`, `\~`, `` \` ``) is shown with a zero
//!   width space on each side: Slack opens and closes formatting only at word
//!   boundaries, so it can do neither.
//! - Mentions are never text: the adapter adds `<@U…>` itself, after conversion.

const ZWSP: char = '\u{200B}';

/// Converts a whole message.
pub fn from_markdown(md: &str) -> String {
    let mut out = String::with_capacity(md.len() + 16);
    let mut in_code = false;
    for (i, line) in md.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            // Slack has no language tags: "```sql" would show "sql" as code.
            out.push_str(&line[..line.len() - trimmed.len()]);
            out.push_str("```");
            if !in_code {
                out.push_str(&entities(
                    trimmed
                        .trim_start_matches('`')
                        .trim_start_matches(|c: char| c.is_alphanumeric() || c == '-' || c == '+'),
                ));
            }
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str(&entities(line));
            continue;
        }
        out.push_str(&convert_line(line));
    }
    out
}

fn convert_line(line: &str) -> String {
    let indent = &line[..line.len() - line.trim_start().len()];
    let rest = line.trim_start();
    if let Some(heading) = heading(rest) {
        return format!("{indent}*{}*", inline(heading));
    }
    if let Some(item) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("* ")) {
        return format!("{indent}• {}", inline(item));
    }
    format!("{indent}{}", inline(rest))
}

fn heading(s: &str) -> Option<&str> {
    let hashes = s.chars().take_while(|&c| c == '#').count();
    if (1..=6).contains(&hashes) {
        s[hashes..].strip_prefix(' ').map(str::trim)
    } else {
        None
    }
}

/// `&`, `<`, `>` as Slack's entities, and nothing else changed.
pub fn entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_entity(&mut out, c);
    }
    out
}

fn push_entity(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        c => out.push(c),
    }
}

fn inline(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() && is_escapable(chars[i + 1]) => {
                let lit = chars[i + 1];
                if matches!(lit, '*' | '_' | '~' | '`') {
                    out.push(ZWSP);
                    out.push(lit);
                    out.push(ZWSP);
                } else {
                    push_entity(&mut out, lit);
                }
                i += 2;
            }
            '`' => {
                // Inline code is copied as is, up to its closing backtick.
                match chars[i + 1..].iter().position(|&n| n == '`') {
                    Some(len) => {
                        out.push('`');
                        for &k in &chars[i + 1..i + 1 + len] {
                            push_entity(&mut out, k);
                        }
                        out.push('`');
                        i += len + 2;
                    }
                    None => {
                        out.push('`');
                        i += 1;
                    }
                }
            }
            '*' if chars.get(i + 1) == Some(&'*') => {
                out.push('*');
                i += 2;
            }
            '~' if chars.get(i + 1) == Some(&'~') => {
                out.push('~');
                i += 2;
            }
            c => {
                push_entity(&mut out, c);
                i += 1;
            }
        }
    }
    out
}

/// Exactly what `escape::markdown` escapes; any other backslash is the text's own.
fn is_escapable(c: char) -> bool {
    matches!(
        c,
        '\\' | '*' | '_' | '`' | '~' | '|' | '<' | '>' | '[' | ']'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::escape;

    #[test]
    fn formatting_converts_to_mrkdwn() {
        let table = [
            ("**INCIDENT RESOLVED**", "*INCIDENT RESOLVED*"),
            ("**Issue:** socket down", "*Issue:* socket down"),
            ("_italic_ stays", "_italic_ stays"),
            ("~~gone~~", "~gone~"),
            ("- 14:02 - flag off", "• 14:02 - flag off"),
            ("  - nested", "  • nested"),
            ("## Timeline", "*Timeline*"),
            ("#hashtag is not a heading", "#hashtag is not a heading"),
            ("`a < b && c`", "`a &lt; b &amp;&amp; c`"),
            ("x > 1 & y < 2", "x &gt; 1 &amp; y &lt; 2"),
            ("COUNT(*) stays", "COUNT(*) stays"),
            ("U_ONCALL company_id", "U_ONCALL company_id"),
            ("", ""),
        ];
        for (md, want) in table {
            assert_eq!(from_markdown(md), want, "{md:?}");
        }
    }

    #[test]
    fn code_blocks_keep_their_content_and_lose_their_language() {
        let md = "**Rows**\n```sql\nSELECT * FROM t WHERE a < 2\n**not bold**\n```\ndone";
        assert_eq!(
            from_markdown(md),
            "*Rows*\n```\nSELECT * FROM t WHERE a &lt; 2\n**not bold**\n```\ndone"
        );
    }

    #[test]
    fn user_text_can_neither_mention_nor_format() {
        let attacks = [
            "<!channel> now",
            "<!here|here>",
            "<@U123>",
            "<#C123>",
            "@channel",
            "*bold* _it_ ~st~ `code`",
            "a & b <https://evil.example|click>",
        ];
        for attack in attacks {
            // As the core hands it over: escaped, then neutralized again on send.
            let core =
                escape::neutralize_mentions(&format!("reason: {}", escape::markdown(attack)));
            let out = from_markdown(&core);
            assert!(!out.contains('<'), "{attack:?} → {out:?}");
            assert!(!out.contains('>') || out.contains("&gt;"), "{out:?}");
            for marker in ['*', '_', '~', '`'] {
                for (i, _) in out.match_indices(marker) {
                    let before = out[..i].chars().next_back();
                    let after = out[i + marker.len_utf8()..].chars().next();
                    assert!(
                        before == Some(ZWSP) && after == Some(ZWSP),
                        "{attack:?} → {out:?}: {marker} could format"
                    );
                }
            }
        }
    }

    #[test]
    fn escapes_of_plain_characters_just_drop_the_backslash() {
        assert_eq!(from_markdown("a\\[b\\] c\\|d \\\\"), "a[b] c|d \\");
    }
}
