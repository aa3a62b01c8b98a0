//! The `secret-scan` skill as a WebAssembly component: the logic lives in
//! `secret-scan-core` (`core/`), which the `coder` agent skill also uses.

airlock_sdk::export_skill!(secret_scan_core::SecretScan);
