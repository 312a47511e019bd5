//! Argument patterns: every pattern must match the whole value, and compiles
//! small enough to load at start-up in milliseconds.

use regex::Regex;

/// A compiled argument pattern: an anchored regex, plus character-count bounds when
/// the pattern was a single class under counted repetition.
#[derive(Debug, Clone)]
pub struct ArgPattern {
    re: Regex,
    min: usize,
    max: Option<usize>,
    /// For a counted class, the class alone (one character), to say which
    /// character a value may not hold.
    one: Option<Regex>,
}

impl ArgPattern {
    pub fn is_match(&self, value: &str) -> bool {
        let n = value.chars().count();
        n >= self.min && self.max.is_none_or(|m| n <= m) && self.re.is_match(value)
    }

    /// Whether [`ArgPattern::explain`] can word this pattern's rule (a counted
    /// class); otherwise the argument's help has to.
    pub fn explains_itself(&self) -> bool {
        self.one.is_some()
    }

    /// Why `value` does not match, in words: its length against the bounds, or the
    /// first character it may not hold and what it may. `None` when the pattern is
    /// not a counted class (its rule has no plain wording here).
    pub fn explain(&self, value: &str) -> Option<String> {
        let one = self.one.as_ref()?;
        let may = allowed(one);
        let n = value.chars().count();
        let chars = |n: usize| {
            if n == 1 {
                "1 character".to_string()
            } else {
                format!("{n} characters")
            }
        };
        if n < self.min {
            return Some(format!(
                "is too short: {}, at least {} ({may})",
                chars(n),
                self.min
            ));
        }
        if let Some(max) = self.max.filter(|&m| n > m) {
            return Some(format!("is too long: {}, at most {max}", chars(n)));
        }
        let bad = value
            .chars()
            .find(|c| !one.is_match(c.encode_utf8(&mut [0; 4])))?;
        Some(format!("cannot hold {}: it may hold {may}", name_char(bad)))
    }

    /// `value` without the characters the class does not take, if that leaves a
    /// value within bounds: the corrected value to suggest.
    pub fn cleaned(&self, value: &str) -> Option<String> {
        let one = self.one.as_ref()?;
        let kept: String = value
            .chars()
            .filter(|c| one.is_match(c.encode_utf8(&mut [0; 4])))
            .collect();
        let kept = kept.trim().to_string();
        (kept != value && self.is_match(&kept)).then_some(kept)
    }
}

/// What a one-character class takes, in words: "letters, digits, spaces and
/// . , : ; ( ) / # % + -". Found by asking the class, so it reads the same for
/// `\w`, `[a-zA-Z0-9]` or any other spelling.
fn allowed(one: &Regex) -> String {
    let takes = |c: char| one.is_match(c.encode_utf8(&mut [0; 4]));
    let mut parts = Vec::new();
    if ['a', 'z', 'A', 'Z'].into_iter().all(takes) {
        parts.push("letters".to_string());
    }
    if ('0'..='9').all(takes) {
        parts.push("digits".to_string());
    }
    if takes(' ') {
        parts.push("spaces".to_string());
    }
    let marks: Vec<String> = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
        .chars()
        .filter(|&c| takes(c))
        .map(String::from)
        .collect();
    if !marks.is_empty() {
        parts.push(marks.join(" "));
    }
    match parts.len() {
        0 => "nothing typed".into(),
        1 => parts.remove(0),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{} and {last}", parts.join(", "))
        }
    }
}

/// A character as a person can find it in what they typed.
fn name_char(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '`' => "a backtick".into(),
        '\n' | '\r' => "a line break".into(),
        c if c.is_control() || crate::render::escape::is_bidi_control(c) || c.is_whitespace() => {
            format!("the invisible character U+{:04X}", c as u32)
        }
        c if c.is_ascii() => format!("`{c}`"),
        c => format!("`{c}` (U+{:04X})", c as u32),
    }
}

/// Largest compiled pattern accepted; `warroom check` reports bigger ones.
const PATTERN_SIZE_LIMIT: usize = 2 << 20;

/// Compiles a pattern so that it must match the whole value.
///
/// `[\w .,-]{3,200}` is the natural way to write "a short reason", but a Unicode
/// class under a counted repetition compiles into hundreds of copies of the class
/// (seconds and hundreds of MB). The same language is "only class characters, 3 to
/// 200 of them", so that shape is compiled as `CLASS*` plus a length check.
pub fn compile_anchored(pattern: &str) -> Result<ArgPattern, regex::Error> {
    let build = |p: &str| {
        regex::RegexBuilder::new(&format!("^(?:{p})$"))
            .size_limit(PATTERN_SIZE_LIMIT)
            .build()
    };
    if let Some((class, min, max)) = counted_class(pattern) {
        return Ok(ArgPattern {
            re: build(&format!("(?:{class})*"))?,
            min,
            max,
            one: Some(build(&class)?),
        });
    }
    Ok(ArgPattern {
        re: build(pattern)?,
        min: 0,
        max: None,
        one: None,
    })
}

/// `Some((class, min, max))` when the whole pattern is one character class repeated.
fn counted_class(pattern: &str) -> Option<(String, usize, Option<usize>)> {
    use regex_syntax::hir::HirKind;
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    let mut h = &hir;
    while let HirKind::Capture(c) = h.kind() {
        h = &c.sub;
    }
    let HirKind::Repetition(rep) = h.kind() else {
        return None;
    };
    if !matches!(rep.sub.kind(), HirKind::Class(_)) {
        return None;
    }
    Some((
        rep.sub.to_string(),
        rep.min as usize,
        rep.max.map(|m| m as usize),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12: "`reason` is not accepted (allowed: `[\w .,:;()/#%+-]{3,200}`)"
    /// told nobody what was wrong. The rule in words, and the character named.
    #[test]
    fn a_value_that_does_not_fit_is_explained_in_words() {
        let reason = compile_anchored(r"[\w .,:;()/#%+-]{3,200}").expect("compiles");
        let may = "letters, digits, spaces and # % ( ) + , - . / : ; _";
        let cases = [
            (
                "socket down!",
                format!("cannot hold `!`: it may hold {may}"),
            ),
            (
                "db 🔥 hot",
                format!("cannot hold `🔥` (U+1F525): it may hold {may}"),
            ),
            ("a`b", format!("cannot hold a backtick: it may hold {may}")),
            (
                "ok\u{202E}",
                format!("cannot hold the invisible character U+202E: it may hold {may}"),
            ),
            (
                "ab",
                format!("is too short: 2 characters, at least 3 ({may})"),
            ),
            (
                &"x".repeat(201),
                "is too long: 201 characters, at most 200".to_string(),
            ),
        ];
        for (value, want) in cases {
            assert!(!reason.is_match(value), "{value}");
            assert_eq!(
                reason.explain(value).as_deref(),
                Some(want.as_str()),
                "{value}"
            );
        }
        assert_eq!(
            reason.cleaned("socket down!").as_deref(),
            Some("socket down")
        );
        assert_eq!(reason.cleaned("ab"), None);
        let other = compile_anchored(r"v\d+\.\d+").expect("compiles");
        assert_eq!(
            other.explain("1.2"),
            None,
            "no wording for a general pattern"
        );
    }
}
