//! The bubblewrap invocation: what a command can see and reach.
//!
//! The view is built from nothing (bubblewrap's root is an empty tmpfs) and
//! holds only:
//! - the toolchain, read-only: `/usr` and the `/bin`, `/sbin`, `/lib*`
//!   links or folders; from `/etc` only [`ETC_ALLOWED`]; the toolchain
//!   folders under the caller's home ([`HOME_TOOLCHAINS`] and `PATH`
//!   entries there) and `PATH` entries under `/opt`;
//! - a private, size-capped `/tmp`, a minimal `/dev`, and `/proc` of the
//!   command's own PID namespace;
//! - the workspace mounts the caller gives (a private copy of the granted
//!   workspace, version-control folders read-only), where every `.git`
//!   mount has its `config` files covered by an empty read-only file
//!   ([`git_config_masks`]): git needs the objects, not the remotes'
//!   credential URLs;
//! - nothing else: no other part of any home, no `/mnt`, `/media`, `/srv`,
//!   `/run`, `/var`, no host sockets.
//!
//! Airlock's state directory is masked with an empty tmpfs wherever a mount
//! would show it, and those masks are issued after every bind, so no later
//! bind can uncover it. The command runs under a seccomp filter
//! ([`super::seccomp`]), with every capability dropped, in new network,
//! PID, IPC, UTS and cgroup namespaces, under the limits of
//! [`super::limits`].

// Ambient std::fs allowed: builds bubblewrap's view of the host (/usr, /etc, toolchains, PATH).
#![allow(clippy::disallowed_methods)]

use super::limits::{Confinement, LimitsError};
use super::seccomp::SeccompError;
use airlock_policy::profile::CommandLimits;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where bubblewrap is looked for (never on a caller-controlled PATH).
const BWRAP: &[&str] = &["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"];

/// System folders (or their compatibility links) shown read-only.
pub const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];

/// What a command sees of `/etc`: what compilers, interpreters and the
/// dynamic linker read. Never `shadow`, `gshadow`, `sudoers`, ssh host
/// keys, or tool configuration that may hold credentials (`pip.conf`,
/// `npmrc`, `gitconfig`).
pub const ETC_ALLOWED: &[&str] = &[
    "alternatives",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "passwd",
    "group",
    "nsswitch.conf",
    "localtime",
    "timezone",
    "ssl",
    "ca-certificates",
    "ca-certificates.conf",
    "hosts",
    "host.conf",
    "gai.conf",
    "protocols",
    "services",
    "mime.types",
    "os-release",
    "debian_version",
    "perl",
    "python3",
    "inputrc",
    "bash.bashrc",
    "profile",
    "magic",
    "magic.mime",
    "maven",
];

/// `/etc` entries with these prefixes are shown too (versioned folders:
/// `python3.11`, `java-17-openjdk`).
pub const ETC_ALLOWED_PREFIXES: &[&str] = &["python3.", "java-"];

/// Toolchain folders under the caller's home, shown read-only when they
/// exist. `.cargo` is shown only in part: its `credentials.toml` is not.
pub const HOME_TOOLCHAINS: &[&str] = &[
    ".rustup",
    ".cargo/bin",
    ".cargo/registry",
    ".cargo/git",
    ".pyenv",
    ".nvm",
];

/// Files in a `.git` folder that a command sees empty: they hold remote
/// URLs, which may carry credentials (`https://user:token@host/…`).
pub const GIT_MASKED_FILES: &[&str] = &["config", "config.worktree"];

/// Folders of a `.git` not searched for [`GIT_MASKED_FILES`]: large, and
/// git keeps no configuration there.
const GIT_MASK_SKIPPED: &[&str] = &["objects", "refs", "logs", "lfs", "hooks"];

/// The most entries searched in one `.git` for files to mask. A bigger
/// `.git` (outside its objects and refs) refuses the command rather than
/// show a configuration unmasked.
pub const MAX_GIT_MASK_ENTRIES: usize = 50_000;

/// One command to run.
#[derive(Debug, Clone)]
pub struct CommandRequest {
    /// A program name (looked up on the sandbox's PATH) or an absolute path.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The working directory, absolute in the command's view (inside a
    /// workspace mount; checked by the caller).
    pub cwd: PathBuf,
    /// Killed after this long.
    pub timeout: Duration,
    /// Bytes kept of stdout, and of stderr.
    pub max_output_bytes: usize,
    /// The workspace as the command sees it, in order (a later mount may
    /// sit inside an earlier one).
    pub mounts: Vec<Mount>,
    /// Absolute folders the command must never see (Airlock's state).
    pub hidden: Vec<PathBuf>,
    /// The caller's environment, from which the allowlist is taken.
    pub caller_env: BTreeMap<String, String>,
    /// The limits of the profile's `[commands]`.
    pub limits: CommandLimits,
}

