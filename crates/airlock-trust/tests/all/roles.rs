//! Model roles: a manifest asks for a role (and a minimum context), the
//! profile or the admin policy maps it to a model, and the run gets that
//! model first. An installed plugin moves to another model when the officer
//! changes the mapping and reviews it again, with the same signed package.

use crate::support::{World, signed_package_asking, system_policy};
use airlock_policy::admin::Policy;
use airlock_policy::profile::{Profile, ProfileSource};
use airlock_trust::admit::{self, AdmitError};
use airlock_trust::caps::{self, Imported, MappedBy, RoleError, RoleModel};
use airlock_trust::manifest::Manifest;
use airlock_trust::store::PluginStore;

const HEAD: &str = "name = \"coder\"\nversion = \"0.1.0\"\ndescription = \"d\"\nwit-version = \"0.1.0\"\n\n[publisher]\nname = \"acme\"\n\n[capabilities]\nworkspace-read = [\".\"]\n";

fn manifest(capabilities: &str) -> Result<Manifest, String> {
    Manifest::parse(&format!("{HEAD}{capabilities}"), "manifest.toml").map_err(|e| e.to_string())
}

fn profile(text: &str) -> Profile {
    Profile::parse(text, ProfileSource::File("officer.toml".into())).unwrap()
}

/// Grants two models; maps `code` to `qwen-coder` and `chat` to `smollm2`.
const MAPPED: &str = "[inference]\nmodels = [\"smollm2\", \"qwen-coder\"]\n\n[inference.roles]\ncode = \"qwen-coder\"\nchat = \"smollm2\"\n";

#[test]
fn a_manifest_asks_for_roles_and_a_minimum_context() {
    let m = manifest("model-roles = [\"code\", \"review\"]\nmin-context = 4096\n").unwrap();
    assert_eq!(m.capabilities.model_roles, ["code", "review"]);
    assert_eq!(m.capabilities.min_context, Some(4096));
    assert!(m.capabilities.models.is_empty());
    // The canonical form (what the signature covers) keeps them.
    let canonical = m.to_canonical();
    assert!(
        canonical.contains("model-roles = [\"code\", \"review\"]")
            && canonical.contains("min-context = 4096"),
        "{canonical}"
    );
    assert_eq!(Manifest::parse(&canonical, "x").unwrap(), m);
    // A manifest that asks for neither is canonically what it was before
    // roles existed, so packages signed then still verify.
    let old = manifest("models = [\"smollm2\"]\n").unwrap().to_canonical();
    assert!(
        !old.contains("model-roles") && !old.contains("min-context"),
        "{old}"
    );
    // Both roles and names.
    let both = manifest("model-roles = [\"chat\"]\nmodels = [\"smollm2\"]\n").unwrap();
    assert_eq!(both.capabilities.models, ["smollm2"]);
}

#[test]
fn bad_roles_and_contexts_are_refused_naming_the_key() {
    let err = manifest("model-roles = [\"Code\"]\n").unwrap_err();
    assert!(
        err.starts_with(
            "manifest.toml: capabilities.model-roles: `Code` is not a role name: roles are lowercase letters"
        ),
        "{err}"
    );
    assert_eq!(
        manifest("model-roles = [\"code\", \"code\"]\n").unwrap_err(),
        "manifest.toml: capabilities.model-roles: `code` is listed twice"
    );
    assert_eq!(
        manifest("model-roles = [\"code\"]\nmin-context = 0\n").unwrap_err(),
        "manifest.toml: capabilities.min-context = 0 is out of range: it must be between 1 and 16777216 tokens"
    );
    assert_eq!(
        manifest("min-context = 4096\n").unwrap_err(),
        "manifest.toml: capabilities.min-context = 4096 is set, but the manifest asks for no model: add the role it needs to `capabilities.model-roles` (such as [\"code\"]), or remove min-context"
    );
    let err = manifest("model-roles = \"code\"\n").unwrap_err();
    assert!(
        err.starts_with("manifest.toml:11:15: invalid type: string \"code\", expected a sequence"),
        "{err}"
    );
    let err = manifest("model-role = [\"code\"]\n").unwrap_err();
    assert!(err.contains("unknown field `model-role`"), "{err}");
}

