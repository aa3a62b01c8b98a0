//! Property tests of the two TOML parsers a user or a publisher feeds:
//! sandbox profiles (`Profile::parse`) and plugin manifests
//! (`Manifest::parse`).
//!
//! Documents start from real ones (the shipped profiles, the shipped
//! plugins' manifests, each with random keys left out) and are then broken
//! the ways people and attackers break them: a value of the wrong type, a
//! number out of range or too large for TOML, a bad path or glob or name, an
//! unknown or repeated key, a key left out, and broken syntax (a character
//! deleted or inserted, the text cut short), or replaced by random text.
//!
//! Properties: the parser never panics; every error starts with the file's
//! name and either gives `LINE:COLUMN` inside the document or names a key;
//! and when exactly one key's value was broken in a document that parsed
//! before, the error names that key.
//!
//! 10,000 cases in all by default (4,000 + 1,000 + 4,000 + 1,000);
//! `PROPTEST_CASES=N` runs N cases of each test instead (the soak run in
//! `docs/security.md`, "Property tests").

use airlock_runtime::Profile;
use airlock_runtime::profile::{BUILTIN_PROFILES, ProfileSource};
use airlock_trust::manifest::Manifest;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const PROFILE_ORIGIN: &str = "p.toml";
const MANIFEST_ORIGIN: &str = "m.toml";

/// `cases` unless `PROPTEST_CASES` says otherwise.
fn config(cases: u32) -> ProptestConfig {
    // `ProptestConfig::default()` reads PROPTEST_CASES and the other
    // PROPTEST_* variables; only the case count's default is ours.
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}

/// The shipped plugins' manifests, as authors write them, and one as
/// `airlock plugin pack` and `sign` complete it.
const MANIFESTS: &[&str] = &[
    include_str!("../../../../plugins/explain/manifest.toml"),
    include_str!("../../../../plugins/coder/manifest.toml"),
    include_str!("../../../../plugins/review/manifest.toml"),
    include_str!("../../../../plugins/repo-map/manifest.toml"),
    include_str!("../../../../plugins/secret-scan/manifest.toml"),
    "name = \"hello\"\nversion = \"0.1.0\"\ndescription = \"d\"\nwit-version = \"0.1.0\"\n\n[publisher]\nname = \"acme\"\nkey = \"SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n\n[capabilities]\nworkspace-read = [\"src\"]\nworkspace-write = [\"out\"]\nmodels = [\"smollm2\"]\ncommands = [\"cargo\"]\n\n[capabilities.limits]\nwall-clock-seconds = 60\nmemory-mib = 128\n\n[component]\nsha256 = \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\nsize = 1024\n",
];

// ---------------------------------------------------------------------------
// A document: sections of `key = value` lines, rendered back to TOML.

/// One TOML value as the generator writes it.
#[derive(Debug, Clone)]
enum V {
    /// A string, written with TOML escapes.
    Str(String),
    /// An integer, possibly beyond what TOML allows (i64).
    Int(i128),
    Float(f64),
    Bool(bool),
    Array(Vec<V>),
    /// `{ k = v, ... }`.
    Inline(Vec<(String, V)>),
    /// Written as is: valid TOML the other variants do not write (dates,
    /// hex, `1_000`, `inf`).
    Raw(String),
    /// Written as is: not valid TOML (`"unterminated`, `[1, 2`, `yes`).
    Broken(String),
}

impl V {
    fn render(&self) -> String {
        match self {
            Self::Str(s) => toml::Value::String(s.clone()).to_string(),
            Self::Int(i) => i.to_string(),
            Self::Float(f) => format!("{f:?}"),
            Self::Bool(b) => b.to_string(),
            Self::Array(items) => {
                let items: Vec<String> = items.iter().map(V::render).collect();
                format!("[{}]", items.join(", "))
            }
            Self::Inline(pairs) => {
                let pairs: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| format!("{} = {}", key(k), v.render()))
                    .collect();
                format!("{{ {} }}", pairs.join(", "))
            }
            Self::Raw(s) | Self::Broken(s) => s.clone(),
        }
    }

    /// Whether the value is valid TOML (so an error is about the key's value,
    /// not the syntax).
    fn is_valid(&self) -> bool {
        match self {
            Self::Broken(_) => false,
            Self::Array(items) => items.iter().all(V::is_valid),
            Self::Inline(pairs) => pairs.iter().all(|(_, v)| v.is_valid()),
            _ => true,
        }
    }

    fn from_toml(value: &toml::Value) -> Self {
        match value {
            toml::Value::String(s) => Self::Str(s.clone()),
            toml::Value::Integer(i) => Self::Int(i128::from(*i)),
            toml::Value::Float(f) => Self::Float(*f),
            toml::Value::Boolean(b) => Self::Bool(*b),
            toml::Value::Datetime(d) => Self::Raw(d.to_string()),
            toml::Value::Array(items) => Self::Array(items.iter().map(V::from_toml).collect()),
            toml::Value::Table(t) => Self::Inline(
                t.iter()
                    .map(|(k, v)| (k.clone(), V::from_toml(v)))
                    .collect(),
            ),
        }
    }
}

