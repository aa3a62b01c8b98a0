//! Tests of [`super`], on the real kernel.

#![allow(clippy::unwrap_used)]

use super::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

/// The kernel tests run one at a time: a fork bomb next to another test
/// would eat the user's `RLIMIT_NPROC` headroom on a machine without
/// cgroups.
static SERIAL: Mutex<()> = Mutex::new(());

fn limits() -> CommandLimits {
    CommandLimits::default()
}

/// Run `script` under `conf` the way the executor does, minus bubblewrap:
/// host prefix, sandbox prefix, program. Killed after `timeout`.
/// Returns (exit code, signal, stderr).
fn run(
    conf: &Confinement,
    dir: &Path,
    script: &str,
    timeout: Duration,
) -> (Option<i32>, Option<i32>, String) {
    use std::os::unix::process::ExitStatusExt;
    let mut argv = conf.host_prefix();
    argv.extend(conf.sandbox_prefix());
    argv.extend(["/bin/sh".to_string(), "-c".to_string(), script.to_string()]);
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        // Background processes may hold the pipe open: read what is there.
        let _ = rustix::fs::fcntl_setfl(&pipe, rustix::fs::OFlags::NONBLOCK);
        let _ = pipe.read_to_string(&mut stderr);
    }
    (status.code(), status.signal(), stderr)
}

#[test]
fn a_fork_bomb_is_stopped_and_named() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let conf = Confinement::new(&CommandLimits {
        max_processes: 32,
        ..limits()
    })
    .unwrap();
    let started = Instant::now();
    let (code, signal, stderr) = run(
        &conf,
        dir.path(),
        "while :; do sleep 5 & done",
        Duration::from_secs(10),
    );
    let ended_by_itself = started.elapsed() < Duration::from_secs(10);
    if conf.pids_cgroup().is_some() {
        let verdict = conf.verdict(code, signal).unwrap_or_else(|| {
            panic!("no verdict: exit {code:?}, signal {signal:?}, stderr {stderr}")
        });
        assert_eq!(verdict.key, "commands.max-processes");
        assert!(
            verdict
                .message
                .starts_with("stopped by commands.max-processes = 32: "),
            "{}",
            verdict.message
        );
        assert!(ended_by_itself, "the refused fork ends the shell");
    } else if !conf.root {
        // RLIMIT_NPROC refuses the fork; the kernel keeps no count of it.
        assert!(ended_by_itself, "RLIMIT_NPROC did not stop the fork bomb");
        assert_ne!(code, Some(0), "{stderr}");
    } else {
        panic!(
            "nothing bounds a fork bomb here: the tests run as root, where Linux ignores RLIMIT_NPROC, \
             and no pids cgroup could be made ({}). Run them as root where /sys/fs/cgroup is writable, \
             or as an ordinary user",
            conf.describe()
        );
    }
}

#[test]
fn memory_beyond_memory_mib_is_named() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let conf = Confinement::new(&CommandLimits {
        memory_mib: 128,
        ..limits()
    })
    .unwrap();
    let (code, signal, stderr) = run(
        &conf,
        dir.path(),
        "python3 -c \"b = b'x' * (300 << 20)\"",
        Duration::from_secs(30),
    );
    assert_ne!(code, Some(0), "300 MiB fitted in 128: {stderr}");
    if conf.memory_cgroup().is_some() {
        let verdict = conf.verdict(code, signal).unwrap_or_else(|| {
            panic!("no verdict: exit {code:?}, signal {signal:?}, stderr {stderr}")
        });
        assert_eq!(verdict.key, "commands.memory-mib", "{}", verdict.message);
        assert!(verdict.message.contains("= 128"), "{}", verdict.message);
    } else {
        // RLIMIT_DATA: Python raises MemoryError; the kernel reports nothing.
        assert!(stderr.contains("MemoryError"), "{stderr}");
    }
}

#[test]
fn a_file_beyond_max_file_mib_is_named() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let conf = Confinement::new(&CommandLimits {
        max_file_mib: 1,
        ..limits()
    })
    .unwrap();
    let (code, signal, stderr) = run(
        &conf,
        dir.path(),
        "head -c 20M /dev/zero > f",
        Duration::from_secs(10),
    );
    let verdict = conf
        .verdict(code, signal)
        .unwrap_or_else(|| panic!("no verdict: exit {code:?}, signal {signal:?}, stderr {stderr}"));
    assert_eq!(verdict.key, "commands.max-file-mib");
    assert_eq!(std::fs::metadata(dir.path().join("f")).unwrap().len(), MIB);
}

