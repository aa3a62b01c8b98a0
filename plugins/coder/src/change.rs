//! The half of the loop that changes files: ask for SEARCH/REPLACE blocks
//! (or a new file's content), apply them through the host, run the tests
//! and tell the model how it went.

use airlock_sdk::inference::FinishReason;
use airlock_sdk::{Error, log, workspace};

use crate::actions::{self, Ran};
use crate::agent::Agent;
use crate::edit;
use crate::prompt;
use crate::task;
use crate::testcmd::{self, Source, TestCommand};

/// Tokens for one edit reply at most (a quarter of the context below).
pub(crate) const EDIT_TOKENS: u32 = 1024;
/// Tokens for the one-sentence plan before an edit.
pub(crate) const PLAN_TOKENS: u32 = 80;
/// Sampling temperature for a plan made again in a new attempt.
pub(crate) const PLAN_TEMPERATURE: f32 = 0.8;
/// Failed edits of one file in a row before the model picks again.
pub(crate) const MAX_EDIT_RETRIES: u32 = 1;
/// Sampling temperature for an edit written again after a failed one.
pub(crate) const RETRY_TEMPERATURE: f32 = 0.6;
/// Characters of a cut-off reply kept in the conversation.
pub(crate) const CUT_REPLY_CHARS: usize = 200;
/// The longest new file asked for again as a JSON string, in characters:
/// bounded, so the engine ends the string within the token budget.
pub(crate) const NEW_FILE_JSON_CHARS: usize = 2000;

/// How a step that changes files went.
pub(crate) enum Outcome {
    /// The tests pass after the change.
    Solved,
    /// Nothing was applied: ask for the blocks again (try number).
    Retry(u32),
    /// Go on with the next step.
    Go,
    /// The blocks were written again and still could not be applied.
    NotApplied,
    /// A change was made and the tests fail.
    TestsFail,
    /// The budget is spent.
    Stop,
}