/// A key, bare when TOML allows it, quoted otherwise.
fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if bare {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Header {
    Root,
    Table(String),
    ArrayTable(String),
}

#[derive(Debug, Clone)]
struct Section {
    header: Header,
    entries: Vec<(String, V)>,
}

#[derive(Debug, Clone)]
struct Doc {
    sections: Vec<Section>,
}

impl Doc {
    /// A parsed TOML table as sections: plain values of a table first, then
    /// its sub-tables (`[a.b]`) and arrays of tables (`[[a]]`).
    fn from_text(text: &str) -> Self {
        let table: toml::Table = toml::from_str(text).expect("a shipped document parses");
        let mut sections = Vec::new();
        push_table(&mut sections, Header::Root, "", &table);
        Self { sections }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for section in &self.sections {
            match &section.header {
                Header::Root => {}
                Header::Table(name) => out.push_str(&format!("\n[{name}]\n")),
                Header::ArrayTable(name) => out.push_str(&format!("\n[[{name}]]\n")),
            }
            for (k, v) in &section.entries {
                out.push_str(&format!("{} = {}\n", key(k), v.render()));
            }
        }
        out
    }

    /// Every (section, entry) index.
    fn slots(&self) -> Vec<(usize, usize)> {
        self.sections
            .iter()
            .enumerate()
            .flat_map(|(s, sec)| (0..sec.entries.len()).map(move |e| (s, e)))
            .collect()
    }
}

fn push_table(sections: &mut Vec<Section>, header: Header, path: &str, table: &toml::Table) {
    let join = |k: &str| {
        if path.is_empty() {
            key(k)
        } else {
            format!("{path}.{}", key(k))
        }
    };
    let mut entries = Vec::new();
    let mut nested: Vec<(String, &toml::Value)> = Vec::new();
    for (k, v) in table {
        match v {
            toml::Value::Table(_) => nested.push((k.clone(), v)),
            toml::Value::Array(items)
                if !items.is_empty() && items.iter().all(toml::Value::is_table) =>
            {
                nested.push((k.clone(), v));
            }
            _ => entries.push((k.clone(), V::from_toml(v))),
        }
    }
    sections.push(Section { header, entries });
    for (k, v) in nested {
        match v {
            toml::Value::Table(t) => push_table(sections, Header::Table(join(&k)), &join(&k), t),
            toml::Value::Array(items) => {
                for t in items.iter().filter_map(toml::Value::as_table) {
                    push_table(sections, Header::ArrayTable(join(&k)), &join(&k), t);
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Mutations.

/// What is done to a document.
#[derive(Debug, Clone)]
enum Mutation {
    /// Nothing more than the entries left out.
    Drop,
    /// Replace one entry's value.
    Value(usize, V),
    /// Add `key = value` to one section.
    Insert(usize, String, V),
    /// Repeat one entry in its section.
    Repeat(usize),
    /// Delete one character of the rendered text.
    DeleteChar(usize),
    /// Insert a character into the rendered text.
    InsertChar(usize, char),
    /// Cut the rendered text short.
    Truncate(usize),
}

/// Strings that are near misses for paths, globs, names, versions, modes,
/// fingerprints and hashes.
const TRICKY: &[&str] = &[
    "",
    " ",
    ".",
    "..",
    "../up",
    "/etc/passwd",
    "a/../../b",
    "src/",
    "./src",
    "src//x",
    ".git",
    ".env",
    "secrets/**",
    "[",
    "**/[a",
    "{a,b",
    "a\\",
    "\u{0}",
    "\u{202e}txt",
    "é",
    "-x",
    "x y",
    "/bin/sh",
    "1.x",
    "0.1",
    "1.0.0-",
    "0.2.0",
    "999.0.0",
    "ask",
    "allow",
    "deny",
    "maybe",
    "read",
    "read-write",
    "write",
    "withhold",
    "SHA256:",
    "SHA256:XYZ",
    "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
    "smollm2",
    "Smol LM",
    "cargo",
];

/// Keys that are not in either schema.
const UNKNOWN_KEYS: &[&str] = &[
    "network",
    "bogus-key",
    "grants",
    "mode ",
    "max_calls",
    "allow",
    "κλειδί",
    "",
];

fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(TRICKY).prop_map(str::to_string),
        1 => "\\PC{0,12}",
        1 => prop::collection::vec(prop::sample::select(TRICKY), 1..3).prop_map(|p| p.join("/")),
    ]
}

fn number() -> impl Strategy<Value = i128> {
    prop_oneof![
        prop::sample::select(vec![
            0i128,
            1,
            -1,
            7,
            1024,
            3600,
            3601,
            65_536,
            i128::from(u32::MAX),
            (1 << 53) + 1,
            i128::from(i64::MAX),
            i128::from(i64::MAX) + 1,
            i128::from(u64::MAX),
            i128::from(i64::MIN),
        ]),
        any::<i64>().prop_map(i128::from),
    ]
}

/// A value of any type: the wrong one for most keys.
fn value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        4 => tricky_string().prop_map(V::Str),
        4 => number().prop_map(V::Int),
        1 => any::<bool>().prop_map(V::Bool),
        1 => prop::sample::select(vec![1.5f64, -0.0, 1e300, f64::NAN, f64::INFINITY]).prop_map(V::Float),
        1 => prop::sample::select(vec![
            "1979-05-27T07:32:00Z", "1979-05-27", "07:32:00", "0x1F", "1_000", "+5", "inf",
        ])
        .prop_map(|s| V::Raw(s.to_string())),
        1 => prop::sample::select(vec!["yes", "\"unterminated", "[1, 2", "{ a = }", "1979-13-45", "0x", ""])
            .prop_map(|s| V::Broken(s.to_string())),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(V::Array),
            prop::collection::vec(
                (
                    prop::sample::select(UNKNOWN_KEYS).prop_map(str::to_string),
                    inner
                ),
                0..3
            )
            .prop_map(V::Inline),
        ]
    })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => value().prop_map(|v| Mutation::Value(0, v)).prop_flat_map(|m| (any::<usize>(), Just(m)).prop_map(|(i, m)| match m {
            Mutation::Value(_, v) => Mutation::Value(i, v),
            other => other,
        })),
        1 => (any::<usize>(), prop::sample::select(UNKNOWN_KEYS).prop_map(str::to_string), value())
            .prop_map(|(s, k, v)| Mutation::Insert(s, k, v)),
        1 => any::<usize>().prop_map(Mutation::Repeat),
        1 => any::<usize>().prop_map(Mutation::DeleteChar),
        1 => (any::<usize>(), prop::sample::select(vec!['"', '\'', '[', ']', '{', '}', '=', '\n', '#', ',', '.', '\\', '\u{0}', 'é', ' ']))
            .prop_map(|(at, c)| Mutation::InsertChar(at, c)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// A mutated document: its text, and the key whose value alone was broken
/// (when exactly one was, and the rest is intact).
struct Mutated {
    text: String,
    key: Option<String>,
}

fn apply(base: &str, drop: u64, mutation: &Mutation) -> Mutated {
    let mut doc = Doc::from_text(base);
    // Leave out some entries (a document need not set every key).
    let mut bit = 0;
    for section in &mut doc.sections {
        section.entries.retain(|_| {
            bit += 1;
            drop & (1 << (bit % 64)) == 0
        });
    }
    let slots = doc.slots();
    let n_sections = doc.sections.len();
    let mut key = None;
    let text = match mutation {
        Mutation::Drop => doc.render(),
        Mutation::Value(i, v) if !slots.is_empty() => {
            let (s, e) = slots[i % slots.len()];
            let entry = &mut doc.sections[s].entries[e];
            entry.1 = v.clone();
            key = v.is_valid().then(|| entry.0.clone());
            doc.render()
        }
        Mutation::Insert(s, k, v) => {
            let section = &mut doc.sections[s % n_sections];
            // Under [commands.programs] any bare name is a program.
            let programs = section.header == Header::Table("commands.programs".into());
            if !programs && v.is_valid() && !section.entries.iter().any(|(have, _)| have == k) {
                key = Some(k.clone());
            }
            section.entries.push((k.clone(), v.clone()));
            doc.render()
        }
        Mutation::Repeat(i) if !slots.is_empty() => {
            let (s, e) = slots[i % slots.len()];
            let entry = doc.sections[s].entries[e].clone();
            key = Some(entry.0.clone());
            doc.sections[s].entries.push(entry);
            doc.render()
        }
        Mutation::DeleteChar(at) => {
            let mut text = doc.render();
            let chars: Vec<(usize, char)> = text.char_indices().collect();
            if !chars.is_empty() {
                let (i, _) = chars[at % chars.len()];
                text.remove(i);
            }
            text
        }
        Mutation::InsertChar(at, c) => {
            let mut text = doc.render();
            let bounds: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            text.insert(bounds[at % bounds.len()], *c);
            text
        }
        Mutation::Truncate(at) => {
            let text = doc.render();
            let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            match bounds.get(at % bounds.len().max(1)) {
                Some(&cut) => text[..cut].to_string(),
                None => text,
            }
        }
        Mutation::Value(..) | Mutation::Repeat(_) => doc.render(),
    };
    Mutated { text, key }
}

// ---------------------------------------------------------------------------
// The properties of an error.

/// `ORIGIN:LINE:COLUMN: ` at the start of `message`, as numbers.
fn position(origin: &str, message: &str) -> Option<(usize, usize)> {
    let rest = message.strip_prefix(origin)?.strip_prefix(':')?;
    let (line, rest) = rest.split_once(':')?;
    let (column, rest) = rest.split_once(':')?;
    rest.starts_with(' ').then_some(())?;
    Some((line.parse().ok()?, column.parse().ok()?))
}

/// Keys of both schemas (leaf names and paths as errors write them).
const KEYS: &[&str] = &[
    "name",
    "description",
    "grant",
    "path",
    "access",
    "limits",
    "inference",
    "models",
    "deny",
    "edits",
    "mode",
    "commands",
    "programs",
    "scratch",
    "hard-links",
    "version",
    "wit-version",
    "publisher",
    "key",
    "capabilities",
    "workspace-read",
    "workspace-write",
    "component",
    "sha256",
    "size",
];

/// Whether `message` (without its location) starts by naming a key:
/// `key:`, `key =`, `key[`, `a.b.key …`, or quotes it as toml does.
fn names_a_key(message: &str) -> bool {
    let head: String = message
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '[' | ']'))
        .collect();
    let leading = head
        .split(['.', '['])
        .next()
        .is_some_and(|first| KEYS.contains(&first));
    leading || message.contains("field `")
}

