//! What a caller learns when the log cannot be opened: the cause, typed
//! (a directory open to others, a damaged chain, a key open to others), so
//! a full disk is not mistaken for tampering; the message the user sees is
//! the same as before the errors were typed.

use crate::support::*;
use airlock_audit::{Inconsistency, SealKeyError};
use airlock_core::statefs::PrivateDirError;

fn open_err(home: &Path) -> AuditError {
    match AuditLog::open(home, AuditOptions::default()) {
        Ok(_) => panic!("the log in {} opened", home.display()),
        Err(e) => e,
    }
}

#[test]
fn an_audit_directory_open_to_others_is_refused_as_such() {
    let home = tempdir();
    build_log(home.path(), 1);
    let dir = audit_dir(home.path());
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod 755");
    let err = open_err(home.path());
    assert!(
        matches!(
            &err,
            AuditError::PrivateDir(PrivateDirError::OpenToOthers { mode: 0o755, .. })
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "the audit log cannot be written: the audit directory {} is open to other users (mode 755); run `chmod 700 {}`",
            dir.display(),
            dir.display()
        )
    );
    assert!(err.io_error().is_none());
}

#[test]
fn a_damaged_last_record_is_an_inconsistency_not_an_io_error() {
    let home = tempdir();
    build_log(home.path(), 1);
    let path = last_segment(home.path());
    let mut lines = read_lines(&path);
    let last = lines.len() - 1;
    lines[last] = lines[last].replacen("\"seq\"", "\"seq\" ", 1);
    write_lines(&path, &lines);
    // Found when the writer next extends the chain.
    let err = open(home.path())
        .checkpoint()
        .expect_err("no append to a chain whose end is damaged");
    let AuditError::Inconsistent(Inconsistency::LastRecordCorrupt {
        path: named,
        source,
    }) = &err
    else {
        panic!("a corrupt last record: {err:?}");
    };
    assert_eq!(named, &path);
    assert_eq!(*source, record::LineError::NotCanonical);
    assert!(err.io_error().is_none());
    assert_eq!(
        err.to_string(),
        format!(
            "the audit log cannot be written: the last record of the audit log {} is corrupt (the line is not in canonical form (bytes were added, removed or reordered)); Airlock will not append to a chain it cannot extend. Run `airlock audit verify`",
            path.display()
        )
    );
    assert_eq!(
        err.reason(),
        err.to_string()
            .trim_start_matches("the audit log cannot be written: ")
    );
}

#[test]
fn a_deleted_log_with_its_head_file_left_is_refused() {
    let home = tempdir();
    build_log(home.path(), 1);
    let log_dir = layout(home.path()).log_dir();
    fs::remove_dir_all(&log_dir).expect("delete log/");
    let err = open_err(home.path());
    assert!(
        matches!(&err, AuditError::Inconsistent(Inconsistency::LogMissing { log_dir: d, .. }) if *d == log_dir),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("Airlock will not start a new log over a deleted one"),
        "{err}"
    );
}

#[test]
fn a_sealing_key_open_to_others_is_refused_before_anything_runs() {
    let home = tempdir();
    build_log(home.path(), 1);
    let key = layout(home.path()).key();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod 644");
    let err = open_err(home.path());
    assert!(
        matches!(&err, AuditError::SealKey(SealKeyError::OpenToOthers { path, mode: 0o644 }) if *path == key),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "the audit log cannot be written: the audit sealing key {} is readable or writable by other users (mode 644); run `chmod 600 {}`",
            key.display(),
            key.display()
        )
    );
}
