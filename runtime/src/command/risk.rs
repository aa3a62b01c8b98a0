//! Why a command is risky. A risky command always asks a person, whatever
//! the profile says. Best effort: it reads the program and its arguments
//! (and the script of `sh -c` / `bash -c`); it cannot see what a build
//! script does, which is why every command also runs without network and
//! with writes confined to the workspace.

use std::fmt;

/// The kind of risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskKind {
    /// Deletes or overwrites data.
    Destructive,
    /// Would talk to a network if it could.
    Outbound,
    /// Rewrites version-control history or discards work.
    HistoryRewrite,
    /// A force flag.
    ForceFlag,
    /// Installs or publishes packages.
    PackageInstall,
    /// Tries to gain privileges.
    PrivilegeEscalation,
}

/// One reason a command is risky.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Risk {
    /// The kind.
    pub kind: RiskKind,
    /// A sentence for the person deciding.
    pub why: String,
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.why)
    }
}

fn risk(kind: RiskKind, why: impl Into<String>) -> Risk {
    Risk {
        kind,
        why: why.into(),
    }
}

const NETWORK_TOOLS: &[&str] = &[
    "curl", "wget", "ssh", "scp", "sftp", "rsync", "nc", "ncat", "netcat", "telnet", "ftp",
    "socat", "aria2c",
];

/// The risks of running `program` with `args`.
pub fn assess(program: &str, args: &[String]) -> Vec<Risk> {
    let name = program.rsplit('/').next().unwrap_or(program);
    let mut out = Vec::new();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let has = |flag: &str| a.contains(&flag);
    let short_flags = |letter: char| {
        a.iter()
            .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains(letter))
    };
    match name {
        "rm" if short_flags('r') || short_flags('R') || has("--recursive") => {
            out.push(risk(RiskKind::Destructive, "deletes files recursively"));
        }
        "rm" | "unlink" | "shred" | "truncate" => out.push(risk(
            RiskKind::Destructive,
            "deletes or destroys file contents",
        )),
        "dd" | "mkfs" | "wipefs" => out.push(risk(
            RiskKind::Destructive,
            "writes raw data over files or devices",
        )),
        "find" if has("-delete") || has("-exec") => {
            out.push(risk(
                RiskKind::Destructive,
                "find with -delete/-exec can remove or change many files",
            ));
        }
        "git" => git(&a, &mut out),
        "sudo" | "su" | "doas" | "pkexec" => {
            out.push(risk(
                RiskKind::PrivilegeEscalation,
                "runs something as another user",
            ));
        }
        n if NETWORK_TOOLS.contains(&n) => {
            out.push(risk(
                RiskKind::Outbound,
                format!("`{n}` talks to other machines (it has no network here, but it tried)"),
            ));
        }
        "pip" | "pip3" | "gem" | "apt" | "apt-get" | "dnf" | "yum" | "brew"
            if a.first()
                .is_some_and(|s| matches!(*s, "install" | "download")) =>
        {
            out.push(risk(
                RiskKind::PackageInstall,
                "installs packages, which needs a network",
            ));
        }
        "npm" | "yarn" | "pnpm"
            if a.first()
                .is_some_and(|s| matches!(*s, "install" | "i" | "add" | "publish" | "ci")) =>
        {
            out.push(risk(
                RiskKind::PackageInstall,
                "installs or publishes packages, which needs a network",
            ));
        }
        "cargo"
            if a.first().is_some_and(|s| {
                matches!(
                    *s,
                    "install" | "publish" | "add" | "login" | "owner" | "yank"
                )
            }) =>
        {
            out.push(risk(
                RiskKind::PackageInstall,
                "installs, adds or publishes crates, which needs a network",
            ));
        }
        "go" if a.first().is_some_and(|s| matches!(*s, "get" | "install")) => {
            out.push(risk(
                RiskKind::PackageInstall,
                "fetches modules, which needs a network",
            ));
        }
        "sh" | "bash" | "dash" | "zsh" => {
            if let Some(i) = a.iter().position(|w| *w == "-c")
                && let Some(script) = a.get(i + 1)
            {
                script_risks(script, &mut out);
            }
        }
        _ => {}
    }
    out
}

