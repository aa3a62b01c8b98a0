//! Attacks on the workspace's names, each named after what it tries: a hard
//! link that gives a secret an innocent name, a directory swapped for a
//! symbolic link between the check and the open, a FIFO that would block
//! the host, and a planted link that `airlock undo` would write through.
//! Real `airlock`, the `adversary` test guest; each attack worked on b2782b7.
#![cfg(unix)]

use crate::support::{airlock_command, describe, text};
use airlock_tests::guests;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What the secret files hold; it must never reach the skill or the log.
const SECRET: &str = "SECRET-9f2c1e-credential";

struct Case {
    home: PathBuf,
    ws: PathBuf,
    dir: PathBuf,
    _dirs: Vec<tempfile::TempDir>,
}

fn case() -> Case {
    let ws = tempfile::tempdir().expect("workspace");
    let other = tempfile::tempdir().expect("home");
    Case {
        home: other.path().join("home"),
        ws: ws.path().to_path_buf(),
        dir: other.path().to_path_buf(),
        _dirs: vec![ws, other],
    }
}

impl Case {
    fn path(&self, rel: &str) -> PathBuf {
        self.ws.join(rel)
    }

    fn write(&self, rel: &str, content: &str) {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, content).expect("write a workspace file");
    }

    /// A profile file granting the whole workspace, plus `extra` TOML.
    fn profile(&self, name: &str, access: &str, extra: &str) -> String {
        let path = self.dir.join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!("name = \"{name}\"\n{extra}\n[[grant]]\npath = \".\"\naccess = \"{access}\"\n"),
        )
        .expect("write the profile");
        path.to_str().expect("UTF-8 temp path").to_string()
    }

    fn airlock(&self) -> std::process::Command {
        airlock_command(&self.home)
    }

    /// `airlock run adversary` with `args` as `--arg`s, under `profile`.
    fn run(&self, profile: &str, args: &[&str]) -> Output {
        let mut cmd = self.airlock();
        cmd.args(["run", guests::ADVERSARY, "--allow-unsigned", "-w"])
            .arg(&self.ws)
            .args(["--profile", profile]);
        for a in args {
            cmd.args(["--arg", a]);
        }
        cmd.stdin(Stdio::null()).output().expect("run airlock")
    }

    /// The skill's one-line report (`ok: …` or `err: …`).
    fn report(&self, profile: &str, args: &[&str]) -> String {
        let out = self.run(profile, args);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        assert!(
            !text(&out.stdout).contains(SECRET) && !text(&out.stderr).contains(SECRET),
            "the secret reached the output: {}",
            describe(&out)
        );
        text(&out.stdout).trim_end().to_string()
    }

    /// Every file under the state directory (audit log, undo copies) holds
    /// no byte of the secret.
    fn assert_no_secret_in_home(&self) {
        let mut stack = vec![self.home.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("list home").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    assert!(
                        !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                        "the secret is in {}",
                        path.display()
                    );
                }
            }
        }
    }
}

