//! The loop: ask the model for one tool call (its shape enforced by the
//! engine), run the tool through the host, show the model the result, and
//! go on until the task is done or the steps are spent.
//!
//! A change request: run the tests first when the task speaks of a failure
//! (their output names the files to show), show the files the task and the
//! failure point at, then edit → test → read the failure → edit, until the
//! tests pass. An edit is two calls: a tiny JSON call that picks the file,
//! then SEARCH/REPLACE blocks as plain text held to a grammar (`edit`). A
//! question: look, then stream the answer.
//!
//! Every message, once sent, is sent the same way again at later steps
//! (new text is only appended) until the context is full: what lets the
//! engine reuse what it has already read.

use airlock_sdk::exec::{self, ProgramApproval};
use airlock_sdk::inference::{self, ChatRequest, InferenceError, ModelInfo};
use airlock_sdk::workspace;
use airlock_sdk::{Error, Output, log};

use crate::actions;
use crate::attempt::Base;
use crate::change::{EDIT_TOKENS, Outcome};
use crate::context::{self, Conversation, Role, Step};
use crate::locate;
use crate::options::Options;
use crate::prompt;
use crate::task::{self, Kind};
use crate::testcmd::{self, TestCommand};
use crate::tools::{self, Action, Toolbox};

/// Tokens kept free for the chat template's own markers.
const TEMPLATE_TOKENS: u32 = 48;
/// Tokens for one tool call: the JSON is short, the code comes separately.
const CALL_TOKENS: u32 = 96;
/// Edits of the same file straight after its tests failed, before the
/// model picks the next step itself.
const MAX_FOLLOW_UPS: u32 = 1;
/// Repeated tool calls in a run before it stops: the model is going in
/// circles, and more steps would only spend time.
const MAX_REPEATS: u32 = 3;

/// What the agent did, for the run's output.
#[derive(Debug, Default)]
pub struct Done {
    pub steps: Vec<String>,
    pub changed: Vec<String>,
    pub ran: Vec<String>,
    pub stopped: Option<String>,
    /// The last test run after a change: passed, and its summary.
    pub tested: Option<(bool, String)>,
}

/// The run's state.
pub(crate) struct Agent<'a> {
    pub(crate) options: &'a Options,
    pub(crate) model: ModelInfo,
    pub(crate) ctx: u32,
    pub(crate) kind: Kind,
    pub(crate) toolbox: Toolbox,
    pub(crate) tests: Option<TestCommand>,
    pub(crate) conv: Conversation,
    pub(crate) done: Done,
    pub(crate) seen: Vec<Action>,
    /// The content of each file as the model last saw it.
    pub(crate) shown: Vec<(String, String)>,
    /// Whether the engine takes grammars (servers do not).
    pub(crate) grammars: bool,
    /// The key lines of the failure the tests showed before any change,
    /// repeated in the first edit request (nearest to the model's reply).
    pub(crate) failure: Option<String>,
    /// The step decided after an edit (see `follow`).
    pub(crate) then: Option<Next>,
    /// Edits made straight after a test failure, in a row.
    pub(crate) followed: u32,
    pub(crate) observation_chars: usize,
    pub(crate) reported: (usize, usize, usize),
    /// Steps in a row that changed nothing (an edit not applied, a
    /// repeated call): while any, edits are sampled, not greedy, so the
    /// model does not write the same thing again.
    pub(crate) stuck: u32,
    /// The seed of the last sampled call (each sampled call gets a new one).
    pub(crate) seed: u64,
    /// Repeated tool calls so far.
    pub(crate) repeats: u32,
    /// Where a new attempt starts, when the tests failed before any change
    /// (so an attempt can be judged).
    pub(crate) base: Option<Base>,
    /// Attempts started again from `base` so far.
    pub(crate) attempt: u32,
    /// The source file the last failing test run points at.
    pub(crate) pointed: Option<String>,
    /// Each changed file's content before the run's first change to it.
    pub(crate) originals: Vec<(String, String)>,
}

/// What to do next without asking the model.
pub(crate) enum Next {
    Ask,
    Edit(String),
    Write(String),
    /// Blocks again for this file, straight after a failed edit.
    Rewrite(String, u32),
}

