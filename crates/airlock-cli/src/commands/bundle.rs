//! `airlock bundle create | verify | install`: one signed archive that
//! carries a release across the air gap ([`airlock_bundle`]).

use super::model::Progress;
use super::to_json;
use crate::exit::{Exit, Failure};
use airlock_bundle::{BundleError, ChangeKind, Destinations, Release};
use airlock_core::terminal::line;
use airlock_runtime::models::ModelStore;
use airlock_trust::keys::{PublicKey, SecretKey};
use airlock_trust::trust::TrustStore;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

/// Where an administrator installs the release keys this machine trusts.
pub const RELEASE_KEY_DIR: &str = "/etc/airlock/release-keys";

pub const HELP: &str = "\
A bundle is one file (a tar archive) holding an Airlock release: the binary,
profiles, signed plugin packages, publisher keys, models, and whatever else
the release team put in it, with a manifest of every file's size and sha256,
signed with a release key (an Ed25519 key made with `airlock plugin keygen`).

On the connected build machine, `scripts/bundle` gathers the parts and runs
`airlock bundle create`. On the air-gapped machine, `verify` and `install`
check the signature against a trusted release key (`--key FILE.pub`, or the
root-owned *.pub files in /etc/airlock/release-keys/; never a key the bundle
carries) and every file's hash before anything is installed. A bundle with a
changed, missing or extra file, or one signed by another key, is refused.

Install puts bin/ under PREFIX/bin, profiles/ in the admin profile directory,
revoked/ (signed revocation lists: publisher keys, plugin packages, release
keys) in /etc/airlock/revoked.d, where every later run and verify reads them,
everything else under PREFIX/share/airlock, all or nothing, and records the
bundle's serial in PREFIX/share/airlock/bundle.toml: an older bundle is
refused. It prints what changed. With --register it then does, for the
state directory (--home), what the officer would do by hand: trust the
bundle's publisher keys, pin its models, install its plugins under the
profiles plugins/install.toml names (each an admin action in the audit log).

Examples:
  airlock bundle create --from target/bundle/tree --key release.key --serial 7 \\
      -o target/bundle/airlock-7.bundle
  airlock bundle verify /media/usb/airlock-7.bundle --key /media/keys/release.pub
  sudo airlock bundle install /media/usb/airlock-7.bundle
  airlock --home /home/eng/.local/state/airlock bundle install airlock-7.bundle \\
      --prefix /opt/airlock --register

