#![allow(clippy::unwrap_used)]

use super::*;
use crate::profile::ProfileSource;
use std::os::unix::fs::PermissionsExt;

fn sys(text: &str) -> Policy {
    Policy::parse(text, Origin::System("/etc/airlock/policy.toml".into())).unwrap()
}

fn env(text: &str) -> Policy {
    Policy::parse(text, Origin::Env("/tmp/p.toml".into())).unwrap()
}

fn profile(text: &str) -> Profile {
    Profile::parse(text, ProfileSource::File("mine.toml".into())).unwrap()
}

#[test]
fn no_file_is_the_developer_default() {
    let p = Policy::load_from(Path::new("/nonexistent/airlock/policy.toml"), None).unwrap();
    assert!(p.allow_unsigned);
    assert!(p.allows_publisher("SHA256:anything"));
    assert!(p.profile_ceiling.is_none() && p.allowed_models.is_none());
    assert!(p.sources.files.is_empty());
    let assistant = Profile::builtin("assistant").unwrap();
    assert_eq!(p.check_profile(&assistant), Ok(()));
    assert_eq!(p.check_models(&assistant), Ok(()));
}

#[test]
fn unknown_key_names_file_line_and_column() {
    let err = Policy::parse(
        "allow-unsigned = false\nallowed-model = [\"x\"]\n",
        Origin::Env("/tmp/p.toml".into()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("/tmp/p.toml:2:1: unknown field `allowed-model`, expected one of"),
        "{err}"
    );
    assert!(err.contains("docs/policy.md"), "{err}");
}

#[test]
fn wrong_values_name_the_key() {
    let err = Policy::parse("allow-unsigned = \"no\"\n", Origin::Env("p.toml".into()))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("p.toml:1:18: "), "{err}");
    let err = Policy::parse(
        "allowed-models = [\"Big Model\"]\n",
        Origin::Env("p.toml".into()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("p.toml:1:19: allowed-models: \"Big Model\" is not a model name"),
        "{err}"
    );
    let err = Policy::parse("profile-ceiling = \"nope\"\n", Origin::Env("p.toml".into()))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("p.toml:1:19: profile-ceiling = \"nope\" is neither a built-in profile"),
        "{err}"
    );
    let err = Policy::parse(
        "profile-ceiling = \"ceilings/mine.toml\"\n",
        Origin::Env("p.toml".into()),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("absolute path"), "{err}");
}

#[test]
fn merging_takes_the_stricter_value_of_every_key() {
    let system = sys(concat!(
        "allow-unsigned = false\n",
        "trusted-publishers = [\"SHA256:aaa\", \"SHA256:bbb\"]\n",
        "allowed-models = [\"smollm2\", \"coder\"]\n",
    ));
    // The additional file tries to loosen every key.
    let loosen = env(concat!(
        "allow-unsigned = true\n",
        "trusted-publishers = [\"SHA256:bbb\", \"SHA256:ccc\"]\n",
        "allowed-models = [\"coder\", \"big\"]\n",
    ));
    let merged = system.clone().merge(loosen.clone()).unwrap();
    assert!(!merged.allow_unsigned, "true cannot override false");
    assert_eq!(merged.trusted_publishers, Some(vec!["SHA256:bbb".into()]));
    assert!(!merged.allows_publisher("SHA256:aaa") && !merged.allows_publisher("SHA256:ccc"));
    assert!(merged.allows_publisher("SHA256:bbb"));
    assert_eq!(merged.allowed_models, Some(vec!["coder".into()]));
    // The same in the other order.
    let other = loosen.merge(system).unwrap();
    assert!(!other.allow_unsigned);
    assert_eq!(other.trusted_publishers, Some(vec!["SHA256:bbb".into()]));
    assert_eq!(other.allowed_models, Some(vec!["coder".into()]));

    // A key only one file sets stands; an empty file changes nothing.
    let merged = Policy::default()
        .merge(env("allow-unsigned = false\n"))
        .unwrap();
    assert!(!merged.allow_unsigned);
    let merged = sys("trusted-publishers = [\"SHA256:aaa\"]\n")
        .merge(env(""))
        .unwrap();
    assert_eq!(merged.trusted_publishers, Some(vec!["SHA256:aaa".into()]));
    assert_eq!(merged.sources.files.len(), 2);
    assert_eq!(
        merged.sources.trusted_publishers,
        vec![Setting {
            from: Origin::System("/etc/airlock/policy.toml".into()),
            value: "[\"SHA256:aaa\"]".into()
        }]
    );
    assert!(merged.sources.allow_unsigned.is_empty(), "built-in default");
}

