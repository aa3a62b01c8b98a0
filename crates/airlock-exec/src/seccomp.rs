//! The seccomp filter every command runs under, handed to bubblewrap as
//! compiled BPF programs (`--add-seccomp-fd FD`, once per program).
//!
//! The filter is a deny list on top of bubblewrap's namespaces: every
//! system call is allowed except those in [`REFUSED`], which fail with
//! `EPERM` (`clone3` with `ENOSYS`). They fall into a few groups:
//!
//! - **New namespaces**: `unshare` (whatever the flags), `setns`, and
//!   `clone` with any `CLONE_NEW*` flag. A user namespace would give the
//!   command a full set of capabilities over new mount and network
//!   namespaces, which is the usual first step of a kernel exploit and of a
//!   way around the sandbox's own mounts.
//! - **Mounts**: `mount`, `umount2`, `pivot_root`, `chroot` and the new mount
//!   API (`fsopen`, `fsconfig`, `fsmount`, `fspick`, `move_mount`,
//!   `open_tree`, `mount_setattr`).
//! - **Other processes' memory**: `ptrace`, `process_vm_readv`,
//!   `process_vm_writev`.
//! - **Kernel attack surface a command never needs**: keyrings, `bpf`,
//!   `perf_event_open`, `io_uring_*`, `userfaultfd`, file handles
//!   (`open_by_handle_at` walks around bind mounts), `fanotify_init`.
//! - **Whole-machine operations**: modules, `kexec_*`, `reboot`, `swapon`,
//!   `swapoff`, `acct`, `quotactl`, `syslog`.
//! - **Weakening the process itself**: `personality` with anything but
//!   `PER_LINUX` (0) or the query `0xffffffff`, so `ADDR_NO_RANDOMIZE`
//!   (0x0040000, `setarch -R`) cannot turn address-space randomisation off.
//! - **Terminal injection**: `ioctl(TIOCSTI)` and `ioctl(TIOCLINUX)`, which
//!   push keystrokes into the input of the terminal the command shares with
//!   the user. The request is compared on its low 32 bits, the width the
//!   kernel uses, so high bits set in the 64-bit argument do not get past.
//!
//! `clone3` returns `ENOSYS` rather than `EPERM`: its flags sit in memory a
//! filter cannot read, so it is refused whole, and `ENOSYS` is what makes
//! glibc (pthread_create, posix_spawn) fall back to `clone`, whose flags
//! are an argument the filter checks. seccompiler gives one action per
//! filter, so that is a second program; the kernel runs every installed
//! program and the most restrictive answer wins.
//!
//! **Other system call ABIs.** Each program starts with seccompiler's
//! architecture check: a system call whose `AUDIT_ARCH` is not the native
//! one (the i386 ABI through `int 0x80` on x86_64, AArch32 on aarch64)
//! kills the whole process (`SECCOMP_RET_KILL_PROCESS`, i.e. `SIGSYS`).
//! x32 system calls, on the other hand, report `AUDIT_ARCH_X86_64` with bit
//! 0x40000000 set in the number, and seccompiler only compares numbers for
//! equality, so `mount | 0x40000000` would pass its programs. On x86_64 a
//! third, hand-written program (eight instructions) therefore refuses every
//! number in `0x40000000..=0x7fffffff` with `EPERM`, whether or not the
//! kernel was built with x32 support.
//!
//! **What a seccomp filter cannot do here.**
//! - It sees numbers and register arguments only, never memory: it cannot
//!   look at paths, at `clone3`'s flags or at `io_uring` submissions (the
//!   last two are refused whole for that reason). Files and the network are
//!   bubblewrap's job (mounts and namespaces), not this filter's.
//! - It is a deny list: system calls added by later kernels are allowed
//!   until they are listed here.
//! - It does not protect against bugs in the system calls it allows.
//! - A command whose persona was already changed before Airlock started
//!   cannot set it again (only 0 and the query are allowed).
//!
//! **How the programs reach bubblewrap.** Each program is written into a
//! sealed memfd whose close-on-exec flag is cleared just before
//! [`SeccompFd::new`] returns, so the `bwrap` spawned next inherits it at
//! the same number; bwrap reads it to EOF and closes its copy, and dropping
//! the [`SeccompFd`] closes ours. Because the read moves the offset shared
//! by every copy, a [`SeccompFd`] serves exactly one spawn: build a new one
//! per command, and drop it as soon as `spawn` returns.
//!
//! The trade-off of a non-close-on-exec fd (passing it to one child only
//! would need `pre_exec`, i.e. unsafe code): a child spawned by another
//! thread between [`SeccompFd::new`] and the drop inherits it too. The
//! content cannot be changed (the memfd is sealed against writing, growing
//! and shrinking) and holds nothing secret, but the file offset is shared:
//! a *sandboxed* command that inherited it could read part of the program
//! before our bwrap does, leaving bwrap the tail of it, a weaker filter.
//! So only one [`SeccompFd`] exists at a time in this process:
//! [`SeccompFd::new`] waits until the previous one is dropped. Every
//! sandboxed command needs one, so none can be spawned inside another's
//! window; other children (trusted tools) may still inherit the fds
//! harmlessly. Hence also: never hold two in one thread (it would wait for
//! itself).

