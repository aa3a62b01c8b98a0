//! Concurrent writers, and failing closed when the log cannot be written.

use crate::support::*;

// ------------------------------------------------------------ 12. concurrency

#[test]
fn two_handles_appending_from_two_threads_build_one_chain() {
    for rotate in [None, Some(4096)] {
        let home = tempdir();
        let options = rotate.map_or_else(AuditOptions::default, rotating);
        let a = AuditLog::open(home.path(), options.clone()).expect("open, as one process");
        let b = AuditLog::open(home.path(), options).expect("open, as another");
        let barrier = std::sync::Barrier::new(2);
        let (ids_a, ids_b) = std::thread::scope(|s| {
            let one = s.spawn(|| {
                barrier.wait();
                add_runs(&a, 0..6)
            });
            let two = s.spawn(|| {
                barrier.wait();
                add_runs(&b, 6..12)
            });
            (
                one.join().expect("the first thread"),
                two.join().expect("the second thread"),
            )
        });

        let report = verify_home(home.path());
        assert_verifies(&report);
        assert!(report.open_runs.is_empty(), "{report:#?}");
        assert_eq!(report.unsealed, 0, "{report:#?}");
        assert!(report.checkpoints >= 12, "{report:#?}");
        let all = records(home.path());
        assert_eq!(report.records as usize, all.len());
        let ordinary = all
            .iter()
            .filter(|r| r.kind != kind::CHECKPOINT && r.kind != kind::SEGMENT_START)
            .count();
        assert_eq!(ordinary, 1 + 12 * 8, "every record of every run, once");
        for run in ids_a.iter().chain(&ids_b) {
            let kinds: Vec<&str> = all
                .iter()
                .filter(|r| r.run.as_deref() == Some(run.as_str()))
                .map(|r| r.kind.as_str())
                .collect();
            assert_eq!(kinds.len(), 8, "run {run}: {kinds:?}");
            assert_eq!(
                (kinds[0], kinds[6], kinds[7]),
                (kind::RUN_START, kind::INFERENCE, kind::RUN_END)
            );
        }
        if rotate.is_some() {
            assert!(report.files >= 3, "{report:#?}");
        }
    }
}

// ------------------------------------------------------------ 13. failing closed

/// A log file made unwritable, and how to undo it.
enum Broken {
    /// A normal user: the file is read-only.
    ReadOnly(PathBuf),
    /// Root writes through file modes: a directory takes the file's place.
    Replaced { path: PathBuf, aside: PathBuf },
}

impl Broken {
    fn new(path: &Path) -> Self {
        if airlock_audit::identity::uid() == 0 {
            let aside = path.with_extension("aside");
            fs::rename(path, &aside).expect("move the log file aside");
            fs::create_dir(path).expect("a directory in its place");
            Self::Replaced {
                path: path.to_path_buf(),
                aside,
            }
        } else {
            fs::set_permissions(path, fs::Permissions::from_mode(0o400)).expect("chmod 400");
            Self::ReadOnly(path.to_path_buf())
        }
    }

    fn repair(self) {
        match self {
            Self::ReadOnly(path) => {
                fs::set_permissions(path, fs::Permissions::from_mode(0o600)).expect("chmod 600");
            }
            Self::Replaced { path, aside } => {
                fs::remove_dir(&path).expect("remove the directory");
                fs::rename(aside, path).expect("put the log file back");
            }
        }
    }
}

#[test]
fn a_failed_write_fails_closed_names_the_file_and_every_later_append_fails() {
    for first in ["durable", "end"] {
        let home = tempdir();
        let log = open(home.path());
        add_runs(&log, 0..1);
        let run = log.begin_run(&run_start(1)).expect("begin a run");
        run.event(
            kind::ACCESS,
            json!({"op": "read", "path": "a.txt", "allowed": true}),
        )
        .expect("a buffered event");
        let path = last_segment(home.path());
        let named = path.display().to_string();

        let broken = Broken::new(&path);
        let result = match first {
            "durable" => run.durable(kind::INFERENCE, json!({"model": "tiny", "output": "x"})),
            _ => run.end(json!({"outcome": "ok", "exit-code": 0})),
        };
        let err = result.expect_err("a write to an unwritable log must fail");
        // An I/O failure on that file (not tampering), and the message says so.
        assert!(
            matches!(&err, AuditError::Io(e) if e.path == path),
            "`{first}`: an I/O error on {named}: {err:?}"
        );
        assert!(err.io_error().is_some(), "{err:?}");
        assert!(
            err.to_string().contains(&named),
            "`{first}`: the error names the file: {err}"
        );
        assert!(err.to_string().contains("cannot be written"), "{err}");
        broken.repair();

        // The file is writable again, but this handle stays closed.
        let later: [(&str, Result<(), AuditError>); 6] = [
            (
                "durable",
                run.durable(kind::INFERENCE, json!({"model": "tiny", "output": "y"})),
            ),
            ("end", run.end(json!({"outcome": "ok", "exit-code": 0}))),
            ("checkpoint", log.checkpoint()),
            ("admin", log.admin("trust-add", json!({"key": "k"}))),
            ("refused", log.refused("skill", 3, "unsigned")),
            ("begin_run", log.begin_run(&run_start(2)).map(|_| ())),
        ];
        for (what, result) in later {
            let err = result.expect_err(what);
            assert!(
                matches!(&err, AuditError::Closed { first } if first.contains(&named)),
                "after `{first}` failed, `{what}` fails closed naming the first failure: {err:?}"
            );
            assert!(
                err.to_string().contains("stays closed") && err.to_string().contains(&named),
                "after `{first}` failed, `{what}`: {err}"
            );
        }

        // Nothing was written after the failure; what was is intact.
        let report = verify_home(home.path());
        assert_verifies(&report);
        assert_eq!(report.records, 1 + PER_RUN + 1, "{report:#?}");
        assert_eq!(report.open_runs, vec![run.id().to_string()]);
        // A new handle (a new process) writes again.
        let again = open(home.path());
        again.checkpoint().expect("a new handle can seal");
        assert_verifies(&verify_home(home.path()));
    }
}
