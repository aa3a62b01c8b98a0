//! Tests of [`super`], on the real kernel and real bubblewrap.

use super::*;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BWRAP: &str = "/usr/bin/bwrap";

/// The system calls of [`REFUSED`] refused only for some arguments, or
/// by the second program.
const CONDITIONAL: &[&str] = &["clone", "clone3", "personality", "ioctl"];

/// Runs `command` under bubblewrap with the filter (no network, own
/// PIDs, read-only root).
fn sandboxed(command: &[&str]) -> Output {
    let seccomp = SeccompFd::new().unwrap();
    let child = Command::new(BWRAP)
        .args(["--unshare-net", "--unshare-pid", "--die-with-parent"])
        .args(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"])
        .args(seccomp.args())
        .arg("--")
        .args(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // As soon as it is spawned: the next test's SeccompFd waits for it.
    drop(seccomp);
    child.wait_with_output().unwrap()
}

/// The system's Python (a pyenv shim costs a bash and 150 ms).
fn python3() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// Runs a Python script in the sandbox, with `sys_call(nr, *args)`
/// returning `(result, errno)` and `nr(name)` the native numbers.
fn python(script: &str) -> Output {
    let arch = Arch::native().unwrap();
    let numbers: Vec<String> = NUMBERS
        .iter()
        .map(|(name, ..)| format!("{name:?}: {}", arch.number(name).unwrap()))
        .collect();
    let prelude = format!(
        "import ctypes, os, sys\n\
         libc = ctypes.CDLL(None, use_errno=True)\n\
         libc.syscall.restype = ctypes.c_long\n\
         NR = {{{}}}\n\
         def sys_call(nr, *args):\n    \
             ctypes.set_errno(0)\n    \
             r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])\n    \
             return r, ctypes.get_errno()\n",
        numbers.join(", ")
    );
    sandboxed(&[python3(), "-c", &format!("{prelude}{script}")])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// stdout, after checking that the command succeeded.
fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{:?}\nstdout: {}\nstderr: {}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

fn status_line(status: &str, key: &str) -> Option<String> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .map(|value| value.trim().to_owned())
}

#[test]
fn a_command_runs_with_seccomp_mode_2() {
    let inside = succeeded(&sandboxed(&["cat", "/proc/self/status"]));
    assert!(inside.contains("Seccomp:\t2"), "{inside}");
    // Our programs come on top of whatever this process already has
    // (a container's filter, say), so the mode alone proves little.
    let outside = std::fs::read_to_string("/proc/self/status").unwrap();
    if let Some(before) = status_line(&outside, "Seccomp_filters:") {
        let before: usize = before.parse().unwrap();
        let after: usize = status_line(&inside, "Seccomp_filters:")
            .unwrap()
            .parse()
            .unwrap();
        let ours = programs(Arch::native().unwrap()).unwrap().len();
        assert_eq!(after, before + ours, "{inside}");
    }
    let grep = succeeded(&sandboxed(&["grep", "Seccomp:", "/proc/self/status"]));
    assert_eq!(grep, "Seccomp:\t2\n");
}

#[test]
fn unshare_r_inside_the_sandbox_is_refused() {
    let output = sandboxed(&["unshare", "-r", "true"]);
    assert!(!output.status.success(), "{output:?}");
    assert!(
        text(&output.stderr).contains("Operation not permitted"),
        "{output:?}"
    );
}

#[test]
fn unshare_n_inside_the_sandbox_is_refused() {
    let output = sandboxed(&["unshare", "-n", "true"]);
    assert!(!output.status.success(), "{output:?}");
    assert!(
        text(&output.stderr).contains("Operation not permitted"),
        "{output:?}"
    );
}

#[test]
fn unshare_with_no_flags_at_all_is_refused() {
    // unshare(0) is a harmless no-op for anyone: only the filter
    // refuses it.
    let out = succeeded(&python("print(sys_call(NR['unshare'], 0))"));
    assert_eq!(out, "(-1, 1)\n");
}

#[test]
fn mounting_a_tmpfs_inside_the_sandbox_is_refused() {
    let output = sandboxed(&["mount", "-t", "tmpfs", "x", "/mnt"]);
    assert!(!output.status.success(), "{output:?}");
    assert!(!output.stderr.is_empty(), "{output:?}");
    // The system call itself, and the new mount API.
    let out = succeeded(&python(
        "print(libc.mount(b'x', b'/mnt', b'tmpfs', 0, None), ctypes.get_errno())\n\
         print(libc.syscall(ctypes.c_long(NR['fsopen']), b'tmpfs', 0), ctypes.get_errno())",
    ));
    assert_eq!(out, "-1 1\n-1 1\n");
}

#[test]
fn clone_into_any_new_namespace_is_refused() {
    // Without the filter a call would fork: the child leaves at once.
    let flags: Vec<String> = NAMESPACE_FLAGS.iter().map(u64::to_string).collect();
    let out = succeeded(&python(&format!(
        "errnos = []\n\
         for flag in [{}]:\n    \
             r, e = sys_call(NR['clone'], flag | 17, 0, 0, 0, 0)\n    \
             if r == 0:\n        \
                 os._exit(0)\n    \
             errnos.append(e)\n\
         print(errnos)",
        flags.join(", ")
    )));
    assert_eq!(out, format!("{:?}\n", vec![1; NAMESPACE_FLAGS.len()]));
}

#[test]
fn clone3_answers_enosys() {
    // Without the filter: EINVAL (size 0).
    let out = succeeded(&python("print(sys_call(NR['clone3'], 0, 0))"));
    assert_eq!(out, "(-1, 38)\n");
}

#[test]
fn background_jobs_threads_and_subprocesses_still_work() {
    // glibc tries clone3 first (threads, posix_spawn) and falls back to
    // clone on ENOSYS.
    succeeded(&sandboxed(&["bash", "-c", "true & wait"]));
    let out = succeeded(&python(
        "import subprocess, threading\n\
         print(subprocess.run(['true']).returncode)\n\
         t = threading.Thread(target=lambda: print('thread', flush=True))\n\
         t.start(); t.join()\n\
         pid = os.posix_spawnp('true', ['true'], dict(os.environ))\n\
         print(os.waitpid(pid, 0)[1])",
    ));
    assert_eq!(out, "0\nthread\n0\n");
}

#[test]
fn terminal_injection_ioctls_are_refused() {
    // stdin is /dev/null: without the filter these answer ENOTTY (25).
    // 0x1_0000_5412 is TIOCSTI with a high bit set, which the kernel
    // truncates away; an ordinary ioctl still works.
    let out = succeeded(&python(
        "c = ctypes.c_char(b'x')\n\
         for request in [0x5412, 0x541C, 0x1_0000_5412]:\n    \
             print(sys_call(NR['ioctl'], 0, request, ctypes.addressof(c)))\n\
         r, w = os.pipe()\n\
         n = ctypes.c_int(-1)\n\
         print(sys_call(NR['ioctl'], r, 0x541B, ctypes.addressof(n)), n.value)",
    ));
    assert_eq!(out, "(-1, 1)\n(-1, 1)\n(-1, 1)\n(0, 0) 0\n");
}

#[test]
fn setarch_r_cannot_turn_off_aslr() {
    let output = sandboxed(&["sh", "-c", "setarch \"$(uname -m)\" -R true"]);
    assert!(!output.status.success(), "{output:?}");
    assert!(
        text(&output.stderr).contains("Operation not permitted"),
        "{output:?}"
    );
    // Querying and setting PER_LINUX remain allowed.
    let out = succeeded(&python(
        "print(sys_call(NR['personality'], 0xffffffff))\n\
         print(sys_call(NR['personality'], 0))\n\
         print(sys_call(NR['personality'], 0x0040000))",
    ));
    assert_eq!(out, "(0, 0)\n(0, 0)\n(-1, 1)\n");
}

#[test]
fn every_unconditionally_refused_system_call_answers_eperm() {
    // Arguments of -1: without the filter most calls would fail with
    // EFAULT, EBADF or EINVAL instead, and none would do anything.
    let names: Vec<String> = REFUSED
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !CONDITIONAL.contains(name))
        .map(|name| format!("{name:?}"))
        .collect();
    let out = succeeded(&python(&format!(
        "for name in [{}]:\n    \
             print(name, sys_call(NR[name], -1, -1, -1, -1, -1, -1)[1])",
        names.join(", ")
    )));
    let expected: String = REFUSED
        .iter()
        .filter(|(name, _)| !CONDITIONAL.contains(name))
        .map(|(name, _)| format!("{name} 1\n"))
        .collect();
    assert_eq!(out, expected);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn x32_system_calls_are_refused() {
    // getpid with the x32 bit: without the filter, ENOSYS (38) on a
    // kernel without x32, a PID with it.
    let out = succeeded(&python(
        "print(sys_call(0x40000000 | 39))\n\
         print(sys_call(0x40000000 | 165, 0, 0, 0, 0, 0))\n\
         print(sys_call(39)[0] > 0)",
    ));
    assert_eq!(out, "(-1, 1)\n(-1, 1)\nTrue\n");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn an_i386_system_call_kills_the_command() {
    // mov eax, 20 (i386 getpid); int 0x80; ret, run from an executable
    // mapping: seccompiler's architecture check answers KILL_PROCESS.
    let output = python(
        "import mmap\n\
         page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n\
         page.write(bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3]))\n\
         code = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))\n\
         print('before', flush=True)\n\
         print('returned', code(), flush=True)",
    );
    // bwrap reports a child killed by signal N as 128 + N; SIGSYS is 31.
    assert_eq!(output.status.code(), Some(128 + 31), "{output:?}");
    assert_eq!(text(&output.stdout), "before\n");
}

#[test]
fn the_fds_are_inheritable_and_named_in_the_args() {
    let seccomp = SeccompFd::new().unwrap();
    let args = seccomp.args();
    let expected = programs(Arch::native().unwrap()).unwrap().len();
    assert_eq!(args.len(), 2 * expected);
    for (pair, fd) in args.chunks(2).zip(&seccomp.fds) {
        assert_eq!(pair[0], "--add-seccomp-fd");
        assert_eq!(pair[1], fd.as_raw_fd().to_string());
        assert_eq!(rustix::io::fcntl_getfd(fd).unwrap(), FdFlags::empty());
        assert!(
            rustix::fs::fcntl_get_seals(fd)
                .unwrap()
                .contains(SealFlags::WRITE)
        );
    }
}

#[test]
fn a_second_seccomp_fd_waits_until_the_first_is_dropped() {
    // Otherwise a command spawned by another thread could inherit this
    // one's fds and read part of the program before its bwrap does.
    let first = SeccompFd::new().unwrap();
    let (sent, received) = std::sync::mpsc::channel();
    let other = std::thread::spawn(move || {
        let second = SeccompFd::new().unwrap();
        sent.send(second.args()).unwrap();
    });
    let wait = std::time::Duration::from_millis(200);
    assert!(received.recv_timeout(wait).is_err());
    drop(first);
    let args = received
        .recv_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    assert_eq!(args[0], "--add-seccomp-fd");
    other.join().unwrap();
}

#[test]
fn a_program_is_8_native_endian_bytes_per_instruction() {
    let program = [sock_filter {
        code: 0x0102,
        jt: 3,
        jf: 4,
        k: 0x0506_0708,
    }];
    let mut expected = 0x0102_u16.to_ne_bytes().to_vec();
    expected.extend([3, 4]);
    expected.extend(0x0506_0708_u32.to_ne_bytes());
    assert_eq!(program_bytes(&program), expected);
}

#[test]
fn both_architectures_compile_and_every_name_has_a_number() {
    let refused: Vec<&str> = REFUSED.iter().map(|(name, _)| *name).collect();
    let numbered: Vec<&str> = NUMBERS.iter().map(|(name, ..)| *name).collect();
    assert_eq!(refused, numbered);
    for name in CONDITIONAL {
        assert!(refused.contains(name));
    }
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let programs = programs(arch).unwrap();
        assert_eq!(programs.len(), if arch == Arch::X86_64 { 3 } else { 2 });
        assert!(programs.iter().all(|p| !p.is_empty() && p.len() < 4096));
    }
    assert_eq!(rustix::io::Errno::PERM.raw_os_error(), EPERM as i32);
    assert_eq!(rustix::io::Errno::NOSYS.raw_os_error(), ENOSYS as i32);
}
