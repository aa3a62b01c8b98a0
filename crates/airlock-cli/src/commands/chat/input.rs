//! The prompt: line editing and this session's line history (rustyline),
//! and messages over several lines (a trailing `\`, or a `"""` block).

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use std::io::IsTerminal;

/// The prompt for a new message.
const PROMPT: &str = "you> ";
/// The prompt for a message's next line.
const MORE: &str = "...> ";
/// A line of its own that starts, and ends, a block.
const FENCE: &str = "\"\"\"";

/// What the user entered.
#[derive(Debug, PartialEq, Eq)]
pub enum Entry {
    /// A message for the skill.
    Message(String),
    /// A slash command (the whole line, without its leading `/`).
    Slash(String),
    /// Nothing to do (an empty line, or Ctrl-C).
    Nothing,
    /// Ctrl-D at the prompt (or the input ended).
    End,
}

/// Lines assembled into one message.
#[derive(Debug, Default)]
pub struct Assembler {
    text: String,
    state: State,
}

#[derive(Debug, Default, PartialEq, Eq)]
enum State {
    /// Waiting for a message's first line.
    #[default]
    Fresh,
    /// The last line ended with `\`.
    Continued,
    /// Inside a `"""` block.
    Block,
}

impl Assembler {
    /// Whether a message is half entered (the next prompt is [`MORE`]).
    pub fn pending(&self) -> bool {
        self.state != State::Fresh
    }

    /// Forget a half-entered message.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Take one line; `Some` once it completes an entry.
    pub fn push(&mut self, line: &str) -> Option<Entry> {
        match self.state {
            State::Fresh => {
                if line.trim() == FENCE {
                    self.state = State::Block;
                    return None;
                }
                if let Some(head) = line.strip_suffix('\\') {
                    self.text.push_str(head);
                    self.text.push('\n');
                    self.state = State::Continued;
                    return None;
                }
                let entry = single_line(line);
                self.reset();
                Some(entry)
            }
            State::Continued => {
                if let Some(head) = line.strip_suffix('\\') {
                    self.text.push_str(head);
                    self.text.push('\n');
                    return None;
                }
                self.text.push_str(line);
                Some(self.finish())
            }
            State::Block => {
                if line.trim() == FENCE {
                    // The block's last newline is not part of the message.
                    if self.text.ends_with('\n') {
                        self.text.pop();
                    }
                    return Some(self.finish());
                }
                self.text.push_str(line);
                self.text.push('\n');
                None
            }
        }
    }

    fn finish(&mut self) -> Entry {
        let text = std::mem::take(&mut self.text);
        self.reset();
        if text.trim().is_empty() {
            Entry::Nothing
        } else {
            Entry::Message(text)
        }
    }
}

/// A message typed on one line: a slash command, unless it starts with `//`.
fn single_line(line: &str) -> Entry {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Entry::Nothing;
    }
    if let Some(rest) = trimmed.strip_prefix("//") {
        return Entry::Message(format!("/{rest}"));
    }
    match trimmed.strip_prefix('/') {
        Some(command) => Entry::Slash(command.to_string()),
        None => Entry::Message(line.to_string()),
    }
}

/// Reads entries at the terminal (or, without one, lines from stdin).
pub struct Reader {
    editor: DefaultEditor,
    assembler: Assembler,
    styled: bool,
}

impl Reader {
    pub fn new() -> rustyline::Result<Self> {
        let config = rustyline::Config::builder()
            .auto_add_history(false)
            .history_ignore_dups(true)?
            .max_history_size(1000)?
            // The prompt starts on a fresh line anyway; asking the terminal
            // where the cursor is could swallow the first key typed.
            .check_cursor_position(false)
            .build();
        Ok(Self {
            editor: DefaultEditor::with_config(config)?,
            assembler: Assembler::default(),
            styled: std::io::stdout().is_terminal(),
        })
    }

    /// The next entry. Ctrl-C drops what was typed of the message so far.
    pub fn next(&mut self) -> rustyline::Result<Entry> {
        loop {
            let prompt = if self.assembler.pending() {
                MORE
            } else {
                PROMPT
            };
            let styled = format!("\x1b[1;36m{prompt}\x1b[0m");
            let line = if self.styled {
                self.editor.readline(&(prompt, styled.as_str()))
            } else {
                self.editor.readline(prompt)
            };
            match line {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = self.editor.add_history_entry(line.as_str());
                    }
                    if let Some(entry) = self.assembler.push(&line) {
                        return Ok(entry);
                    }
                }
                Err(ReadlineError::Interrupted) => {
                    if self.assembler.pending() {
                        eprintln!("(message discarded)");
                    }
                    self.assembler.reset();
                    return Ok(Entry::Nothing);
                }
                Err(ReadlineError::Eof) => {
                    if self.assembler.pending() {
                        eprintln!("(the unfinished message was not sent)");
                    }
                    return Ok(Entry::End);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(lines: &[&str]) -> Vec<Entry> {
        let mut a = Assembler::default();
        lines.iter().filter_map(|l| a.push(l)).collect()
    }

    #[test]
    fn one_line_is_a_message_or_a_command() {
        assert_eq!(feed(&["hello"]), [Entry::Message("hello".into())]);
        assert_eq!(feed(&["  /model  x "]), [Entry::Slash("model  x".into())]);
        assert_eq!(
            feed(&["//etc/passwd?"]),
            [Entry::Message("/etc/passwd?".into())]
        );
        assert_eq!(feed(&["   "]), [Entry::Nothing]);
    }

    #[test]
    fn a_trailing_backslash_continues_the_message() {
        assert_eq!(
            feed(&["first \\", "second\\", "third"]),
            [Entry::Message("first \nsecond\nthird".into())]
        );
        // A continued message is never a command.
        assert_eq!(
            feed(&["/undo \\", "please"]),
            [Entry::Message("/undo \nplease".into())]
        );
    }

    #[test]
    fn a_block_runs_to_the_closing_fence() {
        assert_eq!(
            feed(&[
                "\"\"\"",
                "fn main() {",
                "",
                "    /not a command \\",
                "}",
                " \"\"\" ",
                "next"
            ]),
            [
                Entry::Message("fn main() {\n\n    /not a command \\\n}".into()),
                Entry::Message("next".into())
            ]
        );
        assert_eq!(feed(&["\"\"\"", "  ", "\"\"\""]), [Entry::Nothing]);
    }

    #[test]
    fn reset_forgets_a_half_entered_message() {
        let mut a = Assembler::default();
        assert_eq!(a.push("\"\"\""), None);
        assert!(a.pending());
        a.reset();
        assert!(!a.pending());
        assert_eq!(a.push("hi"), Some(Entry::Message("hi".into())));
    }
}