/// Run one task.
pub fn run(options: &Options) -> Result<Output, Error> {
    let model = inference::model(options.model.as_deref())?;
    let ctx = model.usable_context();
    let granted = workspace::granted_files()?;
    let files: Vec<String> = granted
        .files
        .iter()
        .map(|e| e.path.clone())
        .filter(|p| !tools::is_noise(p))
        .collect();
    let writable = workspace::grants().iter().any(|g| g.writable);
    let kind = task::classify(&options.task, writable);
    // A question runs only what needs no yes: asking never brings up an
    // approval prompt.
    let programs: Vec<(String, bool)> = exec::allowed_programs()
        .into_iter()
        .map(|p| (p.name, p.approval == ProgramApproval::Ask))
        .filter(|(_, ask)| kind == Kind::Change || !ask)
        .collect();
    let mut toolbox = Toolbox::new(files, kind == Kind::Change, programs);
    toolbox.tests_locked = !task::asks_test_change(&options.task);
    let observation_chars = (ctx as usize / 4) * 3;
    let notes = read_notes(&toolbox, observation_chars);
    let tests = if kind == Kind::Change {
        find_tests(&options.task, notes.as_deref(), &toolbox)
    } else {
        None
    };
    let conv = Conversation {
        system: prompt::system(&toolbox, notes.as_deref(), tests.as_ref()),
        history: options.history.clone(),
        task: context::task_message(&with_hint(&options.task, &toolbox)),
        steps: Vec::new(),
    };
    let mut agent = Agent {
        options,
        model,
        ctx,
        kind,
        toolbox,
        tests,
        conv,
        done: Done::default(),
        seen: Vec::new(),
        shown: Vec::new(),
        grammars: true,
        failure: None,
        then: None,
        followed: 0,
        observation_chars,
        reported: (0, 0, 0),
        stuck: 0,
        seed: 0,
        repeats: 0,
        base: None,
        attempt: 0,
        pointed: None,
        originals: Vec::new(),
    };
    let solved = agent.work()?;
    if let Some(why) = &agent.done.stopped {
        log::warn(&format!("the agent stopped early: {why}"));
    }
    match agent.kind {
        Kind::Question => agent.answer()?,
        Kind::Change => log::print(&closing(&agent.done, agent.tests.as_ref(), solved)),
    }
    Ok(Output::text(summary(&agent.done)))
}

