//! Tamper, crash and rotation tests of the audit log (library level).