#[test]
fn a_role_satisfies_the_inference_import() {
    let imported = Imported {
        inference: Some("airlock:skill/inference@0.1.0".into()),
        ..Imported::default()
    };
    let by_role = manifest("model-roles = [\"code\"]\n").unwrap();
    assert!(caps::missing(&by_role.capabilities, &imported).is_empty());
    let neither = manifest("").unwrap();
    let errors = caps::missing(&neither.capabilities, &imported);
    assert_eq!(
        errors,
        [
            "the component imports `airlock:skill/inference@0.1.0` but the manifest requests no models: add the role it needs to `capabilities.model-roles` (such as [\"chat\"] or [\"code\"]), or the models it asks for by name to `capabilities.models`"
        ]
    );
}

#[test]
fn the_run_gets_the_roles_model_first_then_the_models_it_names() {
    let requested = manifest(
        "model-roles = [\"code\"]\nmodels = [\"smollm2\", \"absent\"]\nmin-context = 4096\n",
    )
    .unwrap()
    .capabilities;
    let narrowed = caps::narrow(&profile(MAPPED), &requested, &Policy::default()).unwrap();
    assert_eq!(narrowed.inference.models, ["qwen-coder", "smollm2"]);
    let roles: Vec<(&str, &str)> = narrowed
        .inference
        .roles
        .iter()
        .map(|(r, m)| (r.as_str(), m.as_str()))
        .collect();
    assert_eq!(roles, [("code", "qwen-coder")], "only the roles asked for");
    assert_eq!(narrowed.inference.min_context, Some(4096));
    // Two roles filled by one model: it is listed once.
    let two = manifest("model-roles = [\"chat\", \"code\"]\n")
        .unwrap()
        .capabilities;
    let one = profile(
        "[inference]\nmodels = [\"smollm2\"]\n\n[inference.roles]\ncode = \"smollm2\"\nchat = \"smollm2\"\n",
    );
    let narrowed = caps::narrow(&one, &two, &Policy::default()).unwrap();
    assert_eq!(narrowed.inference.models, ["smollm2"]);
    // Asked by name only: the profile's order, as before roles.
    let names = manifest("models = [\"qwen-coder\", \"smollm2\"]\n")
        .unwrap()
        .capabilities;
    let narrowed = caps::narrow(&profile(MAPPED), &names, &Policy::default()).unwrap();
    assert_eq!(narrowed.inference.models, ["smollm2", "qwen-coder"]);
    assert!(narrowed.inference.roles.is_empty());
}

