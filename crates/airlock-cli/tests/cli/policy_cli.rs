//! The admin policy, driven through the `airlock` binary: a policy file named
//! by `$AIRLOCK_POLICY_FILE` (merged with `/etc/airlock/policy.toml`, which
//! these tests never write) bounds what `airlock run` accepts.
#![allow(clippy::unwrap_used)]

use crate::support::{admin_policy, airlock_with_policy, text};
use airlock_tests::{guests, workspace};
use std::os::unix::fs::PermissionsExt;

/// `run SKILL --allow-unsigned REST...` (bare components need the flag).
fn run_args<'a>(skill: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", skill, "--allow-unsigned"];
    args.extend_from_slice(rest);
    args
}

#[test]
fn a_profile_over_the_ceiling_is_refused_with_exit_3() {
    let Some((_dir, policy)) = admin_policy("profile-ceiling = \"read-only\"\n") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let ws = workspace(&[("README.md", "# demo\n")]);
    let ws = ws.path().to_str().unwrap();

    // Writes where the ceiling only reads.
    let out = airlock_with_policy(
        home.path(),
        Some(&policy),
        &run_args(guests::HELLO, &["-w", ws, "--profile", "workspace-write"]),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: profile `workspace-write` exceeds the admin policy's profile ceiling `read-only` (profile-ceiling in $AIRLOCK_POLICY_FILE ({})): \
             grant[0].access = \"read-write\" for \".\", but the ceiling grants \".\" with access = \"read\"; \
             limits.wall-clock-seconds = 120 is above the ceiling's 60; \
             limits.memory-mib = 512 is above the ceiling's 256; \
             limits.max-bytes-read = 536870912 is above the ceiling's 268435456; \
             limits.max-bytes-written = 67108864 is above the ceiling's 0; \
             limits.max-files-listed = 100000 is above the ceiling's 50000. \
             Use a profile within the ceiling (`airlock policy show` prints it), or ask the administrator\n",
            policy.display()
        )
    );
    assert!(out.stdout.is_empty(), "nothing ran");

    // Reads only, but with a larger limit.
    let profiles = tempfile::tempdir().unwrap();
    let bigger = profiles.path().join("bigger.toml");
    std::fs::write(
        &bigger,
        "[[grant]]\npath = \".\"\n[limits]\nmax-bytes-written = 0\nmemory-mib = 512\n",
    )
    .unwrap();
    let out = airlock_with_policy(
        home.path(),
        Some(&policy),
        &run_args(
            guests::HELLO,
            &["-w", ws, "--profile", bigger.to_str().unwrap()],
        ),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: profile `bigger` exceeds the admin policy's profile ceiling `read-only` (profile-ceiling in $AIRLOCK_POLICY_FILE ({})): \
             limits.memory-mib = 512 is above the ceiling's 256. \
             Use a profile within the ceiling (`airlock policy show` prints it), or ask the administrator\n",
            policy.display()
        )
    );
}

#[test]
fn a_model_the_policy_does_not_allow_is_refused_with_exit_3() {
    let Some((_dir, policy)) = admin_policy(&format!(
        "[models]\nallowed = [{{ name = \"coder\", sha256 = \"{}\" }}]\n",
        "c".repeat(64)
    )) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let ws = workspace(&[]);
    let out = airlock_with_policy(
        home.path(),
        Some(&policy),
        &run_args(
            guests::HELLO,
            &["-w", ws.path().to_str().unwrap(), "--profile", "assistant"],
        ),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: profile `assistant` (inference.models) grants the model \"smollm2\", which the admin policy does not allow: \
             [models] allowed = [\"coder\"] in $AIRLOCK_POLICY_FILE ({}). \
             Use a profile that grants only allowed models, or ask the administrator\n",
            policy.display()
        )
    );
}

