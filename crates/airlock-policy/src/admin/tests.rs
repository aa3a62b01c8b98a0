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
    assert!(p.profile_ceiling.is_none() && p.models.allowed.is_none());
    assert!(p.models.server_uid.is_none() && p.mcp.allowed);
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
        "[models]\nallowed = [{ name = \"Big Model\", sha256 = \"00\" }]\n",
        Origin::Env("p.toml".into()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("p.toml:2:21: models.allowed: name = \"Big Model\" is not a model name"),
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
    let system = sys(&format!(
        "allow-unsigned = false\ntrusted-publishers = [\"SHA256:aaa\", \"SHA256:bbb\"]\n[models]\nallowed = [{}, {}]\n[mcp]\nplugins = [\"a\", \"b\"]\n",
        pin("smollm2", 'a'),
        pin("coder", 'c')
    ));
    // The additional file tries to loosen every key.
    let loosen = env(&format!(
        "allow-unsigned = true\ntrusted-publishers = [\"SHA256:bbb\", \"SHA256:ccc\"]\n[models]\nallowed = [{}, {}]\n[mcp]\nallowed = true\nplugins = [\"b\", \"c\"]\nprofiles = [\"read-only\"]\n",
        pin("coder", 'c'),
        pin("big", 'b')
    ));
    let merged = system.clone().merge(loosen.clone()).unwrap();
    assert!(!merged.allow_unsigned, "true cannot override false");
    assert_eq!(merged.trusted_publishers, Some(vec!["SHA256:bbb".into()]));
    assert!(!merged.allows_publisher("SHA256:aaa") && !merged.allows_publisher("SHA256:ccc"));
    assert!(merged.allows_publisher("SHA256:bbb"));
    assert_eq!(allowed_names(&merged), vec!["coder"]);
    assert_eq!(merged.mcp.plugins, Some(vec!["b".into()]));
    assert_eq!(merged.mcp.profiles, Some(vec!["read-only".into()]));
    assert!(merged.mcp.allowed);
    // The same in the other order.
    let other = loosen.merge(system).unwrap();
    assert!(!other.allow_unsigned);
    assert_eq!(other.trusted_publishers, Some(vec!["SHA256:bbb".into()]));
    assert_eq!(allowed_names(&other), vec!["coder"]);
    assert_eq!(other.mcp.plugins, Some(vec!["b".into()]));

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

fn pin(name: &str, digit: char) -> String {
    format!(
        "{{ name = {name:?}, sha256 = \"{}\" }}",
        digit.to_string().repeat(64)
    )
}

fn allowed_names(p: &Policy) -> Vec<String> {
    p.models
        .allowed
        .as_ref()
        .unwrap()
        .iter()
        .map(|p| p.name.clone())
        .collect()
}

#[test]
fn models_allowed_refuses_other_models() {
    let policy = sys(&format!("[models]\nallowed = [{}]\n", pin("coder", 'c')));
    let err = policy
        .check_models(&Profile::builtin("assistant").unwrap())
        .unwrap_err();
    assert_eq!(
        err,
        "profile `assistant` (inference.models) grants the model \"smollm2\", which the admin policy does not allow: \
         [models] allowed = [\"coder\"] in /etc/airlock/policy.toml. \
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

#[test]
fn the_old_allowed_models_key_gets_a_migration_message() {
    let err = Policy::parse(
        "allow-unsigned = false\nallowed-models = [\"coder\"]\n",
        Origin::Env("p.toml".into()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("p.toml:2:1: `allowed-models` was replaced by `[models] allowed`, which pins each model by the sha256 of its content"),
        "{err}"
    );
    assert!(err.contains("docs/policy.md"), "{err}");
}

#[test]
fn model_pins_are_parsed_strictly() {
    let bad = |text: &str| {
        Policy::parse(text, Origin::Env("p.toml".into()))
            .unwrap_err()
            .to_string()
    };
    let err = bad("[models]\nallowed = [{ name = \"coder\", sha256 = \"abc\" }]\n");
    assert!(
        err.starts_with(
            "p.toml:2:39: models.allowed: sha256 = \"abc\" for `coder` is not a sha256 digest"
        ),
        "{err}"
    );
    let err = bad("[models]\nallowed = [{ name = \"coder\" }]\n");
    assert!(
        err.starts_with("p.toml:2:12: missing field `sha256`"),
        "{err}"
    );
    let err = bad(&format!(
        "[models]\nallowed = [{{ name = \"coder\", sha = \"{}\" }}]\n",
        "a".repeat(64)
    ));
    assert!(
        err.starts_with("p.toml:2:30: unknown field `sha`, expected `name` or `sha256`"),
        "{err}"
    );
    let err = bad(&format!(
        "[models]\nallowed = [{}, {}]\n",
        pin("coder", 'a'),
        pin("coder", 'b')
    ));
    assert!(
        err.contains("models.allowed lists `coder` twice with different digests"),
        "{err}"
    );
    let err = bad("[models]\nserver-uid = -1\n");
    assert!(err.starts_with("p.toml:2:14: "), "{err}");
    let err = bad("[models]\nremote = []\n");
    assert!(
        err.starts_with(
            "p.toml:2:1: unknown field `remote`, expected one of `allowed`, `server-uid`, `roles`"
        ),
        "{err}"
    );
    // `[models.roles]` is a table of role = model.
    let err = bad("[models]\nroles = []\n");
    assert!(
        err.starts_with("p.toml:2:9: invalid type: sequence, expected a map"),
        "{err}"
    );

    // Upper case, with or without the prefix: the form the store records.
    let p = sys(&format!(
        "[models]\nallowed = [{{ name = \"coder\", sha256 = \"sha256:{}\" }}, {}]\nserver-uid = 998\n",
        "AB".repeat(32),
        pin("coder", 'a').replace("coder", "smollm2")
    ));
    let pins = p.models.allowed.as_ref().unwrap();
    assert_eq!(pins[0].sha256, format!("sha256:{}", "ab".repeat(32)));
    assert_eq!(pins[1].sha256, format!("sha256:{}", "a".repeat(64)));
    assert_eq!(p.server_uid(), Ok(Some(998)));
    assert_eq!(p.sources.models_allowed.len(), 1);
    assert_eq!(p.sources.models_server_uid[0].value, "998");
}

#[test]
fn a_model_re_pinned_to_another_digest_is_refused_naming_both() {
    let policy = sys(&format!("[models]\nallowed = [{}]\n", pin("coder", 'c')));
    let pinned = format!("sha256:{}", "c".repeat(64));
    assert_eq!(policy.check_pin("coder", &pinned, "/h/models.lock"), Ok(()));
    // The store's digest in any case or prefix is the same digest.
    assert_eq!(
        policy.check_pin("coder", &"C".repeat(64), "/h/models.lock"),
        Ok(())
    );
    let other = format!("sha256:{}", "d".repeat(64));
    let err = policy
        .check_pin("coder", &other, "/h/models.lock")
        .unwrap_err();
    assert!(
        err.starts_with(&format!(
            "model `coder` is pinned in the model store (/h/models.lock) to {other}, but the admin policy allows `coder` only as {pinned} ([models] allowed in /etc/airlock/policy.toml)"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "`airlock model add FILE --name coder --replace` with the file whose sha256 is {}",
            "c".repeat(64)
        )),
        "{err}"
    );
    // Without [models] allowed, any digest the user pinned stands.
    assert_eq!(
        Policy::default().check_pin("coder", &other, "/h/models.lock"),
        Ok(())
    );
}

#[test]
fn two_files_pinning_one_name_differently_allow_it_in_neither() {
    let merged = sys(&format!(
        "[models]\nallowed = [{}, {}]\nserver-uid = 998\n",
        pin("coder", 'c'),
        pin("smollm2", 'a')
    ))
    .merge(env(&format!(
        "[models]\nallowed = [{}, {}]\nserver-uid = 0\n",
        pin("coder", 'd'),
        pin("smollm2", 'a')
    )))
    .unwrap();
    assert_eq!(allowed_names(&merged), vec!["smollm2"]);
    assert_eq!(merged.models.conflicts.len(), 1);
    let coder = profile("[inference]\nmodels = [\"coder\"]\n");
    let err = merged.check_models(&coder).unwrap_err();
    assert!(
        err.contains(&format!(
            "grants the model \"coder\", which the admin policy files pin to different digests ([models] allowed: /etc/airlock/policy.toml pins sha256:{}; $AIRLOCK_POLICY_FILE (/tmp/p.toml) pins sha256:{}), so neither allows it",
            "c".repeat(64),
            "d".repeat(64)
        )),
        "{err}"
    );
    for digest in ['c', 'd'] {
        let err = merged
            .check_pin("coder", &digest.to_string().repeat(64), "lock")
            .unwrap_err();
        assert!(err.contains("so neither allows it"), "{err}");
    }
    assert_eq!(
        merged.check_models(&profile("[inference]\nmodels = [\"smollm2\"]\n")),
        Ok(())
    );
    // Different server users: none is trusted.
    let err = merged.server_uid().unwrap_err();
    assert!(
        err.contains(
            "/etc/airlock/policy.toml sets 998, $AIRLOCK_POLICY_FILE (/tmp/p.toml) sets 0"
        ),
        "{err}"
    );
    // The same user in both: that one.
    let same = sys("[models]\nserver-uid = 7\n")
        .merge(env("[models]\nserver-uid = 7\n"))
        .unwrap();
    assert_eq!(same.server_uid(), Ok(Some(7)));
    let one = Policy::default()
        .merge(env("[models]\nserver-uid = 7\n"))
        .unwrap();
    assert_eq!(one.server_uid(), Ok(Some(7)));
}

#[test]
fn mcp_can_be_forbidden_or_narrowed_and_merges_strictly() {
    assert_eq!(Policy::default().check_mcp(), Ok(()));
    let off = env("[mcp]\nallowed = false\n");
    assert_eq!(
        off.check_mcp().unwrap_err(),
        "`airlock mcp` is forbidden by the admin policy ([mcp] allowed = false in $AIRLOCK_POLICY_FILE (/tmp/p.toml)): skills' results may not be handed to an MCP front-end on this machine. Run skills with `airlock run` instead, or ask the administrator"
    );
    // Neither file can switch it back on.
    let merged = sys("[mcp]\nallowed = true\n").merge(off).unwrap();
    assert!(merged.check_mcp().is_err());

    let narrow = sys(
        "[mcp]\nplugins = [\"secret-scan\"]\nprofiles = [\"read-only\", \"/etc/airlock/mcp.toml\"]\n",
    );
    assert!(narrow.mcp_allows_plugin("secret-scan"));
    assert!(!narrow.mcp_allows_plugin("coder"));
    assert_eq!(
        narrow.mcp_plugin_refusal("coder"),
        "plugin `coder` may not be served over MCP: the admin policy allows only [mcp] plugins = [\"secret-scan\"] (/etc/airlock/policy.toml)"
    );
    let read_only = Profile::builtin("read-only").unwrap();
    assert_eq!(narrow.check_mcp_profile("secret-scan", &read_only), Ok(()));
    let err = narrow
        .check_mcp_profile("secret-scan", &Profile::builtin("workspace-write").unwrap())
        .unwrap_err();
    assert!(
        err.starts_with("plugin `secret-scan` would be served under the profile `workspace-write` (built-in profile `workspace-write`), which the admin policy does not allow over MCP ([mcp] profiles = [\"read-only\", \"/etc/airlock/mcp.toml\"] in /etc/airlock/policy.toml)"),
        "{err}"
    );
    // A user's file that calls itself `read-only` is not the built-in.
    let spoof = profile("name = \"read-only\"\n[[grant]]\npath = \".\"\naccess = \"read-write\"\n");
    assert_eq!(spoof.name, "read-only");
    assert!(narrow.check_mcp_profile("secret-scan", &spoof).is_err());
    // A listed file, by its path.
    let listed = Profile::parse(
        "[[grant]]\npath = \".\"\n",
        ProfileSource::File("/etc/airlock/mcp.toml".into()),
    )
    .unwrap();
    assert_eq!(narrow.check_mcp_profile("secret-scan", &listed), Ok(()));

    let bad = |text: &str| {
        Policy::parse(text, Origin::Env("p.toml".into()))
            .unwrap_err()
            .to_string()
    };
    let err = bad("[mcp]\nplugins = [\"Secret Scan\"]\n");
    assert!(
        err.starts_with("p.toml:2:12: mcp.plugins: `Secret Scan` is not a valid plugin name"),
        "{err}"
    );
    let err = bad("[mcp]\nprofiles = [\"./mine.toml\"]\n");
    assert!(
        err.starts_with("p.toml:2:13: mcp.profiles: \"./mine.toml\" is neither a profile name"),
        "{err}"
    );
    let err = bad("[mcp]\nallow = false\n");
    assert!(
        err.starts_with(
            "p.toml:2:1: unknown field `allow`, expected one of `allowed`, `plugins`, `profiles`"
        ),
        "{err}"
    );
}
