//! `explain`: an Airlock skill that answers a question about the workspace
//! with a local model, from excerpts of the granted files, and cites them.
//!
//! Retrieval is keyword search through the host (`terms`, `retrieve`);
//! the prompt is fitted to the model's context with the host's tokenizer
//! (`prompt`); the answer is streamed to the terminal as it is generated,
//! and the run's output is the list of sources sent to the model.
//!
//! Only this file talks to the host; the rest is pure and tested natively.

mod options;
mod prompt;
mod retrieve;
mod terms;

use airlock_sdk::inference::{self, ChatRequest, FinishReason, ModelInfo, Usage};
use airlock_sdk::workspace::{self, GrantedFiles, SearchQuery};
use airlock_sdk::{Capability, Error, Output, Request, Skill, SkillInfo, log};

use crate::options::Options;
use crate::retrieve::{Candidate, Excerpt, Scorer};

/// Tokens kept free for the chat template's own markers around the
/// messages (SmolLM2's template adds about 10; others a few dozen).
const TEMPLATE_TOKENS: u32 = 48;

/// The prompt needs at least this many tokens besides the answer, or there
/// is no room for even one excerpt.
const MIN_PROMPT_TOKENS: u32 = 256;

/// Search matches taken for the question's terms: enough to rank files,
/// few enough not to spend the run's listing budget on one common word.
const MAX_TERM_MATCHES: u32 = 2_000;

/// Search matches taken for a symbol.
const MAX_SYMBOL_MATCHES: u32 = 500;

/// The skill.
pub struct Explain;

impl Skill for Explain {
    fn describe() -> SkillInfo {
        SkillInfo {
            name: "explain".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Answers a question about the workspace with a local model, from excerpts \
                      of the granted files, and cites them. Input: the question. Args: \
                      file=PATH, symbol=NAME, max-tokens=N, model=NAME, max-files=N."
                .to_string(),
            capabilities: vec![Capability::WorkspaceRead(".".to_string())],
        }
    }

    fn run(request: Request) -> Result<Output, Error> {
        let options = Options::from_request(&request)?;
        for key in &options.unknown {
            log::warn(&format!(
                "explain ignores unknown argument `{key}` (known: {})",
                Options::known().join(", ")
            ));
        }
        let model = inference::model(options.model.as_deref())?;
        let (max_tokens, prompt_budget) = budget(&model, options.max_tokens)?;
        let question = options.question();

        let granted = workspace::granted_files()?;
        if let Some(file) = &options.file {
            check_target(file, &granted)?;
        }
        let candidates = rank(&options, &question, &granted)?;
        let excerpts = read_excerpts(&candidates);
        let prompt = prompt::fit(&question, &excerpts, prompt_budget, |text| {
            inference::count_tokens(text, Some(&model.name)).map(|c| c.tokens)
        })?;
        log::info(&format!(
            "asking {} ({} prompt tokens, {} from {}, answer up to {max_tokens} tokens)",
            model.name,
            prompt.tokens,
            plural(prompt.used.len(), "excerpt"),
            plural(files_in(&prompt.used), "file"),
        ));

        let chat = ChatRequest::new()
            .model(&model.name)
            .system(&prompt.system)
            .user(&prompt.user)
            .max_tokens(max_tokens);
        let answer = stream_answer(&chat)?;
        Ok(Output::text(tail(
            &answer,
            &prompt.used,
            granted.withheld.len(),
            &model,
            max_tokens,
        )))
    }
}

airlock_sdk::export_skill!(Explain);

/// The answer's token limit (at most half the context) and the tokens left
/// for the prompt.
fn budget(model: &ModelInfo, max_tokens: u32) -> Result<(u32, u32), Error> {
    let ctx = model.usable_context();
    let max_tokens = max_tokens.min(ctx / 2);
    let prompt = ctx.saturating_sub(max_tokens + TEMPLATE_TOKENS);
    if prompt < MIN_PROMPT_TOKENS {
        return Err(Error::failed(format!(
            "model `{}` has a context of {ctx} tokens: too small to hold excerpts and an \
             answer of {max_tokens} tokens",
            model.name
        )));
    }
    Ok((max_tokens, prompt))
}

/// A file named with `file=` must be one the profile lets the skill read.
fn check_target(file: &str, granted: &GrantedFiles) -> Result<(), Error> {
    if granted.files.iter().any(|e| e.path == file) {
        return Ok(());
    }
    if let Some(w) = granted.withheld.iter().find(|w| w.path == file) {
        return Err(Error::failed(format!(
            "`{file}` is withheld by the deny-list (rule `{}`): explain never reads it",
            w.rule
        )));
    }
    // Not listed: let the host say why (not granted, not found, a directory).
    workspace::stat(file)?;
    Err(Error::InvalidInput(format!(
        "`{file}` is not a readable file in the granted workspace"
    )))
}

