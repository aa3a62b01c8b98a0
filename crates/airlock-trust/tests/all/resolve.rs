//! `admit::resolve`: a bare component against `--allow-unsigned` and the
//! admin policy; an installed plugin's files, signature, trust and publisher.

use crate::support::{
    COMPONENT, KEY_NAME, SYSTEM_POLICY, World, env_policy, sha256, signed_package, system_policy,
};
use airlock_policy::admin::Policy;
use airlock_policy::profile::{Profile, ProfileSource};
use airlock_trust::Signer;
use airlock_trust::admit::{self, AdmitError};
use airlock_trust::package::PackageError;
use airlock_trust::store::StoreError;
use airlock_trust::trust::TrustStore;
use std::path::Path;

/// A fingerprint no key here has.
const OTHER_KEY: &str = "SHA256:0000000000000000000000000000000000000000000000000000000000000000";

#[test]
fn a_bare_component_is_refused_without_allow_unsigned() {
    let world = World::new();
    let component = world.bare_component();
    // Even on a developer machine, where the policy allows unsigned code.
    let err = admit::resolve(&component, false, Some(&world.home), &Policy::default())
        .err()
        .unwrap();
    let AdmitError::Unsigned(path) = &err else {
        panic!("expected Unsigned, got {err:?}");
    };
    assert_eq!(path, &component);
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "refused to run {}: it is a bare component that no signature vouches for",
            component.display()
        )),
        "{message}"
    );
    assert!(message.contains("pass --allow-unsigned"), "{message}");
    assert!(message.contains("`airlock plugin install`"), "{message}");
}

#[test]
fn a_bare_component_runs_unsigned_when_asked_and_allowed() {
    let world = World::new();
    let component = world.bare_component();
    for policy in [Policy::default(), system_policy("allow-unsigned = true\n")] {
        let target = admit::resolve(&component, true, Some(&world.home), &policy).unwrap();
        assert_eq!(target.path, component);
        assert!(target.signer.is_none(), "nothing vouches for it");
        assert!(target.reviewed.is_none() && target.requested.is_none());
        assert!(target.component_sha256.is_none());
        // No signed digest to hold the loaded bytes to, and the profile is
        // not narrowed by a request.
        assert!(target.check_loaded(&sha256(b"anything")).is_ok());
        let profile = Profile::builtin("read-only").unwrap();
        let grants = profile.grants.clone();
        assert_eq!(target.narrow(profile, &policy).unwrap().grants, grants);
    }
}

#[test]
fn the_policy_forbids_unsigned_even_when_asked() {
    let world = World::new();
    let component = world.bare_component();
    let policy = system_policy("allow-unsigned = false\n");
    let err = admit::resolve(&component, true, Some(&world.home), &policy)
        .err()
        .unwrap();
    let AdmitError::PolicyForbidsUnsigned { path, origin } = &err else {
        panic!("expected PolicyForbidsUnsigned, got {err:?}");
    };
    assert_eq!(path, &component);
    assert_eq!(origin, SYSTEM_POLICY);
    assert_eq!(
        err.to_string(),
        format!(
            "refused to run {} unsigned: the admin policy ({SYSTEM_POLICY}) sets allow-unsigned = false; only installed, signed plugins may run",
            component.display()
        )
    );

    // Two files: the stricter value wins, and the message names the file
    // that set it (the system file allows, $AIRLOCK_POLICY_FILE forbids).
    let extra = world.files.join("policy.toml");
    let merged = system_policy("allow-unsigned = true\n")
        .merge(env_policy(&extra, "allow-unsigned = false\n"))
        .unwrap();
    let err = admit::resolve(&component, true, Some(&world.home), &merged)
        .err()
        .unwrap();
    let message = err.to_string();
    assert!(
        matches!(err, AdmitError::PolicyForbidsUnsigned { .. }),
        "{message}"
    );
    assert!(
        message.contains(&format!("$AIRLOCK_POLICY_FILE ({})", extra.display())),
        "{message}"
    );

    // A signed, installed plugin still runs under that policy.
    let key = world.trusted_publisher();
    world.install(
        &signed_package("summarise", &key),
        &ProfileSource::Builtin("read-only".into()),
    );
    let target = admit::resolve(Path::new("summarise"), true, Some(&world.home), &policy).unwrap();
    assert!(target.signer.is_some());
}

#[test]
fn an_installed_signed_plugin_resolves_with_its_signer() {
    let world = World::new();
    let key = world.trusted_publisher();
    let installed = world.install(
        &signed_package("summarise", &key),
        &ProfileSource::Builtin("read-only".into()),
    );
    for allow_unsigned in [false, true] {
        let target = admit::resolve(
            Path::new("summarise"),
            allow_unsigned,
            Some(&world.home),
            &Policy::default(),
        )
        .unwrap();
        // The component extracted at install, byte for byte.
        assert_eq!(target.path, installed.component_path());
        assert_eq!(std::fs::read(&target.path).unwrap(), COMPONENT);
        assert_eq!(
            target.signer,
            Some(Signer {
                publisher: "acme".into(),
                trusted_as: KEY_NAME.into(),
                fingerprint: key.public().fingerprint(),
            })
        );
        assert_eq!(target.component_sha256, Some(sha256(COMPONENT)));
        assert!(target.check_loaded(&sha256(COMPONENT)).is_ok());
        // What it requests narrows the profile it was reviewed against:
        // `read-only` grants the whole workspace, the plugin asked for docs.
        let requested = target.requested.as_ref().unwrap();
        assert_eq!(requested.workspace_read, ["docs"]);
        let profile = target.reviewed.as_ref().unwrap().load().unwrap();
        assert_eq!(profile.source, ProfileSource::Builtin("read-only".into()));
        let grants: Vec<(String, bool)> = target
            .narrow(profile, &Policy::default())
            .unwrap()
            .grants
            .iter()
            .map(|g| (g.path.0.to_string(), g.writable))
            .collect();
        assert_eq!(grants, [("docs".to_string(), false)]);
    }
}

