//! The command-line grammar of each CLI a pack calls, as the real tool publishes it:
//! its subcommands, their flags (`--timeout=` takes a value, `--yes` does not) and how
//! many positional arguments each takes. A stand-in built with a grammar rejects what
//! the real tool rejects, with the real tool's kind of message and exit code, so a
//! runbook step that calls a fictional subcommand or flag fails its pack test
//! (issue 13: `vercel rollback --previous` passed because the stand-ins took any argv).
//!
//! Each tool names the source its grammar was read from (repository, commit, file).
//! Only the subcommands and flags runbooks (and seeds) reach for are listed; a
//! command that is real but not listed is refused as unknown, which errs on the side
//! of making a test fail.

/// One command path of a tool (`"backups restore"`), its own flags and its
/// positional argument count.
pub struct Cmd {
    pub path: &'static str,
    pub flags: &'static str,
    pub args: (u8, u8),
}

/// The messages a tool prints, `{word}` / `{flag}` / `{parent}` filled in.
pub struct Errors {
    pub unknown_command: &'static str,
    pub unknown_flag: &'static str,
    pub missing_value: &'static str,
    pub arg_count: &'static str,
    pub code: i32,
    /// A different exit code for a flag error (git's 129), else `code`.
    pub flag_code: Option<i32>,
}

pub struct Tool {
    pub name: &'static str,
    /// Flags every command takes.
    pub global: &'static str,
    pub commands: Vec<Cmd>,
    pub errors: Errors,
}

const fn cmd(path: &'static str, flags: &'static str, lo: u8, hi: u8) -> Cmd {
    Cmd {
        path,
        flags,
        args: (lo, hi),
    }
}

const RAILWAY_CTX: &str = "-s= --service= -e= --environment= -p= --project= -y --yes";
const CLAP: Errors = Errors {
    unknown_command: "error: unrecognized subcommand '{word}'\n\nUsage: railway [COMMAND]\n\nFor more information, try '--help'.",
    unknown_flag: "error: unexpected argument '{flag}' found\n\nFor more information, try '--help'.",
    missing_value: "error: a value is required for '{flag}' but none was supplied",
    arg_count: "error: unexpected argument found\n\nFor more information, try '--help'.",
    code: 2,
    flag_code: None,
};

