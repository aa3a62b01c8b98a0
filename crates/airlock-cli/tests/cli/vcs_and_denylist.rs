//! Version-control internals, the deny-list's names, and what a denial
//! says: attacks that worked on b2782b7, each named after what it tries.
//! Real `airlock`, the `adversary` guest, real git repositories and, for
//! commands, real bubblewrap.
//!
//! The adversary prints one line per workspace call: `ok: …` or
//! `err: <kind>|<capability>|<path>|<reason>`.
#![cfg(unix)]

use crate::support::{airlock, airlock_command, describe, text};
use airlock_tests::{guests, workspace};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A credential in a remote URL, as `git clone https://user:token@…` leaves it.
const TOKEN: &str = "ghp_A2planted0123456789abcdefCREDENTIAL";
/// The content of the committed `.env`.
const ENV_SECRET: &str = "DATABASE_PASSWORD=committed-by-mistake-A2";
/// What a skill is told about version-control internals.
const VCS_REASON: &str = "version-control internals hold every committed secret and credential URLs; skills never read them; commands see `.git` read-only";

/// Read the workspace; commands `cat`, `git` and `bash` run without asking.
const PROFILE: &str = r#"name = "vcs-attacks"
[[grant]]
path = "."
access = "read"
[commands.programs]
cat = "allow"
git = "allow"
bash = "allow"
[commands]
timeout-seconds = 30
"#;

struct Case {
    home: PathBuf,
    ws: PathBuf,
    profile: PathBuf,
    _dirs: Vec<tempfile::TempDir>,
}

impl Case {
    fn new(files: &[(&str, &str)]) -> Self {
        Self::with_profile(files, PROFILE)
    }

    fn with_profile(files: &[(&str, &str)], profile_toml: &str) -> Self {
        let ws = workspace(files);
        let other = tempfile::tempdir().expect("profile folder");
        let profile = other.path().join("vcs-attacks.toml");
        std::fs::write(&profile, profile_toml).expect("profile");
        Self {
            home: other.path().join("home"),
            ws: ws.path().to_path_buf(),
            profile,
            _dirs: vec![ws, other],
        }
    }

    /// `git ARGS` in the workspace, with no user or system configuration.
    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .args(["-c", "user.name=A2", "-c", "user.email=a2@example.invalid"])
            .args(["-c", "init.defaultBranch=main", "-c", "gc.auto=0"])
            .args(args)
            .current_dir(&self.ws)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?}: {}", describe(&out));
    }

    /// A repository whose remote URL carries a token and whose first commit
    /// added `.env` (forced past `.gitignore`, as happens).
    fn repo_with_committed_env(&self) {
        self.git(&["init", "-q"]);
        self.git(&[
            "remote",
            "add",
            "origin",
            &format!("https://ci-bot:{TOKEN}@github.example/acme/app.git"),
        ]);
        std::fs::write(self.ws.join(".env"), format!("{ENV_SECRET}\n")).expect(".env");
        std::fs::write(self.ws.join("README.md"), "# app\n").expect("readme");
        self.git(&["add", "-f", ".env", "README.md"]);
        self.git(&["commit", "-q", "-m", "add env by mistake"]);
    }

    /// Run the adversary with `case` on `path` and more `key=value` args.
    fn skill(&self, case: &str, path: &str, more: &[(&str, &str)]) -> Output {
        let mut cmd = airlock_command(&self.home);
        cmd.args(["run", guests::ADVERSARY, "--allow-unsigned", "-w"])
            .arg(&self.ws)
            .arg("--profile")
            .arg(&self.profile)
            .args([
                "--arg",
                &format!("case={case}"),
                "--arg",
                &format!("path={path}"),
            ]);
        for (k, v) in more {
            cmd.args(["--arg", &format!("{k}={v}")]);
        }
        cmd.stdin(Stdio::null()).output().expect("run airlock")
    }

    /// The skill's one-line verdict on `case` at `path`.
    fn verdict(&self, case: &str, path: &str) -> String {
        text(&self.skill(case, path, &[]).stdout)
            .trim_end()
            .to_string()
    }

    /// Everything the audit log holds, as text.
    fn audit(&self) -> String {
        let out = airlock(&self.home, &["audit", "show", "--json", "--limit", "0"]);
        text(&out.stdout)
    }
}

fn assert_vcs_denied(verdict: &str, path: &str) {
    assert!(
        verdict.starts_with(&format!("err: access-denied|workspace-read|{path}|"))
            && verdict.ends_with(VCS_REASON),
        "`{path}` must be refused as version-control internals, got:\n{verdict}"
    );
}

