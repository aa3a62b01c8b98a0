//! `airlock plugin`: the publisher's side (keygen, new, pack, sign) and the
//! officer's (install, list, show, verify, remove). Whether an installed
//! plugin may run is decided before each run by `airlock_session::launch`.

mod review;

use super::{compile, start, to_json};
use crate::cli::PluginCommand;
use crate::exit::{Exit, Failure};
use airlock_runtime::Profile;
use airlock_runtime::policy::Policy;
use airlock_runtime::profile::ProfileSource;
use airlock_trust::admit::Reviewed;
use airlock_trust::caps;
use airlock_trust::keys::SecretKey;
use airlock_trust::manifest::{ComponentRef, Manifest};
use airlock_trust::package::Package;
use airlock_trust::store::PluginStore;
use airlock_trust::trust::TrustStore;
use airlock_trust::{NameKind, Signer, check_name};
use review::{print_review, run_models_json};
use sha2::{Digest, Sha256};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

pub fn plugin(
    cmd: PluginCommand,
    home: Option<PathBuf>,
    config: Option<&Path>,
) -> Result<Exit, Failure> {
    match cmd {
        PluginCommand::Keygen {
            publisher,
            out,
            passphrase,
        } => keygen(&publisher, out, passphrase),
        PluginCommand::New {
            name,
            dir,
            sdk,
            publisher,
        } => new(&name, dir, sdk, &publisher),
        PluginCommand::Pack {
            component,
            manifest,
            key,
            out,
        } => pack(&component, &manifest, key.as_deref(), out, home),
        PluginCommand::Sign { package, key } => sign(&package, &key),
        PluginCommand::Install {
            package,
            profile,
            yes,
            transfer_publisher,
        } => install(
            &package,
            &profile,
            Confirm {
                yes,
                transfer_publisher,
            },
            &need_home(home)?,
            config,
        ),
        PluginCommand::List { json } => list(json, &need_home(home)?),
        PluginCommand::Show { name, json } => show(&name, json, &need_home(home)?),
        PluginCommand::Verify { name } => verify(name.as_deref(), &need_home(home)?),
        PluginCommand::Remove { name } => remove(&name, &need_home(home)?),
    }
}

pub(super) fn need_home(home: Option<PathBuf>) -> Result<PathBuf, Failure> {
    home.ok_or_else(|| {
        Failure::usage(
            "no Airlock home ($AIRLOCK_HOME or $HOME), so no plugin store or trust store: set AIRLOCK_HOME or pass --home DIR",
        )
    })
}

/// The admin policy; one that cannot be read refuses (fail closed).
fn admin_policy() -> Result<Policy, Failure> {
    super::policy::load()
}

fn check_publisher(policy: &Policy, signer: &Signer, what: &str) -> Result<(), Failure> {
    Ok(airlock_trust::admit::check_publisher(policy, signer, what)?)
}

/// The environment variable a script can set instead of typing the
/// passphrase of an encrypted secret key.
const PASSPHRASE_ENV: &str = "AIRLOCK_KEY_PASSPHRASE";

/// The passphrase of an encrypted key: `$AIRLOCK_KEY_PASSPHRASE`, else asked
/// on the terminal without echo.
fn ask_passphrase(prompt: &str) -> Result<String, String> {
    if let Ok(passphrase) = std::env::var(PASSPHRASE_ENV) {
        return Ok(passphrase);
    }
    rpassword::prompt_password(prompt).map_err(|e| {
        format!("the key is encrypted and no passphrase could be asked ({e}); set ${PASSPHRASE_ENV} or run on a terminal")
    })
}