/// Scores the granted files for the question (and the file or symbol asked
/// about) and returns the best few.
fn rank(
    options: &Options,
    question: &str,
    granted: &GrantedFiles,
) -> Result<Vec<Candidate>, Error> {
    let mut scorer = Scorer::default();
    // A question made up from `file=`/`symbol=` has no words of the user's
    // to search for: its file is pinned and its symbol is searched below.
    let mut terms = match &options.input {
        Some(_) => terms::terms(question),
        None => Vec::new(),
    };
    if let Some(symbol) = &options.symbol
        && !terms.iter().any(|t| t == symbol)
    {
        terms.insert(0, symbol.clone());
        terms.truncate(terms::MAX_TERMS);
    }
    if let Some(file) = &options.file {
        scorer.pin(file);
    }
    for entry in &granted.files {
        scorer.path_terms(&entry.path, &terms);
    }
    if !terms.is_empty() {
        let query = SearchQuery::new(terms::any_of(&terms))
            .case_insensitive()
            .max_matches(MAX_TERM_MATCHES);
        for m in search(&query)? {
            scorer.content_match(&m.path, m.line, &m.text, &terms);
        }
    }
    if let Some(symbol) = &options.symbol {
        let query = SearchQuery::new(format!("\\b{}\\b", terms::regex_escape(symbol)))
            .max_matches(MAX_SYMBOL_MATCHES);
        for m in search(&query)? {
            scorer.symbol_match(&m.path, m.line, terms::is_definition(&m.text, symbol));
        }
    }
    let ranked = scorer.ranked(options.max_files);
    for c in &ranked {
        log::debug(&format!("context: {} (score {})", c.path, c.score));
    }
    Ok(ranked)
}

/// A search whose failure for lack of budget leaves the ranking with what
/// the file names say, rather than failing the question.
fn search(query: &SearchQuery) -> Result<Vec<workspace::SearchMatch>, Error> {
    match workspace::search(query) {
        Ok(result) => {
            if result.truncated {
                log::debug("the search stopped early; ranking by the matches found");
            }
            Ok(result.matches)
        }
        Err(err @ Error::LimitExceeded { .. }) => {
            log::warn(&format!("search skipped: {err}"));
            Ok(Vec::new())
        }
        Err(err) => Err(err),
    }
}

/// Reads each candidate and cuts its excerpts. A file that cannot be read
/// (binary, not UTF-8, refused, over a limit) is skipped, never an error:
/// the answer is made from what could be read.
fn read_excerpts(candidates: &[Candidate]) -> Vec<Excerpt> {
    let mut per_file = Vec::new();
    for c in candidates {
        match workspace::read(&c.path) {
            Ok(bytes) => match retrieve::looks_like_text(&bytes) {
                Some(text) => per_file.push(retrieve::excerpts(c, text)),
                None => log::debug(&format!("skipped {}: not text", c.path)),
            },
            Err(err) => log::warn(&format!("skipped {}: {err}", c.path)),
        }
    }
    retrieve::interleave(per_file)
}

/// How the streamed answer ended (its text is already printed).
struct Answer {
    /// Why generation ended; `None` when the skill cut a looping answer.
    finish: Option<FinishReason>,
    /// Prompt and answer tokens; `None` for a cut answer (never completed).
    usage: Option<Usage>,
}

/// Streams the answer to the terminal as it is generated.
fn stream_answer(chat: &ChatRequest) -> Result<Answer, Error> {
    let printed = inference::print_answer(chat)?;
    Ok(Answer {
        finish: printed.completion.as_ref().map(|c| c.finish),
        usage: printed.completion.map(|c| c.usage),
    })
}

/// The run's output after the streamed answer: a note if it was cut, the
/// sources, what was withheld, and which model answered.
fn tail(
    answer: &Answer,
    used: &[Excerpt],
    withheld: usize,
    model: &ModelInfo,
    max_tokens: u32,
) -> String {
    // The answer ends its own line; one blank line before the sources.
    let mut text = String::from("\n");
    if answer.finish == Some(FinishReason::Length) {
        text.push_str(&format!(
            "(The answer was cut off at {max_tokens} tokens; raise it with --arg max-tokens=N.)\n\n"
        ));
    }
    text.push_str(&prompt::sources(used));
    if withheld > 0 {
        let verb = if withheld == 1 { "was" } else { "were" };
        text.push_str(&format!(
            "{} withheld by the deny-list {verb} not read.\n",
            plural(withheld, "file")
        ));
    }
    let usage = match answer.usage {
        Some(u) => format!(
            ": {} prompt + {} answer tokens",
            u.prompt_tokens, u.completion_tokens
        ),
        None => String::new(),
    };
    text.push_str(&format!(
        "Answered by {} ({}) on this machine{usage}.\n",
        model.name,
        short_digest(&model.digest),
    ));
    text
}

/// How many distinct files the excerpts come from.
fn files_in(used: &[Excerpt]) -> usize {
    let mut paths: Vec<&str> = used.iter().map(|e| e.path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    paths.len()
}

/// `sha256:b179c9523d0e…`: enough to tell models apart in a terminal.
fn short_digest(digest: &str) -> String {
    match digest.char_indices().nth(19) {
        Some((i, _)) => format!("{}…", &digest[..i]),
        None => digest.to_string(),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
