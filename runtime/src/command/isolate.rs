//! The bubblewrap invocation: what a command can see and reach.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where bubblewrap is looked for (never on a caller-controlled PATH).
const BWRAP: &[&str] = &["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"];

/// One command to run.
#[derive(Debug, Clone)]
pub struct CommandRequest {
    /// A program name (looked up on the sandbox's PATH) or an absolute path.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The working directory, workspace-relative (checked by the caller).
    pub cwd: String,
    /// Killed after this long.
    pub timeout: Duration,
    /// Bytes kept of stdout, and of stderr.
    pub max_output_bytes: usize,
    /// Workspace-relative paths the command must not see (deny-listed
    /// files and folders): files become empty, folders empty.
    pub masked: Vec<String>,
    /// Workspace-relative folders the command may read but not change
    /// (`.git`: hooks and config could run code later).
    pub read_only: Vec<String>,
    /// Absolute folders outside the workspace to hide (Airlock's state).
    pub hidden: Vec<PathBuf>,
    /// The caller's environment, from which the allowlist is taken.
    pub caller_env: BTreeMap<String, String>,
}

/// What a finished command left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    /// The exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Standard output (lossy UTF-8), cut at the limit.
    pub stdout: String,
    /// Standard error, cut at the limit.
    pub stderr: String,
    /// Whether stdout was cut.
    pub stdout_truncated: bool,
    /// Whether stderr was cut.
    pub stderr_truncated: bool,
    /// Whether the timeout killed it.
    pub timed_out: bool,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// Why a command did not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The isolation cannot be set up here: nothing runs.
    #[error("the command sandbox is unavailable: {0}; Airlock never runs a command without it")]
    Unavailable(String),
    /// The program is not on the sandbox's PATH.
    #[error(
        "program `{0}` was not found on the PATH (the sandbox's PATH is the caller's, minus relative entries)"
    )]
    NotFound(String),
    /// The working directory is not inside the workspace.
    #[error("working directory {0:?} is not a folder inside the workspace")]
    BadCwd(String),
    /// Starting or waiting failed.
    #[error("cannot run the command: {0}")]
    Io(String),
}

fn bwrap() -> Option<&'static str> {
    BWRAP.iter().copied().find(|p| Path::new(p).is_file())
}

/// Whether the sandbox can be set up here (checked once per process).
pub fn probe() -> Result<&'static str, ExecError> {
    static PROBE: OnceLock<Result<&'static str, String>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let Some(bwrap) = bwrap() else {
                return Err("bubblewrap (bwrap) is not installed; install it (`apt-get install bubblewrap`, or run scripts/setup)".into());
            };
            let out = Command::new(bwrap)
                .args(["--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent"])
                .args(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--", "true"])
                .env_clear()
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("cannot start {bwrap}: {e}"))?;
            if out.status.success() {
                Ok(bwrap)
            } else {
                Err(format!(
                    "{bwrap} cannot create namespaces here ({}); enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0)",
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        })
        .clone()
        .map_err(ExecError::Unavailable)
}

