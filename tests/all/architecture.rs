//! The arrows between the workspace's crates point one way: down.
//!
//! `cargo metadata` lists every workspace crate and what it depends on; each
//! crate has a floor in [`TABLE`] (the floors of `docs/architecture.md`), and a
//! crate may depend only on crates on a lower floor. An import that climbs, or
//! one that crosses between the host and the guest side, fails this test and
//! so fails CI. Dev-dependencies are not arrows of the architecture: cargo
//! allows a dev-dependency cycle through the test harness, and so do we.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Where a crate sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// The host, from `airlock-core` (0) up to `airlock-cli` (5).
    Host(u8),
    /// The guest side: the SDK, the plugins and the test guests. They build
    /// against `airlock-sdk` and never link anything of the host.
    Guest(u8),
    /// `airlock-tests`: it may depend on anything; nothing depends on it
    /// except through dev-dependencies.
    Harness,
}

use Place::{Guest, Harness, Host};

/// Every workspace crate and its floor: the one table of this test. A new
/// crate goes here and into `docs/architecture.md`. Names of crates not created
/// yet are fine: only the crates `cargo metadata` lists are checked.
const TABLE: &[(&str, Place)] = &[
    // The host: cli > session > {runtime, trust} > {inference, exec} > {audit, policy} > core.
    ("airlock-core", Host(0)),
    ("airlock-policy", Host(1)),
    ("airlock-audit", Host(1)),
    ("airlock-inference", Host(2)),
    ("airlock-exec", Host(2)),
    ("airlock-trust", Host(3)),
    // The wasm host; until the split is done it still holds most of the rest.
    ("airlock-runtime", Host(3)),
    ("airlock-session", Host(4)),
    ("airlock-bundle", Host(4)),
    ("airlock-cli", Host(5)),
    // The guest side: SDK < plugin libraries < plugins and test guests.
    ("airlock-sdk", Guest(0)),
    ("secret-scan-core", Guest(1)),
    ("repo-map-core", Guest(1)),
    ("secret-scan", Guest(2)),
    ("repo-map", Guest(2)),
    ("explain", Guest(2)),
    ("review", Guest(2)),
    ("coder", Guest(2)),
    ("guest-adversary", Guest(2)),
    ("guest-future-wit", Guest(2)),
    ("guest-hello", Guest(2)),
    ("guest-infer", Guest(2)),
    ("guest-net-dns", Guest(2)),
    ("guest-net-tcp", Guest(2)),
    // The test harness.
    ("airlock-tests", Harness),
];

/// Arrows between two crates on the same floor that are allowed anyway, as
/// (from, to). None today.
const SIDEWAYS_EXCEPTIONS: &[(&str, &str)] = &[];

fn place(name: &str) -> Option<Place> {
    TABLE.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

fn describe(place: Place) -> String {
    match place {
        Host(floor) => format!("floor {floor}"),
        Guest(floor) => format!("guest side, floor {floor}"),
        Harness => "the test harness".to_string(),
    }
}

/// Checks each workspace crate and its workspace dependencies (normal and build
/// only). Returns one message per refused arrow or unlisted crate, sorted;
/// empty when the arrows all point down.
fn check(crates: &[(String, Vec<String>)]) -> Vec<String> {
    let mut failures = BTreeSet::new();
    let unlisted = |name: &str| {
        format!(
            "{name} is a workspace crate missing from the table: add it, with its floor, to TABLE in tests/all/architecture.rs and to docs/architecture.md"
        )
    };
    for (name, deps) in crates {
        let Some(from) = place(name) else {
            failures.insert(unlisted(name));
            continue;
        };
        for dep in deps {
            let Some(to) = place(dep) else {
                failures.insert(unlisted(dep));
                continue;
            };
            let arrow = format!(
                "{name} ({}) depends on {dep} ({})",
                describe(from),
                describe(to)
            );
            let refusal = match (from, to) {
                (Harness, _) => None,
                (_, Harness) => {
                    Some("only a dev-dependency may point at the test harness".to_string())
                }
                (Host(a), Host(b)) | (Guest(a), Guest(b)) if b > a => {
                    Some("an import that climbs".to_string())
                }
                (Host(a), Host(b)) | (Guest(a), Guest(b)) if b == a => {
                    if SIDEWAYS_EXCEPTIONS.contains(&(name.as_str(), dep.as_str())) {
                        None
                    } else {
                        Some(
                            "a sideways import between crates on one floor (move the shared part down a floor)"
                                .to_string(),
                        )
                    }
                }
                (Host(_), Host(_)) | (Guest(_), Guest(_)) => None,
                (Guest(_), Host(_)) => Some(
                    "the SDK, plugins and guests build against airlock-sdk and nothing of the host"
                        .to_string(),
                ),
                (Host(_), Guest(_)) => Some(
                    "the host loads plugins and guests as components and never links them"
                        .to_string(),
                ),
            };
            if let Some(rule) = refusal {
                failures.insert(format!("{arrow}: {rule}; see docs/architecture.md"));
            }
        }
    }
    failures.into_iter().collect()
}

/// The workspace crates and, for each, its normal and build dependencies that
/// are themselves workspace crates, from `cargo metadata`.
fn workspace_arrows() -> Vec<(String, Vec<String>)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata JSON");
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .map(|id| id.as_str().expect("package id"))
        .collect();
    let packages: Vec<&Value> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| members.contains(p["id"].as_str().expect("package id")))
        .collect();
    let names: BTreeSet<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().expect("package name"))
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps: BTreeSet<String> = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                // kind is null for normal dependencies, "build" or "dev" otherwise.
                .filter(|d| d["kind"].as_str() != Some("dev"))
                // A workspace crate is a path dependency: no registry or git source.
                .filter(|d| d["source"].is_null())
                .map(|d| d["name"].as_str().expect("dependency name"))
                .filter(|n| names.contains(n))
                .map(str::to_string)
                .collect();
            let name = p["name"].as_str().expect("package name").to_string();
            (name, deps.into_iter().collect())
        })
        .collect()
}

