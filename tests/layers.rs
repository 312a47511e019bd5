//! The layer rule of ARCHITECTURE.md, checked from the code's own imports: every
//! `crate::` path (in `use` items, re-exports and inline paths) and every `super::`
//! / `self::` import of a file in `src/`, resolved to the file that defines it.
//!
//! - No file imports another that imports it back, directly or through others.
//! - Imports run downward only: edges → application → domain → infrastructure →
//!   model. A file may import files of its own layer (without a circle) and of the
//!   layers below it.
//! - No file in `src/` is over 600 lines (the house size is about 400).
//!
//! Test modules (`#[cfg(test)]` to the end of a file, or files named `tests.rs`)
//! are not part of the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers from the top. The first matching prefix (a file, or a folder ending in
/// `/`) of `src/` decides; every file must match one.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "edge",
        &[
            "main.rs",
            "cli.rs",
            "cli/",
            "serve.rs",
            "serve/",
            "check.rs",
            "check/",
            "chat/slack.rs",
            "chat/slack/",
            "chat/discord.rs",
            "chat/discord/",
            "chat/console.rs",
            "chat/console/",
            "chat/recording.rs",
            "chat/outbox.rs",
            "chat/outbox/",
            "chat/undelivered.rs",
        ],
    ),
    ("application", &["app.rs", "app/"]),
    (
        "domain",
        &[
            "command.rs",
            "command/",
            "authz.rs",
            "authz/",
            "assess.rs",
            "assess/",
            "runbook.rs",
            "runbook/",
            "incident.rs",
            "incident/",
            "render.rs",
            "render/",
            "export.rs",
            "export/",
            "services.rs",
            "failure.rs",
        ],
    ),
    (
        "infrastructure",
        &[
            "store.rs",
            "store/",
            "actions.rs",
            "actions/",
            "config.rs",
            "config/",
            "demo.rs",
            "chat.rs",
            "chat/split.rs",
        ],
    ),
    ("model", &["model.rs", "model/"]),
];

const MAX_LINES: usize = 600;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, as a path relative to it (`app/handlers.rs`).
fn files() -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(base).expect("under src");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(&src(), &src(), &mut out);
    out.sort();
    out
}

/// The module path a file defines: `app/handlers.rs` → `["app", "handlers"]`.
fn module_of(file: &str) -> Vec<String> {
    let stem = file.trim_end_matches(".rs");
    if stem == "lib" || stem == "main" {
        return Vec::new();
    }
    stem.split('/').map(str::to_string).collect()
}

/// The file that defines the longest prefix of `path` (module segments).
fn resolve(path: &[String], known: &BTreeSet<String>) -> Option<String> {
    (1..=path.len()).rev().find_map(|n| {
        let file = format!("{}.rs", path[..n].join("/"));
        known.contains(&file).then_some(file)
    })
}

/// The production part of a file: without its test module and without comments.
fn code(text: &str) -> String {
    let body = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    body.lines()
        .map(|l| match l.trim_start().starts_with("//") {
            true => "",
            false => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Expands a use tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        return vec![path.trim_end_matches("::*").to_string()];
    };
    let prefix = tree[..open].trim_end_matches("::");
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|p| match p.as_str() {
            "self" => prefix.to_string(),
            _ => format!("{prefix}::{p}"),
        })
        .collect()
}

/// Module paths `file` imports, absolute from the crate root.
fn imports(file: &str, text: &str) -> BTreeSet<Vec<String>> {
    let here = module_of(file);
    let code = code(text);
    let mut out = BTreeSet::new();
    let absolute = |path: &str| -> Option<Vec<String>> {
        let segs: Vec<String> = path.split("::").map(|s| s.trim().to_string()).collect();
        match segs.first().map(String::as_str) {
            Some("crate") => Some(segs[1..].to_vec()),
            Some("super") => {
                let mut base = here.clone();
                let mut rest = &segs[..];
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                Some(base.into_iter().chain(rest.iter().cloned()).collect())
            }
            Some("self") => Some(
                here.iter()
                    .cloned()
                    .chain(segs[1..].iter().cloned())
                    .collect(),
            ),
            _ => None,
        }
    };
    let use_item =
        regex::Regex::new(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);").expect("regex");
    for cap in use_item.captures_iter(&code) {
        for path in expand(&cap[1]) {
            out.extend(absolute(&path));
        }
    }
    // Inline paths too (`crate::x::f()`, `super::y::g()`), not only `use` items.
    let inline =
        regex::Regex::new(r"\b(?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+").expect("regex");
    for m in inline.find_iter(&code) {
        out.extend(absolute(m.as_str()));
    }
    out
}

