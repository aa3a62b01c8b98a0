//! `airlock model add|pin|list|show|verify|remove`.

use super::{runtime, to_json};
use crate::cli::ModelCommand;
use crate::exit::{Exit, Failure};
use airlock_runtime::inference::endpoint::Endpoint;
use airlock_runtime::inference::ollama::OllamaBackend;
use airlock_runtime::models::{
    AddOutcome, Added, LockedModel, LockedSource, ModelError, ModelStore, VerifyStatus,
};
use airlock_session::config::{BackendKind, Config};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Ollama's own default address, used by `pin` when the configuration does
/// not name an Ollama endpoint.
const OLLAMA_DEFAULT: &str = "http://127.0.0.1:11434";

/// String metadata values longer than this are cut in `show`'s text output.
const SHOWN_VALUE: usize = 120;

pub fn model(
    cmd: ModelCommand,
    home: Option<PathBuf>,
    config: Option<PathBuf>,
) -> Result<Exit, Failure> {
    let home = home.ok_or_else(|| {
        Failure::usage("no Airlock home directory: set AIRLOCK_HOME or HOME, or pass --home DIR")
    })?;
    let store = ModelStore::open(&home);
    match cmd {
        ModelCommand::Add {
            file,
            name,
            replace,
            json,
        } => add(&store, &file, name.as_deref(), replace, json),
        ModelCommand::Pin {
            name,
            ollama,
            replace,
            json,
        } => pin(&store, config.as_deref(), &name, &ollama, replace, json),
        ModelCommand::List { json } => list(&store, json),
        ModelCommand::Show { name, json } => show(&store, &name, json),
        ModelCommand::Verify { name, json } => verify(&store, name.as_deref(), json),
        ModelCommand::Remove { name } => remove(&store, &name),
    }
}

/// The exit code for a model error: a drifted or missing file is what a run
/// refuses (3); the environment failing under Airlock is 70; the rest are
/// the user's to fix (2).
fn failure(e: ModelError) -> Failure {
    let code = match &e {
        ModelError::Drift { .. } | ModelError::Missing { .. } | ModelError::NotRegular { .. } => {
            Exit::Refused
        }
        ModelError::Io { action, .. } if *action != "cannot read" => Exit::Internal,
        ModelError::Engine(_) => Exit::Internal,
        _ => Exit::Usage,
    };
    Failure::new(code, e.to_string())
}