/// A folder shown to the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The folder on the host.
    pub source: PathBuf,
    /// Where the command sees it.
    pub target: PathBuf,
    /// Whether the command may write it.
    pub writable: bool,
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
    /// The limit the kernel reported stopping it, when one did: the key
    /// and a sentence.
    pub limit: Option<(String, String)>,
    /// The limits in force and how each is enforced.
    pub limits: String,
}

/// Why a command did not run.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The isolation cannot be set up here: nothing runs. Bubblewrap is
    /// missing or cannot create namespaces ([`probe`]; the sentence says
    /// which and what to do).
    #[error("the command sandbox is unavailable: {0}; Airlock never runs a command without it")]
    Unavailable(String),
    /// The command's cgroups could not be configured.
    #[error("the command sandbox is unavailable: {0}; Airlock never runs a command without it")]
    Limits(#[from] LimitsError),
    /// The seccomp filter could not be built.
    #[error("the command sandbox is unavailable: {0}; Airlock never runs a command without it")]
    Seccomp(#[from] SeccompError),
    /// A mounted `.git` folder's configuration could not be masked.
    #[error("the command sandbox is unavailable: {0}; Airlock never runs a command without it")]
    GitMask(#[from] GitMaskError),
    /// The empty file bound over `.git/config` could not be made.
    #[error(
        "the command sandbox is unavailable: cannot make the empty file that masks `.git/config`: {0}; Airlock never runs a command without it"
    )]
    EmptyFile(#[source] std::io::Error),
    /// The program is not on the sandbox's PATH.
    #[error(
        "program `{0}` was not found in the command sandbox (its PATH holds the caller's PATH folders that the sandbox shows: system folders, toolchains under the home, /opt)"
    )]
    NotFound(String),
    /// The working directory is not inside the workspace.
    #[error("working directory {0:?} is not a granted folder inside the workspace")]
    BadCwd(String),
    /// Starting or waiting failed.
    #[error("cannot run the command: {0}")]
    Io(String),
}

pub(crate) fn bwrap() -> Option<&'static str> {
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

/// The read-only part of the view: system folders, the `/etc` allow-list,
/// toolchains. Each is (source, target) with the same path; links at the
/// top level (`/bin -> usr/bin`) are re-created as links.
#[derive(Debug, Default)]
pub struct SystemView {
    /// Read-only binds.
    pub binds: Vec<PathBuf>,
    /// Links at the root: (link path, its target).
    pub links: Vec<(PathBuf, PathBuf)>,
    /// The sandbox's PATH: the caller's entries that the view shows.
    pub path: Vec<PathBuf>,
}

