//! A real headless Chromium (Debian's `chromium`, which `scripts/test` installs),
//! driven from the command line only: `--dump-dom` prints the DOM after the page
//! loaded, `--screenshot=FILE` saves what it drew (Chromium's headless mode,
//! chromium.googlesource.com/chromium/src/+/main/headless/README.md). No crate, no
//! DevTools protocol. Each call gets a fresh profile and is bounded in time.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub fn binary() -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        for name in ["chromium", "chromium-browser"] {
            let p = PathBuf::from(dir).join(name);
            if p.exists() {
                return p;
            }
        }
    }
    panic!("chromium is not installed: ./scripts/test installs it (apt-get install chromium)");
}

async fn run(extra: &[String], url: &str) -> std::process::Output {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut cmd = tokio::process::Command::new(binary());
    cmd.arg("--headless")
        // Tests run as root in CI, where Chromium's sandbox cannot start.
        .arg("--no-sandbox")
        .arg("--disable-gpu")
        .arg("--disable-dev-shm-usage")
        .arg("--no-first-run")
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("chromium finishes within 90 s")
        .expect("chromium starts")
}

/// The DOM of `url` once loaded, serialized.
pub async fn dump_dom(url: &str) -> String {
    let out = run(&["--dump-dom".into()], url).await;
    assert!(
        out.status.success(),
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A PNG of `url` drawn `width` CSS pixels wide.
pub async fn screenshot(url: &str, file: &Path, width: u32, height: u32) {
    let out = run(
        &[
            format!("--screenshot={}", file.display()),
            format!("--window-size={width},{height}"),
            "--hide-scrollbars".into(),
        ],
        url,
    )
    .await;
    let png = std::fs::read(file).unwrap_or_default();
    assert!(
        out.status.success() && png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "chromium --screenshot wrote no PNG: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The text of a serialized DOM: tags dropped, the five entities read back.
pub fn text(dom: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in dom.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
