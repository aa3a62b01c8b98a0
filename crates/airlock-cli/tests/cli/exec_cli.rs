//! Commands a skill runs: only listed programs, only after the approval
//! gate, never with network, with a clean environment, and with writes only
//! inside the workspace. Real `airlock`, real bubblewrap, real processes; the
//! only network traffic is to a listener this test starts on loopback.

use crate::support::{airlock, airlock_command, text};
use airlock_tests::guests;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const PROFILE: &str = r#"name = "commands"
[[grant]]
path = "."
access = "read-write"
[commands.programs]
bash = "allow"
cat = "allow"
git = "allow"
ls = "ask"
sleep = "allow"
[commands]
timeout-seconds = 20
max-output-bytes = 4096
"#;

struct Fixture {
    home: tempfile::TempDir,
    ws: tempfile::TempDir,
    profile: std::path::PathBuf,
}

fn fixture() -> Fixture {
    let home = tempfile::tempdir().expect("home");
    let ws = tempfile::tempdir().expect("workspace");
    std::fs::create_dir_all(ws.path().join("src")).expect("src");
    std::fs::create_dir_all(ws.path().join(".git/hooks")).expect(".git");
    std::fs::write(ws.path().join("src/main.txt"), "hello\n").expect("file");
    std::fs::write(ws.path().join(".env"), "DATABASE_PASSWORD=never-leaves\n").expect(".env");
    let profile = home.path().join("commands.toml");
    std::fs::write(&profile, PROFILE).expect("profile");
    Fixture { home, ws, profile }
}

impl Fixture {
    /// Run the adversary's `exec` case: `program` with space-separated `args`.
    fn exec(&self, program: &str, args: &str, extra_env: &[(&str, &str)]) -> Output {
        self.exec_in(self.ws.path(), program, args, extra_env)
    }

    /// [`Self::exec`] with the workspace at `ws`.
    fn exec_in(&self, ws: &Path, program: &str, args: &str, extra_env: &[(&str, &str)]) -> Output {
        let mut cmd = airlock_command(self.home.path());
        cmd.args(["run", guests::ADVERSARY, "--allow-unsigned", "-w"])
            .arg(ws)
            .arg("--profile")
            .arg(&self.profile)
            .args(["--arg", "case=exec", "--arg"])
            .arg(format!("program={program}"))
            .arg("--arg")
            .arg(format!("args={args}"));
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null()).output().expect("run airlock")
    }

    fn audit_json(&self) -> Vec<serde_json::Value> {
        let out = airlock(
            self.home.path(),
            &["audit", "show", "--json", "--limit", "0"],
        );
        text(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

fn stdout(out: &Output) -> String {
    text(&out.stdout)
}

fn write(ws: &Path, name: &str, text: &str) {
    std::fs::write(ws.join(name), text).expect("write script");
}

#[test]
fn a_command_cannot_reach_a_listener_on_the_hosts_loopback() {
    let f = fixture();
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    // The connection attempt is in a script file: an inline `bash -c` with
    // /dev/tcp would be flagged as outbound and need a person's yes.
    write(
        f.ws.path(),
        "probe.sh",
        "if exec 3<>/dev/tcp/127.0.0.1/$1; then echo CONNECTED; else echo REFUSED; fi\n",
    );
    let out = f.exec("bash", &format!("probe.sh {port}"), &[]);
    let text = stdout(&out);
    assert!(text.contains("REFUSED"), "{text}");
    assert!(!text.contains("CONNECTED"), "{text}");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        listener.accept().is_err(),
        "the listener accepted a connection from the sandbox"
    );
    // The same probe from outside the sandbox does connect: the test's
    // listener works, the sandbox is what stops it.
    let outside = Command::new("bash")
        .arg(f.ws.path().join("probe.sh"))
        .arg(port.to_string())
        .output()
        .expect("bash");
    assert!(stdout(&outside).contains("CONNECTED"));
}

#[test]
fn a_command_sees_only_a_loopback_interface_and_no_route() {
    let f = fixture();
    let out = f.exec("cat", "/proc/net/dev /proc/net/route", &[]);
    let text = stdout(&out);
    // /proc/net/dev: two header lines, then one `NAME: counters` line each.
    let interfaces: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with(" face |"))
        .skip(1)
        .take_while(|l| !l.starts_with("Iface"))
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.trim()))
        .collect();
    assert_eq!(interfaces, ["lo"], "{text}");
    let routes = text
        .lines()
        .skip_while(|l| !l.starts_with("Iface"))
        .skip(1)
        .take_while(|l| !l.starts_with("stderr:"))
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(routes, 0, "{text}");
}