use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Condvar, Mutex, PoisonError};

use rustix::fs::{MemfdFlags, SealFlags, fcntl_add_seals, memfd_create};
use rustix::io::{FdFlags, fcntl_setfd};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch, sock_filter,
};

/// Why the seccomp filter could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// This machine's architecture has no filter.
    #[error("no seccomp filter for the {0} architecture (x86_64 and aarch64 only)")]
    UnsupportedArch(&'static str),
    /// A refused system call has no number on this architecture.
    #[error("seccomp filter: no number for {0}")]
    NoNumber(String),
    /// seccompiler refused a rule or could not compile a program.
    #[error("seccomp filter: {0}")]
    Compile(#[from] seccompiler::BackendError),
    /// A program could not be written to its sealed memfd.
    #[error("seccomp filter: memfd: {0}")]
    Memfd(#[source] std::io::Error),
    /// The memfd's close-on-exec flag could not be cleared.
    #[error("seccomp filter: cannot make the memfd inheritable: {0}")]
    Inheritable(#[source] std::io::Error),
}

/// The system calls refused inside the command sandbox, with the reason,
/// for documentation and `--help`. All fail with `EPERM` except `clone3`
/// (`ENOSYS`); `personality`, `ioctl` and `clone` only for the arguments
/// named.
pub const REFUSED: &[(&str, &str)] = &[
    (
        "unshare",
        "new namespaces (any flags): a user namespace hands out capabilities",
    ),
    ("setns", "entering other namespaces"),
    ("clone", "only with a CLONE_NEW* flag: new namespaces"),
    (
        "clone3",
        "ENOSYS: its flags are in memory the filter cannot read; libc falls back to clone",
    ),
    ("mount", "mounting file systems"),
    (
        "umount2",
        "unmounting (would uncover what the sandbox hides)",
    ),
    ("pivot_root", "changing the root file system"),
    ("chroot", "changing the root directory"),
    ("fsopen", "new mount API"),
    ("fsconfig", "new mount API"),
    ("fsmount", "new mount API"),
    ("fspick", "new mount API"),
    ("move_mount", "new mount API"),
    ("open_tree", "new mount API (cloning mounts)"),
    ("mount_setattr", "changing mount flags (read-only, nosuid)"),
    ("ptrace", "tracing or controlling other processes"),
    ("process_vm_readv", "reading other processes' memory"),
    ("process_vm_writev", "writing other processes' memory"),
    ("keyctl", "kernel keyrings (shared secrets, attack surface)"),
    ("add_key", "kernel keyrings"),
    ("request_key", "kernel keyrings"),
    ("bpf", "loading eBPF programs into the kernel"),
    (
        "perf_event_open",
        "performance monitoring (side channels, attack surface)",
    ),
    (
        "io_uring_setup",
        "io_uring: system calls the filter cannot see",
    ),
    ("io_uring_enter", "io_uring"),
    ("io_uring_register", "io_uring"),
    (
        "userfaultfd",
        "page-fault handling in user space (exploit primitive)",
    ),
    (
        "open_by_handle_at",
        "opening files by handle, around bind mounts",
    ),
    ("name_to_handle_at", "file handles"),
    ("fanotify_init", "watching file access system-wide"),
    ("init_module", "loading kernel modules"),
    ("finit_module", "loading kernel modules"),
    ("delete_module", "unloading kernel modules"),
    ("kexec_load", "replacing the running kernel"),
    ("kexec_file_load", "replacing the running kernel"),
    ("reboot", "rebooting the machine"),
    ("swapon", "swap configuration"),
    ("swapoff", "swap configuration"),
    ("acct", "process accounting"),
    ("quotactl", "disk quotas"),
    (
        "syslog",
        "the kernel log (addresses, other users' activity)",
    ),
    (
        "personality",
        "except PER_LINUX (0) and the query 0xffffffff: ADDR_NO_RANDOMIZE would turn ASLR off",
    ),
    (
        "ioctl",
        "TIOCSTI and TIOCLINUX only: injecting keystrokes into the terminal",
    ),
];

/// `(name, x86_64 number, aarch64 number)` of every system call in
/// [`REFUSED`] (from the kernel's `unistd_64.h` and `asm-generic/unistd.h`).
const NUMBERS: &[(&str, i64, i64)] = &[
    ("unshare", 272, 97),
    ("setns", 308, 268),
    ("clone", 56, 220),
    ("clone3", 435, 435),
    ("mount", 165, 40),
    ("umount2", 166, 39),
    ("pivot_root", 155, 41),
    ("chroot", 161, 51),
    ("fsopen", 430, 430),
    ("fsconfig", 431, 431),
    ("fsmount", 432, 432),
    ("fspick", 433, 433),
    ("move_mount", 429, 429),
    ("open_tree", 428, 428),
    ("mount_setattr", 442, 442),
    ("ptrace", 101, 117),
    ("process_vm_readv", 310, 270),
    ("process_vm_writev", 311, 271),
    ("keyctl", 250, 219),
    ("add_key", 248, 217),
    ("request_key", 249, 218),
    ("bpf", 321, 280),
    ("perf_event_open", 298, 241),
    ("io_uring_setup", 425, 425),
    ("io_uring_enter", 426, 426),
    ("io_uring_register", 427, 427),
    ("userfaultfd", 323, 282),
    ("open_by_handle_at", 304, 265),
    ("name_to_handle_at", 303, 264),
    ("fanotify_init", 300, 262),
    ("init_module", 175, 105),
    ("finit_module", 313, 273),
    ("delete_module", 176, 106),
    ("kexec_load", 246, 104),
    ("kexec_file_load", 320, 294),
    ("reboot", 169, 142),
    ("swapon", 167, 224),
    ("swapoff", 168, 225),
    ("acct", 163, 89),
    ("quotactl", 179, 60),
    ("syslog", 103, 116),
    ("personality", 135, 92),
    ("ioctl", 16, 29),
];

/// `EPERM` and `ENOSYS`: the same numbers on x86_64 and aarch64.
const EPERM: u32 = 1;
const ENOSYS: u32 = 38;

/// `TIOCSTI` (push a byte into the terminal's input) and `TIOCLINUX`
/// (its Linux-console cousin; can paste the selection), the same on both
/// architectures.
const TERMINAL_INJECTION: &[u64] = &[0x5412, 0x541C];

/// `PER_LINUX` and the query value of `personality`.
const PERSONALITY_ALLOWED: &[u64] = &[0, 0xffff_ffff];

/// `CLONE_NEWUSER`, `CLONE_NEWNS`, `CLONE_NEWPID`, `CLONE_NEWNET`,
/// `CLONE_NEWUTS`, `CLONE_NEWIPC`, `CLONE_NEWCGROUP`, `CLONE_NEWTIME`.
/// (`clone` cannot actually take `CLONE_NEWTIME`, whose bit is part of the
/// exit-signal byte; no valid signal has that bit, so refusing it costs
/// nothing.)
const NAMESPACE_FLAGS: &[u64] = &[
    0x1000_0000,
    0x0002_0000,
    0x2000_0000,
    0x4000_0000,
    0x0400_0000,
    0x0800_0000,
    0x0200_0000,
    0x0000_0080,
];

/// The compiled filter, ready to hand to bubblewrap: one sealed memfd per
/// BPF program, inherited by the next spawned child (not close-on-exec).
/// Serves one spawn; dropping it closes this process's copies and lets the
/// next [`SeccompFd::new`] proceed (one exists at a time, see the module
/// documentation).
#[derive(Debug)]
pub struct SeccompFd {
    // Declared first: the fds are closed before the turn is handed on.
    fds: Vec<OwnedFd>,
    _turn: Turn,
}

impl SeccompFd {
    /// Builds the filter for this machine's architecture (x86_64 or
    /// aarch64; any other is an error naming it). Waits while another
    /// [`SeccompFd`] of this process is alive.
    pub fn new() -> Result<Self, SeccompError> {
        let arch = Arch::native()?;
        let turn = Turn::take();
        let fds = programs(arch)?
            .iter()
            .map(|program| program_fd(program))
            .collect::<Result<Vec<_>, _>>()?;
        // Last, so that nothing fallible runs while the fds are inheritable.
        for fd in &fds {
            fcntl_setfd(fd, FdFlags::empty()).map_err(|e| SeccompError::Inheritable(e.into()))?;
        }
        Ok(Self { fds, _turn: turn })
    }

    /// The bubblewrap arguments that load the filter, e.g.
    /// `["--add-seccomp-fd", "5", "--add-seccomp-fd", "6"]`; they go
    /// before the `--` that ends bwrap's options. Not to be combined with
    /// `--seccomp`.
    pub fn args(&self) -> Vec<String> {
        self.fds
            .iter()
            .flat_map(|fd| ["--add-seccomp-fd".to_owned(), fd.as_raw_fd().to_string()])
            .collect()
    }
}

/// The right to hold inheritable seccomp fds: one holder at a time in the
/// process, released on drop (a flag and a condition variable rather than
/// a `MutexGuard`, so that [`SeccompFd`] stays `Send`).
#[derive(Debug)]
struct Turn;

static TAKEN: Mutex<bool> = Mutex::new(false);
static RELEASED: Condvar = Condvar::new();

impl Turn {
    fn take() -> Self {
        // The flag is a plain bool: a panic elsewhere cannot leave it
        // inconsistent, so a poisoned lock is used as is.
        let mut taken = TAKEN.lock().unwrap_or_else(PoisonError::into_inner);
        while *taken {
            taken = RELEASED.wait(taken).unwrap_or_else(PoisonError::into_inner);
        }
        *taken = true;
        Turn
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        *TAKEN.lock().unwrap_or_else(PoisonError::into_inner) = false;
        RELEASED.notify_one();
    }
}

/// The architectures with a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    fn native() -> Result<Self, SeccompError> {
        match std::env::consts::ARCH {
            "x86_64" => Ok(Self::X86_64),
            "aarch64" => Ok(Self::Aarch64),
            other => Err(SeccompError::UnsupportedArch(other)),
        }
    }

    fn target(self) -> TargetArch {
        match self {
            Self::X86_64 => TargetArch::x86_64,
            Self::Aarch64 => TargetArch::aarch64,
        }
    }

    fn number(self, name: &str) -> Result<i64, SeccompError> {
        NUMBERS
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|&(_, x86_64, aarch64)| match self {
                Self::X86_64 => x86_64,
                Self::Aarch64 => aarch64,
            })
            .ok_or_else(|| SeccompError::NoNumber(name.to_string()))
    }
}