fn keygen(publisher: &str, out: Option<PathBuf>, encrypt: bool) -> Result<Exit, Failure> {
    let key = SecretKey::generate(publisher).map_err(|e| Failure::usage(e.to_string()))?;
    let passphrase = if encrypt {
        let first = ask_passphrase("Passphrase for the new key: ").map_err(Failure::usage)?;
        if std::env::var_os(PASSPHRASE_ENV).is_none() {
            let again = ask_passphrase("The same passphrase again: ").map_err(Failure::usage)?;
            if again != first {
                return Err(Failure::usage("the passphrases differ; no key was written"));
            }
        }
        if first.is_empty() {
            return Err(Failure::usage(
                "the passphrase is empty; no key was written",
            ));
        }
        Some(first)
    } else {
        None
    };
    let prefix = out.unwrap_or_else(|| PathBuf::from(publisher));
    let (secret, public) = key
        .write_pair(&prefix, passphrase.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    println!("Created a signing key for publisher `{publisher}`:");
    println!(
        "  secret key  {}  (mode 0600{}; keep it on the build machine, never share it)",
        secret.display(),
        if encrypt {
            ", encrypted with your passphrase"
        } else {
            ""
        }
    );
    println!(
        "  public key  {}  (give this to the officers who install your plugins)",
        public.display()
    );
    println!("  fingerprint {}", key.public().fingerprint());
    println!(
        "Tell officers the fingerprint by a second channel, so they can check the key they add."
    );
    if !encrypt {
        println!(
            "The secret key is not encrypted: protect it with the file system, or create it with --passphrase."
        );
    }
    Ok(Exit::Success)
}

const TEMPLATE_CARGO: &str = include_str!("../../../../sdk/template/Cargo.toml.in");
const TEMPLATE_LIB: &str = include_str!("../../../../sdk/template/src/lib.rs.in");
const TEMPLATE_MANIFEST: &str = include_str!("../../../../sdk/template/manifest.toml.in");
const TEMPLATE_README: &str = include_str!("../../../../sdk/template/README.md.in");
const TEMPLATE_GITIGNORE: &str = include_str!("../../../../sdk/template/gitignore.in");

fn new(
    name: &str,
    dir: Option<PathBuf>,
    sdk: Option<PathBuf>,
    publisher: &str,
) -> Result<Exit, Failure> {
    check_name(NameKind::Plugin, name).map_err(|e| Failure::usage(e.to_string()))?;
    check_name(NameKind::Publisher, publisher).map_err(|e| Failure::usage(e.to_string()))?;
    // An SDK installed from a bundle beside this binary comes with every
    // crate it needs, vendored: the new project builds offline from them.
    let installed = installed_sources();
    let vendor = match (&sdk, &installed) {
        (None, Some(src)) => Some(src.join("vendor")),
        _ => None,
    };
    let sdk = match (sdk, &installed) {
        (Some(sdk), _) => sdk,
        (None, Some(src)) => src.join("sdk"),
        (None, None) => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk")),
    };
    if !sdk.join("Cargo.toml").is_file() {
        return Err(Failure::usage(format!(
            "no airlock-sdk crate at {}; pass the SDK's directory with --sdk DIR (it is `sdk/` in the Airlock source tree)",
            sdk.display()
        )));
    }
    let sdk = sdk
        .canonicalize()
        .map_err(|e| Failure::usage(format!("cannot resolve {}: {e}", sdk.display())))?;
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() {
        return Err(Failure::usage(format!(
            "{} already exists; choose another name or --dir",
            dir.display()
        )));
    }
    let fill = |t: &str| {
        t.replace("{{name}}", name)
            .replace("{{crate}}", &name.replace(['-', '.'], "_"))
            .replace("{{publisher}}", publisher)
            .replace("{{sdk}}", &sdk.display().to_string().replace('\\', "\\\\"))
    };
    let files = [
        ("Cargo.toml", TEMPLATE_CARGO),
        ("src/lib.rs", TEMPLATE_LIB),
        ("manifest.toml", TEMPLATE_MANIFEST),
        ("README.md", TEMPLATE_README),
        (".gitignore", TEMPLATE_GITIGNORE),
    ];
    for (file, template) in files {
        let path = dir.join(file);
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
            std::fs::write(&path, fill(template))
        };
        write().map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
    }
    if let Some(vendor) = &vendor {
        let path = dir.join(".cargo/config.toml");
        let text = format!(
            "# Crates come from the sources installed with Airlock's bundle: the\n# project builds with no network (`cargo build --offline`).\n[source.crates-io]\nreplace-with = \"airlock-vendored\"\n\n[source.airlock-vendored]\ndirectory = \"{}\"\n",
            vendor.display().to_string().replace('\\', "\\\\")
        );
        std::fs::create_dir_all(dir.join(".cargo"))
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
    }
    println!("Created skill `{name}` in {}.", dir.display());
    if let Some(vendor) = &vendor {
        println!(
            "  (the installed SDK {}; crates from {}, no network needed)",
            sdk.display(),
            vendor.display()
        );
    }
    println!("Next:");
    println!(
        "  cd {} && cargo build --release --target wasm32-wasip2",
        dir.display()
    );
    println!(
        "  airlock run target/wasm32-wasip2/release/{}.wasm --allow-unsigned -w .",
        name.replace(['-', '.'], "_")
    );
    println!(
        "  airlock plugin pack target/wasm32-wasip2/release/{}.wasm --key {publisher}.key",
        name.replace(['-', '.'], "_")
    );
    Ok(Exit::Success)
}

