//! `airlock trust`: the publisher keys this machine trusts.

use super::plugin::need_home;
use super::to_json;
use crate::cli::TrustCommand;
use crate::exit::{Exit, Failure};
use airlock_trust::keys::PublicKey;
use airlock_trust::trust::{TrustError, TrustStore};
use std::path::PathBuf;

pub fn trust(cmd: TrustCommand, home: Option<PathBuf>) -> Result<Exit, Failure> {
    let store = TrustStore::open(&need_home(home)?);
    let fail = |e: TrustError| match e {
        TrustError::Usage(m) => Failure::usage(m),
        e @ TrustError::Io { .. } => Failure::new(Exit::Internal, e.to_string()),
    };
    match cmd {
        TrustCommand::Add { name, key } => {
            let key = PublicKey::read(&key).map_err(|e| Failure::usage(e.to_string()))?;
            let policy = airlock_session::admin::policy()?;
            if let Some(revoked) = policy.revoked.publisher_key(&key.fingerprint()) {
                return Err(Failure::new(
                    Exit::Refused,
                    format!(
                        "refused: key {} (publisher `{}`) is {revoked}; nothing it signs may run here",
                        key.fingerprint(),
                        key.publisher
                    ),
                ));
            }
            store.add(&name, &key).map_err(fail)?;
            println!(
                "Trusted key `{name}` of publisher `{}`: {}",
                key.publisher,
                key.fingerprint()
            );
            println!(
                "Check this fingerprint with the publisher by a second channel before installing what it signs."
            );
        }
        TrustCommand::List { json } => {
            let keys = store.list();
            if json {
                let value: Vec<_> = keys
                    .iter()
                    .map(|(name, key)| {
                        serde_json::json!({
                            "name": name,
                            "publisher": key.publisher,
                            "fingerprint": key.fingerprint(),
                        })
                    })
                    .collect();
                println!("{}", to_json(&value)?);
            } else if keys.is_empty() {
                println!(
                    "No trusted keys. Add a publisher's key with `airlock trust add NAME KEY.pub`."
                );
            } else {
                for (name, key) in &keys {
                    println!(
                        "{name:<16} {}  (publisher `{}`)",
                        key.fingerprint(),
                        key.publisher
                    );
                }
            }
        }
        TrustCommand::Remove { name } => {
            let key = store.remove(&name).map_err(fail)?;
            println!(
                "No longer trusting `{name}` ({}); plugins it signed will not run.",
                key.fingerprint()
            );
        }
    }
    Ok(Exit::Success)
}