/// The BPF programs, in the order bwrap installs them: the `EPERM`
/// program, the `clone3` one, and on x86_64 the x32 one.
fn programs(arch: Arch) -> Result<Vec<BpfProgram>, SeccompError> {
    let mut programs = vec![refused_program(arch)?, clone3_program(arch)?];
    if arch == Arch::X86_64 {
        programs.push(x32_program());
    }
    Ok(programs)
}

/// One condition on the low 32 bits of argument `index`.
fn dword(index: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, SeccompError> {
    Ok(SeccompCondition::new(
        index,
        SeccompCmpArgLen::Dword,
        op,
        value,
    )?)
}

fn rule(conditions: Vec<SeccompCondition>) -> Result<SeccompRule, SeccompError> {
    Ok(SeccompRule::new(conditions)?)
}

/// Every system call of [`REFUSED`] but `clone3`: `EPERM`.
fn refused_program(arch: Arch) -> Result<BpfProgram, SeccompError> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for &(name, _) in REFUSED {
        // Rules of one system call are alternatives; an empty list matches
        // every call.
        let chain = match name {
            "clone3" => continue,
            // personality(unsigned int): neither 0 nor the query.
            "personality" => vec![rule(
                PERSONALITY_ALLOWED
                    .iter()
                    .map(|&v| dword(0, SeccompCmpOp::Ne, v))
                    .collect::<Result<_, _>>()?,
            )?],
            // ioctl(fd, unsigned int cmd, ...).
            "ioctl" => TERMINAL_INJECTION
                .iter()
                .map(|&request| rule(vec![dword(1, SeccompCmpOp::Eq, request)?]))
                .collect::<Result<_, _>>()?,
            // clone(unsigned long flags, ...) on both architectures; the
            // kernel uses the low 32 bits.
            "clone" => NAMESPACE_FLAGS
                .iter()
                .map(|&flag| rule(vec![dword(0, SeccompCmpOp::MaskedEq(flag), flag)?]))
                .collect::<Result<_, _>>()?,
            _ => Vec::new(),
        };
        rules.insert(arch.number(name)?, chain);
    }
    compile(rules, SeccompAction::Errno(EPERM), arch)
}