#[test]
fn no_crate_depends_on_one_above_it() {
    let crates = workspace_arrows();
    let names: Vec<&str> = crates.iter().map(|(n, _)| n.as_str()).collect();
    for expected in ["airlock-runtime", "airlock-sdk", "airlock-tests"] {
        assert!(
            names.contains(&expected),
            "cargo metadata must list {expected}; it listed {names:?}"
        );
    }
    // The harness's own arrow is seen, so the parse did read dependencies.
    assert!(
        crates
            .iter()
            .any(|(n, deps)| n == "airlock-tests" && deps.iter().any(|d| d == "airlock-runtime")),
        "airlock-tests depends on airlock-runtime: {crates:?}"
    );
    let failures = check(&crates);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn edge(from: &str, to: &[&str]) -> (String, Vec<String>) {
    (from.to_string(), to.iter().map(|s| s.to_string()).collect())
}

#[test]
fn a_climbing_import_is_refused() {
    // Down one floor or more is allowed; the harness may depend on anything.
    assert_eq!(
        check(&[
            edge(
                "airlock-runtime",
                &["airlock-core", "airlock-audit", "airlock-exec"]
            ),
            edge("coder", &["airlock-sdk", "repo-map-core"]),
            edge("airlock-tests", &["airlock-cli", "guest-hello"]),
        ]),
        Vec::<String>::new()
    );
    assert_eq!(
        check(&[edge("airlock-core", &["airlock-runtime"])]),
        [
            "airlock-core (floor 0) depends on airlock-runtime (floor 3): an import that climbs; see docs/architecture.md"
        ]
    );
    assert_eq!(
        check(&[edge("airlock-audit", &["airlock-policy"])]),
        [
            "airlock-audit (floor 1) depends on airlock-policy (floor 1): a sideways import between crates on one floor (move the shared part down a floor); see docs/architecture.md"
        ]
    );
    assert_eq!(
        check(&[edge("airlock-runtime", &["airlock-trust"])]),
        [
            "airlock-runtime (floor 3) depends on airlock-trust (floor 3): a sideways import between crates on one floor (move the shared part down a floor); see docs/architecture.md"
        ]
    );
    assert_eq!(
        check(&[edge("review", &["airlock-runtime"])]),
        [
            "review (guest side, floor 2) depends on airlock-runtime (floor 3): the SDK, plugins and guests build against airlock-sdk and nothing of the host; see docs/architecture.md"
        ]
    );
    assert_eq!(
        check(&[edge("airlock-sdk", &["airlock-core"])]),
        [
            "airlock-sdk (guest side, floor 0) depends on airlock-core (floor 0): the SDK, plugins and guests build against airlock-sdk and nothing of the host; see docs/architecture.md"
        ]
    );
    assert_eq!(
        check(&[edge("airlock-cli", &["secret-scan-core"])]),
        [
            "airlock-cli (floor 5) depends on secret-scan-core (guest side, floor 1): the host loads plugins and guests as components and never links them; see docs/architecture.md"
        ]
    );
    assert_eq!(
        check(&[edge("airlock-runtime", &["airlock-tests"])]),
        [
            "airlock-runtime (floor 3) depends on airlock-tests (the test harness): only a dev-dependency may point at the test harness; see docs/architecture.md"
        ]
    );
}

#[test]
fn an_unlisted_crate_is_refused() {
    let expected = "airlock-agent is a workspace crate missing from the table: add it, with its floor, to TABLE in tests/all/architecture.rs and to docs/architecture.md";
    assert_eq!(
        check(&[edge("airlock-agent", &["airlock-core"])]),
        [expected]
    );
    assert_eq!(
        check(&[
            edge("airlock-cli", &["airlock-agent"]),
            edge("airlock-agent", &[]),
        ]),
        [expected]
    );
}