fn assert_no_secret(out: &Output, secrets: &[&str]) {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    for secret in secrets {
        assert!(
            !all.contains(secret),
            "`{secret}` leaked:\n{}",
            describe(out)
        );
    }
}

#[test]
fn read_git_config_with_credential_url() {
    let c = Case::new(&[("src/main.rs", "fn main() {}\n")]);
    c.repo_with_committed_env();
    let out = c.skill("read", ".git/config", &[]);
    assert_no_secret(&out, &[TOKEN]);
    assert_vcs_denied(text(&out.stdout).trim_end(), ".git/config");
    // Other spellings, and a link that leads there.
    for path in ["./src/../.git/config", ".GIT/config", ".git/"] {
        let out = c.skill("read", path, &[]);
        assert_no_secret(&out, &[TOKEN]);
        assert!(
            text(&out.stdout).trim_end().ends_with(VCS_REASON),
            "{path}: {}",
            describe(&out)
        );
    }
    std::os::unix::fs::symlink("../.git/config", c.ws.join("src/remote.txt")).expect("symlink");
    let out = c.skill("read", "src/remote.txt", &[]);
    assert_no_secret(&out, &[TOKEN]);
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!(
            "err: access-denied|workspace-read|src/remote.txt|`src/remote.txt` is a symbolic link to a path that is inside `.git`: {VCS_REASON}"
        )
    );
    assert!(!c.audit().contains(TOKEN));
}

/// The path of `HEAD:.env`'s loose object.
fn env_object(c: &Case) -> String {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD:.env"])
        .current_dir(&c.ws)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git rev-parse");
    let id = text(&out.stdout).trim().to_string();
    assert_eq!(id.len(), 40, "{}", describe(&out));
    format!(".git/objects/{}/{}", &id[..2], &id[2..])
}

#[test]
fn read_git_object_of_committed_env() {
    let c = Case::new(&[]);
    c.repo_with_committed_env();
    let object = env_object(&c);
    assert!(c.ws.join(&object).is_file(), "the loose object exists");
    // On b2782b7 this returned the object's first bytes (`x\x01`, zlib),
    // and `read-file` the whole compressed `.env`.
    let verdict = c.verdict("read-range", &object);
    assert_vcs_denied(&verdict, &object);
    let verdict = c.verdict("read", &object);
    assert_vcs_denied(&verdict, &object);
}

