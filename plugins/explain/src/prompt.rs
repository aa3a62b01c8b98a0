//! The prompt: the question and as many excerpts as fit the model's context,
//! and the sources list that cites exactly what was sent.

use std::fmt::Write;

use crate::retrieve::Excerpt;

/// What the model is told to do. Short: a small model follows short
/// instructions better, and every token here is one less for the excerpts.
pub const SYSTEM: &str = "You are a code assistant. Answer the question using only the \
excerpts from the user's workspace below. Mention file names and line numbers when they \
help. If the excerpts do not contain the answer, say so. Be concise.";

/// A first guess of characters per token, used before the host has counted:
/// code averages about 3–4; guessing low makes the first try more likely to fit.
const CHARS_PER_TOKEN_GUESS: usize = 3;

/// How many times the prompt is shrunk and re-counted before giving up and
/// sending the question alone: each count is a host call.
const MAX_FIT_ROUNDS: usize = 4;

/// An excerpt is cut rather than dropped only if this many lines still fit.
const MIN_PARTIAL_LINES: u32 = 4;

/// The messages to send, and the excerpts they contain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// The system message.
    pub system: String,
    /// The user message: the excerpts, then the question.
    pub user: String,
    /// The excerpts in `user`, as sent (possibly shortened).
    pub used: Vec<Excerpt>,
    /// Tokens of the prompt as the host last counted them (0 if never counted).
    pub tokens: u32,
}

impl Prompt {
    /// The text whose tokens are counted: both messages.
    fn counted_text(&self) -> String {
        format!("{}\n{}", self.system, self.user)
    }
}

/// Builds the prompt with the excerpts, in order, that fit in `char_budget`
/// characters of excerpt text; the last one that does not fit is cut to its
/// first lines when enough of them fit.
pub fn build(question: &str, excerpts: &[Excerpt], char_budget: usize) -> Prompt {
    let mut used: Vec<Excerpt> = Vec::new();
    let mut spent = 0;
    for e in excerpts {
        let cost = block(e).chars().count();
        if spent + cost <= char_budget {
            spent += cost;
            used.push(e.clone());
            continue;
        }
        // Cut this excerpt to the lines that fit, then stop: later excerpts
        // rank lower and would only be squeezed in around it.
        let mut fitting = 0;
        let mut so_far = block_overhead(e);
        for line in e.text.split('\n') {
            so_far += line.chars().count() + 1;
            if spent + so_far > char_budget {
                break;
            }
            fitting += 1;
        }
        if fitting >= MIN_PARTIAL_LINES {
            used.push(e.first_lines(fitting));
        }
        break;
    }
    // Keep each file's excerpts together and in line order: easier for the
    // model to read, and the order the sources list cites them in.
    let order: Vec<String> = dedup_paths(&used);
    used.sort_by_key(|e| {
        (
            order
                .iter()
                .position(|p| *p == e.path)
                .unwrap_or(usize::MAX),
            e.start,
        )
    });
    let mut user = String::new();
    if used.is_empty() {
        user.push_str("No excerpts from the workspace matched the question.\n\n");
    } else {
        user.push_str("Excerpts from the workspace:\n\n");
        for e in &used {
            user.push_str(&block(e));
        }
    }
    let _ = write!(user, "Question: {question}");
    Prompt {
        system: SYSTEM.to_string(),
        user,
        used,
        tokens: 0,
    }
}

/// Builds the largest prompt whose token count (by `count`, the host's
/// tokenizer) is at most `token_budget`. The first try assumes
/// [`CHARS_PER_TOKEN_GUESS`]; each further try scales the excerpt budget by
/// how far the last count was off. After [`MAX_FIT_ROUNDS`] the prompt
/// without excerpts is returned, for the host to accept or refuse.
pub fn fit<E>(
    question: &str,
    excerpts: &[Excerpt],
    token_budget: u32,
    mut count: impl FnMut(&str) -> Result<u32, E>,
) -> Result<Prompt, E> {
    let budget = token_budget as usize;
    let mut chars = budget.saturating_mul(CHARS_PER_TOKEN_GUESS);
    for _ in 0..MAX_FIT_ROUNDS {
        let mut prompt = build(question, excerpts, chars);
        let tokens = count(&prompt.counted_text())?;
        prompt.tokens = tokens;
        if tokens as usize <= budget {
            return Ok(prompt);
        }
        if prompt.used.is_empty() {
            // The question alone is too long; nothing left to drop.
            return Ok(prompt);
        }
        let excerpt_chars: usize = prompt.used.iter().map(|e| block(e).chars().count()).sum();
        let over = tokens as usize - budget;
        // Chars per token as measured on this prompt, applied to the excess,
        // plus a tenth of slack since excerpts are cut at line boundaries.
        let per_token = prompt.counted_text().chars().count() as f64 / f64::from(tokens.max(1));
        let drop = (over as f64 * per_token * 1.1).ceil() as usize;
        chars = excerpt_chars.saturating_sub(drop.max(1));
    }
    let mut prompt = build(question, &[], 0);
    prompt.tokens = count(&prompt.counted_text())?;
    Ok(prompt)
}

