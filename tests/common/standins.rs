//! Stand-in executables for the CLIs runbooks call (`pm2`, `git`, `vercel`, ...): small
//! scripts on a private PATH that record their exact argv and answer as told.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

pub struct StandIns {
    pub dir: tempfile::TempDir,
    log: PathBuf,
}

impl StandIns {
    pub fn new() -> StandIns {
        let dir = tempfile::tempdir().expect("stand-in dir");
        let log = dir.path().join("argv.log");
        std::fs::write(&log, "").expect("log");
        StandIns { dir, log }
    }

    /// A stand-in `name` that records its argv, prints `stdout` and exits `code`.
    /// A tool with a published grammar (`grammar::tools`) first refuses what the
    /// real tool refuses, with its message and exit code.
    pub fn add(&self, name: &str, stdout: &str, code: i32) -> &Self {
        self.add_answering(name, stdout, code, &[])
    }

    /// The same, answering differently the first time an argument equals a word:
    /// `("db:health-check", 1, "ECONNREFUSED")` fails the first health check (the
    /// database is down), and every later one answers as the stand-in otherwise does.
    pub fn add_answering(
        &self,
        name: &str,
        stdout: &str,
        code: i32,
        once: &[(String, i32, String)],
    ) -> &Self {
        let check = super::grammar::tool(name)
            .map(|t| t.check_script())
            .unwrap_or_default();
        let quote = |s: &str| s.replace('\'', "'\\''");
        // Chosen before the grammar check, which consumes "$@"; answered after it.
        let mut answers = String::from("__once=''\n");
        for (i, (word, code, out)) in once.iter().enumerate() {
            let mark = self.dir.path().join(format!(".{name}.answered.{i}"));
            answers.push_str(&format!(
                "if [ -z \"$__once\" ] && [ ! -e '{m}' ]; then for __w in \"$@\"; do if [ \"$__w\" = '{}' ]; then : > '{m}'; __once={i}; __once_out='{}'; __once_code={code}; break; fi; done; fi\n",
                quote(word),
                quote(out),
                m = mark.display(),
            ));
        }
        let answer =
            "if [ -n \"$__once\" ]; then printf '%s' \"$__once_out\"; exit \"$__once_code\"; fi\n";
        self.script(
            name,
            &format!(
                "{answers}{check}{answer}printf '%s' '{}'\nexit {code}",
                quote(stdout)
            ),
        )
    }

    /// A stand-in that sleeps (to test timeouts); it records a second line when it
    /// wakes, which a killed process never does.
    pub fn add_sleeper(&self, name: &str, seconds: u32) -> &Self {
        self.script(
            name,
            &format!(
                "sleep {seconds}\nprintf '%s\\036' 'WOKE' >> '{}'",
                self.log.display()
            ),
        )
    }

    fn script(&self, name: &str, body: &str) -> &Self {
        self.script_at(&self.dir.path().join(name), body);
        self
    }

    /// An executable at any path (a repository's `scripts/restore.sh`) that records
    /// its argv in the same log, so `calls()` keeps the order across programs, then
    /// runs `body`.
    pub fn script_at(&self, path: &std::path::Path, body: &str) {
        let text = format!(
            "#!/bin/sh\n{{ printf '%s\\037' \"$(basename \"$0\")\" \"$@\"; printf '\\036'; }} >> '{}'\n{body}\n",
            self.log.display()
        );
        std::fs::write(path, text).expect("write stand-in");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// Every call so far: program name then its arguments, exactly as received.
    pub fn calls(&self) -> Vec<Vec<String>> {
        let raw = std::fs::read_to_string(&self.log).unwrap_or_default();
        raw.split('\u{1e}')
            .filter(|r| !r.is_empty())
            .map(|r| {
                r.split('\u{1f}')
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .collect()
    }

    /// Calls of one program, arguments only.
    pub fn calls_of(&self, name: &str) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|c| c.first().map(String::as_str) == Some(name))
            .map(|c| c[1..].to_vec())
            .collect()
    }

    pub fn path(&self) -> String {
        self.dir.path().display().to_string()
    }
}
