//! The `repo-map` skill as a WebAssembly component: the logic lives in
//! `repo-map-core` (`core/`), which the `coder` agent skill also uses.

airlock_sdk::export_skill!(repo_map_core::RepoMapSkill);