/// The Airlock sources a bundle installed beside this binary
/// (`PREFIX/bin/airlock` → `PREFIX/share/airlock/src`), when they hold the
/// SDK and the vendored crates.
fn installed_sources() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let src = exe.parent()?.parent()?.join("share/airlock/src");
    (src.join("sdk/Cargo.toml").is_file() && src.join("vendor").is_dir()).then_some(src)
}

fn read_manifest(path: &Path) -> Result<Manifest, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::usage(format!(
            "cannot read manifest {}: {e} (pass it with --manifest FILE)",
            path.display()
        ))
    })?;
    Manifest::parse(&text, &path.display().to_string()).map_err(|e| Failure::usage(e.to_string()))
}

fn read_key(path: &Path) -> Result<SecretKey, Failure> {
    let prompt = format!("Passphrase for {}: ", path.display());
    SecretKey::read(path, &|| ask_passphrase(&prompt)).map_err(|e| Failure::usage(e.to_string()))
}

fn pack(
    component: &Path,
    manifest_path: &Path,
    key: Option<&Path>,
    out: Option<PathBuf>,
    home: Option<PathBuf>,
) -> Result<Exit, Failure> {
    let mut manifest = read_manifest(manifest_path)?;
    let secret = key.map(read_key).transpose()?;
    if let Some(secret) = &secret
        && secret.publisher != manifest.publisher.name
    {
        return Err(Failure::usage(format!(
            "the key {} belongs to publisher `{}`, but {} names publisher `{}`",
            key.map(|k| k.display().to_string()).unwrap_or_default(),
            secret.publisher,
            manifest_path.display(),
            manifest.publisher.name
        )));
    }
    // Compile (no policy checks yet) to read the component's imports; the
    // same checks as a run then refuse what could never run.
    let airlock = start(home.as_ref())?;
    let compiled = compile(&airlock, component)?;
    let imported = airlock_runtime::skill::imported(&compiled, airlock.engine());
    let loaded = airlock.prepare(compiled)?;
    let missing = caps::missing(&manifest.capabilities, &imported);
    if !missing.is_empty() {
        return Err(Failure::new(
            Exit::Refused,
            format!(
                "refused to pack {}: {} requests less than the component imports:\n  {}",
                component.display(),
                manifest_path.display(),
                missing.join("\n  ")
            ),
        ));
    }
    let bytes = std::fs::read(component)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", component.display())))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if sha256 != loaded.compiled.digest {
        return Err(Failure::usage(format!(
            "{} changed while it was being packed; try again",
            component.display()
        )));
    }
    manifest.publisher.key = None;
    manifest.component = Some(ComponentRef {
        sha256,
        size: bytes.len() as u64,
    });
    let mut package = Package {
        manifest_text: manifest.to_canonical(),
        manifest,
        signature: Vec::new(),
        component: bytes,
    };
    if let Some(secret) = &secret {
        package.sign(secret);
    }
    let out = out.unwrap_or_else(|| {
        PathBuf::from(format!(
            "{}-{}.airlock",
            package.manifest.name, package.manifest.version
        ))
    });
    package
        .write(&out)
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", out.display())))?;
    let m = &package.manifest;
    println!(
        "Packed {} {} into {} (component sha256 {}).",
        m.name,
        m.version,
        out.display(),
        m.component_sha256()
    );
    match package.signed_with() {
        Some(fp) => println!("Signed by publisher `{}` with key {fp}.", m.publisher.name),
        None => println!(
            "Not signed yet: sign it with `airlock plugin sign {} --key KEY.key`.",
            out.display()
        ),
    }
    Ok(Exit::Success)
}

