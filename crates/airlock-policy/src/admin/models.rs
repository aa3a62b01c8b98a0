//! The admin policy's `[models]` table: the only models a profile may use,
//! each pinned by the sha256 of its content, and which user must run a
//! loopback model server. Later work extends this one table (roles, remote
//! endpoints), so every model rule of the policy lives here.
//!
//! ```toml
//! [models]
//! allowed = [{ name = "coder", sha256 = "b179c9523d0e…" }]
//! server-uid = 998
//!
//! [models.roles]        # optional: where it maps a role, it decides
//! code = "coder"
//! ```
//!
//! A name alone is not enough: the user can re-pin a name to another file
//! (`airlock model add other.gguf --name coder --replace`), so a run is
//! refused unless the model store's digest for the name equals the pin.

use super::PolicyViolation;
use super::{Origin, PolicyError, Setting, origins};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// Turns a span of the policy file and a message into the error naming
/// `file:line:column`.
pub(super) type At<'a> = &'a dyn Fn(Option<Range<usize>>, String) -> PolicyError;

/// A checked table, and each key it set (by its name in the table) with the
/// value as the file wrote it.
pub(super) type Checked<T> = Result<(T, Vec<(&'static str, Setting)>), PolicyError>;

/// `[models]` exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct ModelsFile {
    allowed: Option<Vec<Spanned<PinFile>>>,
    server_uid: Option<Spanned<u32>>,
    roles: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}

/// One entry of `models.allowed`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PinFile {
    name: Spanned<String>,
    sha256: Spanned<String>,
}

/// The effective `[models]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ModelsPolicy {
    /// The only models a profile may use, each by name and digest. `None`:
    /// any model the profile grants, as the user pinned it.
    pub allowed: Option<Vec<ModelPin>>,
    /// Names that two policy files pin to different digests: neither file
    /// allows the other's model, so no run may use the name.
    pub conflicts: Vec<PinConflict>,
    /// The user that must own a loopback model server's listening socket.
    /// `None`: the configuration's `engine.server-uid`, else the user
    /// running Airlock.
    pub server_uid: Option<ServerUid>,
    /// `[models.roles]`: the model each role is filled by, whatever the
    /// profile says. A profile that maps one of these roles to another
    /// model is refused; the model must still be one the profile grants.
    pub roles: BTreeMap<String, String>,
    /// Roles that two policy files map to different models: no run may
    /// fill them.
    pub role_conflicts: Vec<RoleConflict>,
}

/// One role that the policy files map to different models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleConflict {
    /// The role.
    pub role: String,
    /// Each file's model for it.
    pub maps: Vec<Setting>,
}

/// A model the admin allows, pinned by digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelPin {
    /// Airlock's name for the model (as profiles and `airlock model list` use it).
    pub name: String,
    /// `sha256:<64 lowercase hex>`, as the model store records it.
    pub sha256: String,
}

/// One name that the policy files pin differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinConflict {
    /// The model name.
    pub name: String,
    /// Each file's digest for it.
    pub pins: Vec<Setting>,
}

/// Who must own the listening socket of a loopback model server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerUid {
    /// This uid.
    Uid(u32),
    /// Two policy files name different uids: no server is accepted.
    Conflict(Vec<Setting>),
}