#[test]
fn cpu_beyond_cpu_seconds_is_named() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let conf = Confinement::new(&CommandLimits {
        cpu_seconds: 1,
        ..limits()
    })
    .unwrap();
    let (code, signal, stderr) = run(
        &conf,
        dir.path(),
        "while :; do :; done",
        Duration::from_secs(20),
    );
    let verdict = conf
        .verdict(code, signal)
        .unwrap_or_else(|| panic!("no verdict: exit {code:?}, signal {signal:?}, stderr {stderr}"));
    assert_eq!(verdict.key, "commands.cpu-seconds");
    assert_eq!(
        verdict.message,
        "stopped by commands.cpu-seconds = 1: a process of the command used 1 s of CPU time (SIGXCPU); raise commands.cpu-seconds in the profile if the command needs more"
    );
}

#[test]
fn drop_kills_what_is_left_and_removes_the_cgroups() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let conf = Confinement::new(&limits()).unwrap();
    let dirs: Vec<PathBuf> = conf.groups.iter().map(|g| g.dir.clone()).collect();
    if rustix::process::getuid().is_root() {
        assert!(
            !dirs.is_empty(),
            "as root a cgroup is expected: {}",
            conf.describe()
        );
    }
    for d in &dirs {
        assert!(d.is_dir(), "{}", d.display());
    }
    // A process left behind in the background.
    let (code, _, stderr) = run(
        &conf,
        dir.path(),
        "sleep 60 > /dev/null 2>&1 & echo $! > pid",
        Duration::from_secs(10),
    );
    assert_eq!(code, Some(0), "{stderr}");
    let pid: i32 = std::fs::read_to_string(dir.path().join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let alive = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
    };
    assert!(alive(pid));
    drop(conf);
    for d in &dirs {
        assert!(!d.exists(), "{} is left", d.display());
    }
    if !dirs.is_empty() {
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(pid), "the background sleep survived");
    } else if let Some(pid) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
}

#[test]
fn the_join_prefix_puts_the_process_in_the_cgroups() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let conf = Confinement::new(&limits()).unwrap();
    let (code, _, stderr) = run(
        &conf,
        dir.path(),
        "cat /proc/self/cgroup > cg",
        Duration::from_secs(10),
    );
    assert_eq!(code, Some(0), "{stderr}");
    let seen = std::fs::read_to_string(dir.path().join("cg")).unwrap();
    for g in &conf.groups {
        let name = g.dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(seen.contains(&name), "{name} not in {seen}");
    }
}