fn layer_of(file: &str) -> Option<(usize, &'static str)> {
    LAYERS
        .iter()
        .enumerate()
        .find_map(|(rank, (name, prefixes))| {
            prefixes
                .iter()
                .any(|p| {
                    if p.ends_with('/') {
                        file.starts_with(p)
                    } else {
                        file == *p
                    }
                })
                .then_some((rank, *name))
        })
}

/// file → files it imports (other than itself).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let all = files();
    let known: BTreeSet<String> = all.iter().cloned().collect();
    let mut g = BTreeMap::new();
    for file in all.iter().filter(|f| !f.ends_with("/tests.rs")) {
        let text = std::fs::read_to_string(src().join(file)).expect("read file");
        let deps: BTreeSet<String> = imports(file, &text)
            .iter()
            .filter_map(|p| resolve(p, &known))
            .filter(|d| d != file && d != "lib.rs")
            .collect();
        g.insert(file.clone(), deps);
    }
    g
}

/// Strongly connected components of more than one file (Tarjan).
fn circles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_file_in_src_imports_another_that_imports_it_back() {
    let found = circles(&graph());
    assert!(found.is_empty(), "import circles in src/: {found:#?}");
}

#[test]
fn imports_run_from_the_edges_down_to_the_model_never_up() {
    let mut upward = Vec::new();
    for (file, deps) in graph() {
        if file == "lib.rs" {
            continue;
        }
        let (rank, layer) = layer_of(&file).unwrap_or_else(|| {
            panic!("src/{file} is in no layer: add it to LAYERS and ARCHITECTURE.md")
        });
        for dep in deps {
            let (dep_rank, dep_layer) =
                layer_of(&dep).unwrap_or_else(|| panic!("src/{dep} is in no layer"));
            if dep_rank < rank {
                upward.push(format!(
                    "src/{file} ({layer}) imports src/{dep} ({dep_layer})"
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that run up a layer:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_file_in_src_is_over_six_hundred_lines() {
    let long: Vec<String> = files()
        .into_iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(src().join(&f))
                .expect("read")
                .lines()
                .count();
            (n > MAX_LINES).then(|| format!("src/{f}: {n} lines"))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by concern:\n{}",
        long.join("\n")
    );
}

/// The checker itself must see what it claims to: a circle and an upward import
/// in a made-up pair of files are found.
#[test]
fn the_checker_finds_a_circle_and_resolves_use_trees() {
    let known: BTreeSet<String> = ["a.rs", "a/b.rs", "c.rs"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let paths = imports(
        "a/b.rs",
        "use crate::{c::X, a::{self, Y}};\nuse super::Z;\nfn f() { crate::c::g(); }\n",
    );
    let files: BTreeSet<String> = paths.iter().filter_map(|p| resolve(p, &known)).collect();
    assert_eq!(
        files,
        ["a.rs", "c.rs"].iter().map(|s| s.to_string()).collect()
    );
    let g: BTreeMap<String, BTreeSet<String>> = [
        (
            "a.rs".to_string(),
            ["c.rs".to_string()].into_iter().collect(),
        ),
        (
            "c.rs".to_string(),
            ["a.rs".to_string()].into_iter().collect(),
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        circles(&g),
        vec![vec!["a.rs".to_string(), "c.rs".to_string()]]
    );
    assert_eq!(
        layer_of("app/handlers/status.rs").map(|l| l.1),
        Some("application")
    );
    assert_eq!(layer_of("chat.rs").map(|l| l.1), Some("infrastructure"));
    assert_eq!(layer_of("chat/slack/web.rs").map(|l| l.1), Some("edge"));
}
