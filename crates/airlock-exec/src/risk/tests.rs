use super::words::Lexer;
use super::*;
use RiskKind::*;

fn kinds(cmd: &str) -> Vec<RiskKind> {
    let words: Vec<String> = cmd.split(' ').map(str::to_string).collect();
    assess(&words[0], &words[1..])
        .iter()
        .map(|r| r.kind)
        .collect()
}

/// The kinds for a command given as separate words (for quoted scripts).
fn kinds_of(words: &[&str]) -> Vec<RiskKind> {
    let args: Vec<String> = words[1..].iter().map(|w| (*w).to_string()).collect();
    assess(words[0], &args).iter().map(|r| r.kind).collect()
}

#[test]
fn each_family_of_risky_command_is_named() {
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
        "git -C sub log",
        "git --no-pager diff",
        "python3 -B test_x.py",
        "python3.11 -m pytest -q",
        "env",
        "env LANG=C make",
        "nice make",
        "timeout 60 cargo test",
        "command -v git",
        "xargs",
        "gnatmake main.adb",
        "ghdl -a top.vhd",
        "mv a b",
        "cp -r a b",
    ] {
        assert!(kinds(cmd).is_empty(), "{cmd}");
    }
    for words in [
        &["bash", "-c", "make && cargo test 2>&1 | tee log.txt"][..],
        &["sh", "-ec", "cd sub; X=1 make check"],
        &["bash", "-lc", "for f in *.py; do python3 -B \"$f\"; done"],
    ] {
        assert!(kinds_of(words).is_empty(), "{words:?}");
    }
}

#[test]
fn git_global_options_are_skipped_to_find_the_subcommand() {
    assert_eq!(kinds("git -C . clean -fdx"), [Destructive]);
    assert_eq!(kinds("git -c k=v push"), [Outbound]);
    assert_eq!(
        kinds("git --git-dir=x --work-tree=y reset --hard"),
        [HistoryRewrite]
    );
    assert_eq!(
        kinds("git --git-dir x --work-tree y reset --hard"),
        [HistoryRewrite]
    );
    assert_eq!(kinds("git --no-pager push"), [Outbound]);
    assert_eq!(kinds("git --namespace ns push"), [Outbound]);
    assert_eq!(kinds("git --namespace=ns push"), [Outbound]);
    assert_eq!(kinds("git --exec-path=/x push"), [Outbound]);
    assert_eq!(kinds("git --config-env k=ENV push"), [Outbound]);
    assert_eq!(kinds("git --config-env=k=ENV push"), [Outbound]);
    assert_eq!(
        kinds("git -C a -C b -c x=y --bare push -f"),
        [Outbound, ForceFlag]
    );
    assert!(
        kinds("git -C push log").is_empty(),
        "-C's value is not the subcommand"
    );
}

#[test]
fn git_aliases_and_command_settings_given_with_dash_c_are_read() {
    assert_eq!(kinds("git -c alias.st=push st"), [Outbound]);
    assert_eq!(kinds("git -c alias.a=b -c alias.b=push a"), [Outbound]);
    assert_eq!(
        kinds_of(&["git", "-c", "alias.x=!rm -rf ~", "x"]),
        [Destructive]
    );
    assert_eq!(
        kinds_of(&["git", "-c", "core.pager=rm -rf ~", "log"]),
        [Destructive]
    );
    assert_eq!(
        kinds_of(&["git", "-c", "filter.x.smudge=curl evil", "status"]),
        [Outbound]
    );
    assert_eq!(
        kinds_of(&["git", "submodule", "foreach", "--recursive", "git push"]),
        [Outbound]
    );
    assert_eq!(
        kinds("/usr/lib/git-core/git-clean -fdx"),
        [Destructive],
        "git's own programs are git subcommands"
    );
    assert!(kinds("git -c core.pager=less log").is_empty());
    assert_eq!(
        kinds("git -c alias.a=a a"),
        [Destructive],
        "an alias loop is followed only to the depth bound, then reported"
    );
}

#[test]
fn shells_with_c_in_an_option_cluster_run_their_script() {
    for words in [
        &["bash", "-lc", "git push"][..],
        &["sh", "-ec", "git push"],
        &["bash", "--login", "-c", "git push"],
        &["bash", "-c", "--", "git push"],
        &["bash", "-o", "pipefail", "-c", "git push"],
        &["bash", "-eo", "pipefail", "-c", "git push"],
        &["bash", "+O", "extglob", "-xc", "git push"],
        &["zsh", "-c", "git push"],
        &["dash", "-c", "git push"],
        &["ksh", "-c", "git push"],
        &["/bin/bash5.2", "-c", "git push"],
        &["busybox", "sh", "-c", "git push"],
        &["fish", "-c", "git push"],
        &["fish", "--init-command=git push"],
        &["su", "-", "root", "-c", "git push"],
    ] {
        assert!(kinds_of(words).contains(&Outbound), "{words:?}");
    }
    assert!(
        kinds_of(&["bash", "script.sh", "-c", "git push"]).is_empty(),
        "after the script file, -c is the script's argument"
    );
}

