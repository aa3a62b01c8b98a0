//! Model roles in profiles (`[inference.roles]`) and in the admin policy
//! (`[models.roles]`): what parses, what is refused and with which key, and
//! how two policy files combine.
#![allow(clippy::unwrap_used)]

use airlock_policy::admin::{Origin, Policy};
use airlock_policy::profile::{Profile, ProfileSource};

const SYSTEM: &str = "/etc/airlock/policy.toml";

fn profile(text: &str) -> Result<Profile, String> {
    Profile::parse(text, ProfileSource::File("mine.toml".into())).map_err(|e| e.to_string())
}

fn system(text: &str) -> Result<Policy, String> {
    Policy::parse(text, Origin::System(SYSTEM.into())).map_err(|e| e.to_string())
}

fn env(text: &str) -> Policy {
    Policy::parse(text, Origin::Env("/tmp/p.toml".into())).unwrap()
}

const GRANTS_TWO: &str = "[inference]\nmodels = [\"smollm2\", \"qwen-coder\"]\n";

#[test]
fn a_profile_maps_roles_to_models_it_grants() {
    let p = profile(&format!(
        "{GRANTS_TWO}\n[inference.roles]\ncode = \"qwen-coder\"\nchat = \"smollm2\"\nlong-context = \"qwen-coder\"\n"
    ))
    .unwrap();
    let roles: Vec<(&str, &str)> = p
        .inference
        .roles
        .iter()
        .map(|(r, m)| (r.as_str(), m.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            ("chat", "smollm2"),
            ("code", "qwen-coder"),
            ("long-context", "qwen-coder")
        ]
    );
    // No roles: none mapped.
    assert!(profile(GRANTS_TWO).unwrap().inference.roles.is_empty());
}

#[test]
fn a_role_mapped_to_a_model_the_profile_does_not_grant_fails_to_load_naming_the_key() {
    let err = profile(&format!(
        "{GRANTS_TWO}\n[inference.roles]\ncode = \"qwen2.5-coder-1.5b\"\n"
    ))
    .unwrap_err();
    assert_eq!(
        err,
        "mine.toml:5:8: inference.roles.code = \"qwen2.5-coder-1.5b\" maps the role to a model the profile does not grant (inference.models); add \"qwen2.5-coder-1.5b\" to [inference] models, or map `code` to one of the granted \"smollm2\", \"qwen-coder\""
    );
    let err = profile("[inference.roles]\nchat = \"smollm2\"\n").unwrap_err();
    assert!(
        err.starts_with("mine.toml:2:8: inference.roles.chat = \"smollm2\" maps the role to a model the profile does not grant (inference.models); the profile grants no model: add \"smollm2\" to [inference] models"),
        "{err}"
    );
}

#[test]
fn bad_role_and_model_names_are_refused_naming_the_key() {
    let err = profile(&format!(
        "{GRANTS_TWO}\n[inference.roles]\nCode = \"smollm2\"\n"
    ))
    .unwrap_err();
    assert!(
        err.starts_with(
            "mine.toml:5:1: inference.roles: `Code` is not a role name: roles are lowercase letters"
        ),
        "{err}"
    );
    let err = profile(&format!(
        "{GRANTS_TWO}\n[inference.roles]\ncode = \"Big Model\"\n"
    ))
    .unwrap_err();
    assert!(
        err.starts_with("mine.toml:5:8: inference.roles.code = \"Big Model\" is not a model name"),
        "{err}"
    );
    let err = profile(&format!("{GRANTS_TWO}\n[inference.roles]\ncode = 3\n")).unwrap_err();
    assert!(
        err.starts_with("mine.toml:5:8: invalid type: integer `3`, expected a string"),
        "{err}"
    );
}

#[test]
fn the_builtin_profiles_map_chat_and_code_to_the_model_they_grant() {
    for name in ["assistant", "coder"] {
        let p = Profile::builtin(name).unwrap();
        assert_eq!(p.inference.models, ["smollm2"], "{name}");
        for role in ["chat", "code"] {
            assert_eq!(
                p.inference.roles.get(role).map(String::as_str),
                Some("smollm2"),
                "{name}: {role}"
            );
        }
    }
    for name in ["read-only", "workspace-write", "locked-down"] {
        assert!(Profile::builtin(name).unwrap().inference.roles.is_empty());
    }
}