#[test]
fn a_profile_within_the_ceiling_runs() {
    let Some((_dir, policy)) = admin_policy(&format!(
        "profile-ceiling = \"read-only\"\nallow-unsigned = true\n[models]\nallowed = [{{ name = \"smollm2\", sha256 = \"{}\" }}]\n",
        airlock_tests::TEST_MODEL_SHA256
    )) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let ws = workspace(&[("README.md", "# demo\n")]);
    let ws = ws.path().to_str().unwrap();
    for profile in ["locked-down", "read-only"] {
        let out = airlock_with_policy(
            home.path(),
            Some(&policy),
            &run_args(
                guests::HELLO,
                &["-w", ws, "--profile", profile, "--input", "policy"],
            ),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{profile}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains("hello, policy"), "{profile}");
    }
}

#[test]
fn policy_show_lists_each_value_and_where_it_came_from() {
    let Some((_dir, policy)) = admin_policy(concat!(
        "# The CI machines' policy.\n",
        "allow-unsigned = false\n",
        "trusted-publishers = [\"SHA256:q1w2e3r4t5y6u7i8o9p0\"]\n",
        "profile-ceiling = \"locked-down\"\n",
    )) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let out = airlock_with_policy(home.path(), Some(&policy), &["policy", "show"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let env = format!("$AIRLOCK_POLICY_FILE ({})", policy.display());
    for line in [
        format!("  $AIRLOCK_POLICY_FILE   {}\n", policy.display()),
        "allow-unsigned       false\n".to_string(),
        format!("  from               {env}: false\n"),
        "trusted-publishers   SHA256:q1w2e3r4t5y6u7i8o9p0\n".to_string(),
        format!("  from               {env}: [\"SHA256:q1w2e3r4t5y6u7i8o9p0\"]\n"),
        "profile-ceiling      locked-down (built-in profile `locked-down`)\n".to_string(),
        format!("  from               {env}: \"locked-down\"\n"),
        "  grants             . read\n".to_string(),
        "  deny (required)    *.tfstate *.kdb *.ovpn secrets/** classified/**\n".to_string(),
        "models.allowed       any model the profile grants, as the user pinned it\n  from               built-in default\n"
            .to_string(),
        "mcp.allowed          true\n  from               built-in default\n".to_string(),
    ] {
        assert!(stdout.contains(&line), "missing {line:?} in:\n{stdout}");
    }

    let out = airlock_with_policy(home.path(), Some(&policy), &["policy", "show", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"]["env"]["path"], policy.to_str().unwrap());
    assert_eq!(v["allow-unsigned"]["value"], false);
    assert_eq!(v["allow-unsigned"]["default"], false);
    assert_eq!(v["allow-unsigned"]["from"][0]["from"]["kind"], "env");
    assert_eq!(v["profile-ceiling"]["value"]["name"], "locked-down");
    assert_eq!(v["profile-ceiling"]["value"]["limits"]["memory-mib"], 64);
    assert_eq!(v["models"]["allowed"]["value"], serde_json::Value::Null);
    assert_eq!(v["models"]["allowed"]["default"], true);
    assert_eq!(v["mcp"]["allowed"]["value"], true);

    // Without the variable: the system file or the built-in defaults.
    let out = airlock_with_policy(home.path(), None, &["policy", "show", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"]["env"]["path"], serde_json::Value::Null);
    assert_eq!(v["files"]["system"]["path"], "/etc/airlock/policy.toml");
}

#[test]
fn a_policy_file_writable_by_others_refuses_every_run() {
    let Some((_dir, policy)) = admin_policy("allow-unsigned = true\n") else {
        return;
    };
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o666)).unwrap();
    let home = tempfile::tempdir().unwrap();
    let ws = workspace(&[]);
    let real = policy.canonicalize().unwrap();
    let expected = format!(
        "error: refusing to run: the admin policy $AIRLOCK_POLICY_FILE ({}) is writable by group or others (mode 0666), \
         so someone other than root could loosen it; fix: `sudo chown root:root {1} && sudo chmod 644 {1}`\n",
        policy.display(),
        real.display()
    );
    let out = airlock_with_policy(
        home.path(),
        Some(&policy),
        &run_args(guests::HELLO, &["-w", ws.path().to_str().unwrap()]),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), expected);
    assert!(out.stdout.is_empty());

    let out = airlock_with_policy(home.path(), Some(&policy), &["policy", "show"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(text(&out.stderr), expected);
}

#[test]
fn an_unknown_key_names_file_line_and_column() {
    let Some((_dir, policy)) =
        admin_policy("allow-unsigned = false\nprofile-celing = \"read-only\"\n")
    else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let ws = workspace(&[]);
    for args in [
        run_args(guests::HELLO, &["-w", ws.path().to_str().unwrap()]),
        vec!["policy", "show"],
    ] {
        let out = airlock_with_policy(home.path(), Some(&policy), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with(&format!(
                "error: {}:2:1: unknown field `profile-celing`, expected one of `allow-unsigned`, `trusted-publishers`, `profile-ceiling`, ",
                policy.display()
            )),
            "{stderr}"
        );
        assert!(
            stderr.contains("(in `profile-celing = \"read-only\"`); see docs/policy.md"),
            "{stderr}"
        );
    }
}

#[test]
fn policy_help_explains_the_keys_and_the_variable() {
    let home = tempfile::tempdir().unwrap();
    let out = airlock_with_policy(home.path(), None, &["policy", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for word in [
        "allow-unsigned",
        "trusted-publishers",
        "profile-ceiling",
        "[models]",
        "server-uid",
        "[mcp]",
        "$AIRLOCK_POLICY_FILE",
        "stricter",
        "docs/policy.md",
    ] {
        assert!(help.contains(word), "{word} missing from:\n{help}");
    }
}

#[test]
fn the_old_allowed_models_key_is_refused_with_how_to_pin() {
    let Some((_dir, policy)) = admin_policy("allowed-models = [\"smollm2\"]\n") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let out = airlock_with_policy(home.path(), Some(&policy), &["policy", "show"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {}:1:1: `allowed-models` was replaced by `[models] allowed`, which pins each model by the sha256 of its content (a name alone can be re-pinned to any file by the user): \
             write `[models]` and `allowed = [{{ name = \"NAME\", sha256 = \"HEX\" }}]`, with the digest `airlock model list` shows for each model; see docs/policy.md\n",
            policy.display()
        )
    );
}

#[test]
fn policy_show_lists_the_model_pins_the_server_user_and_mcp() {
    let Some((_dir, policy)) = admin_policy(&format!(
        "[models]\nallowed = [{{ name = \"smollm2\", sha256 = \"sha256:{}\" }}]\nserver-uid = 998\n[mcp]\nallowed = true\nplugins = [\"secret-scan\"]\nprofiles = [\"read-only\"]\n",
        airlock_tests::TEST_MODEL_SHA256.to_uppercase()
    )) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let out = airlock_with_policy(home.path(), Some(&policy), &["policy", "show"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let env = format!("$AIRLOCK_POLICY_FILE ({})", policy.display());
    let digest = format!("sha256:{}", airlock_tests::TEST_MODEL_SHA256);
    for line in [
        format!("models.allowed       smollm2 ({digest})\n"),
        format!("  from               {env}: [{{ name = \"smollm2\", sha256 = \"{digest}\" }}]\n"),
        "models.server-uid    998\n".to_string(),
        format!("  from               {env}: 998\n"),
        format!("mcp.allowed          true\n  from               {env}: true\n"),
        format!(
            "mcp.plugins          secret-scan\n  from               {env}: [\"secret-scan\"]\n"
        ),
        format!("mcp.profiles         read-only\n  from               {env}: [\"read-only\"]\n"),
    ] {
        assert!(stdout.contains(&line), "missing {line:?} in:\n{stdout}");
    }
    let out = airlock_with_policy(home.path(), Some(&policy), &["policy", "show", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["models"]["allowed"]["value"][0]["sha256"], digest);
    assert_eq!(v["models"]["server-uid"]["value"]["uid"], 998);
    assert_eq!(v["mcp"]["plugins"]["value"][0], "secret-scan");
    assert_eq!(v["mcp"]["profiles"]["from"][0]["from"]["kind"], "env");
}
