//! What `airlock run NAME|PATH` runs. The decision is
//! [`airlock_trust::admit`]'s; here it meets the admin policy
//! file and the exit codes.

use super::{admin_policy, package_failure, store_failure};
use crate::exit::{Exit, Failure};
use airlock_runtime::profile::ProfileError;
use airlock_trust::admit::{self, AdmitError};
use std::path::Path;

pub use admit::{Reviewed, Target};

/// Resolve `airlock run`'s SKILL under the admin policy: an installed
/// plugin, checked now, or a bare component allowed to run unsigned.
pub fn resolve(skill: &Path, allow_unsigned: bool, home: Option<&Path>) -> Result<Target, Failure> {
    let policy = admin_policy()?;
    Ok(admit::resolve(skill, allow_unsigned, home, &policy)?)
}

impl From<AdmitError> for Failure {
    fn from(e: AdmitError) -> Self {
        let code = match &e {
            AdmitError::NotInstalled(_) => Exit::Usage,
            AdmitError::ProfileUnusable { source, .. } => match **source {
                ProfileError::Untrusted { .. } => Exit::Refused,
                _ => Exit::Usage,
            },
            AdmitError::Store(_) | AdmitError::Package(_) => {
                return match e {
                    AdmitError::Store(e) => store_failure(*e),
                    AdmitError::Package(e) => package_failure(*e),
                    _ => unreachable!("matched above"),
                };
            }
            AdmitError::PublisherNotAllowed { .. }
            | AdmitError::Unsigned(_)
            | AdmitError::PolicyForbidsUnsigned { .. }
            | AdmitError::ReviewNotPinned { .. }
            | AdmitError::ProfileChanged { .. }
            | AdmitError::Changed { .. } => Exit::Refused,
        };
        Failure::new(code, e.to_string())
    }
}
