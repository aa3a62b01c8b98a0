//! The kernel limits of one command: `[commands]`' `max-processes`,
//! `memory-mib`, `cpu-seconds`, `max-file-mib` and `max-open-files`.
//!
//! Two mechanisms, used together:
//!
//! - **cgroups**, when this process can create them: a `pids` cgroup holds
//!   `max-processes` (the only thing that stops a fork bomb when Airlock runs
//!   as root: Linux never applies `RLIMIT_NPROC` to uid 0) and a `memory`
//!   cgroup holds `memory-mib` for all the command's processes together, swap
//!   included. On cgroup v1 each controller is its own hierarchy; the
//!   command's cgroup `airlock-cmd-<pid>-<n>` is made under this process's own
//!   cgroup of that hierarchy (from `/proc/self/cgroup`), so every limit
//!   above still applies. On cgroup v2 it is made under this process's own
//!   cgroup when that is writable and has the controllers (a delegated
//!   subtree, such as a systemd user session). No writable cgroup (an
//!   ordinary user on cgroup v1) is not an error: the rlimits remain.
//!   The process joins its cgroups before bubblewrap starts
//!   ([`Confinement::host_prefix`]), so nothing it forks escapes them.
//! - **rlimits**, always, set inside the sandbox just before the program by
//!   util-linux `prlimit` ([`Confinement::sandbox_prefix`]): `RLIMIT_CPU`,
//!   `RLIMIT_FSIZE`, `RLIMIT_NOFILE`, `RLIMIT_CORE = 0`, `RLIMIT_NPROC`, and
//!   `RLIMIT_DATA` when no memory cgroup is used. Never `RLIMIT_AS`: it counts
//!   reserved address space, which node, Go and the JVM reserve by the GiB.
//!
//! `RLIMIT_NPROC` counts every process and thread of the user on the whole
//! machine (per user namespace since Linux 5.14), not just the command's.
//! Set to `max-processes` alone, a user with a browser and an IDE open would
//! be refused the command's first fork. So for an ordinary user it is set to
//! the user's current count plus `max-processes`: the command can add at
//! most `max-processes` tasks (others of the user may take some of that
//! headroom meanwhile). For root it is `max-processes`, which Linux ignores;
//! only the pids cgroup bounds root, and [`Confinement::describe`] says so
//! when there is none.
//!
//! An rlimit above the hard limit this process runs under is lowered to that
//! hard limit (an ordinary user cannot raise it, and prlimit would fail).
//!
//! After the command, [`Confinement::verdict`] reads what the kernel reported
//! (`SIGXCPU`, `SIGXFSZ`, the memory cgroup's OOM kills, the pids cgroup's
//! refused forks) and names the profile key that stopped it. Dropping the
//! [`Confinement`] kills whatever is left in its cgroups and removes them.

// Ambient std::fs allowed: drives the cgroup file system and reads /proc.
#![allow(clippy::disallowed_methods)]

use airlock_policy::profile::CommandLimits;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The exit status of [`Confinement::host_prefix`]'s shell when it could not
/// move itself into a cgroup: the program never ran. (A program may exit
/// 125 itself; the error output of the shell tells the two apart.)
pub const JOIN_FAILED_EXIT: i32 = 125;

/// Where util-linux `prlimit` is, on the host and in the sandbox's `/usr`.
pub const PRLIMIT: &str = "/usr/bin/prlimit";

/// The shell that joins the cgroups (see [`Confinement::host_prefix`]).
const JOIN_SCRIPT: &str = "for f do [ \"$f\" = -- ] && break; echo $$ > \"$f\" || exit 125; shift; done; shift; exec \"$@\"";

const MIB: u64 = 1024 * 1024;

/// Numbers the names of this process's cgroups.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Which cgroup interface a directory belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

