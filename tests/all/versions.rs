//! A skill built for an `airlock:skill` version this host does not speak is
//! refused at load, before it runs, and the message names both versions.

use airlock_runtime::LoadError;
use airlock_tests::{airlock, guests};
use std::path::Path;

#[test]
fn skill_for_another_wit_version_is_refused_naming_both_versions() {
    let err = match airlock().load(Path::new(guests::FUTURE_WIT)) {
        Ok(_) => panic!("a 0.2.0 skill must be refused"),
        Err(e) => e,
    };
    assert!(matches!(err, LoadError::WitVersion { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "refused to run {}: it was built for airlock:skill@0.2.0, and this host speaks airlock:skill@0.1.0; rebuild the skill with airlock-sdk 0.1.0 or use an Airlock that speaks 0.2.0",
            guests::FUTURE_WIT
        )
    );
}