/// Every tool with a grammar. Sources:
/// - vercel: vercel/vercel@17d9ebaf8e9b335d550dea1a243743a74edc772e (CLI 58.4.4),
///   `packages/cli/src/commands/{rollback,list,promote,deploy}/command.ts` (`deploy` is
///   the default command: `vercel --prod` is `vercel deploy --prod`),
///   `packages/cli/src/util/arg-common.ts` (global options); `rollback` with no
///   argument means `rollback status` (`rollback/index.ts`). Unknown options are
///   refused by the `arg` parser: "unknown or unexpected option: --previous".
/// - railway: railwayapp/cli@df3838bf117cfa332d0ea28e9d26405639a98b2b (5.43.1),
///   `src/commands/{status,down,redeploy,up,deployment}.rs` (clap 4: exit 2). No
///   `rollback` subcommand exists.
/// - supabase: supabase/cli@1d1e7191268e068fe9cb6aba524d1c619a9c727b,
///   `apps/cli-go/cmd/{root,backups,db}.go` (cobra). `backups list`,
///   `backups restore --timestamp`; no `db list-snapshots`, `db snapshot`,
///   `db restore`.
/// - pm2: Unitech/pm2@31adee8048dbbc1ee36a7df7cdbcaca2559708df `lib/binaries/CLI.js`
///   (commander; the catch-all `*` prints "Command not found", exit 1).
/// - pscale: planetscale/cli@1200007191e35f2bffa03917d064fac78389d356,
///   `internal/cmd/{root.go,branch/{branch,create,list}.go,backup/list.go,
///   deployrequest/{dr,create}.go}` (cobra; `cmdutil.RequiredArgs` takes at least the
///   named arguments; errors print "Error: ..." and exit 2, `FatalErrExitCode`).
///   `deploy-request create <database> <branch>` deploys into `--into`; the seed's third
///   positional `main` is not a parameter.
/// - neonctl (also installed as `neon`): neondatabase/neonctl@0ba830b5d0e8f0f584d4ae05f6c3c64327d8d626,
///   `src/index.ts` (yargs `strictCommands`, global options, exit 1),
///   `src/commands/branches.ts` (`branches`, alias `branch`: `list`, `reset <id|name>
///   --parent`, `restore <target> <source>[@(timestamp|lsn)]`). There is no
///   `--timestamp`: yargs without `.strict()` ignores it and `reset` then fails with
///   "Only resetting to parent is supported for now" (exit 1); the stand-in refuses the
///   flag itself, with the same exit code.
/// - railway `postgres pitr backup list|restore`: the same commit,
///   `src/commands/postgres/{mod,pitr}.rs` (`--service`, `--environment`, `--project`,
///   `--json` global to `postgres`; `restore <ID> --yes`).
/// - ps, netstat: man ps(1) (procps-ng; BSD options such as `aux` are words, not
///   flags), man netstat(8) (net-tools; `-tulpn`).
/// - git, npm, npx prisma, aws, systemctl, apt-get, journalctl, iptables: their published
///   manuals (git-scm.com/docs/git-{rev-parse,checkout,revert,log,archive,tag,status,push,reset},
///   docs.npmjs.com/cli/v10/commands/npm-{ci,run-script} (npm takes any `--key=value`
///   as config), prisma.io/docs/orm/reference/prisma-cli-reference#migrate-resolve,
///   awscli.amazonaws.com/v2/documentation/api/latest/reference/{s3/sync,s3/ls,s3/cp,
///   cloudfront/create-invalidation}.html, man systemctl(1), apt-get(8) (exit 100),
///   journalctl(1), iptables(8)).
pub fn tools() -> Vec<Tool> {
    vec![
        Tool {
            name: "vercel",
            global: "-h --help -v --version --cwd= -A= --local-config= -Q= --global-config= \
                     -d --debug --no-color --non-interactive -S= --scope= -t= --token= -T= --team= --api=",
            commands: vec![
                cmd("rollback", "--timeout= -y --yes", 0, 1),
                cmd("rollback status", "--timeout=", 0, 1),
                cmd("promote", "--timeout= -y --yes", 0, 1),
                cmd("deploy", "--prod -f --force --with-cache --prebuilt -y --yes --target=", 0, 1),
                cmd("list", "-a --all -m= --meta= -p= --policy= --environment= -s= --status= -N= --next= --limit= --prod -y --yes -c --confirm -F= --format= --json", 0, 1),
                cmd("ls", "-a --all -m= --meta= -p= --policy= --environment= -s= --status= -N= --next= --limit= --prod -y --yes -c --confirm -F= --format= --json", 0, 1),
            ],
            errors: Errors {
                unknown_command: "Error: The provided path “{word}” does not exist.",
                unknown_flag: "Error: unknown or unexpected option: {flag}",
                missing_value: "Error: option requires argument: {flag}",
                arg_count: "Error: Too many arguments.",
                code: 1,
                flag_code: None,
            },
        },
        Tool {
            name: "railway",
            global: "-h --help -V --version",
            commands: vec![
                cmd("status", "--json", 0, 0),
                cmd("down", RAILWAY_CTX, 0, 0),
                cmd("redeploy", concat!("-s= --service= -e= --environment= -p= --project= -y --yes", " --json --from-source"), 0, 0),
                cmd("up", concat!("-s= --service= -e= --environment= -p= --project= -y --yes", " -d --detach --no-wait -c --ci -w= --workspace= --new --name= --no-gitignore --path-as-root --verbose --json -m= --message="), 0, 1),
                cmd("deployment list", "-s= --service= -e= --environment= -p= --project= --limit= --json", 0, 0),
                cmd("deployment ls", "-s= --service= -e= --environment= -p= --project= --limit= --json", 0, 0),
                cmd("deployment redeploy", concat!("-s= --service= -e= --environment= -p= --project= -y --yes", " --json --from-source"), 0, 0),
                cmd("postgres pitr backup list", "-s= --service= -e= --environment= -p= --project= --json", 0, 0),
                cmd("postgres pitr backup restore", "-s= --service= -e= --environment= -p= --project= --json -y --yes", 1, 1),
            ],
            errors: CLAP,
        },
        Tool {
            name: "supabase",
            global: "-h --help --yes --debug --workdir= --experimental --network-id= --profile= \
                     -o= --output= --dns-resolver= --create-ticket --agent=",
            commands: vec![
                cmd("backups list", "--project-ref=", 0, 0),
                cmd("backups restore", "--project-ref= -t= --timestamp=", 0, 0),
                cmd("db dump", "--dry-run --data-only --use-copy -x= --exclude= --role-only --keep-comments -f= --file= --db-url= --linked --local -p= --password= -s= --schema=", 0, 0),
            ],
            errors: Errors {
                unknown_command: "unknown command \"{word}\" for \"supabase{parent}\"\nTry rerunning the command with --debug to troubleshoot the error.",
                unknown_flag: "unknown flag: {flag}\nTry rerunning the command with --debug to troubleshoot the error.",
                missing_value: "flag needs an argument: {flag}",
                arg_count: "unknown command \"{word}\" for \"supabase{parent}\"",
                code: 1,
                flag_code: None,
            },
        },
        Tool {
            name: "pm2",
            global: "-h --help -v --version -s --silent -m --mini-list --env= -a --update-env \
                     -f --force --no-color --only= --namespace= --attach --cwd=",
            commands: vec![
                cmd("stop", "", 1, 99),
                cmd("restart", "", 1, 99),
                cmd("start", "--watch", 0, 99),
                cmd("list", "", 0, 0),
                cmd("ls", "", 0, 0),
                cmd("status", "", 0, 0),
                cmd("logs", "--json --format --raw --err --out --lines= --timestamp --nostream --highlight", 0, 1),
            ],
            errors: Errors {
                unknown_command: "[PM2][ERROR] Command not found",
                unknown_flag: "error: unknown option '{flag}'",
                missing_value: "error: option '{flag}' argument missing",
                arg_count: "error: missing required argument",
                code: 1,
                flag_code: None,
            },
        },
        Tool {
            name: "git",
            global: "-h -C= --no-pager",
            commands: vec![
                cmd("rev-parse", "--verify -q --quiet", 1, 9),
                // `git checkout -b NEW` needs no start point; bare `git checkout` is valid too.
                cmd("checkout", "-b= -f --force -q --quiet", 0, 99),
                cmd("revert", "--no-edit -n --no-commit", 1, 9),
                cmd("log", "--oneline -n= --max-count= -#", 0, 9),
                cmd("archive", "--format= -o= --output= --prefix=", 1, 99),
                cmd("tag", "-l --list", 0, 9),
                cmd("status", "-s --short --porcelain", 0, 0),
                cmd("push", "-f --force -u --set-upstream", 0, 9),
                cmd("reset", "--hard --soft --mixed -q --quiet", 0, 1),
            ],
            errors: Errors {
                unknown_command: "git: '{word}' is not a git command. See 'git --help'.",
                unknown_flag: "error: unknown option `{flag}'",
                missing_value: "error: option `{flag}' requires a value",
                arg_count: "fatal: too many arguments",
                code: 1,
                flag_code: Some(129),
            },
        },
        Tool {
            name: "npm",
            global: "--*",
            commands: vec![
                cmd("ci", "", 0, 0),
                cmd("install", "", 0, 99),
                cmd("run", "", 1, 99),
                cmd("run-script", "", 1, 99),
            ],
            errors: Errors {
                unknown_command: "Unknown command: \"{word}\"\n\nTo see a list of supported npm commands, run:\n  npm help",
                unknown_flag: "npm error unknown flag {flag}",
                missing_value: "npm error {flag} needs a value",
                arg_count: "npm error Missing script name",
                code: 1,
                flag_code: None,
            },
        },
        Tool {
            name: "npx",
            global: "",
            commands: vec![
                cmd("prisma migrate status", "--schema=", 0, 0),
                cmd("prisma migrate resolve", "--rolled-back= --applied= --schema=", 0, 0),
            ],
            errors: Errors {
                unknown_command: "! Unknown command \"{word}\"",
                unknown_flag: "! unknown or unexpected option: {flag}",
                missing_value: "! option requires argument: {flag}",
                arg_count: "! Too many arguments",
                code: 1,
                flag_code: None,
            },
        },
        Tool {
            name: "aws",
            global: "--profile= --region= --output= --no-cli-pager --debug",
            commands: vec![
                cmd("s3 sync", "--delete --exact-timestamps --exclude= --include= --dryrun", 2, 2),
                cmd("s3 ls", "--recursive", 0, 1),
                cmd("s3 cp", "--recursive", 2, 2),
                cmd("cloudfront create-invalidation", "--distribution-id= --paths=", 0, 0),
            ],
            errors: Errors {
                unknown_command: "aws: error: argument command: Invalid choice, valid choices are: ... ('{word}')",
                unknown_flag: "Unknown options: {flag}",
                missing_value: "aws: error: argument {flag}: expected one argument",
                arg_count: "Unknown options: {word}",
                code: 252,
                flag_code: None,
            },
        },
        Tool {
            name: "systemctl",
            global: "-h --help --no-pager -q --quiet",
            commands: vec![
                cmd("show", "-p= --property=", 0, 99),
                cmd("status", "", 0, 99),
                cmd("restart", "", 1, 99),
                cmd("stop", "", 1, 99),
                cmd("start", "", 1, 99),
            ],
            errors: Errors {
                unknown_command: "Unknown command verb '{word}'.",
                unknown_flag: "systemctl: unrecognized option '{flag}'",
                missing_value: "systemctl: option '{flag}' requires an argument",
                arg_count: "Too few arguments.",
                code: 1,
                flag_code: None,
            },
        },
        Tool {
            name: "apt-get",
            global: "-h --help -y --yes --assume-yes -q --quiet",
            commands: vec![cmd("update", "", 0, 0), cmd("upgrade", "", 0, 99)],
            errors: Errors {
                unknown_command: "E: Invalid operation {word}",
                unknown_flag: "E: Command line option '{flag}' is not understood in combination with the other options",
                missing_value: "E: Option {flag}: requires an argument",
                arg_count: "E: Invalid operation {word}",
                code: 100,
                flag_code: None,
            },
        },
        Tool {
            name: "journalctl",
            global: "",
            commands: vec![cmd("", "-h --help -u= --unit= -S= --since= -U= --until= --no-pager -n= --lines= -p= --priority= -f --follow", 0, 0)],
            errors: Errors {
                unknown_command: "journalctl: This command expects no arguments ('{word}').",
                unknown_flag: "journalctl: unrecognized option '{flag}'",
                missing_value: "journalctl: option '{flag}' requires an argument",
                arg_count: "journalctl: This command expects no arguments.",
                code: 1,
                flag_code: None,
            },
        },
        Tool {
            name: "pscale",
            global: "-h --help --config= --api-url= --api-token= -f= --format= --debug \
                     --service-token-id= --service-token= --no-color --org=",
            commands: vec![
                cmd("branch create", "--from= --region= --restore= --cluster-size= --seed-data --wait --major-version= --min-storage= --max-storage=", 2, 99),
                cmd("branch list", "-w --web --page= --per-page=", 1, 99),
                cmd("backup list", "-w --web", 2, 99),
                cmd("deploy-request create", "--into= --notes= --auto-delete-branch --enable-auto-apply --disable-auto-apply", 2, 99),
            ],
            errors: Errors {
                unknown_command: "Error: unknown command \"{word}\" for \"pscale{parent}\"",
                unknown_flag: "Error: unknown flag: {flag}",
                missing_value: "Error: flag needs an argument: {flag}",
                arg_count: "Error: missing argument",
                code: 2,
                flag_code: None,
            },
        },
        Tool {
            name: "neonctl",
            global: NEON_GLOBAL,
            commands: neon_commands(),
            errors: NEON_ERRORS,
        },
        Tool {
            name: "neon",
            global: NEON_GLOBAL,
            commands: neon_commands(),
            errors: NEON_ERRORS,
        },
        Tool {
            name: "ps",
            global: "",
            commands: vec![cmd("", "-e -f -A -o= -C= -p= --pid= --sort=", 0, 1)],
            errors: Errors {
                unknown_command: "error: garbage option\n\nUsage:\n ps [options]",
                unknown_flag: "error: unknown option\n\nUsage:\n ps [options]",
                missing_value: "error: list of process IDs must follow {flag}",
                arg_count: "error: garbage option",
                code: 1,
                flag_code: None,
            },
        },
        Tool {
            name: "netstat",
            global: "",
            commands: vec![cmd("", "-t -u -l -p -n -a -tulpn -tlnp -tln", 0, 0)],
            errors: Errors {
                unknown_command: "netstat: invalid option -- '{word}'",
                unknown_flag: "netstat: invalid option -- '{flag}'",
                missing_value: "netstat: option requires an argument -- '{flag}'",
                arg_count: "netstat: invalid option -- '{word}'",
                code: 1,
                flag_code: None,
            },
        },
        Tool {
            name: "iptables",
            global: "",
            commands: vec![cmd("", "-h --help -A= -D= -I= -s= -d= -j= -p= --dport= -L -n", 0, 0)],
            errors: Errors {
                unknown_command: "Bad argument `{word}'\nTry `iptables -h' or 'iptables --help' for more information.",
                unknown_flag: "iptables v1.8.7 (nf_tables): unknown option \"{flag}\"\nTry `iptables -h' or 'iptables --help' for more information.",
                missing_value: "iptables v1.8.7 (nf_tables): option \"{flag}\" requires an argument",
                arg_count: "Bad argument `{word}'",
                code: 2,
                flag_code: None,
            },
        },
    ]
}

