//! `review`: an Airlock skill that reviews a file or a diff with a local
//! model and reports what it finds as Airlock findings.
//!
//! The model answers through structured output (`findings::SCHEMA`, which
//! the engine enforces while decoding), so even a small model returns JSON
//! that parses. Findings whose line is outside the reviewed lines are
//! dropped with a warning. A diff is reviewed hunk by hunk, added lines
//! only, with line numbers in the new file.
//!
//! Only this file talks to the host; parsing, chunking and rendering are
//! pure and tested natively.

mod diff;
mod findings;
mod options;
mod report;
mod unit;

use std::collections::VecDeque;

use airlock_sdk::inference::{self, ChatRequest, FinishReason, InferenceError, ModelInfo};
use airlock_sdk::workspace;
use airlock_sdk::{Capability, Error, Output, Request, Skill, SkillInfo, log};

use crate::options::{Options, Target};
use crate::report::Report;
use crate::unit::Unit;

/// Tokens kept free for the chat template's markers and the user message's
/// header line.
const OVERHEAD_TOKENS: u32 = 64;

/// The prompt needs at least this many tokens for code, or the review would
/// be a line at a time.
const MIN_CODE_TOKENS: u32 = 128;

/// A first guess of characters per token for numbered code; units that turn
/// out larger are split after counting.
const CHARS_PER_TOKEN_GUESS: u32 = 3;

/// The most model calls one review makes; the profile's `inference.max-calls`
/// may stop it sooner. Lines beyond are listed as not reviewed.
const MAX_CALLS: u32 = 12;

/// Progress is reported every this many pieces of the answer.
const PROGRESS_EVERY: u64 = 16;

/// The skill.
pub struct Review;

impl Skill for Review {
    fn describe() -> SkillInfo {
        SkillInfo {
            name: "review".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Reviews a file or a unified diff with a local model and reports findings \
                      (line, severity, message). Args: file=PATH or diff=PATH (or a diff as \
                      input), format=text|json|sarif, stream=true|false, model=NAME, \
                      max-tokens=N."
                .to_string(),
            capabilities: vec![Capability::WorkspaceRead(".".to_string())],
        }
    }

    fn run(request: Request) -> Result<Output, Error> {
        let options = Options::from_request(&request)?;
        for key in &options.unknown {
            log::warn(&format!(
                "review ignores unknown argument `{key}` (known: {})",
                Options::known().join(", ")
            ));
        }
        let model = inference::model(options.model.as_deref())?;
        let max_tokens = options.max_tokens.min(model.usable_context() / 2);
        let code_tokens = code_budget(&model, max_tokens)?;
        let units = units(
            &options.target,
            code_tokens.saturating_mul(CHARS_PER_TOKEN_GUESS),
        )?;

        let mut report = Report {
            model: model.name.clone(),
            digest: model.digest.clone(),
            ..Report::default()
        };
        if units.is_empty() {
            report
                .notes
                .push("the diff adds no lines: nothing to review".to_string());
        }
        review_all(
            units,
            &model,
            max_tokens,
            code_tokens,
            &options,
            &mut report,
        )?;
        report.sort();
        let text = report::render(options.format, &report);
        Ok(Output::text(text).with_findings(report.findings))
    }
}

airlock_sdk::export_skill!(Review);

/// Tokens left for the code of one call: the context less the answer, the
/// instructions, the worked example and the template.
fn code_budget(model: &ModelInfo, max_tokens: u32) -> Result<u32, Error> {
    let fixed = format!(
        "{}\n{}\n{}",
        findings::SYSTEM,
        findings::EXAMPLE_CODE,
        findings::EXAMPLE_REPLY
    );
    let system = inference::count_tokens(&fixed, Some(&model.name))?.tokens;
    let left = model
        .usable_context()
        .saturating_sub(max_tokens + system + OVERHEAD_TOKENS);
    if left < MIN_CODE_TOKENS {
        return Err(Error::failed(format!(
            "model `{}` has a context of {} tokens: too small to hold the instructions, \
             code and an answer of {max_tokens} tokens (lower it with --arg max-tokens=N)",
            model.name,
            model.usable_context()
        )));
    }
    Ok(left)
}

/// The units to review, from the file or the diff.
fn units(target: &Target, max_chars: u32) -> Result<Vec<Unit>, Error> {
    let max_chars = max_chars as usize;
    let diff_units = |text: &str| -> Result<Vec<Unit>, Error> {
        Ok(diff::parse(text)?
            .iter()
            .flat_map(|f| unit::of_diff(f, max_chars))
            .collect())
    };
    match target {
        Target::File(path) => {
            let content = workspace::read_to_string(path)?;
            if content.trim().is_empty() {
                return Err(Error::InvalidInput(format!("`{path}` is empty")));
            }
            Ok(unit::of_file(path, &content, max_chars))
        }
        Target::DiffFile(path) => diff_units(&workspace::read_to_string(path)?),
        Target::DiffText(text) => {
            if !diff::looks_like_diff(text) {
                return Err(Error::InvalidInput(
                    "the input is not a unified diff (no `+++` header and `@@` hunk); to \
                     review a file use --arg file=PATH"
                        .to_string(),
                ));
            }
            diff_units(text)
        }
    }
}