#[test]
fn the_admin_policy_maps_roles_and_decides_where_it_does() {
    let policy = system("[models.roles]\ncode = \"qwen-coder\"\n").unwrap();
    assert_eq!(
        policy.role_model("code"),
        Ok(Some(("qwen-coder".to_string(), SYSTEM.to_string())))
    );
    assert_eq!(policy.role_model("chat"), Ok(None));
    assert_eq!(
        policy.sources.models_roles[0].value,
        "{ code = \"qwen-coder\" }"
    );
    // A profile that maps the role the same way, or not at all, is fine.
    let same = profile(&format!(
        "{GRANTS_TWO}\n[inference.roles]\ncode = \"qwen-coder\"\nchat = \"smollm2\"\n"
    ))
    .unwrap();
    assert_eq!(policy.check_models(&same), Ok(()));
    assert_eq!(policy.check_models(&profile(GRANTS_TWO).unwrap()), Ok(()));
    // One that maps it elsewhere is refused, naming both.
    let elsewhere = profile(&format!(
        "{GRANTS_TWO}\n[inference.roles]\ncode = \"smollm2\"\n"
    ))
    .unwrap();
    assert_eq!(
        policy.check_models(&elsewhere).unwrap_err().0,
        "profile `mine` maps role `code` to \"smollm2\" (inference.roles.code), but the admin policy maps it to \"qwen-coder\" ([models.roles] in /etc/airlock/policy.toml). Where the admin policy maps a role, it decides: remove the role from the profile's [inference.roles] or map it to the admin's model, or ask the administrator"
    );
}

#[test]
fn the_admin_policys_roles_must_be_models_its_own_list_allows() {
    let allowed = "[models]\nallowed = [{ name = \"smollm2\", sha256 = \"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53\" }]\n";
    assert!(system(&format!("{allowed}\n[models.roles]\nchat = \"smollm2\"\n")).is_ok());
    let err = system(&format!(
        "{allowed}\n[models.roles]\ncode = \"qwen-coder\"\n"
    ))
    .unwrap_err();
    assert_eq!(
        err,
        "/etc/airlock/policy.toml:5:8: models.roles.code = \"qwen-coder\" maps the role to a model this file's [models] allowed does not list ([\"smollm2\"]): add { name = \"qwen-coder\", sha256 = \"HEX\" } to allowed, or map `code` to an allowed model"
    );
    let err = system("[models.roles]\n\"Code Model\" = \"x\"\n").unwrap_err();
    assert!(
        err.starts_with(
            "/etc/airlock/policy.toml:2:1: models.roles: `Code Model` is not a role name"
        ),
        "{err}"
    );
    let err = system("[models.roles]\ncode = \"X\"\n").unwrap_err();
    assert!(
        err.starts_with(
            "/etc/airlock/policy.toml:2:8: models.roles.code = \"X\" is not a model name"
        ),
        "{err}"
    );
}

#[test]
fn two_policy_files_that_map_a_role_differently_fill_it_with_neither() {
    let merged = system("[models.roles]\ncode = \"a\"\nchat = \"c\"\n")
        .unwrap()
        .merge(env("[models.roles]\ncode = \"b\"\nreview = \"r\"\n"))
        .unwrap();
    assert_eq!(
        merged.role_model("code").unwrap_err().0,
        "the admin policy files map role `code` to different models ([models.roles]: /etc/airlock/policy.toml maps it to \"a\"; $AIRLOCK_POLICY_FILE (/tmp/p.toml) maps it to \"b\"), so no model fills it; ask the administrators to agree on one"
    );
    assert_eq!(merged.role_model("chat").unwrap().unwrap().0, "c");
    assert_eq!(merged.role_model("review").unwrap().unwrap().0, "r");
    // Agreeing files stand.
    let agreed = system("[models.roles]\ncode = \"a\"\n")
        .unwrap()
        .merge(env("[models.roles]\ncode = \"a\"\n"))
        .unwrap();
    assert_eq!(agreed.role_model("code").unwrap().unwrap().0, "a");
    assert_eq!(agreed.sources.models_roles.len(), 2);
}