#[test]
fn wrappers_are_stripped_to_find_the_real_program() {
    for cmd in [
        "env X=1 git push",
        "env -u VAR -- git push",
        "env -i PATH=/x git push",
        "env - git push",
        "env --unset VAR git push",
        "env --uns=VAR git push",
        "nice -n 5 git push",
        "nice -n5 git push",
        "nice --adj 5 git push",
        "nice -10 git push",
        "timeout 10 git push",
        "timeout -s KILL -k 5 10 git push",
        "timeout --signal=KILL 10 git push",
        "xargs git push",
        "xargs -0 -n1 git push",
        "xargs -I {} git push {}",
        "nohup git push",
        "stdbuf -oL git push",
        "stdbuf -o L -e0 git push",
        "ionice -c3 git push",
        "ionice -c 2 -n 7 git push",
        "command git push",
        "exec git push",
        "exec -a name git push",
        "time git push",
        "time -p git push",
        "chrt 10 git push",
        "chrt -f 10 git push",
        "chrt --other git push",
        "taskset 0x3 git push",
        "taskset -c 0,1 git push",
        "setsid git push",
        "setsid -f -w git push",
        "sudo -u bob git push",
        "doas -u bob git push",
        "eval git push",
        "watch -n 5 git push",
    ] {
        assert!(kinds(cmd).contains(&Outbound), "{cmd}");
    }
    assert_eq!(kinds("env -i PATH=/x rm -rf /"), [Destructive]);
    assert_eq!(kinds("nice -n 5 rm -rf x"), [Destructive]);
    assert_eq!(kinds("nice rm -rf x"), [Destructive]);
    assert_eq!(kinds("xargs rm"), [Destructive]);
    assert_eq!(kinds("xargs -0 -n1 rm -f"), [Destructive]);
    assert_eq!(kinds("sudo rm -rf /"), [PrivilegeEscalation, Destructive]);
    assert_eq!(kinds_of(&["env", "-S", "git push"]), [Outbound]);
    assert_eq!(kinds_of(&["env", "-S", "git", "push"]), [Outbound]);
    assert!(kinds("command -v rm").is_empty());
}

#[test]
fn wrappers_nest_and_a_crafted_depth_is_reported_not_followed() {
    assert_eq!(
        kinds_of(&["env", "nice", "timeout", "5", "bash", "-c", "git push"]),
        [Outbound]
    );
    assert_eq!(
        kinds_of(&[
            "sudo",
            "env",
            "A=1",
            "bash",
            "-lc",
            "timeout 5 nice git push"
        ]),
        [PrivilegeEscalation, Outbound]
    );
    let deep = format!("{}make", "env ".repeat(MAX_DEPTH + 1));
    assert_eq!(kinds(&deep), [Destructive], "{deep}");
    let very_deep = format!("{}make", "nice ".repeat(100_000));
    assert_eq!(kinds(&very_deep), [Destructive]);
    let mut nested = "git push".to_string();
    for _ in 0..50 {
        nested = format!("echo \"$({nested})\"");
    }
    assert!(kinds_of(&["sh", "-c", &nested]).contains(&Destructive));
}

#[test]
fn a_program_given_by_path_is_named_by_its_file_name() {
    assert_eq!(kinds("/tmp/git push"), [Outbound]);
    assert_eq!(kinds("./bin/rm -rf x"), [Destructive]);
    assert_eq!(kinds("../../usr/bin/git push"), [Outbound]);
    assert_eq!(kinds("/usr/bin/env /tmp/git push"), [Outbound]);
    assert_eq!(kinds_of(&["sh", "-c", "/bin/rm -rf x"]), [Destructive]);
}

#[test]
fn the_real_path_decides_not_the_spelling() {
    let kinds_resolved = |program: &str, real: Option<&str>, a: &[&str]| -> Vec<RiskKind> {
        let args: Vec<String> = a.iter().map(|w| (*w).to_string()).collect();
        assess_resolved(program, real.map(Path::new), &args)
            .iter()
            .map(|r| r.kind)
            .collect()
    };
    assert_eq!(
        kinds_resolved("cleanup", Some("/usr/bin/rm"), &["-rf", "build"]),
        [Destructive]
    );
    assert_eq!(
        kinds_resolved("tool", Some("/usr/lib/git-core/git"), &["push"]),
        [Outbound]
    );
    assert_eq!(
        kinds_resolved("rm", Some("/usr/bin/rm"), &["-rf", "build"]),
        [Destructive],
        "no duplicates"
    );
    assert_eq!(
        kinds_resolved(
            "py",
            Some("/usr/bin/python3.11"),
            &["-m", "pip", "install", "x"]
        ),
        [PackageInstall]
    );
    assert_eq!(
        kinds_resolved("sh", Some("/bin/busybox"), &["-c", "git push"]),
        [Outbound],
        "a multi-call binary is what it is spelled"
    );
    assert!(
        kinds_resolved("ls", Some("/bin/busybox"), &["rm"]).is_empty(),
        "busybox run as ls lists a file named rm"
    );
    assert!(kinds_resolved("make", Some("/usr/bin/make"), &["check"]).is_empty());
    assert!(kinds_resolved("make", None, &["check"]).is_empty());
    assert_eq!(kinds_resolved("rm", None, &["x"]), [Destructive]);
}

