//! `airlock:skill/workspace`: the granted workspace, through cap-std.
//!
//! Every call resolves its path with [`Sandbox::resolve`] first; a refusal is
//! returned to the skill as a WIT error (never a trap) and recorded as a
//! denial for the user. Sizes and counts a skill controls are capped by the
//! constants below and by the profile's limits.

use crate::audit::schema::Access;
use crate::bindings::types::Error;
use crate::bindings::workspace_api::{
    self as api, Entry, EntryKind, Grant, Metadata, SearchMatch, SearchQuery, SearchResult,
};
use crate::journal::{Event, Journal};
use crate::profile::Limits;
use crate::sandbox::denylist::is_vcs_name;
use crate::sandbox::resolve::{Need, Refusal, Resolved, Sandbox};
use airlock_core::paths::RelPath;
use cap_std::fs::Dir;
use std::io::Read;
use wasmtime::component::HasData;

mod changes;
mod records;

use crate::approval::Change;
mod files;

/// The most bytes one `read-file` or `read-range` call returns. Larger files
/// are read in ranges, so one call cannot balloon the guest's memory.
pub const MAX_READ_PER_CALL: u64 = 16 * 1024 * 1024;
/// The most bytes one `write-file` call accepts.
pub const MAX_WRITE_PER_CALL: u64 = 16 * 1024 * 1024;
/// The longest search pattern accepted.
pub const MAX_PATTERN_BYTES: usize = 4096;
/// Compiled-regex size cap, so a pathological pattern cannot eat host memory.
pub const MAX_REGEX_BYTES: usize = 1024 * 1024;
/// The most matches one search returns.
pub const MAX_SEARCH_MATCHES: u32 = 10_000;
/// Files larger than this are skipped by `search` (read them in ranges instead).
pub const MAX_SEARCH_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// A matching line is cut to this many characters.
pub const MAX_MATCH_CHARS: usize = 400;
/// How deep `walk` descends; deeper trees are cut off with an error.
pub const MAX_WALK_DEPTH: usize = 64;

/// What the run has used so far.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Usage {
    /// Bytes read from files.
    pub bytes_read: u64,
    /// Bytes written to files.
    pub bytes_written: u64,
    /// Directory entries listed.
    pub files_listed: u64,
}

/// Per-run state of the workspace interface.
pub struct WorkspaceState {
    sandbox: Sandbox,
    limits: Limits,
    usage: Usage,
    deadline: airlock_core::clock::RunClock,
    edits: EditGate,
}

/// What decides file changes: the profile's `edits.mode`, the approval gate
/// (a person at the terminal), and the undo record that keeps prior contents.
pub struct EditGate {
    /// The profile's mode.
    pub mode: crate::profile::ApprovalMode,
    /// The run's gate.
    pub gate: crate::approval::Gate,
    /// Where prior contents are kept (`airlock undo`), when the run has one.
    pub undo: Option<crate::undo::UndoLog>,
    /// The skill, as the prompt names it.
    pub skill: String,
    /// Files that run code outside the sandbox later: a change to one
    /// always asks (the profile's `[edits] always-ask` and the admin's
    /// added to the built-in list).
    pub runs_later: crate::sandbox::runs_later::RunsLater,
}

impl WorkspaceState {
    /// Whether the run was cancelled from outside.
    pub(crate) fn cancelled(&self) -> bool {
        self.deadline.cancel().is_cancelled()
    }

    /// State for one run.
    pub fn new(
        sandbox: Sandbox,
        limits: Limits,
        deadline: airlock_core::clock::RunClock,
        edits: EditGate,
    ) -> Self {
        Self {
            sandbox,
            limits,
            usage: Usage::default(),
            deadline,
            edits,
        }
    }

    /// The run's approval gate (shared with the exec interface).
    pub(crate) fn gate_mut(&mut self) -> &mut crate::approval::Gate {
        &mut self.edits.gate
    }

