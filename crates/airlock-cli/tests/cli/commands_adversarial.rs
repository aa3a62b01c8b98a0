//! Attacks on the command sandbox, each named after what it tries: the
//! state directory, the host filesystem, host sockets, limits, the seccomp
//! filter, names that are not UTF-8, and writes that would skip review.
//! Real `airlock`, real bubblewrap, real processes; every test would have
//! succeeded as an attack on the command sandbox of b2782b7.
//!
//! The skill is the `adversary` test guest, `case=exec`: it runs `program`
//! with space-separated `args` in `path` and prints `ok: exit=… stdout: …
//! stderr: …` (Airlock's own notes are the `[airlock]` lines of stderr).
#![cfg(unix)]

use crate::support::{AIRLOCK, airlock_command, describe, scrub, text};
use airlock_tests::guests;
use airlock_tests::pty::{Pty, WaitStatus};
use serde_json::Value;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A profile over the whole workspace that lets the skill run these
/// programs without asking; `{edits}` and `{extra}` are filled per test.
const PROFILE: &str = r#"name = "attacks"
[[grant]]
path = "."
access = "read-write"
[edits]
mode = "{edits}"
[commands.programs]
bash = "allow"
cat = "allow"
python3 = "allow"
{programs}
[commands]
timeout-seconds = 30
max-output-bytes = 65536
{extra}
"#;

struct Case {
    /// The state directory (`--home`), unless the test uses the default.
    home: PathBuf,
    ws: PathBuf,
    profile: PathBuf,
    _dirs: Vec<tempfile::TempDir>,
}

fn case(edits: &str, extra: &str) -> Case {
    case_with(edits, "", extra)
}

fn case_with(edits: &str, programs: &str, extra: &str) -> Case {
    let ws = tempfile::tempdir().expect("workspace");
    let other = tempfile::tempdir().expect("profiles");
    let profile = other.path().join("attacks.toml");
    std::fs::write(
        &profile,
        PROFILE
            .replace("{edits}", edits)
            .replace("{programs}", programs)
            .replace("{extra}", extra),
    )
    .expect("profile");
    Case {
        home: other.path().join("home"),
        ws: ws.path().to_path_buf(),
        profile,
        _dirs: vec![ws, other],
    }
}