impl SystemView {
    /// The view for a caller with environment `env`, never showing
    /// anything inside `hidden` or `workspace`.
    pub fn new(env: &BTreeMap<String, String>, hidden: &[PathBuf], workspace: &Path) -> Self {
        let mut view = Self::default();
        for dir in SYSTEM_DIRS {
            let p = Path::new(dir);
            match std::fs::symlink_metadata(p) {
                Ok(m) if m.file_type().is_symlink() => {
                    if let Ok(target) = std::fs::read_link(p) {
                        view.links.push((p.to_path_buf(), target));
                    }
                }
                Ok(m) if m.is_dir() => view.binds.push(p.to_path_buf()),
                _ => {}
            }
        }
        if let Ok(entries) = std::fs::read_dir("/etc") {
            let mut etc: Vec<PathBuf> = entries
                .flatten()
                .filter(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    ETC_ALLOWED.contains(&name.as_ref())
                        || ETC_ALLOWED_PREFIXES.iter().any(|p| name.starts_with(p))
                })
                .map(|e| e.path())
                .collect();
            etc.sort();
            view.binds.extend(etc);
        }
        let outside = |d: &Path| {
            !d.starts_with(workspace)
                && !workspace.starts_with(d)
                && !hidden.iter().any(|h| d.starts_with(h) || h.starts_with(d))
        };
        let home = env
            .get("HOME")
            .map(PathBuf::from)
            .filter(|h| h.is_absolute() && h != Path::new("/"));
        let caller_path: Vec<PathBuf> = env
            .get("PATH")
            .map(|p| {
                p.split(':')
                    .map(PathBuf::from)
                    .filter(|d| d.is_absolute())
                    .collect()
            })
            .unwrap_or_default();
        let mut toolchains: Vec<PathBuf> = Vec::new();
        if let Some(home) = &home {
            toolchains.extend(HOME_TOOLCHAINS.iter().map(|d| home.join(d)));
            toolchains.extend(caller_path.iter().filter(|d| d.starts_with(home)).cloned());
        }
        toolchains.extend(
            caller_path
                .iter()
                .filter(|d| d.starts_with("/opt"))
                .cloned(),
        );
        for key in ["RUSTUP_HOME"] {
            if let Some(dir) = env.get(key).map(PathBuf::from).filter(|d| d.is_absolute()) {
                toolchains.push(dir);
            }
        }
        if let Some(dir) = env
            .get("CARGO_HOME")
            .map(PathBuf::from)
            .filter(|d| d.is_absolute())
        {
            toolchains.extend(["bin", "registry", "git"].iter().map(|s| dir.join(s)));
        }
        toolchains.sort();
        toolchains.dedup();
        for dir in toolchains {
            let Ok(real) = dir.canonicalize() else {
                continue;
            };
            // The real folder must be where it says (no link out of the
            // home into something else) and outside what is hidden.
            if real.is_dir()
                && real == dir
                && outside(&real)
                && !view.binds.iter().any(|b| real.starts_with(b))
            {
                view.binds.push(real);
            }
        }
        let shown = |d: &Path| {
            view.binds.iter().any(|b| d.starts_with(b))
                || view.links.iter().any(|(l, _)| d.starts_with(l))
        };
        view.path = caller_path.into_iter().filter(|d| shown(d)).collect();
        view.path.dedup();
        if view.path.is_empty() {
            view.path = ["/usr/local/bin", "/usr/bin", "/bin"]
                .iter()
                .map(PathBuf::from)
                .collect();
        }
        view
    }

    /// Whether the command can see `path` (a host path) through this view.
    fn shows(&self, path: &Path) -> bool {
        self.binds.iter().any(|b| path.starts_with(b))
    }

    /// Find `program` on the view's PATH: the file must exist and its real
    /// path must lie in the view.
    pub fn find_program(&self, program: &str) -> Option<PathBuf> {
        let candidates: Vec<PathBuf> = if program.starts_with('/') {
            vec![PathBuf::from(program)]
        } else if program.contains('/') {
            return None;
        } else {
            self.path.iter().map(|d| d.join(program)).collect()
        };
        candidates
            .into_iter()
            .find(|p| p.is_file() && p.canonicalize().is_ok_and(|real| self.shows(&real)))
    }
}

