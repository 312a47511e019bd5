//! The loaded command set: every spec under `commands/` plus the matrix, indexed by
//! name and subcommand. Loading is strict; `check` reports every problem with its line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::parse::CommandLine;
use super::pattern::compile_anchored;
use super::spec::{CommandSpec, SpecFile};
use crate::authz::Matrix;
use crate::config::line_of;

/// The file holding the authorization matrix, inside the commands directory.
pub const MATRIX_FILE: &str = "matrix.toml";
/// The checklists file, beside the matrix.
pub const CHECKLISTS_FILE: &str = "checklists.toml";

/// A problem in a loaded file, reported as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// What a regex error says, on one line. The regex crate spreads a syntax error over
/// several lines (the pattern, a caret, then `error: ...`); issue 12: only the
/// first, "regex parse error:", was shown.
pub fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map_or_else(|| first_line(&text).to_string(), str::to_string)
}

/// Line of the first occurrence of `needle` in `source`, or 1.
pub fn find_line(source: &str, needle: &str) -> usize {
    source.find(needle).map_or(1, |i| line_of(source, i))
}

/// A checklist of `commands/checklists.toml`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    pub title: String,
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecklistsFile {
    #[serde(default)]
    checklists: BTreeMap<String, Checklist>,
}

pub struct Catalog {
    pub matrix: Matrix,
    pub checklists: BTreeMap<String, Checklist>,
    /// name -> (sub or "") -> spec
    commands: BTreeMap<String, BTreeMap<String, CommandSpec>>,
    /// Raw text of every loaded file, by path, for locating problems.
    pub sources: BTreeMap<String, String>,
    /// Names of the built-in commands (the application's handlers), which no
    /// runbook may take; known here only as names.
    reserved: Vec<String>,
}

/// What a command line resolved to.
pub enum Lookup<'a> {
    Spec {
        spec: &'a CommandSpec,
        /// Positional words after the subcommand.
        rest: Vec<String>,
    },
    /// The name exists but the subcommand is missing or unknown.
    NeedsSub {
        name: String,
        subs: Vec<String>,
        given: Option<String>,
    },
    Unknown {
        suggestion: Option<String>,
    },
}

impl Catalog {
    /// Loads `dir`. Files that fail to parse are reported and skipped, so `check` can
    /// list every problem at once; the caller decides whether problems are fatal.
    /// `reserved` are the built-in command names (`app::handlers::NAMES`).
    pub fn load(dir: &Path, reserved: &[&str]) -> (Option<Catalog>, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut sources = BTreeMap::new();
        let matrix_path = dir.join(MATRIX_FILE);
        let matrix = match read(&matrix_path, &mut problems, &mut sources) {
            Some(text) => match toml::from_str::<Matrix>(&text) {
                Ok(m) => Some(m),
                Err(e) => {
                    problems.push(toml_problem(&matrix_path, &text, &e));
                    None
                }
            },
            None => None,
        };
        let mut files = Vec::new();
        collect_toml(dir, &mut files);
        let checklists_path = dir.join(CHECKLISTS_FILE);
        let checklists = if checklists_path.exists() {
            match read(&checklists_path, &mut problems, &mut sources)
                .map(|t| (toml::from_str::<ChecklistsFile>(&t), t))
            {
                Some((Ok(f), _)) => f.checklists,
                Some((Err(e), text)) => {
                    problems.push(toml_problem(&checklists_path, &text, &e));
                    BTreeMap::new()
                }
                None => BTreeMap::new(),
            }
        } else {
            BTreeMap::new()
        };
        files.retain(|p| p != &matrix_path && p != &checklists_path);
        files.sort();
        let mut commands: BTreeMap<String, BTreeMap<String, CommandSpec>> = BTreeMap::new();
        for path in files {
            let Some(text) = read(&path, &mut problems, &mut sources) else {
                continue;
            };
            let file: SpecFile = match toml::from_str(&text) {
                Ok(f) => f,
                Err(e) => {
                    problems.push(toml_problem(&path, &text, &e));
                    continue;
                }
            };
            let shown = path.display().to_string();
            let mut patterns = Vec::new();
            for arg in &file.args {
                patterns.push(match arg.pattern.as_deref().map(compile_anchored) {
                    Some(Ok(re)) => Some(re),
                    Some(Err(e)) => {
                        problems.push(Problem {
                            file: shown.clone(),
                            line: find_line(&text, arg.pattern.as_deref().unwrap_or_default()),
                            message: format!(
                                "argument `{}`: invalid pattern `{}`: {}",
                                arg.name,
                                arg.pattern.as_deref().unwrap_or_default(),
                                regex_error(&e)
                            ),
                        });
                        None
                    }
                    None => None,
                });
            }
            let spec = CommandSpec {
                file,
                path: shown.clone(),
                patterns,
            };
            let sub = spec.file.command.sub.clone().unwrap_or_default();
            let by_sub = commands.entry(spec.file.command.name.clone()).or_default();
            if let Some(first) = by_sub.get(&sub) {
                problems.push(Problem {
                    file: shown,
                    line: find_line(&text, "name"),
                    message: format!(
                        "duplicate command /{} (also in {})",
                        spec.full_name(),
                        first.path
                    ),
                });
                continue;
            }
            by_sub.insert(sub, spec);
        }
        let catalog = matrix.map(|matrix| Catalog {
            matrix,
            checklists,
            commands,
            sources,
            reserved: reserved.iter().map(|r| r.to_string()).collect(),
        });
        (catalog, problems)
    }

