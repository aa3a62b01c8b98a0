//! The version of the `airlock:skill` WIT package this host speaks, and
//! which skill versions it can run.

/// The WIT package skills are built against.
pub const WIT_PACKAGE: &str = "airlock:skill";

/// The version of [`WIT_PACKAGE`] this host speaks.
pub const WIT_VERSION: &str = "0.1.0";

/// Whether a skill built for `version` can run on this host: same major and
/// minor while the major is 0 (semver for 0.x), same major afterwards.
pub fn wit_compatible(version: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64)> {
        let mut parts = v.split('.');
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    };
    match (parse(version), parse(WIT_VERSION)) {
        (Some((0, a)), Some((0, b))) => a == b,
        (Some((a, _)), Some((b, _))) => a == b,
        _ => false,
    }
}