#[test]
fn versioned_interpreter_names_are_read_as_their_stem() {
    assert_eq!(canonical("python3.11"), "python");
    assert_eq!(canonical("python3"), "python");
    assert_eq!(canonical("pip3.12"), "pip");
    assert_eq!(canonical("bash5"), "bash");
    assert_eq!(canonical("git2.47"), "git2.47", "only interpreters");
    assert_eq!(canonical("3"), "3");
    assert_eq!(kinds("pip3.11 install x"), [PackageInstall]);
    assert_eq!(kinds("python3.11 -m pip install x"), [PackageInstall]);
    assert_eq!(kinds("python3 -B -mpip install x"), [PackageInstall]);
    assert!(kinds("python3 -c import_pip -m pip install").is_empty());
}

#[test]
fn scripts_see_through_quotes_substitutions_and_operators() {
    for text in [
        "echo $(git push)",
        "echo \"$(git push)\"",
        "echo \"`git push`\"",
        "echo `git push`",
        "{ git push; }",
        "make && git push",
        "make || git push",
        "make&&git push",
        "X=1 Y=2 git push",
        "if git push; then :; fi",
        "! git push",
        "'git' push",
        "\"git\" \"push\"",
        "g'i't push",
        "gi\\t push",
        "$'\\x67it' push",
        "$'\\147it' push",
        "git${IFS}push",
        "git$IFS'push'",
        "{git,push}",
        "2>/dev/null git push",
        "git push >/dev/null 2>&1",
        ">&2 git push",
        "cat <(git push)",
        "bash <<< 'git push'",
        "env X=1 nice git push",
        "exec git push",
        "(cd sub && git push)",
        "a | b | git push",
        "true\ngit push",
    ] {
        assert!(
            kinds_of(&["sh", "-c", text]).contains(&Outbound),
            "{text:?}"
        );
    }
    assert!(kinds_of(&["sh", "-c", "echo 'git push'"]).is_empty());
    assert!(kinds_of(&["sh", "-c", "echo '$(git push)'"]).is_empty());
    assert_eq!(
        kinds_of(&["sh", "-c", "find . -name x -exec rm {} \\;"]),
        [Destructive]
    );
    assert_eq!(
        kinds_of(&["bash", "-c", "exec 3<>/dev/tcp/example.invalid/80"]),
        [Outbound]
    );
}

#[test]
fn the_splitter_never_panics_on_odd_input() {
    let long = "a".repeat(200_000);
    let many_ops = "&&|;(){}`$(".repeat(10_000);
    let deep_parens = format!("\"{}", "$(".repeat(10_000));
    for text in [
        "",
        "\\",
        "'",
        "\"",
        "$",
        "$'",
        "$'\\",
        "$'\\x",
        "$'\\u{",
        "$'\\U",
        "$'\\c",
        "$'\\777'",
        "$'\\UFFFFFFFF'",
        "${",
        "${IFS",
        "$IF",
        "\"$(",
        "\"`",
        "\"\\",
        "{",
        "}",
        "}}}}{{{",
        ",,,",
        "<",
        ">&",
        "<<<",
        "2>",
        "héllo wörld — ünïcödé 🦀 'ąę' \"日本\"",
        "\u{0}\u{7f}\u{feff}",
        long.as_str(),
        many_ops.as_str(),
        deep_parens.as_str(),
    ] {
        let _ = Lexer::new(text).run();
        let _ = kinds_of(&["sh", "-c", text]);
        let _ = kinds_of(&["env", "-S", text]);
        let _ = kinds_of(&["git", "-c", &format!("alias.x={text}"), "x"]);
        let _ = kinds_of(&["git", "-c", &format!("alias.x=!{text}"), "x"]);
    }
    for words in [
        &["git"][..],
        &["git", "-c"],
        &["git", "-C"],
        &["env", "-u"],
        &["env", "-S"],
        &["timeout"],
        &["chrt"],
        &["python3", "-m"],
        &["python3", "-W"],
        &["bash", "-c"],
        &["bash", "-o"],
        &["su", "-c"],
        &["nice", "-"],
        &["-"],
        &[""],
    ] {
        let _ = kinds_of(words);
    }
}

#[test]
fn find_exec_variants_and_rsync_delete_are_flagged() {
    assert_eq!(kinds("find . -execdir rm {} ;"), [Destructive]);
    assert_eq!(kinds("find . -ok rm {} ;"), [Destructive]);
    assert_eq!(kinds("find . -okdir rm {} ;"), [Destructive]);
    assert!(kinds("find . -name x -print").is_empty());
    assert_eq!(
        kinds("rsync -a --delete src/ dst/"),
        [Outbound, Destructive]
    );
    assert_eq!(
        kinds("rsync -a --delete-after src/ dst/"),
        [Outbound, Destructive]
    );
    assert_eq!(kinds("rsync -a src/ dst/"), [Outbound]);
    assert_eq!(kinds("/sbin/mkfs.ext4 /dev/sdb1"), [Destructive]);
}
