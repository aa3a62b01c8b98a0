//! The capability-based view of a workspace that a skill gets.
//!
//! [`paths`] refuses bad paths on their face, [`denylist`] withholds secrets,
//! and [`resolve`] walks a path beneath the workspace root with cap-std,
//! following symbolic links only while they stay inside, and checks grants
//! and the deny-list on both the path asked for and the file it reaches.
//! [`runs_later`] names the files whose changes always ask a person (they
//! run code outside the sandbox later); like the deny-list, profiles and the
//! admin policy extend it.

pub use airlock_policy::denylist;
pub mod open;
pub use airlock_core::paths;
pub mod resolve;
pub use airlock_policy::runs_later;