impl Version {
    fn word(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

/// Why a command's confinement could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LimitsError {
    /// A cgroup was created but one of its limits could not be written.
    #[error(
        "cannot configure the command's cgroup: writing {value:?} to {}: {source}",
        path.display()
    )]
    Configure {
        /// The cgroup file, e.g. `.../airlock-cmd-1-0/pids.max`.
        path: PathBuf,
        /// What was written to it.
        value: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// One cgroup made for the command.
#[derive(Debug)]
struct Cgroup {
    dir: PathBuf,
    version: Version,
    /// Holds `max-processes`.
    pids: bool,
    /// Holds `memory-mib`.
    memory: bool,
}

impl Cgroup {
    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write(&self, name: &str, value: &str) -> Result<(), LimitsError> {
        std::fs::write(self.file(name), value).map_err(|source| LimitsError::Configure {
            path: self.file(name),
            value: value.to_string(),
            source,
        })
    }

    /// `key N` from a flat-keyed cgroup file; 0 when absent or unreadable.
    fn counter(&self, file: &str, key: &str) -> u64 {
        std::fs::read_to_string(self.file(file))
            .map(|text| keyed_value(&text, key).unwrap_or(0))
            .unwrap_or(0)
    }

    /// How many times the kernel's OOM killer killed a process in it.
    fn oom_kills(&self) -> u64 {
        match self.version {
            Version::V1 => self.counter("memory.oom_control", "oom_kill"),
            Version::V2 => self.counter("memory.events", "oom_kill"),
        }
    }

    /// How many forks the pids limit refused.
    fn refused_forks(&self) -> u64 {
        self.counter("pids.events", "max")
    }

    fn procs(&self) -> Vec<i32> {
        std::fs::read_to_string(self.file("cgroup.procs"))
            .map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    /// Kill every process in it: `cgroup.kill` where there is one (v2,
    /// Linux 5.14+), else SIGKILL to each listed process, repeated while any
    /// remain (one may fork between the read and the kill).
    fn kill_all(&self) {
        if self.version == Version::V2 {
            let _ = std::fs::write(self.file("cgroup.kill"), "1");
        }
        for _ in 0..200 {
            let procs = self.procs();
            if procs.is_empty() {
                return;
            }
            for pid in procs {
                if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        tracing::warn!(
            cgroup = %self.dir.display(),
            "processes of a finished command survived SIGKILL"
        );
    }

    /// Remove the directory, waiting a little for killed processes to go.
    fn remove(&self) {
        for _ in 0..200 {
            match std::fs::remove_dir(&self.dir) {
                Ok(()) => return,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        tracing::warn!(cgroup = %self.dir.display(), "cannot remove a command's cgroup");
    }
}

/// The rlimits set in the sandbox, after lowering to this process's hard limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rlimits {
    nproc: u64,
    /// `RLIMIT_DATA` bytes; only when no memory cgroup holds `memory-mib`.
    data: Option<u64>,
    cpu_soft: u64,
    cpu_hard: u64,
    fsize: u64,
    nofile: u64,
}

/// One command's confinement: cgroups when they can be had, rlimits always.
#[derive(Debug)]
pub struct Confinement {
    limits: CommandLimits,
    groups: Vec<Cgroup>,
    rlimits: Rlimits,
    /// Airlock runs as root, where `RLIMIT_NPROC` is not enforced.
    root: bool,
    /// The user's processes and threads when the command was set up
    /// (ordinary users only).
    user_tasks: Option<u64>,
    oom_kills_before: u64,
}

/// A limit the kernel reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitHit {
    /// The profile key, e.g. `commands.max-processes`.
    pub key: &'static str,
    /// What happened and how to fix it, naming the key and its value.
    pub message: String,
}

impl Confinement {
    /// Set up for one command. Never fails because cgroups are unavailable
    /// (rlimits remain); fails (`Err` naming what) only when a cgroup was
    /// created but could not be configured.
    pub fn new(limits: &CommandLimits) -> Result<Self, LimitsError> {
        let root = rustix::process::getuid().is_root();
        let user_tasks = if root {
            None
        } else {
            user_task_count(rustix::process::getuid().as_raw())
        };
        let mut me = Self {
            limits: *limits,
            groups: Vec::new(),
            rlimits: Rlimits {
                nproc: 0,
                data: None,
                cpu_soft: 0,
                cpu_hard: 0,
                fsize: 0,
                nofile: 0,
            },
            root,
            user_tasks,
            oom_kills_before: 0,
        };
        let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let places = choose_places(&parse_proc_cgroup(&cgroups), &parse_mountinfo(&mounts));
        // `me` is dropped on an error below, removing what was made.
        for place in places {
            me.make(place)?;
        }
        me.oom_kills_before = me.memory_cgroup().map_or(0, Cgroup::oom_kills);
        me.rlimits = rlimits_for(limits, me.memory_cgroup().is_some(), root, user_tasks);
        Ok(me)
    }

    /// Create and configure the cgroup for one place; a place that cannot
    /// be created is skipped (its limits fall back to rlimits).
    fn make(&mut self, place: Place) -> Result<(), LimitsError> {
        let mut pids = place.pids;
        let mut memory = place.memory;
        if place.version == Version::V2 {
            // Children only get the controllers enabled in the parent's
            // subtree_control; enabling fails while the parent has processes
            // of its own (then the rlimits are what is left).
            let enabled = std::fs::read_to_string(place.parent.join("cgroup.subtree_control"))
                .unwrap_or_default();
            let has = |c: &str| enabled.split_whitespace().any(|w| w == c);
            for (wanted, name) in [(&mut pids, "pids"), (&mut memory, "memory")] {
                if *wanted && !has(name) {
                    *wanted = std::fs::write(
                        place.parent.join("cgroup.subtree_control"),
                        format!("+{name}"),
                    )
                    .is_ok();
                }
            }
            if !pids && !memory {
                return Ok(());
            }
        }
        let name = format!(
            "airlock-cmd-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let dir = place.parent.join(name);
        if std::fs::create_dir(&dir).is_err() {
            return Ok(());
        }
        let group = Cgroup {
            dir,
            version: place.version,
            pids,
            memory,
        };
        // Kept even when configuring fails: dropping `self` removes it.
        let configured = self.configure(&group);
        self.groups.push(group);
        configured
    }

    /// Write `max-processes` and `memory-mib` into a new cgroup.
    fn configure(&self, group: &Cgroup) -> Result<(), LimitsError> {
        let bytes = self.limits.memory_mib.saturating_mul(MIB).to_string();
        if group.pids {
            group.write("pids.max", &self.limits.max_processes.to_string())?;
        }
        if group.memory {
            match group.version {
                Version::V1 => {
                    // The memory limit first: memsw may not be below it.
                    group.write("memory.limit_in_bytes", &bytes)?;
                    if group.file("memory.memsw.limit_in_bytes").exists() {
                        group.write("memory.memsw.limit_in_bytes", &bytes)?;
                    }
                }
                Version::V2 => {
                    group.write("memory.max", &bytes)?;
                    if group.file("memory.swap.max").exists() {
                        group.write("memory.swap.max", "0")?;
                    }
                }
            }
        }
        Ok(())
    }

    fn pids_cgroup(&self) -> Option<&Cgroup> {
        self.groups.iter().find(|g| g.pids)
    }

    fn memory_cgroup(&self) -> Option<&Cgroup> {
        self.groups.iter().find(|g| g.memory)
    }

    /// argv to put before the bwrap invocation on the host, so that the
    /// process joins the cgroups before bubblewrap starts (nothing it forks
    /// escapes them): `/bin/sh -c SCRIPT sh PROCS_FILE... -- ` followed by the
    /// bwrap command line. The shell writes its own pid to each
    /// `cgroup.procs` and then `exec`s the rest, so the pid joined is
    /// bubblewrap's. If a write fails the shell exits with
    /// [`JOIN_FAILED_EXIT`] (125) before anything runs. Empty when no cgroup
    /// is used.
    pub fn host_prefix(&self) -> Vec<String> {
        if self.groups.is_empty() {
            return Vec::new();
        }
        let mut argv = vec![
            "/bin/sh".to_string(),
            "-c".to_string(),
            JOIN_SCRIPT.to_string(),
            "sh".to_string(),
        ];
        for g in &self.groups {
            argv.push(g.file("cgroup.procs").to_string_lossy().into_owned());
        }
        argv.push("--".to_string());
        argv
    }

    /// argv to put inside the sandbox before the program: `/usr/bin/prlimit
    /// --nproc=N [--data=BYTES] --cpu=S:S+1 --fsize=BYTES --nofile=N --core=0
    /// --`. `--data` only when no memory cgroup holds `memory-mib`. The CPU
    /// hard limit is one second above the soft one, so the process first
    /// gets `SIGXCPU` (reported as `cpu-seconds`) rather than an anonymous
    /// `SIGKILL`.
    pub fn sandbox_prefix(&self) -> Vec<String> {
        let r = &self.rlimits;
        let mut argv = vec![PRLIMIT.to_string(), format!("--nproc={}", r.nproc)];
        if let Some(data) = r.data {
            argv.push(format!("--data={data}"));
        }
        argv.extend([
            format!("--cpu={}:{}", r.cpu_soft, r.cpu_hard),
            format!("--fsize={}", r.fsize),
            format!("--nofile={}", r.nofile),
            "--core=0".to_string(),
            "--".to_string(),
        ]);
        argv
    }

    /// Which limit stopped the command, if the kernel said so. `exit_code`
    /// and `signal` are as bubblewrap reports them: bwrap exits 128+N when
    /// its child is killed by signal N (so does a shell whose child was).
    /// `SIGXCPU` → `cpu-seconds`; `SIGXFSZ` → `max-file-mib`; an OOM kill in
    /// the memory cgroup → `memory-mib`; a fork the pids cgroup refused →
    /// `max-processes`. A command that succeeded was stopped by nothing.
    pub fn verdict(&self, exit_code: Option<i32>, signal: Option<i32>) -> Option<LimitHit> {
        if exit_code == Some(0) && signal.is_none() {
            return None;
        }
        let l = &self.limits;
        let died_of = signal.or_else(|| {
            exit_code
                .filter(|c| (129..=128 + 64).contains(c))
                .map(|c| c - 128)
        });
        if died_of == Some(rustix::process::Signal::XCPU.as_raw()) {
            return Some(hit(
                "commands.cpu-seconds",
                l.cpu_seconds,
                format!(
                    "a process of the command used {} s of CPU time (SIGXCPU)",
                    l.cpu_seconds
                ),
            ));
        }
        if died_of == Some(rustix::process::Signal::XFSZ.as_raw()) {
            return Some(hit(
                "commands.max-file-mib",
                l.max_file_mib,
                format!(
                    "the command tried to write a file larger than {} MiB (SIGXFSZ)",
                    l.max_file_mib
                ),
            ));
        }
        if let Some(g) = self.memory_cgroup()
            && g.oom_kills() > self.oom_kills_before
        {
            return Some(hit(
                "commands.memory-mib",
                l.memory_mib,
                format!(
                    "the command needed more than {} MiB of memory (the kernel killed a process of it in its memory cgroup)",
                    l.memory_mib
                ),
            ));
        }
        if let Some(g) = self.pids_cgroup()
            && g.refused_forks() > 0
        {
            return Some(hit(
                "commands.max-processes",
                l.max_processes,
                "the command tried to run more processes (the pids cgroup refused a fork)".into(),
            ));
        }
        None
    }

    /// One line: the limits in force and how each is enforced.
    pub fn describe(&self) -> String {
        let l = &self.limits;
        let r = &self.rlimits;
        let processes = match (self.pids_cgroup(), self.root) {
            (Some(g), _) => format!("pids cgroup {}", g.version.word()),
            (None, true) => {
                "NOT enforced: no pids cgroup could be made, and RLIMIT_NPROC does not apply to root"
                    .into()
            }
            (None, false) => match self.user_tasks {
                Some(n) => format!("RLIMIT_NPROC {}: the user's {n} tasks plus the limit", r.nproc),
                None => format!("RLIMIT_NPROC {}", r.nproc),
            },
        };
        let memory = match self.memory_cgroup() {
            Some(g) => format!(
                "{} MiB memory (memory cgroup {}, swap included)",
                l.memory_mib,
                g.version.word()
            ),
            None => format!("{} MiB memory per process (RLIMIT_DATA)", l.memory_mib),
        };
        let lowered = |what: &str, wanted: u64, got: u64| {
            if got < wanted {
                format!("; lowered to {got}, the hard {what} limit Airlock runs under")
            } else {
                String::new()
            }
        };
        format!(
            "limits: {} processes ({processes}), {memory}, {} CPU s per process (RLIMIT_CPU{}), {} MiB per file (RLIMIT_FSIZE{}), {} open files (RLIMIT_NOFILE{}), no core dumps, /tmp {} MiB (tmpfs)",
            l.max_processes,
            l.cpu_seconds,
            lowered("CPU", l.cpu_seconds, r.cpu_soft),
            l.max_file_mib,
            lowered("file size", l.max_file_mib.saturating_mul(MIB), r.fsize),
            l.max_open_files,
            lowered("open files", l.max_open_files, r.nofile),
            l.tmp_mib,
        )
    }
}

impl Drop for Confinement {
    fn drop(&mut self) {
        for g in &self.groups {
            g.kill_all();
        }
        for g in self.groups.iter().rev() {
            g.remove();
        }
    }
}

fn hit(key: &'static str, value: u64, what: String) -> LimitHit {
    LimitHit {
        key,
        message: format!(
            "stopped by {key} = {value}: {what}; raise {key} in the profile if the command needs more"
        ),
    }
}

/// The rlimits for `limits`, each lowered to this process's hard limit.
fn rlimits_for(
    limits: &CommandLimits,
    memory_cgroup: bool,
    root: bool,
    user_tasks: Option<u64>,
) -> Rlimits {
    use rustix::process::{Resource, getrlimit};
    let cap = |resource: Resource, value: u64| match getrlimit(resource).maximum {
        Some(hard) => value.min(hard),
        None => value,
    };
    let nproc = if root {
        limits.max_processes
    } else {
        limits.max_processes.saturating_add(user_tasks.unwrap_or(0))
    };
    let cpu_hard = cap(Resource::Cpu, limits.cpu_seconds.saturating_add(1));
    Rlimits {
        nproc: cap(Resource::Nproc, nproc),
        data: (!memory_cgroup).then(|| cap(Resource::Data, limits.memory_mib.saturating_mul(MIB))),
        cpu_soft: limits.cpu_seconds.min(cpu_hard),
        cpu_hard,
        fsize: cap(Resource::Fsize, limits.max_file_mib.saturating_mul(MIB)),
        nofile: cap(Resource::Nofile, limits.max_open_files),
    }
}

/// The processes and threads whose real uid is `uid`, as `RLIMIT_NPROC`
/// counts them; `None` when `/proc` cannot be read.
fn user_task_count(uid: u32) -> Option<u64> {
    let mut count = 0u64;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        if !name.as_encoded_bytes().iter().all(u8::is_ascii_digit) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue; // gone meanwhile
        };
        let real_uid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u32>().ok());
        if real_uid == Some(uid) {
            let threads = status
                .lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(1);
            count += threads;
        }
    }
    Some(count)
}

/// `key N` in a flat-keyed file such as `memory.events` or `pids.events`.
fn keyed_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some(key))
            .then(|| words.next()?.parse().ok())
            .flatten()
    })
}