#[test]
fn read_git_pack_of_committed_env() {
    let c = Case::new(&[]);
    c.repo_with_committed_env();
    c.git(&["gc", "-q", "--prune=now"]);
    let pack_dir = c.ws.join(".git/objects/pack");
    let pack = std::fs::read_dir(&pack_dir)
        .expect("pack folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".pack"))
        .expect("git gc wrote a pack");
    let pack = format!(".git/objects/pack/{pack}");
    // On b2782b7: `ok: PACK`, the pack holding the compressed `.env`.
    let verdict = c.verdict("read-range", &pack);
    assert_vcs_denied(&verdict, &pack);
    let verdict = c.verdict("list", ".git/objects/pack");
    assert_vcs_denied(&verdict, ".git/objects/pack");
}

#[test]
fn search_with_path_dot_git() {
    let c = Case::new(&[("src/lib.rs", "// token: none here\n")]);
    c.repo_with_committed_env();
    let out = c.skill("search", ".git", &[("pattern", "ghp_")]);
    assert_no_secret(&out, &[TOKEN]);
    assert_vcs_denied(text(&out.stdout).trim_end(), ".git");
    let out = c.skill("search", ".git/config", &[("pattern", "ghp_")]);
    assert_no_secret(&out, &[TOKEN]);
    assert_vcs_denied(text(&out.stdout).trim_end(), ".git/config");
    // Searching everything finds what is meant to be found, nothing in `.git`.
    let out = c.skill("search", ".", &[("pattern", "token|ghp_|url")]);
    assert_no_secret(&out, &[TOKEN]);
    assert_eq!(
        text(&out.stdout).trim_end(),
        "ok: src/lib.rs:1:// token: none here\nwithheld .env"
    );
}

#[test]
fn walk_never_enters_git() {
    let c = Case::new(&[
        ("src/main.rs", "fn main() {}\n"),
        ("sub/.git", "gitdir: ../.git/modules/sub\n"),
        (
            "vendor/lib/.hg/hgrc",
            "[paths]\ndefault = https://u:hgsecret@hg.example/\n",
        ),
        ("old/.svn/wc.db", "svnsecret"),
        (".jj/repo/store/x", "jjsecret"),
        ("deep/a/b/.Git/config", "[remote]\n"),
        (".gitignore", ".env\n"),
        (".github/workflows/ci.yml", "on: push\n"),
    ]);
    c.repo_with_committed_env();
    for case in ["walk", "list"] {
        let out = c.skill(case, ".", &[]);
        let listing = text(&out.stdout);
        assert!(listing.starts_with("ok: "), "{}", describe(&out));
        for line in listing.trim_start_matches("ok: ").lines() {
            let path = line.split(' ').next().unwrap_or_default();
            assert!(
                !path.split('/').any(|c| {
                    [".git", ".hg", ".svn", ".jj"]
                        .iter()
                        .any(|v| c.eq_ignore_ascii_case(v))
                }),
                "{case} shows version-control internals: {line}\n{listing}"
            );
        }
        assert!(listing.contains(".gitignore File"), "{listing}");
        assert!(listing.contains(".github Directory"), "{listing}");
    }
    let walked = text(&c.skill("walk", ".", &[]).stdout);
    assert!(walked.contains("src/main.rs File"), "{walked}");
    assert!(walked.contains(".env withheld(.env)"), "{walked}");
    assert_vcs_denied(&c.verdict("walk", ".git"), ".git");
    assert_vcs_denied(&c.verdict("walk", "vendor/lib/.hg"), "vendor/lib/.hg");
}

#[test]
fn gitdir_file_is_hidden() {
    let c = Case::new(&[
        ("sub/.git", "gitdir: ../.git/modules/sub\n"),
        ("sub/lib.rs", "pub fn f() {}\n"),
    ]);
    assert_vcs_denied(&c.verdict("read", "sub/.git"), "sub/.git");
    assert_vcs_denied(&c.verdict("stat", "sub/.git"), "sub/.git");
    assert_eq!(c.verdict("list", "sub"), "ok: sub/lib.rs File");
}

#[test]
fn command_cannot_read_git_config() {
    let c = Case::new(&[]);
    c.repo_with_committed_env();
    let exec = |program: &str, args: &str| {
        let out = c.skill("exec", ".", &[("program", program), ("args", args)]);
        assert_no_secret(&out, &[TOKEN]);
        let stdout = text(&out.stdout);
        assert!(stdout.starts_with("ok: exit=Some(0)"), "{}", describe(&out));
        stdout
    };
    // The file is there, and empty.
    let shown = exec("cat", ".git/config");
    assert!(shown.contains("stdout:\nstderr:\n"), "{shown}");
    let shown = exec(
        "bash",
        "-c cat${IFS}.git/config;git${IFS}config${IFS}--list",
    );
    assert!(!shown.contains("remote.origin"), "{shown}");
    // git still works: the objects are there, read-only.
    let log = exec("git", "log --oneline");
    assert!(log.contains("add env by mistake"), "{log}");
    // The real configuration is untouched.
    let real = std::fs::read_to_string(c.ws.join(".git/config")).expect("config");
    assert!(real.contains(TOKEN));
    assert!(!c.audit().contains(TOKEN));
}

#[test]
fn command_snapshot_skips_hard_link_to_env() {
    let c = Case::new(&[
        (".env", "API_KEY=hard-linked-secret-A2\n"),
        ("shared.txt", "shared\n"),
    ]);
    std::fs::hard_link(c.ws.join(".env"), c.ws.join("notes.txt")).expect("hard link");
    let out = c.skill("exec", ".", &[("program", "cat"), ("args", "notes.txt")]);
    assert_no_secret(&out, &["hard-linked-secret-A2"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("ok: exit=Some(1)") && stdout.contains("No such file"),
        "{}",
        describe(&out)
    );
    // With `hard-links = "allow"`, an ordinary hard link is copied, one to
    // a deny-listed file still is not.
    std::fs::hard_link(c.ws.join("shared.txt"), c.ws.join("shared-too.txt")).expect("link");
    let allow = format!("hard-links = \"allow\"\n{PROFILE}");
    std::fs::write(&c.profile, allow).expect("profile");
    let out = c.skill(
        "exec",
        ".",
        &[("program", "cat"), ("args", "shared-too.txt notes.txt")],
    );
    assert_no_secret(&out, &["hard-linked-secret-A2"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("stdout:\nshared\n") && stdout.contains("notes.txt: No such file"),
        "{}",
        describe(&out)
    );
    assert!(!c.audit().contains("hard-linked-secret-A2"));
}

#[test]
fn denial_does_not_reveal_outside_symlink_target() {
    let outside = tempfile::tempdir().expect("outside");
    let private = outside.path().join("home-of-alice-A2/private");
    std::fs::create_dir_all(&private).expect("private");
    let c = Case::new(&[("README.md", "x\n")]);
    std::os::unix::fs::symlink(&private, c.ws.join("docs")).expect("symlink");
    let depth = c.ws.components().count();
    let relative = format!("{}{}", "../".repeat(depth), private.display());
    std::os::unix::fs::symlink(&relative, c.ws.join("up")).expect("symlink");
    for (link, path) in [
        ("docs", "docs/notes.txt"),
        ("up", "up/notes.txt"),
        ("up", "up"),
    ] {
        let out = c.skill("read", path, &[]);
        assert_eq!(
            text(&out.stdout).trim_end(),
            format!(
                "err: access-denied|workspace-read|{path}|`{link}` is a symbolic link that leads outside the workspace"
            )
        );
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains("home-of-alice-A2"), "{}", describe(&out));
    }
    assert!(!c.audit().contains("home-of-alice-A2"));
}

/// The names added to the built-in deny-list, each with its rule.
const NEW_NAMES: &[(&str, &str)] = &[
    (".envrc", ".envrc"),
    ("etc/krb5.keytab", "*.keytab"),
    (".vault-token", ".vault-token"),
    (".config/gh", ".config/gh"),
    (".config/gcloud", ".config/gcloud"),
    (".cargo/credentials", ".cargo/credentials"),
    (".cargo/credentials.toml", ".cargo/credentials.toml"),
    (".my.cnf", ".my.cnf"),
    (".azure", ".azure"),
    (".m2/settings.xml", ".m2/settings.xml"),
    ("infra/prod.tfstate", "*.tfstate"),
    ("infra/prod.tfstate.backup", "*.tfstate.backup"),
    (".bash_history", ".*_history"),
    (".zsh_history", ".*_history"),
    (".python_history", ".*_history"),
    (".psql_history", ".*_history"),
    (".mysql_history", ".*_history"),
    (".node_repl_history", ".*_history"),
    (".sqlite_history", ".*_history"),
    (".local/share/fish/fish_history", "fish_history"),
    (".lesshst", ".lesshst"),
];

#[test]
fn new_deny_list_names_are_withheld() {
    let files: Vec<(String, String)> = NEW_NAMES
        .iter()
        .enumerate()
        .map(|(i, (path, _))| {
            let file = match *path {
                ".config/gh" => ".config/gh/hosts.yml".to_string(),
                ".config/gcloud" => ".config/gcloud/credentials.db".to_string(),
                ".azure" => ".azure/accessTokens.json".to_string(),
                p => p.to_string(),
            };
            (file, format!("SECRET-A2-{i}\n"))
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .chain([
            (".cargo/config.toml", "[build]\n"),
            ("src/a.rs", "// SECRET-A2-none\n"),
        ])
        .collect();
    let c = Case::new(&refs);
    let walked = text(&c.skill("walk", ".", &[]).stdout);
    for (path, rule) in NEW_NAMES {
        assert!(
            walked
                .lines()
                .any(|l| l.trim_start_matches("ok: ") == format!("{path} withheld({rule})")),
            "`{path}` must be withheld by `{rule}`:\n{walked}"
        );
    }
    assert!(walked.contains(".cargo/config.toml File"), "{walked}");
    let out = c.skill("search", ".", &[("pattern", "SECRET-A2")]);
    assert_eq!(
        text(&out.stdout).lines().next().unwrap_or_default(),
        "ok: src/a.rs:1:// SECRET-A2-none",
        "{}",
        describe(&out)
    );
    assert!(
        !text(&out.stdout).contains("SECRET-A2-1"),
        "{}",
        describe(&out)
    );
    let verdict = c.verdict("read", ".config/gh/hosts.yml");
    assert_eq!(
        verdict,
        "err: access-denied|workspace-read|.config/gh/hosts.yml|withheld by the deny-list (rule `.config/gh`): secret files are never read or written, whatever the profile grants"
    );
    // A command does not get them either.
    let out = c.skill(
        "exec",
        ".",
        &[
            ("program", "bash"),
            (
                "args",
                "-c cat${IFS}.envrc${IFS}.cargo/credentials.toml${IFS}.config/gh/hosts.yml",
            ),
        ],
    );
    assert_no_secret(&out, &["SECRET-A2-0", "SECRET-A2-6", "SECRET-A2-3"]);
}