#[test]
fn a_role_the_profile_does_not_map_is_refused_with_the_key_to_write() {
    let requested = manifest("model-roles = [\"code\"]\n").unwrap().capabilities;
    let unmapped = profile("[inference]\nmodels = [\"smollm2\"]\n");
    let err = caps::narrow(&unmapped, &requested, &Policy::default()).unwrap_err();
    assert!(matches!(err, RoleError::Unmapped { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the plugin asks for a model for role `code`, which profile `officer` does not map; map it in the profile (officer.toml): [inference.roles] code = \"MODEL\", with MODEL one it grants (\"smollm2\")"
    );
    let none = Profile::builtin("read-only").unwrap();
    let err = caps::narrow(&none, &requested, &Policy::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "the plugin asks for a model for role `code`, which profile `read-only` does not map; map it in a copy of the built-in profile `read-only` (sandbox-profiles/read-only.toml; built-in profiles cannot be edited), reviewed with --profile ./FILE: [inference.roles] code = \"MODEL\", after granting the model in [inference] models (the profile grants none)"
    );
    // The review shows the role as unfilled, and every other line.
    let lines = caps::review(&requested, &unmapped, &Policy::default());
    let shown: Vec<(&str, &str, Option<&str>)> = lines
        .iter()
        .map(|l| {
            (
                l.capability.as_str(),
                l.requested.as_str(),
                l.granted.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [("workspace-read", ".", None), ("model-role", "code", None)]
    );
}

#[test]
fn where_the_admin_policy_maps_a_role_it_decides() {
    let requested = manifest("model-roles = [\"code\"]\n").unwrap().capabilities;
    let policy = system_policy("[models.roles]\ncode = \"smollm2\"\n");
    // The profile maps `code` to qwen-coder; the admin's smollm2 fills it.
    // (The launch refuses such a profile first, `Policy::check_models`;
    // narrowing alone still gives the admin's model.)
    let granted_both = profile("[inference]\nmodels = [\"smollm2\", \"qwen-coder\"]\n");
    let narrowed = caps::narrow(&granted_both, &requested, &policy).unwrap();
    assert_eq!(narrowed.inference.models, ["smollm2"]);
    assert_eq!(
        caps::role_models(&granted_both, &requested, &policy).unwrap(),
        [RoleModel {
            role: "code".into(),
            model: "smollm2".into(),
            by: MappedBy::AdminPolicy("/etc/airlock/policy.toml".into()),
        }]
    );
    let review = caps::review(&requested, &granted_both, &policy);
    assert_eq!(
        review[1].granted.as_deref(),
        Some("smollm2 ([models.roles] in the admin policy /etc/airlock/policy.toml)")
    );
    // The admin's model must still be one the profile grants.
    let qwen_only = profile(
        "[inference]\nmodels = [\"qwen-coder\"]\n\n[inference.roles]\ncode = \"qwen-coder\"\n",
    );
    let err = caps::narrow(&qwen_only, &requested, &policy).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the plugin asks for a model for role `code`, which the admin policy maps to `smollm2` ([models.roles] in /etc/airlock/policy.toml), but profile `officer` does not grant `smollm2`: add \"smollm2\" to [inference] models in the profile (officer.toml)"
    );
    assert!(policy.check_models(&qwen_only).is_err());
}

/// What `airlock plugin install PACKAGE --profile FILE --yes` records when
/// the package is installed already: the same package, reviewed again.
fn review_again(world: &World, name: &str, file: &std::path::Path) {
    let store = PluginStore::open(&world.home);
    let installed = store.get(name).unwrap();
    let reviewed = Profile::from_file(file).unwrap();
    store
        .repin(
            &installed,
            &ProfileSource::File(file.into()),
            &reviewed.digest,
        )
        .unwrap();
}

/// The models a run of the installed plugin `name` gets, as the launch
/// narrows them: the reviewed profile, under the (default) admin policy.
fn run_models(world: &World, name: &str) -> Result<Vec<String>, AdmitError> {
    let target = admit::resolve(
        std::path::Path::new(name),
        false,
        Some(&world.home),
        &Policy::default(),
    )?;
    let profile = target.reviewed.as_ref().unwrap().load()?;
    Ok(target
        .narrow(profile, &Policy::default())
        .unwrap()
        .inference
        .models)
}

#[test]
fn an_installed_plugin_moves_to_the_model_the_officer_maps_without_resigning() {
    let world = World::new();
    let key = world.trusted_publisher();
    let package = signed_package_asking(
        "coder",
        &key,
        "workspace-read = [\".\"]\nmodel-roles = [\"code\"]\n",
    );
    let signed = (package.manifest_text.clone(), package.signature.clone());
    let grants = "[inference]\nmodels = [\"a\", \"b\"]\n\n[inference.roles]\n";
    let file = world.profile_file("officer.toml", &format!("{grants}code = \"a\"\n"));
    world.install(&package, &ProfileSource::File(file.clone()));
    assert_eq!(run_models(&world, "coder").unwrap(), ["a"]);

    // The officer maps `code` to b: runs are refused until the review...
    std::fs::write(&file, format!("{grants}code = \"b\"\n")).unwrap();
    assert!(matches!(
        run_models(&world, "coder"),
        Err(AdmitError::ProfileChanged { .. })
    ));
    // ...which pins the new text; the signed package is the one installed.
    review_again(&world, "coder", &file);
    assert_eq!(run_models(&world, "coder").unwrap(), ["b"]);
    let installed = PluginStore::open(&world.home).get("coder").unwrap();
    assert_eq!(
        std::fs::read(installed.package_path()).unwrap(),
        std::fs::read(world.files.join("coder-0.1.0.airlock")).unwrap()
    );
    assert_eq!(signed, (package.manifest_text, package.signature));
}