/// Run `req` in the command sandbox.
pub fn run(req: &CommandRequest) -> Result<CommandOutcome, ExecError> {
    let bwrap = probe()?;
    let workspace = req
        .mounts
        .first()
        .map(|m| m.target.clone())
        .ok_or_else(|| ExecError::BadCwd(req.cwd.display().to_string()))?;
    let view = SystemView::new(&req.caller_env, &req.hidden, &workspace);
    let mut env = super::env::build(&req.caller_env);
    let path: Vec<String> = view.path.iter().map(|p| p.display().to_string()).collect();
    env.insert("PATH".into(), path.join(":"));
    let program = view
        .find_program(&req.program)
        .ok_or_else(|| ExecError::NotFound(req.program.clone()))?;
    let confinement = Confinement::new(&req.limits)?;
    let seccomp = super::seccomp::SeccompFd::new()?;

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
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    let mut add = |words: &[&str]| args.extend(words.iter().map(|w| (*w).to_string()));
    let mut shown: Vec<(PathBuf, PathBuf)> = Vec::new();
    for bind in &view.binds {
        let d = bind.display().to_string();
        add(&["--ro-bind", &d, &d]);
        shown.push((bind.clone(), bind.clone()));
    }
    for (link, target) in &view.links {
        add(&[
            "--symlink",
            &target.display().to_string(),
            &link.display().to_string(),
        ]);
    }
    let tmp_bytes = req.limits.tmp_mib.saturating_mul(1024 * 1024).to_string();
    add(&["--dev", "/dev", "--proc", "/proc"]);
    add(&["--size", &tmp_bytes, "--tmpfs", "/tmp"]);
    add(&["--dir", "/var", "--symlink", "../tmp", "/var/tmp"]);
    for mount in &req.mounts {
        let (s, t) = (
            mount.source.display().to_string(),
            mount.target.display().to_string(),
        );
        add(&[
            if mount.writable {
                "--bind"
            } else {
                "--ro-bind"
            },
            &s,
            &t,
        ]);
        shown.push((mount.source.clone(), mount.target.clone()));
    }
    // Then: cover the configuration of every `.git` mount,
    // including submodules' (`.git/modules/*/config`) and worktrees'.
    let masks = git_masks(&req.mounts)?;
    let empty = if masks.is_empty() {
        None
    } else {
        Some(empty_file().map_err(ExecError::EmptyFile)?)
    };
    if let Some(empty) = &empty {
        let e = empty.path().display().to_string();
        for target in &masks {
            add(&["--ro-bind", &e, &target.display().to_string()]);
        }
    }
    // Last: mask Airlock's state wherever a mount above shows it.
    for hidden in req.hidden.iter().filter_map(|h| h.canonicalize().ok()) {
        for (source, target) in &shown {
            if let Ok(rest) = hidden.strip_prefix(source) {
                let d = target.join(rest).display().to_string();
                add(&["--tmpfs", &d, "--remount-ro", &d]);
            }
        }
    }
    // The root of the view (bubblewrap's tmpfs, holding only mount points)
    // is read-only: nothing can be planted beside the mounts.
    add(&["--remount-ro", "/"]);
    let c = req.cwd.display().to_string();
    add(&["--chdir", &c, "--clearenv"]);
    for (k, v) in &env {
        add(&["--setenv", k, v]);
    }
    args.extend(seccomp.args());
    args.push("--".into());
    args.extend(confinement.sandbox_prefix());
    args.push(program.display().to_string());
    args.extend(req.args.iter().cloned());

    let prefix = confinement.host_prefix();
    let mut command = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(bwrap);
            c
        }
        None => Command::new(bwrap),
    };
    let started = Instant::now();
    let mut child = command
        .args(&args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ExecError::Io(format!("cannot start {bwrap}: {e}")))?;
    drop(seccomp);
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
    // With --die-with-parent and a PID namespace, everything the command
    // started is gone once bwrap is; the cgroups are emptied on drop too.
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
    let limit = confinement
        .verdict(exit_code, signal)
        .map(|hit| (hit.key.to_string(), hit.message));
    Ok(CommandOutcome {
        exit_code,
        signal,
        stdout,
        stderr,
        stdout_truncated,
        stderr_truncated,
        timed_out,
        elapsed,
        limit,
        limits: confinement.describe(),
    })
}

/// The files to cover in the command's view: for each mount of a folder
/// named `.git`, its [`git_config_masks`], at the mount's target.
fn git_masks(mounts: &[Mount]) -> Result<Vec<PathBuf>, ExecError> {
    let mut out = Vec::new();
    for mount in mounts {
        let is_git = mount
            .target
            .file_name()
            .is_some_and(|n| n.as_encoded_bytes().eq_ignore_ascii_case(b".git"));
        if !is_git {
            continue;
        }
        let found = git_config_masks(&mount.source)?;
        out.extend(found.into_iter().map(|rel| mount.target.join(rel)));
    }
    Ok(out)
}

/// Why a `.git` folder's configuration files could not be listed for
/// masking.
#[derive(Debug, thiserror::Error)]
pub enum GitMaskError {
    /// The folder or one of its entries could not be read.
    #[error("cannot read {} to mask its config: {source}", git_dir.display())]
    Read {
        /// The `.git` folder.
        git_dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// More than [`MAX_GIT_MASK_ENTRIES`] entries outside its objects and
    /// refs.
    #[error(
        "{} has more than {} entries outside its objects and refs; Airlock cannot mask its config for the command",
        git_dir.display(),
        MAX_GIT_MASK_ENTRIES
    )]
    TooManyEntries {
        /// The `.git` folder.
        git_dir: PathBuf,
    },
}