impl Case {
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.ws.join(name), text).expect("write a workspace file");
    }

    fn args(&self, program: &str, args: &str) -> Vec<String> {
        [
            "run",
            guests::ADVERSARY,
            "--allow-unsigned",
            "-w",
            self.ws.to_str().expect("UTF-8 temp path"),
            "--profile",
            self.profile.to_str().expect("UTF-8 temp path"),
            "--arg",
            "case=exec",
            "--arg",
            &format!("program={program}"),
            "--arg",
            &format!("args={args}"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// Run `program args` through the skill, without a terminal.
    fn exec(&self, program: &str, args: &str) -> Output {
        airlock_command(&self.home)
            .args(self.args(program, args))
            .stdin(Stdio::null())
            .output()
            .expect("run airlock")
    }

    fn bash(&self, script: &str) -> String {
        self.write("attack.sh", script);
        let out = self.exec("bash", "attack.sh");
        assert!(
            text(&out.stdout).starts_with("ok: exit="),
            "the command ran: {}",
            describe(&out)
        );
        text(&out.stdout)
    }

    fn audit(&self) -> Vec<Value> {
        let out = airlock_command(&self.home)
            .args(["audit", "show", "--json", "--limit", "0"])
            .output()
            .expect("audit show");
        text(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

fn random_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos}", std::process::id())
}

#[test]
fn cat_cache_key_and_plant_a_trust_key_with_the_state_directory_in_the_workspace() {
    let mut c = case("allow", "");
    c.home = c.ws.join(".state");
    let out = c.bash(&state_attack(".state"));
    assert_state_untouched(&c.home, &out);
}

/// The attack on Airlock's state directory at `state` (workspace-relative):
/// read the compile-cache key, list the state, plant a trust key, and
/// overwrite the compiled skills the next run would load.
fn state_attack(state: &str) -> String {
    format!(
        "cat {s}/cache/cache.key && echo READ-KEY\n\
         ls {s}/cache | grep -q cwasm && echo LISTED-STATE\n\
         mkdir -p {s}/trust && echo x > {s}/trust/evil.pub && echo PLANTED\n\
         for f in {s}/cache/*.cwasm; do [ -f \"$f\" ] && echo forged > \"$f\" && echo FORGED; done\n\
         true\n",
        s = state
    )
}

fn assert_state_untouched(state: &std::path::Path, out: &str) {
    let key = std::fs::read(state.join("cache/cache.key")).expect("the run made a cache key");
    assert!(!out.contains("READ-KEY"), "{out}");
    assert!(!out.contains(&*String::from_utf8_lossy(&key)), "{out}");
    assert!(!out.contains("LISTED-STATE"), "{out}");
    assert!(!out.contains("FORGED"), "{out}");
    assert!(
        !state.join("trust/evil.pub").exists(),
        "a command planted a trust key: {out}"
    );
    for entry in std::fs::read_dir(state.join("cache"))
        .expect("the cache")
        .flatten()
    {
        let bytes = std::fs::read(entry.path()).expect("a cache file");
        assert_ne!(
            bytes,
            b"forged\n",
            "{} was overwritten",
            entry.path().display()
        );
    }
}

#[test]
fn cat_cache_key_with_the_workspace_at_home_and_the_default_state_directory() {
    let c = case("allow", "");
    // HOME is the workspace; the state directory is the default under it.
    let run = |script: &str| -> String {
        c.write("attack.sh", script);
        let mut cmd = Command::new(AIRLOCK);
        cmd.args(c.args("bash", "attack.sh"))
            .env("HOME", &c.ws)
            .env_remove("XDG_STATE_HOME");
        let out = scrub(&mut cmd, &c.ws.join("no-config"))
            .stdin(Stdio::null())
            .output()
            .expect("run airlock");
        assert!(
            text(&out.stdout).starts_with("ok: exit="),
            "{}",
            describe(&out)
        );
        text(&out.stdout)
    };
    let state = c.ws.join(".local/state/airlock");
    let out = run(&state_attack(".local/state/airlock"));
    assert_state_untouched(&state, &out);
}

#[test]
fn read_another_users_home_root_and_etc_shadow() {
    let c = case("ask", "");
    // Plant files where only a view of the host filesystem would show them
    // (possible as root, which is how CI runs; as another user, /root and
    // /home/NEW are not writable, and the listing checks below still hold).
    let other = PathBuf::from("/home").join(random_name("airlock-other"));
    let root_file = PathBuf::from("/root").join(random_name("airlock-probe"));
    let planted = std::fs::create_dir(&other).is_ok()
        && std::fs::write(other.join("secret.txt"), "OTHER-USER-SECRET").is_ok()
        && std::fs::write(&root_file, "ROOT-SECRET").is_ok();
    let out = c.bash(&format!(
        "cat {o}/secret.txt; cat {r}; cat /etc/shadow && echo SHADOW-READ\n\
         echo HOME-LIST; ls -A /home; echo ROOT-LIST; ls -A /root; echo END-LIST\n\
         for d in /mnt /media /srv /run /var/run /etc/ssh; do [ -e $d ] && echo VISIBLE:$d; done; true\n",
        o = other.display(),
        r = root_file.display()
    ));
    if planted {
        let _ = std::fs::remove_dir_all(&other);
        let _ = std::fs::remove_file(&root_file);
        assert!(!out.contains("OTHER-USER-SECRET"), "{out}");
        assert!(!out.contains("ROOT-SECRET"), "{out}");
    }
    assert!(!out.contains("SHADOW-READ"), "{out}");
    assert!(!out.contains("VISIBLE:"), "{out}");
    // Of /home and /root only the folders that hold the caller's own
    // toolchains (`~/.cargo`, `~/.rustup`, `~/.pyenv`) may show.
    let listed = |from: &str, to: &str| -> Vec<String> {
        out.split(from)
            .nth(1)
            .and_then(|rest| rest.split(to).next())
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let home = std::env::var("HOME").unwrap_or_default();
    for name in listed("HOME-LIST", "ROOT-LIST") {
        assert!(
            home.starts_with(&format!("/home/{name}")),
            "/home/{name} is visible: {out}"
        );
    }
    for name in listed("ROOT-LIST", "END-LIST") {
        assert!(
            [".cargo", ".rustup", ".pyenv", ".nvm"].contains(&name.as_str()),
            "/root/{name} is visible: {out}"
        );
    }
}

#[test]
fn connect_a_unix_socket_placed_in_srv() {
    let c = case("ask", "");
    // /srv as root; elsewhere the caller's home, which is out of view too.
    let dir = tempfile::Builder::new()
        .prefix("airlock-sock-")
        .tempdir_in("/srv")
        .or_else(|_| {
            tempfile::Builder::new()
                .prefix("airlock-sock-")
                .tempdir_in(std::env::var("HOME").unwrap_or_else(|_| "/".into()))
        })
        .expect("a folder for the socket");
    let path = dir.path().join("x.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).expect("listen");
    listener.set_nonblocking(true).expect("nonblocking");
    c.write(
        "sock.py",
        &format!(
            "import socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect({p:?})\n    print('CONNECTED')\nexcept OSError as e:\n    print('REFUSED', e)\n",
            p = path.display().to_string()
        ),
    );
    let out = c.exec("python3", "-B sock.py");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("REFUSED"), "{}", describe(&out));
    assert!(!stdout.contains("CONNECTED"), "{stdout}");
    assert!(
        listener.accept().is_err(),
        "the host socket took a connection"
    );
}

#[test]
fn a_fork_bomb_stops_at_max_processes() {
    let c = case("ask", "max-processes = 64");
    c.write(
        "bomb.py",
        "import os, time\nfor i in range(5000):\n    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)\n",
    );
    let out = c.exec("python3", "-B bomb.py");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("[airlock]") && stdout.contains("commands.max-processes"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_4_gib_allocation_stops_at_memory_mib() {
    let c = case("ask", "memory-mib = 256");
    let out = c.exec("python3", "-B -c b=b'x'*(4<<30)");
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("exit=Some(0)"), "{stdout}");
    assert!(
        stdout.contains("[airlock]") && stdout.contains("commands.memory-mib"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_1_gib_file_stops_at_max_file_mib() {
    let c = case("ask", "max-file-mib = 16");
    let out = c.bash("head -c 1G /dev/zero > big.bin\n");
    assert!(
        out.contains("[airlock]") && out.contains("commands.max-file-mib"),
        "{out}"
    );
    assert!(!c.ws.join("big.bin").exists(), "{out}");
}

#[test]
fn unshare_r_inside_and_seccomp_mode() {
    let c = case("ask", "");
    let out = c.bash(
        "grep Seccomp: /proc/self/status\n\
         if unshare -r true 2>/dev/null; then echo USERNS-MADE; else echo USERNS-REFUSED; fi\n",
    );
    assert!(out.contains("Seccomp:\t2"), "{out}");
    assert!(out.contains("USERNS-REFUSED"), "{out}");
}

#[test]
fn a_secret_under_a_folder_whose_name_is_not_utf8_stays_hidden_even_after_a_rename() {
    let c = case("allow", "");
    let odd = c.ws.join(std::ffi::OsStr::from_bytes(b"\xff"));
    std::fs::create_dir(&odd).expect("non-UTF-8 folder");
    std::fs::write(odd.join(".env"), "TOKEN=under-odd-name\n").expect("secret");
    std::fs::create_dir(c.ws.join("config")).expect("config");
    std::fs::write(c.ws.join("config/.env"), "TOKEN=under-config\n").expect("secret");
    let out = c.bash("cat $'\\xff'/.env; mv config $'\\xfe'; true\n");
    assert!(!out.contains("under-odd-name"), "{out}");
    let out = c.bash("cat $'\\xfe'/.env; cat config/.env; true\n");
    assert!(!out.contains("under-config"), "{out}");
    assert_eq!(
        std::fs::read_to_string(c.ws.join("config/.env")).expect("still there"),
        "TOKEN=under-config\n"
    );
}

#[test]
fn writes_to_env_and_git_config_by_a_command_are_never_applied() {
    let c = case("allow", "");
    std::fs::create_dir(c.ws.join(".git")).expect(".git");
    std::fs::write(c.ws.join(".git/config"), "[core]\n").expect("config");
    c.write(".env", "KEY=original\n");
    let out = c.bash(
        "echo KEY=attacker > .env\n\
         echo '[core] fsmonitor = evil' >> .git/config || echo GIT-REFUSED\n\
         echo made > ok.txt\n",
    );
    assert_eq!(
        std::fs::read_to_string(c.ws.join(".env")).expect(".env"),
        "KEY=original\n"
    );
    assert_eq!(
        std::fs::read_to_string(c.ws.join(".git/config")).expect("config"),
        "[core]\n"
    );
    assert!(out.contains("GIT-REFUSED"), "{out}");
    assert!(out.contains("`.env`: not applied"), "{out}");
    // The ordinary file next to them is applied (edits.mode = "allow").
    assert_eq!(
        std::fs::read_to_string(c.ws.join("ok.txt")).expect("applied"),
        "made\n"
    );
}

#[test]
fn a_commands_write_under_allow_is_applied_audited_and_undone() {
    let c = case("allow", "");
    c.write("notes.txt", "before\n");
    c.write("edit.sh", "echo after > notes.txt\necho new > added.txt\n");
    let out = c.exec("bash", "edit.sh");
    assert!(
        text(&out.stdout).contains("ok: exit=Some(0)"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        std::fs::read_to_string(c.ws.join("notes.txt")).expect("notes"),
        "after\n"
    );
    assert_eq!(
        std::fs::read_to_string(c.ws.join("added.txt")).expect("added"),
        "new\n"
    );
    let records = c.audit();
    let command = records
        .iter()
        .rev()
        .find(|r| r["kind"] == "command")
        .expect("a command record");
    let changes = command["data"]["changes"].as_array().expect("changes");
    assert!(
        changes
            .iter()
            .any(|ch| ch["path"] == "notes.txt" && ch["applied"] == true),
        "{command}"
    );
    let run = command["run"].as_str().expect("run id").to_string();
    let undo = airlock_command(&c.home)
        .args(["undo", &run])
        .output()
        .expect("undo");
    assert_eq!(undo.status.code(), Some(0), "{}", describe(&undo));
    assert_eq!(
        std::fs::read_to_string(c.ws.join("notes.txt")).expect("notes"),
        "before\n"
    );
    assert!(!c.ws.join("added.txt").exists());
}

#[test]
fn a_commands_write_under_ask_is_shown_and_refused() {
    let c = case("ask", "");
    c.write("notes.txt", "before\n");
    c.write("edit.sh", "echo after > notes.txt\n");
    let mut pty = Pty::spawn(airlock_command(&c.home), &c.args("bash", "edit.sh"));
    pty.wait_for("wants to modify notes.txt");
    pty.wait_for("-before");
    pty.wait_for("+after");
    pty.wait_for("Allow?");
    pty.send("n\r");
    let (status, transcript) = pty.finish();
    assert!(
        matches!(status, WaitStatus::Exited(_, 0)),
        "{status:?}: {transcript}"
    );
    assert!(transcript.contains("not applied"), "{transcript}");
    assert_eq!(
        std::fs::read_to_string(c.ws.join("notes.txt")).expect("notes"),
        "before\n"
    );
}

#[test]
fn a_secret_in_a_command_argument_is_redacted_in_the_audit_log() {
    let c = case("ask", "");
    let token = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    let config = c.home.with_file_name("config");
    std::fs::create_dir_all(config.join("airlock")).expect("config dir");
    std::fs::write(
        config.join("airlock/config.toml"),
        "[audit]\nredact-secrets = true\n",
    )
    .expect("config");
    let out = airlock_command(&c.home)
        .args(c.args("cat", &format!("--password={token}")))
        .env("XDG_CONFIG_HOME", &config)
        .stdin(Stdio::null())
        .output()
        .expect("run airlock");
    assert!(text(&out.stdout).starts_with("ok:"), "{}", describe(&out));
    let all = serde_json::to_string(&c.audit()).expect("json");
    assert!(all.contains("\"command\""), "{all}");
    assert!(
        !all.contains(token),
        "the token reached the audit log: {all}"
    );
}

/// The coder profile's test commands work in the sandbox: Python, make,
/// and cargo on a small crate (build output under scratch `target/`).
#[test]
fn the_coder_profiles_test_commands_still_work() {
    let c = case_with(
        "allow",
        "make = \"allow\"\ncargo = \"allow\"",
        "scratch = [\"target/\", \"__pycache__/\", \".pytest_cache/\"]",
    );
    c.write(
        "test_x.py",
        "import unittest\nclass T(unittest.TestCase):\n    def test_ok(self):\n        self.assertEqual(1 + 1, 2)\nunittest.main()\n",
    );
    c.write("Makefile", "test:\n\tpython3 -B test_x.py\n");
    let out = c.exec("python3", "-B test_x.py");
    assert!(
        text(&out.stdout).contains("exit=Some(0)"),
        "{}",
        describe(&out)
    );
    let out = c.exec("make", "test");
    assert!(
        text(&out.stdout).contains("exit=Some(0)"),
        "{}",
        describe(&out)
    );
    std::fs::create_dir(c.ws.join("src")).expect("src");
    c.write(
        "Cargo.toml",
        "[package]\nname = \"small\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    c.write(
        "src/lib.rs",
        "pub fn add(a: u32, b: u32) -> u32 { a + b }\n#[cfg(test)]\nmod t { #[test] fn adds() { assert_eq!(super::add(2, 2), 4); } }\n",
    );
    let out = c.exec("cargo", "test --offline");
    assert!(
        text(&out.stdout).contains("exit=Some(0)")
            && text(&out.stdout).contains("test t::adds ... ok"),
        "{}",
        describe(&out)
    );
    // The build output stayed in the command's copy.
    assert!(!c.ws.join("target").exists());
}

#[test]
fn a_file_edited_by_hand_while_the_command_ran_is_a_conflict_not_overwritten() {
    let c = case("allow", "");
    c.write("notes.txt", "before-the-conflict\n");
    c.write("edit.sh", "sleep 3\necho from-command > notes.txt\n");
    let child = airlock_command(&c.home)
        .args(c.args("bash", "edit.sh"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run airlock");
    // The command's private copy is made in /dev/shm or the state
    // directory's `tmp/`: once one holds `notes.txt` whole, that file was
    // copied; edit the real one then (the command sleeps before it writes
    // its own version).
    let copied = || -> bool {
        [PathBuf::from("/dev/shm"), c.home.join("tmp")]
            .iter()
            .flat_map(std::fs::read_dir)
            .flatten()
            .flatten()
            .any(|copy| {
                std::fs::read(copy.path().join("notes.txt"))
                    .is_ok_and(|b| b == b"before-the-conflict\n")
            })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !copied() {
        assert!(std::time::Instant::now() < deadline, "no copy was made");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    c.write("notes.txt", "edited by hand\n");
    let out = child.wait_with_output().expect("airlock");
    assert!(text(&out.stdout).contains("conflict"), "{}", describe(&out));
    assert_eq!(
        std::fs::read_to_string(c.ws.join("notes.txt")).expect("notes"),
        "edited by hand\n"
    );
}