/// Reviews each unit with one model call, splitting those that do not fit.
/// A spent budget ends the review early with a note; other inference
/// failures fail the run.
fn review_all(
    units: Vec<Unit>,
    model: &ModelInfo,
    max_tokens: u32,
    code_tokens: u32,
    options: &Options,
    report: &mut Report,
) -> Result<(), Error> {
    let mut queue: VecDeque<Unit> = units.into();
    while let Some(unit) = queue.pop_front() {
        let user = findings::user_message(&unit);
        let tokens = inference::count_tokens(&user, Some(&model.name))?.tokens;
        if tokens > code_tokens
            && let Some((a, b)) = unit.split()
        {
            queue.push_front(b);
            queue.push_front(a);
            continue;
        }
        if report.calls >= MAX_CALLS {
            queue.push_front(unit);
            note_unreviewed(
                report,
                &queue,
                &format!("the review stops after {MAX_CALLS} model calls"),
            );
            break;
        }
        match review_unit(&unit, &user, model, max_tokens, options) {
            Ok((answer, ended)) => {
                report.calls += 1;
                record(report, &unit, &answer, ended);
            }
            Err(err @ InferenceError::BudgetExhausted { .. }) => {
                queue.push_front(unit);
                note_unreviewed(report, &queue, &err.to_string());
                break;
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

/// How a model call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    /// The engine finished, for this reason.
    Finished(FinishReason),
    /// The model was repeating itself; the skill stopped reading.
    Looped,
}

/// One model call: the answer's raw JSON text and how it ended.
fn review_unit(
    unit: &Unit,
    user: &str,
    model: &ModelInfo,
    max_tokens: u32,
    options: &Options,
) -> Result<(String, Ended), InferenceError> {
    let (first, last) = unit.span();
    let what = format!("reviewing {}:{first}-{last}", unit.path);
    log::progress(0, u64::from(max_tokens), &what);
    let request = ChatRequest::new()
        .model(&model.name)
        .system(findings::SYSTEM)
        .user(findings::EXAMPLE_CODE)
        .assistant(findings::EXAMPLE_REPLY)
        .user(user)
        .max_tokens(max_tokens)
        .json_schema(findings::SCHEMA);
    let mut stream = inference::chat_stream(&request)?;
    let mut text = String::new();
    let mut pieces: u64 = 0;
    for piece in stream.by_ref() {
        let piece = piece?;
        pieces += 1;
        if pieces.is_multiple_of(PROGRESS_EVERY) {
            log::progress(pieces, u64::from(max_tokens), &what);
        }
        if options.stream {
            log::print(&piece);
        }
        text.push_str(&piece);
        if findings::open_message(&text).is_some_and(inference::repeats_itself) {
            // Dropping the stream stops the generation: the rest would be
            // more of the same, at the cost of time and budget.
            if options.stream {
                log::print("…\n");
            }
            log::warn(&format!(
                "{what}: the model was repeating itself; its answer was cut there"
            ));
            return Ok((text, Ended::Looped));
        }
    }
    if options.stream {
        log::print("\n");
    }
    let completion = stream.completion()?;
    log::progress(
        u64::from(completion.usage.completion_tokens),
        u64::from(completion.usage.completion_tokens),
        &what,
    );
    Ok((text, Ended::Finished(completion.finish)))
}

/// Adds one answer's findings to the report, with warnings for what was
/// dropped.
fn record(report: &mut Report, unit: &Unit, answer: &str, ended: Ended) {
    let (first, last) = unit.span();
    let parsed = findings::parse(answer, unit);
    for (line, message) in &parsed.dropped {
        log::warn(&format!(
            "dropped a finding at line {line} of {}: outside the reviewed lines {first}-{last} \
             ({message})",
            unit.path
        ));
    }
    if let Some(why) = &parsed.unparsed {
        report.notes.push(format!(
            "the answer for {}:{first}-{last} was not used: {why}",
            unit.path
        ));
    } else if ended == Ended::Looped {
        report.notes.push(format!(
            "the answer for {}:{first}-{last} was cut where the model began repeating itself",
            unit.path
        ));
    } else if parsed.repaired || ended == Ended::Finished(FinishReason::Length) {
        report.notes.push(format!(
            "the answer for {}:{first}-{last} was cut off at the token limit; findings after \
             the cut are missing (raise it with --arg max-tokens=N)",
            unit.path
        ));
    }
    report.dropped += parsed.dropped.len();
    report.findings.extend(parsed.findings);
    report.add_reviewed(&unit.path, unit.reviewed_ranges());
}

/// Notes the units that were not reviewed, and why.
fn note_unreviewed(report: &mut Report, rest: &VecDeque<Unit>, why: &str) {
    let mut parts: Vec<String> = Vec::new();
    for u in rest {
        let (a, b) = u.span();
        parts.push(format!("{}:{a}-{b}", u.path));
    }
    let note = format!(
        "review incomplete ({why}); not reviewed: {}",
        parts.join(", ")
    );
    log::warn(&note);
    report.notes.push(note);
}