    /// Lays the deployment's `[vars]` over every command's own.
    pub fn with_vars(mut self, vars: &BTreeMap<String, String>) -> Catalog {
        for spec in self.commands.values_mut().flat_map(|m| m.values_mut()) {
            spec.file
                .vars
                .extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        self
    }

    pub fn specs(&self) -> impl Iterator<Item = &CommandSpec> {
        self.commands.values().flat_map(|m| m.values())
    }

    /// Finds the spec a line names, consuming the subcommand word.
    pub fn lookup(&self, line: &CommandLine) -> Lookup<'_> {
        let Some(by_sub) = self.commands.get(&line.name) else {
            return Lookup::Unknown {
                suggestion: self.suggest(&line.name),
            };
        };
        if let Some(spec) = by_sub.get("") {
            return Lookup::Spec {
                spec,
                rest: line.positional.clone(),
            };
        }
        let given = line.positional.first().map(|s| s.to_ascii_lowercase());
        match given.as_deref().and_then(|g| by_sub.get(g)) {
            Some(spec) => Lookup::Spec {
                spec,
                rest: line.positional[1..].to_vec(),
            },
            None => Lookup::NeedsSub {
                name: line.name.clone(),
                subs: by_sub.keys().cloned().collect(),
                given,
            },
        }
    }

    /// All specs with this name (one per subcommand).
    pub fn family(&self, name: &str) -> Vec<&CommandSpec> {
        self.commands
            .get(name)
            .map(|m| m.values().collect())
            .unwrap_or_default()
    }

    /// Whether `name` is a built-in command's.
    pub fn is_reserved(&self, name: &str) -> bool {
        self.reserved.iter().any(|r| r == name)
    }

    /// The closest known name, for "did you mean".
    pub fn suggest(&self, name: &str) -> Option<String> {
        let names = self
            .commands
            .keys()
            .map(String::as_str)
            .chain(self.reserved.iter().map(String::as_str));
        names
            .map(|n| (edit_distance(name, n), n))
            .filter(|(d, n)| *d <= 2.max(n.len() / 3))
            .min()
            .map(|(_, n)| n.to_string())
    }
}

fn read(
    path: &Path,
    problems: &mut Vec<Problem>,
    sources: &mut BTreeMap<String, String>,
) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            sources.insert(path.display().to_string(), text.clone());
            Some(text)
        }
        Err(e) => {
            problems.push(Problem {
                file: path.display().to_string(),
                line: 1,
                message: format!("cannot read: {e}"),
            });
            None
        }
    }
}

fn toml_problem(path: &Path, text: &str, e: &toml::de::Error) -> Problem {
    Problem {
        file: path.display().to_string(),
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        message: first_line(e.message()).to_string(),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_toml(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kanban-of", "kanban-off"), 1);
        assert_eq!(edit_distance("rollbak", "rollback"), 1);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
