//! Long posts as several messages, for platforms that cap one message (Slack's
//! blocks ~12,000 characters in all, Discord's 2,000 of content).
//!
//! Text is cut at line ends into pieces of at most `max` characters. A code block
//! cut in two is closed at the end of one piece and reopened (with its language
//! line, e.g. ```` ```sql ````) at the start of the next, so each piece reads alone.
//! Only a single line longer than a piece is cut inside, at a space when there is
//! one, and never just after a backslash (the core's escape), so no escaped marker
//! or entity is split. Adapters render entities after splitting, so none is cut.

use super::Post;

const FENCE: &str = "```";

/// `text` in pieces of at most `max` characters (`max` ≥ 16), in order.
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    let max = max.max(16);
    let len = |s: &str| s.chars().count();
    let mut out = Vec::new();
    let mut current = String::new();
    // The fence line that opened the code block we are in (```sql), if any.
    let mut open: Option<String> = None;
    for line in text.split('\n') {
        let reserve = open.as_ref().map_or(0, |f| len(f) + len(FENCE) + 2);
        let room = max.saturating_sub(reserve + len(FENCE) + 2).max(8);
        for piece in cut_line(line, room) {
            let closing = if open.is_some() { len(FENCE) + 1 } else { 0 };
            let extra = usize::from(!current.is_empty()) + len(&piece);
            if !current.is_empty() && len(&current) + extra + closing > max {
                if open.is_some() {
                    current.push('\n');
                    current.push_str(FENCE);
                }
                out.push(std::mem::take(&mut current));
                if let Some(fence) = &open {
                    current.push_str(fence);
                }
            }
            if !current.is_empty() {
                current.push('\n');
            }
            current.push_str(&piece);
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with(FENCE) {
            open = match open {
                Some(_) => None,
                None => Some(trimmed.trim_end().to_string()),
            };
        }
    }
    if !current.is_empty() || out.is_empty() {
        out.push(current);
    }
    out
}

/// A line in pieces of at most `max` characters: at the last space that leaves a
/// piece at least half full, else at `max`, moved back off a backslash.
fn cut_line(line: &str, max: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= max {
        return vec![line.to_string()];
    }
    let mut out = Vec::new();
    let mut rest = &chars[..];
    while rest.len() > max {
        let mut take = max;
        if let Some(space) = rest[..max].iter().rposition(|&c| c == ' ') {
            if space >= max / 2 {
                take = space + 1;
            }
        }
        while take > 1 && rest[take - 1] == '\\' {
            take -= 1;
        }
        out.push(rest[..take].iter().collect());
        rest = &rest[take..];
    }
    if !rest.is_empty() {
        out.push(rest.iter().collect());
    }
    out
}

/// `post` as several posts whose text each fits `fits`, trying pieces of `max`
/// characters first and halving them while a piece does not fit (an adapter's
/// rendering may grow the text: entities, mentions). Mentions and buttons stay on
/// the first piece, which is the message edits and presses refer to; every piece
/// keeps the post's reader.
pub fn split_post(post: &Post, max: usize, fits: impl Fn(&Post) -> bool) -> Vec<Post> {
    if fits(post) {
        return vec![post.clone()];
    }
    let mut max = max;
    loop {
        let parts = parts_of(post, max);
        if max <= 64 || parts.iter().all(&fits) {
            return parts;
        }
        max /= 2;
    }
}

fn parts_of(post: &Post, max: usize) -> Vec<Post> {
    split_text(&post.text, max)
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let mut part = post.clone();
            part.text = text;
            if i > 0 {
                part.buttons.clear();
                part.mentions.clear();
            }
            part
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{Button, PostKind};

    #[test]
    fn pieces_keep_every_line_in_order_and_code_blocks_reopened() {
        let rows: Vec<String> = (0..500)
            .map(|i| format!("| row {i:04} | value |"))
            .collect();
        let text = format!("**Result**\n```sql\n{}\n```\nend", rows.join("\n"));
        let parts = split_text(&text, 2000);
        assert!(parts.len() > 3);
        for p in &parts {
            assert!(p.chars().count() <= 2000, "{}", p.chars().count());
            assert_eq!(p.matches("```").count() % 2, 0, "unbalanced: {p:.80}");
        }
        for p in &parts[1..parts.len() - 1] {
            assert!(p.starts_with("```sql\n"), "{p:.40}");
        }
        let body: Vec<&str> = parts
            .iter()
            .flat_map(|p| p.lines())
            .filter(|l| l.starts_with("| row"))
            .collect();
        assert_eq!(body, rows.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(parts.last().unwrap().ends_with("end"));
    }

    #[test]
    fn a_long_line_is_cut_at_a_space_and_never_after_a_backslash() {
        let line = format!("{} {}", "a".repeat(1500), "b\\*".repeat(400));
        let parts = split_text(&line, 1000);
        assert!(parts.iter().all(|p| p.chars().count() <= 1000));
        assert!(parts.iter().all(|p| !p.ends_with('\\')));
        assert_eq!(parts.concat().replace(' ', ""), line.replace(' ', ""));
    }

    #[test]
    fn buttons_and_mentions_stay_on_the_first_piece() {
        let mut post =
            Post::new("C1", PostKind::Approval, "x\n".repeat(3000)).with_buttons(vec![Button {
                label: "Approve".into(),
                command: "/approve RUN-1".into(),
                danger: false,
            }]);
        post.mentions = vec!["U1".into()];
        let parts = split_post(&post, 2000, |p| p.text.chars().count() <= 2000);
        assert!(parts.len() >= 3);
        assert_eq!(parts[0].buttons.len(), 1);
        assert!(parts[1..]
            .iter()
            .all(|p| p.buttons.is_empty() && p.mentions.is_empty()));
        let short = Post::new("C1", PostKind::Info, "short");
        assert_eq!(split_post(&short, 2000, |_| true), vec![short]);
    }
}
