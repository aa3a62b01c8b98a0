//! After `resolve`: the component loaded must be the one signed
//! (`Target::check_loaded`), and the profile must be the very text reviewed
//! at install (`Reviewed::load`).

use crate::support::{COMPONENT, World, sha256, signed_package};
use airlock_policy::admin::Policy;
use airlock_policy::profile::{ProfileError, ProfileSource};
use airlock_trust::admit::{self, AdmitError, Target};
use std::path::Path;

/// A profile file an officer reviews a plugin against.
const REVIEWED: &str = "name = \"docs-reader\"\ndescription = \"Read the docs.\"\n\n\
                        [[grant]]\npath = \"docs\"\naccess = \"read\"\n";

/// The same file, widened after the review.
const WIDENED: &str = "name = \"docs-reader\"\ndescription = \"Read the docs.\"\n\n\
                       [[grant]]\npath = \".\"\naccess = \"read-write\"\n";

fn resolve(world: &World) -> Target {
    admit::resolve(
        Path::new("summarise"),
        false,
        Some(&world.home),
        &Policy::default(),
    )
    .unwrap()
}

#[test]
fn a_component_changed_since_prepare_is_refused() {
    let world = World::new();
    let key = world.trusted_publisher();
    world.install(
        &signed_package("summarise", &key),
        &ProfileSource::Builtin("read-only".into()),
    );
    let target = resolve(&world);
    // The bytes loaded are the ones signed.
    assert!(target.check_loaded(&sha256(COMPONENT)).is_ok());
    // The bytes loaded (or prepared before a long session's next run) are
    // not the ones the signed manifest names.
    let loaded = sha256(b"another component");
    let err = target.check_loaded(&loaded).err().unwrap();
    let AdmitError::Changed {
        path,
        digest,
        expected,
    } = &err
    else {
        panic!("expected Changed, got {err:?}");
    };
    assert_eq!(path, &target.path);
    assert_eq!(digest, &loaded);
    assert_eq!(expected, &sha256(COMPONENT));
    assert_eq!(
        err.to_string(),
        format!(
            "refused to run {}: it has sha256 {loaded}, but its signed manifest says {}",
            target.path.display(),
            sha256(COMPONENT)
        )
    );
}

#[test]
fn a_reviewed_profile_whose_text_changed_is_refused() {
    let world = World::new();
    let key = world.trusted_publisher();
    let file = world.profile_file("docs-reader.toml", REVIEWED);
    let installed = world.install(
        &signed_package("summarise", &key),
        &ProfileSource::File(file.clone()),
    );

    // Unchanged: the run gets the text reviewed.
    let profile = resolve(&world).reviewed.unwrap().load().unwrap();
    assert_eq!(profile.source, ProfileSource::File(file.clone()));
    assert_eq!(profile.digest, sha256(REVIEWED.as_bytes()));

    // Widened since the review: refused, naming both texts' sha256.
    std::fs::write(&file, WIDENED).unwrap();
    let err = resolve(&world).reviewed.unwrap().load().err().unwrap();
    let AdmitError::ProfileChanged {
        plugin,
        from,
        reviewed,
        now,
        ..
    } = &err
    else {
        panic!("expected ProfileChanged, got {err:?}");
    };
    assert_eq!(plugin, "summarise 0.1.0");
    let from: &ProfileSource = from;
    assert_eq!(from, &ProfileSource::File(file.clone()));
    assert_eq!(reviewed, &sha256(REVIEWED.as_bytes()));
    assert_eq!(now, &sha256(WIDENED.as_bytes()));
    assert_eq!(
        err.to_string(),
        format!(
            "refused to run plugin summarise 0.1.0: its profile ({}) changed since the install review: the text reviewed had sha256 {}, it now has sha256 {}; review it again: `airlock plugin install {} --profile {}`, or choose a profile for this run with --profile",
            file.display(),
            sha256(REVIEWED.as_bytes()),
            sha256(WIDENED.as_bytes()),
            installed.package_path().display(),
            file.display()
        )
    );

    // Put back byte for byte: the review holds again.
    std::fs::write(&file, REVIEWED).unwrap();
    assert!(resolve(&world).reviewed.unwrap().load().is_ok());
}

#[test]
fn a_reviewed_profile_that_is_gone_cannot_be_used() {
    let world = World::new();
    let key = world.trusted_publisher();
    let file = world.profile_file("docs-reader.toml", REVIEWED);
    world.install(
        &signed_package("summarise", &key),
        &ProfileSource::File(file.clone()),
    );
    std::fs::remove_file(&file).unwrap();
    let err = resolve(&world).reviewed.unwrap().load().err().unwrap();
    let message = err.to_string();
    let AdmitError::ProfileUnusable { plugin, source, .. } = &err else {
        panic!("expected ProfileUnusable, got {err:?}");
    };
    assert_eq!(plugin, "summarise 0.1.0");
    let source: &ProfileError = source;
    assert!(
        matches!(source, ProfileError::Read { path, .. } if path == &file),
        "{message}"
    );
    assert!(
        message.starts_with(&format!(
            "plugin summarise 0.1.0: the profile reviewed at install cannot be used: cannot read profile {}",
            file.display()
        )),
        "{message}"
    );
    assert!(message.contains("--profile PROFILE`"), "{message}");
}

#[test]
fn a_record_without_the_reviewed_profiles_sha256_is_refused() {
    let world = World::new();
    let key = world.trusted_publisher();
    let installed = world.install(
        &signed_package("summarise", &key),
        &ProfileSource::Builtin("read-only".into()),
    );
    // An install record written before Airlock pinned the review: it names
    // the profile, but neither where it was read from nor its sha256.
    let record = installed.dir.join("install.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    let fields = json.as_object_mut().unwrap();
    assert!(fields.remove("profile-source").is_some());
    assert!(fields.remove("profile-sha256").is_some());
    std::fs::remove_file(&record).unwrap();
    std::fs::write(&record, serde_json::to_string_pretty(&json).unwrap()).unwrap();

    // The files and signature still check out; the review does not.
    let target = resolve(&world);
    let err = target.reviewed.unwrap().load().err().unwrap();
    assert!(
        matches!(&err, AdmitError::ReviewNotPinned { shown, .. } if shown == "read-only"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with(
            "refused to run plugin summarise 0.1.0: its install record names the profile `read-only` but not the sha256 of the text reviewed"
        ),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "`airlock plugin install {} --profile read-only`",
            installed.package_path().display()
        )),
        "{message}"
    );
}