fn sign(path: &Path, key: &Path) -> Result<Exit, Failure> {
    let secret = read_key(key)?;
    let mut package = Package::read(path).map_err(Failure::from)?;
    let found = hex::encode(Sha256::digest(&package.component));
    if found != package.manifest.component_sha256() {
        return Err(Failure::new(
            Exit::Refused,
            format!(
                "refused to sign {}: its component has sha256 {found}, but its manifest says {}; pack it again",
                path.display(),
                package.manifest.component_sha256()
            ),
        ));
    }
    if secret.publisher != package.manifest.publisher.name {
        return Err(Failure::usage(format!(
            "the key {} belongs to publisher `{}`, but the package names publisher `{}`",
            key.display(),
            secret.publisher,
            package.manifest.publisher.name
        )));
    }
    package.sign(&secret);
    package
        .write(path)
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
    println!(
        "Signed {} ({} {}) as publisher `{}` with key {}.",
        path.display(),
        package.manifest.name,
        package.manifest.version,
        secret.publisher,
        secret.public().fingerprint()
    );
    Ok(Exit::Success)
}

/// What the officer said on the command line about an install.
pub(super) struct Confirm {
    /// `--yes`: install without asking.
    pub(super) yes: bool,
    /// `--transfer-publisher`: the plugin may now come from another key.
    pub(super) transfer_publisher: bool,
}

/// Where a reviewed profile is read from again at each run: a file by its
/// absolute path, so that a run from another directory reads the same file.
fn pinned_source(source: &ProfileSource) -> Result<ProfileSource, Failure> {
    let absolute = |path: &Path| {
        path.canonicalize()
            .map_err(|e| Failure::usage(format!("cannot resolve profile {}: {e}", path.display())))
    };
    Ok(match source {
        ProfileSource::Builtin(name) => ProfileSource::Builtin(name.clone()),
        ProfileSource::Admin(path) => ProfileSource::Admin(absolute(path)?),
        ProfileSource::File(path) => ProfileSource::File(absolute(path)?),
    })
}

