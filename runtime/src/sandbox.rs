//! The capability-based view of a workspace that a skill gets.
//!
//! [`paths`] refuses bad paths on their face, [`denylist`] withholds secrets,
//! and [`resolve`] walks a path beneath the workspace root with cap-std,
//! following symbolic links only while they stay inside, and checks grants
//! and the deny-list on both the path asked for and the file it reaches.

pub mod denylist;
pub mod open;
pub mod paths;
pub mod resolve;