/// `clone3`: `ENOSYS`, so libc falls back to the filtered `clone`.
fn clone3_program(arch: Arch) -> Result<BpfProgram, SeccompError> {
    let rules = BTreeMap::from([(arch.number("clone3")?, Vec::new())]);
    compile(rules, SeccompAction::Errno(ENOSYS), arch)
}

fn compile(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    action: SeccompAction,
    arch: Arch,
) -> Result<BpfProgram, SeccompError> {
    Ok(
        SeccompFilter::new(rules, SeccompAction::Allow, action, arch.target())
            .and_then(BpfProgram::try_from)?,
    )
}

// Classic BPF, for the one program seccompiler cannot express.
const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JMP_JEQ_K: u16 = 0x15;
const BPF_JMP_JGT_K: u16 = 0x25;
const BPF_JMP_JGE_K: u16 = 0x35;
const BPF_RET_K: u16 = 0x06;
const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `offsetof(struct seccomp_data, nr)` and `arch`.
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
/// `__X32_SYSCALL_BIT`.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// x86_64 only: every x32 system call (number in `0x40000000..=0x7fffffff`)
/// fails with `EPERM`; seccompiler only matches exact numbers.
fn x32_program() -> BpfProgram {
    let op = |code, k, jt, jf| sock_filter { code, jt, jf, k };
    vec![
        op(BPF_LD_W_ABS, DATA_ARCH, 0, 0),
        op(BPF_JMP_JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        op(BPF_RET_K, SECCOMP_RET_KILL_PROCESS, 0, 0),
        op(BPF_LD_W_ABS, DATA_NR, 0, 0),
        op(BPF_JMP_JGE_K, X32_SYSCALL_BIT, 0, 2),
        // Above: negative numbers (-1 is "no system call" for tracers).
        op(BPF_JMP_JGT_K, 0x7fff_ffff, 1, 0),
        op(BPF_RET_K, SECCOMP_RET_ERRNO | EPERM, 0, 0),
        op(BPF_RET_K, SECCOMP_RET_ALLOW, 0, 0),
    ]
}

/// The program as the kernel's `struct sock_filter[]`: per instruction
/// `code: u16, jt: u8, jf: u8, k: u32`, native-endian, 8 bytes.
fn program_bytes(program: &[sock_filter]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(program.len() * 8);
    for instruction in program {
        bytes.extend_from_slice(&instruction.code.to_ne_bytes());
        bytes.push(instruction.jt);
        bytes.push(instruction.jf);
        bytes.extend_from_slice(&instruction.k.to_ne_bytes());
    }
    bytes
}

/// A sealed memfd holding the program, offset 0, still close-on-exec.
fn program_fd(program: &[sock_filter]) -> Result<OwnedFd, SeccompError> {
    let fd = memfd_create(
        "airlock-seccomp",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )
    .map_err(|e| SeccompError::Memfd(e.into()))?;
    let mut file = std::fs::File::from(fd);
    file.write_all(&program_bytes(program))
        .map_err(SeccompError::Memfd)?;
    file.seek(SeekFrom::Start(0)).map_err(SeccompError::Memfd)?;
    let fd = OwnedFd::from(file);
    fcntl_add_seals(
        &fd,
        SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL,
    )
    .map_err(|e| SeccompError::Memfd(e.into()))?;
    Ok(fd)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