/// Every error names its file, then `LINE:COLUMN` inside the text or a key;
/// when one key alone was broken, the error names it.
fn check_error(
    origin: &str,
    text: &str,
    message: &str,
    broken: Option<&str>,
) -> Result<(), TestCaseError> {
    prop_assert!(
        message.starts_with(origin),
        "the error does not name the file: {message}\n--- document ---\n{text}"
    );
    prop_assert!(!message.contains('\n'), "a multi-line error: {message}");
    match position(origin, message) {
        Some((line, column)) => {
            let lines = text.split('\n').count();
            prop_assert!(
                (1..=lines).contains(&line) && column >= 1,
                "line {line} column {column} is outside the {lines}-line document: {message}\n--- document ---\n{text}"
            );
        }
        None => {
            let rest = message
                .strip_prefix(origin)
                .and_then(|r| r.strip_prefix(": "))
                .unwrap_or_default();
            prop_assert!(
                names_a_key(rest),
                "the error gives neither LINE:COLUMN nor a key: {message}\n--- document ---\n{text}"
            );
        }
    }
    if let Some(key) = broken {
        prop_assert!(
            message.contains(key),
            "`{key}` alone was broken, but the error does not name it: {message}\n--- document ---\n{text}"
        );
    }
    Ok(())
}