Exit codes:
  0   done (create, verify) or installed
  2   usage error: a missing file, an unreadable key
  3   refused: bad signature, unknown key, a changed, missing or extra file,
      an older bundle (nothing was installed)
  70  an install step failed (everything it moved was put back)";

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Pack a prepared directory into a bundle signed with a release key.
    Create {
        /// The directory whose files the bundle carries (bin/, profiles/, …).
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// The release's secret key (from `airlock plugin keygen`).
        #[arg(long, value_name = "FILE.key")]
        key: PathBuf,
        /// The bundle's serial: larger than the last bundle's.
        #[arg(long)]
        serial: u64,
        /// What it was built from, recorded in the manifest (a git revision).
        #[arg(long, default_value = "")]
        source: String,
        /// The bundle file to write.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Check a bundle's signature and every file, installing nothing.
    Verify(VerifyArgs),
    /// Verify a bundle, then install it all or nothing.
    Install {
        #[command(flatten)]
        verify: VerifyArgs,
        /// Where bin/ and share/airlock/ go.
        #[arg(long, value_name = "DIR", default_value = "/usr/local")]
        prefix: PathBuf,
        /// Where the bundle's profiles go.
        #[arg(long, value_name = "DIR", default_value = airlock_policy::profile::ADMIN_PROFILE_DIR)]
        profile_dir: PathBuf,
        /// Where the bundle's revocation lists (`revoked/*.toml`) go.
        #[arg(long, value_name = "DIR", default_value = airlock_policy::admin::REVOKED_DIR)]
        revocation_dir: PathBuf,
        /// Then register what it brought in the state directory (`--home`,
        /// else the default): trust its publisher keys, pin its models, and
        /// install its plugins under the profiles `plugins/install.toml`
        /// names. Each is recorded in the audit log as its own admin action.
        #[arg(long)]
        register: bool,
    },
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle file.
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// A trusted release key (repeatable); without it, the root-owned *.pub
    /// files in /etc/airlock/release-keys/.
    #[arg(long, value_name = "FILE.pub")]
    pub key: Vec<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn bundle(
    cmd: BundleCommand,
    home: Option<PathBuf>,
    config: Option<&Path>,
) -> Result<Exit, Failure> {
    match cmd {
        BundleCommand::Create {
            from,
            key,
            serial,
            source,
            output,
        } => create(&from, &key, serial, source, &output),
        BundleCommand::Verify(args) => verify(&args),
        BundleCommand::Install {
            verify,
            prefix,
            profile_dir,
            revocation_dir,
            register,
        } => {
            if register && verify.json {
                return Err(Failure::usage(
                    "--register prints each step as the commands it stands for do; use it without --json (the audit log records each step)",
                ));
            }
            let registry = if register {
                Some(super::plugin::need_home(home.clone())?)
            } else {
                None
            };
            let dest = Destinations {
                prefix,
                profile_dir,
                revocation_dir,
            };
            install(&verify, &dest)?;
            // Recorded here, not after the command: what --register does
            // next may fail, and the install happened all the same.
            super::record_admin(
                home.as_deref(),
                config,
                "bundle install",
                serde_json::json!({ "bundle": verify.bundle, "prefix": dest.prefix, "profile-dir": dest.profile_dir }),
            )?;
            match registry {
                Some(home) => self::register(&dest, &home, config),
                None => Ok(Exit::Success),
            }
        }
    }
}

fn failure(e: BundleError) -> Failure {
    let code = match &e {
        BundleError::Read { .. } => Exit::Usage,
        BundleError::Write { .. } => Exit::Internal,
        _ => Exit::Refused,
    };
    Failure::new(code, e.to_string())
}

/// The trusted release keys, less the revoked ones: a bundle signed by a
/// revoked key is refused with the revocation's reason.
fn release_keys(given: &[PathBuf], bundle: &Path) -> Result<Vec<PublicKey>, Failure> {
    let policy = airlock_session::admin::policy()?;
    let keys = trusted_release_keys(given)?;
    // The key the bundle names, if it names one we hold and it is revoked.
    if let Ok(head) = airlock_bundle::open_head(bundle, &keys)
        && let Some(revoked) = policy.revoked.release_key(&head.key)
    {
        return Err(Failure::new(
            Exit::Refused,
            format!(
                "refused: {} is signed by release key {}, which is {revoked}",
                bundle.display(),
                head.key
            ),
        ));
    }
    Ok(keys
        .into_iter()
        .filter(|k| policy.revoked.release_key(&k.fingerprint()).is_none())
        .collect())
}

/// The trusted release keys: the `--key` files, else the root-owned ones in
/// [`RELEASE_KEY_DIR`].
fn trusted_release_keys(given: &[PathBuf]) -> Result<Vec<PublicKey>, Failure> {
    let read = |path: &Path| PublicKey::read(path).map_err(|e| Failure::usage(e.to_string()));
    if !given.is_empty() {
        return given.iter().map(|p| read(p)).collect();
    }
    let dir = Path::new(RELEASE_KEY_DIR);
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Failure::usage(format!(
            "no release key: give one with --key FILE.pub, or install it root-owned in {RELEASE_KEY_DIR}/ ({e})"
        ))
    })?;
    let mut keys = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Failure::usage(format!("cannot read {RELEASE_KEY_DIR}: {e}")))?
            .path();
        if path.extension().is_none_or(|x| x != "pub") {
            continue;
        }
        airlock_policy::admin::root_only(&path).map_err(|why| {
            Failure::new(Exit::Refused, format!("release key not trusted: {why}"))
        })?;
        keys.push(read(&path)?);
    }
    if keys.is_empty() {
        return Err(Failure::usage(format!(
            "no release key in {RELEASE_KEY_DIR}: give one with --key FILE.pub"
        )));
    }
    Ok(keys)
}