#[test]
fn a_profile_over_the_ceiling_is_refused_naming_the_key_and_the_ceiling_value() {
    let policy = sys("profile-ceiling = \"read-only\"\n");
    let write = Profile::builtin("workspace-write").unwrap();
    let err = policy.check_profile(&write).unwrap_err();
    assert_eq!(
        err,
        "profile `workspace-write` exceeds the admin policy's profile ceiling `read-only` (profile-ceiling in /etc/airlock/policy.toml): \
         grant[0].access = \"read-write\" for \".\", but the ceiling grants \".\" with access = \"read\"; \
         limits.wall-clock-seconds = 120 is above the ceiling's 60; \
         limits.memory-mib = 512 is above the ceiling's 256; \
         limits.max-bytes-read = 536870912 is above the ceiling's 268435456; \
         limits.max-bytes-written = 67108864 is above the ceiling's 0; \
         limits.max-files-listed = 100000 is above the ceiling's 50000. \
         Use a profile within the ceiling (`airlock policy show` prints it), or ask the administrator"
    );
    assert_eq!(
        policy.check_profile(&Profile::builtin("locked-down").unwrap()),
        Ok(())
    );
    assert_eq!(
        policy.check_profile(&Profile::builtin("read-only").unwrap()),
        Ok(())
    );
    let err = policy
        .check_profile(&Profile::builtin("assistant").unwrap())
        .unwrap_err();
    assert!(
        err.contains(
            "inference.models grants \"smollm2\", which the ceiling does not (its inference.models = [])"
        ),
        "{err}"
    );
}

#[test]
fn grants_are_compared_path_by_path() {
    let ceiling = profile(concat!(
        "[[grant]]\npath = \".\"\n",
        "[[grant]]\npath = \"out\"\naccess = \"read-write\"\n",
        "[[grant]]\npath = \"out/keep\"\n",
    ));
    let policy = Policy {
        profile_ceiling: Some(ceiling),
        ..Policy::default()
    };
    let within = profile(
        "[[grant]]\npath = \"out/new\"\naccess = \"read-write\"\n[[grant]]\npath = \"src\"\n",
    );
    assert_eq!(policy.check_profile(&within), Ok(()));
    // Writing `out` would also write `out/keep`, which the ceiling keeps read-only.
    let over = profile("[[grant]]\npath = \"out\"\naccess = \"read-write\"\n");
    let err = policy.check_profile(&over).unwrap_err();
    assert!(
        err.contains(": grant[0].access = \"read-write\" for \"out\" covers \"out/keep\", which the ceiling grants with access = \"read\". "),
        "{err}"
    );
    // ... unless the profile keeps it read-only too.
    let fine = profile(
        "[[grant]]\npath = \"out\"\naccess = \"read-write\"\n[[grant]]\npath = \"out/keep\"\n",
    );
    assert_eq!(policy.check_profile(&fine), Ok(()));

    let narrow = Policy {
        profile_ceiling: Some(profile("[[grant]]\npath = \"src\"\n")),
        ..Policy::default()
    };
    let err = narrow
        .check_profile(&profile("[[grant]]\npath = \"docs\"\n"))
        .unwrap_err();
    assert!(
        err.contains(": grant[0].path = \"docs\" lies outside every grant of the ceiling (it grants \"src\" read). "),
        "{err}"
    );
}

#[test]
fn the_ceilings_deny_patterns_and_model_budget_are_required() {
    let policy = sys("profile-ceiling = \"locked-down\"\n");
    let err = policy
        .check_profile(&profile("[[grant]]\npath = \".\"\n[limits]\nwall-clock-seconds = 10\nmemory-mib = 64\nmax-bytes-read = 1024\nmax-bytes-written = 0\nmax-output-bytes = 1024\nmax-files-listed = 10\n"))
        .unwrap_err();
    assert!(
        err.contains("): deny lacks \"*.tfstate\", \"*.kdb\", \"*.ovpn\", \"secrets/**\", \"classified/**\", which the ceiling requires (its deny = [\"*.tfstate\", \"*.kdb\", \"*.ovpn\", \"secrets/**\", \"classified/**\"]). Use"),
        "{err}"
    );

    let policy = sys("profile-ceiling = \"assistant\"\n");
    let greedy = profile(
        "[[grant]]\npath = \".\"\n[limits]\nmax-bytes-read = 1024\nmax-bytes-written = 0\n[inference]\nmodels = [\"smollm2\"]\nmax-calls = 17\n",
    );
    let err = policy.check_profile(&greedy).unwrap_err();
    assert!(
        err.contains("): inference.max-calls = 17 is above the ceiling's 16. "),
        "{err}"
    );
}