fn parse_profile(text: &str) -> Result<(), String> {
    Profile::parse(text, ProfileSource::File(PROFILE_ORIGIN.into()))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn parse_manifest(text: &str) -> Result<(), String> {
    Manifest::parse(text, MANIFEST_ORIGIN)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Parse the base (after the same drops) and the mutated text; check the
/// error. A broken key is only expected to be named when the base parsed.
fn check_mutated(
    origin: &str,
    parse: fn(&str) -> Result<(), String>,
    base: &str,
    drop: u64,
    mutation: &Mutation,
) -> Result<(), TestCaseError> {
    // Parsing a profile compiles its deny-list: remember each base's result.
    thread_local! {
        static BASE_OK: std::cell::RefCell<std::collections::HashMap<(usize, u64), bool>> =
            std::cell::RefCell::default();
    }
    let id = (base.as_ptr() as usize, drop);
    let base_ok = BASE_OK.with(|cache| {
        *cache
            .borrow_mut()
            .entry(id)
            .or_insert_with(|| parse(&apply(base, drop, &Mutation::Drop).text).is_ok())
    });
    let mutated = apply(base, drop, mutation);
    if let Err(message) = parse(&mutated.text) {
        let broken = mutated.key.as_deref().filter(|_| base_ok);
        check_error(origin, &mutated.text, &message, broken)?;
    }
    Ok(())
}

fn builtin_profile() -> impl Strategy<Value = &'static str> {
    prop::sample::select(
        BUILTIN_PROFILES
            .iter()
            .map(|(_, text)| *text)
            .collect::<Vec<_>>(),
    )
}

fn shipped_manifest() -> impl Strategy<Value = &'static str> {
    prop::sample::select(MANIFESTS.to_vec())
}