fn git(a: &[&str], out: &mut Vec<Risk>) {
    let sub = a
        .iter()
        .find(|w| !w.starts_with('-'))
        .copied()
        .unwrap_or("");
    let has = |flag: &str| a.contains(&flag);
    match sub {
        "push" | "pull" | "fetch" | "clone" | "ls-remote" => {
            out.push(risk(
                RiskKind::Outbound,
                format!("`git {sub}` talks to a remote repository"),
            ));
        }
        "remote" if a.iter().any(|w| matches!(*w, "add" | "set-url")) => {
            out.push(risk(
                RiskKind::Outbound,
                "changes where git sends and fetches",
            ));
        }
        "submodule" if has("update") || has("add") => {
            out.push(risk(
                RiskKind::Outbound,
                "git submodule update/add fetches from remotes",
            ));
        }
        "reset" if has("--hard") => out.push(risk(
            RiskKind::HistoryRewrite,
            "git reset --hard discards uncommitted work",
        )),
        "clean" => out.push(risk(
            RiskKind::Destructive,
            "git clean deletes untracked files",
        )),
        "checkout" | "restore" if has("--") || has(".") => {
            out.push(risk(RiskKind::Destructive, "discards changes to files"));
        }
        "rebase" | "filter-branch" | "filter-repo" => {
            out.push(risk(
                RiskKind::HistoryRewrite,
                format!("git {sub} rewrites history"),
            ));
        }
        "commit" if has("--amend") => out.push(risk(
            RiskKind::HistoryRewrite,
            "git commit --amend rewrites the last commit",
        )),
        "branch" if has("-D") => out.push(risk(RiskKind::Destructive, "deletes a branch")),
        _ => {}
    }
    if a.iter()
        .any(|w| matches!(*w, "-f" | "--force" | "--force-with-lease") || w.starts_with("--force"))
    {
        out.push(risk(RiskKind::ForceFlag, "uses a force flag"));
    }
}

fn script_risks(script: &str, out: &mut Vec<Risk>) {
    for part in script.split(['|', ';', '&', '\n', '(', ')', '`']) {
        let words: Vec<String> = part.split_whitespace().map(str::to_string).collect();
        if let Some((program, args)) = words.split_first() {
            for r in assess(program, args) {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
    }
    if out.is_empty() && (script.contains("/dev/tcp/") || script.contains("/dev/udp/")) {
        out.push(risk(
            RiskKind::Outbound,
            "the script opens a network connection",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(cmd: &str) -> Vec<RiskKind> {
        let words: Vec<String> = cmd.split(' ').map(str::to_string).collect();
        assess(&words[0], &words[1..])
            .iter()
            .map(|r| r.kind)
            .collect()
    }

    #[test]
    fn each_family_of_risky_command_is_named() {
        use RiskKind::*;
        assert_eq!(kinds("rm -rf build"), [Destructive]);
        assert_eq!(kinds("rm old.txt"), [Destructive]);
        assert_eq!(kinds("find . -name x -delete"), [Destructive]);
        assert_eq!(kinds("git push origin main"), [Outbound]);
        assert_eq!(kinds("git push --force origin main"), [Outbound, ForceFlag]);
        assert_eq!(kinds("git reset --hard HEAD~1"), [HistoryRewrite]);
        assert_eq!(kinds("git clean -fdx"), [Destructive]);
        assert_eq!(kinds("git rebase -i main"), [HistoryRewrite]);
        assert_eq!(kinds("git commit --amend"), [HistoryRewrite]);
        assert_eq!(kinds("curl https://example.invalid"), [Outbound]);
        assert_eq!(kinds("ssh host"), [Outbound]);
        assert_eq!(kinds("pip install requests"), [PackageInstall]);
        assert_eq!(kinds("npm install"), [PackageInstall]);
        assert_eq!(kinds("cargo install ripgrep"), [PackageInstall]);
        assert_eq!(kinds("sudo make install"), [PrivilegeEscalation]);
        let script = vec!["-c".to_string(), "make && git push".to_string()];
        assert_eq!(
            assess("sh", &script)
                .iter()
                .map(|r| r.kind)
                .collect::<Vec<_>>(),
            [Outbound]
        );
    }

    #[test]
    fn everyday_build_and_test_commands_are_not_risky() {
        for cmd in [
            "cargo test",
            "cargo build --release",
            "make",
            "make check",
            "pytest -q",
            "ls -la",
            "git status",
            "git diff",
            "git log --oneline",
            "gnatmake main.adb",
            "ghdl -a top.vhd",
        ] {
            assert!(kinds(cmd).is_empty(), "{cmd}");
        }
    }
}
