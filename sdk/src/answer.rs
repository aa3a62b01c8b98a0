//! Printing a model's answer the way a chat answer should look, built on
//! [`chat_stream`] alone. Re-exported from [`crate::inference`].

use crate::inference::{ChatRequest, Completion, InferenceError, chat_stream};

/// An answer printed to the user as it was generated ([`print_answer`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintedAnswer {
    /// What was printed: the answer, plus a note when it was cut or empty,
    /// ending with a newline.
    pub text: String,
    /// The finished completion; `None` when the answer began repeating
    /// itself and was cut (the generation was stopped, never completed).
    pub completion: Option<Completion>,
}

/// Generate an answer and print it as it arrives ([`crate::log::print`]),
/// the way a chat answer should look: a looping answer is cut as soon as
/// [`repeats_itself`] sees it (stopping the generation), an empty one is
/// said to be empty, and the text ends with a newline before the host shows
/// its line about the call.
pub fn print_answer(request: &ChatRequest) -> Result<PrintedAnswer, InferenceError> {
    let mut stream = chat_stream(request)?;
    let mut text = String::new();
    let mut cut = false;
    for piece in stream.by_ref() {
        let piece = piece?;
        crate::log::print(&piece);
        text.push_str(&piece);
        if repeats_itself(&text) {
            let note = " …\n(The model began repeating itself; the answer was cut there.)";
            crate::log::print(note);
            text.push_str(note);
            cut = true;
            break;
        }
    }
    if !cut && text.trim().is_empty() {
        let note = "(The model gave an empty answer.)";
        crate::log::print(note);
        text.push_str(note);
    }
    if !text.ends_with('\n') {
        crate::log::print("\n");
        text.push('\n');
    }
    // Dropping a cut stream stops the generation; a whole one is completed.
    let completion = if cut {
        None
    } else {
        Some(stream.completion()?)
    };
    Ok(PrintedAnswer { text, completion })
}

/// Whether `text` ends in a loop: its last 48 characters occur three times
/// in its last 512. Small models, decoding greedily, sometimes repeat one
/// sentence until the token limit; check the answer so far as pieces arrive
/// and drop the stream when this turns true, to save the time and the
/// budget the rest would cost.
pub fn repeats_itself(text: &str) -> bool {
    const TAIL: usize = 48;
    const WINDOW: usize = 512;
    const TIMES: usize = 3;
    let start = text
        .char_indices()
        .rev()
        .nth(WINDOW - 1)
        .map_or(0, |(i, _)| i);
    let window = &text[start..];
    let Some((tail_start, _)) = window.char_indices().rev().nth(TAIL - 1) else {
        return false;
    };
    let tail = &window[tail_start..];
    !tail.trim().is_empty() && window.matches(tail).count() >= TIMES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_is_seen_and_ordinary_text_is_not() {
        let looping = format!(
            "{{\"message\":\"Bad.{}",
            " This task is not a task that is meant for any purpose.".repeat(3)
        );
        assert!(repeats_itself(&looping));
        assert!(repeats_itself(&"ab".repeat(200)));
        let prose = "The sandbox resolves every path beneath the root. A symlink that \
                     leads outside is refused, and so is an absolute path. Withheld files \
                     are listed but never read.";
        assert!(!repeats_itself(prose));
        assert!(!repeats_itself("short"));
        assert!(
            !repeats_itself(&" ".repeat(600)),
            "whitespace runs are not a loop"
        );
        assert!(!repeats_itself(&"é".repeat(40)));
    }
}