/// Mostly a few entries left out, sometimes many.
fn drops() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => Just(0u64),
        2 => (0u32..64).prop_map(|b| 1u64 << b),
        1 => any::<u64>(),
    ]
}

proptest! {
    #![proptest_config(config(4_000))]

    /// Shipped profiles, with keys left out and one thing broken.
    #[test]
    fn profile_errors_name_the_key_or_the_position(
        base in builtin_profile(),
        drop in drops(),
        mutation in mutation(),
    ) {
        check_mutated(PROFILE_ORIGIN, parse_profile, base, drop, &mutation)?;
    }

    /// Shipped manifests, with keys left out and one thing broken.
    #[test]
    fn manifest_errors_name_the_key_or_the_position(
        base in shipped_manifest(),
        drop in drops(),
        mutation in mutation(),
    ) {
        check_mutated(MANIFEST_ORIGIN, parse_manifest, base, drop, &mutation)?;
    }
}

proptest! {
    #![proptest_config(config(1_000))]

    /// Random text, and random lines appended to a real profile.
    #[test]
    fn random_profile_text_never_panics(
        text in prop_oneof![
            "\\PC{0,200}",
            (builtin_profile(), "[a-z\\-\\[\\]=\" .0-9\n]{0,80}").prop_map(|(b, tail)| format!("{b}{tail}")),
        ],
    ) {
        if let Err(message) = parse_profile(&text) {
            check_error(PROFILE_ORIGIN, &text, &message, None)?;
        }
    }

    /// Random text, and random lines appended to a real manifest.
    #[test]
    fn random_manifest_text_never_panics(
        text in prop_oneof![
            "\\PC{0,200}",
            (shipped_manifest(), "[a-z\\-\\[\\]=\" .0-9\n]{0,80}").prop_map(|(b, tail)| format!("{b}{tail}")),
        ],
    ) {
        if let Err(message) = parse_manifest(&text) {
            check_error(MANIFEST_ORIGIN, &text, &message, None)?;
        }
    }
}

/// The generator's bases are valid documents, so a broken key is checked
/// against a document that parsed before.
#[test]
fn shipped_documents_round_trip_through_the_generator() {
    for (name, text) in BUILTIN_PROFILES {
        let rendered = Doc::from_text(text).render();
        assert!(
            parse_profile(&rendered).is_ok(),
            "{name}: {:?}\n{rendered}",
            parse_profile(&rendered)
        );
    }
    for text in MANIFESTS {
        let rendered = Doc::from_text(text).render();
        assert!(
            parse_manifest(&rendered).is_ok(),
            "{:?}\n{rendered}",
            parse_manifest(&rendered)
        );
    }
}