impl Agent<'_> {
    /// The steps. Returns whether a change request is solved (the tests
    /// pass after a change).
    fn work(&mut self) -> Result<bool, Error> {
        let mut next = if self.kind == Kind::Change {
            self.prepare()
        } else {
            Next::Ask
        };
        let max = self.options.max_steps;
        for step in 1..=max {
            let action = match std::mem::replace(&mut next, Next::Ask) {
                Next::Ask => match self.ask(step)? {
                    Some(action) => action,
                    None if self.done.stopped.is_some() => return Ok(false),
                    None => continue,
                },
                Next::Edit(path) => Action::Edit { path },
                Next::Write(path) => Action::WriteFile { path },
                Next::Rewrite(path, tries) => {
                    log::info(&format!("step {step}: editing {path} again"));
                    let outcome = self.write_blocks(&path, tries)?;
                    match self.follow(outcome, &path) {
                        Some(done) => return Ok(done),
                        None => next = self.then.take().unwrap_or(Next::Ask),
                    }
                    continue;
                }
            };
            match action {
                Action::Answer {} => return Ok(false),
                Action::Edit { path } => {
                    self.mark_base(&path);
                    log::info(&format!("step {step}: editing {path}"));
                    self.done.steps.push(format!("edit {path}"));
                    let plan = self.options.plan;
                    let content = self.unseen_content(&path);
                    let mut request = if plan {
                        prompt::plan_request(&path, content.as_deref(), self.failure.is_some())
                    } else {
                        prompt::edit_request(&path, content.as_deref())
                    };
                    request = match self.failure.take() {
                        Some(failure) => format!("The tests fail with:\n{failure}\n\n{request}"),
                        // Nothing failing to go by: the task, restated
                        // next to the reply.
                        None => format!("The task: {}\n\n{request}", self.options.task.trim()),
                    };
                    let call = Action::Edit { path: path.clone() };
                    if plan {
                        self.push(call.to_json(), request, "(asked what to change)");
                        if !self.plan(&path)? {
                            return Ok(false);
                        }
                        let outcome = self.write_blocks(&path, 0)?;
                        match self.follow(outcome, &path) {
                            Some(done) => return Ok(done),
                            None => next = self.then.take().unwrap_or(Next::Ask),
                        }
                        continue;
                    }
                    match self.change(call, &path, request)? {
                        Some(done) => return Ok(done),
                        None => next = self.then.take().unwrap_or(Next::Ask),
                    }
                }
                Action::WriteFile { path } => {
                    log::info(&format!("step {step}: writing the new file {path}"));
                    self.done.steps.push(format!("write_file {path}"));
                    if self.toolbox.files.contains(&path) {
                        let request = format!(
                            "{path} already exists: change it with edit, not write_file.\n\n{}",
                            prompt::edit_request(&path, self.unseen_content(&path).as_deref())
                        );
                        let call = Action::WriteFile { path: path.clone() };
                        match self.change(call, &path, request)? {
                            Some(done) => return Ok(done),
                            None => next = self.then.take().unwrap_or(Next::Ask),
                        }
                    } else {
                        let request = prompt::new_file_request(&path);
                        self.push(
                            Action::WriteFile { path: path.clone() }.to_json(),
                            request,
                            "(asked for the file)",
                        );
                        let outcome = self.write_new_file(&path)?;
                        match self.follow(outcome, &path) {
                            Some(done) => return Ok(done),
                            None => next = self.then.take().unwrap_or(Next::Ask),
                        }
                    }
                }
                action => {
                    self.look(step, &action);
                    if self.done.stopped.is_some() {
                        return Ok(false);
                    }
                    next = self.then.take().unwrap_or(Next::Ask);
                }
            }
            if step == max {
                self.done.stopped = Some(format!(
                    "it used all {max} steps (`--arg max-steps=N` allows more)"
                ));
            }
        }
        Ok(false)
    }

    /// What comes after a step that changed (or tried to change) `path`:
    /// `Some(solved)` ends the loop, else `then` holds the next step (none:
    /// ask the model). After tests fail, the same file is edited once more
    /// straight away, with the failure restated; then the model picks.
    /// Ask for SEARCH/REPLACE blocks for the existing file `path` (the
    /// model's `call` and the `request` go into the conversation), apply
    /// them, and follow up: `Some` when the task is over.
    fn change(&mut self, call: Action, path: &str, request: String) -> Result<Option<bool>, Error> {
        self.push(call.to_json(), request, "(asked for the change)");
        let outcome = self.write_blocks(path, 0)?;
        Ok(self.follow(outcome, path))
    }

    fn follow(&mut self, outcome: Outcome, path: &str) -> Option<bool> {
        self.then = match outcome {
            Outcome::Solved => return Some(true),
            Outcome::Stop => return Some(false),
            Outcome::Retry(n) => Some(Next::Rewrite(path.to_string(), n)),
            Outcome::Go => None,
            Outcome::NotApplied => self.restart("the blocks could not be applied"),
            Outcome::TestsFail if self.followed < MAX_FOLLOW_UPS => {
                self.followed += 1;
                // The file the new failure points at, else the same one.
                let next = self.pointed.take().unwrap_or_else(|| path.to_string());
                Some(Next::Edit(next))
            }
            Outcome::TestsFail => {
                self.followed = 0;
                self.restart("the tests still fail")
            }
        };
        None
    }

    /// Before the first step of a change: run the tests when the task
    /// speaks of a failure, and show the files the task and the failure
    /// point at. Returns the first step when it is clear.
    fn prepare(&mut self) -> Next {
        let mut pointed: Vec<String> = Vec::new();
        let mut failing = false;
        if let Some(tests) = self.tests.clone()
            && task::wants_test_first(&self.options.task)
        {
            log::info(&format!(
                "running the tests first to see what fails: {}",
                tests.line()
            ));
            if let Some(ran) = self.run_tests(&tests) {
                failing = !ran.passed;
                let action = Action::RunCommand {
                    program: tests.words[0].clone(),
                    args: tests.words[1..].to_vec(),
                };
                self.done.steps.push(action.describe());
                self.push(
                    action.to_json(),
                    ran.message(),
                    "(the tests ran; their result was shown earlier)",
                );
                if failing {
                    self.failure = testcmd::key_lines(&ran.output);
                    let read = |p: &str| workspace::read_to_string(p).ok();
                    pointed = testcmd::implicated(&ran.output, &self.toolbox.files, &read);
                }
            }
        }
        let mut show: Vec<String> = prompt::named_files(&self.options.task, &self.toolbox.files)
            .into_iter()
            .map(String::from)
            .collect();
        for p in &pointed {
            if !show.contains(p) {
                show.push(p.clone());
            }
        }
        // Neither the task nor a failure names a source file: the one that
        // holds the task's code terms.
        let mut located = false;
        if !show
            .iter()
            .any(|p| locate::is_source(p) && !testcmd::is_test_file(p))
        {
            let read = |p: &str| workspace::read_to_string(p).ok();
            if let Some(best) = locate::candidates(&self.options.task, &self.toolbox.files, &read)
                .into_iter()
                .next()
            {
                log::info(&format!("{best} holds the task's names"));
                show.push(best);
                located = true;
            }
        }
        // Sources first, a few at most, within the room of one result.
        show.sort_by_key(|p| testcmd::is_test_file(p));
        let mut room = self.observation_chars * 2;
        let mut first_source = None;
        for path in show.iter().take(4) {
            let Ok(text) = workspace::read_to_string(path) else {
                continue;
            };
            if text.len() > room {
                continue;
            }
            room -= text.len();
            log::info(&format!("showing {path}"));
            let action = Action::ReadFile { path: path.clone() };
            self.done.steps.push(action.describe());
            self.push(
                action.to_json(),
                prompt::framed(path, &text, false),
                "(shown earlier)",
            );
            self.shown.push((path.clone(), text));
            self.seen.push(action);
            if first_source.is_none() && !testcmd::is_test_file(path) {
                first_source = Some(path.clone());
            }
        }
        if let Some(path) = prompt::new_file_named(&self.options.task, &self.toolbox.files) {
            return Next::Write(path);
        }
        match first_source {
            Some(path) if failing || located || !pointed.is_empty() || show.len() == 1 => {
                Next::Edit(path)
            }
            _ => Next::Ask,
        }
    }

    /// Ask the model for its next tool call. `None` when the step went to
    /// a correction (or the budget is spent: then `stopped` says so).
    fn ask(&mut self, step: u32) -> Result<Option<Action>, Error> {
        let may_answer = match self.kind {
            Kind::Question => !self.seen.is_empty(),
            Kind::Change => !self.done.changed.is_empty(),
        };
        let request = self
            .request(CALL_TOKENS)?
            .json_schema(&self.toolbox.schema(&self.seen, may_answer))
            .max_tokens(CALL_TOKENS);
        let Some(reply) = self.call(&request)? else {
            return Ok(None);
        };
        match tools::parse(&reply.text) {
            Ok(action) => Ok(Some(action)),
            Err(why) => {
                log::warn(&format!("step {step}: {why}"));
                self.push(
                    reply.text,
                    format!(
                        "That was not a complete tool call ({why}). Reply with one short JSON \
                         tool call."
                    ),
                    "(an incomplete tool call)",
                );
                Ok(None)
            }
        }
    }

    /// A tool that looks (or runs a program the model chose).
    fn look(&mut self, step: u32, action: &Action) {
        let json = action.to_json();
        if self.seen.contains(action) {
            log::warn(&format!(
                "step {step}: the model repeated `{}`",
                action.describe()
            ));
            self.repeats += 1;
            self.stuck += 1;
            if self.kind == Kind::Question {
                self.done.stopped = Some("the model repeated a tool call".into());
            } else if self.repeats >= MAX_REPEATS {
                self.done.stopped = Some(format!(
                    "the model repeated tool calls {MAX_REPEATS} times: it is going in circles"
                ));
            } else if let Some(path) = self.focus() {
                // Take the step it should have taken: another try at the
                // change, sampled this time.
                log::info(&format!("editing {path} instead"));
                self.then = Some(Next::Edit(path));
            }
            self.push(
                json,
                "You already did exactly this; its result is above. Do something else.".into(),
                "(a repeated call)",
            );
            return;
        }
        log::info(&format!("step {step}: {}", action.describe()));
        self.done.steps.push(action.describe());
        let max = self.observation_chars;
        let result = match action {
            Action::ReadFile { path } => actions::read_file(path, max).map(|(shown, text)| {
                self.shown.retain(|(p, _)| p != path);
                self.shown.push((path.clone(), text));
                shown
            }),
            Action::ListFiles { dir } => actions::list_files(dir, max),
            Action::Search { pattern } => actions::search(pattern, max),
            Action::RepoMap {} => {
                actions::skill::<repo_map_core::RepoMapSkill>(&[("format", "text")], max)
            }
            Action::ScanSecrets {} => {
                actions::skill::<secret_scan_core::SecretScan>(&[("format", "text")], max)
            }
            Action::RunCommand { program, args } => {
                actions::run_command(program, args, max).map(|ran| {
                    self.done.ran.push(format!("{} ({})", ran.line, ran.status));
                    ran.message()
                })
            }
            Action::Edit { .. } | Action::WriteFile { .. } | Action::Answer {} => Ok(String::new()),
        };
        let (text, short) = match result {
            Ok(text) => (
                text,
                format!(
                    "({} was done; its result was shown earlier.)",
                    action.describe()
                ),
            ),
            Err(e) => {
                let text = format!("Not done: {e}");
                (text.clone(), text)
            }
        };
        self.push(json, text, &short);
        self.seen.push(action.clone());
    }

    /// The file's content when the model has not seen it as it is now
    /// (cut to the room of one result); it counts as seen from here on.
    pub(crate) fn unseen_content(&mut self, path: &str) -> Option<String> {
        let now = workspace::read_to_string(path).ok()?;
        if self.shown.iter().any(|(p, t)| p == path && *t == now) {
            return None;
        }
        self.shown.retain(|(p, _)| p != path);
        self.shown.push((path.to_string(), now.clone()));
        Some(actions::cut(&now, self.observation_chars).0)
    }

    pub(crate) fn edit_tokens(&self) -> u32 {
        EDIT_TOKENS.min(self.ctx / 4)
    }

    /// Append a step: what the model wrote and the reply to it.
    pub(crate) fn push(&mut self, call: String, observation: String, short: &str) {
        self.conv.steps.push(Step {
            call,
            observation,
            short: short.to_string(),
        });
    }

    /// The conversation as a request, fitted to leave `reserve` tokens.
    pub(crate) fn request(&mut self, reserve: u32) -> Result<ChatRequest, Error> {
        let name = self.model.name.clone();
        let count = |text: &str| inference::count_tokens(text, Some(&name)).map(|c| c.tokens);
        let budget = self.ctx.saturating_sub(reserve + TEMPLATE_TOKENS);
        let fitted =
            context::fit(&self.conv, budget, count).map_err(|e| Error::failed(e.to_string()))?;
        let now = (
            fitted.dropped_turns,
            fitted.shortened_steps,
            fitted.dropped_steps,
        );
        if now != self.reported {
            log::info(&format!(
                "to fit the model's {}-token context: {} earlier turn(s) left out, {} old \
                 result(s) shortened, {} old step(s) left out (the task is always sent whole)",
                self.ctx, now.0, now.1, now.2
            ));
            self.reported = now;
        }
        Ok(chat_request(&fitted.messages, &self.model))
    }

    /// One model call. `None` when the profile's budget is spent (noted in
    /// `stopped`). A grammar the engine refuses is dropped for the rest of
    /// the run and the call made again as free text.
    pub(crate) fn call(
        &mut self,
        request: &ChatRequest,
    ) -> Result<Option<inference::Completion>, Error> {
        let result = match inference::chat(request) {
            Err(InferenceError::InvalidRequest(why))
                if matches!(request.format, inference::OutputFormat::Grammar(_)) =>
            {
                log::debug(&format!(
                    "no grammar for this engine ({why}); asking for free text"
                ));
                self.grammars = false;
                let mut plain = request.clone();
                plain.format = inference::OutputFormat::Text;
                inference::chat(&plain)
            }
            other => other,
        };
        match result {
            Ok(reply) => Ok(Some(reply)),
            Err(InferenceError::BudgetExhausted { limit, .. }) => {
                self.done.stopped = Some(format!("the profile's `{limit}` budget is spent"));
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Stream the answer to a question, as the conversation's next turn.
    fn answer(&mut self) -> Result<(), Error> {
        let tokens = self.options.answer_tokens.min(self.ctx / 4);
        self.push(
            Action::Answer {}.to_json(),
            prompt::answer_request(&self.options.task),
            "(asked for the answer)",
        );
        let request = self.request(tokens)?.max_tokens(tokens);
        inference::print_answer(&request)?;
        Ok(())
    }
}

/// The test command for a change request, when the profile lets this run
/// start its program.
fn find_tests(task: &str, notes: Option<&str>, toolbox: &Toolbox) -> Option<TestCommand> {
    let programs: Vec<String> = toolbox.programs.iter().map(|(n, _)| n.clone()).collect();
    let read = |p: &str| workspace::read_to_string(p).ok();
    let found = testcmd::find(&testcmd::Project {
        task,
        notes,
        files: &toolbox.files,
        programs: &programs,
        read: &read,
    });
    if found.is_none()
        && let Some(words) = notes.and_then(testcmd::notes_command)
    {
        log::warn(&format!(
            "{} names the test command `{}`, but the profile does not let this run start `{}` \
             ([commands.programs]); changes will not be tested",
            prompt::NOTES_FILE,
            words.join(" "),
            words[0]
        ));
    }
    found
}

/// The task, with the project files it names pointed out.
fn with_hint(task: &str, toolbox: &Toolbox) -> String {
    let named = prompt::named_files(task, &toolbox.files);
    if named.is_empty() {
        task.to_string()
    } else {
        format!(
            "{task}\n(Project files this task names: {})",
            named.join(", ")
        )
    }
}

/// The closing lines of a change request, written by the agent from what
/// happened (never by the model, so they are always true).
fn closing(done: &Done, tests: Option<&TestCommand>, solved: bool) -> String {
    let changed = done.changed.join(", ");
    match (done.changed.is_empty(), tests, &done.tested) {
        (true, _, _) => "Not solved: no change was made.\n".to_string(),
        (false, Some(t), Some((true, verdict))) if solved => {
            format!("Done: changed {changed}; `{}` {verdict}.\n", t.line())
        }
        (false, Some(t), Some((_, verdict))) => format!(
            "Not solved: changed {changed}, but `{}` {verdict}.\n",
            t.line()
        ),
        (false, Some(t), None) => {
            format!("Changed {changed}, but `{}` could not be run.\n", t.line())
        }
        (false, None, _) => format!(
            "Changed {changed}. No test command was found (a line `Test: COMMAND` in {} \
             names one), so the change is not tested.\n",
            prompt::NOTES_FILE
        ),
    }
}

/// What the agent did, after the answer.
fn summary(done: &Done) -> String {
    let mut out = String::new();
    if !done.steps.is_empty() {
        out.push_str(&format!("Steps: {}\n", done.steps.join("; ")));
    }
    if !done.changed.is_empty() {
        out.push_str(&format!("Changed: {}\n", done.changed.join(", ")));
    }
    if !done.ran.is_empty() {
        out.push_str(&format!("Ran: {}\n", done.ran.join("; ")));
    }
    if let Some(why) = &done.stopped {
        out.push_str(&format!("Stopped early: {why}\n"));
    }
    out
}

fn chat_request(messages: &[(Role, String)], model: &ModelInfo) -> ChatRequest {
    let mut request = ChatRequest::new().model(&model.name);
    for (role, text) in messages {
        request = match role {
            Role::System => request.system(text),
            Role::User => request.user(text),
            Role::Assistant => request.assistant(text),
        };
    }
    request
}

/// The project's AIRLOCK.md, when the profile lets the agent read it, cut to
/// the room of one result.
fn read_notes(toolbox: &Toolbox, max: usize) -> Option<String> {
    if !toolbox.files.iter().any(|f| f == prompt::NOTES_FILE) {
        return None;
    }
    match workspace::read_to_string(prompt::NOTES_FILE) {
        Ok(text) => {
            log::info(&format!(
                "following the project's notes in {}",
                prompt::NOTES_FILE
            ));
            Some(actions::cut(&text, max).0)
        }
        Err(e) => {
            log::warn(&format!("cannot read {}: {e}", prompt::NOTES_FILE));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_lists_what_was_done() {
        let done = Done {
            steps: vec!["read_file a.py".into(), "write_file b.py".into()],
            changed: vec!["b.py".into()],
            ran: vec!["make test (exit code 0)".into()],
            stopped: None,
            tested: Some((true, "passed".into())),
        };
        let s = summary(&done);
        assert!(s.contains("Steps: read_file a.py; write_file b.py"));
        assert!(s.contains("Changed: b.py"));
        assert!(s.contains("Ran: make test (exit code 0)"));
    }

    #[test]
    fn the_closing_lines_say_what_happened() {
        let tests = TestCommand {
            words: vec!["make".into(), "test".into()],
            source: crate::testcmd::Source::Project("the Makefile"),
        };
        let mut done = Done::default();
        assert_eq!(
            closing(&done, Some(&tests), false),
            "Not solved: no change was made.\n"
        );
        done.changed.push("clamp.c".into());
        done.tested = Some((true, "passed".into()));
        assert_eq!(
            closing(&done, Some(&tests), true),
            "Done: changed clamp.c; `make test` passed.\n"
        );
        done.tested = Some((false, "failed (1 failed)".into()));
        assert_eq!(
            closing(&done, Some(&tests), false),
            "Not solved: changed clamp.c, but `make test` failed (1 failed).\n"
        );
        assert!(closing(&done, None, false).contains("not tested"));
    }
}