#[test]
fn a_plugin_whose_key_is_no_longer_trusted_is_refused() {
    let world = World::new();
    let key = world.trusted_publisher();
    world.install(
        &signed_package("summarise", &key),
        &ProfileSource::Builtin("read-only".into()),
    );
    let policy = Policy::default();
    assert!(admit::resolve(Path::new("summarise"), false, Some(&world.home), &policy).is_ok());

    // `airlock trust remove acme-key`: the trust store as it is now decides.
    TrustStore::open(&world.home).remove(KEY_NAME).unwrap();
    let err = admit::resolve(Path::new("summarise"), false, Some(&world.home), &policy)
        .err()
        .unwrap();
    let fingerprint = key.public().fingerprint();
    let AdmitError::Store(store) = &err else {
        panic!("expected a store refusal, got {err:?}");
    };
    let store: &StoreError = store;
    let StoreError::Package(package) = store else {
        panic!("expected a package refusal, got {store:?}");
    };
    let package: &PackageError = package;
    let PackageError::UnknownKey {
        fingerprint: found,
        publisher,
        ..
    } = package
    else {
        panic!("expected an unknown key, got {package:?}");
    };
    assert_eq!(found, &fingerprint);
    assert_eq!(publisher, "acme");
    let message = err.to_string();
    assert!(
        message.contains(&format!(
            "is signed by key {fingerprint} (publisher `acme`), which is not in the trust store"
        )),
        "{message}"
    );
}

#[test]
fn a_plugin_whose_component_changed_after_install_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let world = World::new();
    let key = world.trusted_publisher();
    let installed = world.install(
        &signed_package("summarise", &key),
        &ProfileSource::Builtin("read-only".into()),
    );
    let component = installed.component_path();
    // The installed files are read-only; someone who owns them changes one
    // anyway (same length, other bytes).
    std::fs::set_permissions(&component, std::fs::Permissions::from_mode(0o600)).unwrap();
    let changed = b"\0asm\x0d\x00\x01\x01";
    std::fs::write(&component, changed).unwrap();
    let err = admit::resolve(
        Path::new("summarise"),
        false,
        Some(&world.home),
        &Policy::default(),
    )
    .err()
    .unwrap();
    let message = err.to_string();
    assert!(
        matches!(&err, AdmitError::Store(e) if matches!(**e, StoreError::Modified { .. })),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "{} has sha256 {}, installed as {}",
            component.display(),
            sha256(changed),
            sha256(COMPONENT)
        )),
        "{message}"
    );
}

#[test]
fn a_publisher_the_policy_does_not_list_is_refused() {
    let world = World::new();
    let key = world.trusted_publisher();
    world.install(
        &signed_package("summarise", &key),
        &ProfileSource::Builtin("read-only".into()),
    );
    let fingerprint = key.public().fingerprint();

    // Listed (among others): it runs.
    let listing = system_policy(&format!(
        "trusted-publishers = [\"{OTHER_KEY}\", \"{fingerprint}\"]\n"
    ));
    let target =
        admit::resolve(Path::new("summarise"), false, Some(&world.home), &listing).unwrap();
    assert_eq!(target.signer.unwrap().fingerprint, fingerprint);

    // Trusted by the user, but the policy lists only another key.
    let policy = system_policy(&format!("trusted-publishers = [\"{OTHER_KEY}\"]\n"));
    let err = admit::resolve(Path::new("summarise"), false, Some(&world.home), &policy)
        .err()
        .unwrap();
    let AdmitError::PublisherNotAllowed {
        what,
        signer,
        origin,
    } = &err
    else {
        panic!("expected PublisherNotAllowed, got {err:?}");
    };
    assert_eq!(what, "summarise 0.1.0");
    assert_eq!(signer.fingerprint, fingerprint);
    assert_eq!(signer.trusted_as, KEY_NAME);
    assert_eq!(origin, SYSTEM_POLICY);
    assert_eq!(
        err.to_string(),
        format!(
            "refused: summarise 0.1.0 is signed by key {fingerprint} (`{KEY_NAME}`), which the admin policy ({SYSTEM_POLICY}) does not list in trusted-publishers"
        )
    );

    // The same check refuses the package at install (`check_publisher`).
    let err = admit::check_publisher(&policy, signer, "summarise-0.1.0.airlock")
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .starts_with("refused: summarise-0.1.0.airlock is signed by key"),
        "{err}"
    );
    assert!(admit::check_publisher(&listing, signer, "summarise-0.1.0.airlock").is_ok());
}

#[test]
fn an_unknown_name_is_not_installed() {
    let world = World::new();
    let key = world.trusted_publisher();
    world.install(
        &signed_package("summarise", &key),
        &ProfileSource::Builtin("read-only".into()),
    );
    // `--allow-unsigned` does not turn a name into a file to run.
    for allow_unsigned in [false, true] {
        let err = admit::resolve(
            Path::new("summarize"),
            allow_unsigned,
            Some(&world.home),
            &Policy::default(),
        )
        .err()
        .unwrap();
        assert!(
            matches!(&err, AdmitError::NotInstalled(name) if name == "summarize"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "no plugin named `summarize` is installed and there is no file summarize (see `airlock plugin list`)"
        );
    }
    // The installed name does resolve.
    assert!(
        admit::resolve(
            Path::new("summarise"),
            false,
            Some(&world.home),
            &Policy::default()
        )
        .is_ok()
    );
}
