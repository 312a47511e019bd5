//! The one Markdown dialect the core writes (`**bold**`, `_italic_`, `` `code` ``,
//! fenced blocks, backslash escapes), rendered for a terminal: bold as bold on a
//! terminal that shows it, plain elsewhere (a pipe, a file); code spans without their
//! backticks; escapes undone; and no zero-width space, so what is shown can be
//! copied and typed back. (A terminal has no mentions to break: the platforms'
//! adapters keep the ZWSP; see `render::escape`.)

const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

pub fn render(text: &str, ansi: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fenced = false;
    let mut first = true;
    for line in text.split('\n') {
        if line.trim_start().starts_with("```") {
            // The fence itself is noise on a terminal; its contents are shown as
            // they are.
            fenced = !fenced;
            continue;
        }
        if !first {
            out.push('\n');
        }
        first = false;
        if fenced {
            out.push_str(&line.replace('\u{200B}', ""));
        } else {
            inline(line, ansi, &mut out);
        }
    }
    out
}

fn inline(line: &str, ansi: bool, out: &mut String) {
    let chars: Vec<char> = line.chars().collect();
    let mut bold = false;
    let mut code = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\u{200B}' => {}
            '\\' if !code && chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) => {
                out.push(chars[i + 1]);
                i += 1;
            }
            '`' => code = !code,
            '*' if !code && chars.get(i + 1) == Some(&'*') => {
                bold = !bold;
                if ansi {
                    out.push_str(if bold { BOLD } else { RESET });
                }
                i += 1;
            }
            c => out.push(c),
        }
        i += 1;
    }
    if bold && ansi {
        out.push_str(RESET);
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    /// Issue 12: `/help` showed raw `**bold**` on the console, and `owner=@x` held a
    /// zero-width space, so the copied line failed.
    #[test]
    fn bold_code_and_escapes_are_rendered_not_shown() {
        assert_eq!(
            render("**RUN-3** needs `/approve RUN-3`", false),
            "RUN-3 needs /approve RUN-3"
        );
        assert_eq!(render("**RUN-3** done", true), "\x1b[1mRUN-3\x1b[0m done");
        assert_eq!(
            render("a \\*not bold\\* \\_x\\_", false),
            "a *not bold* _x_"
        );
        assert_eq!(render("owner=@\u{200B}x", false), "owner=@x");
        assert_eq!(render("U_ONCALL company_id", false), "U_ONCALL company_id");
    }

    #[test]
    fn fenced_blocks_are_shown_as_they_are() {
        let md = "**Rows**\n```\nid | **name**\n1  | `a`\n```\nend";
        assert_eq!(render(md, false), "Rows\nid | **name**\n1  | `a`\nend");
    }

    #[test]
    fn an_unclosed_bold_does_not_leave_the_terminal_bold() {
        assert_eq!(render("**open", true), "\x1b[1mopen\x1b[0m");
    }
}
