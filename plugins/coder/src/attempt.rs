//! Attempts: where a new one starts, and starting it. A 1.5B model that
//! went wrong tends to copy its own mistake once it sees it; the agent puts
//! the files back, forgets the steps since the first edit (the engine keeps
//! that prefix) and tries again with a new seed, and the tests judge.

use airlock_sdk::{log, workspace};

use crate::agent::{Agent, Next};
use crate::locate;
use crate::testcmd;
use crate::tools::Action;

/// The state a new attempt starts from: the conversation up to the first
/// edit, the failure it showed, and the file the edit was for.
pub(crate) struct Base {
    steps: usize,
    failure: Option<String>,
    path: String,
    /// What the model had seen of each file by then (so a new attempt
    /// shows again what only the dropped steps showed).
    shown: Vec<(String, String)>,
}

impl Agent<'_> {
    /// Remember where a new attempt starts, at the first edit of a project
    /// with tests (without tests an attempt cannot be judged).
    pub(crate) fn mark_base(&mut self, path: &str) {
        if self.base.is_none() && self.tests.is_some() {
            self.base = Some(Base {
                steps: self.conv.steps.len(),
                failure: self.failure.clone(),
                path: path.to_string(),
                shown: self.shown.clone(),
            });
        }
    }

    /// Start a new attempt, when the project has tests (so the attempt that
    /// failed can be told from one that works): put the
    /// changed files back as they were, forget the conversation since the
    /// first edit, and edit again, sampled this time (greedy decoding would
    /// write the same change). A small model that goes wrong tends to
    /// repeat itself when it sees its mistake; a fresh start with a new
    /// seed tries something else, and the tests judge it.
    pub(crate) fn restart(&mut self, why: &str) -> Option<Next> {
        let base = self.base.as_ref()?;
        let path = base.path.clone();
        for (p, text) in self.originals.clone() {
            let now = workspace::read_to_string(&p).ok();
            if now.as_deref() == Some(text.as_str()) {
                continue;
            }
            if let Err(e) = workspace::write(&p, &text) {
                log::warn(&format!("cannot put {p} back as it was: {e}"));
                return None;
            }
            self.done.changed.retain(|c| *c != p);
        }
        self.conv.steps.truncate(base.steps);
        self.shown = base.shown.clone();
        self.failure = base.failure.clone();
        self.attempt += 1;
        self.stuck = 0;
        self.followed = 0;
        self.done.tested = None;
        log::info(&format!(
            "{why}: attempt {} starts again from the files as they were",
            self.attempt + 1
        ));
        self.done.steps.push("start again".into());
        Some(Next::Edit(path))
    }

    /// The file a change request is about: the last one changed, else the
    /// first source file shown, else the one holding the task's code terms.
    pub(crate) fn focus(&self) -> Option<String> {
        self.done
            .changed
            .last()
            .cloned()
            .or_else(|| {
                self.shown
                    .iter()
                    .map(|(p, _)| p)
                    .find(|p| !testcmd::is_test_file(p))
                    .cloned()
            })
            .or_else(|| {
                let read = |p: &str| workspace::read_to_string(p).ok();
                locate::candidates(&self.options.task, &self.toolbox.files, &read)
                    .into_iter()
                    .next()
            })
    }

    /// After `path` changed: running a program again, or reading `path`
    /// again, is no longer a repeat.
    pub(crate) fn changed(&mut self, path: &str) {
        self.stuck = 0;
        self.seen.retain(|a| match a {
            Action::RunCommand { .. } => false,
            Action::ReadFile { path: p } => p != path,
            _ => true,
        });
    }
}