/// The regular files named as in [`GIT_MASKED_FILES`] inside the `.git`
/// folder `git_dir`, relative to it, found without following links (the
/// top level, `modules/**` of submodules, `worktrees/*`). A `config` that
/// is a symbolic link is not covered: what it points to is either outside
/// the command's view or in the workspace copy, where the deny-list applies.
pub fn git_config_masks(git_dir: &Path) -> Result<Vec<PathBuf>, GitMaskError> {
    use cap_fs_ext::DirExt;
    let fail = |source| GitMaskError::Read {
        git_dir: git_dir.to_path_buf(),
        source,
    };
    let top =
        cap_std::fs::Dir::open_ambient_dir(git_dir, cap_std::ambient_authority()).map_err(fail)?;
    let mut out = Vec::new();
    let mut stack = vec![(top, PathBuf::new())];
    let mut seen = 0usize;
    while let Some((dir, rel)) = stack.pop() {
        for item in dir.entries().map_err(fail)? {
            let item = item.map_err(fail)?;
            seen += 1;
            if seen > MAX_GIT_MASK_ENTRIES {
                return Err(GitMaskError::TooManyEntries {
                    git_dir: git_dir.to_path_buf(),
                });
            }
            let name = item.file_name();
            let Some(text) = name.to_str() else {
                continue;
            };
            let ft = item.file_type().map_err(fail)?;
            if ft.is_dir() && !GIT_MASK_SKIPPED.contains(&text) {
                let sub = dir.open_dir_nofollow(&name).map_err(fail)?;
                stack.push((sub, rel.join(text)));
            } else if ft.is_file() && GIT_MASKED_FILES.contains(&text) {
                out.push(rel.join(text));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// An empty, read-only regular file to bind over what a command must see
/// empty; removed when dropped (the binds keep what they cover hidden for
/// the command's life).
fn empty_file() -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    let file = tempfile::Builder::new()
        .prefix("airlock-empty-")
        .tempfile()?;
    std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o444))?;
    Ok(file)
}

/// Whether `path` is a tmpfs (from /proc/self/mountinfo).
pub fn is_tmpfs(path: &Path) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo").is_ok_and(|info| {
        info.lines().any(|line| {
            let mut fields = line.split(" - ");
            let (Some(left), Some(right)) = (fields.next(), fields.next()) else {
                return false;
            };
            left.split(' ').nth(4) == path.to_str() && right.starts_with("tmpfs ")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_config_files_are_found_at_every_level_without_following_links() {
        let ws = tempfile::tempdir().expect("ws");
        let git = ws.path().join(".git");
        for dir in [
            "objects/ab",
            "refs/heads",
            "modules/sub/modules/deep",
            "worktrees/w",
        ] {
            std::fs::create_dir_all(git.join(dir)).expect("mkdir");
        }
        for file in [
            "config",
            "config.worktree",
            "modules/sub/config",
            "modules/sub/modules/deep/config",
            "worktrees/w/config.worktree",
            "objects/ab/config",
            "HEAD",
        ] {
            std::fs::write(git.join(file), "x").expect("write");
        }
        std::os::unix::fs::symlink("../elsewhere", git.join("worktrees/w/config")).expect("link");
        let found = git_config_masks(&git).expect("masks");
        let found: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            found,
            [
                "config",
                "config.worktree",
                "modules/sub/config",
                "modules/sub/modules/deep/config",
                "worktrees/w/config.worktree",
            ]
        );
    }

    #[test]
    fn only_git_mounts_are_masked() {
        let ws = tempfile::tempdir().expect("ws");
        let git = ws.path().join(".git");
        std::fs::create_dir_all(&git).expect("mkdir");
        std::fs::write(git.join("config"), "[remote]").expect("write");
        let mount = |source: &Path, writable| Mount {
            source: source.to_path_buf(),
            target: source.to_path_buf(),
            writable,
        };
        assert_eq!(
            git_masks(&[mount(ws.path(), false), mount(&git, false)]).expect("masks"),
            [git.join("config")]
        );
        assert!(
            git_masks(&[mount(ws.path(), true)])
                .expect("masks")
                .is_empty()
        );
    }

    #[test]
    fn an_unreadable_git_folder_makes_the_sandbox_unavailable_naming_it() {
        let ws = tempfile::tempdir().expect("ws");
        let git = ws.path().join(".git");
        let err = git_masks(&[Mount {
            source: git.clone(),
            target: git.clone(),
            writable: false,
        }])
        .expect_err("no such folder");
        assert!(
            matches!(&err, ExecError::GitMask(GitMaskError::Read { git_dir, .. }) if *git_dir == git)
        );
        assert_eq!(
            err.to_string(),
            format!(
                "the command sandbox is unavailable: cannot read {} to mask its config: No such file or directory (os error 2); Airlock never runs a command without it",
                git.display()
            )
        );
    }
}