fn create(
    from: &Path,
    key: &Path,
    serial: u64,
    source: String,
    output: &Path,
) -> Result<Exit, Failure> {
    if !from.is_dir() {
        return Err(Failure::usage(format!(
            "{} is not a directory",
            from.display()
        )));
    }
    let key = SecretKey::read(key, &|| {
        std::env::var("AIRLOCK_KEY_PASSPHRASE")
            .map_err(|_| "the release key is encrypted: set $AIRLOCK_KEY_PASSPHRASE")
    })
    .map_err(|e| Failure::usage(e.to_string()))?;
    let release = Release {
        serial,
        created: created(),
        airlock: env!("CARGO_PKG_VERSION").into(),
        source,
        target: format!("{}-unknown-linux-gnu", std::env::consts::ARCH),
    };
    let bar = Progress::new("packing".into());
    let manifest = airlock_bundle::create(from, output, &release, &key, &|file, done, total| {
        bar.set_message(format!("packing {file}"));
        bar.update(done, total);
    });
    bar.finish();
    let manifest = manifest.map_err(failure)?;
    let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!(
        "wrote {}: serial {serial}, {} file(s), {bytes} bytes, signed by release key {}",
        output.display(),
        manifest.files.len(),
        key.public().fingerprint()
    );
    Ok(Exit::Success)
}

/// Now, or `$SOURCE_DATE_EPOCH` (for a reproducible bundle), as RFC 3339.
fn created() -> String {
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or_else(std::time::SystemTime::now, |secs| {
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)
        });
    humantime::format_rfc3339_seconds(now).to_string()
}

fn verify(args: &VerifyArgs) -> Result<Exit, Failure> {
    let keys = release_keys(&args.key, &args.bundle)?;
    let bar = Progress::new("verifying".into());
    let verified = airlock_bundle::open(&args.bundle, &keys, None, &|done, total| {
        bar.update(done, total)
    });
    bar.finish();
    let verified = verified.map_err(failure)?;
    let m = &verified.manifest;
    if args.json {
        let value = serde_json::json!({
            "bundle": args.bundle,
            "serial": m.serial,
            "created": m.created,
            "airlock": m.airlock,
            "source": m.source,
            "target": m.target,
            "key": verified.key,
            "signer": verified.signer,
            "files": m.files.len(),
            "bytes": m.files.iter().map(|f| f.size).sum::<u64>(),
        });
        println!("{}", to_json(&value)?);
    } else {
        println!(
            "{}: verified: serial {}, Airlock {} for {}, {} file(s), signed by release key {} (`{}`)",
            args.bundle.display(),
            m.serial,
            line(&m.airlock),
            line(&m.target),
            m.files.len(),
            verified.key,
            line(&verified.signer)
        );
    }
    Ok(Exit::Success)
}

fn install(args: &VerifyArgs, dest: &Destinations) -> Result<Exit, Failure> {
    let keys = release_keys(&args.key, &args.bundle)?;
    let bar = Progress::new("verifying".into());
    let report = airlock_bundle::install(&args.bundle, &keys, dest, &|done, total| {
        bar.update(done, total)
    });
    bar.finish();
    let report = report.map_err(failure)?;
    let m = &report.verified.manifest;
    if args.json {
        let value = serde_json::json!({
            "bundle": args.bundle,
            "serial": m.serial,
            "previous-serial": report.previous,
            "key": report.verified.key,
            "changes": report.changes,
        });
        println!("{}", to_json(&value)?);
        return Ok(Exit::Success);
    }
    match report.previous {
        Some(before) => println!(
            "installed bundle serial {} (was {before}), signed by release key {}",
            m.serial, report.verified.key
        ),
        None => println!(
            "installed bundle serial {}, signed by release key {}",
            m.serial, report.verified.key
        ),
    }
    // Each file, except in a folder of PREFIX/share/airlock with more than a
    // few changes of one kind (the vendored sources: tens of thousands),
    // which is one line with its count.
    let share = dest.prefix.join("share/airlock");
    let folder = |path: &Path| -> Option<PathBuf> {
        let rest = path.strip_prefix(&share).ok()?;
        let top = rest.components().next()?;
        (rest.components().count() > 1).then(|| share.join(top))
    };
    let mut groups: std::collections::BTreeMap<(u8, PathBuf), Vec<&Path>> = Default::default();
    for c in &report.changes {
        let kind = match c.kind {
            ChangeKind::Added => 0,
            ChangeKind::Replaced => 1,
            ChangeKind::Removed => 2,
            ChangeKind::Unchanged => continue,
        };
        let key = folder(&c.dest).unwrap_or_else(|| c.dest.clone());
        groups.entry((kind, key)).or_default().push(&c.dest);
    }
    for ((kind, key), files) in &groups {
        let word = ["added    ", "replaced ", "removed  "][usize::from(*kind)];
        if files.len() > 5 {
            println!(
                "  {word}{} files in {}",
                files.len(),
                line(&key.display().to_string())
            );
        } else {
            for f in files {
                println!("  {word}{}", line(&f.display().to_string()));
            }
        }
    }
    let unchanged = report
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Unchanged)
        .count();
    if unchanged > 0 {
        println!("  ({unchanged} file(s) unchanged)");
    }
    Ok(Exit::Success)
}