impl Agent<'_> {
    /// Ask for SEARCH/REPLACE blocks for `path` (the request is the last
    /// message), apply them, and test.
    pub(crate) fn write_blocks(&mut self, path: &str, tries: u32) -> Result<Outcome, Error> {
        let tokens = self.edit_tokens();
        let mut request = self.request(tokens)?.max_tokens(tokens);
        if self.grammars {
            request = request.grammar(&edit::blocks_grammar(path));
        }
        if tries > 0 || self.stuck > 0 || self.attempt > 0 {
            // Greedy decoding would write the same failed blocks again.
            self.seed += 1;
            request = request.temperature(RETRY_TEMPERATURE).seed(self.seed);
        }
        let Some(reply) = self.call(&request)? else {
            return Ok(Outcome::Stop);
        };
        let parsed = edit::parse(&reply.text);
        let cut_off = reply.finish == FinishReason::Length;
        let mut text = match workspace::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                self.push(
                    reply.text,
                    format!("Not done: {e}"),
                    "(an edit that failed)",
                );
                return Ok(Outcome::Go);
            }
        };
        let before = text.clone();
        let mut problems = Vec::new();
        let mut applied = 0;
        // Blocks that only copied the code: asked again in the same
        // conversation, a small model copies again.
        let mut copies = 0;
        let may_remove = task::asks_removal(&self.options.task);
        for (n, block) in parsed.blocks.iter().enumerate() {
            match edit::apply(&text, block) {
                Ok(new) => {
                    let dropped = edit::removed_definitions(block);
                    if dropped.is_empty() || may_remove {
                        text = new;
                        applied += 1;
                        continue;
                    }
                    // A swap of every definition for new ones, where adding
                    // was asked for, is read as adding them.
                    let added =
                        edit::as_addition(block, &text).and_then(|b| edit::apply(&text, &b).ok());
                    if let Some(new) = added {
                        log::info(&format!(
                            "block {} would replace {} with new code; adding the new code \
                             after it instead",
                            n + 1,
                            dropped.join(", ")
                        ));
                        text = new;
                        applied += 1;
                    } else {
                        problems.push(format!(
                            "Block {}: it would delete {} from {path}, which the task does \
                             not ask for. Keep them: to add code, SEARCH for the last lines \
                             before the place and put them in REPLACE followed by the new code.",
                            n + 1,
                            dropped.join(", ")
                        ));
                    }
                }
                Err(edit::ApplyError::NotFound { closest: None }) => {
                    // Nothing alike: show the file to copy from.
                    let shown = actions::cut(&text, self.observation_chars).0;
                    problems.push(format!(
                        "Block {}: the SEARCH lines are not in {path}. Copy them exactly from \
                         it; {path} is now:\n{}",
                        n + 1,
                        prompt::framed(path, &shown, false)
                    ));
                }
                Err(e) => {
                    if e == edit::ApplyError::NoChange {
                        copies += 1;
                    }
                    problems.push(e.message(n + 1, path));
                }
            }
        }
        if parsed.unfinished || (cut_off && parsed.blocks.is_empty()) {
            problems.push(format!(
                "Your reply was cut off at the token limit before the end of block {}; that \
                 block was not applied. Write it again, smaller: only the lines that change, \
                 with one line around them.",
                parsed.blocks.len() + 1
            ));
        } else if parsed.blocks.is_empty() {
            problems.push(format!(
                "There was no SEARCH/REPLACE block for {path} in your reply."
            ));
        }
        let mut message = String::new();
        if applied > 0 {
            if !self.originals.iter().any(|(p, _)| p == path) {
                self.originals.push((path.to_string(), before));
            }
            if let Err(e) = workspace::write(path, &text) {
                log::warn(&format!("the change to {path} was not made: {e}"));
                self.push(
                    reply.text,
                    format!("Not done: {e}"),
                    "(an edit that was refused)",
                );
                return Ok(Outcome::Go);
            }
            log::info(&format!("applied {applied} change(s) to {path}"));
            self.changed(path);
            if !self.done.changed.iter().any(|c| c == path) {
                self.done.changed.push(path.to_string());
            }
            self.shown.retain(|(p, _)| p != path);
            self.shown.push((path.to_string(), text));
            message.push_str(&format!("Applied {applied} change(s) to {path}.\n"));
        }
        if !problems.is_empty() {
            log::warn(&format!(
                "edit of {path}: {}",
                problems[0].lines().next().unwrap_or("")
            ));
            message.push_str(&problems.join("\n"));
            message.push('\n');
        }
        if applied == 0 {
            self.stuck += 1;
            message.push_str(&format!(
                "Write the SEARCH/REPLACE block(s) for {path} again."
            ));
            self.push(reply.text, message, "(an edit that was not applied)");
            let only_copies = copies > 0 && copies == parsed.blocks.len();
            return Ok(
                if tries < MAX_EDIT_RETRIES && !(only_copies && self.base.is_some()) {
                    Outcome::Retry(tries + 1)
                } else {
                    Outcome::NotApplied
                },
            );
        }
        Ok(self.after_change(reply.text, message))
    }

    /// Ask the model what must change in `path` (the question is the last
    /// message), in one sentence, and put its answer and the request for
    /// the blocks into the conversation. `false` when the budget is spent.
    pub(crate) fn plan(&mut self, path: &str) -> Result<bool, Error> {
        let mut request = self
            .request(PLAN_TOKENS)?
            .max_tokens(PLAN_TOKENS)
            .stop("\n")
            .stop("```");
        if self.attempt > 0 || self.stuck > 0 {
            self.seed += 1;
            request = request.temperature(PLAN_TEMPERATURE).seed(self.seed);
        }
        let Some(reply) = self.call(&request)? else {
            return Ok(false);
        };
        let plan = reply.text.trim().to_string();
        if !plan.is_empty() {
            log::info(&format!("plan: {}", actions::cut(&plan, 300).0));
        }
        self.push(
            plan,
            prompt::plan_edit_request(path),
            "(asked for the change)",
        );
        Ok(true)
    }

    /// Ask for a new file's content and write it.
    pub(crate) fn write_new_file(&mut self, path: &str) -> Result<Outcome, Error> {
        let tokens = self.edit_tokens();
        let mut request = self.request(tokens)?.max_tokens(tokens);
        if self.grammars {
            request = request.grammar(&edit::file_grammar());
        }
        let Some(mut reply) = self.call(&request)? else {
            return Ok(Outcome::Stop);
        };
        let content = if reply.finish == FinishReason::Length {
            // Never write a cut-off file. Ask once more, for the content as
            // one JSON string of bounded length, which the engine ends.
            log::warn(&format!(
                "the content of {path} was cut off at the token limit; asking for it again, \
                 shorter"
            ));
            let (shown, _) = actions::cut(&reply.text, CUT_REPLY_CHARS);
            self.push(
                format!("{shown}…"),
                format!(
                    "That was cut off at the token limit, so {path} was not written. Give its \
                     whole content again, shorter, as JSON: {{\"content\": \"...\"}}."
                ),
                "(a file cut off)",
            );
            let schema = format!(
                "{{\"type\":\"object\",\"properties\":{{\"content\":{{\"type\":\"string\",\
                 \"maxLength\":{NEW_FILE_JSON_CHARS}}}}},\"required\":[\"content\"],\
                 \"additionalProperties\":false}}"
            );
            let request = self
                .request(tokens)?
                .max_tokens(tokens)
                .json_schema(&schema);
            let Some(again) = self.call(&request)? else {
                return Ok(Outcome::Stop);
            };
            let parsed = serde_json::from_str::<serde_json::Value>(&again.text)
                .ok()
                .and_then(|v| v["content"].as_str().map(String::from));
            match parsed {
                Some(content) if again.finish != FinishReason::Length => {
                    let mut content = edit::strip_frame(&content, Some(path));
                    if !content.is_empty() && !content.ends_with('\n') {
                        content.push('\n');
                    }
                    reply = again;
                    content
                }
                _ => {
                    self.push(
                        again.text,
                        format!("That was cut off too, so {path} was not written."),
                        "(a file cut off)",
                    );
                    return Ok(Outcome::Go);
                }
            }
        } else {
            edit::new_file_content(&reply.text, path)
        };

        if let Err(e) = workspace::write(path, &content) {
            log::warn(&format!("{path} was not written: {e}"));
            self.push(
                reply.text,
                format!("Not done: {e}"),
                "(a write that was refused)",
            );
            return Ok(Outcome::Go);
        }
        log::info(&format!("wrote {path} ({} bytes)", content.len()));
        self.changed(path);
        self.done.changed.push(path.to_string());
        self.toolbox.files.push(path.to_string());
        self.shown.push((path.to_string(), content.clone()));
        Ok(self.after_change(
            reply.text,
            format!("Wrote {path} ({} bytes).\n", content.len()),
        ))
    }

    /// After a change: run the tests (when there are any) and tell the
    /// model how it went.
    pub(crate) fn after_change(&mut self, reply: String, mut message: String) -> Outcome {
        let Some(tests) = self.tests.clone() else {
            message.push_str("Call answer if the task is done, or make the next change.");
            self.push(reply, message, "(a change was made)");
            return Outcome::Go;
        };
        let ran = self.run_tests(&tests);
        let outcome = match &ran {
            Some(ran) if ran.passed => Outcome::Solved,
            Some(_) => Outcome::TestsFail,
            None => Outcome::Go,
        };
        if let Some(ran) = ran {
            message.push_str(&ran.message());
            if !ran.passed {
                message.push_str("\nFix what the tests report.");
                self.failure = testcmd::key_lines(&ran.output);
                let read = |p: &str| workspace::read_to_string(p).ok();
                let editable = self.toolbox.editable();
                self.pointed = testcmd::implicated(&ran.output, &self.toolbox.files, &read)
                    .into_iter()
                    .find(|p| !testcmd::is_test_file(p) && editable.contains(p));
            }
        } else {
            message.push_str("The tests could not be run.");
        }
        self.push(
            reply,
            message,
            "(a change was made and tested; the result was shown earlier)",
        );
        outcome
    }

    /// Run the tests, logging how it went.
    pub(crate) fn run_tests(&mut self, tests: &TestCommand) -> Option<Ran> {
        let line = tests.line();
        match &tests.source {
            Source::Notes => log::info(&format!(
                "testing the change, as {} says: {line}",
                prompt::NOTES_FILE
            )),
            Source::Task => log::info(&format!("running {line} (from the task)")),
            Source::Project(from) => log::info(&format!("running {line} (found in {from})")),
        }
        match actions::run_command(&tests.words[0], &tests.words[1..], self.observation_chars) {
            Ok(mut ran) => {
                if ran.passed && testcmd::ran_no_tests(&ran.output) {
                    // Nothing was tested: say so rather than "passed".
                    ran.passed = false;
                    ran.output.push_str(
                        "\n(the test runner found no tests: name the test command in the task or in AIRLOCK.md)",
                    );
                }
                let verdict = testcmd::summary(ran.passed, &ran.output);
                log::info(&format!("{line}: {verdict}"));
                self.done.ran.push(format!("{line} ({})", ran.status));
                if !self.done.changed.is_empty() {
                    self.done.tested = Some((ran.passed, verdict));
                }
                Some(ran)
            }
            Err(e) => {
                log::warn(&format!("{line} was not run: {e}"));
                None
            }
        }
    }
}
