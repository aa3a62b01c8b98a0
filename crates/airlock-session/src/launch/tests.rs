//! The launch pipeline without the binary: what is refused, what is a usage
//! error, and which of them the audit log records.

#![allow(clippy::unwrap_used)]

use super::*;
use airlock_audit::record::kind;
use airlock_audit::verify::read_records;
use std::path::Path;

/// A home with an empty configuration file beside it (so no developer's
/// own configuration is read).
struct Home {
    dir: tempfile::TempDir,
    config: PathBuf,
}

fn home() -> Home {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    Home { dir, config }
}

impl Home {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn launcher(&self) -> Launcher {
        Launcher::open(Some(self.path()), Some(&self.config)).unwrap()
    }

    /// A file that is no component.
    fn junk(&self) -> PathBuf {
        let path = self.path().join("skill.wasm");
        std::fs::write(&path, b"not a component").unwrap();
        path
    }

    /// The refusals the audit log holds, as (skill, exit code, reason).
    fn refusals(&self) -> Vec<(String, u64, String)> {
        read_records(&airlock_audit::audit_dir(self.path()))
            .unwrap()
            .into_iter()
            .filter(|(r, _)| r.kind == kind::RUN_REFUSED)
            .map(|(r, _)| {
                (
                    r.str("skill").unwrap().to_string(),
                    r.u64("exit-code").unwrap(),
                    r.str("reason").unwrap().to_string(),
                )
            })
            .collect()
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn spec(skill: &Path, allow_unsigned: bool, workspace: &Path) -> SkillSpec {
    SkillSpec {
        skill: skill.to_path_buf(),
        allow_unsigned,
        profile: None,
        workspace: workspace.to_path_buf(),
    }
}

#[test]
fn without_a_home_there_is_no_audit_log_and_so_no_run() {
    let home = home();
    let Err(e) = Launcher::open(None, Some(&home.config)) else {
        panic!("opened without a home");
    };
    assert!(matches!(e, LaunchError::NoHome), "{e:?}");
    assert_eq!(e.status(), Status::Usage);
    assert_eq!(
        e.to_string(),
        "no Airlock home ($AIRLOCK_HOME or $HOME), so no audit log: set AIRLOCK_HOME or pass --home DIR"
    );
}

#[test]
fn a_configuration_file_named_but_missing_is_a_usage_error() {
    let home = home();
    let missing = home.path().join("missing.toml");
    let Err(e) = Launcher::open(Some(home.path()), Some(&missing)) else {
        panic!("opened with a missing configuration");
    };
    assert!(matches!(e, LaunchError::Config(_)), "{e:?}");
    assert_eq!(e.status(), Status::Usage);
    assert!(e.to_string().contains("missing.toml"), "{e}");
}

#[test]
fn a_bare_component_not_asked_to_run_unsigned_is_refused_and_the_refusal_recorded() {
    let home = home();
    let launcher = home.launcher();
    let skill = home.junk();
    let e = block_on(launcher.prepare(&spec(&skill, false, home.path()), &Quietly))
        .err()
        .unwrap();
    assert!(
        matches!(&e, LaunchError::Admit(a) if matches!(**a, admit::AdmitError::Unsigned(_))),
        "{e:?}"
    );
    assert_eq!(e.status(), Status::Refused);
    assert_eq!(
        home.refusals(),
        [(skill.display().to_string(), 3, e.to_string())]
    );
}

#[test]
fn a_workspace_that_is_no_directory_is_a_usage_error_and_not_a_refusal() {
    let home = home();
    let launcher = home.launcher();
    let skill = home.junk();
    let missing = home.path().join("no-such-workspace");
    let e = block_on(launcher.prepare(&spec(&skill, true, &missing), &Quietly))
        .err()
        .unwrap();
    assert_eq!(e.status(), Status::Usage);
    assert_eq!(
        e.to_string(),
        format!(
            "workspace {} is not a directory; pass one with --workspace DIR",
            missing.display()
        )
    );
    assert!(home.refusals().is_empty());
}

#[test]
fn a_file_that_is_no_component_is_a_usage_error_after_the_compile_progress_is_over() {
    struct Watch(std::sync::Mutex<Vec<&'static str>>);
    impl CompileProgress for Watch {
        fn compiling(&self, _: &Path, _: &str) {
            self.0.lock().unwrap().push("compiling");
        }
        fn done(&self) {
            self.0.lock().unwrap().push("done");
        }
    }
    let home = home();
    let launcher = home.launcher();
    let skill = home.junk();
    let watch = Watch(Default::default());
    let e = block_on(launcher.prepare(&spec(&skill, true, home.path()), &watch))
        .err()
        .unwrap();
    assert!(matches!(e, LaunchError::Load(_)), "{e:?}");
    assert_eq!(e.status(), Status::Usage);
    assert_eq!(*watch.0.lock().unwrap().last().unwrap(), "done");
    assert!(home.refusals().is_empty());
}

#[test]
fn a_refusal_made_by_the_caller_is_recorded_with_code_3() {
    let home = home();
    let launcher = home.launcher();
    launcher
        .record_refusal("airlock mcp", "the admin policy forbids it")
        .unwrap();
    let changed = launcher.refused("coder", LaunchError::Changed("coder".into()));
    assert_eq!(changed.status(), Status::Refused);
    assert_eq!(
        changed.to_string(),
        "`coder` changed since this session started; start it again"
    );
    // A usage error passes unrecorded.
    let usage = launcher.refused("coder", LaunchError::NoHome);
    assert!(matches!(usage, LaunchError::NoHome));
    assert_eq!(
        home.refusals(),
        [
            (
                "airlock mcp".to_string(),
                3,
                "the admin policy forbids it".to_string()
            ),
            ("coder".to_string(), 3, changed.to_string()),
        ]
    );
}