#[test]
fn allowed_models_refuses_other_models() {
    let policy = sys("allowed-models = [\"coder\"]\n");
    let err = policy
        .check_models(&Profile::builtin("assistant").unwrap())
        .unwrap_err();
    assert_eq!(
        err,
        "profile `assistant` grants the model \"smollm2\" (inference.models), which the admin policy does not allow: \
         allowed-models = [\"coder\"] in /etc/airlock/policy.toml. \
         Use a profile that grants only allowed models, or ask the administrator"
    );
    assert_eq!(
        policy.check_models(&Profile::builtin("read-only").unwrap()),
        Ok(())
    );
}

#[test]
fn command_limits_may_not_exceed_the_ceilings() {
    let ceiling = profile(concat!(
        "[[grant]]\npath = \".\"\naccess = \"read-write\"\n",
        "[commands.programs]\nmake = \"ask\"\n",
        "[commands]\nmax-processes = 64\nmemory-mib = 512\ncpu-seconds = 60\nmax-file-mib = 64\n",
        "max-open-files = 256\ntmp-mib = 32\nmax-snapshot-mib = 100\nmax-scratch-mib = 200\n",
    ));
    let policy = Policy {
        profile_ceiling: Some(ceiling.clone()),
        ..Policy::default()
    };
    let within = profile(concat!(
        "[[grant]]\npath = \".\"\naccess = \"read-write\"\n",
        "[commands.programs]\nmake = \"ask\"\n",
        "[commands]\nmax-processes = 64\nmemory-mib = 256\ncpu-seconds = 60\nmax-file-mib = 1\n",
        "max-open-files = 16\ntmp-mib = 32\nmax-snapshot-mib = 100\nmax-scratch-mib = 200\n",
        "scratch = [\"target/\"]\n",
    ));
    assert_eq!(policy.check_profile(&within), Ok(()));
    // Defaults are above this ceiling on every new key.
    let defaults = profile(concat!(
        "[[grant]]\npath = \".\"\naccess = \"read-write\"\n",
        "[commands.programs]\nmake = \"ask\"\n",
    ));
    let err = policy.check_profile(&defaults).unwrap_err();
    for over in [
        "commands.max-processes = 256 is above the ceiling's 64",
        "commands.memory-mib = 2048 is above the ceiling's 512",
        "commands.cpu-seconds = 600 is above the ceiling's 60",
        "commands.max-file-mib = 512 is above the ceiling's 64",
        "commands.max-open-files = 1024 is above the ceiling's 256",
        "commands.tmp-mib = 256 is above the ceiling's 32",
        "commands.max-snapshot-mib = 1024 is above the ceiling's 100",
        "commands.max-scratch-mib = 2048 is above the ceiling's 200",
    ] {
        assert!(err.contains(over), "{over}: {err}");
    }
    // A profile that runs no program is not held to the command numbers.
    let none = profile("[[grant]]\npath = \".\"\naccess = \"read-write\"\n");
    assert_eq!(policy.check_profile(&none), Ok(()));

    // Two ceilings: the smaller of each command number.
    let merged = meet_of(&ceiling, &Profile::builtin("coder").unwrap());
    let c = &merged.commands;
    assert_eq!(
        (
            c.limits.max_processes,
            c.limits.memory_mib,
            c.limits.cpu_seconds,
            c.limits.tmp_mib
        ),
        (64, 512, 60, 32)
    );
}

fn meet_of(a: &Profile, b: &Profile) -> Profile {
    super::ceiling::meet(a, b).unwrap()
}