const NEON_GLOBAL: &str = "-o= --output= --api-host= --config-dir= --force-auth --oauth-host= \
                           --client-id= --api-key= --context-file= --color --no-color --analytics \
                           --no-analytics -h --help -v --version --project-id=";
const NEON_ERRORS: Errors = Errors {
    unknown_command: "ERROR: Unknown command: {word}",
    unknown_flag: "ERROR: Unknown argument: {flag}",
    missing_value: "ERROR: Not enough arguments following: {flag}",
    arg_count: "ERROR: Not enough non-option arguments",
    code: 1,
    flag_code: None,
};

fn neon_commands() -> Vec<Cmd> {
    ["branches", "branch"]
        .into_iter()
        .flat_map(|b| {
            let at = |c: &str| -> &'static str { Box::leak(format!("{b} {c}").into_boxed_str()) };
            [
                cmd(at("list"), "", 0, 0),
                cmd(at("reset"), "--parent --preserve-under-name=", 1, 1),
                cmd(at("restore"), "--preserve-under-name=", 2, 2),
            ]
        })
        .collect()
}

pub fn tool(name: &str) -> Option<Tool> {
    tools().into_iter().find(|t| t.name == name)
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A flag list entry as (case pattern, kind): `--timeout=` → (`--timeout`, `v`),
/// `-#` → (`-[0-9]*`, `b`: git log's `-10`), `--*` → any flag (npm's config).
fn flag_patterns(flags: &str) -> Vec<(String, char)> {
    flags
        .split_whitespace()
        .map(|f| match f {
            "-#" => ("-[0-9]*".to_string(), 'b'),
            "--*" => ("--*".to_string(), 'b'),
            f => match f.strip_suffix('=') {
                Some(name) => (q(name), 'v'),
                None => (q(f), 'b'),
            },
        })
        .collect()
}

/// `printf` of a message template with the shell variables filled in.
fn say(template: &str) -> String {
    let body = template
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "\\$")
        .replace('`', "\\`")
        .replace("{word}", "${__a}")
        .replace("{flag}", "${__f}")
        .replace("{parent}", "${__node:+ $__node}");
    format!("printf '%s\\n' \"{body}\" >&2")
}