#[test]
fn hard_link_notes_txt_to_env_is_withheld() {
    let c = case();
    c.write(".env", &format!("API_KEY={SECRET}\n"));
    std::fs::hard_link(c.path(".env"), c.path("notes.txt")).expect("link notes.txt to .env");
    c.write("a.txt", "shared content\n");
    std::fs::hard_link(c.path("a.txt"), c.path("b.txt")).expect("link b.txt to a.txt");

    // Default (`hard-links = "withhold"`): any multi-link file is withheld.
    let ro = "read-only";
    let out = c.report(ro, &["case=read", "path=notes.txt"]);
    assert!(
        out.starts_with(
            "err: access-denied|workspace-read|notes.txt|withheld: it has 2 hard links"
        ),
        "{out}"
    );
    assert!(out.contains("hard-links = \"allow\""), "{out}");
    let out = c.report(ro, &["case=read-range", "path=notes.txt"]);
    assert!(out.starts_with("err: access-denied|"), "{out}");
    let out = c.report(ro, &["case=search", "path=.", "pattern=API_KEY"]);
    assert!(out.contains("withheld notes.txt"), "{out}");
    let out = c.report(ro, &["case=read", "path=b.txt"]);
    assert!(out.starts_with("err: access-denied|"), "{out}");
    // Listing may still show it; only its content is withheld.
    let out = c.report(ro, &["case=stat", "path=notes.txt"]);
    assert!(out.starts_with("ok: notes.txt"), "{out}");

    // `hard-links = "allow"`: a link among ordinary files is read, a second
    // name of a deny-listed file never is.
    let allow = c.profile("links", "read", "hard-links = \"allow\"");
    assert_eq!(
        c.report(&allow, &["case=read", "path=b.txt"]),
        "ok: shared content"
    );
    let out = c.report(&allow, &["case=read", "path=notes.txt"]);
    assert!(
        out.starts_with("err: access-denied|workspace-read|notes.txt|")
            && out.contains("hard link to a deny-listed file"),
        "{out}"
    );
    let out = c.report(&allow, &["case=search", "path=.", "pattern=API_KEY"]);
    assert!(out.contains("withheld notes.txt"), "{out}");

    // Changing it would put its content in the diff, the audit log and the
    // undo copy: refused, also under `edits.mode = "allow"`.
    let rw = c.profile("rw", "read-write", "[edits]\nmode = \"allow\"");
    let out = c.report(&rw, &["case=write", "path=notes.txt", "content=x"]);
    assert!(
        out.starts_with(
            "err: access-denied|workspace-write|notes.txt|withheld: it has 2 hard links"
        ),
        "{out}"
    );
    let out = c.report(&rw, &["case=rm", "path=notes.txt"]);
    assert!(out.starts_with("err: access-denied|"), "{out}");
    assert_eq!(
        std::fs::read_to_string(c.path(".env")).expect(".env"),
        format!("API_KEY={SECRET}\n")
    );
    c.assert_no_secret_in_home();
}

#[test]
fn symlink_swapped_by_host_thread_never_yields_secret() {
    const READS: u64 = 10_000;
    let c = case();
    c.write(".ssh/x", SECRET);
    c.write("d/x", "harmless");
    // `swap` is a symbolic link to the secret directory; the host thread
    // exchanges the names `d` and `swap` atomically, again and again, so
    // `d` is sometimes the directory and sometimes the link. A check on the
    // name `d/x` followed by an open that follows `d` would read `.ssh/x`.
    symlink(".ssh", c.path("swap")).expect("symlink");
    let root = std::fs::File::open(&c.ws).expect("open the workspace");
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let swapper = {
        let (stop, swaps) = (Arc::clone(&stop), Arc::clone(&swaps));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                rustix::fs::renameat_with(
                    &root,
                    "d",
                    &root,
                    "swap",
                    rustix::fs::RenameFlags::EXCHANGE,
                )
                .expect("exchange d and swap");
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let profile = c.profile(
        "swap",
        "read",
        "[limits]\nmax-denials = 100000\nwall-clock-seconds = 600\nmax-bytes-read = 1073741824",
    );
    let out = c.run(
        &profile,
        &[
            "case=read-tally",
            "path=d/x",
            &format!("n={READS}"),
            // A prefix: the run's arguments are in the audit log.
            &format!("marker={}", &SECRET[..13]),
        ],
    );
    stop.store(true, Ordering::Relaxed);
    swapper.join().expect("the swapping thread");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report = text(&out.stdout);
    let count = |key: &str| -> u64 {
        report
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{key}=")))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {key}= in {report}"))
    };
    assert_eq!(count("secret"), 0, "secret bytes were read: {report}");
    assert_eq!(
        count("clean") + count("denied") + count("other"),
        READS,
        "{report}"
    );
    assert!(
        count("clean") > 0,
        "some reads found the directory: {report}"
    );
    assert!(
        swaps.load(Ordering::Relaxed) > READS,
        "the names were swapped throughout"
    );
    assert!(!report.contains(SECRET), "{report}");
    eprintln!("{report}");
    c.assert_no_secret_in_home();
}