    /// The run's sandbox (grants, deny-list).
    pub(crate) fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// What the run has used.
    pub fn usage(&self) -> Usage {
        self.usage
    }
}

/// The borrowed view the generated `Host` trait is implemented on.
pub struct WorkspaceView<'a> {
    /// Workspace state.
    pub state: &'a mut WorkspaceState,
    /// The run's journal, for denials and withheld files.
    pub journal: &'a mut Journal,
}

/// Marker for `add_to_linker`.
pub struct HasWorkspace;

impl HasData for HasWorkspace {
    type Data<'a> = WorkspaceView<'a>;
}

/// Add `airlock:skill/workspace` to a linker.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    view: fn(&mut T) -> WorkspaceView<'_>,
) -> wasmtime::Result<()> {
    api::add_to_linker::<T, HasWorkspace>(linker, view)
}

type HostResult<T> = wasmtime::Result<Result<T, Error>>;

impl WorkspaceView<'_> {
    fn refuse(&mut self, need: Need, raw: &str, refusal: Refusal) -> Error {
        match refusal {
            Refusal::Denied(reason) => {
                let path = display_raw(raw);
                self.journal.record(Event::Denied {
                    capability: need.capability().into(),
                    path: path.clone(),
                    reason: reason.clone(),
                });
                Error::denied(need.capability(), &path, reason)
            }
            Refusal::NotFound => Error::NotFound(display_raw(raw)),
            Refusal::Invalid(msg) => Error::InvalidInput(msg),
            Refusal::Io(msg) => Error::Io(msg),
        }
    }

    /// Record an access that happened (or failed for a reason other than a
    /// denial, which `refuse` records): batched, then trap if the audit
    /// log has failed. `detail` adds what the call returned to its
    /// `access` record.
    fn audited<T>(
        &mut self,
        op: &'static str,
        path: &str,
        result: &Result<T, Error>,
        detail: impl FnOnce(&T, Access) -> Access,
    ) -> wasmtime::Result<()> {
        if self.journal.audited() {
            let access = Access::new(op, display_raw(path), true);
            let access = match result {
                Ok(value) => detail(value, access),
                Err(Error::AccessDenied(_)) => return self.journal.audit_check(),
                Err(e) => records::failed(access, e),
            };
            self.journal.audit(&access, false);
        }
        self.journal.audit_check()
    }

    /// Before a change is made: record it durably, or refuse it when the
    /// audit log cannot be written (the caller then traps). `detail` adds
    /// what the change is to its `access` record.
    fn audit_change(
        &mut self,
        op: &'static str,
        path: &RelPath,
        detail: impl FnOnce(Access) -> Access,
    ) -> Result<(), Error> {
        if !self.journal.audited() {
            return Ok(());
        }
        let access = detail(Access::new(op, path.to_string(), true));
        crate::host::types::audit_durable(self.journal, &access)
    }

    /// Ask for a change (per the profile's `edits.mode`), record the
    /// decision, and keep the prior content for undo. A refusal comes back
    /// to the skill as `access-denied` naming the reason. A file that runs
    /// code later always asks, with the reason in the prompt. The diff is
    /// made only when a person will see it; the record keeps sizes and
    /// hashes in every mode, and the diff's counts when one was shown.
    fn approve_change(
        &mut self,
        path: &RelPath,
        change: Change,
        before: Option<&[u8]>,
        after: Option<&[u8]>,
    ) -> Result<(), Error> {
        use crate::approval::{ApprovalRequest, Subject};
        let shown = path.to_string();
        let sha256 = |b: &[u8]| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b));
        let is_dir = change == Change::CreateDir;
        let mut request = ApprovalRequest {
            skill: self.state.edits.skill.clone(),
            subject: Subject::Edit {
                path: shown.clone(),
                change,
                diff: None,
                bytes_before: before.map(|b| b.len() as u64),
                bytes_after: after.map_or(0, |a| a.len() as u64),
                sha256_before: before.map(sha256),
                sha256_after: after.filter(|_| !is_dir).map(sha256),
            },
            risks: self
                .state
                .edits
                .runs_later
                .reason(&shown)
                .into_iter()
                .collect(),
        };
        let mode = self.state.edits.mode;
        if !is_dir
            && self.state.edits.gate.will_ask(mode, &request)
            && let Subject::Edit { diff, .. } = &mut request.subject
        {
            *diff = Some(crate::approval::diff::diff(&shown, before, after));
        }
        let decision = self.state.edits.gate.decide(mode, &request);
        crate::host::types::audit_durable(
            self.journal,
            &crate::host::types::approval_record(&request, &decision, mode),
        )?;
        if !decision.allowed {
            let reason = decision.reason.unwrap_or_else(|| "not approved".into());
            self.journal.record(Event::Denied {
                capability: "workspace-write".into(),
                path: shown.clone(),
                reason: reason.clone(),
            });
            return Err(Error::denied("workspace-write", &shown, reason));
        }
        if let Some(undo) = &self.state.edits.undo {
            undo.record(&shown, change, before, after).map_err(|e| {
                Error::Io(format!(
                    "the change was not made: cannot keep the prior content for undo: {e}"
                ))
            })?;
        }
        Ok(())
    }

    /// A change that was recorded but then failed.
    fn audit_change_failed(&mut self, op: &'static str, path: &str, error: &Error) {
        if self.journal.audited() && !matches!(error, Error::AccessDenied(_)) {
            let access = records::failed(Access::new(op, display_raw(path), true), error);
            self.journal.audit(&access, false);
        }
    }

    fn resolve(&mut self, raw: &str, need: Need) -> Result<Resolved, Error> {
        self.state
            .sandbox
            .resolve(raw, need)
            .map_err(|r| self.refuse(need, raw, r))
    }

    fn resolve_existing(&mut self, raw: &str, need: Need) -> Result<Resolved, Error> {
        let resolved = self.resolve(raw, need)?;
        if !resolved.exists {
            return Err(Error::NotFound(resolved.asked.to_string()));
        }
        Ok(resolved)
    }

    fn check_deadline(&self) -> Result<(), Error> {
        if self.state.deadline.cancel().is_cancelled() {
            return Err(Error::Failed("the run was cancelled".into()));
        }
        if self.state.deadline.passed() {
            let max = self.state.limits.wall_clock_seconds;
            return Err(Error::limit("limits.wall-clock-seconds", max, max));
        }
        Ok(())
    }

    fn root(&self) -> &Dir {
        self.state.sandbox.root()
    }

    fn charge_read(&mut self, bytes: u64) -> Result<(), Error> {
        let used = self.state.usage.bytes_read.saturating_add(bytes);
        if used > self.state.limits.max_bytes_read {
            return Err(Error::limit(
                "limits.max-bytes-read",
                self.state.limits.max_bytes_read,
                used,
            ));
        }
        self.state.usage.bytes_read = used;
        Ok(())
    }

    fn charge_listed(&mut self, count: u64) -> Result<(), Error> {
        let used = self.state.usage.files_listed.saturating_add(count);
        if used > self.state.limits.max_files_listed {
            return Err(Error::limit(
                "limits.max-files-listed",
                self.state.limits.max_files_listed,
                used,
            ));
        }
        self.state.usage.files_listed = used;
        Ok(())
    }

    /// The entries of one directory (by its real path), withheld ones
    /// marked. Version-control internals (`.git` folders and gitdir files,
    /// `.hg`, `.svn`, `.jj`) are left out: a skill can never use them, and
    /// every repository has one, so marking them would make every scanner
    /// report a "withheld secret".
    fn entries(&mut self, dir: &RelPath) -> Result<Vec<Entry>, Error> {
        let listing = self
            .root()
            .read_dir(dir.to_path())
            .map_err(|e| io_error(dir, e))?;
        let mut entries = Vec::new();
        for item in listing {
            let item = item.map_err(|e| io_error(dir, e))?;
            // Names that are not UTF-8 cannot be passed back in a WIT string.
            let Ok(name) = item.file_name().into_string() else {
                continue;
            };
            self.charge_listed(1)?;
            if is_vcs_name(name.as_bytes()) {
                continue;
            }
            let path = dir.child(&name);
            let file_type = item.file_type().map_err(|e| io_error(&path, e))?;
            let kind = entry_kind(&file_type);
            if let Some(rule) = self.state.sandbox.hidden_by(&path) {
                self.journal.withheld(path.to_string(), &rule);
                entries.push(Entry {
                    path: path.to_string(),
                    kind,
                    size: 0,
                    withheld: Some(rule),
                });
                continue;
            }
            let size = match kind {
                EntryKind::File => item.metadata().map(|m| m.len()).unwrap_or(0),
                _ => 0,
            };
            entries.push(Entry {
                path: path.to_string(),
                kind,
                size,
                withheld: None,
            });
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    }

    fn walk_from(&mut self, start: &RelPath) -> Result<Vec<Entry>, Error> {
        let mut out = Vec::new();
        let mut stack = vec![(start.clone(), 0usize)];
        while let Some((dir, depth)) = stack.pop() {
            self.check_deadline()?;
            if depth > MAX_WALK_DEPTH {
                return Err(Error::InvalidInput(format!(
                    "`{dir}` is nested more than {MAX_WALK_DEPTH} directories deep; walk a sub-path instead"
                )));
            }
            for entry in self.entries(&dir)? {
                // Withheld folders (and version-control internals, which
                // `entries` leaves out) are never entered.
                let descend = entry.kind == EntryKind::Directory && entry.withheld.is_none();
                if descend {
                    let child = RelPath::parse(&entry.path)
                        .map_err(|e| Error::InvalidInput(e.to_string()))?;
                    // A nested directory outside every grant is not walked.
                    if self.state.sandbox.grant_for(&child, Need::Read).is_some() {
                        stack.push((child, depth + 1));
                    }
                }
                out.push(entry);
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn search_files(&mut self, query: SearchQuery) -> Result<SearchResult, Error> {
        if query.pattern.len() > MAX_PATTERN_BYTES {
            return Err(Error::InvalidInput(format!(
                "search pattern is {} bytes; at most {MAX_PATTERN_BYTES} are accepted",
                query.pattern.len()
            )));
        }
        let source = if query.literal {
            regex::escape(&query.pattern)
        } else {
            query.pattern.clone()
        };
        let regex = regex::RegexBuilder::new(&source)
            .case_insensitive(query.case_insensitive)
            .size_limit(MAX_REGEX_BYTES)
            .dfa_size_limit(MAX_REGEX_BYTES)
            .build()
            .map_err(|e| Error::InvalidInput(format!("invalid search pattern: {e}")))?;
        let glob = match &query.glob {
            Some(g) => Some(
                globset::GlobBuilder::new(g)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| Error::InvalidInput(format!("invalid glob `{g}`: {e}")))?
                    .compile_matcher(),
            ),
            None => None,
        };
        let max = match query.max_matches {
            0 => 1000,
            n => n.min(MAX_SEARCH_MATCHES),
        };
        let files = self.search_targets(&query.path)?;
        let mut result = SearchResult {
            matches: Vec::new(),
            withheld: Vec::new(),
            truncated: false,
        };
        for entry in files {
            if let Some(_rule) = &entry.withheld {
                result.withheld.push(entry.path);
                continue;
            }
            if entry.kind != EntryKind::File {
                continue;
            }
            if let Some(glob) = &glob
                && !glob.is_match(&entry.path)
            {
                continue;
            }
            self.check_deadline()?;
            let path =
                RelPath::parse(&entry.path).map_err(|e| Error::InvalidInput(e.to_string()))?;
            let Some((mut file, facts)) = self.open_for_search(&path, &mut result.withheld)? else {
                continue;
            };
            let len = facts.size;
            if len > MAX_SEARCH_FILE_BYTES {
                continue;
            }
            self.charge_read(len)?;
            let mut data = Vec::with_capacity(len as usize);
            (&mut file)
                .take(len)
                .read_to_end(&mut data)
                .map_err(|e| io_error(&path, e))?;
            if data[..data.len().min(8192)].contains(&0) {
                continue; // binary
            }
            for (i, line) in data.split(|&b| b == b'\n').enumerate() {
                let line = String::from_utf8_lossy(line);
                if regex.is_match(&line) {
                    if result.matches.len() as u32 >= max {
                        result.truncated = true;
                        return Ok(result);
                    }
                    result.matches.push(SearchMatch {
                        path: entry.path.clone(),
                        line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                        text: line
                            .trim_end_matches('\r')
                            .chars()
                            .take(MAX_MATCH_CHARS)
                            .collect(),
                    });
                }
            }
        }
        Ok(result)
    }

    /// The files a search covers: `path` itself, or everything below it.
    /// The root (`.`) means every granted path, even when the root itself
    /// is not granted.
    fn search_targets(&mut self, raw: &str) -> Result<Vec<Entry>, Error> {
        let asked = RelPath::parse(raw).ok();
        if asked.as_ref().is_some_and(RelPath::is_root)
            && self
                .state
                .sandbox
                .grant_for(&RelPath::root(), Need::Read)
                .is_none()
        {
            let roots: Vec<RelPath> = self
                .state
                .sandbox
                .grants()
                .iter()
                .map(|g| g.path.0.clone())
                .collect();
            let mut files = Vec::new();
            for root in roots {
                // Nested grants are covered by their parent's walk; a grant
                // that is hidden (say, inside `.git`) holds nothing to search.
                if self.state.sandbox.hidden_by(&root).is_some() {
                    continue;
                }
                if self
                    .state
                    .sandbox
                    .grants()
                    .iter()
                    .any(|g| g.path.0 != root && root.starts_with(&g.path.0))
                {
                    continue;
                }
                match self.search_targets(&root.to_string()) {
                    Ok(mut more) => files.append(&mut more),
                    Err(Error::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(files);
        }
        let resolved = self.resolve_existing(raw, Need::Read)?;
        let is_dir = self
            .root()
            .metadata(resolved.real.to_path())
            .map(|m| m.is_dir())
            .unwrap_or(false);
        if is_dir {
            return self.walk_from(&resolved.real);
        }
        Ok(vec![Entry {
            path: resolved.real.to_string(),
            kind: EntryKind::File,
            size: 0,
            withheld: None,
        }])
    }
}

impl api::Host for WorkspaceView<'_> {
    fn grants(&mut self) -> wasmtime::Result<Vec<Grant>> {
        self.journal.host_call("workspace::grants")?;
        Ok(self
            .state
            .sandbox
            .grants()
            .iter()
            .map(|g| Grant {
                path: g.path.0.to_string(),
                writable: g.writable,
            })
            .collect())
    }

    fn list_dir(&mut self, path: String) -> HostResult<Vec<Entry>> {
        self.journal.host_call("workspace::list-dir")?;
        let result = (|| {
            let resolved = self.resolve_existing(&path, Need::Read)?;
            self.entries(&resolved.real)
        })();
        self.audited("list-dir", &path, &result, |e, a| {
            records::entries(a, e.len())
        })?;
        Ok(result)
    }

    fn walk(&mut self, path: String) -> HostResult<Vec<Entry>> {
        self.journal.host_call("workspace::walk")?;
        let result = (|| {
            let resolved = self.resolve_existing(&path, Need::Read)?;
            self.walk_from(&resolved.real)
        })();
        self.audited("walk", &path, &result, |e, a| records::entries(a, e.len()))?;
        Ok(result)
    }

    fn stat(&mut self, path: String) -> HostResult<Metadata> {
        self.journal.host_call("workspace::stat")?;
        let result = (|| {
            let resolved = self.resolve_existing(&path, Need::Read)?;
            let sandbox = &self.state.sandbox;
            let meta = sandbox
                .stat_real(&resolved.real)
                .map_err(|r| self.refuse(Need::Read, &path, r))?;
            let writable = self.state.sandbox.resolve(&path, Need::Write).is_ok();
            Ok(Metadata {
                path: resolved.asked.to_string(),
                kind: files::entry_kind_of(meta.kind),
                size: meta.size,
                modified_ms: meta.modified_ms,
                writable,
            })
        })();
        self.audited("stat", &path, &result, |m, a| records::size(a, m.size))?;
        Ok(result)
    }

    fn read_file(&mut self, path: String) -> HostResult<Vec<u8>> {
        self.journal.host_call("workspace::read-file")?;
        let result = self.read_bytes(&path, 0, None);
        self.audited("read-file", &path, &result, |b, a| {
            records::read(a, None, b.len())
        })?;
        Ok(result)
    }

    fn read_range(&mut self, path: String, offset: u64, length: u64) -> HostResult<Vec<u8>> {
        self.journal.host_call("workspace::read-range")?;
        let result = self.read_bytes(&path, offset, Some(length));
        self.audited("read-range", &path, &result, |b, a| {
            records::read(a, Some(offset), b.len())
        })?;
        Ok(result)
    }

    fn search(&mut self, query: SearchQuery) -> HostResult<SearchResult> {
        self.journal.host_call("workspace::search")?;
        let (pattern, scope, glob) = (
            query.pattern.clone(),
            query.path.clone(),
            query.glob.clone(),
        );
        let result = self.search_files(query);
        self.audited("search", &scope, &result, |r, a| {
            records::search(a, pattern, glob, r)
        })?;
        Ok(result)
    }

    fn write_file(&mut self, path: String, contents: Vec<u8>) -> HostResult<()> {
        self.journal.host_call("workspace::write-file")?;
        let result = self.write_atomically(&path, &contents, None);
        self.journal.audit_check()?;
        if let Err(e) = &result {
            self.audit_change_failed("write-file", &path, e);
        }
        self.journal.audit_check()?;
        Ok(result)
    }

    fn create_dir(&mut self, path: String) -> HostResult<()> {
        self.journal.host_call("workspace::create-dir")?;
        let result = self.make_dir(&path);
        self.journal.audit_check()?;
        if let Err(e) = &result {
            self.audit_change_failed("create-dir", &path, e);
        }
        self.journal.audit_check()?;
        Ok(result)
    }

    fn remove_file(&mut self, path: String) -> HostResult<()> {
        self.journal.host_call("workspace::remove-file")?;
        let result = self.remove(&path);
        self.journal.audit_check()?;
        if let Err(e) = &result {
            self.audit_change_failed("remove-file", &path, e);
        }
        self.journal.audit_check()?;
        Ok(result)
    }
}

fn entry_kind(ft: &cap_std::fs::FileType) -> EntryKind {
    if ft.is_symlink() {
        EntryKind::Symlink
    } else if ft.is_dir() {
        EntryKind::Directory
    } else if ft.is_file() {
        EntryKind::File
    } else {
        EntryKind::Other
    }
}

fn io_error(path: &RelPath, e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound(path.to_string()),
        _ => Error::Io(format!("`{path}`: {e}")),
    }
}

/// A path as the skill wrote it, cut for display if it is huge.
fn display_raw(raw: &str) -> String {
    const SHOWN: usize = 200;
    if raw.len() <= SHOWN {
        raw.to_string()
    } else {
        let cut: String = raw.chars().take(SHOWN).collect();
        format!("{cut}… ({} bytes)", raw.len())
    }
}