impl Tool {
    /// POSIX sh that walks "$@" and exits as the real tool would on anything its
    /// grammar does not hold; falls through when the argv is one it accepts.
    pub fn check_script(&self) -> String {
        let e = &self.errors;
        let flag_code = e.flag_code.unwrap_or(e.code);
        let mut subs = Vec::new();
        let mut flags = Vec::new();
        let mut limits = Vec::new();
        for c in &self.commands {
            let words: Vec<&str> = c.path.split_whitespace().collect();
            for i in 0..words.len() {
                subs.push(q(&format!("{}|{}", words[..i].join(" "), words[i])));
            }
            for (pat, kind) in flag_patterns(c.flags) {
                flags.push(format!("{}\"|\"{pat}) echo {kind} ;;", q(c.path)));
            }
            limits.push(format!(
                "{}) echo '{} {}' ;;",
                q(c.path),
                c.args.0,
                c.args.1
            ));
        }
        for (pat, kind) in flag_patterns(self.global) {
            flags.push(format!("*\"|\"{pat}) echo {kind} ;;"));
        }
        subs.sort();
        subs.dedup();
        let subs = if subs.is_empty() {
            String::new()
        } else {
            format!("{}) return 0 ;;", subs.join("|"))
        };
        format!(
            r#"__sub() {{ case "$1|$2" in {subs} esac; return 1; }}
__flag() {{ case "$1|$2" in
{flags}
esac; }}
__limits() {{ case "$1" in
{limits}
*) echo none ;; esac; }}
__node=''; __pos=0; __end=0; __a=''; __f=''; __help=0
while [ $# -gt 0 ]; do
  __a="$1"; shift
  if [ $__end = 1 ]; then __pos=$((__pos+1)); continue; fi
  case "$__a" in
    --) __end=1; continue ;;
    --*=*) __f="${{__a%%=*}}"; __inline=1 ;;
    -?*) __f="$__a"; __inline=0 ;;
    *)
      if [ $__pos = 0 ] && __sub "$__node" "$__a"; then __node="${{__node:+$__node }}$__a"; continue; fi
      if [ "$(__limits "$__node")" = none ]; then {unknown_command}; exit {code}; fi
      __pos=$((__pos+1)); continue ;;
  esac
  # Help is answered whatever else the line lacks (clap, cobra, yargs alike).
  case "$__f" in --help|-h) __help=1 ;; esac
  case "$(__flag "$__node" "$__f")" in
    v) if [ $__inline = 0 ]; then if [ $# = 0 ]; then {missing_value}; exit {flag_code}; fi; shift; fi ;;
    b) ;;
    *) {unknown_flag}; exit {flag_code} ;;
  esac
done
__lim="$(__limits "$__node")"
if [ "$__lim" = none ]; then __a="${{__node##* }}"; {unknown_command}; exit {code}; fi
if [ $__help = 1 ]; then exit 0; fi
if [ $__pos -lt "${{__lim% *}}" ] || [ $__pos -gt "${{__lim#* }}" ]; then {arg_count}; exit {code}; fi
"#,
            flags = flags.join("\n"),
            limits = limits.join("\n"),
            unknown_command = say(e.unknown_command),
            unknown_flag = say(e.unknown_flag),
            missing_value = say(e.missing_value),
            arg_count = say(e.arg_count),
            code = e.code,
        )
    }
}
