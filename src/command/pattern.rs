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
}

impl ArgPattern {
    pub fn is_match(&self, value: &str) -> bool {
        let n = value.chars().count();
        n >= self.min && self.max.is_none_or(|m| n <= m) && self.re.is_match(value)
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
        });
    }
    Ok(ArgPattern {
        re: build(pattern)?,
        min: 0,
        max: None,
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
