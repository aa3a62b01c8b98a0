//! What kind of task this is: a question (answer it, change nothing) or a
//! change request (make the change, test it, and never answer without
//! trying it).

/// The two kinds of task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Question,
    Change,
}

/// Words that ask for a change, wherever they stand.
const CHANGE_WORDS: [&str; 22] = [
    "fix",
    "add",
    "change",
    "implement",
    "rename",
    "remove",
    "delete",
    "update",
    "refactor",
    "write",
    "create",
    "modify",
    "edit",
    "replace",
    "support",
    "handle",
    "correct",
    "convert",
    "move",
    "extract",
    "rewrite",
    "repair",
];

/// Words that open a question.
const QUESTION_WORDS: [&str; 21] = [
    "what",
    "why",
    "how",
    "where",
    "which",
    "who",
    "when",
    "does",
    "do",
    "is",
    "are",
    "can",
    "could",
    "should",
    "explain",
    "describe",
    "list",
    "show",
    "tell",
    "summarize",
    "find",
];

/// Words that say something is broken.
const FAILURE_WORDS: [&str; 8] = [
    "fail",
    "bug",
    "broken",
    "error",
    "crash",
    "wrong",
    "incorrect",
    "exception",
];

fn words(task: &str) -> Vec<String> {
    task.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// A question, or a change request. Without a writable grant every task is
/// a question. A task that opens like a question ("what", "why", "explain")
/// is one, unless it is a request ("can you fix ...?"); a task that names
/// no change but ends with `?` is one too; everything else (an imperative,
/// a report of something broken) is a change.
pub fn classify(task: &str, can_write: bool) -> Kind {
    if !can_write {
        return Kind::Question;
    }
    // The task's own words, not the names in backticks.
    let prose: String = task.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    let words = words(&prose);
    let asks_change = words.iter().any(|w| CHANGE_WORDS.contains(&w.as_str()));
    let request = matches!(
        (
            words.first().map(String::as_str),
            words.get(1).map(String::as_str)
        ),
        (Some("can" | "could" | "would" | "will"), Some("you"))
    );
    if request {
        return if asks_change {
            Kind::Change
        } else {
            Kind::Question
        };
    }
    let first = words.first().map(String::as_str);
    // "What ...?" asks; "When no port is set, the app ... . Make it 8080."
    // reports. A question word opens a question only when its sentence
    // ends with `?` (or the word itself asks: "explain the cart module").
    if first.is_some_and(|w| QUESTION_WORDS.contains(&w))
        && (first_sentence_asks(&prose) || (first.is_some_and(asks_by_itself) && !asks_change))
    {
        return Kind::Question;
    }
    if task.trim_end().ends_with('?') && !asks_change {
        return Kind::Question;
    }
    Kind::Change
}

/// Question words that ask without a question mark.
fn asks_by_itself(word: &str) -> bool {
    matches!(
        word,
        "explain" | "describe" | "list" | "show" | "tell" | "summarize" | "find"
    )
}

/// Whether the first sentence ends with `?`: the first `?`, `!` or `.`
/// that ends a sentence (at the end, or before a space: not the dot in
/// `src/calc.py`) is a `?`.
fn first_sentence_asks(text: &str) -> bool {
    let chars: Vec<char> = text.trim_end().chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let ends = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        match c {
            '?' if ends => return true,
            '.' | '!' if ends => return false,
            _ => {}
        }
    }
    false
}

/// Whether the task asks to remove or rename code (else an edit that
/// deletes a function is refused as a mistake).
pub fn asks_removal(task: &str) -> bool {
    words(task).iter().any(|w| {
        [
            "remove", "delete", "rename", "replace", "drop", "merge", "inline", "rewrite",
        ]
        .iter()
        .any(|k| w.starts_with(k))
    })
}

/// Whether the task asks to change tests ("add a test for ...", "update
/// the tests"): a change verb with `test` among the next few words. Else
/// the tests are the judge and only the code is edited.
pub fn asks_test_change(task: &str) -> bool {
    let words = words(task);
    words.iter().enumerate().any(|(i, w)| {
        CHANGE_WORDS.contains(&w.as_str())
            && words
                .iter()
                .skip(i + 1)
                .take(4)
                .any(|n| n.starts_with("test"))
    })
}

/// Whether to run the tests before the first step of a change: when the
/// task speaks of a failure or of tests, their output names the file and
/// the line to look at.
pub fn wants_test_first(task: &str) -> bool {
    words(task).iter().any(|w| {
        FAILURE_WORDS.iter().any(|f| w.starts_with(f))
            || w.starts_with("test")
            || w == "pass"
            || w == "passes"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_and_changes_are_told_apart() {
        for q in [
            "What does scale in src/calc.py do?",
            "Why does parse() reject empty lines?",
            "Which function in src/calc.py multiplies values? (marker 7f3a)",
            "What does the add function do?",
            "Why does the test fail?",
            "Explain the cart module",
            "When does load() in src/config.py read the file?",
            "Is src/calc.py used anywhere? It looks dead.",
        ] {
            assert_eq!(classify(q, true), Kind::Question, "{q}");
        }
        for c in [
            "The tests fail: `python3 -m unittest` reports a wrong result. Fix the bug.",
            "`make test` fails. Fix it.",
            "Add a function median(values) to stats.py",
            "Write the word done into a new file done.txt",
            "Make the parser accept empty lines",
            "The cart total is wrong when a discount is given.",
            "Can you fix the failing test?",
            "When no port is configured the app listens on 8000, but the README says 8080. \
             Make the default 8080.",
            "Where the input is empty, parse() crashes.",
            "Why it fails: the total skips the last item. Fix it.",
        ] {
            assert_eq!(classify(c, true), Kind::Change, "{c}");
        }
        assert_eq!(classify("Fix the bug", false), Kind::Question);
    }

    #[test]
    fn removals_are_asked_for_in_words() {
        assert!(asks_removal("Remove the unused helper"));
        assert!(asks_removal("rename total to sum_all"));
        assert!(!asks_removal("Add a function median to stats.py"));
    }

    #[test]
    fn tests_are_changed_only_when_asked() {
        assert!(asks_test_change(
            "Add a test for median() in tests/test_stats.py"
        ));
        assert!(asks_test_change("Update the tests for the new port"));
        assert!(!asks_test_change(
            "The tests fail: `python3 -m unittest` reports a wrong result. Fix the bug."
        ));
        assert!(!asks_test_change(
            "Add a sep argument to slugify; the tests pass"
        ));
    }

    #[test]
    fn failures_and_tests_are_run_first() {
        assert!(wants_test_first("`make test` fails. Fix it."));
        assert!(wants_test_first("The total is wrong"));
        assert!(!wants_test_first(
            "Write the word done into a new file done.txt"
        ));
        assert!(!wants_test_first("Add a function median to stats.py"));
    }
}