#[test]
fn fifo_read_returns_error_at_once() {
    let c = case();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        c.path("pipe").as_path(),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .expect("mkfifo");
    // No one ever opens the FIFO's other end: opening it for reading would
    // block the host forever, and the run's clock cannot interrupt a
    // blocked host call. A watchdog ends such a run so the test reports it.
    let child = c
        .airlock()
        .args(["run", guests::ADVERSARY, "--allow-unsigned", "-w"])
        .arg(&c.ws)
        .args([
            "--profile",
            "read-only",
            "--arg",
            "case=read",
            "--arg",
            "path=pipe",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run airlock");
    let pid = child.id();
    let finished = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let finished = Arc::clone(&finished);
        std::thread::spawn(move || {
            for _ in 0..600 {
                if finished.load(Ordering::Relaxed) {
                    return false;
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
            true
        })
    };
    let out = child.wait_with_output().expect("wait for airlock");
    finished.store(true, Ordering::Relaxed);
    let hung = watchdog.join().expect("watchdog");
    assert!(
        !hung,
        "the read of a FIFO blocked the run until it was killed"
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(
        text(&out.stdout).trim_end(),
        "err: invalid-input|`pipe` is a FIFO; only regular files and directories can be read"
    );
}

#[test]
fn undo_through_planted_symlink_does_not_write_outside() {
    let c = case();
    let config = "[remote \"origin\"]\n\turl = https://user:token@example.com/repo\n";
    c.write(".git/config", config);
    c.write("notes.txt", "old notes\n");
    c.write("sub/f.txt", "old f\n");
    let profile = c.profile("rw", "read-write", "[edits]\nmode = \"allow\"");
    let run_id = |out: &Output| -> String {
        let stderr = text(&out.stderr);
        let at = stderr
            .find("audit: run ")
            .unwrap_or_else(|| panic!("no run id: {}", describe(out)))
            + "audit: run ".len();
        stderr[at..]
            .split_whitespace()
            .next()
            .expect("run id")
            .to_string()
    };
    let write = |path: &str| -> String {
        let out = c.run(
            &profile,
            &["case=write", &format!("path={path}"), "content=new"],
        );
        assert_eq!(
            text(&out.stdout).trim_end(),
            "ok: written",
            "{}",
            describe(&out)
        );
        run_id(&out)
    };
    let undo = |run: &str, force: bool| -> Output {
        let mut cmd = c.airlock();
        cmd.args(["undo", run]);
        if force {
            cmd.arg("--force");
        }
        cmd.stdin(Stdio::null()).output().expect("airlock undo")
    };
    let git_config = || std::fs::read_to_string(c.path(".git/config")).expect("read .git/config");

    // 1. The temporary name undo used to write through is planted as a
    //    link to `.git/config`: undo restores the file and never opens it.
    let run = write("notes.txt");
    symlink(".git/config", c.path("notes.txt.airlock-undo.tmp")).expect("plant");
    let out = undo(&run, false);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(git_config(), config, "undo wrote through the planted link");
    assert_eq!(
        std::fs::read_to_string(c.path("notes.txt")).expect("notes"),
        "old notes\n"
    );
    assert!(
        std::fs::symlink_metadata(c.path("notes.txt.airlock-undo.tmp"))
            .expect("the plant is still there")
            .file_type()
            .is_symlink()
    );

    // 2. The target itself becomes a link to `.git/config` (`--force`, past
    //    the conflict check): the link is replaced, its target untouched.
    let run = write("notes.txt");
    std::fs::remove_file(c.path("notes.txt")).expect("rm");
    symlink(".git/config", c.path("notes.txt")).expect("swap in a link");
    let out = undo(&run, false);
    assert_eq!(out.status.code(), Some(2), "a conflict: {}", describe(&out));
    let out = undo(&run, true);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(git_config(), config);
    assert!(
        !std::fs::symlink_metadata(c.path("notes.txt"))
            .expect("notes")
            .is_symlink()
    );

    // 3. A directory on the path becomes a link to `.git`: undo refuses
    //    rather than restore `sub/f.txt` into `.git/f.txt`.
    let run = write("sub/f.txt");
    std::fs::rename(c.path("sub"), c.path("sub-moved")).expect("move sub away");
    symlink(".git", c.path("sub")).expect("sub -> .git");
    let out = undo(&run, true);
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("cannot restore sub/f.txt"),
        "{}",
        describe(&out)
    );
    assert!(!c.path(".git/f.txt").exists(), "undo wrote into .git");
    assert_eq!(git_config(), config);
    let git: Vec<_> = std::fs::read_dir(c.path(".git"))
        .expect("list .git")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(git, vec![std::ffi::OsString::from("config")], "{git:?}");
}