pub(super) fn add(
    store: &ModelStore,
    file: &Path,
    name: Option<&str>,
    replace: bool,
    json: bool,
) -> Result<Exit, Failure> {
    let started = Instant::now();
    let bar = Progress::new(format!(
        "copying {}",
        file.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let added = store.add(file, name, replace, &|done, total| bar.update(done, total));
    bar.finish();
    let added = added.map_err(failure)?;
    if json {
        println!("{}", to_json(&added)?);
        return Ok(Exit::Success);
    }
    let Added { model, outcome } = &added;
    let size = match &model.source {
        LockedSource::Gguf { size, .. } => *size,
        LockedSource::Ollama { .. } => 0,
    };
    if !bar.is_tty() {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "copied {} in {secs:.1} s ({}/s)",
            human(size),
            human((size as f64 / secs.max(0.001)) as u64)
        );
    }
    match outcome {
        AddOutcome::AlreadyPresent => println!(
            "`{}` is already in the store with this content ({}); nothing changed",
            model.name, model.digest
        ),
        AddOutcome::Added => println!("added `{}`: {}, {}", model.name, human(size), model.digest),
        AddOutcome::Replaced { previous } => println!(
            "replaced `{}` (was {previous}): {}, {}",
            model.name,
            human(size),
            model.digest
        ),
    }
    if let Some(path) = store.path_of(model) {
        println!("  stored as {} (read-only)", path.display());
    }
    println!("  pinned in {}", store.lock_path().display());
    Ok(Exit::Success)
}

fn pin(
    store: &ModelStore,
    config: Option<&Path>,
    name: &str,
    ollama_model: &str,
    replace: bool,
    json: bool,
) -> Result<Exit, Failure> {
    airlock_runtime::models::check_name(name).map_err(|e| Failure::usage(e.to_string()))?;
    let config = Config::load(config).map_err(|e| Failure::usage(e.to_string()))?;
    let (endpoint, timeouts) = match (config.engine.backend, &config.engine.endpoint) {
        (BackendKind::Ollama, Some(endpoint)) => (endpoint.clone(), config.engine.timeouts),
        _ => (
            Endpoint::parse(OLLAMA_DEFAULT)
                .map_err(|e| Failure::new(Exit::Internal, e.to_string()))?,
            config.engine.timeouts,
        ),
    };
    // The digest pinned is the one the server reports: only ask a server
    // run by the user the configuration and the admin policy name.
    let policy = super::policy::load()?;
    let owner = airlock_runtime::inference::resolve::server_owner(&config, &policy)
        .map_err(|e| Failure::new(Exit::Refused, e.to_string()))?;
    let ollama = OllamaBackend::new(endpoint.clone(), timeouts)
        .map_err(|e| Failure::usage(e.to_string()))?
        .with_server_owner(owner);
    let tags = runtime()?.block_on(ollama.tags()).map_err(|e| {
        let code = match e {
            airlock_runtime::inference::EngineError::UntrustedServer(_) => Exit::Refused,
            _ => Exit::Usage,
        };
        Failure::new(
            code,
            format!("cannot ask Ollama at {endpoint} for {ollama_model}'s digest: {e}"),
        )
    })?;
    let wanted = |have: &str| {
        have == ollama_model
            || (!ollama_model.contains(':') && have.strip_suffix(":latest") == Some(ollama_model))
    };
    let Some((found, digest)) = tags.iter().find(|(have, _)| wanted(have)) else {
        let have: Vec<&str> = tags.iter().map(|(n, _)| n.as_str()).collect();
        return Err(Failure::usage(format!(
            "Ollama at {endpoint} does not have `{ollama_model}`; it has: {}. Pull it into Ollama first (`ollama pull {ollama_model}` where a network is allowed, then copy Ollama's models folder)",
            if have.is_empty() {
                "no models".to_string()
            } else {
                have.join(", ")
            }
        )));
    };
    let added = store
        .pin_ollama(name, found, digest, replace)
        .map_err(failure)?;
    if json {
        println!("{}", to_json(&added)?);
        return Ok(Exit::Success);
    }
    match &added.outcome {
        AddOutcome::AlreadyPresent => {
            println!("`{name}` is already pinned to Ollama's {found} ({digest}); nothing changed")
        }
        AddOutcome::Added => println!("pinned `{name}` to Ollama's {found}: {digest}"),
        AddOutcome::Replaced { previous } => {
            println!("re-pinned `{name}` (was {previous}) to Ollama's {found}: {digest}")
        }
    }
    println!("  pinned in {}", store.lock_path().display());
    if config.engine.backend != BackendKind::Ollama {
        eprintln!(
            "note: the configured engine is `{}`; runs use this model only with engine.backend = \"ollama\" ({})",
            config.engine.backend,
            config.describe_source()
        );
    }
    Ok(Exit::Success)
}

fn list(store: &ModelStore, json: bool) -> Result<Exit, Failure> {
    let models = store.list().map_err(failure)?;
    if json {
        let values = models
            .iter()
            .map(|m| {
                let mut v = serde_json::to_value(m)
                    .map_err(|e| Failure::new(Exit::Internal, e.to_string()))?;
                if let (Some(obj), Some(path)) = (v.as_object_mut(), store.path_of(m)) {
                    obj.insert("path".into(), path.display().to_string().into());
                }
                Ok(v)
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        println!("{}", to_json(&values)?);
        return Ok(Exit::Success);
    }
    if models.is_empty() {
        eprintln!(
            "no models pinned in {}; add a GGUF file with `airlock model add FILE` (nothing is downloaded)",
            store.lock_path().display()
        );
        return Ok(Exit::Success);
    }
    let width = models
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "{:<width$}  {:<6}  {:>10}  {:<10}  SHA256",
        "NAME", "KIND", "SIZE", "ADDED"
    );
    for m in &models {
        let (size, extra) = match &m.source {
            LockedSource::Gguf { size, .. } => (human(*size), String::new()),
            LockedSource::Ollama { ollama_model } => ("-".into(), format!("  ({ollama_model})")),
        };
        println!(
            "{:<width$}  {:<6}  {:>10}  {:<10}  {}{extra}",
            m.name,
            m.kind(),
            size,
            date(m.added),
            m.hex()
        );
    }
    Ok(Exit::Success)
}

fn show(store: &ModelStore, name: &str, json: bool) -> Result<Exit, Failure> {
    let model = store.get(name).map_err(failure)?;
    if let LockedSource::Ollama { ollama_model } = &model.source {
        if json {
            println!("{}", to_json(&model)?);
            return Ok(Exit::Success);
        }
        print_entry(store, &model);
        println!("ollama model  {ollama_model}");
        println!("(Ollama keeps this model's file; `ollama show {ollama_model}` describes it)");
        return Ok(Exit::Success);
    }
    let info = store.metadata(name).map_err(failure)?;
    if json {
        let mut v =
            serde_json::to_value(&info).map_err(|e| Failure::new(Exit::Internal, e.to_string()))?;
        if let Some(obj) = v.as_object_mut() {
            let metadata: serde_json::Map<String, serde_json::Value> = info
                .metadata
                .iter()
                .map(|(k, v)| Ok((k.clone(), serde_json::to_value(v)?)))
                .collect::<Result<_, serde_json::Error>>()
                .map_err(|e| Failure::new(Exit::Internal, e.to_string()))?;
            obj.insert("metadata".into(), metadata.into());
        }
        println!("{}", to_json(&v)?);
        return Ok(Exit::Success);
    }
    print_entry(store, &info.model);
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not stated)".into());
    println!("architecture  {}", or_unknown(&info.architecture));
    println!(
        "parameters    {} ({})",
        short_count(info.parameters),
        info.parameters
    );
    println!("quantization  {}", or_unknown(&info.quantization));
    println!(
        "context       {}",
        info.context_length.map_or_else(
            || "(not stated)".into(),
            |n| format!("{n} tokens (trained)")
        )
    );
    println!("license       {}", or_unknown(&info.license));
    println!(
        "gguf          version {}, {} tensors",
        info.gguf_version, info.tensors
    );
    match &info.chat_template {
        Some(template) => {
            println!("chat template:");
            for line in template.lines() {
                println!("  {line}");
            }
        }
        None => println!("chat template (none: the engine uses a generic one)"),
    }
    println!("metadata ({} keys):", info.metadata.len());
    let width = info
        .metadata
        .iter()
        .map(|(k, _)| k.len())
        .max()
        .unwrap_or(0);
    for (key, value) in &info.metadata {
        let shown = match value {
            _ if key == "tokenizer.chat_template" => "(shown above)".to_string(),
            airlock_runtime::models::gguf::Value::Str(s) => one_line(s),
            other => other.to_string(),
        };
        println!("  {key:<width$}  {shown}");
    }
    Ok(Exit::Success)
}

fn print_entry(store: &ModelStore, model: &LockedModel) {
    println!("model         {}", model.name);
    println!("kind          {}", model.kind());
    println!("sha256        {}", model.hex());
    if let LockedSource::Gguf { size, .. } = &model.source {
        println!("size          {} ({size} bytes)", human(*size));
    }
    if let Some(path) = store.path_of(model) {
        println!("file          {}", path.display());
    }
    println!("added         {}", date(model.added));
}

fn verify(store: &ModelStore, name: Option<&str>, json: bool) -> Result<Exit, Failure> {
    let bar = Progress::new(String::new());
    let results = store.verify(name, &|model, done, total| {
        bar.set_message(format!("hashing {model}"));
        bar.update(done, total);
    });
    bar.finish();
    let results = results.map_err(failure)?;
    let failed = results.iter().filter(|r| r.status.is_failure()).count();
    if json {
        println!("{}", to_json(&results)?);
    } else {
        if results.is_empty() {
            eprintln!(
                "no models pinned in {}; nothing to verify",
                store.lock_path().display()
            );
        }
        let width = results.iter().map(|r| r.name.len()).max().unwrap_or(0);
        for r in &results {
            let n = &r.name;
            match &r.status {
                VerifyStatus::Ok { digest } => println!("ok           {n:<width$}  {digest}"),
                VerifyStatus::Drifted {
                    pinned,
                    found,
                    path,
                } => {
                    println!("DRIFTED      {n:<width$}  {}", path.display());
                    println!("  pinned in the lock:  {pinned}");
                    println!("  stored file now has: {found}");
                }
                VerifyStatus::Missing { path } => {
                    println!(
                        "MISSING      {n:<width$}  {} (gone, or not a regular file)",
                        path.display()
                    );
                }
                VerifyStatus::Unreadable { path, error } => {
                    println!("UNREADABLE   {n:<width$}  {}: {error}", path.display());
                }
                VerifyStatus::NotChecked { reason } => {
                    println!("not checked  {n:<width$}  {reason}");
                }
                // Only the quick check (`airlock doctor`) reports these.
                VerifyStatus::Unchanged { .. }
                | VerifyStatus::SizeDiffers { .. }
                | VerifyStatus::Changed { .. } => {
                    println!("{n}: {}", r.status.describe());
                }
            }
        }
    }
    if failed > 0 {
        return Err(Failure::new(
            Exit::Refused,
            format!(
                "{failed} of {} model(s) failed verification, and runs will refuse them; restore each from a trusted copy (`airlock model add COPY --name NAME`) or remove it (`airlock model remove NAME`)",
                results.len()
            ),
        ));
    }
    Ok(Exit::Success)
}

fn remove(store: &ModelStore, name: &str) -> Result<Exit, Failure> {
    let removed = store.remove(name).map_err(failure)?;
    println!(
        "removed `{}` ({})",
        removed.model.name, removed.model.digest
    );
    match (&removed.deleted_file, store.path_of(&removed.model)) {
        (Some(path), _) => println!("  deleted {}", path.display()),
        (None, Some(path)) if path.exists() => {
            println!("  kept {} (another name pins it)", path.display())
        }
        _ => {}
    }
    Ok(Exit::Success)
}

/// A byte progress bar on a terminal; nothing otherwise. Drawn from the
/// first update, so checks before the copy show nothing.
pub(super) struct Progress {
    bar: ProgressBar,
    tty: bool,
    message: String,
}

impl Progress {
    pub(super) fn new(message: String) -> Self {
        Self {
            bar: ProgressBar::hidden(),
            tty: std::io::stderr().is_terminal(),
            message,
        }
    }

    fn is_tty(&self) -> bool {
        self.tty
    }

    pub(super) fn set_message(&self, message: String) {
        if self.tty {
            self.bar.set_message(message);
        }
    }

    pub(super) fn update(&self, done: u64, total: u64) {
        if !self.tty {
            return;
        }
        if self.bar.is_hidden() {
            self.bar.set_length(total);
            self.bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:25}] {bytes}/{total_bytes} {binary_bytes_per_sec}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            if !self.message.is_empty() {
                self.bar.set_message(self.message.clone());
            }
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        if self.bar.length() != Some(total) {
            self.bar.set_length(total);
            self.bar.reset();
        }
        self.bar.set_position(done);
    }

    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Bytes for people: `93.8 MiB`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A parameter count for people: `134.5M`, `7.2B`.
fn short_count(n: u64) -> String {
    match n {
        0..1_000_000 => n.to_string(),
        1_000_000..1_000_000_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{:.1}B", n as f64 / 1e9),
    }
}

/// A string metadata value on one line, cut when long.
fn one_line(s: &str) -> String {
    let flat: String = s.escape_debug().collect();
    if flat.chars().count() <= SHOWN_VALUE {
        return flat;
    }
    let cut: String = flat.chars().take(SHOWN_VALUE).collect();
    format!("{cut}… ({} bytes; --json shows it all)", s.len())
}

/// `YYYY-MM-DD` (UTC) for seconds since the epoch.
fn date(secs: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let days = (secs / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_sizes_counts() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_763_000_000), "2025-11-13");
        assert_eq!(human(98_362_432), "93.8 MiB");
        assert_eq!(human(512), "512 B");
        assert_eq!(short_count(134_515_008), "134.5M");
        assert_eq!(one_line("a\nb"), "a\\nb");
    }
}