/// One line of `/proc/self/cgroup`: `ID:CONTROLLERS:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Membership {
    controllers: Vec<String>,
    path: String,
}

fn parse_proc_cgroup(text: &str) -> Vec<Membership> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            Some(Membership {
                controllers: controllers
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                path: path.to_string(),
            })
        })
        .collect()
}

/// A cgroup filesystem mount from `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CgroupMount {
    /// The path inside the hierarchy that is mounted (usually `/`).
    root: String,
    mount_point: PathBuf,
    version: Version,
    /// v1: the controllers of the hierarchy (from the super options).
    controllers: Vec<String>,
}

fn parse_mountinfo(text: &str) -> Vec<CgroupMount> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let fields: Vec<&str> = left.split(' ').collect();
            let root = unescape(fields.get(3)?);
            let mount_point = PathBuf::from(unescape(fields.get(4)?));
            let mut right = right.split(' ');
            let version = match right.next()? {
                "cgroup" => Version::V1,
                "cgroup2" => Version::V2,
                _ => return None,
            };
            let _source = right.next();
            let controllers = right
                .next()
                .unwrap_or("")
                .split(',')
                .map(str::to_string)
                .collect();
            Some(CgroupMount {
                root,
                mount_point,
                version,
                controllers,
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let value = bytes[i + 1..i + 4]
                .iter()
                .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
            if let Ok(byte) = u8::try_from(value) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where to make one cgroup, and which limits it is to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    /// This process's own cgroup directory in the hierarchy.
    parent: PathBuf,
    version: Version,
    pids: bool,
    memory: bool,
}

/// The directory of cgroup `path` under `mount`, if the mount shows it.
fn dir_of(mount: &CgroupMount, path: &str) -> Option<PathBuf> {
    let rest = if mount.root == "/" {
        path
    } else {
        let rest = path.strip_prefix(mount.root.as_str())?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        rest
    };
    let rest = rest.trim_start_matches('/');
    if rest.split('/').any(|c| c == "..") {
        return None;
    }
    Some(if rest.is_empty() {
        mount.mount_point.clone()
    } else {
        mount.mount_point.join(rest)
    })
}

/// The cgroups to try: for `pids` and `memory`, a v1 hierarchy with the
/// controller if this process is in one; what is left, in the v2
/// hierarchy if its own cgroup there offers the controller.
fn choose_places(memberships: &[Membership], mounts: &[CgroupMount]) -> Vec<Place> {
    let mut places: Vec<Place> = Vec::new();
    let wanted = |places: &mut Vec<Place>, controller: &str| -> bool {
        let Some(member) = memberships
            .iter()
            .find(|m| m.controllers.iter().any(|c| c == controller))
        else {
            return false;
        };
        let Some(parent) = mounts
            .iter()
            .filter(|m| m.version == Version::V1 && m.controllers.iter().any(|c| c == controller))
            .find_map(|m| dir_of(m, &member.path))
        else {
            return false;
        };
        let place = match places.iter_mut().find(|p| p.parent == parent) {
            Some(place) => place,
            None => {
                places.push(Place {
                    parent,
                    version: Version::V1,
                    pids: false,
                    memory: false,
                });
                let Some(place) = places.last_mut() else {
                    return false;
                };
                place
            }
        };
        match controller {
            "pids" => place.pids = true,
            _ => place.memory = true,
        }
        true
    };
    let pids_v1 = wanted(&mut places, "pids");
    let memory_v1 = wanted(&mut places, "memory");
    if pids_v1 && memory_v1 {
        return places;
    }
    let unified = memberships
        .iter()
        .find(|m| m.controllers.is_empty())
        .and_then(|member| {
            mounts
                .iter()
                .filter(|m| m.version == Version::V2)
                .find_map(|m| dir_of(m, &member.path))
        });
    if let Some(parent) = unified {
        let offered =
            std::fs::read_to_string(parent.join("cgroup.controllers")).unwrap_or_default();
        let offers = |c: &str| offered.split_whitespace().any(|w| w == c);
        let pids = !pids_v1 && offers("pids");
        let memory = !memory_v1 && offers("memory");
        if pids || memory {
            places.push(Place {
                parent,
                version: Version::V2,
                pids,
                memory,
            });
        }
    }
    places
}

#[cfg(test)]
mod tests;