/// `sha256:<lowercase hex>` from `sha256:<hex>` or bare hex; `None` unless
/// it is 64 hex digits.
pub fn normalize_digest(raw: &str) -> Option<String> {
    let hex = raw.trim().strip_prefix("sha256:").unwrap_or(raw.trim());
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

impl ModelsFile {
    /// Check one file's `[models]` table.
    pub(super) fn check(self, origin: &Origin, at: At<'_>) -> Checked<ModelsPolicy> {
        let mut policy = ModelsPolicy::default();
        let mut set = Vec::new();
        if let Some(list) = self.allowed {
            let mut pins: Vec<ModelPin> = Vec::new();
            for entry in list {
                let span = entry.span();
                let entry = entry.into_inner();
                let name = entry.name.get_ref();
                if let Err(reason) =
                    airlock_core::names::check(airlock_core::names::NameKind::Model, name)
                {
                    return Err(at(
                        Some(entry.name.span()),
                        format!(
                            "models.allowed: name = {name:?} is not a model name: {reason}; write the name `airlock model list` shows"
                        ),
                    ));
                }
                let Some(sha256) = normalize_digest(entry.sha256.get_ref()) else {
                    return Err(at(
                        Some(entry.sha256.span()),
                        format!(
                            "models.allowed: sha256 = {:?} for `{name}` is not a sha256 digest; write the 64 hex digits `airlock model info {name}` shows (with or without `sha256:`)",
                            entry.sha256.get_ref()
                        ),
                    ));
                };
                match pins.iter().find(|p| &p.name == name) {
                    Some(p) if p.sha256 != sha256 => {
                        return Err(at(
                            Some(span),
                            format!(
                                "models.allowed lists `{name}` twice with different digests ({} and {sha256}); keep the one that was reviewed",
                                p.sha256
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => pins.push(ModelPin {
                        name: name.clone(),
                        sha256,
                    }),
                }
            }
            set.push((
                "allowed",
                Setting {
                    from: origin.clone(),
                    value: pins_toml(&pins),
                },
            ));
            policy.allowed = Some(pins);
        }
        if let Some(uid) = self.server_uid {
            let uid = uid.into_inner();
            set.push((
                "server-uid",
                Setting {
                    from: origin.clone(),
                    value: uid.to_string(),
                },
            ));
            policy.server_uid = Some(ServerUid::Uid(uid));
        }
        if let Some(roles) = self.roles {
            for (role, model) in &roles {
                let (name, target) = (role.get_ref(), model.get_ref());
                crate::roles::check(name)
                    .map_err(|e| at(Some(role.span()), format!("models.roles: {e}")))?;
                if let Err(reason) =
                    airlock_core::names::check(airlock_core::names::NameKind::Model, target)
                {
                    return Err(at(
                        Some(model.span()),
                        format!(
                            "models.roles.{name} = {target:?} is not a model name: {reason}; write the name `airlock model list` shows"
                        ),
                    ));
                }
                if let Some(pins) = &policy.allowed
                    && !pins.iter().any(|p| &p.name == target)
                {
                    let names: Vec<String> = pins.iter().map(|p| p.name.clone()).collect();
                    return Err(at(
                        Some(model.span()),
                        format!(
                            "models.roles.{name} = {target:?} maps the role to a model this file's [models] allowed does not list ({}): add {{ name = {target:?}, sha256 = \"HEX\" }} to allowed, or map `{name}` to an allowed model",
                            super::toml_list(&names)
                        ),
                    ));
                }
                policy.roles.insert(name.clone(), target.clone());
            }
            set.push((
                "roles",
                Setting {
                    from: origin.clone(),
                    value: roles_toml(&policy.roles),
                },
            ));
        }
        Ok((policy, set))
    }
}

/// A role table in TOML syntax: `{ code = "coder" }`.
pub(super) fn roles_toml(roles: &BTreeMap<String, String>) -> String {
    let items: Vec<String> = roles.iter().map(|(r, m)| format!("{r} = {m:?}")).collect();
    format!("{{ {} }}", items.join(", "))
}

/// A list of pins in TOML syntax, as a file would write it.
pub(super) fn pins_toml(pins: &[ModelPin]) -> String {
    let items: Vec<String> = pins
        .iter()
        .map(|p| format!("{{ name = {:?}, sha256 = {:?} }}", p.name, p.sha256))
        .collect();
    format!("[{}]", items.join(", "))
}

impl ModelsPolicy {
    /// The stricter of two tables: the names both allow, when both pin them
    /// to the same digest (differing digests: a conflict, allowed by
    /// neither); one list alone stands. The server uid likewise: both must
    /// agree, or no server is accepted.
    pub(super) fn merge(self, other: Self, mine: &super::Sources, theirs: &super::Sources) -> Self {
        let first_origin = |settings: &[Setting]| settings.first().map(|s| s.from.clone());
        let mut conflicts = self.conflicts;
        for c in other.conflicts {
            if !conflicts.iter().any(|have| have.name == c.name) {
                conflicts.push(c);
            }
        }
        let allowed = match (self.allowed, other.allowed) {
            (Some(a), Some(b)) => {
                let mut both = Vec::new();
                for pin in a {
                    let Some(other) = b.iter().find(|p| p.name == pin.name) else {
                        continue;
                    };
                    if other.sha256 == pin.sha256 {
                        both.push(pin);
                        continue;
                    }
                    let mut pins = Vec::new();
                    for (from, digest) in [
                        (first_origin(&mine.models_allowed), &pin.sha256),
                        (first_origin(&theirs.models_allowed), &other.sha256),
                    ] {
                        if let Some(from) = from {
                            pins.push(Setting {
                                from,
                                value: digest.clone(),
                            });
                        }
                    }
                    conflicts.push(PinConflict {
                        name: pin.name,
                        pins,
                    });
                }
                Some(both)
            }
            (a, b) => a.or(b),
        };
        let server_uid = match (self.server_uid, other.server_uid) {
            (Some(ServerUid::Conflict(settings)), _) | (_, Some(ServerUid::Conflict(settings))) => {
                Some(ServerUid::Conflict(settings))
            }
            (Some(ServerUid::Uid(a)), Some(ServerUid::Uid(b))) if a != b => {
                let mut settings = mine.models_server_uid.clone();
                settings.extend(theirs.models_server_uid.iter().cloned());
                Some(ServerUid::Conflict(settings))
            }
            (a, b) => a.or(b),
        };
        let (roles, role_conflicts) = merge_roles(
            (self.roles, self.role_conflicts, &mine.models_roles),
            (other.roles, other.role_conflicts, &theirs.models_roles),
        );
        Self {
            allowed,
            conflicts,
            server_uid,
            roles,
            role_conflicts,
        }
    }
}

/// One file's roles, its conflicts and where it set them.
type Roles<'a> = (BTreeMap<String, String>, Vec<RoleConflict>, &'a [Setting]);

/// Two files' roles: each role either maps, or both map it to one model;
/// two different models for a role are a conflict, which fills it with
/// neither.
fn merge_roles(a: Roles<'_>, b: Roles<'_>) -> (BTreeMap<String, String>, Vec<RoleConflict>) {
    let (mut roles, mut conflicts, mine) = a;
    let (theirs_roles, theirs_conflicts, theirs) = b;
    for c in theirs_conflicts {
        if !conflicts.iter().any(|have| have.role == c.role) {
            conflicts.push(c);
        }
    }
    for (role, model) in theirs_roles {
        match roles.get(&role) {
            Some(have) if *have != model => {
                let mut maps = Vec::new();
                for (from, value) in [(mine.first(), have.clone()), (theirs.first(), model)] {
                    if let Some(s) = from {
                        maps.push(Setting {
                            from: s.from.clone(),
                            value: format!("{value:?}"),
                        });
                    }
                }
                roles.remove(&role);
                conflicts.push(RoleConflict { role, maps });
            }
            Some(_) => {}
            None => {
                if !conflicts.iter().any(|c| c.role == role) {
                    roles.insert(role, model);
                }
            }
        }
    }
    (roles, conflicts)
}

impl super::Policy {
    /// Whether every model `profile` grants is one `[models] allowed` lists
    /// (by name: the digest is checked against the model store when the
    /// run starts, [`Policy::check_pin`](super::Policy::check_pin)).
    pub fn check_models(&self, profile: &crate::profile::Profile) -> Result<(), PolicyViolation> {
        let models = &self.models;
        let from = origins(&self.sources.models_allowed);
        let mut problems: Vec<String> = Vec::new();
        for name in &profile.inference.models {
            if let Some(c) = models.conflicts.iter().find(|c| &c.name == name) {
                problems.push(conflict_phrase(c));
                continue;
            }
            let Some(allowed) = &models.allowed else {
                continue;
            };
            if !allowed.iter().any(|p| &p.name == name) {
                let names: Vec<String> = allowed.iter().map(|p| p.name.clone()).collect();
                problems.push(format!(
                    "{name:?}, which the admin policy does not allow: [models] allowed = {} in {from}",
                    super::toml_list(&names)
                ));
            }
        }
        if !problems.is_empty() {
            return Err(PolicyViolation(format!(
                "profile `{}` (inference.models) grants the model {}. Use a profile that grants only allowed models, or ask the administrator",
                profile.name,
                problems.join("; and the model ")
            )));
        }
        self.check_roles(profile)
    }

    /// Whether `profile`'s `[inference.roles]` agrees with the admin
    /// policy's `[models.roles]`: where the policy maps a role it decides,
    /// so a profile mapping the role to another model is refused, naming
    /// both.
    pub fn check_roles(&self, profile: &crate::profile::Profile) -> Result<(), PolicyViolation> {
        let from = origins(&self.sources.models_roles);
        let mut problems: Vec<String> = Vec::new();
        for (role, model) in &profile.inference.roles {
            match self.models.roles.get(role) {
                Some(admin) if admin != model => problems.push(format!(
                    "role `{role}` to {model:?} (inference.roles.{role}), but the admin policy maps it to {admin:?} ([models.roles] in {from})"
                )),
                _ => {}
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(PolicyViolation(format!(
            "profile `{}` maps {}. Where the admin policy maps a role, it decides: remove the role from the profile's [inference.roles] or map it to the admin's model, or ask the administrator",
            profile.name,
            problems.join("; and ")
        )))
    }

    /// The model the admin policy's `[models.roles]` fills `role` with, and
    /// the files that set it (for messages): `Ok(None)` when the policy
    /// does not map it; an error when two files map it differently.
    pub fn role_model(&self, role: &str) -> Result<Option<(String, String)>, PolicyViolation> {
        if let Some(c) = self.models.role_conflicts.iter().find(|c| c.role == role) {
            let each: Vec<String> = c
                .maps
                .iter()
                .map(|s| format!("{} maps it to {}", s.from, s.value))
                .collect();
            return Err(PolicyViolation(format!(
                "the admin policy files map role `{role}` to different models ([models.roles]: {}), so no model fills it; ask the administrators to agree on one",
                each.join("; ")
            )));
        }
        Ok(self
            .models
            .roles
            .get(role)
            .map(|m| (m.clone(), origins(&self.sources.models_roles))))
    }

    /// Whether model `name`, which the model store (`lock`, for messages)
    /// pins to `locked`, is the model the admin allowed: with `[models]
    /// allowed` set, the digests must be equal.
    pub fn check_pin(&self, name: &str, locked: &str, lock: &str) -> Result<(), PolicyViolation> {
        let models = &self.models;
        if let Some(c) = models.conflicts.iter().find(|c| c.name == name) {
            return Err(PolicyViolation(format!(
                "model {}. Ask the administrators to agree on one digest",
                conflict_phrase(c)
            )));
        }
        let Some(allowed) = &models.allowed else {
            return Ok(());
        };
        let from = origins(&self.sources.models_allowed);
        let Some(pin) = allowed.iter().find(|p| p.name == name) else {
            return Err(PolicyViolation(format!(
                "model `{name}` is not in the admin policy's [models] allowed ({from}); ask the administrator"
            )));
        };
        let locked = normalize_digest(locked).unwrap_or_else(|| locked.to_string());
        if locked == pin.sha256 {
            return Ok(());
        }
        Err(PolicyViolation(format!(
            "model `{name}` is pinned in the model store ({lock}) to {locked}, but the admin policy allows `{name}` only as {} ([models] allowed in {from}), so the name now stands for a model that was not approved. Fix: pin the approved model under this name again (`airlock model add FILE --name {name} --replace` with the file whose sha256 is {}, or `airlock model pin {name} --ollama MODEL --replace`), or ask the administrator to review the new model and pin its digest",
            pin.sha256,
            pin.sha256.trim_start_matches("sha256:"),
        )))
    }

    /// The uid the admin requires for loopback model servers: `Ok(None)`
    /// when the policy does not say; an error when two files disagree.
    pub fn server_uid(&self) -> Result<Option<u32>, PolicyViolation> {
        match &self.models.server_uid {
            None => Ok(None),
            Some(ServerUid::Uid(uid)) => Ok(Some(*uid)),
            Some(ServerUid::Conflict(settings)) => {
                let each: Vec<String> = settings
                    .iter()
                    .map(|s| format!("{} sets {}", s.from, s.value))
                    .collect();
                Err(PolicyViolation(format!(
                    "the admin policy files name different users for model servers ([models] server-uid: {}), so no server is trusted; ask the administrators to agree on one uid",
                    each.join(", ")
                )))
            }
        }
    }

    /// The `[models] server-uid` phrase for messages: `[models] server-uid
    /// in FILE`.
    pub fn server_uid_origin(&self) -> String {
        format!(
            "[models] server-uid in {}",
            origins(&self.sources.models_server_uid)
        )
    }
}

fn conflict_phrase(c: &PinConflict) -> String {
    let each: Vec<String> = c
        .pins
        .iter()
        .map(|s| format!("{} pins {}", s.from, s.value))
        .collect();
    format!(
        "{:?}, which the admin policy files pin to different digests ([models] allowed: {}), so neither allows it",
        c.name,
        each.join("; ")
    )
}