fn find_program(program: &str, path: &str) -> Option<PathBuf> {
    if program.starts_with('/') {
        return Path::new(program).is_file().then(|| PathBuf::from(program));
    }
    if program.contains('/') {
        return None;
    }
    path.split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

/// Run `req` in the workspace at `root`.
pub fn run(root: &Path, req: &CommandRequest) -> Result<CommandOutcome, ExecError> {
    let bwrap = probe()?;
    let root = root.canonicalize().map_err(|e| {
        ExecError::Io(format!(
            "cannot resolve the workspace {}: {e}",
            root.display()
        ))
    })?;
    let cwd = root
        .join(&req.cwd)
        .canonicalize()
        .ok()
        .filter(|c| c.starts_with(&root) && c.is_dir())
        .ok_or_else(|| ExecError::BadCwd(req.cwd.clone()))?;
    let env = super::env::build(&req.caller_env);
    let path = env.get("PATH").cloned().unwrap_or_default();
    let program = find_program(&req.program, &path)
        .ok_or_else(|| ExecError::NotFound(req.program.clone()))?;

    let mut args: Vec<String> = [
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "airlock-sandbox",
        "--die-with-parent",
        "--new-session",
        // Run as root, bwrap would otherwise keep every capability, and a
        // command could remount the read-only system writable.
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        // Private temporary and runtime folders: a new network namespace
        // does not cut Unix sockets (a resolver, Docker, D-Bus, SSH agents),
        // and those live here.
        "--tmpfs",
        "/tmp",
        "--tmpfs",
        "/var/tmp",
        "--tmpfs",
        "/run",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    let mut add = |words: &[&str]| args.extend(words.iter().map(|w| (*w).to_string()));
    // The caller's home is hidden (keys, tokens, shell history), except the
    // toolchains a build needs, read-only.
    if let Some(home) = req
        .caller_env
        .get("HOME")
        .filter(|h| h.starts_with('/') && Path::new(h).is_dir() && *h != "/")
    {
        add(&["--tmpfs", home]);
        // Toolchain managers whose shims on the PATH need their own folders
        // (pyenv, nvm) are kept too.
        let mut keep: Vec<PathBuf> = [
            ".rustup",
            ".cargo/bin",
            ".cargo/registry",
            ".cargo/git",
            ".pyenv",
            ".nvm",
        ]
        .iter()
        .map(|d| Path::new(home).join(d))
        .collect();
        keep.extend(
            path.split(':')
                .filter(|d| Path::new(d).starts_with(home))
                .map(PathBuf::from),
        );
        for dir in keep {
            if dir.is_dir() && !dir.starts_with(&root) {
                let d = dir.display().to_string();
                add(&["--ro-bind", &d, &d]);
            }
        }
    }
    for hidden in req.hidden.iter().filter_map(|h| h.canonicalize().ok()) {
        if hidden.is_dir() && !root.starts_with(&hidden) {
            let d = hidden.display().to_string();
            add(&["--tmpfs", &d]);
        }
    }
    let r = root.display().to_string();
    add(&["--bind", &r, &r]);
    for ro in &req.read_only {
        let p = root.join(ro);
        if p.is_dir() {
            let d = p.display().to_string();
            add(&["--ro-bind", &d, &d]);
        }
    }
    for masked in &req.masked {
        let p = root.join(masked);
        let d = p.display().to_string();
        if p.is_dir() {
            add(&["--tmpfs", &d]);
        } else if p.exists() {
            add(&["--ro-bind", "/dev/null", &d]);
        }
    }
    let c = cwd.display().to_string();
    add(&["--chdir", &c, "--clearenv"]);
    for (k, v) in &env {
        add(&["--setenv", k, v]);
    }
    args.push("--".into());
    args.push(program.display().to_string());
    args.extend(req.args.iter().cloned());

    let started = Instant::now();
    let mut child = Command::new(bwrap)
        .args(&args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ExecError::Io(format!("cannot start {bwrap}: {e}")))?;
    let cap = req.max_output_bytes;
    let reader = |stream: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut cut = false;
            if let Some(mut s) = stream {
                let mut buf = [0u8; 8192];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let room = cap.saturating_sub(kept.len());
                            kept.extend_from_slice(&buf[..n.min(room)]);
                            cut |= n > room;
                        }
                    }
                }
            }
            (String::from_utf8_lossy(&kept).into_owned(), cut)
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let deadline = started + req.timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().map_err(|e| ExecError::Io(e.to_string()))?;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(ExecError::Io(e.to_string())),
        }
    };
    let elapsed = started.elapsed();
    let (stdout, stdout_truncated) = out.join().unwrap_or_default();
    let (stderr, stderr_truncated) = err.join().unwrap_or_default();
    // bwrap reports a child killed by signal N as exit status 128 + N.
    let (exit_code, signal) = match (status.code(), status.signal()) {
        (_, Some(sig)) => (None, Some(sig)),
        (Some(code), None) if code > 128 && code < 128 + 65 && timed_out => {
            (None, Some(code - 128))
        }
        (code, None) => (code, None),
    };
    Ok(CommandOutcome {
        exit_code,
        signal,
        stdout,
        stderr,
        stdout_truncated,
        stderr_truncated,
        timed_out,
        elapsed,
    })
}