#[test]
fn two_ceilings_both_hold() {
    let merged = sys("profile-ceiling = \"workspace-write\"\n")
        .merge(env("profile-ceiling = \"locked-down\"\n"))
        .unwrap();
    let ceiling = merged.profile_ceiling.as_ref().unwrap();
    assert_eq!(ceiling.name, "workspace-write+locked-down");
    assert!(!ceiling.allows_writes());
    assert_eq!(
        ceiling.limits,
        Profile::builtin("locked-down").unwrap().limits
    );
    assert_eq!(merged.sources.profile_ceiling.len(), 2);
    // Within both: passes; within one only: refused.
    for (name, ok) in [
        ("locked-down", true),
        ("read-only", false),
        ("workspace-write", false),
    ] {
        let p = Profile::builtin(name).unwrap();
        assert_eq!(merged.check_profile(&p).is_ok(), ok, "{name}");
        let both_ok = sys("profile-ceiling = \"workspace-write\"\n")
            .check_profile(&p)
            .is_ok()
            && env("profile-ceiling = \"locked-down\"\n")
                .check_profile(&p)
                .is_ok();
        assert_eq!(both_ok, ok, "{name}");
    }
    let err = merged
        .check_profile(&Profile::builtin("read-only").unwrap())
        .unwrap_err();
    assert!(
        err.starts_with("profile `read-only` exceeds the admin policy's profile ceiling `workspace-write+locked-down` (profile-ceiling in /etc/airlock/policy.toml and $AIRLOCK_POLICY_FILE (/tmp/p.toml)): deny lacks \"*.tfstate\""),
        "{err}"
    );
}

#[test]
fn an_untrusted_file_refuses_everything() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, "allow-unsigned = false\n").unwrap();
    if std::fs::metadata(&file).unwrap().uid() != 0 {
        eprintln!("skipped: the trust checks need the tests to run as root");
        return;
    }
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let p = Policy::load_from(&file, None).unwrap();
    assert!(!p.allow_unsigned);
    assert_eq!(p.sources.files, vec![Origin::System(file.clone())]);

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).unwrap();
    let err = Policy::load_from(Path::new("/nonexistent"), Some(&file))
        .unwrap_err()
        .to_string();
    let real = file.canonicalize().unwrap();
    assert_eq!(
        err,
        format!(
            "refusing to run: the admin policy $AIRLOCK_POLICY_FILE ({}) is writable by group or others (mode 0664), so someone other than root could loosen it; fix: `sudo chown root:root {1} && sudo chmod 644 {1}`",
            file.display(),
            real.display()
        )
    );

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let err = Policy::load_from(&file, None).unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "lies in {}, which is writable by group or others (mode 1777)",
            real.parent().unwrap().display()
        )),
        "{err}"
    );

    let missing = dir.path().join("missing.toml");
    let err = Policy::load_from(Path::new("/nonexistent"), Some(&missing))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("refusing to run: cannot read the admin policy $AIRLOCK_POLICY_FILE"),
        "{err}"
    );
}

#[test]
fn a_ceiling_file_must_be_as_trusted_as_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let ceiling = dir.path().join("ceiling.toml");
    std::fs::write(&ceiling, "name = \"site\"\n[[grant]]\npath = \"src\"\n").unwrap();
    if std::fs::metadata(&ceiling).unwrap().uid() != 0 {
        eprintln!("skipped: the trust checks need the tests to run as root");
        return;
    }
    let real = ceiling.canonicalize().unwrap();
    let text = format!("profile-ceiling = {:?}\n", real.to_str().unwrap());
    std::fs::set_permissions(&ceiling, std::fs::Permissions::from_mode(0o644)).unwrap();
    let policy = sys(&text);
    assert_eq!(policy.profile_ceiling.as_ref().unwrap().name, "site");
    assert!(
        policy
            .check_profile(&profile("[[grant]]\npath = \"src/lib\"\n"))
            .is_ok()
    );

    std::fs::set_permissions(&ceiling, std::fs::Permissions::from_mode(0o666)).unwrap();
    let err = Policy::parse(&text, Origin::System("/etc/airlock/policy.toml".into()))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "refusing to run: the admin policy /etc/airlock/policy.toml names the profile-ceiling file {0}, which is writable by group or others (mode 0666), so someone other than root could loosen it; fix: `sudo chown root:root {0} && sudo chmod 644 {0}`",
            real.display()
        )
    );
}

use std::os::unix::fs::MetadataExt;