/// Ask on the terminal unless `--yes`; `Ok(false)` when the answer is no.
fn confirm(yes: bool, question: &str, what: &str) -> Result<bool, Failure> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(format!(
            "not {what}: confirmation is needed and stdin is not a terminal; review the above and pass --yes to go ahead"
        )));
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub(super) fn install(
    path: &Path,
    profile_name: &str,
    options: Confirm,
    home: &Path,
    config: Option<&Path>,
) -> Result<Exit, Failure> {
    let policy = admin_policy()?;
    let bytes = std::fs::read(path).map_err(|e| {
        Failure::usage(format!(
            "cannot read plugin package {}: {e}",
            path.display()
        ))
    })?;
    let package_sha256 = hex::encode(Sha256::digest(&bytes));
    // A revoked package is refused before anything else is asked of it.
    airlock_trust::admit::check_package(&policy, &package_sha256, &path.display().to_string())?;
    let package = Package::read(path).map_err(Failure::from)?;
    let trust = TrustStore::open(home);
    let signer = package.verify(path, &trust).map_err(Failure::from)?;
    check_publisher(&policy, &signer, &path.display().to_string())?;
    let store = PluginStore::open(home);
    let m = &package.manifest;
    let previous = store.other_publisher(&m.name, &signer.fingerprint);
    let already = store
        .check_upgrade(
            &package,
            &package_sha256,
            &signer,
            options.transfer_publisher,
        )
        .map_err(Failure::from)?;
    let profile = Profile::load(profile_name)?;
    let source = pinned_source(&profile.source)?;
    if let Some(installed) = &already {
        let r = &installed.record;
        if r.profile_source.as_ref() == Some(&source)
            && r.profile_sha256.as_deref() == Some(profile.digest.as_str())
        {
            println!(
                "{} {} is already installed from this package ({}), reviewed against {source} (sha256 {}).",
                installed.manifest.name,
                installed.manifest.version,
                installed.dir.display(),
                profile.digest
            );
            return Ok(Exit::Success);
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Package    {} (sha256 {package_sha256})",
        path.display()
    );
    let _ = writeln!(
        out,
        "Plugin     {} {}: {}",
        m.name,
        m.version,
        airlock_runtime::terminal::line(&m.description)
    );
    let _ = writeln!(
        out,
        "Publisher  {}, signed with key {} (trusted as `{}`)",
        signer.publisher, signer.fingerprint, signer.trusted_as
    );
    if let Some((key, trusted_as)) = &previous {
        let _ = writeln!(
            out,
            "Transfer   the installed {} is signed by another key, {key} (trusted as `{trusted_as}`); installing moves it to the key above",
            m.name
        );
    }
    let _ = writeln!(
        out,
        "Component  sha256 {}, {} bytes, airlock:skill@{}",
        m.component_sha256(),
        package.component.len(),
        m.wit_version
    );
    let _ = writeln!(out, "Profile    {source} (sha256 {})", profile.digest);
    let fillable = print_review(&mut out, &m.capabilities, &profile, &policy);
    drop(out);
    // A model role nothing maps would refuse every run: refuse the review
    // now, saying which key to write.
    if let Err(e) = fillable {
        return Err(Failure::new(Exit::Refused, format!("refused: {e}")));
    }
    if let Some(installed) = already {
        // The same package, reviewed against another profile (or one whose
        // text changed, or a record from before the review was pinned).
        let question = format!(
            "Record this review of {} {} (runs by name will use this profile)?",
            m.name, m.version
        );
        if !confirm(options.yes, &question, "reviewed")? {
            eprintln!("Not reviewed: the recorded review stays.");
            return Ok(Exit::Usage);
        }
        store
            .repin(&installed, &source, &profile.digest)
            .map_err(Failure::from)?;
        println!(
            "Reviewed {} {} against {source}; runs by name use it.",
            m.name, m.version
        );
        return Ok(Exit::Success);
    }
    let question = format!("Install {} {}?", m.name, m.version);
    if !confirm(options.yes, &question, "installed")? {
        eprintln!("Not installed.");
        return Ok(Exit::Usage);
    }
    if let Some((key, trusted_as)) = &previous {
        // Recorded before anything changes: a transfer that cannot be
        // audited does not happen.
        super::record_admin(
            Some(home),
            config,
            "plugin publisher transfer",
            serde_json::json!({
                "name": m.name,
                "version": m.version,
                "from-key": key,
                "from-trusted-as": trusted_as,
                "to-key": signer.fingerprint,
                "to-trusted-as": signer.trusted_as,
                "package-sha256": package_sha256,
            }),
        )?;
    }
    let installed = store
        .install(&package, &signer, &source, &profile.digest)
        .map_err(Failure::from)?;
    // Compile once into the authenticated cache, and refuse now what every
    // run would refuse.
    let checked = (|| {
        let airlock = start(Some(&home.to_path_buf()))?;
        let compiled = compile(&airlock, &installed.component_path())?;
        if compiled.digest != m.component_sha256() {
            return Err(Failure::new(
                Exit::Refused,
                "the installed component changed during install",
            ));
        }
        let imported = airlock_runtime::skill::imported(&compiled, airlock.engine());
        let missing = caps::missing(&m.capabilities, &imported);
        if !missing.is_empty() {
            return Err(Failure::new(
                Exit::Refused,
                format!(
                    "refused: {} requests less than its component imports:\n  {}",
                    path.display(),
                    missing.join("\n  ")
                ),
            ));
        }
        airlock.prepare(compiled)?;
        Ok(())
    })();
    if let Err(e) = checked {
        let _ = std::fs::remove_dir_all(&installed.dir);
        return Err(e);
    }
    store.prune_older(&m.name, &m.version);
    println!(
        "Installed {} {} into {}. Run it with `airlock run {} -w DIR`.",
        m.name,
        m.version,
        installed.dir.display(),
        m.name
    );
    Ok(Exit::Success)
}

fn list(json: bool, home: &Path) -> Result<Exit, Failure> {
    let store = PluginStore::open(home);
    let all = store.list();
    if json {
        let value: Vec<_> = all
            .iter()
            .map(|i| {
                serde_json::json!({
                    "name": i.manifest.name,
                    "version": i.manifest.version,
                    "publisher": i.manifest.publisher.name,
                    "key": i.record.fingerprint,
                    "package-sha256": i.record.package.sha256,
                    "profile": i.record.profile,
                    "profile-source": i.record.profile_source,
                    "profile-sha256": i.record.profile_sha256,
                })
            })
            .collect();
        println!("{}", to_json(&value)?);
        return Ok(Exit::Success);
    }
    if all.is_empty() {
        println!("No plugins installed. Install one with `airlock plugin install PACKAGE`.");
    }
    for i in &all {
        println!(
            "{:<20} {:<10} {:<14} {}  profile {}",
            i.manifest.name,
            i.manifest.version,
            i.manifest.publisher.name,
            i.record.fingerprint,
            i.record.profile
        );
    }
    Ok(Exit::Success)
}

fn show(name: &str, json: bool, home: &Path) -> Result<Exit, Failure> {
    let store = PluginStore::open(home);
    let installed = store.get(name).map_err(Failure::from)?;
    let policy = admin_policy()?;
    if json {
        let models = run_models_json(&installed, &policy);
        let value = serde_json::json!({
            "manifest": installed.manifest,
            "install": installed.record,
            "dir": installed.dir,
            "models": models,
        });
        println!("{}", to_json(&value)?);
        return Ok(Exit::Success);
    }
    let m = &installed.manifest;
    let r = &installed.record;
    println!(
        "{} {}: {}",
        m.name,
        m.version,
        airlock_runtime::terminal::line(&m.description)
    );
    println!(
        "publisher   {} (key {}, trusted as `{}` at install)",
        m.publisher.name, r.fingerprint, r.trusted_as
    );
    println!("package     sha256 {}", r.package.sha256);
    println!(
        "component   sha256 {}, {} bytes, airlock:skill@{}",
        r.component.sha256, r.component.len, m.wit_version
    );
    println!("installed   {}", installed.dir.display());
    println!(
        "profile     {} (runs by name use it unless --profile says otherwise)",
        r.profile
    );
    let reviewed = Reviewed::of(&installed);
    match reviewed.load() {
        Ok(profile) => {
            println!(
                "            sha256 {}, unchanged since the install review",
                profile.digest
            );
            let mut out = std::io::stdout().lock();
            if let Err(e) = print_review(&mut out, &m.capabilities, &profile, &policy) {
                let _ = writeln!(out, "Runs are REFUSED: {e}");
            }
        }
        Err(e) => println!("            NOT USABLE: {e}"),
    }
    Ok(Exit::Success)
}

fn verify(name: Option<&str>, home: &Path) -> Result<Exit, Failure> {
    let store = PluginStore::open(home);
    let trust = TrustStore::open(home);
    let policy = admin_policy()?;
    let all = match name {
        Some(name) => vec![store.get(name).map_err(Failure::from)?],
        None => store.list(),
    };
    let mut bad = 0;
    for installed in &all {
        let what = format!("{} {}", installed.manifest.name, installed.manifest.version);
        let result = store
            .check(installed, &trust, true)
            .map_err(Failure::from)
            .and_then(|signer| check_publisher(&policy, &signer, &what).map(|()| signer));
        match result {
            Ok(signer) => println!(
                "ok       {what} (signed by `{}`, {})",
                signer.trusted_as, signer.fingerprint
            ),
            Err(e) => {
                bad += 1;
                println!("REFUSED  {what}: {e}");
            }
        }
    }
    if all.is_empty() {
        println!("No plugins installed.");
    }
    Ok(if bad > 0 {
        Exit::Refused
    } else {
        Exit::Success
    })
}

fn remove(name: &str, home: &Path) -> Result<Exit, Failure> {
    let removed = PluginStore::open(home)
        .remove(name)
        .map_err(Failure::from)?;
    for installed in removed {
        println!(
            "Removed {} {}.",
            installed.manifest.name, installed.manifest.version
        );
    }
    Ok(Exit::Success)
}