/// `plugins/install.toml` in a bundle: the profile each plugin is installed
/// under by `bundle install --register`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginPlan {
    #[serde(default)]
    plugin: Vec<PlannedPlugin>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlannedPlugin {
    /// The package's file name under `plugins/`.
    package: String,
    /// The profile it is reviewed against and runs under.
    profile: String,
}

/// What the officer would do by hand after an install, for the state
/// directory `home`: trust the installed publisher keys (under their
/// publisher's name; one already trusted is left alone), pin the models
/// (under their file name, replacing an older pin of that name), install the
/// plugins as `plugins/install.toml` says. Each is an admin action in the
/// audit log, recorded before the next one starts.
fn register(dest: &Destinations, home: &Path, config: Option<&Path>) -> Result<Exit, Failure> {
    let share = dest.prefix.join("share/airlock");
    let files = |dir: &str, ext: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(share.join(dir))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == ext))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let trust = TrustStore::open(home);
    for path in files("keys", "pub") {
        let key = PublicKey::read(&path).map_err(|e| Failure::usage(e.to_string()))?;
        if let Some((name, _)) = trust.find(&key.fingerprint()) {
            println!(
                "publisher key {} is already trusted as `{name}`",
                key.fingerprint()
            );
            continue;
        }
        trust
            .add(&key.publisher, &key)
            .map_err(|e| Failure::usage(e.to_string()))?;
        println!(
            "trusted `{}`: {} ({})",
            key.publisher,
            key.fingerprint(),
            path.display()
        );
        super::record_admin(
            Some(home),
            config,
            "trust add",
            serde_json::json!({ "name": key.publisher, "key-file": path, "fingerprint": key.fingerprint(), "via": "bundle install" }),
        )?;
    }
    let models = ModelStore::open(home);
    for path in files("models", "gguf") {
        let name = path
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        super::model::add(&models, &path, Some(&name), true, false)?;
        super::record_admin(
            Some(home),
            config,
            "model add",
            serde_json::json!({ "file": path, "name": name, "replace": true, "via": "bundle install" }),
        )?;
    }
    let plan_path = share.join("plugins/install.toml");
    let plan: PluginPlan = match std::fs::read_to_string(&plan_path) {
        Ok(text) => toml::from_str(&text)
            .map_err(|e| Failure::usage(format!("{}: {e}", plan_path.display())))?,
        Err(_) => PluginPlan { plugin: Vec::new() },
    };
    for p in &plan.plugin {
        let package = share.join("plugins").join(&p.package);
        if p.package.contains('/') || !package.is_file() {
            return Err(Failure::usage(format!(
                "{} names `{}`, which is not a package in {}",
                plan_path.display(),
                p.package,
                share.join("plugins").display()
            )));
        }
        let confirm = super::plugin::Confirm {
            yes: true,
            transfer_publisher: false,
        };
        super::plugin::install(&package, &p.profile, confirm, home, config)?;
        super::record_admin(
            Some(home),
            config,
            "plugin install",
            serde_json::json!({ "package": package, "profile": p.profile, "via": "bundle install" }),
        )?;
    }
    Ok(Exit::Success)
}