/// One excerpt as the model sees it: a header naming the file and lines,
/// then the lines in a fence.
fn block(e: &Excerpt) -> String {
    format!(
        "--- {} (lines {}-{}) ---\n```\n{}\n```\n\n",
        e.path, e.start, e.end, e.text
    )
}

/// The characters of [`block`] that are not the excerpt's lines.
fn block_overhead(e: &Excerpt) -> usize {
    block(e).chars().count() - e.text.chars().count()
}

fn dedup_paths(excerpts: &[Excerpt]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in excerpts {
        if !out.contains(&e.path) {
            out.push(e.path.clone());
        }
    }
    out
}

/// The `Sources:` list: each file once, with the line ranges sent.
///
/// ```text
/// Sources:
///   src/sandbox.rs:12-40, 88-101
///   docs/security.md:1-40
/// ```
pub fn sources(used: &[Excerpt]) -> String {
    if used.is_empty() {
        return "Sources: none (no file in the granted workspace matched the question; \
                the answer is the model's own)\n"
            .to_string();
    }
    let mut out = String::from("Sources:\n");
    for path in dedup_paths(used) {
        let ranges: Vec<String> = used
            .iter()
            .filter(|e| e.path == path)
            .map(|e| {
                if e.start == e.end {
                    e.start.to_string()
                } else {
                    format!("{}-{}", e.start, e.end)
                }
            })
            .collect();
        let _ = writeln!(out, "  {path}:{}", ranges.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpt(path: &str, start: u32, lines: u32) -> Excerpt {
        Excerpt {
            path: path.into(),
            start,
            end: start + lines - 1,
            text: (start..start + lines)
                .map(|i| format!("line {i:04} of {path}"))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// A stand-in tokenizer: four characters per token.
    fn count(text: &str) -> Result<u32, ()> {
        Ok(u32::try_from(text.chars().count().div_ceil(4)).unwrap_or(u32::MAX))
    }

    #[test]
    fn everything_fits_in_a_large_budget() {
        let ex = [excerpt("a.rs", 1, 10), excerpt("b.rs", 5, 3)];
        let p = build("What is a?", &ex, 100_000);
        assert_eq!(p.used, ex);
        assert!(p.user.contains("--- a.rs (lines 1-10) ---"));
        assert!(p.user.contains("line 0007 of b.rs"));
        assert!(p.user.ends_with("Question: What is a?"));
    }

    #[test]
    fn the_excerpt_that_does_not_fit_is_cut_to_whole_lines() {
        let ex = [excerpt("a.rs", 1, 10), excerpt("b.rs", 1, 100)];
        let first = block(&ex[0]).chars().count();
        let p = build("q", &ex, first + 500);
        assert_eq!(p.used.len(), 2);
        let cut = &p.used[1];
        assert_eq!(cut.start, 1);
        assert!(cut.end > 4 && cut.end < 100, "{cut:?}");
        assert_eq!(cut.text.lines().count() as u32, cut.line_count());
        assert!(block(&ex[0]).chars().count() + block(cut).chars().count() <= first + 500);
    }

    #[test]
    fn excerpts_of_one_file_stay_together_in_line_order() {
        let ex = [
            excerpt("a.rs", 50, 2),
            excerpt("b.rs", 1, 2),
            excerpt("a.rs", 10, 2),
        ];
        let p = build("q", &ex, 100_000);
        let order: Vec<(&str, u32)> = p.used.iter().map(|e| (e.path.as_str(), e.start)).collect();
        assert_eq!(order, [("a.rs", 10), ("a.rs", 50), ("b.rs", 1)]);
        assert_eq!(
            sources(&p.used),
            "Sources:\n  a.rs:10-11, 50-51\n  b.rs:1-2\n"
        );
    }

    #[test]
    fn fit_shrinks_until_the_count_fits() {
        let ex: Vec<Excerpt> = (0..20)
            .map(|i| excerpt(&format!("f{i}.rs"), 1, 30))
            .collect();
        let p = fit("What?", &ex, 1000, count).expect("counts");
        assert!(p.tokens <= 1000, "{}", p.tokens);
        assert_eq!(count(&p.counted_text()), Ok(p.tokens));
        assert!(!p.used.is_empty() && p.used.len() < 20);
        // It did not leave most of the budget unused.
        assert!(p.tokens > 700, "{}", p.tokens);
    }

    #[test]
    fn fit_with_no_room_sends_the_question_alone() {
        let ex = [excerpt("a.rs", 1, 100)];
        let p = fit("What?", &ex, 10, count).expect("counts");
        assert!(p.used.is_empty());
        assert!(p.user.contains("No excerpts"));
        assert_eq!(
            sources(&p.used).lines().next(),
            Some(
                "Sources: none (no file in the granted workspace matched the question; \
                 the answer is the model's own)"
            )
        );
    }

    #[test]
    fn fit_passes_the_counter_error_on() {
        let ex = [excerpt("a.rs", 1, 3)];
        let err = fit("q", &ex, 100, |_| Err::<u32, &str>("engine down"));
        assert_eq!(err, Err("engine down"));
    }

    #[test]
    fn a_single_line_range_is_one_number() {
        assert_eq!(sources(&[excerpt("x", 7, 1)]), "Sources:\n  x:7\n");
    }
}