#[test]
fn describe_names_each_mechanism_in_use() {
    let conf = Confinement::new(&limits()).unwrap();
    let text = conf.describe();
    println!("{text}");
    assert!(text.starts_with("limits: 256 processes ("), "{text}");
    match conf.pids_cgroup() {
        Some(g) => assert!(
            text.contains(&format!("(pids cgroup {})", g.version.word())),
            "{text}"
        ),
        None if conf.root => assert!(text.contains("NOT enforced"), "{text}"),
        None => assert!(text.contains("RLIMIT_NPROC"), "{text}"),
    }
    match conf.memory_cgroup() {
        Some(g) => assert!(
            text.contains(&format!(
                "2048 MiB memory (memory cgroup {}, swap included)",
                g.version.word()
            )),
            "{text}"
        ),
        None => assert!(
            text.contains("2048 MiB memory per process (RLIMIT_DATA)"),
            "{text}"
        ),
    }
    for part in [
        "600 CPU s per process (RLIMIT_CPU",
        "512 MiB per file (RLIMIT_FSIZE",
        "open files (RLIMIT_NOFILE",
        "no core dumps",
        "/tmp 256 MiB (tmpfs)",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    // As root on this kind of machine (cgroup v1 writable) both cgroups are used.
    if conf.root && Path::new("/sys/fs/cgroup/pids/cgroup.procs").exists() {
        assert!(text.contains("(pids cgroup v1)"), "{text}");
    }
    if conf.root && Path::new("/sys/fs/cgroup/memory/cgroup.procs").exists() {
        assert!(text.contains("(memory cgroup v1, swap included)"), "{text}");
    }
    let prefix = conf.sandbox_prefix();
    assert_eq!(prefix[0], PRLIMIT);
    assert_eq!(prefix.last().map(String::as_str), Some("--"));
    assert!(prefix.contains(&"--core=0".to_string()));
    assert!(prefix.contains(&"--cpu=600:601".to_string()), "{prefix:?}");
    assert_eq!(
        prefix.iter().any(|a| a.starts_with("--data=")),
        conf.memory_cgroup().is_none(),
        "{prefix:?}"
    );
    assert!(prefix.iter().all(|a| !a.starts_with("--as")), "{prefix:?}");
    assert_eq!(conf.host_prefix().is_empty(), conf.groups.is_empty());
}

#[test]
fn verdict_reads_signals_as_bubblewrap_reports_them() {
    let conf = Confinement {
        limits: limits(),
        groups: Vec::new(),
        rlimits: rlimits_for(&limits(), false, false, Some(1)),
        root: false,
        user_tasks: Some(1),
        oom_kills_before: 0,
    };
    let key = |code, signal| conf.verdict(code, signal).map(|h| h.key);
    assert_eq!(key(Some(128 + 24), None), Some("commands.cpu-seconds"));
    assert_eq!(key(None, Some(24)), Some("commands.cpu-seconds"));
    assert_eq!(key(Some(128 + 25), None), Some("commands.max-file-mib"));
    assert_eq!(key(None, Some(25)), Some("commands.max-file-mib"));
    assert_eq!(key(Some(0), None), None);
    assert_eq!(key(Some(1), None), None);
    assert_eq!(key(Some(137), None), None);
    assert_eq!(key(Some(24), None), None);
}

#[test]
fn rlimit_nproc_leaves_room_for_the_users_other_processes() {
    let r = rlimits_for(&limits(), true, false, Some(500));
    let hard = rustix::process::getrlimit(rustix::process::Resource::Nproc).maximum;
    assert_eq!(r.nproc, hard.map_or(756, |h| h.min(756)));
    assert_eq!(r.data, None);
    let r = rlimits_for(&limits(), false, true, None);
    assert!(r.data.is_some());
    assert!(r.nproc <= 256);
    // This process is one of its user's tasks.
    assert!(user_task_count(rustix::process::getuid().as_raw()).unwrap() >= 1);
}

#[test]
fn cgroup_files_are_parsed() {
    let memberships = parse_proc_cgroup(
        "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/x\n0::/\n",
    );
    assert_eq!(memberships.len(), 5);
    assert_eq!(memberships[3].controllers, ["cpu", "cpuacct"]);
    assert!(memberships[4].controllers.is_empty());
    let mounts = parse_mountinfo(concat!(
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n",
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n",
        "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n",
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
        "42 31 0:39 /sub /mnt/with\\040space rw shared:1 - cgroup2 cgroup2 rw,nsdelegate\n",
    ));
    assert_eq!(mounts.len(), 4);
    assert_eq!(mounts[3].mount_point, PathBuf::from("/mnt/with space"));
    let places = choose_places(&memberships, &mounts);
    assert_eq!(
        places[..2],
        [
            Place {
                parent: PathBuf::from("/sys/fs/cgroup/pids"),
                version: Version::V1,
                pids: true,
                memory: false,
            },
            Place {
                parent: PathBuf::from("/sys/fs/cgroup/memory/process_api/abc"),
                version: Version::V1,
                pids: false,
                memory: true,
            },
        ]
    );
    // A mount of part of the hierarchy: paths outside it are not there.
    assert_eq!(
        dir_of(&mounts[3], "/sub/user/app"),
        Some(PathBuf::from("/mnt/with space/user/app"))
    );
    assert_eq!(dir_of(&mounts[3], "/other"), None);
    assert_eq!(dir_of(&mounts[3], "/subway"), None);
    assert_eq!(dir_of(&mounts[0], "/a/../b"), None);
    assert_eq!(keyed_value("max 0\n", "max"), Some(0));
    assert_eq!(
        keyed_value("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "oom_kill"),
        Some(3)
    );
    assert_eq!(keyed_value("low 0\n", "oom_kill"), None);
}
