//! The loop: ask the model for one tool call (its shape enforced by the
//! engine), run the tool through the host, show the model the result, and
//! go on until it answers, repeats itself or spends its steps; then stream
//! the answer.

use airlock_sdk::exec::{self, ProgramApproval};
use airlock_sdk::inference::{self, ChatRequest, InferenceError, ModelInfo};
use airlock_sdk::workspace::{self, SearchQuery};
use airlock_sdk::{Error, Output, Request, Skill, log};

use crate::context::{self, Conversation, Role, Step};
use crate::options::Options;
use crate::prompt;
use crate::tools::{self, Action, Toolbox};

/// Tokens kept free for the chat template's own markers.
const TEMPLATE_TOKENS: u32 = 48;
/// Tokens for one tool call (a whole-file write needs the most).
const CALL_TOKENS: u32 = 320;
/// The model repeating a call this many times ends the loop: it has
/// nothing new to look at, so it answers from what it found.
const MAX_REPEATS: u32 = 1;

/// What the agent did, for the run's output.
#[derive(Debug, Default)]
struct Done {
    steps: Vec<String>,
    changed: Vec<String>,
    ran: Vec<String>,
    stopped: Option<String>,
    /// How many changes the last test run covered.
    tested: usize,
}

/// Run one task.
pub fn run(options: &Options) -> Result<Output, Error> {
    let model = inference::model(options.model.as_deref())?;
    let ctx = model.usable_context();
    let call_tokens = CALL_TOKENS.min(ctx / 4);
    let answer_tokens = options.answer_tokens.min(ctx / 4);

    let granted = workspace::granted_files()?;
    let files: Vec<String> = granted
        .files
        .iter()
        .map(|e| e.path.clone())
        .filter(|p| !tools::is_noise(p))
        .collect();
    let can_write = workspace::grants().iter().any(|g| g.writable);
    let programs = exec::allowed_programs()
        .into_iter()
        .map(|p| (p.name, p.approval == ProgramApproval::Ask))
        .collect();
    let toolbox = Toolbox::new(files, can_write, programs);
    let notes = read_notes(&toolbox, ctx);
    let tests = test_command(notes.as_deref(), &toolbox);
    let observation_chars = observation_chars(ctx);

    let mut conv = Conversation {
        system: prompt::system(&toolbox, notes.as_deref()),
        history: options.history.clone(),
        task: context::task_message(&with_hint(&options.task, &toolbox)),
        steps: Vec::new(),
    };
    let count = |text: &str| inference::count_tokens(text, Some(&model.name)).map(|c| c.tokens);
    let mut done = Done::default();
    let mut seen: Vec<Action> = Vec::new();
    let mut repeats = 0;
    let mut reported = (0, 0, 0);
    let budget = ctx.saturating_sub(call_tokens + TEMPLATE_TOKENS);

    for step in 1..=options.max_steps {
        let fitted =
            context::fit(&conv, budget, count).map_err(|e| Error::failed(e.to_string()))?;
        let now = (
            fitted.dropped_turns,
            fitted.shortened_steps,
            fitted.dropped_steps,
        );
        if now != reported {
            log::info(&format!(
                "to fit the model's {ctx}-token context: {} earlier turn(s) left out, {} old \
                 result(s) shortened, {} old step(s) left out (the task is always sent whole)",
                now.0, now.1, now.2
            ));
            reported = now;
        }
        let request = chat_request(&fitted.messages, &model)
            .json_schema(&toolbox.schema(&seen))
            .max_tokens(call_tokens);
        let reply = match inference::chat(&request) {
            Ok(reply) => reply,
            Err(InferenceError::BudgetExhausted { limit, .. }) => {
                done.stopped = Some(format!("the profile's `{limit}` budget is spent"));
                break;
            }
            Err(e) => return Err(e.into()),
        };
        let action = match tools::parse(&reply.text) {
            Ok(action) => action,
            Err(why) => {
                log::warn(&format!("step {step}: {why}"));
                conv.steps.push(Step {
                    call: reply.text.clone(),
                    observation: format!(
                        "That was not a complete tool call ({why}). Reply with one short JSON \
                         tool call."
                    ),
                    short: "(an incomplete tool call)".into(),
                });
                continue;
            }
        };
        if action == (Action::Answer {}) {
            // Changes are tested before the answer, when the notes say how;
            // a failure goes back to the model while it has steps left.
            if let Some(passed) = run_tests(tests.as_ref(), &mut conv, &mut done, observation_chars)
                && !passed
                && step < options.max_steps
            {
                continue;
            }
            break;
        }
        if seen.contains(&action) {
            repeats += 1;
            log::warn(&format!(
                "step {step}: the model repeated `{}`",
                action.describe()
            ));
            if repeats >= MAX_REPEATS {
                done.stopped = Some("the model repeated a tool call".into());
                break;
            }
            conv.steps.push(Step {
                call: action.to_json(),
                observation: "You already did exactly this; its result is above. Do something \
                              else, or call answer."
                    .into(),
                short: "(a repeated call)".into(),
            });
            continue;
        }
        log::info(&format!("step {step}: {}", action.describe()));
        let (observation, short) = execute(&action, observation_chars, &mut done);
        done.steps.push(action.describe());
        seen.push(action.clone());
        conv.steps.push(Step {
            call: action.to_json(),
            observation,
            short,
        });
        if step == options.max_steps {
            done.stopped = Some(format!(
                "it used all {} steps (`--arg max-steps=N` allows more)",
                options.max_steps
            ));
        }
    }
    if let Some(why) = &done.stopped {
        log::warn(&format!("the agent stopped early: {why}"));
    }
    run_tests(tests.as_ref(), &mut conv, &mut done, observation_chars);
    // The answer is printed as it streams, and printed text is the start
    // of the run's output: the summary follows it.
    answer(&conv, &options.task, &done, &model, answer_tokens, count)?;
    Ok(Output::text(summary(&done)))
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

/// The system prompt of the answer: no tools, just notes to answer from.
const ANSWER_SYSTEM: &str = "You are a careful coding assistant on an offline machine. \
    Answer the user's task in plain sentences, using only the notes you took while looking at \
    their project. Be brief and concrete; say which files you changed and which commands you \
    ran, if any.";

/// The project's test command (from the notes), when the profile lets the
/// agent run its program.
fn test_command(notes: Option<&str>, toolbox: &Toolbox) -> Option<Vec<String>> {
    let command = prompt::test_command(notes?)?;
    if toolbox.programs.iter().any(|(name, _)| *name == command[0]) {
        Some(command)
    } else {
        log::warn(&format!(
            "{} names the test command `{}`, but the profile does not let this run start `{}` \
             ([commands.programs]); changes will not be tested",
            prompt::NOTES_FILE,
            command.join(" "),
            command[0]
        ));
        None
    }
}

/// Run the project's tests if files changed since they last ran; the result
/// becomes a step the model sees. Returns whether they passed, or none when
/// there was nothing to test.
fn run_tests(
    tests: Option<&Vec<String>>,
    conv: &mut Conversation,
    done: &mut Done,
    max: usize,
) -> Option<bool> {
    let command = tests?;
    if done.changed.len() <= done.tested {
        return None;
    }
    done.tested = done.changed.len();
    let action = Action::RunCommand {
        program: command[0].clone(),
        args: command[1..].to_vec(),
    };
    log::info(&format!(
        "testing the change, as {} says: {}",
        prompt::NOTES_FILE,
        command.join(" ")
    ));
    let (observation, short, passed) = match run_command(&command[0], &command[1..], max) {
        Ok((text, line, passed)) => {
            done.ran.push(line);
            (
                text,
                "(the tests ran; their result was shown earlier)".to_string(),
                passed,
            )
        }
        Err(e) => {
            let text = format!("Not done: {e}");
            (text.clone(), text, false)
        }
    };
    conv.steps.push(Step {
        call: action.to_json(),
        observation,
        short,
    });
    Some(passed)
}

/// Stream the answer to the terminal. Results are written out as notes;
/// when they do not all fit, the oldest are shortened, then left out.
fn answer(
    conv: &Conversation,
    task: &str,
    done: &Done,
    model: &ModelInfo,
    answer_tokens: u32,
    count: impl Fn(&str) -> Result<u32, InferenceError>,
) -> Result<(), Error> {
    let budget = model
        .usable_context()
        .saturating_sub(answer_tokens + TEMPLATE_TOKENS);
    let mut notes: Vec<String> = conv.steps.iter().map(|s| s.observation.clone()).collect();
    let mut shortened = 0;
    let fitted = loop {
        let attempt = Conversation {
            system: ANSWER_SYSTEM.to_string(),
            history: conv.history.clone(),
            task: prompt::answer_request(task, &notes, &done.changed, &done.ran),
            steps: Vec::new(),
        };
        match context::fit(&attempt, budget, &count) {
            Ok(fitted) => break fitted,
            Err(context::FitError::TaskTooLong { .. }) if !notes.is_empty() => {
                if shortened < conv.steps.len() {
                    notes[shortened].clone_from(&conv.steps[shortened].short);
                    shortened += 1;
                } else {
                    notes.remove(0);
                }
            }
            Err(e) => return Err(Error::failed(e.to_string())),
        }
    };
    let request = chat_request(&fitted.messages, model).max_tokens(answer_tokens);
    inference::print_answer(&request)?;
    Ok(())
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

/// Characters of one tool result: about a quarter of the context.
fn observation_chars(ctx: u32) -> usize {
    (ctx as usize / 4) * 3
}

/// The project's AIRLOCK.md, when the profile lets the agent read it, cut to
/// a quarter of the context.
fn read_notes(toolbox: &Toolbox, ctx: u32) -> Option<String> {
    if !toolbox.files.iter().any(|f| f == prompt::NOTES_FILE) {
        return None;
    }
    match workspace::read_to_string(prompt::NOTES_FILE) {
        Ok(text) => {
            log::info(&format!(
                "following the project's notes in {}",
                prompt::NOTES_FILE
            ));
            Some(cut(&text, observation_chars(ctx)).0)
        }
        Err(e) => {
            log::warn(&format!("cannot read {}: {e}", prompt::NOTES_FILE));
            None
        }
    }
}

/// `text` cut to `max` characters (at a line end where possible), and
/// whether it was cut.
fn cut(text: &str, max: usize) -> (String, bool) {
    if text.chars().count() <= max {
        return (text.to_string(), false);
    }
    let head: String = text.chars().take(max).collect();
    let head = match head.rfind('\n') {
        Some(at) if at > max / 2 => head[..at].to_string(),
        _ => head,
    };
    (head, true)
}

/// Run one tool; returns the result as the model sees it, and in one line.
fn execute(action: &Action, max: usize, done: &mut Done) -> (String, String) {
    let result = match action {
        Action::ReadFile { path } => read_file(path, max),
        Action::ListFiles { dir } => list_files(dir, max),
        Action::Search { pattern } => search(pattern, max),
        Action::RepoMap {} => skill::<repo_map_core::RepoMapSkill>(&[("format", "text")], max),
        Action::ScanSecrets {} => skill::<secret_scan_core::SecretScan>(&[("format", "text")], max),
        Action::WriteFile { path, content } => workspace::write(path, content).map(|()| {
            done.changed.push(path.clone());
            format!("Wrote {path} ({} bytes).", content.len())
        }),
        Action::ReplaceText { path, old, new } => replace_text(path, old, new).map(|n| {
            done.changed.push(path.clone());
            format!("Replaced the text in {path}; it is now {n} bytes.")
        }),
        Action::RunCommand { program, args } => run_command(program, args, max).map(|r| {
            done.ran.push(r.1);
            r.0
        }),
        Action::Answer {} => Ok(String::new()),
    };
    match result {
        Ok(text) => {
            let short = format!(
                "({} was done; its result was shown earlier.)",
                action.describe()
            );
            (text, short)
        }
        Err(e) => {
            let text = format!("Not done: {e}");
            (text.clone(), text)
        }
    }
}

fn read_file(path: &str, max: usize) -> Result<String, Error> {
    let text = workspace::read_to_string(path)?;
    let lines = text.lines().count();
    let (shown, was_cut) = cut(&text, max);
    let mut out = format!("{path} ({lines} lines):\n{shown}");
    if was_cut {
        out.push_str(&format!(
            "\n(cut here: {path} is longer than the room for one result)"
        ));
    }
    Ok(out)
}

fn list_files(dir: &str, max: usize) -> Result<String, Error> {
    let entries = workspace::list_dir(dir)?;
    let mut out = format!("{dir} holds {} entries:\n", entries.len());
    for e in entries {
        let mark = match (e.kind, &e.withheld) {
            (_, Some(rule)) => format!("  (withheld by the deny-list rule `{rule}`)"),
            (airlock_sdk::workspace::EntryKind::Directory, _) => "/".into(),
            _ => format!("  {} bytes", e.size),
        };
        out.push_str(&format!("{}{mark}\n", e.path));
    }
    Ok(cut(&out, max).0)
}

fn search(pattern: &str, max: usize) -> Result<String, Error> {
    if pattern.trim().is_empty() {
        return Err(Error::InvalidInput("the search pattern is empty".into()));
    }
    let result = workspace::search(
        &SearchQuery::new(pattern)
            .literal()
            .case_insensitive()
            .max_matches(40),
    )?;
    if result.matches.is_empty() {
        return Ok(format!("No line contains {pattern:?}."));
    }
    let mut out = format!("Lines containing {pattern:?}:\n");
    for m in &result.matches {
        out.push_str(&format!("{}:{}: {}\n", m.path, m.line, m.text.trim()));
    }
    if result.truncated {
        out.push_str("(more matches not shown)\n");
    }
    Ok(cut(&out, max).0)
}

/// Another skill's logic, run in this sandbox with this run's grants.
fn skill<S: Skill>(args: &[(&str, &str)], max: usize) -> Result<String, Error> {
    let output = S::run(Request::with_args(args))?;
    Ok(cut(&output.text, max).0)
}

fn replace_text(path: &str, old: &str, new: &str) -> Result<usize, Error> {
    if old.is_empty() {
        return Err(Error::InvalidInput(
            "`old` is empty: give the exact text to replace".into(),
        ));
    }
    let text = workspace::read_to_string(path)?;
    match text.matches(old).count() {
        0 => Err(Error::InvalidInput(format!(
            "the text to replace is not in {path}; read the file and copy the text exactly"
        ))),
        1 => {
            let changed = text.replacen(old, new, 1);
            workspace::write(path, &changed)?;
            Ok(changed.len())
        }
        n => Err(Error::InvalidInput(format!(
            "the text to replace appears {n} times in {path}; include more of the \
             surrounding lines so it appears once"
        ))),
    }
}

/// Run a program; returns the result for the model, a one-line summary and
/// whether it succeeded.
fn run_command(
    program: &str,
    args: &[String],
    max: usize,
) -> Result<(String, String, bool), Error> {
    let result = exec::Command::new(program).args(args).run()?;
    let mut line = program.to_string();
    for a in args {
        line.push(' ');
        line.push_str(a);
    }
    let status = match (result.exit_code, result.signal, result.timed_out) {
        (_, _, true) => "timed out".to_string(),
        (Some(code), _, _) => format!("exit code {code}"),
        (None, Some(sig), _) => format!("killed by signal {sig}"),
        (None, None, _) => "ended".to_string(),
    };
    let half = max / 2;
    let out = format!(
        "`{line}`: {status}\nstdout:\n{}\nstderr:\n{}",
        tail(&result.stdout, half),
        tail(&result.stderr, half)
    );
    Ok((out, format!("{line} ({status})"), result.success()))
}

/// The last `max` characters of `text` (where test failures are).
fn tail(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    let rest: String = text.chars().skip(n - max).collect();
    format!("(… {} characters before)\n{rest}", n - max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_prefers_a_line_end_and_says_so() {
        let text = "line one\nline two\nline three\n";
        assert_eq!(cut(text, 100), (text.to_string(), false));
        let (head, was_cut) = cut(text, 14);
        assert!(was_cut);
        assert_eq!(head, "line one");
    }

    #[test]
    fn tail_keeps_the_end_of_command_output() {
        let t = tail(&"x".repeat(50), 10);
        assert!(t.starts_with("(… 40 characters before)"));
        assert!(t.ends_with("xxxxxxxxxx"));
    }

    #[test]
    fn the_summary_lists_what_was_done() {
        let done = Done {
            steps: vec!["read_file a.py".into(), "write_file b.py (3 bytes)".into()],
            changed: vec!["b.py".into()],
            ran: vec!["make test (exit code 0)".into()],
            stopped: None,
            tested: 1,
        };
        let s = summary(&done);
        assert!(s.contains("Steps: read_file a.py; write_file b.py (3 bytes)"));
        assert!(s.contains("Changed: b.py"));
        assert!(s.contains("Ran: make test (exit code 0)"));
    }
}
