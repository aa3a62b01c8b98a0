//! What a skill component imports from the `airlock:skill` interfaces,
//! function by function: the host reads it from the compiled component, and
//! a plugin's requested capabilities are checked against it at pack and
//! install time.

/// The workspace interface.
pub const WORKSPACE: &str = "airlock:skill/workspace";
/// The inference interface.
pub const INFERENCE: &str = "airlock:skill/inference";
/// The exec interface.
pub const EXEC: &str = "airlock:skill/exec";
/// Workspace functions that change the workspace.
pub const WRITE_FUNCTIONS: &[&str] = &["write-file", "create-dir", "remove-file"];
/// Workspace functions that read it.
pub const READ_FUNCTIONS: &[&str] = &[
    "list-dir",
    "walk",
    "stat",
    "read-file",
    "read-range",
    "search",
];

/// What a component's imports let it do.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Workspace functions that read, by name.
    pub reads: Vec<String>,
    /// Workspace functions that write, by name.
    pub writes: Vec<String>,
    /// The inference interface, when imported (its full name).
    pub inference: Option<String>,
    /// The exec interface's `run`, when imported (`NAME#run`).
    pub exec: Option<String>,
}