#[test]
fn a_command_gets_none_of_the_callers_secrets() {
    let f = fixture();
    let secrets = [
        ("AIRLOCK_TEST_SECRET_TOKEN", "tok-123-do-not-leak"),
        ("AWS_SECRET_ACCESS_KEY", "aws-secret-do-not-leak"),
        ("HTTPS_PROXY", "http://proxy.invalid:3128"),
        ("SSH_AUTH_SOCK", "/tmp/agent-do-not-leak"),
    ];
    write(f.ws.path(), "env.sh", "env\n");
    let out = f.exec("bash", "env.sh", &secrets);
    let text = stdout(&out);
    assert!(text.contains("PATH="), "the command ran: {text}");
    for (key, value) in secrets {
        assert!(!text.contains(key), "{key} reached the command:\n{text}");
        assert!(!text.contains(value), "{key}'s value reached the command");
    }
    // Secret files are hidden even inside the workspace, and the caller's
    // home is not visible.
    let out = f.exec("cat", ".env", &[]);
    assert!(!stdout(&out).contains("never-leaves"), "{}", stdout(&out));
}

#[test]
fn writes_land_in_the_workspace_only() {
    let f = fixture();
    // A command's changes are reviewed like a skill's edits: this profile
    // lets them through without asking.
    std::fs::write(
        &f.profile,
        PROFILE.replace("[commands]\n", "[edits]\nmode = \"allow\"\n[commands]\n"),
    )
    .expect("profile");
    let outside = tempfile::tempdir().expect("outside");
    let target = outside.path().join("planted.txt");
    // A name no other test or process uses: the command's /tmp is its own,
    // so the host's must not get it.
    let scratch = format!(
        "/tmp/airlock-scratch-{}-{}.txt",
        std::process::id(),
        outside
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    write(
        f.ws.path(),
        "writes.sh",
        &format!(
            "echo built > out.txt\necho x > {scratch} && echo TMP-OK\necho x > {} || echo OUTSIDE-REFUSED\necho x > .git/hooks/pre-commit || echo GIT-REFUSED\n",
            target.display()
        ),
    );
    let text = stdout(&f.exec("bash", "writes.sh", &[]));
    assert_eq!(
        std::fs::read_to_string(f.ws.path().join("out.txt")).expect("written in the workspace"),
        "built\n"
    );
    assert!(text.contains("OUTSIDE-REFUSED"), "{text}");
    assert!(text.contains("GIT-REFUSED"), "{text}");
    assert!(text.contains("TMP-OK"), "{text}");
    assert!(!target.exists(), "a file was written outside the workspace");
    assert!(
        !Path::new(&scratch).exists(),
        "the command's {scratch} reached the host"
    );
    assert!(!f.ws.path().join(".git/hooks/pre-commit").exists());
}

/// Build tools decide what to rebuild by comparing file times: in the
/// command's copy of the workspace, every file keeps its modification time,
/// so `make` rebuilds a program after its source was edited (and only then).
#[test]
fn a_command_sees_the_file_times_so_make_rebuilds_after_an_edit() {
    let f = fixture();
    let at = |secs: u64| std::time::UNIX_EPOCH + Duration::from_secs(secs);
    let set = |name: &str, secs: u64| {
        std::fs::File::options()
            .write(true)
            .open(f.ws.path().join(name))
            .expect("open")
            .set_modified(at(secs))
            .expect("set the time");
    };
    write(
        f.ws.path(),
        "prog.c",
        "int main(void) { return 0; }
",
    );
    write(
        f.ws.path(),
        "prog",
        "built earlier
",
    );
    write(
        f.ws.path(),
        "times.sh",
        "if [ prog.c -nt prog ]; then echo REBUILD; else echo UP-TO-DATE; fi
         echo \"prog.c=$(date -r prog.c +%s) prog=$(date -r prog +%s)\"\n",
    );
    // Built after the source was last changed: nothing to do.
    set("prog.c", 1_000_000_000);
    set("prog", 1_000_000_100);
    let text = stdout(&f.exec("bash", "times.sh", &[]));
    assert!(text.contains("UP-TO-DATE"), "{text}");
    assert!(text.contains("prog.c=1000000000 prog=1000000100"), "{text}");
    // The source edited since: rebuild.
    set("prog.c", 1_000_000_200);
    let text = stdout(&f.exec("bash", "times.sh", &[]));
    assert!(text.contains("REBUILD"), "{text}");
    assert!(text.contains("prog.c=1000000200 prog=1000000100"), "{text}");
}

#[test]
fn a_program_the_profile_does_not_list_is_refused_before_anyone_is_asked() {
    let f = fixture();
    let out = f.exec("rm", "-rf src", &[]);
    let text = stdout(&out);
    assert!(
        text.contains("err: access-denied|exec|rm|the profile does not list `rm`"),
        "{text}"
    );
    assert!(f.ws.path().join("src/main.txt").exists());
    let records = f.audit_json();
    assert!(
        !records.iter().any(|r| r["kind"] == "approval"),
        "no approval was even asked for"
    );
    assert!(records.iter().any(|r| r["kind"] == "access"
        && r["data"]["op"] == "exec"
        && r["data"]["allowed"] == false));
}

#[test]
fn a_risky_command_asks_even_when_the_profile_allows_the_program() {
    let f = fixture();
    // `git status` under "allow" runs without asking...
    let out = f.exec("git", "status", &[]);
    assert!(stdout(&out).contains("ok: exit="), "{}", stdout(&out));
    // ...`git push` under the same "allow" needs a person: with nobody to
    // ask (no terminal), it is refused, naming why it is risky.
    let out = f.exec("git", "push origin main", &[]);
    let text = stdout(&out);
    assert!(text.contains("err: access-denied|exec|git|"), "{text}");
    let records = f.audit_json();
    let push = records
        .iter()
        .find(|r| r["kind"] == "approval" && r["data"]["request"]["subject"]["args"][0] == "push")
        .expect("the push's approval is recorded");
    assert_eq!(push["data"]["decision"]["allowed"], false);
    assert_eq!(push["data"]["decision"]["how"], "non-interactive");
    assert!(
        push["data"]["request"]["risks"][0]
            .as_str()
            .unwrap_or_default()
            .contains("remote"),
        "{push}"
    );
    let status = records
        .iter()
        .find(|r| r["kind"] == "approval" && r["data"]["request"]["subject"]["args"][0] == "status")
        .expect("the status's approval is recorded");
    assert_eq!(status["data"]["decision"]["how"], "profile-allow");
}

#[test]
fn a_command_is_killed_at_its_timeout_and_output_is_capped() {
    let f = fixture();
    let profile = PROFILE.replace("timeout-seconds = 20", "timeout-seconds = 1");
    std::fs::write(&f.profile, profile).expect("profile");
    let out = f.exec("sleep", "30", &[]);
    let text = stdout(&out);
    assert!(text.contains("timed-out=true"), "{text}");
    std::fs::write(&f.profile, PROFILE).expect("profile");
    write(
        f.ws.path(),
        "big.sh",
        "head -c 100000 /dev/zero | tr '\\0' y\n",
    );
    let text = stdout(&f.exec("bash", "big.sh", &[]));
    assert!(text.contains("truncated=true"), "{text}");
    let ys = text.chars().filter(|c| *c == 'y').count();
    assert!(ys <= 4096 + 16, "{ys} bytes kept, over the 4096 cap");
    let records = f.audit_json();
    assert!(
        records
            .iter()
            .any(|r| r["kind"] == "command" && r["data"]["timed-out"] == true)
    );
}

#[test]
fn an_ask_command_without_a_terminal_is_refused_naming_the_profile_key() {
    let f = fixture();
    let out = f.exec("ls", "-la", &[]);
    let text = stdout(&out);
    assert!(text.contains("err: access-denied|exec|ls|"), "{text}");
    assert!(text.contains("commands.programs.ls = \"allow\""), "{text}");
}

#[test]
fn a_command_keeps_no_capability_and_cannot_make_the_system_writable() {
    let f = fixture();
    write(
        f.ws.path(),
        "escape.sh",
        "grep CapEff /proc/self/status\n\
         if mount -o remount,rw,bind / / 2>/dev/null; then echo REMOUNTED; else echo REMOUNT-REFUSED; fi\n\
         if touch /etc/airlock-escape-probe 2>/dev/null; then echo ETC-WRITTEN; else echo ETC-REFUSED; fi\n",
    );
    let text = stdout(&f.exec("bash", "escape.sh", &[]));
    assert!(text.contains("CapEff:\t0000000000000000"), "{text}");
    assert!(text.contains("REMOUNT-REFUSED"), "{text}");
    assert!(text.contains("ETC-REFUSED"), "{text}");
    assert!(!Path::new("/etc/airlock-escape-probe").exists());
}

#[test]
fn unix_sockets_in_tmp_and_run_are_out_of_reach() {
    let f = fixture();
    let dir = tempfile::Builder::new()
        .prefix("airlock-sock-")
        .tempdir_in("/tmp")
        .expect("a folder in /tmp");
    let path = dir.path().join("daemon.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).expect("a socket in /tmp");
    listener.set_nonblocking(true).expect("nonblocking");
    write(
        f.ws.path(),
        "sock.sh",
        &format!(
            "if [ -e {p} ]; then echo SOCKET-VISIBLE; else echo SOCKET-HIDDEN; fi\nls /run | wc -l\n",
            p = path.display()
        ),
    );
    let text = stdout(&f.exec("bash", "sock.sh", &[]));
    assert!(text.contains("SOCKET-HIDDEN"), "{text}");
    assert!(text.contains("\n0\n"), "/run is empty inside: {text}");
    assert!(listener.accept().is_err());
}

/// Run the adversary's `programs` case under `profile` (TOML text).
fn allowed_programs(profile: &str) -> Output {
    let f = fixture();
    let path = f.home.path().join("programs.toml");
    std::fs::write(&path, profile).expect("profile");
    airlock_command(f.home.path())
        .args(["run", guests::ADVERSARY, "--allow-unsigned", "-w"])
        .arg(f.ws.path())
        .arg("--profile")
        .arg(&path)
        .args(["--arg", "case=programs"])
        .stdin(Stdio::null())
        .output()
        .expect("run airlock")
}

#[test]
fn a_skill_learns_the_programs_it_may_run_and_how_each_is_approved() {
    let out = allowed_programs(
        r#"name = "programs"
[[grant]]
path = "."
access = "read"
[commands.programs]
true = "allow"
rm = "deny"
make = "ask"
"#,
    );
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // In name order; `rm`, which the profile denies, is not listed.
    assert!(
        text.lines().any(|l| l == "ok: make(ask) true(allow)"),
        "{text}"
    );
    assert!(!text.contains("rm"), "{text}");
    // A profile that lists no programs: an empty list.
    let out = allowed_programs("name = \"none\"\n[[grant]]\npath = \".\"\naccess = \"read\"\n");
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.lines().any(|l| l.trim_end() == "ok:"), "{text}");
}

/// A granted folder that is a symbolic link in the workspace must not bind
/// the folder it points to into the command. The relative link has exactly
/// as many `..` as the workspace is deep: from the workspace inside the
/// sandbox it names `other` in the read-only copy (so bubblewrap accepts the
/// mount point), while from the copy on the host (no deeper than the
/// workspace) it names the real `other`, which the profile grants read-only.
#[test]
fn a_symlinked_grant_cannot_bind_the_real_workspace_into_a_command() {
    const SPLIT: &str = r#"name = "split"
[[grant]]
path = "."
access = "read"
[[grant]]
path = "src"
access = "read-write"
[edits]
mode = "allow"
[commands.programs]
bash = "allow"
[commands]
timeout-seconds = 20
max-output-bytes = 4096
"#;
    for relative in [true, false] {
        let f = fixture();
        std::fs::write(&f.profile, SPLIT).expect("profile");
        let ws =
            f.ws.path()
                .canonicalize()
                .expect("workspace path")
                .join("a/b/c/d/e/f/g/h/i/j/ws");
        std::fs::create_dir_all(ws.join("other")).expect("other");
        std::fs::write(ws.join("other/kept.txt"), "kept\n").expect("kept");
        let other = ws.join("other");
        let link = if relative {
            let depth = ws.components().count() - 1;
            Path::new(&"../".repeat(depth)).join(other.strip_prefix("/").expect("absolute"))
        } else {
            other.clone()
        };
        std::os::unix::fs::symlink(&link, ws.join("src")).expect("symlink");
        write(
            &ws,
            "plant.sh",
            "echo PWNED > src/planted.txt && echo PLANTED || echo PLANT-REFUSED\n",
        );
        let out = f.exec_in(&ws, "bash", "plant.sh", &[]);
        let said = format!("{}{}", stdout(&out), text(&out.stderr));
        assert!(
            !other.join("planted.txt").exists(),
            "relative link: {relative}: the command wrote into the real `other` through `src`: {said}"
        );
        assert_eq!(
            std::fs::read_link(ws.join("src")).expect("src is still a link"),
            link,
            "relative link: {relative}"
        );
        assert_eq!(
            std::fs::read_to_string(other.join("kept.txt")).expect("kept"),
            "kept\n"
        );
        assert_eq!(
            std::fs::read_dir(&other).expect("other").count(),
            1,
            "relative link: {relative}: `other` changed: {said}"
        );
        assert!(
            said.contains("PLANT-REFUSED"),
            "relative link: {relative}: {said}"
        );
    }
}
